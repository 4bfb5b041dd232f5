//! `faceswap bench`: execution providers compared, stage by stage, against the model floor.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use faceswap::{
    bench::{self, BenchConfig, BenchInput, BenchReport},
    engine::Engine,
    runtime::ExecutionProvider,
};

use super::{
    engine::{parse_resolution, EngineArgs, Ep, SwapperArgs},
    shown,
};

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
    /// Replace an existing --json (or --write-config) file.
    #[arg(long)]
    overwrite: bool,
    /// After the providers of --ep, run once more with each model on the provider that ran it
    /// fastest, and print that assignment as --ep takes it.
    #[arg(long)]
    choose: bool,
    /// Save the chosen assignment here (`ep = "detector=…,landmarks=…"`, read by --ep-config).
    #[arg(long, value_name = "FILE", requires = "choose")]
    write_config: Option<PathBuf>,
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
    if let Some(path) = &args.write_config {
        let mut inputs = vec![source.as_path()];
        inputs.extend(args.input.as_deref());
        inputs.extend(args.json.as_deref());
        faceswap::atomic_file::check_target(path, args.overwrite, &inputs).context("--write-config")?;
    }
    if args.choose && args.engine.ep.len() < 2 {
        bail!("--choose picks among providers: name two or more with --ep (e.g. --ep cpu,openvino)");
    }
    // The runtime and the model files are the same for every provider measured: the engine
    // opened on the CPU provider finds, verifies and repairs them once.
    if args.engine.ep.iter().any(|e| e.role.is_some()) {
        bail!("bench measures every model on each provider of a plain list (--ep cpu,openvino): leave ROLE= out");
    }
    let config = EngineArgs { ep: vec![Ep::CPU], ..args.engine.clone() }.config(&args.swapper)?;
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
        args.engine.ep.iter().map(|ep| ep.provider.on_device(config.device, &config.openvino_device)).collect();
    let report = bench::run_choosing(engine.factory().runtime(), &providers, &bench, args.choose)?;
    print_table(&report)?;
    if args.choose {
        let assignment = bench::CHOSEN_ROLES
            .iter()
            .filter_map(|role| report.chosen.get(&role.to_string()).map(|p| format!("{role}={p}")))
            .collect::<Vec<_>>()
            .join(",");
        outln!("fastest per model: --ep {assignment}")?;
        if let Some(path) = &args.write_config {
            let text = format!(
                "# faceswap bench --choose on {}: each model's fastest provider\nep = \"{assignment}\"\n",
                report.input
            );
            faceswap::atomic_file::write_whole(path, text.as_bytes(), args.overwrite).context("--write-config")?;
            outln!("saved to {} (use it with --ep-config {})", shown(path), shown(path))?;
        }
    }
    if let Some(path) = &args.json {
        faceswap::atomic_file::write_whole(path, serde_json::to_string_pretty(&report)?.as_bytes(), args.overwrite)
            .context("--json")?;
    }
    if let Some(missing) = report.providers.iter().find(|p| !p.available) {
        let build = if missing.ep.starts_with("openvino") {
            "get the OpenVINO build with scripts/setup.sh --openvino and pass --ort-lib .cache/onnxruntime-openvino"
        } else {
            "get the GPU build with scripts/setup.sh --gpu and pass --ort-lib .cache/onnxruntime-gpu"
        };
        bail!(
            "{}: {build}, or leave {} out of --ep",
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
        if !p.model_ms.is_empty() {
            let models: Vec<String> = p.model_ms.iter().map(|(role, ms)| format!("{role} {ms:.2}")).collect();
            outln!("    models (ms a run)  {}", models.join("  "))?;
        }
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
