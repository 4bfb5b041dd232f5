//! The bodies of the stage threads. A failure on one frame is logged, counted, and the frame
//! goes on unswapped; only the source can end the stream.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender};

use super::{
    controls::Counters, Controls, Frame, FrameDetector, LinkReceiver, LinkSender, StageTimes, TrackFollower,
    TrackUpdate,
};
use crate::{
    enhance::{EnhanceSettings, FaceEnhancer},
    face::{FaceSelection, ScrfdDetector},
    mask::{FaceMasker, MaskModel},
    provenance::{LiveWatermarker, Watermarker},
    swap::{MouthKeeper, MouthMask, Sources, Swapper},
    video::{FramePool, Pacing, SourceSpec, VideoError},
};

fn millis(since: Instant) -> f32 {
    since.elapsed().as_secs_f32() * 1000.0
}

/// Counts one stage's failed frames, into its own tally and the pipeline's, and logs the
/// first and then every hundredth, so a broken model cannot flood the log at 30 frames a second.
struct StageFailures<'c> {
    stage: &'static str,
    count: u64,
    counters: &'c Counters,
}

impl<'c> StageFailures<'c> {
    fn new(stage: &'static str, counters: &'c Counters) -> Self {
        Self { stage, count: 0, counters }
    }

    fn record(&mut self, error: &dyn std::fmt::Display) {
        self.count += 1;
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        if self.count == 1 || self.count.is_multiple_of(100) {
            tracing::warn!(stage = self.stage, failures = self.count, error = %error, "frame passed on unswapped");
        }
    }
}

/// Hands `frame` to the next stage (a frame evicted under the live policy goes back to the
/// pool); false once the next stage has gone.
fn pass_on(out: &LinkSender<Frame>, frame: Frame, pool: &FramePool) -> bool {
    out.send_or_evict(frame, |old| pool.give(old.image)).is_ok()
}

/// Sleeps until `deadline` in short steps, returning early when asked to stop.
fn sleep_until(deadline: Instant, controls: &Controls) {
    while !controls.is_stopped() {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn source(
    spec: SourceSpec,
    pacing: Option<Pacing>,
    max_frames: Option<u64>,
    out: &LinkSender<Frame>,
    controls: &Controls,
    counters: &Counters,
    pool: &FramePool,
    opened: Sender<Result<String, VideoError>>,
) -> Result<(), super::PipelineError> {
    let mut source = match spec.open() {
        Ok(source) => {
            let _ = opened.send(Ok(source.describe()));
            source
        }
        Err(e) => {
            let _ = opened.send(Err(e));
            return Ok(());
        }
    };
    let pacing = pacing.unwrap_or_else(|| source.pacing());
    let started = Instant::now();
    let mut first_pts = None;
    let mut seq = 0u64;
    while !controls.is_stopped() && max_frames.is_none_or(|max| seq < max) {
        let decode_started = Instant::now();
        let Some(next) = source.next_frame(pool.take())? else {
            break;
        };
        let capture_ms = millis(decode_started);
        match pacing {
            Pacing::Timestamps => {
                if let Some(pts) = next.pts {
                    let first = *first_pts.get_or_insert(pts);
                    sleep_until(started + Duration::from_secs_f64((pts - first).max(0.0)), controls);
                }
            }
            Pacing::Rate(fps) => sleep_until(started + Duration::from_secs_f64(seq as f64 / fps), controls),
            Pacing::Own | Pacing::Unpaced => {}
        }
        let frame = Frame {
            seq,
            captured: Instant::now(),
            pts: next.pts,
            timestamp: next.timestamp,
            detections: None,
            image: next.image,
            faces: Vec::new(),
            swapped: 0,
            swapped_faces: 0,
            times: StageTimes { capture: capture_ms, ..StageTimes::default() },
        };
        seq += 1;
        counters.captured.fetch_add(1, Ordering::Relaxed);
        if !pass_on(out, frame, pool) {
            break;
        }
    }
    counters.bad_packets.store(source.bad_packets(), Ordering::Relaxed);
    Ok(())
}

/// Runs the detector on the frames that are due; `tracking` says whether the track stage
/// follows any face (while it does not, every frame is a detection frame).
pub(super) fn detect(
    mut detector: FrameDetector,
    (input, out): (&LinkReceiver<Frame>, &LinkSender<Frame>),
    tracking: &AtomicBool,
    counters: &Counters,
    pool: &FramePool,
    updates: &Receiver<ScrfdDetector>,
) {
    let mut failures = StageFailures::new("detect", counters);
    for mut frame in input {
        for update in updates.try_iter() {
            detector.replace(update);
            tracing::info!("detect stage switched to a reloaded model");
        }
        let stage_started = Instant::now();
        match detector.detect(&frame.image, tracking.load(Ordering::Acquire)) {
            Ok(detections) => frame.detections = detections,
            Err(e) => {
                failures.record(&e);
            }
        }
        frame.times.detect = millis(stage_started);
        if !pass_on(out, frame, pool) {
            break;
        }
    }
}

/// Follows the faces: matches the detections, moves the tracks with their landmarks.
pub(super) fn track(
    mut follower: TrackFollower,
    (input, out): (&LinkReceiver<Frame>, &LinkSender<Frame>),
    tracking: &AtomicBool,
    counters: &Counters,
    pool: &FramePool,
    updates: &Receiver<TrackUpdate>,
) {
    let started = Instant::now();
    let mut failures = StageFailures::new("track", counters);
    for mut frame in input {
        for update in updates.try_iter() {
            follower.apply(update);
            tracing::info!("track stage switched to a reloaded model");
        }
        let stage_started = Instant::now();
        let t = frame.pts.unwrap_or_else(|| frame.captured.duration_since(started).as_secs_f64());
        match follower.update(&frame.image, t, frame.detections.take()) {
            Ok(faces) => frame.faces = faces,
            Err(e) => {
                failures.record(&e);
            }
        }
        tracking.store(follower.is_tracking(), Ordering::Release);
        frame.times.track = millis(stage_started);
        if !pass_on(out, frame, pool) {
            break;
        }
    }
}

#[allow(clippy::type_complexity)]
pub(super) fn swap(
    (mut swapper, pixel_boost, sources, mouth, mut masker): (
        Box<dyn Swapper>,
        Option<u32>,
        &Sources,
        MouthMask,
        Option<FaceMasker>,
    ),
    selection: FaceSelection,
    (input, out): (&LinkReceiver<Frame>, &LinkSender<Frame>),
    controls: &Controls,
    counters: &Counters,
    pool: &FramePool,
    (updates, mask_updates): (&Receiver<Box<dyn Swapper>>, &Receiver<MaskModel>),
) {
    let mut failures = StageFailures::new("swap", counters);
    let mut keeper = MouthKeeper::default();
    for mut frame in input {
        for update in updates.try_iter() {
            // A reloaded model of another swapper (the engine watches every file it verified)
            // is not this stage's business.
            if update.kind() == swapper.kind() {
                swapper = update;
                if let Err(e) = swapper.set_pixel_boost(pixel_boost) {
                    tracing::warn!(error = %e, "the reloaded swapper refused the pixel boost");
                }
                tracing::info!("swap stage switched to a reloaded model");
            }
        }
        for update in mask_updates.try_iter() {
            if let Some(masker) = masker.as_mut() {
                masker.replace(update);
            }
        }
        let stage_started = Instant::now();
        if controls.is_swapping() && !frame.faces.is_empty() {
            // Selection only fails on an empty list or a face index past the end: nothing to do.
            let chosen = if controls.is_all_faces() { &FaceSelection::All } else { &selection }
                .pick(&frame.faces, "frame")
                .unwrap_or_default();
            let Frame { image, faces, swapped, swapped_faces, .. } = &mut frame;
            let mouth_mask = controls.is_mouth_mask_on();
            swapper.set_mouth_kept(mouth_mask);
            for i in chosen {
                // A map gives each face the source of its person; a face of nobody mapped stays.
                let Some(source) = sources.for_face(&faces[i]) else { continue };
                if mouth_mask {
                    keeper.save(image, &faces[i], mouth);
                }
                if let Some(masker) = masker.as_mut() {
                    if let Err(e) = masker.before(image, &faces[i]) {
                        failures.record(&e);
                    }
                }
                match swapper.swap(image, &faces[i], source) {
                    Ok(()) => {
                        *swapped += 1;
                        if i < 64 {
                            *swapped_faces |= 1 << i;
                        }
                    }
                    Err(e) => {
                        failures.record(&e);
                    }
                }
                if let Some(masker) = masker.as_mut() {
                    if let Err(e) = masker.after(image) {
                        failures.record(&e);
                    }
                }
                keeper.restore(image);
            }
        }
        frame.times.swap = millis(stage_started);
        if !pass_on(out, frame, pool) {
            break;
        }
    }
}

/// The face enhancer over the faces the swap stage replaced, after it, on their own five points.
pub(super) fn enhance(
    (mut enhancer, settings): (FaceEnhancer, EnhanceSettings),
    (input, out): (&LinkReceiver<Frame>, &LinkSender<Frame>),
    counters: &Counters,
    pool: &FramePool,
    updates: &Receiver<FaceEnhancer>,
) {
    let mut failures = StageFailures::new("enhance", counters);
    for mut frame in input {
        for update in updates.try_iter() {
            if update.kind() == enhancer.kind() {
                enhancer = update;
                tracing::info!("enhance stage switched to a reloaded model");
            }
        }
        let stage_started = Instant::now();
        let Frame { image, faces, swapped_faces, .. } = &mut frame;
        for (i, face) in faces.iter().enumerate().take(64) {
            if *swapped_faces & (1 << i) != 0 {
                if let Err(e) = enhancer.enhance(image, &face.kps, &settings) {
                    failures.record(&e);
                }
            }
        }
        frame.times.enhance = millis(stage_started);
        if !pass_on(out, frame, pool) {
            break;
        }
    }
}

/// How the watermark stage marks: in line (files: every residual made on its own frames, the
/// same on every run) or with the encoder in the background (live: the stage never waits).
pub(super) enum FrameMarker {
    InLine(Watermarker),
    Background(LiveWatermarker),
}

/// The invisible watermark on every frame, swapped or not (a frame without a face is still
/// part of the edited video).
pub(super) fn watermark(
    mut marker: FrameMarker,
    (input, out): (&LinkReceiver<Frame>, &LinkSender<Frame>),
    counters: &Counters,
    pool: &FramePool,
) {
    let mut failures = StageFailures::new("watermark", counters);
    for mut frame in input {
        let stage_started = Instant::now();
        let marked = match &mut marker {
            FrameMarker::InLine(m) => m.mark(&mut frame.image),
            FrameMarker::Background(m) => m.mark(&mut frame.image),
        };
        if let Err(e) = marked {
            failures.record(&e);
        }
        frame.times.watermark = millis(stage_started);
        if !pass_on(out, frame, pool) {
            break;
        }
    }
}
