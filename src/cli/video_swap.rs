//! What `live` and `transcode` share before their pipelines start: the engine, the swapper set
//! to the source face, the choice of target faces, and the tracker.

use std::path::Path;

use anyhow::{Context, Result};
use faceswap::{
    face::{largest_face, Face, FaceModels, FaceSelection},
    imaging::load_rgb,
    models::{ModelStore, VerifiedModel},
    pipeline::{FaceTracker, TrackerConfig},
    runtime::SessionFactory,
    swap::Swapper,
};
use image::RgbImage;

use super::{
    engine::{shown, EngineArgs},
    swap::{selection_from, SwapperArgs, TargetFaces},
};

/// Everything a video command needs to start its pipeline.
pub struct VideoSwap {
    pub factory: SessionFactory,
    pub store: ModelStore,
    pub models: FaceModels,
    pub swapper: Box<dyn Swapper>,
    /// The swapper's model file, for the watchdog (none for the landmark swapper).
    pub swapper_model: Option<VerifiedModel>,
    pub source_picture: RgbImage,
    pub source_face: Face,
    pub selection: FaceSelection,
    pub tracker: FaceTracker,
}

/// Loads the source photo and the models, sets the swapper's source, builds the tracker.
pub fn prepare(
    engine: &EngineArgs,
    swapper_args: &SwapperArgs,
    faces: &TargetFaces,
    source: &Path,
    tracker: TrackerConfig,
) -> Result<VideoSwap> {
    let source_picture = load_rgb(source)?;
    let factory = engine.factory()?;
    let store = engine.store()?;
    let (mut swapper, swapper_model) = swapper_args.build(&store, &factory)?;
    let models = engine.face_models()?;
    let mut analyzer = EngineArgs::video_analyzer(&factory, &models)?;
    let mut needs = swapper.source_needs();
    needs.embedding |= faces.wants_reference();
    let sources = analyzer.analyze(&source_picture, needs)?;
    let source_face = largest_face(&sources).map(|i| sources[i].clone()).with_context(|| {
        format!("no face found in the source {}: use a photo with a clear, frontal face", shown(source))
    })?;
    swapper.set_source(&source_picture, &source_face)?;
    let selection = selection_from(faces, &mut analyzer)?;
    let (detector, landmarker, embedder) = analyzer.into_parts();
    let config = TrackerConfig { embeddings: faces.wants_reference(), ..tracker };
    let tracker = FaceTracker::new(detector, landmarker, config.embeddings.then_some(embedder), config);
    Ok(VideoSwap { factory, store, models, swapper, swapper_model, source_picture, source_face, selection, tracker })
}
