//! `faceswap transcode`: a video file in, the same video out with the faces swapped — every
//! frame, the input's timestamps, its audio and subtitles — written under a temporary name and
//! renamed only when complete.

use std::{
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use clap::Args;
use faceswap::{
    pipeline::{Controls, Pipeline, PipelineConfig, PipelineStats, SinkMeter, TrackerConfig},
    video::{has_container_for, probe, EncoderSettings, SourceSpec, VideoWriter},
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{
    engine::{shown, EngineArgs},
    swap::{SwapperArgs, TargetFaces},
    video_swap::{self, VideoSwap},
    watch::{self, SupervisionArgs},
};

#[derive(Debug, Args)]
pub struct TranscodeArgs {
    /// The picture whose face is put onto the faces in the video.
    #[arg(long, value_name = "IMG")]
    source: PathBuf,
    /// The video to swap faces in.
    #[arg(long, value_name = "VIDEO")]
    input: PathBuf,
    /// The video to write (container from the extension: .mp4, .mkv, .mov, …).
    #[arg(long, short, value_name = "VIDEO")]
    output: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    overwrite: bool,
    /// Video codec: h264, h265, vp9, av1, or any ffmpeg encoder name.
    #[arg(long, default_value = "h264")]
    codec: String,
    /// Quality (constant rate factor; lower is better and larger). Default 18 for h264, 20 for h265.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=63))]
    crf: Option<u32>,
    /// Encoder speed preset (x264/x265: ultrafast … veryslow). superfast takes about 60% of
    /// veryfast's CPU time (measured at 640×480) for a somewhat larger file at the same CRF.
    #[arg(long, default_value = "superfast")]
    preset: String,
    /// Encoder threads (0: the encoder decides). One is fastest here: the pipeline's stages
    /// already keep every core busy, and encoder threads would only compete with them.
    #[arg(long, value_name = "N", default_value_t = 1)]
    encoder_threads: u32,
    /// Run the face detector every K frames and track faces in between (every frame is still
    /// followed by the landmark model; detection only finds faces that appear). 8 frames is a
    /// quarter of a second at 30 fps.
    #[arg(long, value_name = "K", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    detect_every: u32,
    /// Print progress as JSON, one object a line, on stdout.
    #[arg(long)]
    progress_json: bool,
    #[command(flatten)]
    swapper: SwapperArgs,
    /// Write the run's figures (frames, fps, stage percentiles) here at the end.
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
    #[command(flatten)]
    faces: TargetFaces,
    #[command(flatten)]
    supervision: SupervisionArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

fn encoder_settings(codec: &str, crf: Option<u32>, preset: &str, encoder_threads: u32) -> EncoderSettings {
    let (encoder, default_crf, takes_preset) = match codec {
        "h264" => ("libx264", Some(18), true),
        "h265" | "hevc" => ("libx265", Some(20), true),
        "vp9" => ("libvpx-vp9", Some(31), false),
        "av1" => ("libaom-av1", Some(30), false),
        other => (other, None, false),
    };
    EncoderSettings {
        encoder: encoder.to_string(),
        crf: crf.or(default_crf),
        preset: takes_preset.then(|| preset.to_string()),
        threads: (encoder_threads > 0).then_some(encoder_threads),
    }
}

#[derive(Serialize)]
struct Progress {
    frames: u64,
    total: Option<u64>,
    fps: f64,
    eta_s: Option<f64>,
    done: bool,
}

/// Progress on a terminal (a bar), in a log (a line every two seconds) or for scripts (JSON).
struct Reporter {
    json: bool,
    bar: Option<ProgressBar>,
    total: Option<u64>,
    started: Instant,
    last: Instant,
}

impl Reporter {
    fn new(json: bool, total: Option<u64>) -> Self {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let bar = total.map_or_else(ProgressBar::new_spinner, ProgressBar::new);
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} frames  {per_sec}  eta {eta}") {
                bar.set_style(style);
            }
            bar
        });
        Self { json, bar, total, started: Instant::now(), last: Instant::now() }
    }

    fn update(&mut self, frames: u64, done: bool) {
        if let Some(bar) = &self.bar {
            bar.set_position(frames);
            if done {
                bar.finish_and_clear();
            }
            return;
        }
        let interval = if self.json { Duration::from_millis(500) } else { Duration::from_secs(2) };
        if !done && self.last.elapsed() < interval {
            return;
        }
        self.last = Instant::now();
        let elapsed = self.started.elapsed().as_secs_f64();
        let fps = if elapsed > 0.0 { frames as f64 / elapsed } else { 0.0 };
        let eta_s = self.total.filter(|_| fps > 0.0).map(|t| t.saturating_sub(frames) as f64 / fps);
        if self.json {
            let line =
                serde_json::to_string(&Progress { frames, total: self.total, fps, eta_s, done }).unwrap_or_default();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        } else {
            let total = self.total.map_or(String::new(), |t| format!("/{t}"));
            let eta = eta_s.map_or(String::new(), |e| format!(", eta {e:.0} s"));
            eprintln!("frames {frames}{total}, {fps:.1} fps{eta}");
        }
    }
}

/// Refuses what would lose the user's files: the input as output, an existing output.
fn check_paths(args: &TranscodeArgs) -> Result<()> {
    if !args.input.is_file() {
        bail!("input video {} does not exist", shown(&args.input));
    }
    let folder = match args.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let output_abs = folder
        .canonicalize()
        .with_context(|| format!("output folder {} does not exist", folder.display()))?
        .join(args.output.file_name().context("the output has no file name")?);
    let input_abs = args.input.canonicalize().with_context(|| format!("cannot read {}", shown(&args.input)))?;
    if output_abs == input_abs || output_abs.canonicalize().is_ok_and(|o| o == input_abs) {
        bail!("output {} is the input: choose another output path", shown(&args.output));
    }
    if !has_container_for(&args.output) {
        bail!(
            "output {}: ffmpeg has no container for this extension; use .mp4, .mkv, .mov or .webm",
            shown(&args.output)
        );
    }
    if args.output.exists() && !args.overwrite {
        bail!("output {} already exists: pass --overwrite to replace it, or choose another path", shown(&args.output));
    }
    Ok(())
}

pub fn run(args: TranscodeArgs) -> Result<()> {
    check_paths(&args)?;
    let shape = probe(&args.input)?;
    let tracker_config = TrackerConfig { detect_every: args.detect_every, ..TrackerConfig::default() };
    let video = video_swap::prepare(&args.engine, &args.swapper, &args.faces, &args.source, tracker_config)?;
    // The watchdog repairs a model that goes bad mid-run; the lossless pipeline loses no frame.
    let supervision = watch::supervise(&video, &args.engine, &args.supervision)?;
    let health = supervision.health.clone();
    let VideoSwap { swapper, selection, tracker, .. } = video;

    // The file is written under a hidden temporary name beside the target, and renamed at the end.
    let folder = args.output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let extension = args.output.extension().and_then(|e| e.to_str()).unwrap_or("mp4");
    let stem = args.output.file_stem().and_then(|s| s.to_str()).unwrap_or("output");
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{stem}."))
        .suffix(&format!(".partial.{extension}"))
        .tempfile_in(folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?
        .into_temp_path();
    let settings = encoder_settings(&args.codec, args.crf, &args.preset, args.encoder_threads);
    let version_tag = format!("face-swapped by faceswap {}", env!("CARGO_PKG_VERSION"));
    let metadata = [("comment", version_tag.as_str()), ("faceswap", env!("CARGO_PKG_VERSION"))];
    let container = ffmpeg_format_of(extension);
    let mut writer = VideoWriter::create(&temp, container, Some(&args.input), &shape, &settings, &metadata)?;

    let controls = Arc::new(Controls::default());
    {
        let controls = controls.clone();
        ctrlc::set_handler(move || controls.stop()).context("cannot install the Ctrl-C handler")?;
    }
    let spec = SourceSpec::File { path: args.input.clone(), resolution: None, looping: false };
    let config = PipelineConfig { selection, ..PipelineConfig::lossless() };
    let pipeline = Pipeline::start(spec, tracker, swapper, config, controls.clone(), supervision.updates)?;
    let mut meter = SinkMeter::new("encode");
    let mut reporter = Reporter::new(args.progress_json, shape.frames);
    let mut write_error = None;
    // Every frame the stages finish is encoded, also after Ctrl-C: the source stops, the rest drains.
    while let Some(frame) = pipeline.frames().recv() {
        let started = Instant::now();
        if let Err(e) = writer.write(&frame.image, frame.timestamp) {
            write_error = Some(e);
            controls.stop();
            break;
        }
        meter.record(&frame, started.elapsed().as_secs_f32() * 1000.0);
        health.frame_done(meter.recent_fps());
        reporter.update(meter.shown(), false);
        pipeline.recycle(frame);
    }
    let bad_packets = pipeline.bad_packets();
    let interrupted = controls.is_stopped();
    let finished = pipeline.finish(&controls);
    health.set_running(false);
    let (captured, dropped, failed) = finished?;
    if let Some(e) = write_error {
        // The temporary file is removed when `temp` drops; nothing appears under the final name.
        return Err(anyhow::Error::from(e).context("transcoding stopped"));
    }
    let summary = writer.finish()?;
    reporter.update(meter.shown(), true);
    if args.overwrite {
        temp.persist(&args.output)?;
    } else {
        temp.persist_noclobber(&args.output)
            .with_context(|| format!("output {} appeared meanwhile", shown(&args.output)))?;
    }
    let stats = meter.finish(captured, dropped, failed);
    print_summary(&stats, summary.frames, bad_packets, interrupted, &args.output);
    if let Some(path) = &args.stats_json {
        std::fs::write(path, serde_json::to_string_pretty(&stats)?)
            .with_context(|| format!("cannot write {}", shown(path)))?;
    }
    Ok(())
}

/// The muxer to use for an extension ffmpeg might not guess.
fn ffmpeg_format_of(extension: &str) -> Option<&'static str> {
    match extension.to_ascii_lowercase().as_str() {
        "mkv" => Some("matroska"),
        "mp4" | "m4v" => Some("mp4"),
        "mov" => Some("mov"),
        "webm" => Some("webm"),
        _ => None,
    }
}

fn print_summary(stats: &PipelineStats, frames: u64, bad_packets: u64, interrupted: bool, output: &Path) {
    let stages = ["capture", "detect", "track", "swap", "encode"];
    let total: f32 = stages.iter().filter_map(|s| stats.stage_ms.get(*s)).map(|p| p.mean).sum();
    let shares: Vec<String> = stages
        .iter()
        .filter_map(|s| stats.stage_ms.get(*s).map(|p| (s, p.mean)))
        .map(|(s, ms)| {
            format!(
                "{} {:.0}%",
                if *s == "capture" { "decode" } else { s },
                if total > 0.0 { 100.0 * ms / total } else { 0.0 }
            )
        })
        .collect();
    if interrupted {
        println!("stopped: {} holds the {frames} frames processed so far", shown(output));
    }
    println!(
        "{frames} frames ({} swapped) in {:.1} s: {:.1} fps; time per stage: {}; {}",
        stats.frames_swapped,
        stats.duration_s,
        stats.fps,
        shares.join(", "),
        shown(output)
    );
    if bad_packets > 0 {
        println!("{bad_packets} damaged packet(s) in the input were skipped");
    }
}
