//! `faceswap bench`: execution providers compared, stage by stage, against the model floor.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use faceswap::{
    bench::{self, BenchConfig, BenchInput, BenchReport},
    engine::{Engine, ProviderName},
    runtime::ExecutionProvider,
};

use super::engine::{parse_resolution, EngineArgs, Ep, SwapperArgs};

/// Providers are named with the common `--ep`, which here takes a list (cpu,cuda,tensorrt):
/// each is measured in turn on the same frames.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A video to take the frames from.
    #[arg(long, value_name = "VIDEO", conflicts_with = "synthetic")]
    input: Option<PathBuf>,
    /// Frames made from the source photo at this size, e.g. 640x480 (the default input).
    #[arg(long, value_name = "WxH", value_parser = parse_resolution)]
    synthetic: Option<(u32, u32)>,
    /// How many frames to run.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    frames: u64,
    /// The face to put onto the frames (default: the sample astronaut.png that setup installs).
    #[arg(long, value_name = "IMG")]
    source: Option<PathBuf>,
    /// Run the detector every K frames, as live mode does.
    #[arg(long, value_name = "K", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    detect_every: u32,
    #[command(flatten)]
    swapper: SwapperArgs,
    /// Leave out encoding: the output stage is then a headless display (live mode's cost).
    #[arg(long)]
    no_encode: bool,
    /// Write the report as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Replace an existing --json file.
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Where setup puts the sample source picture, relative to a root (see `faceswap::paths`).
const SAMPLE_SOURCE: &str = ".cache/media/astronaut.png";

pub fn run(args: BenchArgs) -> Result<()> {
    if args.engine.ep_fallback {
        bail!("bench measures exactly the providers named with --ep; --ep-fallback does not apply to it");
    }
    let source = match &args.source {
        Some(path) => path.clone(),
        None => faceswap::paths::find(SAMPLE_SOURCE).with_context(|| {
            let searched: Vec<String> =
                faceswap::paths::searched(SAMPLE_SOURCE).iter().map(|p| p.display().to_string()).collect();
            format!("no source picture given, and the sample is not in {}: pass --source IMG", searched.join(", "))
        })?,
    };
    if let Some(path) = &args.json {
        let mut inputs = vec![source.as_path()];
        inputs.extend(args.input.as_deref());
        faceswap::atomic_file::check_target(path, args.overwrite, &inputs).context("--json")?;
    }
    // The runtime and the model files are the same for every provider measured: the engine
    // opened on the CPU provider finds, verifies and repairs them once.
    let config = EngineArgs { ep: vec![Ep::Cpu], ..args.engine.clone() }.config(&args.swapper)?;
    let engine = Engine::open(config.clone())?;
    let input = match (&args.input, args.synthetic) {
        (Some(path), _) => BenchInput::Video(path.clone()),
        (None, Some((width, height))) => BenchInput::Synthetic { width, height },
        (None, None) => BenchInput::Synthetic { width: 640, height: 480 },
    };
    let bench = BenchConfig {
        input,
        frames: args.frames as usize,
        detect_every: args.detect_every,
        source_photo: source,
        models: engine.face_models().clone(),
        swapper: config.swapper,
        swapper_model: engine.swapper_file(config.swapper)?,
        threads: config.threads,
        encode: !args.no_encode,
    };
    let providers: Vec<ExecutionProvider> =
        args.engine.ep.iter().map(|ep| ProviderName::from(*ep).on_device(config.device)).collect();
    let report = bench::run(engine.factory().runtime(), &providers, &bench)?;
    print_table(&report)?;
    if let Some(path) = &args.json {
        faceswap::atomic_file::write_whole(path, serde_json::to_string_pretty(&report)?.as_bytes(), args.overwrite)
            .context("--json")?;
    }
    if let Some(missing) = report.providers.iter().find(|p| !p.available) {
        bail!(
            "{}: get the GPU build with scripts/setup.sh --gpu and pass --ort-lib .cache/onnxruntime-gpu, \
             or leave {} out of --ep",
            missing.reason.as_deref().unwrap_or("a requested execution provider is not available"),
            missing.ep
        );
    }
    Ok(())
}

fn print_table(report: &BenchReport) -> std::io::Result<()> {
    outln!(
        "{} frames of {} ({}×{}), detector every {} frames, ONNX Runtime {}",
        report.providers.iter().map(|p| p.frames).max().unwrap_or(0),
        report.input,
        report.width,
        report.height,
        report.detect_every,
        report.onnxruntime_version
    )?;
    outln!(
        "{:<14} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>6} {:>8}",
        "ep",
        "build ms",
        "warm ms",
        "seq fps",
        "pipe fps",
        "frame ms",
        "floor ms",
        "ratio",
        "peak MB"
    )?;
    for p in &report.providers {
        if !p.available {
            outln!("{:<14} not available: {}", p.ep, p.reason.as_deref().unwrap_or(""))?;
            continue;
        }
        outln!(
            "{:<14} {:>8.0} {:>8.0} {:>8.1} {:>9.1} {:>9.2} {:>9.2} {:>6.2} {:>8.0}",
            p.ep,
            p.session_build_ms,
            p.warmup_ms,
            p.frames_per_s,
            p.pipelined_frames_per_s,
            p.frame_ms,
            p.floor_ms,
            p.floor_ratio,
            p.peak_rss_mb
        )?;
        for (stage, ms) in &p.stage_ms {
            outln!(
                "    {stage:<16} p50 {:>7.2}  p95 {:>7.2}  p99 {:>7.2}  mean {:>7.2} ms",
                ms.p50,
                ms.p95,
                ms.p99,
                ms.mean
            )?;
        }
    }
    Ok(())
}
