//! `faceswap models list | verify | fetch`: what the manifest knows, what is on disk, and
//! getting it there.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use faceswap::{
    engine::{session_factory, verify_model},
    models::{Added, FetchConfig, Fetcher, ModelEntry, ModelError, ModelRole, ModelStore, DEFAULT_PACK},
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
    /// A model whose publisher cites no sha256 (the enhancers) has what arrived recorded in the
    /// models folder's records.toml, and is held to it from then on.
    Fetch { names: Vec<String> },
    /// Bring your own file into the models folder: copied in, its size and sha256 recorded
    /// (verified from then on, and repaired only from a copy with that hash). A name the
    /// manifest knows (e.g. gfpgan_1.4) must keep its role; one it pins must be that file.
    Add {
        file: std::path::PathBuf,
        /// detector, embedder, landmarks, swapper or enhancer.
        #[arg(long)]
        role: ModelRole,
        /// The model's name (default: the file's name without .onnx).
        #[arg(long)]
        name: Option<String>,
        /// Replace a different file already in the folder under that name.
        #[arg(long)]
        overwrite: bool,
    },
}

fn state(store: &ModelStore, entry: &ModelEntry) -> String {
    match store.verify(&entry.name) {
        Ok(_) => "valid".into(),
        Err(ModelError::Missing { .. }) => "missing".into(),
        Err(ModelError::Size { actual, .. }) => format!("INVALID ({actual} bytes)"),
        Err(ModelError::Hash { .. }) => "INVALID (sha256)".into(),
        Err(ModelError::Unrecorded { .. }) => "unrecorded".into(),
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
                    entry.size.map_or_else(|| "?".to_string(), |s| s.to_string()),
                    state(&store, entry),
                    store.path_of(entry).display()
                )?;
            }
            outln!("licence: insightface's pretrained weights are for non-commercial research only; each enhancer has its own (faceswap models list --help)")?;
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
        ModelsCommand::Add { file, role, name, overwrite } => {
            let name = match name {
                Some(name) => name,
                None => file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .map(str::to_string)
                    .ok_or_else(|| anyhow::anyhow!("{} has no usable name: give --name", file.display()))?,
            };
            // Proven to load first: a file ONNX Runtime refuses is no model, and is not added.
            let factory = session_factory(&config)?;
            if let Err(e) = factory.build(&file, &name) {
                bail!("{} is not a model ONNX Runtime can load, so it was not added: {e}", file.display());
            }
            let (record, added) = store.add(&file, role, &name, overwrite)?;
            let dest = store.dir().join(&record.file);
            let how = match added {
                Added::Copied => "copied to",
                Added::AlreadyThere => "already at",
            };
            outln!(
                "added    {name} ({role}, {} bytes, sha256 {}), {how} {}",
                record.pin.size,
                record.pin.sha256,
                dest.display()
            )?;
            Ok(())
        }
    }
}
