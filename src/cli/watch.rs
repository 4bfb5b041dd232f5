//! Supervision of a video run: the watchdog wired to the running stages (for each model in
//! use, how to rebuild its session and which stage to send it to) and the health endpoint.

use std::{sync::Arc, time::Duration};

use anyhow::Result;
use crossbeam_channel::Sender;
use faceswap::{
    face::{ArcFaceEmbedder, DetectorConfig, Face, FaceModels, Landmarker106, ScrfdDetector},
    health::{HealthServer, HealthState, ModelHealth},
    models::{Fetcher, ModelStore, VerifiedModel, Watchdog, WatchdogHandle},
    pipeline::{StageUpdates, TrackUpdate},
    runtime::SessionFactory,
    swap::{InSwapper, Swapper},
};
use image::RgbImage;

use super::{engine::EngineArgs, video_swap::VideoSwap};

const STAGE_GONE: &str = "the stage has stopped";

/// What the swap stage needs to rebuild an inswapper: its file and the source face.
pub struct SwapperReload {
    pub model: VerifiedModel,
    pub source_picture: RgbImage,
    pub source_face: Face,
}

/// Starts the watchdog over the engine's models (and the inswapper file, when in use).
#[allow(clippy::too_many_arguments)]
fn start(
    store: ModelStore,
    fetcher: Fetcher,
    interval: Duration,
    health: Arc<HealthState>,
    factory: &SessionFactory,
    models: &FaceModels,
    swapper: Option<SwapperReload>,
    (detect_tx, track_tx, swap_tx): (Sender<ScrfdDetector>, Sender<TrackUpdate>, Sender<Box<dyn Swapper>>),
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

/// How a video run is supervised.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Supervision")]
pub struct SupervisionArgs {
    /// Recheck the model files every SECS seconds, repairing and reloading them (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub watch_interval: f64,
    /// Serve GET /health (JSON) on this address, e.g. 127.0.0.1:8787.
    #[arg(long, value_name = "ADDR")]
    pub health_addr: Option<std::net::SocketAddr>,
}

/// A running supervision: dropping it stops the watchdog and the endpoint.
pub struct Supervision {
    pub health: Arc<HealthState>,
    /// Where reloaded models reach the stages; hand to `Pipeline::start`.
    pub updates: StageUpdates,
    _watchdog: Option<WatchdogHandle>,
    _server: Option<HealthServer>,
}

/// Starts the watchdog (unless the interval is 0) and the health endpoint (when asked).
pub fn supervise(video: &VideoSwap, engine: &EngineArgs, args: &SupervisionArgs) -> Result<Supervision> {
    let factory = &video.factory;
    let health = Arc::new(HealthState::new(factory.runtime().version(), factory.provider().to_string()));
    let (detect_tx, detect) = crossbeam_channel::unbounded();
    let (track_tx, track) = crossbeam_channel::unbounded();
    let (swap_tx, swap) = crossbeam_channel::unbounded();
    let watchdog = if args.watch_interval > 0.0 {
        let reload = video.swapper_model.clone().map(|model| SwapperReload {
            model,
            source_picture: video.source_picture.clone(),
            source_face: video.source_face.clone(),
        });
        let interval = Duration::from_secs_f64(args.watch_interval);
        let senders = (detect_tx, track_tx, swap_tx);
        Some(start(
            video.store.clone(),
            engine.fetcher()?,
            interval,
            health.clone(),
            factory,
            &video.models,
            reload,
            senders,
        )?)
    } else {
        // Without a watchdog, the models verified at start are what health reports.
        let models = &video.models;
        for (model, role) in
            [(&models.detector, "detector"), (&models.landmarks, "landmarks"), (&models.embedder, "embedder")]
        {
            let file = model.path.display().to_string();
            health.set_model(
                &model.name,
                ModelHealth { role: role.into(), ready: true, valid: true, file, problem: None },
            );
        }
        None
    };
    let server = args.health_addr.map(|addr| HealthServer::start(addr, health.clone())).transpose()?;
    Ok(Supervision { health, updates: StageUpdates { detect, track, swap }, _watchdog: watchdog, _server: server })
}
