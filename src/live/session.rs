//! The live loop: frames from the pipeline to the window (or the headless meter) and the
//! outputs, keys from the window to the controls, the outputs' and input's state to health.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use image::RgbImage;

use super::{LiveInput, LiveStats};
use crate::{
    engine::{Engine, VideoSwap},
    health::{HealthState, StreamHealth},
    imaging::{save_rgb, SaveMode},
    pipeline::{Controls, PipelineConfig, RecvTimeoutError, SinkMeter, Stage},
    provenance::{Asset, EditRecord},
    stream::{InputMonitor, OutputTarget, Outputs},
    swap::MouthMask,
    video::{WindowEvent, WindowSink},
    Result,
};

/// What a live session runs.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub input: LiveInput,
    /// The SHA-256 of the source picture, for a recording's manifest (one source only).
    pub source_sha256: Option<String>,
    /// Where the swapped frames also go; started on the first frame (which gives their size).
    pub outputs: Vec<OutputTarget>,
    /// The frame rate the outputs are encoded for.
    pub output_fps: u32,
    /// Show a window (else headless: process and measure only).
    pub window: bool,
    /// Stop after this many frames have been shown.
    pub frames: Option<u64>,
    /// Never drop a frame: a full queue waits (delay grows when processing lags).
    pub lossless: bool,
    pub swap: VideoSwap,
    /// The mouth mask, on from the start when given (the window's M key toggles it).
    pub mouth_mask: Option<MouthMask>,
    /// How often the outputs' state is published to health and the overlay.
    pub publish_every: Duration,
}

/// How long the sink waits for a frame before looking at the controls again.
const POLL: Duration = Duration::from_millis(100);

/// Runs the session until the input ends, `frames` were shown, the window is closed or
/// `controls` is stopped (Ctrl-C); the outputs are finished (a recording gets its name) either way.
///
/// # Errors
/// A source, model or window that fails, or outputs that cannot start. A recording that stops
/// mid-way is not an error here: it is in [`LiveStats::failed_output`].
pub fn run(engine: &Engine, options: LiveOptions, controls: &Arc<Controls>) -> Result<LiveStats> {
    let monitor = InputMonitor::default();
    let spec = options.input.spec(engine.limits(), &monitor);
    let context = format!(
        "ep {}  swapper {}  detect every {}",
        engine.factory().provider(),
        options.swap.swapper,
        options.swap.tracker.detect_every
    );
    let base = if options.lossless {
        PipelineConfig { pacing: None, ..PipelineConfig::lossless() }
    } else {
        PipelineConfig::live()
    };
    let config = PipelineConfig {
        max_frames: options.frames.filter(|_| options.lossless),
        mouth_mask: options.mouth_mask,
        ..base
    };
    let health = engine.supervisor().health().clone();
    let pipeline = engine.start_pipeline(spec, options.swap.clone(), config, controls.clone())?;
    tracing::info!(source = pipeline.source(), "live");

    let mut meter = SinkMeter::new(Stage::Display);
    let mut window: Option<WindowSink> = None;
    let mut outputs: Option<Outputs> = None;
    let mut published = Instant::now();
    let mut output_lines: Vec<String> = Vec::new();
    let epoch = Instant::now();
    let mut sink_error = None;
    loop {
        let frame = match pipeline.frames().recv_timeout(POLL) {
            Ok(frame) => frame,
            Err(RecvTimeoutError::Disconnected) => break,
            // A lossless run drains what is in flight; a live one just stops.
            Err(RecvTimeoutError::Timeout) if controls.is_stopped() && !options.lossless => break,
            Err(RecvTimeoutError::Timeout) => continue,
        };
        let shown_at = Instant::now();
        if outputs.is_none() && !options.outputs.is_empty() {
            let fps = f64::from(options.output_fps);
            match Outputs::start(&options.outputs, frame.image.width(), frame.image.height(), fps, epoch) {
                Ok(started) => outputs = Some(started),
                Err(e) => {
                    sink_error = Some(e.into());
                    break;
                }
            }
        }
        if let Some(outputs) = &outputs {
            outputs.send(&frame.image, frame.captured);
            if published.elapsed() >= options.publish_every {
                published = Instant::now();
                output_lines = publish(&health, outputs, &monitor);
            }
        }
        if options.window {
            if window.is_none() {
                match WindowSink::open("faceswap", frame.image.width(), frame.image.height()) {
                    Ok(w) => window = Some(w),
                    Err(e) => {
                        sink_error = Some(e.into());
                        break;
                    }
                }
            }
            if let Some(w) = window.as_mut() {
                let mut lines = meter.overlay(&context, frame.faces.len(), controls.is_swapping());
                lines.extend(output_lines.iter().cloned());
                match w.show(&frame.image, &lines) {
                    Ok(events) => events.into_iter().for_each(|event| act(event, controls, &frame.image)),
                    Err(e) => {
                        sink_error = Some(e.into());
                        break;
                    }
                }
            }
        }
        meter.record(&frame, shown_at.elapsed().as_secs_f32() * 1000.0);
        health.frame_done(meter.recent_fps());
        pipeline.recycle(frame);
        if options.frames.is_some_and(|n| meter.shown() >= n) {
            controls.stop();
        }
        if controls.is_stopped() && !options.lossless {
            break;
        }
    }
    // The window goes first (it is on this thread), then the stages are stopped and joined.
    // (A build without the desktop feature has no window type to drop.)
    #[cfg_attr(not(feature = "desktop"), allow(clippy::drop_non_drop))]
    drop(window);
    let finished = pipeline.finish(controls);
    health.set_running(false);
    let counts = finished?;
    let stats = LiveStats {
        pipeline: meter.finish(counts),
        outputs: outputs.map(Outputs::finish).unwrap_or_default(),
        input: options.input.is_network().then(|| monitor.lock().map(|m| m.clone()).unwrap_or_default()),
    };
    sign_recordings(engine, &options, &stats)?;
    match sink_error {
        Some(e) => Err(e),
        None => Ok(stats),
    }
}

/// What a key in the window does.
fn act(event: WindowEvent, controls: &Controls, frame: &RgbImage) {
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
        WindowEvent::Snapshot => snapshot(frame),
    }
}

/// Saves the frame shown as `faceswap-snapshot-<ms>.png` in the working folder (never over a file).
fn snapshot(image: &RgbImage) {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let path = PathBuf::from(format!("faceswap-snapshot-{stamp}.png"));
    match save_rgb(image, &path, SaveMode::RefuseExisting) {
        Ok(()) => tracing::warn!(path = %path.display(), "snapshot saved"),
        Err(e) => tracing::warn!(error = %e, "snapshot failed"),
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

/// Signs each finished recording, once it has its name: the manifest goes on at the end.
fn sign_recordings(engine: &Engine, options: &LiveOptions, stats: &LiveStats) -> Result<()> {
    for target in &options.outputs {
        let OutputTarget::Record { path, .. } = target else { continue };
        let failed = stats.outputs.iter().any(|o| o.name == target.name() && o.failed.is_some());
        if failed || !path.is_file() {
            continue;
        }
        let input = match &options.input {
            LiveInput::File { path, .. } | LiveInput::Still { path, .. } => Asset::File { path },
            LiveInput::Camera { .. } => Asset::Named { name: "camera" },
            LiveInput::Network { .. } => Asset::Named { name: "network stream" },
        };
        let record = EditRecord {
            target: input,
            source_face: options.source_sha256.as_deref(),
            swapper: options.swap.swapper.name(),
            enhancer: options.swap.enhancer.map(|e| e.kind.name()),
        };
        engine.provenance().sign_file(path, path, &record)?;
    }
    Ok(())
}
