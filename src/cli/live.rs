//! `faceswap live` (a webcam, or a video or picture standing in for one, swapped in a window)
//! and `faceswap cameras`.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use clap::Args;
use faceswap::{
    atomic_file::check_target,
    engine::{Engine, VideoSwap},
    health::{HealthServer, HealthState, StreamHealth},
    imaging::{save_rgb, SaveMode},
    pipeline::{Controls, PipelineConfig, PipelineStats, SinkMeter, TrackerConfig},
    signal,
    stream::{is_network, InputMonitor, OutputTarget, Outputs},
    transcode::container_for,
    video::{list_cameras, CameraSelector, SourceSpec, WindowEvent, WindowSink},
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
    #[arg(long, value_name = "K", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
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
    pub engine: EngineArgs,
}

fn parse_output(text: &str) -> Result<OutputTarget, String> {
    text.parse::<OutputTarget>().map_err(|e| e.to_string())
}

pub fn run(args: LiveArgs) -> Result<()> {
    let mut inputs: Vec<&Path> = vec![args.source.source.as_path()];
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
    let limits = faceswap::imaging::PictureLimits { max_pixels: args.engine.max_pixels };
    let monitor = InputMonitor::default();
    let spec = match &args.input {
        Some(path) if is_network(&path.to_string_lossy()) => {
            SourceSpec::Network { url: path.to_string_lossy().into_owned(), limits, monitor: monitor.clone() }
        }
        Some(path) if faceswap::imaging::is_picture_path(path) => {
            SourceSpec::Still { path: path.clone(), fps: f64::from(args.fps.unwrap_or(30)), limits }
        }
        Some(path) => {
            SourceSpec::File { path: path.clone(), resolution: args.resolution, looping: args.looping, limits }
        }
        None => SourceSpec::Camera { selector: args.camera.clone(), resolution: args.resolution, fps: args.fps },
    };
    if args.headless && args.frames.is_none() && args.input.is_none() {
        tracing::info!("headless with a camera and no --frames: stop with Ctrl-C");
    }
    let engine = Engine::open(args.engine.config(&args.swapper)?)?;
    let source = args.source.face(&engine)?;
    let swap = VideoSwap {
        source: Arc::new(source),
        selection: args.faces.selection(&engine)?,
        swapper: engine.config().swapper,
        tracker: TrackerConfig {
            detect_every: args.detect_every,
            smoothing: !args.no_smoothing,
            ..TrackerConfig::default()
        },
    };
    let context =
        format!("ep {}  swapper {}  detect every {}", engine.factory().provider(), swap.swapper, args.detect_every);
    if let Some(interval) = args.supervision.interval() {
        engine.watch_models(interval).context("cannot start the model watchdog")?;
    }
    let health = engine.supervisor().health().clone();
    let _health_server =
        args.supervision.health_addr.map(|addr| HealthServer::start(addr, health.clone())).transpose()?;

    let controls = Arc::new(Controls::default());
    let _stop = signal::stop_on_signal(&controls)?;
    let base = if args.lossless {
        PipelineConfig { pacing: None, ..PipelineConfig::lossless() }
    } else {
        PipelineConfig::live()
    };
    let config =
        PipelineConfig { max_frames: args.frames.filter(|_| args.lossless), mouth_mask: args.mouth.mask()?, ..base };
    let pipeline = engine.start_pipeline(spec, swap, config, controls.clone())?;
    tracing::info!(source = pipeline.source(), "live");

    let mut meter = SinkMeter::new("display");
    let mut window: Option<WindowSink> = None;
    let mut outputs: Option<Outputs> = None;
    let mut published = Instant::now();
    let mut output_lines: Vec<String> = Vec::new();
    let epoch = Instant::now();
    let mut sink_error = None;
    loop {
        let frame = match pipeline.frames().recv_timeout(Duration::from_millis(100)) {
            Ok(frame) => frame,
            Err(true) => break,
            // A lossless run drains what is in flight; a live one just stops.
            Err(false) if controls.is_stopped() && !args.lossless => break,
            Err(false) => continue,
        };
        let shown_at = Instant::now();
        if outputs.is_none() && !targets.is_empty() {
            let fps = f64::from(args.fps.unwrap_or(30));
            match Outputs::start(&targets, frame.image.width(), frame.image.height(), fps, epoch) {
                Ok(started) => outputs = Some(started),
                Err(e) => {
                    sink_error = Some(anyhow::Error::from(e));
                    break;
                }
            }
        }
        if let Some(outputs) = &outputs {
            outputs.send(&frame.image, frame.captured);
            if published.elapsed() >= Duration::from_secs(1) {
                published = Instant::now();
                output_lines = publish(&health, outputs, &monitor);
            }
        }
        if !args.headless {
            if window.is_none() {
                match WindowSink::open("faceswap", frame.image.width(), frame.image.height()) {
                    Ok(w) => window = Some(w),
                    Err(e) => {
                        sink_error = Some(anyhow::Error::from(e));
                        break;
                    }
                }
            }
            if let Some(w) = window.as_mut() {
                let mut lines = meter.overlay(&context, frame.faces.len(), controls.is_swapping());
                lines.extend(output_lines.iter().cloned());
                let events = match w.show(&frame.image, &lines) {
                    Ok(events) => events,
                    Err(e) => {
                        sink_error = Some(e.into());
                        break;
                    }
                };
                for event in events {
                    match event {
                        WindowEvent::Quit => controls.stop(),
                        WindowEvent::ToggleSwap => {
                            let on = controls.toggle_swapping();
                            tracing::info!(swapping = on, "swap toggled");
                        }
                        WindowEvent::ToggleMouthMask => {
                            let on = controls.toggle_mouth_mask();
                            tracing::info!(mouth_mask = on, "mouth mask toggled");
                        }
                        WindowEvent::Snapshot => snapshot(&frame.image),
                    }
                }
            }
        }
        meter.record(&frame, shown_at.elapsed().as_secs_f32() * 1000.0);
        health.frame_done(meter.recent_fps());
        pipeline.recycle(frame);
        if args.frames.is_some_and(|n| meter.shown() >= n) {
            controls.stop();
        }
        if controls.is_stopped() && !args.lossless {
            break;
        }
    }
    // The window goes first (it is on this thread), then the stages are stopped and joined.
    drop(window);
    let finished = pipeline.finish(&controls);
    health.set_running(false);
    let (captured, dropped, failed) = finished?;
    let mut stats = meter.finish(captured, dropped, failed);
    stats.outputs = outputs.map(Outputs::finish).unwrap_or_default();
    stats.input = args
        .input
        .as_ref()
        .filter(|p| is_network(&p.to_string_lossy()))
        .map(|_| monitor.lock().map(|m| m.clone()).unwrap_or_default());
    report(&stats, args.stats_json.as_deref(), args.overwrite)?;
    if let Some((name, reason)) = stats.outputs.iter().find_map(|o| Some((&o.name, o.failed.as_ref()?))) {
        // A recording cut short is a failed run, whatever the window showed.
        bail!(
            "{name} stopped after {} frames: {reason}",
            stats.outputs.iter().find(|o| &o.name == name).map_or(0, |o| o.frames_sent)
        );
    }
    match sink_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Puts the outputs' and the input's state in the health report; returns the overlay's lines.
fn publish(health: &HealthState, outputs: &Outputs, monitor: &InputMonitor) -> Vec<String> {
    let mut lines = Vec::new();
    for o in outputs.stats() {
        let state = StreamHealth {
            connected: o.connected,
            frames: o.frames_sent,
            dropped: o.frames_dropped,
            reconnects: o.reconnects,
        };
        health.set_stream(&o.name, state);
        lines.push(format!(
            "{} {}  sent {}  dropped {}  reconnects {}  {:.0} ms",
            if o.connected { "->" } else { "x " },
            o.name,
            o.frames_sent,
            o.frames_dropped,
            o.reconnects,
            o.delay_ms.p50
        ));
    }
    if let Ok(input) = monitor.lock() {
        if !input.url.is_empty() {
            let state = StreamHealth {
                connected: input.connected,
                frames: input.frames_received,
                dropped: input.frames_repeated,
                reconnects: input.reconnects,
            };
            health.set_stream(&input.url, state);
        }
    }
    lines
}

fn snapshot(image: &image::RgbImage) {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let path = PathBuf::from(format!("faceswap-snapshot-{stamp}.png"));
    match save_rgb(image, &path, SaveMode::RefuseExisting) {
        Ok(()) => tracing::warn!(path = %path.display(), "snapshot saved"),
        Err(e) => tracing::warn!(error = %e, "snapshot failed"),
    }
}

/// Prints the summary line and writes the stats file.
pub fn report(stats: &PipelineStats, json: Option<&Path>, overwrite: bool) -> Result<()> {
    outln!(
        "{} frames shown ({} swapped, {} dropped, {} failed) at {:.1} fps; delay p50 {:.0} ms, p95 {:.0} ms",
        stats.frames_shown,
        stats.frames_swapped,
        stats.frames_dropped,
        stats.frames_failed,
        stats.fps,
        stats.latency_ms.p50,
        stats.latency_ms.p95
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
