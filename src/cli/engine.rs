//! The options every command that runs models shares: where models and ONNX Runtime are, and
//! which execution provider runs them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use faceswap::{
    face::{DetectorConfig, FaceAnalyzer, FaceModels},
    models::{FetchConfig, Fetcher, ModelStore, DEFAULT_MODELS_DIR},
    runtime::{ExecutionProvider, OrtRuntime, ProviderChoice, SessionFactory},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ep {
    Cpu,
    Cuda,
    Tensorrt,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Engine")]
pub struct EngineArgs {
    /// Folder holding the model files.
    #[arg(long, global = true, env = "FACESWAP_MODELS_DIR", default_value = DEFAULT_MODELS_DIR)]
    pub models_dir: PathBuf,
    /// Execution provider. Asking for one that is not available is an error (see --ep-fallback).
    #[arg(long, global = true, value_enum, default_value_t = Ep::Cpu)]
    pub ep: Ep,
    /// GPU index for --ep cuda or tensorrt.
    #[arg(long, global = true, default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..))]
    pub device: i32,
    /// When the chosen provider fails, warn and run on CPU instead of stopping.
    #[arg(long, global = true)]
    pub ep_fallback: bool,
    /// The ONNX Runtime library (file or folder); else ORT_DYLIB_PATH, else .cache/onnxruntime.
    #[arg(long, global = true, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Run this detector file instead of the manifest's (checked for loading, not for a hash).
    #[arg(long, global = true, value_name = "PATH")]
    pub detector_model: Option<PathBuf>,
    /// Fetch models from BASE_URL/FILE_NAME before the manifest's URLs (repairs and `models fetch`).
    #[arg(long, global = true, value_name = "BASE_URL", env = "FACESWAP_MODEL_MIRROR")]
    pub mirror: Option<String>,
    /// Threads per model (default: one per core).
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

impl EngineArgs {
    pub fn provider(&self) -> ExecutionProvider {
        match self.ep {
            Ep::Cpu => ExecutionProvider::Cpu,
            Ep::Cuda => ExecutionProvider::Cuda { device_id: self.device },
            Ep::Tensorrt => ExecutionProvider::TensorRt { device_id: self.device, fp16: true },
        }
    }

    /// Loads ONNX Runtime and makes the session factory for the chosen provider.
    pub fn factory(&self) -> Result<SessionFactory> {
        let runtime = OrtRuntime::load(self.ort_lib.as_deref())?;
        let choice = ProviderChoice { provider: self.provider(), fallback_to_cpu: self.ep_fallback };
        let factory = SessionFactory::new(runtime, choice)?;
        Ok(match self.threads {
            Some(n) => factory.with_intra_threads(usize::from(n)),
            None => factory,
        })
    }

    pub fn store(&self) -> Result<ModelStore> {
        Ok(ModelStore::open(&self.models_dir)?)
    }

    /// Downloads from the mirror, then the manifest's URLs.
    pub fn fetcher(&self) -> Result<Fetcher> {
        let config = FetchConfig { mirrors: self.mirror.iter().cloned().collect(), ..FetchConfig::default() };
        Ok(Fetcher::new(config)?)
    }

    /// The default pack, verified — and repaired when a file is damaged and can be fetched —
    /// with the user's detector file if one was named.
    pub fn face_models(&self) -> Result<FaceModels> {
        let store = self.store()?;
        let mut models = FaceModels::ensure_default_pack(&store, Some(&self.fetcher()?))?;
        if let Some(path) = &self.detector_model {
            models.detector = ModelStore::unpinned(path).context("--detector-model")?;
        }
        Ok(models)
    }

    /// Builds the face engine.
    pub fn analyzer(&self, factory: &SessionFactory) -> Result<FaceAnalyzer> {
        Ok(FaceAnalyzer::build(factory, &self.face_models()?, DetectorConfig::scrfd())?)
    }

    /// Builds the face engine on models already verified, for video: the detector's input is
    /// shaped like the frames instead of padded to a square.
    pub fn video_analyzer(factory: &SessionFactory, models: &FaceModels) -> Result<FaceAnalyzer> {
        Ok(FaceAnalyzer::build(factory, models, DetectorConfig::scrfd().with_fit_to_frame(true))?)
    }
}

/// `path` as given, for messages.
pub fn shown(path: &Path) -> String {
    path.display().to_string()
}
