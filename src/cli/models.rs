//! `faceswap models list | verify | fetch`: what the manifest knows, what is on disk, and
//! getting it there.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use faceswap::{
    engine::{session_factory, verify_model},
    models::{FetchConfig, Fetcher, ModelEntry, ModelError, ModelStore, DEFAULT_PACK},
};

use super::engine::EngineArgs;

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    command: ModelsCommand,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Subcommand)]
enum ModelsCommand {
    /// Every model in the manifest: role, size, and whether its file is present and valid.
    List,
    /// Check size, sha256 and that ONNX Runtime loads each model (default: the default pack and
    /// every other model present); exits non-zero naming each bad file.
    Verify { names: Vec<String> },
    /// Download models (default: the default pack), verified by sha256; a good file is kept.
    Fetch { names: Vec<String> },
}

fn state(store: &ModelStore, entry: &ModelEntry) -> String {
    match store.verify(&entry.name) {
        Ok(_) => "valid".into(),
        Err(ModelError::Missing { .. }) => "missing".into(),
        Err(ModelError::Size { actual, .. }) => format!("INVALID ({actual} bytes)"),
        Err(ModelError::Hash { .. }) => "INVALID (sha256)".into(),
        Err(e) => format!("unreadable ({e})"),
    }
}

/// The names asked for, or the default set: the default pack plus whatever else is present.
fn chosen<'m>(store: &'m ModelStore, names: &[String], present_too: bool) -> Result<Vec<&'m ModelEntry>> {
    if names.is_empty() {
        return Ok(store
            .manifest()
            .models
            .iter()
            .filter(|m| m.pack == DEFAULT_PACK || (present_too && store.path_of(m).exists()))
            .collect());
    }
    names.iter().map(|n| Ok(store.manifest().get(n)?)).collect()
}

pub fn run(args: ModelsArgs) -> Result<()> {
    let config = args.engine.analysis_config()?;
    let store = ModelStore::open(&config.models_dir)?;
    match args.command {
        ModelsCommand::List => {
            outln!("{:<20} {:<10} {:<10} {:>12}  {:<18} file", "name", "role", "pack", "bytes", "state")?;
            for entry in &store.manifest().models {
                outln!(
                    "{:<20} {:<10} {:<10} {:>12}  {:<18} {}",
                    entry.name,
                    entry.role.to_string(),
                    entry.pack,
                    entry.size,
                    state(&store, entry),
                    store.path_of(entry).display()
                )?;
            }
            outln!("licence: insightface's pretrained weights are for non-commercial research only")?;
            Ok(())
        }
        ModelsCommand::Verify { names } => {
            let entries = chosen(&store, &names, true)?;
            let factory = session_factory(&config)?;
            let mut bad = Vec::new();
            for entry in entries {
                match verify_model(&store, &factory, &entry.name) {
                    Ok(_) => outln!("ok   {} ({})", entry.name, store.path_of(entry).display())?,
                    Err(e) => {
                        outln!("BAD  {}: {e:#}", entry.name)?;
                        bad.push(store.path_of(entry).display().to_string());
                    }
                }
            }
            if !bad.is_empty() {
                bail!("{} bad model file(s): {}", bad.len(), bad.join(", "));
            }
            Ok(())
        }
        ModelsCommand::Fetch { names } => {
            let fetcher = Fetcher::new(FetchConfig { mirrors: config.mirrors.clone(), ..FetchConfig::default() })?;
            for entry in chosen(&store, &names, false)? {
                if store.verify(&entry.name).is_ok() {
                    outln!("ok       {} (already valid)", entry.name)?;
                    continue;
                }
                store.ensure(&entry.name, Some(&fetcher))?;
                outln!("fetched  {} -> {}", entry.name, store.path_of(entry).display())?;
            }
            Ok(())
        }
    }
}
