//! The engine, assembled once from an [`EngineConfig`]: ONNX Runtime and the session factory,
//! the verified model files, the supervisor (health and watchdog). Every front-end (the CLI, the
//! HTTP service, tests, benches) opens one and asks it for what it needs: workers for pictures,
//! pipelines for video.

mod config;
mod factories;
mod models;
mod people;
mod pool;
mod provenance;
mod supervisor;
mod video;
mod watchdog;
mod worker;

use std::{
    collections::HashMap,
    path::Path,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use image::RgbImage;

pub use config::{EngineConfig, ProviderName};
pub use factories::ModelFactories;
pub use models::{swapper_model, EngineModels};
pub use pool::EnginePool;
pub use provenance::{Provenance, ProvenanceConfig, WATERMARK_DECODER, WATERMARK_ENCODER};
pub use supervisor::{ConsumerHandle, Deliver, ReloadedModel, Supervisor};
pub use video::{EnginePipeline, VideoSwap};
pub use watchdog::{Rebuild, Watchdog, WatchdogHandle};
pub use worker::{EngineWorker, FaceChoice, SwappedPicture};

use crate::{
    enhance::{EnhancerKind, FaceEnhancer},
    face::{DetectorConfig, FaceAnalyzer, FaceModels},
    health::{HealthReport, HealthState, ModelHealth},
    imaging::{decode_picture, decode_rgb, load_picture_within, load_rgb_within, Picture, PictureLimits},
    mask::{FaceMasker, FaceParser, MaskSettings, Occluder},
    models::{Fetcher, ModelRole, ModelStore, VerifiedModel, DEFAULT_PACK},
    runtime::{OrtRuntime, SessionFactory},
    swap::{build_swapper, Swapper, SwapperKind},
    Error, Result,
};

/// A face-swap engine: runtime, models and supervision, shared by every consumer.
pub struct Engine {
    config: EngineConfig,
    factories: ModelFactories,
    models: EngineModels,
    /// Swapper files verified on first use (the configured swapper's at open).
    swapper_files: Mutex<HashMap<SwapperKind, Option<VerifiedModel>>>,
    /// Enhancer files verified on first use, watched from then on.
    enhancer_files: Mutex<HashMap<EnhancerKind, VerifiedModel>>,
    /// The occluder's and the parser's files, verified on first use, watched from then on.
    mask_files: Mutex<HashMap<ModelRole, VerifiedModel>>,
    supervisor: Supervisor,
    /// The marks every output gets.
    provenance: Provenance,
    /// The sessions behind [`Engine::source_face`] and [`Engine::most_like`]: built on first
    /// use and kept, not built anew for every call.
    analysis: Mutex<Option<EngineWorker>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Loads ONNX Runtime and makes the session factory `config` asks for.
///
/// # Errors
/// When the library cannot be found or loaded, or the provider is not available.
pub fn session_factory(config: &EngineConfig) -> Result<SessionFactory> {
    let runtime = OrtRuntime::load(config.ort_library.as_deref())?;
    factory_on(runtime, config.provider_choice(), config.threads)
}

fn factory_on(
    runtime: OrtRuntime,
    choice: crate::runtime::ProviderChoice,
    threads: Option<usize>,
) -> Result<SessionFactory> {
    let factory = SessionFactory::new(runtime, choice)?;
    Ok(match threads {
        Some(n) => factory.with_intra_threads(n)?,
        None => factory,
    })
}

/// The default factory `config` asks for and one for each role given its own provider.
///
/// # Errors
/// See [`session_factory`]; a role's provider that is not available.
pub fn model_factories(config: &EngineConfig) -> Result<ModelFactories> {
    let default = session_factory(config)?;
    let mut by_role = Vec::new();
    for &(role, _) in &config.role_providers {
        let factory = factory_on(default.runtime().clone(), config.provider_choice_for(role), config.threads)?;
        by_role.push((role, factory));
    }
    Ok(ModelFactories::new(default, by_role))
}

impl Engine {
    /// Loads the runtime and verifies (repairing where it can) every model the configuration
    /// needs. No session is built yet: workers and pipelines build their own.
    ///
    /// # Errors
    /// The runtime's or the first model's error.
    pub fn open(config: EngineConfig) -> Result<Self> {
        let factories = model_factories(&config)?;
        let factory = factories.default_factory();
        let models = EngineModels::prepare(&config)?;
        let health = HealthState::new(factory.runtime().version(), factory.provider().to_string());
        health.set_role_providers(factories.providers());
        let supervisor = Supervisor::new(health, &models.in_use());
        let mut swapper_files = HashMap::from([(config.swapper, models.swapper.clone())]);
        if let Some(path) = &config.swapper_model {
            // The operator's inswapper file is for every request that asks for inswapper,
            // whichever swapper is the default: proven to be one (its interface, its emap) now,
            // not at the first request.
            let file = crate::models::ModelStore::unpinned(path)?;
            drop(build_swapper(SwapperKind::Inswapper, Some(&file), factories.for_role(ModelRole::Swapper))?);
            swapper_files.insert(SwapperKind::Inswapper, Some(file));
        }
        let swapper_files = Mutex::new(swapper_files);
        let provenance = Provenance::open(&config.provenance, &models.store)?;
        Ok(Self {
            config,
            factories,
            models,
            swapper_files,
            enhancer_files: Mutex::new(HashMap::new()),
            mask_files: Mutex::new(HashMap::new()),
            supervisor,
            provenance,
            analysis: Mutex::new(None),
        })
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The marks outputs get, the identity that signs them, the watermark.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// A watermarker for pictures or frames (`cadence`), when the watermark is on.
    ///
    /// # Errors
    /// When its session cannot be built.
    pub fn watermarker(&self, cadence: crate::provenance::Cadence) -> Result<Option<crate::provenance::Watermarker>> {
        self.provenance.watermarker(self.factories.for_role(ModelRole::Watermark), cadence)
    }

    /// The session factory of models not given a provider of their own (runtime and provider).
    pub fn factory(&self) -> &SessionFactory {
        self.factories.default_factory()
    }

    /// Every role's session factory.
    pub fn factories(&self) -> &ModelFactories {
        &self.factories
    }

    /// The model folder.
    pub fn store(&self) -> &ModelStore {
        &self.models.store
    }

    /// Where models are fetched from.
    pub fn fetcher(&self) -> &Fetcher {
        &self.models.fetcher
    }

    /// The verified face-analysis files.
    pub fn face_models(&self) -> &FaceModels {
        &self.models.faces
    }

    /// Health and model reloads.
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// Starts the watchdog over every model file the engine verified: checked every `interval`,
    /// repaired, and reloaded into every registered consumer.
    ///
    /// # Errors
    /// When the watchdog's thread cannot be started.
    pub fn watch_models(&self, interval: Duration) -> std::io::Result<()> {
        let mut in_use = self.models.in_use();
        // A swapper file verified after start (a request for the other swapper) is watched too.
        let files = self.swapper_files.lock().unwrap_or_else(PoisonError::into_inner);
        for model in files.values().flatten() {
            if !in_use.iter().any(|(m, _)| m.path == model.path) {
                in_use.push((model.clone(), crate::models::ModelRole::Swapper));
            }
        }
        drop(files);
        let enhancers = self.enhancer_files.lock().unwrap_or_else(PoisonError::into_inner);
        for model in enhancers.values() {
            if !in_use.iter().any(|(m, _)| m.path == model.path) {
                in_use.push((model.clone(), crate::models::ModelRole::Enhancer));
            }
        }
        drop(enhancers);
        let masks = self.mask_files.lock().unwrap_or_else(PoisonError::into_inner);
        for (role, model) in masks.iter() {
            if !in_use.iter().any(|(m, _)| m.path == model.path) {
                in_use.push((model.clone(), *role));
            }
        }
        drop(masks);
        self.supervisor.start_watchdog(in_use, self.store().clone(), self.fetcher().clone(), &self.factories, interval)
    }

    /// How large a picture may be.
    pub fn limits(&self) -> PictureLimits {
        self.config.limits
    }

    /// Reads a picture file within the engine's limits.
    ///
    /// # Errors
    /// The picture's error (missing, not a picture, truncated, too large), naming the file.
    pub fn load_picture(&self, path: &Path) -> Result<RgbImage> {
        Ok(load_rgb_within(path, self.config.limits)?)
    }

    /// Reads a picture file within the engine's limits, with its alpha channel.
    ///
    /// # Errors
    /// See [`Engine::load_picture`].
    pub fn load_full_picture(&self, path: &Path) -> Result<Picture> {
        Ok(load_picture_within(path, self.config.limits)?)
    }

    /// Decodes a picture held in memory within the engine's limits, with its alpha channel.
    ///
    /// # Errors
    /// See [`Engine::load_picture`].
    pub fn decode_full_picture(&self, bytes: &[u8], what: &str) -> Result<Picture> {
        Ok(decode_picture(bytes, what, self.config.limits)?)
    }

    /// Decodes a picture held in memory within the engine's limits; `what` names it in errors.
    ///
    /// # Errors
    /// See [`Engine::load_picture`].
    pub fn decode_picture(&self, bytes: &[u8], what: &str) -> Result<RgbImage> {
        Ok(decode_rgb(bytes, what, self.config.limits)?)
    }

    /// A face analyser for pictures (the detector's input padded to a square, as insightface).
    ///
    /// # Errors
    /// When a session cannot be built.
    pub fn analyzer(&self) -> Result<FaceAnalyzer> {
        Ok(self.analyzer_with(DetectorConfig::scrfd())?)
    }

    /// A face analyser for video frames (the detector's input shaped like the frame).
    ///
    /// # Errors
    /// When a session cannot be built.
    pub fn video_analyzer(&self) -> Result<FaceAnalyzer> {
        let config = DetectorConfig::scrfd().with_fit_to_frame(true);
        Ok(self.analyzer_with(config)?)
    }

    fn analyzer_with(&self, detector: DetectorConfig) -> Result<FaceAnalyzer, crate::face::FaceError> {
        let f = &self.factories;
        FaceAnalyzer::build_each(
            [f.for_role(ModelRole::Detector), f.for_role(ModelRole::Landmarks), f.for_role(ModelRole::Embedder)],
            &self.models.faces,
            detector,
        )
    }

    /// The file a swapper of `kind` runs, verified on first use and remembered.
    ///
    /// # Errors
    /// When the swapper needs a file and none is present and valid.
    pub fn swapper_file(&self, kind: SwapperKind) -> Result<Option<VerifiedModel>> {
        let mut files = self.swapper_files.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = files.get(&kind) {
            return Ok(file.clone());
        }
        let explicit = self.config.swapper_model.as_deref().filter(|_| kind == SwapperKind::Inswapper);
        let file = swapper_model(self.store(), kind, explicit)?;
        files.insert(kind, file.clone());
        Ok(file)
    }

    /// A new swapper of `kind`, with its own session.
    ///
    /// # Errors
    /// When its file is missing or damaged, or its session cannot be built.
    pub fn swapper(&self, kind: SwapperKind) -> Result<Box<dyn Swapper>> {
        let file = self.swapper_file(kind)?;
        Ok(build_swapper(kind, file.as_ref(), self.factories.for_role(ModelRole::Swapper))?)
    }

    /// The file the enhancer `kind` runs: the configured `enhancer_model`, else the manifest's
    /// (present and valid; `faceswap models fetch NAME` brings it).
    ///
    /// # Errors
    /// When the file is missing or damaged.
    pub fn enhancer_file(&self, kind: EnhancerKind) -> Result<VerifiedModel> {
        let mut files = self.enhancer_files.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = files.get(&kind) {
            return Ok(file.clone());
        }
        let file = match &self.config.enhancer_model {
            // Named after the kind it runs as, so that a reload builds the same kind.
            Some((for_kind, path)) if *for_kind == kind => {
                VerifiedModel { name: kind.name().to_string(), ..crate::models::ModelStore::unpinned(path)? }
            }
            _ => self.store().verify(kind.name())?,
        };
        files.insert(kind, file.clone());
        Ok(file)
    }

    /// A new face enhancer of `kind`, with its own session.
    ///
    /// # Errors
    /// When its file is missing or damaged, or its session cannot be built.
    pub fn enhancer(&self, kind: EnhancerKind) -> Result<FaceEnhancer> {
        let file = self.enhancer_file(kind)?;
        Ok(FaceEnhancer::build(self.factories.for_role(ModelRole::Enhancer), &file, kind)?)
    }

    /// The file of the occluder or the parser (`role`): the configured one, else the manifest's.
    fn mask_file(&self, role: ModelRole) -> Result<VerifiedModel> {
        let mut files = self.mask_files.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = files.get(&role) {
            return Ok(file.clone());
        }
        let (explicit, name) = match role {
            ModelRole::Occluder => (&self.config.occluder_model, crate::mask::DEFAULT_OCCLUDER),
            _ => (&self.config.parser_model, crate::mask::DEFAULT_PARSER),
        };
        let file = match explicit {
            Some(path) => crate::models::ModelStore::unpinned(path)?,
            None => self.store().verify(name)?,
        };
        files.insert(role, file.clone());
        Ok(file)
    }

    /// The masks `settings` ask for, with their models' sessions; none when none is asked.
    ///
    /// # Errors
    /// When a mask model is missing or damaged, or its session cannot be built.
    pub fn masker(&self, settings: MaskSettings) -> Result<Option<FaceMasker>> {
        if !settings.is_on() {
            return Ok(None);
        }
        let occluder = match settings.occlusion {
            true => Some(Occluder::build(
                self.factories.for_role(ModelRole::Occluder),
                &self.mask_file(ModelRole::Occluder)?,
            )?),
            false => None,
        };
        let parser = match settings.regions {
            Some(_) => Some(FaceParser::build(
                self.factories.for_role(ModelRole::Parser),
                &self.mask_file(ModelRole::Parser)?,
            )?),
            None => None,
        };
        Ok(Some(FaceMasker::new(settings, occluder, parser)))
    }

    /// Runs `work` on the engine's own analysis worker (built on first use). Callers take turns;
    /// a service's requests go to its pool of workers instead.
    ///
    /// # Errors
    /// When the worker's sessions cannot be built; `work`'s own error.
    pub fn with_analysis<T>(&self, work: impl FnOnce(&mut EngineWorker) -> Result<T>) -> Result<T> {
        let mut slot = self.analysis.lock().unwrap_or_else(PoisonError::into_inner);
        let worker = match slot.as_mut() {
            Some(worker) => worker,
            None => slot.insert(EngineWorker::analysis_only(self)?),
        };
        work(worker)
    }

    /// A worker for pictures: its own sessions, registered for model reloads.
    ///
    /// # Errors
    /// When a session cannot be built.
    pub fn worker(&self) -> Result<EngineWorker> {
        EngineWorker::new(self)
    }
}

/// Checks ONNX Runtime and every model (the default pack, and any other model present): size,
/// sha256, and that a session loads. Never repairs.
///
/// # Errors
/// Only when ONNX Runtime itself cannot be loaded or the provider is unavailable; model problems
/// are in the report.
pub fn check_models(config: &EngineConfig) -> Result<HealthReport> {
    let factories = model_factories(config)?;
    let factory = factories.default_factory();
    let store = ModelStore::open(&config.models_dir)?;
    let state = HealthState::new(factory.runtime().version(), factory.provider().to_string());
    state.set_role_providers(factories.providers());
    for entry in &store.manifest().models {
        let path = store.path_of(entry);
        // The default pack must be there; other models count only when present.
        if entry.pack != DEFAULT_PACK && !path.exists() {
            continue;
        }
        let verified = store.verify(&entry.name);
        let problem = match &verified {
            Ok(model) => factories.for_role(entry.role).build(&model.path, &model.name).err().map(|e| e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        let model = ModelHealth {
            role: entry.role,
            ready: problem.is_none(),
            valid: verified.is_ok(),
            file: path.display().to_string(),
            problem,
        };
        state.set_model(&entry.name, model);
    }
    Ok(state.report())
}

/// Checks one model file: size and sha256 against the manifest, then that a session loads.
///
/// # Errors
/// The first check that fails.
pub fn verify_model(store: &ModelStore, factory: &SessionFactory, name: &str) -> Result<VerifiedModel, Error> {
    let model = store.verify(name)?;
    factory.build(&model.path, &model.name)?;
    Ok(model)
}
