//! The model files an engine runs, found and verified once: the default pack (repaired when a
//! file is damaged and can be fetched), the user's detector, and the swapper's file.

use std::path::Path;

use super::EngineConfig;
use crate::{
    face::FaceModels,
    models::{FetchConfig, Fetcher, ModelError, ModelRole, ModelStore, VerifiedModel},
    swap::SwapperKind,
};

/// The manifest's inswapper files, in the order tried: fp32 as insightface ships it, then the
/// fp16 export when only that one is there.
const INSWAPPER_FILES: [&str; 2] = ["inswapper_128", "inswapper_128_fp16"];

/// The store, the fetcher and the verified files of an engine.
#[derive(Debug, Clone)]
pub struct EngineModels {
    pub store: ModelStore,
    pub fetcher: Fetcher,
    pub faces: FaceModels,
    /// The configured swapper's file (none for the landmark swapper).
    pub swapper: Option<VerifiedModel>,
}

impl EngineModels {
    /// Verifies (and repairs where it can) every file `config` needs.
    ///
    /// # Errors
    /// The first model that is missing or damaged and could not be repaired.
    pub fn prepare(config: &EngineConfig) -> Result<Self, ModelError> {
        let store = ModelStore::open(&config.models_dir)?;
        let fetcher = Fetcher::new(FetchConfig { mirrors: config.mirrors.clone(), ..FetchConfig::default() })?;
        let mut faces = FaceModels::ensure_default_pack(&store, Some(&fetcher))?;
        if let Some(path) = &config.detector_model {
            faces.detector = ModelStore::unpinned(path)?;
        }
        let swapper = swapper_model(&store, config.swapper, config.swapper_model.as_deref())?;
        Ok(Self { store, fetcher, faces, swapper })
    }

    /// Every verified file with the role it plays, for supervision.
    pub fn in_use(&self) -> Vec<(VerifiedModel, ModelRole)> {
        let mut models = vec![
            (self.faces.detector.clone(), ModelRole::Detector),
            (self.faces.landmarks.clone(), ModelRole::Landmarks),
            (self.faces.embedder.clone(), ModelRole::Embedder),
        ];
        models.extend(self.swapper.clone().map(|m| (m, ModelRole::Swapper)));
        models
    }
}

/// The file a swapper of `kind` runs: `explicit` when given, else the manifest's.
///
/// # Errors
/// The verification error of the first manifest file when none is present and valid.
pub fn swapper_model(
    store: &ModelStore,
    kind: SwapperKind,
    explicit: Option<&Path>,
) -> Result<Option<VerifiedModel>, ModelError> {
    match (kind, explicit) {
        (SwapperKind::Landmark, _) => Ok(None),
        (SwapperKind::Inswapper, Some(path)) => ModelStore::unpinned(path).map(Some),
        (SwapperKind::Inswapper, None) => {
            let [first, fallback] = INSWAPPER_FILES;
            store.verify(first).or_else(|e| store.verify(fallback).map_err(|_| e)).map(Some)
        }
    }
}
