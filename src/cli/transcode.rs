//! `faceswap transcode`: flags into a library transcode job; progress and the summary on the
//! terminal.

use std::{
    io::{IsTerminal, Write},
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use clap::Args;
use faceswap::{
    atomic_file::{check_target, write_whole},
    engine::Engine,
    health::HealthServer,
    pipeline::{Controls, PipelineStats, Stage},
    signal,
    transcode::{
        check_paths, check_sidecar, container_for, transcode, Progress, TranscodeJob, TranscodeOptions, TranscodeReport,
    },
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{
    engine::{EngineArgs, MouthMaskArgs, SourceArgs, SupervisionArgs, SwapperArgs, TargetFaces},
    provenance::ProvenanceArgs,
    shown,
};
use faceswap::provenance::Embedding;

#[derive(Debug, Args)]
pub struct TranscodeArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The video to swap faces in.
    #[arg(long, value_name = "VIDEO")]
    input: PathBuf,
    /// The video to write (container from the extension: .mp4, .mkv, .mov, .webm).
    #[arg(long, short, value_name = "VIDEO")]
    output: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    overwrite: bool,
    /// Video codec: h264, h265, vp9, av1, or any ffmpeg encoder name (default: the
    /// container's own, h264 for .mp4/.mkv/.mov, vp9 for .webm).
    #[arg(long)]
    codec: Option<String>,
    /// Quality (constant rate factor; lower is better and larger): 0–51 for h264/h265, 0–63 for
    /// vp9/av1. Default 18 for h264, 20 for h265, 31 for vp9, 30 for av1.
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
    mouth: MouthMaskArgs,
    #[command(flatten)]
    supervision: SupervisionArgs,
    #[command(flatten)]
    provenance: ProvenanceArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// One `--progress-json` line.
#[derive(Serialize)]
struct ProgressLine<'p> {
    #[serde(flatten)]
    progress: &'p Progress,
    done: bool,
}

/// Progress on a terminal (a bar), in a log (a line every two seconds) or for scripts (JSON).
struct Reporter {
    json: bool,
    bar: Option<ProgressBar>,
    last: Option<Instant>,
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
        Self { json, bar, last: None }
    }

    fn update(&mut self, progress: &Progress, done: bool) {
        if let Some(bar) = &self.bar {
            bar.set_position(progress.frames_done);
            if done {
                bar.finish_and_clear();
            }
            return;
        }
        let interval = if self.json { Duration::from_millis(500) } else { Duration::from_secs(2) };
        if !done && self.last.is_some_and(|last| last.elapsed() < interval) {
            return;
        }
        self.last = Some(Instant::now());
        if self.json {
            let line = serde_json::to_string(&ProgressLine { progress, done }).unwrap_or_default();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        } else {
            let total = progress.frames_total.map_or(String::new(), |t| format!("/{t}"));
            let eta = progress.eta_s.map_or(String::new(), |e| format!(", eta {e:.0} s"));
            eprintln!("frames {}{total}, {:.1} fps{eta}", progress.frames_done, progress.fps);
        }
    }
}

pub fn run(args: TranscodeArgs) -> Result<()> {
    // Refused outputs are refused before any model is loaded.
    check_paths(&args.input, &args.output, args.overwrite)?;
    container_for(&args.output)?;
    check_sidecar(args.provenance.provenance, &args.output, args.overwrite)?;
    if let Some(path) = &args.stats_json {
        // Never over the input, the output, or the source pictures; over an old report only
        // with --overwrite.
        let pictures = args.faces.inputs();
        let mut inputs = vec![args.input.as_path(), args.output.as_path()];
        inputs.extend(pictures.iter().map(PathBuf::as_path));
        inputs.extend(args.source.source.as_deref());
        check_target(path, args.overwrite, &inputs).context("--stats-json")?;
    }
    let mut config = args.engine.config(&args.swapper)?;
    config.provenance = args.provenance.config(None)?;
    let engine = Engine::open(config)?;
    let source_sha256 = args.source.sha256(&args.faces)?;
    let job = TranscodeJob {
        input: args.input.clone(),
        output: args.output.clone(),
        sources: args.faces.sources(&args.source, &engine)?,
        selection: args.faces.selection(&engine)?,
        source_sha256,
        input_name: None,
    };
    let options = TranscodeOptions {
        codec: args.codec.clone(),
        crf: args.crf,
        preset: args.preset.clone(),
        encoder_threads: args.encoder_threads,
        detect_every: args.detect_every,
        swapper: engine.config().swapper,
        mouth_mask: args.mouth.mask()?,
        pixel_boost: args.swapper.pixel_boost,
        enhancer: args.swapper.enhancer()?,
        masks: args.swapper.masks()?,
        overwrite: args.overwrite,
    };
    // The watchdog repairs a model that goes bad mid-run; the lossless pipeline loses no frame.
    if let Some(interval) = args.supervision.interval() {
        engine.watch_models(interval).context("cannot start the model watchdog")?;
    }
    let _health = args
        .supervision
        .health_addr
        .map(|addr| HealthServer::start(addr, engine.supervisor().health().clone()))
        .transpose()?;
    let controls = Arc::new(Controls::default());
    let _stop = signal::stop_on_signal(&controls)?;
    let total = faceswap::video::probe(&args.input)?.frames;
    let mut reporter = Reporter::new(args.progress_json, total);
    let report = transcode(&engine, &job, &options, &controls, |p| reporter.update(p, false));
    engine.supervisor().health().set_running(false);
    let report = report?;
    let last = Progress { frames_done: report.frames, frames_total: total, fps: report.stats.fps, eta_s: Some(0.0) };
    if args.progress_json {
        // stdout stays JSON: the summary is the last object.
        let line = serde_json::json!({ "progress": last, "done": true, "report": &report });
        outln!("{line}")?;
    } else {
        reporter.update(&last, true);
        print_summary(&report)?;
    }
    if let Some(path) = &args.stats_json {
        write_whole(path, serde_json::to_string_pretty(&report.stats)?.as_bytes(), args.overwrite)
            .with_context(|| format!("--stats-json: cannot write {}", shown(path)))?;
    }
    if report.interrupted {
        // The file is complete and kept, but not the whole video: scripts must see that.
        return Err(super::Exit(super::EXIT_INTERRUPTED).into());
    }
    Ok(())
}

fn print_summary(report: &TranscodeReport) -> std::io::Result<()> {
    let output = shown(&report.output);
    if report.interrupted {
        outln!("stopped: {output} holds the {} frames processed so far", report.frames)?;
    }
    outln!(
        "{} frames ({} swapped) in {:.1} s: {:.1} fps; time per stage: {}; {output}",
        report.frames,
        report.frames_swapped,
        report.stats.duration_s,
        report.stats.fps,
        stage_shares(&report.stats),
    )?;
    if report.encoded_size != report.frame_size {
        let ((fw, fh), (ew, eh)) = (report.frame_size, report.encoded_size);
        outln!("note: the frames are {fw}×{fh}; the video is {ew}×{eh}, padded by a pixel (yuv420p needs even sides)")?;
    }
    if report.bad_packets > 0 {
        outln!("{} damaged packet(s) in the input were skipped", report.bad_packets)?;
    }
    match &report.credentials {
        Some(Embedding::Embedded) => outln!("Content Credentials: signed manifest embedded in {output}")?,
        Some(Embedding::Sidecar(path)) => outln!(
            "Content Credentials: {} cannot hold a manifest; the signed manifest is in the sidecar {} (keep the two together)",
            output,
            shown(path)
        )?,
        None => {}
    }
    Ok(())
}

fn stage_shares(stats: &PipelineStats) -> String {
    let total: f32 = stats.stage_ms.values().map(|p| p.mean).sum();
    stats
        .stage_ms
        .iter()
        .map(|(stage, p)| (stage, p.mean))
        .map(|(stage, ms)| {
            // A transcode's capture is the decoder.
            let name = if *stage == Stage::Capture { "decode" } else { stage.as_str() };
            format!("{name} {:.0}%", if total > 0.0 { 100.0 * ms / total } else { 0.0 })
        })
        .collect::<Vec<_>>()
        .join(", ")
}
