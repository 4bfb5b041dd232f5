//! `faceswap bench`: how fast faceswap runs on this machine, per execution provider, stage by
//! stage, and how far each frame is from the model floor — the time the models alone take on
//! the same inputs, which no pre- or post-processing can beat.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use image::RgbImage;
use serde::Serialize;

use crate::{
    engine::ModelFactories,
    face::{DetectorConfig, FaceAnalyzer, FaceModels, FaceSelection},
    imaging::load_rgb,
    models::{ModelRole, VerifiedModel},
    pipeline::{
        Controls, FaceTracker, Percentiles, Pipeline, PipelineConfig, StageModels, StageUpdates, TrackerConfig,
    },
    runtime::{ExecutionProvider, OrtRuntime, ProviderChoice, SessionFactory},
    swap::{build_swapper, SourceFace, SwapperKind},
    video::{
        probe, EncoderSettings, FrameSource, SourceFrame, SourceOpener, SourceSpec, StreamShape, VideoError,
        VideoWriter,
    },
    Error,
};

/// Where the benchmark's frames come from.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchInput {
    /// A video file (its first `frames` frames).
    Video(PathBuf),
    /// The source photo scaled to `width`×`height`, drifting a little from frame to frame.
    Synthetic { width: u32, height: u32 },
}

/// A frame held in memory, so every provider sees the same pictures.
#[derive(Clone)]
struct BenchFrame {
    image: RgbImage,
    timestamp: Option<i64>,
    decode_ms: f32,
}

/// The frames and what they are.
struct LoadedFrames {
    frames: Vec<BenchFrame>,
    shape: StreamShape,
    video: Option<PathBuf>,
}

/// What to benchmark.
pub struct BenchConfig {
    pub input: BenchInput,
    pub frames: usize,
    pub detect_every: u32,
    /// The face put onto the frames (and, for synthetic input, the frames themselves).
    pub source_photo: PathBuf,
    pub models: FaceModels,
    /// The swapper under test, built on each provider's factory, and its file.
    pub swapper: SwapperKind,
    pub swapper_model: Option<VerifiedModel>,
    pub threads: Option<usize>,
    /// Encode the frames (as transcoding does); off, the output stage is a headless display.
    pub encode: bool,
}

/// One provider's figures, as the JSON report holds them.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderReport {
    pub ep: String,
    pub available: bool,
    pub reason: Option<String>,
    pub session_build_ms: f64,
    pub warmup_ms: f64,
    pub frames: usize,
    /// Sequential: one frame through every step before the next starts.
    pub frames_per_s: f64,
    /// Pipelined: the stages on their own threads (lossless, unpaced).
    pub pipelined_frames_per_s: f64,
    /// Mean per-frame time inside the models (detector every K frames, landmarks, swapper).
    pub floor_ms: f64,
    /// Mean per-frame time of the sequential loop.
    pub frame_ms: f64,
    pub floor_ratio: f64,
    pub stage_ms: BTreeMap<String, Percentiles>,
    /// Each model's own time per run (its session alone, on the source photo's face, after
    /// warm-up), by role: what `--choose` compares.
    pub model_ms: BTreeMap<String, f64>,
    pub peak_rss_mb: f64,
}

impl ProviderReport {
    fn unavailable(ep: &ExecutionProvider, reason: String) -> Self {
        Self {
            ep: ep.to_string(),
            available: false,
            reason: Some(reason),
            session_build_ms: 0.0,
            warmup_ms: 0.0,
            frames: 0,
            frames_per_s: 0.0,
            pipelined_frames_per_s: 0.0,
            floor_ms: 0.0,
            frame_ms: 0.0,
            floor_ratio: 0.0,
            stage_ms: BTreeMap::new(),
            model_ms: BTreeMap::new(),
            peak_rss_mb: 0.0,
        }
    }
}

/// The report for every provider, in the order asked.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub providers: Vec<ProviderReport>,
    /// With `--choose`: the provider each role runs fastest on, as `--ep` names it.
    pub chosen: BTreeMap<String, String>,
    pub input: String,
    pub width: u32,
    pub height: u32,
    pub detect_every: u32,
    pub onnxruntime_version: String,
}

/// The photo scaled to the frame size, shifted a few pixels per frame so tracking has work.
struct SyntheticSource {
    base: RgbImage,
    index: u64,
    frames: u64,
}

impl FrameSource for SyntheticSource {
    fn describe(&self) -> String {
        format!("synthetic {}×{}", self.base.width(), self.base.height())
    }

    fn next_frame(&mut self, _into: Option<RgbImage>) -> Result<Option<SourceFrame>, VideoError> {
        if self.index >= self.frames {
            return Ok(None);
        }
        let shift = ((self.index as f64 / 10.0).sin() * 6.0) as i64;
        let mut image = RgbImage::new(self.base.width(), self.base.height());
        image::imageops::overlay(&mut image, &self.base, shift, shift / 2);
        let pts = self.index as f64 / 30.0;
        self.index += 1;
        Ok(Some(SourceFrame { image, pts: Some(pts), timestamp: Some(self.index as i64 - 1) }))
    }

    fn pacing(&self) -> crate::video::Pacing {
        crate::video::Pacing::Unpaced
    }
}

/// Loads the frames once, so every provider sees the same pictures.
fn load_frames(config: &BenchConfig) -> Result<LoadedFrames, Error> {
    let (mut source, shape, path): (Box<dyn FrameSource>, StreamShape, Option<PathBuf>) = match &config.input {
        BenchInput::Video(path) => {
            let limits = crate::imaging::PictureLimits::default();
            let spec = SourceSpec::File { path: path.clone(), resolution: None, looping: true, limits };
            (spec.open()?, probe(path)?, Some(path.clone()))
        }
        BenchInput::Synthetic { width, height } => {
            let photo = load_rgb(&config.source_photo)?;
            let base = image::imageops::resize(&photo, *width, *height, image::imageops::FilterType::Triangle);
            let shape = StreamShape {
                width: *width,
                height: *height,
                time_base: ffmpeg_next::Rational(1, 30),
                frame_rate: Some(ffmpeg_next::Rational(30, 1)),
                frames: Some(config.frames as u64),
            };
            (Box::new(SyntheticSource { base, index: 0, frames: config.frames as u64 }), shape, None)
        }
    };
    let mut frames = Vec::with_capacity(config.frames);
    while frames.len() < config.frames {
        let started = Instant::now();
        let Some(frame) = source.next_frame(None)? else { break };
        frames.push(BenchFrame {
            image: frame.image,
            timestamp: frame.timestamp,
            decode_ms: started.elapsed().as_secs_f32() * 1000.0,
        });
    }
    Ok(LoadedFrames { frames, shape, video: path })
}

/// Runs the benchmark on each provider in turn.
///
/// # Errors
/// When the input cannot be read or the output cannot be written; a provider that fails is
/// reported as unavailable instead.
pub fn run(runtime: &OrtRuntime, providers: &[ExecutionProvider], config: &BenchConfig) -> Result<BenchReport, Error> {
    run_choosing(runtime, providers, config, false)
}

/// The roles `--choose` assigns a provider to: the models the pipeline runs.
pub const CHOSEN_ROLES: [ModelRole; 4] =
    [ModelRole::Detector, ModelRole::Landmarks, ModelRole::Embedder, ModelRole::Swapper];

/// [`run`], and with `choose` one more run with each model on the provider that ran it fastest
/// (its report's `ep` says the assignment as `--ep` takes it; `chosen` holds it by role).
///
/// # Errors
/// See [`run`].
pub fn run_choosing(
    runtime: &OrtRuntime,
    providers: &[ExecutionProvider],
    config: &BenchConfig,
    choose: bool,
) -> Result<BenchReport, Error> {
    let LoadedFrames { frames, shape, video } = load_frames(config)?;
    let mut reports = Vec::new();
    let mut factories: Vec<(ExecutionProvider, SessionFactory)> = Vec::new();
    for provider in providers {
        let choice = ProviderChoice { provider: provider.clone(), fallback_to_cpu: false };
        let factory = match SessionFactory::new(runtime.clone(), choice) {
            Ok(f) => match config.threads {
                Some(n) => f.with_intra_threads(n)?,
                None => f,
            },
            Err(e) => {
                reports.push(ProviderReport::unavailable(provider, e.to_string()));
                continue;
            }
        };
        let one = ModelFactories::new(factory.clone(), Vec::new());
        match run_provider(&one, provider.to_string(), config, &frames, &shape, video.as_deref()) {
            Ok(report) => {
                reports.push(report);
                factories.push((provider.clone(), factory));
            }
            Err(e) => reports.push(ProviderReport::unavailable(provider, e.to_string())),
        }
    }
    let mut chosen = BTreeMap::new();
    if choose && factories.len() > 1 {
        // Each model on the provider whose session ran it fastest.
        let measured: Vec<&ProviderReport> = reports.iter().filter(|r| r.available).collect();
        let mut by_role = Vec::new();
        for role in CHOSEN_ROLES {
            let key = role.to_string();
            let best = measured
                .iter()
                .zip(&factories)
                .filter_map(|(report, factory)| report.model_ms.get(&key).map(|ms| (*ms, factory)))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((_, (provider, factory))) = best {
                chosen.insert(key, provider.to_string());
                by_role.push((role, factory.clone()));
            }
        }
        let label = CHOSEN_ROLES
            .iter()
            .filter_map(|role| chosen.get(&role.to_string()).map(|p| format!("{role}={}", provider_flag(p))))
            .collect::<Vec<_>>()
            .join(",");
        let default = factories[0].1.clone();
        let mix = ModelFactories::new(default, by_role);
        match run_provider(&mix, format!("chosen: {label}"), config, &frames, &shape, video.as_deref()) {
            Ok(report) => reports.push(report),
            Err(e) => reports.push(ProviderReport {
                reason: Some(e.to_string()),
                ..ProviderReport::unavailable(&ExecutionProvider::Cpu, String::new())
            }),
        }
    }
    let input = match &config.input {
        BenchInput::Video(p) => p.display().to_string(),
        BenchInput::Synthetic { width, height } => format!("synthetic {width}x{height}"),
    };
    Ok(BenchReport {
        providers: reports,
        chosen: chosen.into_iter().map(|(role, p)| (role, provider_flag(&p).to_string())).collect(),
        input,
        width: shape.width,
        height: shape.height,
        detect_every: config.detect_every,
        onnxruntime_version: runtime.version().to_string(),
    })
}

fn millis(d: Duration) -> f32 {
    d.as_secs_f32() * 1000.0
}

/// `--ep`'s name of a provider (`openvino:CPU` → `openvino`).
fn provider_flag(shown: &str) -> &str {
    shown.split(':').next().unwrap_or(shown)
}

fn run_provider(
    factories: &ModelFactories,
    label: String,
    config: &BenchConfig,
    frames: &[BenchFrame],
    shape: &StreamShape,
    video: Option<&Path>,
) -> Result<ProviderReport, Error> {
    let build_started = Instant::now();
    let detector_config = DetectorConfig::scrfd().with_fit_to_frame(true);
    let f = factories;
    let role_factories =
        [f.for_role(ModelRole::Detector), f.for_role(ModelRole::Landmarks), f.for_role(ModelRole::Embedder)];
    let mut analyzer = FaceAnalyzer::build_each(role_factories, &config.models, detector_config.clone())?;
    let mut swapper =
        build_swapper(config.swapper, config.swapper_model.as_ref(), factories.for_role(ModelRole::Swapper))?;
    let session_build_ms = build_started.elapsed().as_secs_f64() * 1000.0;

    let source_photo = load_rgb(&config.source_photo)?;
    let warm_started = Instant::now();
    let what = config.source_photo.display().to_string();
    let source = Arc::new(SourceFace::largest_in(&source_photo, &mut analyzer, &what)?);
    let warmup_ms = warm_started.elapsed().as_secs_f64() * 1000.0;
    let model_ms = model_times(&mut analyzer, swapper.as_mut(), &source, frames)?;

    // Sequential: every step of one frame, then the next.
    let (detector, landmarker, _) = analyzer.into_parts();
    let tracker_config = TrackerConfig { detect_every: config.detect_every, ..TrackerConfig::default() };
    let (mut frame_detector, mut follower) = FaceTracker::new(detector, landmarker, None, tracker_config).into_stages();
    let out_dir = tempfile::tempdir().map_err(|e| VideoError::Write { path: PathBuf::from("."), source: e.into() })?;
    let out_path = out_dir.path().join("bench.mp4");
    let encoder = EncoderSettings { threads: Some(1), ..EncoderSettings::h264() };
    let mut writer = VideoWriter::create(&out_path, None, video, shape, &encoder, &[])?;
    let mut stage: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
    let mut floor_total = Duration::ZERO;
    let mut frame_total = Duration::ZERO;
    let selection = FaceSelection::Largest;
    for (index, BenchFrame { image, timestamp, decode_ms }) in frames.iter().enumerate() {
        let mut image = image.clone();
        let t = index as f64 / 30.0;
        let inference_before = frame_detector.inference_time() + follower.inference_time() + swapper.inference_time();
        let frame_started = Instant::now();

        let step = Instant::now();
        let detections = frame_detector.detect(&image, follower.is_tracking())?;
        stage.entry("detect").or_default().push(millis(step.elapsed()));

        let step = Instant::now();
        let faces = follower.update(&image, t, detections)?;
        stage.entry("landmarks").or_default().push(millis(step.elapsed()));

        let step = Instant::now();
        let swap_inference_before = swapper.inference_time();
        if let Ok(chosen) = selection.pick(&faces, "frame") {
            for i in chosen {
                swapper.swap(&mut image, &faces[i], &source)?;
            }
        }
        let swap_total = step.elapsed();
        let swap_inference = swapper.inference_time() - swap_inference_before;
        stage.entry("swap_inference").or_default().push(millis(swap_inference));
        stage.entry("paste_back").or_default().push(millis(swap_total.saturating_sub(swap_inference)));

        if config.encode {
            let step = Instant::now();
            writer.write(&image, *timestamp)?;
            stage.entry("encode").or_default().push(millis(step.elapsed()));
        }
        stage.entry("decode").or_default().push(*decode_ms);

        frame_total += frame_started.elapsed() + Duration::from_secs_f32(decode_ms / 1000.0);
        floor_total +=
            frame_detector.inference_time() + follower.inference_time() + swapper.inference_time() - inference_before;
    }
    writer.finish()?;
    let n = frames.len().max(1) as f64;
    let frame_ms = frame_total.as_secs_f64() * 1000.0 / n;
    let floor_ms = floor_total.as_secs_f64() * 1000.0 / n;

    // Pipelined: the same frames through the real pipeline, encoded as transcoding does.
    let pipelined = pipelined_fps(factories, config, source, frames, shape)?;

    let stage_ms =
        stage.into_iter().map(|(name, mut samples)| (name.to_string(), Percentiles::of(&mut samples))).collect();
    Ok(ProviderReport {
        ep: label,
        available: true,
        reason: None,
        session_build_ms,
        warmup_ms,
        frames: frames.len(),
        frames_per_s: if frame_ms > 0.0 { 1000.0 / frame_ms } else { 0.0 },
        pipelined_frames_per_s: pipelined,
        floor_ms,
        frame_ms,
        floor_ratio: if floor_ms > 0.0 { frame_ms / floor_ms } else { 0.0 },
        stage_ms,
        model_ms,
        peak_rss_mb: crate::health::peak_resident_mb(),
    })
}

/// Runs of each model alone, after one to warm it up.
const MODEL_RUNS: u32 = 20;

/// Each model's own time per run (its session's inference time over [`MODEL_RUNS`]), on the
/// first frame and its largest face; a frame with no face times the detector only.
fn model_times(
    analyzer: &mut FaceAnalyzer,
    swapper: &mut dyn crate::swap::Swapper,
    source: &SourceFace,
    frames: &[BenchFrame],
) -> Result<BTreeMap<String, f64>, Error> {
    let per_run = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(MODEL_RUNS);
    let mut times = BTreeMap::new();
    let Some(frame) = frames.first().map(|f| &f.image) else { return Ok(times) };
    let faces = analyzer.detector().detect(frame)?;
    let before = analyzer.detector().inference_time();
    for _ in 0..MODEL_RUNS {
        analyzer.detector().detect(frame)?;
    }
    times.insert(ModelRole::Detector.to_string(), per_run(analyzer.detector().inference_time() - before));
    let Some(largest) = crate::face::largest_face(&faces) else { return Ok(times) };
    let mut face = faces[largest].clone();
    analyzer.describe(frame, &mut face, crate::face::Analysis::FULL)?;
    let before = analyzer.landmarker().inference_time();
    for _ in 0..MODEL_RUNS {
        analyzer.landmarker().landmarks(frame, &face.bbox)?;
    }
    times.insert(ModelRole::Landmarks.to_string(), per_run(analyzer.landmarker().inference_time() - before));
    let before = analyzer.embedder().inference_time();
    for _ in 0..MODEL_RUNS {
        analyzer.embedder().embed(frame, &face.kps)?;
    }
    times.insert(ModelRole::Embedder.to_string(), per_run(analyzer.embedder().inference_time() - before));
    // A swapper without a model (the landmark swapper) has no time of its own to compare.
    let mut target = frame.clone();
    swapper.swap(&mut target, &face, source)?;
    let before = swapper.inference_time();
    if before > Duration::ZERO {
        for _ in 0..MODEL_RUNS {
            swapper.swap(&mut target, &face, source)?;
        }
        times.insert(ModelRole::Swapper.to_string(), per_run(swapper.inference_time() - before));
    }
    Ok(times)
}

/// Frames replayed from memory, unpaced, for the pipelined run.
struct ReplaySource {
    frames: Arc<Vec<BenchFrame>>,
    index: usize,
}

impl FrameSource for ReplaySource {
    fn describe(&self) -> String {
        "benchmark frames".into()
    }

    fn next_frame(&mut self, into: Option<RgbImage>) -> Result<Option<SourceFrame>, VideoError> {
        let Some(BenchFrame { image, timestamp, .. }) = self.frames.get(self.index) else { return Ok(None) };
        self.index += 1;
        let mut out = match into {
            Some(buffer) if buffer.dimensions() == image.dimensions() => buffer,
            _ => RgbImage::new(image.width(), image.height()),
        };
        out.copy_from_slice(image);
        Ok(Some(SourceFrame { image: out, pts: Some(self.index as f64 / 30.0), timestamp: *timestamp }))
    }

    fn pacing(&self) -> crate::video::Pacing {
        crate::video::Pacing::Unpaced
    }
}

fn pipelined_fps(
    factories: &ModelFactories,
    config: &BenchConfig,
    source: Arc<SourceFace>,
    frames: &[BenchFrame],
    shape: &StreamShape,
) -> Result<f64, Error> {
    let f = factories;
    let role_factories =
        [f.for_role(ModelRole::Detector), f.for_role(ModelRole::Landmarks), f.for_role(ModelRole::Embedder)];
    let analyzer =
        FaceAnalyzer::build_each(role_factories, &config.models, DetectorConfig::scrfd().with_fit_to_frame(true))?;
    let swapper = build_swapper(config.swapper, config.swapper_model.as_ref(), factories.for_role(ModelRole::Swapper))?;
    let (detector, landmarker, _) = analyzer.into_parts();
    let tracker_config = TrackerConfig { detect_every: config.detect_every, ..TrackerConfig::default() };
    let tracker = FaceTracker::new(detector, landmarker, None, tracker_config);
    let replay = Arc::new(frames.to_vec());
    let spec = SourceSpec::Custom(SourceOpener(Arc::new(move || {
        Ok(Box::new(ReplaySource { frames: replay.clone(), index: 0 }) as Box<dyn FrameSource>)
    })));
    let out_dir = tempfile::tempdir().map_err(|e| VideoError::Write { path: PathBuf::from("."), source: e.into() })?;
    let encoder = EncoderSettings { threads: Some(1), ..EncoderSettings::h264() };
    let mut writer = VideoWriter::create_video_only(&out_dir.path().join("pipelined.mp4"), shape, &encoder)?;
    let controls = Arc::new(Controls::default());
    let started = Instant::now();
    let models = StageModels {
        tracker,
        swapper,
        pixel_boost: None,
        enhancer: None,
        masker: None,
        sources: source.into(),
        watermarker: None,
    };
    let pipeline = Pipeline::start(spec, models, PipelineConfig::lossless(), controls.clone(), StageUpdates::none())?;
    let mut count = 0usize;
    while let Some(frame) = pipeline.frames().recv() {
        if config.encode {
            writer.write(&frame.image, frame.timestamp)?;
        }
        count += 1;
        pipeline.recycle(frame);
    }
    pipeline.finish(&controls)?;
    writer.finish()?;
    Ok(count as f64 / started.elapsed().as_secs_f64())
}
