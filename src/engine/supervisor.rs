//! Supervision for any set of running consumers (pipeline stages, server workers): the health
//! state, and the watchdog that revalidates the model files in use, repairs them, and builds a
//! fresh session for every consumer, handed over as a message the consumer picks up between two
//! frames or requests. No lock on any hot path: a consumer owns its sessions.

use std::{
    sync::{Arc, Mutex, PoisonError, Weak},
    time::Duration,
};

use crossbeam_channel::Sender;

use super::watchdog::{Watchdog, WatchdogHandle};

use crate::{
    enhance::{EnhancerKind, FaceEnhancer},
    face::{ArcFaceEmbedder, DetectorConfig, Landmarker106, ScrfdDetector},
    health::{HealthState, ModelHealth},
    mask::{FaceParser, MaskModel, Occluder},
    models::{Fetcher, ModelRole, ModelStore, VerifiedModel},
    pipeline::{StageUpdates, TrackUpdate},
    runtime::{RuntimeError, SessionFactory},
    swap::{InSwapper, Swapper},
    Error,
};

/// A session rebuilt on a repaired (or changed) model file, for one consumer.
pub enum ReloadedModel {
    Detector(ScrfdDetector),
    Landmarks(Landmarker106),
    Embedder(ArcFaceEmbedder),
    Swapper(Box<dyn Swapper>),
    Enhancer(FaceEnhancer),
    Mask(MaskModel),
}

/// Hands a reloaded model to its consumer; false once the consumer has gone.
pub type Deliver = Box<dyn Fn(ReloadedModel) -> bool + Send>;

struct Consumer {
    id: u64,
    /// How this consumer's detector is shaped (video fits it to the frame, pictures do not).
    detector: DetectorConfig,
    deliver: Deliver,
}

#[derive(Default)]
struct Consumers {
    next_id: u64,
    list: Vec<Consumer>,
}

type SharedConsumers = Arc<Mutex<Consumers>>;

fn lock(consumers: &Mutex<Consumers>) -> std::sync::MutexGuard<'_, Consumers> {
    consumers.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Keeps a consumer registered; dropping it unregisters.
pub struct ConsumerHandle {
    consumers: Weak<Mutex<Consumers>>,
    id: u64,
}

impl Drop for ConsumerHandle {
    fn drop(&mut self) {
        if let Some(consumers) = self.consumers.upgrade() {
            lock(&consumers).list.retain(|c| c.id != self.id);
        }
    }
}

/// The watchdog and health of one engine, for every consumer of its models.
pub struct Supervisor {
    health: Arc<HealthState>,
    consumers: SharedConsumers,
    watchdog: Mutex<Option<WatchdogHandle>>,
}

impl Supervisor {
    /// Supervision over `models` (each marked loaded and valid: they were just verified).
    pub(crate) fn new(health: HealthState, models: &[(VerifiedModel, ModelRole)]) -> Self {
        for (model, role) in models {
            health.set_model(
                &model.name,
                ModelHealth {
                    role: *role,
                    ready: true,
                    valid: true,
                    file: model.path.display().to_string(),
                    problem: None,
                },
            );
        }
        Self { health: Arc::new(health), consumers: SharedConsumers::default(), watchdog: Mutex::new(None) }
    }

    /// The health state, for reports and endpoints.
    pub fn health(&self) -> &Arc<HealthState> {
        &self.health
    }

    /// Registers a consumer: from now on every reloaded model is built for it (its detector
    /// shaped by `detector`) and handed to `deliver`.
    pub fn register(&self, detector: DetectorConfig, deliver: Deliver) -> ConsumerHandle {
        let mut consumers = lock(&self.consumers);
        consumers.next_id += 1;
        let id = consumers.next_id;
        consumers.list.push(Consumer { id, detector, deliver });
        ConsumerHandle { consumers: Arc::downgrade(&self.consumers), id }
    }

    /// Registers a pipeline: reloaded models reach its detect, track and swap stages.
    pub fn register_pipeline(&self) -> (StageUpdates, ConsumerHandle) {
        let (detect_tx, detect) = crossbeam_channel::unbounded();
        let (track_tx, track) = crossbeam_channel::unbounded::<TrackUpdate>();
        let (swap_tx, swap) = crossbeam_channel::unbounded();
        let (enhance_tx, enhance) = crossbeam_channel::unbounded();
        let (mask_tx, masks) = crossbeam_channel::unbounded();
        let deliver: Deliver = Box::new(move |model| match model {
            ReloadedModel::Detector(d) => detect_tx.send(d).is_ok(),
            ReloadedModel::Landmarks(l) => track_tx.send(TrackUpdate::Landmarker(l)).is_ok(),
            ReloadedModel::Embedder(e) => track_tx.send(TrackUpdate::Embedder(e)).is_ok(),
            ReloadedModel::Swapper(s) => swap_tx.send(s).is_ok(),
            ReloadedModel::Enhancer(e) => enhance_tx.send(e).is_ok(),
            ReloadedModel::Mask(m) => mask_tx.send(m).is_ok(),
        });
        let handle = self.register(DetectorConfig::scrfd().with_fit_to_frame(true), deliver);
        (StageUpdates { detect, track, swap, enhance, masks }, handle)
    }

    /// Registers a consumer that takes every reloaded model on one channel (a server worker).
    pub fn register_channel(&self, detector: DetectorConfig, to: Sender<ReloadedModel>) -> ConsumerHandle {
        self.register(detector, Box::new(move |model| to.send(model).is_ok()))
    }

    /// Starts the watchdog over `models`, checking every `interval` and repairing with `fetcher`;
    /// a running watchdog is replaced.
    ///
    /// # Errors
    /// When its thread cannot be started.
    pub(crate) fn start_watchdog(
        &self,
        models: Vec<(VerifiedModel, ModelRole)>,
        store: ModelStore,
        fetcher: Fetcher,
        factories: &super::ModelFactories,
        interval: Duration,
    ) -> std::io::Result<()> {
        // Its own cancel flag: stopping this watchdog cancels its downloads, nobody else's.
        let mut watchdog = Watchdog::new(store, Some(fetcher.with_own_cancel()), interval, self.health.clone());
        for (model, role) in models {
            let (factory, consumers) = (factories.for_role(role).clone(), self.consumers.clone());
            watchdog.watch(model, role, Box::new(move |m| reload(role, m, &factory, &consumers)));
        }
        let handle = watchdog.spawn()?;
        *self.watchdog.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        Ok(())
    }

    /// Stops the watchdog (joining its thread).
    pub fn stop_watchdog(&self) {
        drop(self.watchdog.lock().unwrap_or_else(PoisonError::into_inner).take());
    }
}

/// Builds a session on `model` for every consumer and hands it over; consumers that have gone
/// are dropped. With no consumer, the file is still loaded once, so health says whether it can be.
fn reload(
    role: ModelRole,
    model: &VerifiedModel,
    factory: &SessionFactory,
    consumers: &Mutex<Consumers>,
) -> Result<(), String> {
    let mut consumers = lock(consumers);
    if consumers.list.is_empty() {
        return factory.build(&model.path, &model.name).map(drop).map_err(|e| e.to_string());
    }
    let mut failure = None;
    consumers.list.retain(|consumer| match build(role, model, factory, &consumer.detector) {
        Ok(session) => (consumer.deliver)(session),
        Err(e) => {
            failure = Some(e.to_string());
            true
        }
    });
    failure.map_or(Ok(()), Err)
}

fn build(
    role: ModelRole,
    model: &VerifiedModel,
    factory: &SessionFactory,
    detector: &DetectorConfig,
) -> Result<ReloadedModel, Error> {
    Ok(match role {
        ModelRole::Detector => ReloadedModel::Detector(detector.clone().build(factory, model)?),
        ModelRole::Landmarks => ReloadedModel::Landmarks(Landmarker106::build(factory, model)?),
        ModelRole::Embedder => ReloadedModel::Embedder(ArcFaceEmbedder::build(factory, model)?),
        ModelRole::Swapper => ReloadedModel::Swapper(Box::new(InSwapper::build(factory, model)?)),
        // The engine names an enhancer's watched file after its kind (see Engine::enhancer).
        ModelRole::Enhancer => {
            let kind = model.name.parse::<EnhancerKind>().map_err(|_| RuntimeError::Interface {
                model: model.name.clone(),
                detail: "an enhancer file the watchdog cannot tell the kind of".to_string(),
            })?;
            ReloadedModel::Enhancer(FaceEnhancer::build(factory, model, kind)?)
        }
        ModelRole::Occluder => ReloadedModel::Mask(MaskModel::Occluder(Occluder::build(factory, model)?)),
        ModelRole::Parser => ReloadedModel::Mask(MaskModel::Parser(FaceParser::build(factory, model)?)),
        // The watermark's sessions are built per output from files verified then, not watched.
        ModelRole::Watermark => {
            return Err(RuntimeError::Interface {
                model: model.name.clone(),
                detail: "the watermark models are verified per output, not reloaded by the watchdog".to_string(),
            }
            .into())
        }
    })
}
