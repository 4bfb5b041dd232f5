//! `faceswap live` (a webcam, or a video or picture standing in for one, swapped in a window)
//! and `faceswap cameras`.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::{bail, Context, Result};
use clap::Args;
use faceswap::{
    atomic_file::check_target,
    engine::{Engine, VideoSwap},
    health::HealthServer,
    live::{LiveInput, LiveOptions, LiveStats},
    pipeline::{Controls, TrackerConfig},
    signal,
    stream::OutputTarget,
    transcode::{check_sidecar, container_for},
    video::{list_cameras, CameraSelector},
};

use super::{
    engine::{parse_resolution, EngineArgs, MouthMaskArgs, SourceArgs, SupervisionArgs, SwapperArgs, TargetFaces},
    shown,
};

#[derive(Debug, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The camera, by index or (part of) its name.
    #[arg(long, value_name = "INDEX|NAME", conflicts_with = "input", default_value = "0")]
    camera: CameraSelector,
    /// A video file or picture to use instead of a camera (played in real time), or a network
    /// stream: rtsp://…, udp://…, srt://…, tcp://…, http(s)://… (HLS, MJPEG).
    #[arg(long, value_name = "FILE|URL")]
    input: Option<PathBuf>,
    /// Also send the swapped video here (repeatable): v4l2:/dev/videoN (a virtual camera),
    /// udp://HOST:PORT, tcp://…, srt://… (MPEG-TS), rtmp://… (FLV), rtsp://….
    #[arg(long = "output", value_name = "TARGET", value_parser = parse_output)]
    outputs: Vec<OutputTarget>,
    /// Also record the swapped video to this file (finished properly on Ctrl-C).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Capture (or scale the video) to this size, e.g. 640x480.
    #[arg(long, value_name = "WxH", value_parser = parse_resolution)]
    resolution: Option<(u32, u32)>,
    /// Camera frame rate to ask for; a still picture is repeated at this rate (default 30).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=240))]
    fps: Option<u32>,
    /// Start the video file again when it ends.
    #[arg(long = "loop")]
    looping: bool,
    /// Never drop a frame: a full queue waits instead (delay grows when processing lags).
    #[arg(long)]
    lossless: bool,
    /// No window: process and measure only (servers, tests).
    #[arg(long)]
    headless: bool,
    /// Stop after this many frames have been shown.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    frames: Option<u64>,
    /// Run the face detector every K frames and track faces in between.
    #[arg(long, value_name = "K", default_value_t = faceswap::live::DETECT_EVERY, value_parser = clap::value_parser!(u32).range(1..=100))]
    detect_every: u32,
    /// Do not smooth the tracked face points over time.
    #[arg(long)]
    no_smoothing: bool,
    #[command(flatten)]
    supervision: SupervisionArgs,
    /// Write the run's figures (frames, fps, stage and delay percentiles) here at exit.
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
    /// Replace an existing --record or --stats-json file.
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    swapper: SwapperArgs,
    #[command(flatten)]
    faces: TargetFaces,
    #[command(flatten)]
    mouth: MouthMaskArgs,
    #[command(flatten)]
    provenance: super::provenance::ProvenanceArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn parse_output(text: &str) -> Result<OutputTarget, String> {
    text.parse::<OutputTarget>().map_err(|e| e.to_string())
}

pub fn run(args: LiveArgs) -> Result<()> {
    let pictures = args.faces.inputs();
    let mut inputs: Vec<&Path> = pictures.iter().map(PathBuf::as_path).collect();
    inputs.extend(args.source.source.as_deref());
    inputs.extend(args.input.as_deref());
    let mut targets = args.outputs.clone();
    if let Some(path) = &args.record {
        check_target(path, args.overwrite, &inputs).context("--record")?;
        container_for(path).context("--record")?;
        targets.push(OutputTarget::Record { path: path.clone(), overwrite: args.overwrite });
        inputs.push(path);
    }
    if let Some(path) = &args.stats_json {
        check_target(path, args.overwrite, &inputs).context("--stats-json")?;
    }
    for target in &targets {
        target.check()?;
    }
    let input = match &args.input {
        Some(path) => LiveInput::for_path(path, args.resolution, args.fps, args.looping),
        None => LiveInput::Camera { selector: args.camera.clone(), resolution: args.resolution, fps: args.fps },
    };
    if args.headless && args.frames.is_none() && args.input.is_none() {
        tracing::info!("headless with a camera and no --frames: stop with Ctrl-C");
    }
    if let Some(path) = &args.record {
        check_sidecar(args.provenance.provenance, path, args.overwrite).context("--record")?;
    }
    let mut config = args.engine.config(&args.swapper)?;
    config.provenance = args.provenance.config(None)?;
    let engine = Engine::open(config)?;
    let source_sha256 = args.source.sha256(&args.faces)?;
    let swap = VideoSwap {
        sources: args.faces.sources(&args.source, &engine)?,
        selection: args.faces.selection(&engine)?,
        swapper: engine.config().swapper,
        pixel_boost: args.swapper.pixel_boost,
        enhancer: args.swapper.enhancer()?,
        masks: args.swapper.masks()?,
        tracker: TrackerConfig {
            detect_every: args.detect_every,
            smoothing: !args.no_smoothing,
            ..TrackerConfig::default()
        },
    };
    if let Some(interval) = args.supervision.interval() {
        engine.watch_models(interval).context("cannot start the model watchdog")?;
    }
    let health = engine.supervisor().health().clone();
    let _health_server = args.supervision.health_addr.map(|addr| HealthServer::start(addr, health)).transpose()?;
    let controls = Arc::new(Controls::default());
    let _stop = signal::stop_on_signal(&controls)?;
    let options = LiveOptions {
        input,
        source_sha256,
        outputs: targets,
        output_fps: args.fps.unwrap_or(30),
        window: !args.headless,
        frames: args.frames,
        lossless: args.lossless,
        swap,
        mouth_mask: args.mouth.mask()?,
        publish_every: Duration::from_secs(1),
    };
    let stats = faceswap::live::run(&engine, options, &controls)?;
    report(&stats, args.stats_json.as_deref(), args.overwrite)?;
    if let Some((output, reason)) = stats.failed_output() {
        // A recording cut short is a failed run, whatever the window showed.
        bail!("{} stopped after {} frames: {reason}", output.name, output.frames_sent);
    }
    Ok(())
}

/// Prints the summary line and writes the stats file.
pub fn report(stats: &LiveStats, json: Option<&Path>, overwrite: bool) -> Result<()> {
    outln!(
        "{} frames shown ({} swapped, {} dropped, {} failed) at {:.1} fps; delay p50 {:.0} ms, p95 {:.0} ms",
        stats.pipeline.frames_shown,
        stats.pipeline.frames_swapped,
        stats.pipeline.frames_dropped,
        stats.pipeline.frames_failed,
        stats.pipeline.fps,
        stats.pipeline.latency_ms.p50,
        stats.pipeline.latency_ms.p95
    )?;
    for o in &stats.outputs {
        outln!(
            "{}: {} frames sent, {} dropped, {} reconnects; delay p50 {:.0} ms, p95 {:.0} ms",
            o.name,
            o.frames_sent,
            o.frames_dropped,
            o.reconnects,
            o.delay_ms.p50,
            o.delay_ms.p95
        )?;
    }
    if let Some(input) = &stats.input {
        outln!(
            "{}: {} frames received, {} repeated, {} reconnects",
            input.url,
            input.frames_received,
            input.frames_repeated,
            input.reconnects
        )?;
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(stats)?;
        faceswap::atomic_file::write_whole(path, text.as_bytes(), overwrite)
            .with_context(|| format!("--stats-json: cannot write {}", shown(path)))?;
    }
    Ok(())
}

pub fn cameras() -> Result<()> {
    let cameras = list_cameras()?;
    if cameras.is_empty() {
        bail!("no camera found: connect one, or use `faceswap live --input FILE`")
    }
    for (index, name, description) in cameras {
        outln!("{index}: {name} ({description})")?;
    }
    Ok(())
}
