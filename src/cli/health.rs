//! `faceswap health`: checks ONNX Runtime and the models, prints the report.

use anyhow::{bail, Result};
use clap::Args;
use faceswap::{engine::check_models, health::Status};

use super::engine::EngineArgs;

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Print the report as JSON (the same shape GET /health serves).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: HealthArgs) -> Result<()> {
    let report = check_models(&args.engine.analysis_config()?)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        outln!("status: {:?}", report.status)?;
        outln!("ONNX Runtime {} on {}", report.onnxruntime_version, report.execution_provider)?;
        for (name, model) in &report.models {
            let mark = if model.ready && model.valid { "ok " } else { "BAD" };
            outln!(
                "{mark} {name:<20} {:<10} {}{}",
                model.role.to_string(),
                model.file,
                model.problem.as_deref().map(|p| format!(" ({p})")).unwrap_or_default()
            )?;
        }
    }
    if report.status != Status::Healthy {
        let fix = if args.engine.mirror.is_some() {
            "`faceswap models fetch` repairs it from the mirror"
        } else {
            "scripts/setup.sh installs the default pack, or `faceswap models fetch --mirror BASE_URL` fetches it"
        };
        bail!("not healthy: a model is missing or damaged (see above); {fix}");
    }
    Ok(())
}
