//! Video through the engine: the staged pipeline built on the engine's models, with the source
//! face, the target selection and the tracker settings, and registered with the supervisor so
//! that repaired models reach its stages between two frames.

use std::{ops::Deref, sync::Arc};

use image::RgbImage;

use super::{ConsumerHandle, Engine};
use crate::{
    enhance::EnhanceSettings,
    face::FaceSelection,
    mask::MaskSettings,
    pipeline::{
        Controls, FaceTracker, FrameCounts, Pipeline, PipelineConfig, PipelineError, RunningPipeline, StageModels,
        TrackerConfig,
    },
    swap::{SourceFace, Sources, SwapperKind},
    video::SourceSpec,
    Result,
};

/// What to put on which faces, and how to follow them.
#[derive(Debug, Clone)]
pub struct VideoSwap {
    /// One source for the faces `selection` picks, or a map by identity (every face then
    /// taken, each given its person's source).
    pub sources: Sources,
    pub selection: FaceSelection,
    pub swapper: SwapperKind,
    pub tracker: TrackerConfig,
    /// Inswapper's aligned crop side (pixel boost); none for the model's own.
    pub pixel_boost: Option<u32>,
    /// The face enhancer, as a stage of its own after the swap.
    pub enhancer: Option<EnhanceSettings>,
    /// The occlusion and region masks around each swap.
    pub masks: MaskSettings,
}

/// A running pipeline, registered for model reloads as long as it runs.
pub struct EnginePipeline {
    running: RunningPipeline,
    _registration: ConsumerHandle,
}

impl Deref for EnginePipeline {
    type Target = RunningPipeline;

    fn deref(&self) -> &RunningPipeline {
        &self.running
    }
}

impl EnginePipeline {
    /// Stops and joins the stages; see [`RunningPipeline::finish`].
    ///
    /// # Errors
    /// The first stage error.
    pub fn finish(self, controls: &Controls) -> Result<FrameCounts, PipelineError> {
        self.running.finish(controls)
    }
}

impl Engine {
    /// The source face of a picture (face `face`, else its largest), analysed once for every
    /// frame.
    ///
    /// # Errors
    /// When the picture has no face (or not that one), or a model fails.
    pub fn source_face(&self, picture: &RgbImage, what: &str, face: Option<usize>) -> Result<SourceFace> {
        self.with_analysis(|worker| worker.source_face(picture, what, face))
    }

    /// The selection that picks the face most like the largest face of `reference`.
    ///
    /// # Errors
    /// When the reference has no face, or a model fails.
    pub fn most_like(&self, reference: &RgbImage, what: &str) -> Result<FaceSelection> {
        self.with_analysis(|worker| worker.most_like(reference, what))
    }

    /// Builds the stages' models and starts the pipeline on `source`.
    ///
    /// # Errors
    /// When a session cannot be built, the swapper's file is missing, or the source cannot be
    /// opened.
    pub fn start_pipeline(
        &self,
        source: SourceSpec,
        swap: VideoSwap,
        config: PipelineConfig,
        controls: Arc<Controls>,
    ) -> Result<EnginePipeline> {
        let embeddings = matches!(swap.selection, FaceSelection::MostLike(_)) || swap.sources.needs_identity();
        let tracker_config = TrackerConfig { embeddings, ..swap.tracker };
        let (detector, landmarker, embedder) = self.video_analyzer()?.into_parts();
        let tracker = FaceTracker::new(detector, landmarker, embeddings.then_some(embedder), tracker_config);
        let mut swapper = self.swapper(swap.swapper)?;
        swapper.set_pixel_boost(swap.pixel_boost)?;
        let enhancer = match swap.enhancer {
            Some(settings) => Some((self.enhancer(settings.kind)?, settings)),
            None => None,
        };
        let masker = self.masker(swap.masks)?;
        let selection = if swap.sources.needs_identity() { FaceSelection::All } else { swap.selection };
        let watermarker = self.watermarker(crate::provenance::Cadence::VIDEO)?;
        let models = StageModels {
            tracker,
            swapper,
            pixel_boost: swap.pixel_boost,
            enhancer,
            masker,
            sources: swap.sources,
            watermarker,
        };
        let (updates, registration) = self.supervisor().register_pipeline();
        let config = PipelineConfig { selection, ..config };
        let running = Pipeline::start(source, models, config, controls, updates)?;
        Ok(EnginePipeline { running, _registration: registration })
    }
}
