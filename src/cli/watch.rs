//! Wiring the watchdog to the running stages: for each model in use, how to rebuild its
//! session and which stage to send it to.

use std::{sync::Arc, time::Duration};

use anyhow::Result;
use crossbeam_channel::Sender;
use faceswap::{
    face::{ArcFaceEmbedder, DetectorConfig, Face, FaceModels, Landmarker106, ScrfdDetector},
    health::HealthState,
    models::{Fetcher, ModelStore, VerifiedModel, Watchdog, WatchdogHandle},
    pipeline::TrackUpdate,
    runtime::SessionFactory,
    swap::{InSwapper, Swapper},
};
use image::RgbImage;

const STAGE_GONE: &str = "the stage has stopped";

/// What the swap stage needs to rebuild an inswapper: its file and the source face.
pub struct SwapperReload {
    pub model: VerifiedModel,
    pub source_picture: RgbImage,
    pub source_face: Face,
}

/// Starts the watchdog over the engine's models (and the inswapper file, when in use).
#[allow(clippy::too_many_arguments)]
pub fn start(
    store: ModelStore,
    fetcher: Fetcher,
    interval: Duration,
    health: Arc<HealthState>,
    factory: &SessionFactory,
    models: &FaceModels,
    swapper: Option<SwapperReload>,
    detect_tx: Sender<ScrfdDetector>,
    track_tx: Sender<TrackUpdate>,
    swap_tx: Sender<Box<dyn Swapper>>,
) -> Result<WatchdogHandle> {
    let mut watchdog = Watchdog::new(store, Some(fetcher), interval, health);
    {
        let (factory, tx) = (factory.clone(), detect_tx);
        watchdog.watch(
            models.detector.clone(),
            "detector",
            Box::new(move |m| {
                let config = DetectorConfig::scrfd().with_fit_to_frame(true);
                let detector = config.build(&factory, m).map_err(|e| e.to_string())?;
                tx.send(detector).map_err(|_| STAGE_GONE.to_string())
            }),
        );
    }
    {
        let (factory, tx) = (factory.clone(), track_tx.clone());
        watchdog.watch(
            models.landmarks.clone(),
            "landmarks",
            Box::new(move |m| {
                let landmarker = Landmarker106::build(&factory, m).map_err(|e| e.to_string())?;
                tx.send(TrackUpdate::Landmarker(landmarker)).map_err(|_| STAGE_GONE.to_string())
            }),
        );
    }
    {
        let (factory, tx) = (factory.clone(), track_tx);
        watchdog.watch(
            models.embedder.clone(),
            "embedder",
            Box::new(move |m| {
                let embedder = ArcFaceEmbedder::build(&factory, m).map_err(|e| e.to_string())?;
                tx.send(TrackUpdate::Embedder(embedder)).map_err(|_| STAGE_GONE.to_string())
            }),
        );
    }
    if let Some(reload) = swapper {
        let factory = factory.clone();
        let SwapperReload { model, source_picture, source_face } = reload;
        watchdog.watch(
            model,
            "swapper",
            Box::new(move |m| {
                let mut swapper = InSwapper::build(&factory, m).map_err(|e| e.to_string())?;
                swapper.set_source(&source_picture, &source_face).map_err(|e| e.to_string())?;
                swap_tx.send(Box::new(swapper)).map_err(|_| STAGE_GONE.to_string())
            }),
        );
    }
    Ok(watchdog.spawn()?)
}
