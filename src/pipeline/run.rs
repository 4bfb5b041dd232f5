//! Starting the stages, and stopping them: named threads, joined in order, each returning a
//! `Result` so that no failure is lost.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
};

use super::{
    controls::Counters, link, stages, Controls, FaceTracker, Frame, FrameCounts, LinkReceiver, PipelineError, Policy,
    TrackUpdate,
};
use crate::{
    enhance::{EnhanceSettings, FaceEnhancer},
    face::{FaceSelection, ScrfdDetector},
    mask::{FaceMasker, MaskModel},
    provenance::{LiveWatermarker, Watermarker},
    swap::{MouthMask, Sources, Swapper},
    video::{FramePool, Pacing, SourceSpec},
};

/// How to run the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub policy: Policy,
    /// Capacity of each link between stages.
    pub queue_depth: usize,
    /// Which faces of each frame to swap.
    pub selection: FaceSelection,
    /// Overrides the source's own pacing (e.g. [`Pacing::Unpaced`] for transcoding).
    pub pacing: Option<Pacing>,
    /// Stop the source after this many frames.
    pub max_frames: Option<u64>,
    /// The mouth mask's shape (on from the start when given; live toggles it with
    /// [`Controls::toggle_mouth_mask`]).
    pub mouth_mask: Option<MouthMask>,
}

impl PipelineConfig {
    /// Live viewing: stale frames are dropped, queues are short.
    pub fn live() -> Self {
        Self {
            policy: Policy::Live,
            queue_depth: 2,
            selection: FaceSelection::Largest,
            pacing: None,
            max_frames: None,
            mouth_mask: None,
        }
    }

    /// Transcoding: every frame is kept, as fast as the stages go.
    pub fn lossless() -> Self {
        Self {
            policy: Policy::Lossless,
            queue_depth: 4,
            selection: FaceSelection::Largest,
            pacing: Some(Pacing::Unpaced),
            max_frames: None,
            mouth_mask: None,
        }
    }
}

/// What the stages run: the tracker's models, the swapper (and its pixel boost, kept on a
/// reloaded one), the face enhancer when there is one, and the source face.
pub struct StageModels {
    pub tracker: FaceTracker,
    pub swapper: Box<dyn Swapper>,
    pub pixel_boost: Option<u32>,
    pub enhancer: Option<(FaceEnhancer, EnhanceSettings)>,
    /// The occlusion and region masks around each swap, when asked for.
    pub masker: Option<FaceMasker>,
    pub sources: Sources,
    /// The invisible watermark on every frame, last, when provenance asks for it.
    pub watermarker: Option<Watermarker>,
}

/// Where the watchdog's rebuilt models reach the stages that own them; each stage picks its
/// updates up between two frames.
pub struct StageUpdates {
    pub detect: crossbeam_channel::Receiver<ScrfdDetector>,
    pub track: crossbeam_channel::Receiver<TrackUpdate>,
    pub swap: crossbeam_channel::Receiver<Box<dyn Swapper>>,
    pub enhance: crossbeam_channel::Receiver<FaceEnhancer>,
    pub masks: crossbeam_channel::Receiver<MaskModel>,
}

impl StageUpdates {
    /// No updates ever (no watchdog).
    pub fn none() -> Self {
        Self {
            detect: crossbeam_channel::never(),
            track: crossbeam_channel::never(),
            swap: crossbeam_channel::never(),
            enhance: crossbeam_channel::never(),
            masks: crossbeam_channel::never(),
        }
    }
}

/// The stages, running; the caller is the sink.
pub struct RunningPipeline {
    frames: LinkReceiver<Frame>,
    handles: Vec<StageHandle>,
    counters: Arc<Counters>,
    pool: FramePool,
    source: String,
}

/// A stage's thread, by name.
type StageHandle = (&'static str, JoinHandle<Result<(), PipelineError>>);

/// Entry point: [`Pipeline::start`].
pub struct Pipeline;

fn spawn(
    stage: &'static str,
    body: impl FnOnce() -> Result<(), PipelineError> + Send + 'static,
) -> Result<StageHandle, PipelineError> {
    std::thread::Builder::new()
        .name(format!("fs-{stage}"))
        .spawn(body)
        .map(|handle| (stage, handle))
        .map_err(|source| PipelineError::Spawn { stage, source })
}

impl Pipeline {
    /// Opens the source (on its own thread) and starts the source, detect and swap stages.
    ///
    /// # Errors
    /// The source's error when it cannot be opened, or a thread that cannot be started.
    pub fn start(
        source: SourceSpec,
        models: StageModels,
        config: PipelineConfig,
        controls: Arc<Controls>,
        updates: StageUpdates,
    ) -> Result<RunningPipeline, PipelineError> {
        let StageUpdates {
            detect: detect_updates,
            track: track_updates,
            swap: swap_updates,
            enhance: enhance_updates,
            masks: mask_updates,
        } = updates;
        let StageModels { tracker, swapper, pixel_boost, enhancer, masker, sources, watermarker } = models;
        let (detector, follower) = tracker.into_stages();
        let tracking = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let pool = FramePool::new(config.queue_depth * 3 + 4);
        let depth = config.queue_depth;
        let (captured_tx, captured_rx) = link(config.policy, depth, counters.dropped.clone());
        let (detected_tx, detected_rx) = link(config.policy, depth, counters.dropped.clone());
        let (tracked_tx, tracked_rx) = link(config.policy, depth, counters.dropped.clone());
        let (swapped_tx, swapped_rx) = link(config.policy, depth, counters.dropped.clone());
        let (opened_tx, opened_rx) = crossbeam_channel::bounded(1);

        let mut handles = Vec::new();
        {
            let (controls, counters, pool) = (controls.clone(), counters.clone(), pool.clone());
            let (pacing, max_frames) = (config.pacing, config.max_frames);
            handles.push(spawn("source", move || {
                stages::source(source, pacing, max_frames, &captured_tx, &controls, &counters, &pool, opened_tx)
            })?);
        }
        // Wait for the source to open, so that a missing camera or file is reported right away.
        let description = match opened_rx.recv() {
            Ok(Ok(description)) => description,
            Ok(Err(e)) => {
                for (_, handle) in handles {
                    let _ = handle.join();
                }
                return Err(e.into());
            }
            Err(_) => return Err(PipelineError::Panicked { stage: "source" }),
        };
        {
            let (counters, pool, tracking) = (counters.clone(), pool.clone(), tracking.clone());
            handles.push(spawn("detect", move || {
                let links = (&captured_rx, &detected_tx);
                stages::detect(detector, links, &tracking, &counters, &pool, &detect_updates);
                Ok(())
            })?);
        }
        {
            let (counters, pool) = (counters.clone(), pool.clone());
            handles.push(spawn("track", move || {
                let links = (&detected_rx, &tracked_tx);
                stages::track(follower, links, &tracking, &counters, &pool, &track_updates);
                Ok(())
            })?);
        }
        // With an enhancer, the swap stage hands its frames to the enhance stage, which becomes
        // the pipeline's end.
        let (enhance_links, frames) = match enhancer {
            Some(enhancer) => {
                let (enhanced_tx, enhanced_rx) = link(config.policy, depth, counters.dropped.clone());
                (Some((enhancer, swapped_rx, enhanced_tx)), enhanced_rx)
            }
            None => (None, swapped_rx),
        };
        // The watermark goes on last, over what the viewer sees.
        let watermarker = match (watermarker, config.policy) {
            (Some(marker), Policy::Live) => Some(stages::FrameMarker::Background(
                LiveWatermarker::start(marker).map_err(|source| PipelineError::Spawn { stage: "watermark", source })?,
            )),
            (Some(marker), Policy::Lossless) => Some(stages::FrameMarker::InLine(marker)),
            (None, _) => None,
        };
        let (watermark_links, frames) = match watermarker {
            Some(marker) => {
                let (marked_tx, marked_rx) = link(config.policy, depth, counters.dropped.clone());
                (Some((marker, frames, marked_tx)), marked_rx)
            }
            None => (None, frames),
        };
        {
            if config.mouth_mask.is_some() {
                controls.set_mouth_mask(true);
            }
            let mouth = config.mouth_mask.unwrap_or_default();
            let (controls, counters, pool, selection) =
                (controls.clone(), counters.clone(), pool.clone(), config.selection);
            handles.push(spawn("swap", move || {
                stages::swap(
                    (swapper, pixel_boost, &sources, mouth, masker),
                    selection,
                    (&tracked_rx, &swapped_tx),
                    &controls,
                    &counters,
                    &pool,
                    (&swap_updates, &mask_updates),
                );
                Ok(())
            })?);
        }
        if let Some(((enhancer, settings), swapped_rx, enhanced_tx)) = enhance_links {
            let (counters, pool) = (counters.clone(), pool.clone());
            handles.push(spawn("enhance", move || {
                stages::enhance((enhancer, settings), (&swapped_rx, &enhanced_tx), &counters, &pool, &enhance_updates);
                Ok(())
            })?);
        }
        if let Some((marker, unmarked_rx, marked_tx)) = watermark_links {
            let (counters, pool) = (counters.clone(), pool.clone());
            handles.push(spawn("watermark", move || {
                stages::watermark(marker, (&unmarked_rx, &marked_tx), &counters, &pool);
                Ok(())
            })?);
        }
        Ok(RunningPipeline { frames, handles, counters, pool, source: description })
    }
}

impl RunningPipeline {
    /// The swapped frames, in order; ends when the source ends or is stopped.
    pub fn frames(&self) -> &LinkReceiver<Frame> {
        &self.frames
    }

    /// Hands a finished frame's buffer back to the source.
    pub fn recycle(&self, frame: Frame) {
        self.pool.give(frame.image);
    }

    /// What the source is.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Damaged input packets skipped so far (known once the source has ended).
    pub fn bad_packets(&self) -> u64 {
        self.counters.bad_packets.load(Ordering::Relaxed)
    }

    /// Frames captured, dropped and failed so far.
    pub fn counts(&self) -> FrameCounts {
        self.counters.frames()
    }

    /// Stops the stages and joins them, source first in line: dropping the sink's end makes
    /// every stage's next send fail, so none blocks; the first stage error is returned.
    ///
    /// # Errors
    /// The source's error (a camera unplugged mid-run) or a stage that panicked.
    pub fn finish(self, controls: &Controls) -> Result<FrameCounts, PipelineError> {
        controls.stop();
        let Self { frames, handles, counters, .. } = self;
        drop(frames);
        let mut first_error = None;
        for (stage, handle) in handles {
            let outcome = handle.join().unwrap_or(Err(PipelineError::Panicked { stage }));
            if let Err(e) = outcome {
                tracing::error!(stage, error = %e, "stage failed");
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(counters.frames()),
        }
    }
}
