//! `faceswap health`: checks ONNX Runtime and the models, prints the report.

use anyhow::{bail, Result};
use clap::Args;
use faceswap::{
    health::{HealthState, ModelHealth, Status},
    models::DEFAULT_PACK,
};

use super::engine::EngineArgs;

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Print the report as JSON (the same shape GET /health serves).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: HealthArgs) -> Result<()> {
    let factory = args.engine.factory()?;
    let store = args.engine.store()?;
    let state = HealthState::new(factory.runtime().version(), factory.provider().to_string());
    for entry in &store.manifest().models {
        let path = store.path_of(entry);
        // The default pack must be there; other models count only when present.
        if entry.pack != DEFAULT_PACK && !path.exists() {
            continue;
        }
        let verified = store.verify(&entry.name);
        let problem = match &verified {
            Ok(model) => factory.build(&model.path, &model.name).err().map(|e| e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        let valid = verified.is_ok();
        state.set_model(
            &entry.name,
            ModelHealth {
                role: entry.role.to_string(),
                ready: problem.is_none(),
                valid,
                file: path.display().to_string(),
                problem,
            },
        );
    }
    let report = state.report();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("status: {:?}", report.status);
        println!("ONNX Runtime {} on {}", report.onnxruntime_version, report.execution_provider);
        for (name, model) in &report.models {
            let mark = if model.ready && model.valid { "ok " } else { "BAD" };
            println!(
                "{mark} {name:<20} {:<10} {}{}",
                model.role,
                model.file,
                model.problem.as_deref().map(|p| format!(" ({p})")).unwrap_or_default()
            );
        }
    }
    if report.status != Status::Healthy {
        bail!("not healthy: a model is missing or damaged (see above); `faceswap models fetch` or scripts/setup.sh repairs it");
    }
    Ok(())
}
