//! `faceswap verify FILE…`: whether each file says it was AI-edited, by its C2PA manifest and
//! its watermark. Exit 0 when every file is marked, 1 when one is not, 2 when one cannot be read.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use faceswap::{
    engine::{model_factories, WATERMARK_DECODER},
    models::{ModelRole, ModelStore},
    provenance::{verify, Verification, WatermarkReader},
};

use super::{engine::EngineArgs, shown, Exit};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Pictures (JPEG, PNG) and videos (MP4, MOV, WebM, MKV with its .c2pa sidecar).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// One JSON object per file (a list for several) instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: VerifyArgs) -> Result<()> {
    let config = args.engine.analysis_config()?;
    let store = ModelStore::open(&config.models_dir)?;
    let decoder = store.verify(WATERMARK_DECODER)?;
    let factory = model_factories(&config)?;
    let mut reader = WatermarkReader::build(factory.for_role(ModelRole::Watermark), &decoder)?;
    let mut results = Vec::new();
    let mut unreadable = false;
    for path in &args.files {
        match verify(path, &shown(path), &mut reader, config.limits) {
            Ok(v) => results.push(v),
            Err(e) => {
                unreadable = true;
                eprintln!("error: {e}: check that it is a whole picture or video faceswap reads");
            }
        }
    }
    if args.json {
        let text = match results.as_slice() {
            [one] if args.files.len() == 1 => serde_json::to_string_pretty(one)?,
            _ => serde_json::to_string_pretty(&results)?,
        };
        outln!("{text}")?;
    } else {
        for v in &results {
            print_text(v)?;
        }
    }
    if unreadable {
        return Err(Exit(2).into());
    }
    if results.iter().any(|v| !v.ai_edited) {
        return Err(Exit(1).into());
    }
    Ok(())
}

fn print_text(v: &Verification) -> Result<()> {
    let verdict = if v.ai_edited { "marked as AI-edited" } else { "NOT marked as AI-edited" };
    outln!("{}: {verdict}", v.path)?;
    let c = &v.c2pa;
    if c.present {
        let signer = c.signer.as_deref().unwrap_or("unknown signer");
        let trust = if c.signer_trusted { "trusted" } else { "signer not on a trust list" };
        outln!("  c2pa: {} ({trust}), signed by {signer}", c.state)?;
        if !c.problems.is_empty() {
            outln!("  c2pa problems: {}", c.problems.join(", "))?;
        }
        outln!("  actions: {}", c.actions.join(", "))?;
        if let Some(t) = &c.digital_source_type {
            outln!("  digital source type: {t}")?;
        }
        for i in &c.ingredients {
            outln!(
                "  ingredient: {} ({})",
                i.title.as_deref().unwrap_or("untitled"),
                i.relationship.as_deref().unwrap_or("?")
            )?;
        }
        if let Some(s) = &c.sidecar {
            outln!("  manifest read from the sidecar {s}")?;
        }
    } else {
        outln!("  c2pa: no manifest")?;
    }
    let w = &v.watermark;
    match &w.payload {
        Some(p) if w.found => outln!("  watermark: {p} (confidence {:.2}, {} frame(s) read)", w.confidence, w.frames)?,
        _ => outln!("  watermark: none found (confidence {:.2})", w.confidence)?,
    }
    Ok(())
}
