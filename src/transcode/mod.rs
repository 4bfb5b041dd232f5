//! A transcode job: a video file in, the same video out with the faces swapped — every frame,
//! the input's timestamps, its audio and subtitles — through the lossless pipeline, written
//! under a temporary name and renamed only when complete. What the CLI prints and what the
//! server reports are the same [`Progress`] and [`TranscodeReport`].

mod assemble;
mod codec;
mod error;
mod output;
mod plan;

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

pub use assemble::{assemble, AssembleReport, PartOffset};
pub use codec::{
    codec_named, container_for, container_named, encoder_settings, known_extensions, Container, VideoCodec, CODECS,
    CONTAINERS,
};
pub use error::TranscodeError;
pub use output::{check_input, check_paths, PendingOutput};
pub use plan::{plan_parts, PartPlan, PlannedPart};

use crate::{
    atomic_file::{check_target, TargetError},
    engine::{Engine, VideoSwap},
    enhance::EnhanceSettings,
    face::FaceSelection,
    pipeline::{Controls, PipelineConfig, PipelineStats, SinkMeter, TrackerConfig},
    provenance::{Asset, EditRecord, Embedding},
    swap::{MouthMask, Sources, SwapperKind},
    video::{probe, FrameWindow, SourceSpec, VideoError, VideoWriter},
    Error, Result,
};

/// What to transcode: the files, the face to put on, and which faces to replace.
#[derive(Debug, Clone)]
pub struct TranscodeJob {
    pub input: PathBuf,
    pub output: PathBuf,
    /// One source, or a map of a source per person.
    pub sources: Sources,
    pub selection: FaceSelection,
    /// The SHA-256 of the source picture, for the manifest (one source; none for a map).
    pub source_sha256: Option<String>,
    /// What the user calls the input, when its path says otherwise (a job's upload).
    pub input_name: Option<String>,
}

/// How to transcode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TranscodeOptions {
    /// h264, h265, vp9, av1 or an ffmpeg encoder name; none: the container's natural codec.
    pub codec: Option<String>,
    /// Constant rate factor; none: the codec's default.
    pub crf: Option<u32>,
    /// Encoder speed preset (x264/x265).
    pub preset: String,
    /// Encoder threads (0: the encoder decides).
    pub encoder_threads: u32,
    /// Run the detector every K frames and track faces in between.
    pub detect_every: u32,
    pub swapper: SwapperKind,
    /// Lay the target's own inner mouth back over every swapped face.
    pub mouth_mask: Option<MouthMask>,
    /// Inswapper's aligned crop side (pixel boost).
    pub pixel_boost: Option<u32>,
    /// A face enhancer after the swap.
    pub enhancer: Option<EnhanceSettings>,
    /// The occlusion and region masks around each swap.
    pub masks: crate::mask::MaskSettings,
    /// Replace an existing output.
    pub overwrite: bool,
}

impl Default for TranscodeOptions {
    fn default() -> Self {
        Self {
            codec: None,
            crf: None,
            // superfast takes about 60% of veryfast's CPU time (measured at 640×480) for a
            // somewhat larger file at the same CRF.
            preset: "superfast".into(),
            // The pipeline's stages already keep every core busy; encoder threads would only
            // compete with them.
            encoder_threads: 1,
            // A quarter of a second at 30 fps; every frame is still followed by the landmarks.
            detect_every: 8,
            swapper: SwapperKind::Landmark,
            mouth_mask: None,
            pixel_boost: None,
            enhancer: None,
            masks: crate::mask::MaskSettings::default(),
            overwrite: false,
        }
    }
}

/// How far a transcode has got.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Progress {
    pub frames_done: u64,
    /// From the container, when it says.
    pub frames_total: Option<u64>,
    pub fps: f64,
    pub eta_s: Option<f64>,
}

/// What a finished (or stopped) transcode did.
#[derive(Debug, Clone, Serialize)]
pub struct TranscodeReport {
    pub output: PathBuf,
    /// The frames' size, and the size written (padded by a pixel where a side was odd).
    pub frame_size: (u32, u32),
    pub encoded_size: (u32, u32),
    /// Frames in the file.
    pub frames: u64,
    pub frames_swapped: u64,
    /// Damaged input packets skipped.
    pub bad_packets: u64,
    /// Stopped before the end of the input (the file holds every frame read until then).
    pub interrupted: bool,
    pub stats: PipelineStats,
    /// Where the signed manifest went; none when manifests are off (or for a part).
    pub credentials: Option<Embedding>,
}

/// How often progress is reported.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Runs `job`: checks everything up front, then decodes, swaps and encodes every frame.
/// `controls` stops it (the frames read so far are finished and kept); `on_progress` is called
/// at most every 100 ms and once at the end.
///
/// # Errors
/// A refused output or codec, an unreadable input, a model failure before the start, or a
/// write failure (the temporary file is removed then; nothing appears under the final name).
pub fn transcode(
    engine: &Engine,
    job: &TranscodeJob,
    options: &TranscodeOptions,
    controls: &Arc<Controls>,
    on_progress: impl FnMut(&Progress),
) -> Result<TranscodeReport> {
    check_paths(&job.input, &job.output, options.overwrite)?;
    check_sidecar(engine.provenance().marks(), &job.output, options.overwrite)?;
    let container = container_for(&job.output)?;
    let version_tag = format!("face-swapped by faceswap {}", env!("CARGO_PKG_VERSION"));
    let metadata = [("comment", version_tag.as_str()), ("faceswap", env!("CARGO_PKG_VERSION"))];
    let destination = Destination {
        path: &job.output,
        container,
        muxer: container.muxer,
        copy_streams: true,
        metadata: &metadata,
        window: FrameWindow::ALL,
        first_frame: 0,
        part: false,
    };
    swap_into(engine, job, &destination, options, controls, on_progress)
}

/// Runs one part of a split job: the frames of `window` decoded, swapped and encoded as
/// `container`'s video would be, into a video-only NUT file (it keeps the input's time base
/// and timestamps exactly) that [`assemble`] joins with the other parts.
///
/// # Errors
/// As [`transcode`].
pub fn transcode_part(
    engine: &Engine,
    job: &TranscodeJob,
    part: &PlannedPart,
    container: Container,
    options: &TranscodeOptions,
    controls: &Arc<Controls>,
    on_progress: impl FnMut(&Progress),
) -> Result<TranscodeReport> {
    check_paths(&job.input, &job.output, options.overwrite)?;
    let destination = Destination {
        path: &job.output,
        container,
        muxer: "nut",
        copy_streams: false,
        metadata: &[],
        window: part.window,
        first_frame: part.first_frame,
        part: true,
    };
    swap_into(engine, job, &destination, options, controls, on_progress)
}

/// Where swapped frames are written, and what rides with them.
struct Destination<'a> {
    path: &'a std::path::Path,
    /// The container whose codec rules apply.
    container: Container,
    /// The muxer actually written with.
    muxer: &'static str,
    /// Copy the input's sound and subtitles.
    copy_streams: bool,
    metadata: &'a [(&'a str, &'a str)],
    window: FrameWindow,
    first_frame: u64,
    /// A part file: timestamps offset (and the offset recorded) so none is negative.
    part: bool,
}

fn swap_into(
    engine: &Engine,
    job: &TranscodeJob,
    destination: &Destination<'_>,
    options: &TranscodeOptions,
    controls: &Arc<Controls>,
    mut on_progress: impl FnMut(&Progress),
) -> Result<TranscodeReport> {
    let settings = encoder_settings(
        destination.container,
        options.codec.as_deref(),
        options.crf,
        &options.preset,
        options.encoder_threads,
    )?;
    let shape = probe(&job.input)?;
    let limit = engine.limits().max_pixels;
    if u64::from(shape.width) * u64::from(shape.height) > limit {
        let (width, height) = (shape.width, shape.height);
        return Err(VideoError::TooLarge { path: job.input.clone(), width, height, limit }.into());
    }
    let pending = PendingOutput::create(destination.path, options.overwrite)?;
    // Errors name the output the user asked for, not the hidden file it is written as.
    let output_named = |e: VideoError| e.with_path(pending.temp_path(), destination.path);
    let copy_from = destination.copy_streams.then_some(job.input.as_path());
    let offset = destination.part.then(|| PartOffset::for_shape(&shape));
    let offset_tag = offset.map(|o| o.to_string());
    let mut metadata = destination.metadata.to_vec();
    if let Some(tag) = &offset_tag {
        metadata.push((PartOffset::TAG, tag));
    }
    let mut writer =
        VideoWriter::create(pending.temp_path(), Some(destination.muxer), copy_from, &shape, &settings, &metadata)
            .map_err(output_named)?;
    if let Some(offset) = offset {
        writer.offset_timestamps(offset.ticks);
    }

    let swap = VideoSwap {
        sources: job.sources.clone(),
        selection: job.selection.clone(),
        swapper: options.swapper,
        pixel_boost: options.pixel_boost,
        enhancer: options.enhancer,
        masks: options.masks,
        tracker: TrackerConfig {
            detect_every: options.detect_every.max(1),
            first_frame: destination.first_frame,
            ..TrackerConfig::default()
        },
    };
    let spec = if destination.window == FrameWindow::ALL {
        SourceSpec::File { path: job.input.clone(), resolution: None, looping: false, limits: engine.limits() }
    } else {
        SourceSpec::FilePart { path: job.input.clone(), window: destination.window, limits: engine.limits() }
    };
    let frames_total = if destination.window == FrameWindow::ALL { shape.frames } else { None };
    let config = PipelineConfig { mouth_mask: options.mouth_mask, ..PipelineConfig::lossless() };
    let pipeline = engine.start_pipeline(spec, swap, config, controls.clone())?;
    let health = engine.supervisor().health().clone();
    let mut meter = SinkMeter::new(crate::pipeline::Stage::Encode);
    let started = Instant::now();
    let mut last_report = started;
    let mut write_error = None;
    // Every frame the stages finish is encoded, also after a stop: the source stops, the rest drains.
    while let Some(frame) = pipeline.frames().recv() {
        let encode_started = Instant::now();
        if let Err(e) = writer.write(&frame.image, frame.timestamp) {
            write_error = Some(e);
            controls.stop();
            break;
        }
        meter.record(&frame, encode_started.elapsed().as_secs_f32() * 1000.0);
        health.frame_done(meter.recent_fps());
        pipeline.recycle(frame);
        if last_report.elapsed() >= PROGRESS_INTERVAL {
            last_report = Instant::now();
            on_progress(&progress(meter.shown(), frames_total, started));
        }
    }
    let bad_packets = pipeline.bad_packets();
    let interrupted = controls.is_stopped();
    let counts = pipeline.finish(controls)?;
    if let Some(e) = write_error {
        // `pending` drops here with its temporary file; nothing appears under the final name.
        return Err(Error::Video(output_named(e)));
    }
    let summary = writer.finish().map_err(output_named)?;
    on_progress(&progress(meter.shown(), frames_total, started));
    // Signed before it appears under its name: an output is never seen without its manifest.
    let credentials = if destination.part {
        None
    } else {
        let record = EditRecord {
            // A worker may read the input from object storage by URL: named, not hashed, then.
            target: match (&job.input_name, crate::video::is_url(&job.input)) {
                (Some(name), true) => Asset::Named { name },
                (None, true) => Asset::Named { name: "the input video" },
                (Some(name), false) => Asset::Renamed { name, path: &job.input },
                (None, false) => Asset::File { path: &job.input },
            },
            source_face: job.source_sha256.as_deref(),
            swapper: options.swapper.name(),
            enhancer: options.enhancer.map(|e| e.kind.name()),
        };
        engine.provenance().sign_file(pending.temp_path(), destination.path, &record)?
    };
    let output = pending.commit()?;
    let stats = meter.finish(counts);
    Ok(TranscodeReport {
        output,
        frame_size: (shape.width, shape.height),
        encoded_size: summary.encoded_size,
        frames: summary.frames,
        frames_swapped: stats.frames_swapped,
        bad_packets: bad_packets + summary.copy_read_errors,
        interrupted,
        stats,
        credentials,
    })
}

/// Refuses a run whose manifest would go to a sidecar that exists, unless `overwrite`.
///
/// # Errors
/// [`TranscodeError::OutputExists`] naming the sidecar.
pub fn check_sidecar(
    marks: crate::provenance::ProvenanceMarks,
    output: &std::path::Path,
    overwrite: bool,
) -> Result<(), TranscodeError> {
    let needs_sidecar = crate::provenance::MediaFormat::from_path(output).is_some_and(|f| !f.embeds());
    if marks.c2pa && needs_sidecar {
        let sidecar = crate::provenance::sidecar_path(output);
        check_target(&sidecar, overwrite, &[]).map_err(|e| match e {
            TargetError::Exists { path } => TranscodeError::OutputExists { path },
            other => TranscodeError::Target(other),
        })?;
    }
    Ok(())
}

fn progress(frames_done: u64, frames_total: Option<u64>, started: Instant) -> Progress {
    let elapsed = started.elapsed().as_secs_f64();
    let fps = if elapsed > 0.0 { frames_done as f64 / elapsed } else { 0.0 };
    let eta_s = frames_total.filter(|_| fps > 0.0).map(|t| t.saturating_sub(frames_done) as f64 / fps);
    Progress { frames_done, frames_total, fps, eta_s }
}
