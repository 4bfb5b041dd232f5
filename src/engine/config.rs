//! What an engine is opened from: plain data (serde), filled by the CLI's flags, a server's
//! settings or a test, and checked when the engine opens.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{
    enhance::EnhancerKind,
    imaging::PictureLimits,
    models::ModelRole,
    runtime::{ExecutionProvider, ProviderChoice},
    swap::SwapperKind,
};

/// An execution provider by name; the device index is separate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    #[default]
    Cpu,
    Cuda,
    Tensorrt,
    Openvino,
}

impl ProviderName {
    /// The provider on GPU `device` (TensorRT in fp16), OpenVINO on its device `openvino`.
    pub fn on_device(self, device: i32, openvino: &str) -> ExecutionProvider {
        match self {
            Self::Cpu => ExecutionProvider::Cpu,
            Self::Cuda => ExecutionProvider::Cuda { device_id: device },
            Self::Tensorrt => ExecutionProvider::TensorRt { device_id: device, fp16: true },
            Self::Openvino => ExecutionProvider::OpenVino { device: openvino.to_string() },
        }
    }
}

impl std::str::FromStr for ProviderName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            "tensorrt" => Ok(Self::Tensorrt),
            "openvino" => Ok(Self::Openvino),
            other => Err(format!("unknown execution provider {other:?}: use cpu, cuda, tensorrt or openvino")),
        }
    }
}

impl std::fmt::Display for ProviderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
            Self::Tensorrt => "tensorrt",
            Self::Openvino => "openvino",
        })
    }
}

/// Everything an [`crate::engine::Engine`] is built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// The folder holding the model files.
    pub models_dir: PathBuf,
    pub provider: ProviderName,
    /// GPU index for CUDA and TensorRT.
    pub device: i32,
    /// OpenVINO's device (`CPU`, `GPU`, `NPU`, …).
    pub openvino_device: String,
    /// Models whose provider is not `provider`'s, by role.
    pub role_providers: Vec<(ModelRole, ProviderName)>,
    /// Run on CPU, with a warning, when the provider cannot be used (off: asking for a GPU and
    /// quietly getting the CPU is the surprise this guards against).
    pub provider_fallback: bool,
    /// The ONNX Runtime library (file or folder); else `ORT_DYLIB_PATH`, else the default folder.
    pub ort_library: Option<PathBuf>,
    /// A detector file to run instead of the manifest's (loaded, not hash-checked).
    pub detector_model: Option<PathBuf>,
    /// The swapper the engine prepares at start (its model verified and watched).
    pub swapper: SwapperKind,
    /// An inswapper file to run instead of the manifest's (loaded, not hash-checked).
    pub swapper_model: Option<PathBuf>,
    /// A file to run as this enhancer instead of the manifest's (loaded, not hash-checked).
    pub enhancer_model: Option<(EnhancerKind, PathBuf)>,
    /// An occluder (XSeg interface) to run instead of the manifest's (not hash-checked).
    pub occluder_model: Option<PathBuf>,
    /// A face parser (BiSeNet interface) to run instead of the manifest's (not hash-checked).
    pub parser_model: Option<PathBuf>,
    /// Base URLs tried before the manifest's when a model is fetched or repaired.
    pub mirrors: Vec<String>,
    /// Threads per model (default: ONNX Runtime's, one per core).
    pub threads: Option<usize>,
    /// How large a picture may be.
    pub limits: PictureLimits,
    /// The marks every output gets (a signed manifest, a watermark) and who signs.
    pub provenance: super::ProvenanceConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            models_dir: crate::paths::default_models_dir(),
            provider: ProviderName::Cpu,
            device: 0,
            openvino_device: "CPU".to_string(),
            role_providers: Vec::new(),
            provider_fallback: false,
            ort_library: None,
            detector_model: None,
            swapper: SwapperKind::Landmark,
            swapper_model: None,
            enhancer_model: None,
            occluder_model: None,
            parser_model: None,
            mirrors: Vec::new(),
            threads: None,
            limits: PictureLimits::default(),
            provenance: super::ProvenanceConfig::default(),
        }
    }
}

impl EngineConfig {
    /// The provider and whether it may fall back to CPU.
    pub fn provider_choice(&self) -> ProviderChoice {
        self.choice_of(self.provider)
    }

    /// The provider models of `role` run on, and whether it may fall back to CPU.
    pub fn provider_choice_for(&self, role: ModelRole) -> ProviderChoice {
        let name = self.role_providers.iter().find(|(r, _)| *r == role).map_or(self.provider, |(_, p)| *p);
        self.choice_of(name)
    }

    fn choice_of(&self, name: ProviderName) -> ProviderChoice {
        ProviderChoice {
            provider: name.on_device(self.device, &self.openvino_device),
            fallback_to_cpu: self.provider_fallback,
        }
    }
}
