//! Execution providers: which one the user asked for, and whether a failure may fall back to CPU.

use std::fmt;

use ort::ep::{self, ExecutionProvider as _};

use super::RuntimeError;

/// Where TensorRT keeps the engines it builds, relative to the working directory.
pub const TENSORRT_CACHE_DIR: &str = ".cache/tensorrt";

/// An execution provider ONNX Runtime can run a model on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionProvider {
    Cpu,
    Cuda {
        device_id: i32,
    },
    TensorRt {
        device_id: i32,
        fp16: bool,
    },
    /// Intel's OpenVINO on `device` (`CPU`, `GPU`, `GPU.1`, `NPU`, `HETERO:…`: OpenVINO's own
    /// names, passed through).
    OpenVino {
        device: String,
    },
}

impl ExecutionProvider {
    /// ONNX Runtime's name for the provider (`CUDAExecutionProvider`, …).
    pub fn ort_name(&self) -> &'static str {
        match self {
            Self::Cpu => "CPUExecutionProvider",
            Self::Cuda { .. } => "CUDAExecutionProvider",
            Self::TensorRt { .. } => "TensorrtExecutionProvider",
            Self::OpenVino { .. } => "OpenVINOExecutionProvider",
        }
    }

    /// Whether the loaded ONNX Runtime library was built with this provider.
    ///
    /// # Errors
    /// [`RuntimeError::ProviderUnavailable`] when ONNX Runtime cannot list its providers.
    pub fn is_compiled_in(&self) -> Result<bool, RuntimeError> {
        let available = match self {
            Self::Cpu => Ok(true),
            Self::Cuda { .. } => ep::CUDA::is_available(),
            Self::TensorRt { .. } => ep::TensorRT::is_available(),
            Self::OpenVino { .. } => ep::OpenVINO::is_available(),
        };
        available.map_err(|e| RuntimeError::ProviderUnavailable { provider: self.to_string(), source: e.into() })
    }

    /// The ort dispatch for this provider; registration errors are returned, never swallowed.
    pub(crate) fn dispatch(&self) -> Option<ep::ExecutionProviderDispatch> {
        match self {
            Self::Cpu => None,
            Self::Cuda { device_id } => Some(ep::CUDA::default().with_device_id(*device_id).build().error_on_failure()),
            // Engines take minutes to build; the cache makes that a one-time cost.
            Self::TensorRt { device_id, fp16 } => Some(
                ep::TensorRT::default()
                    .with_device_id(*device_id)
                    .with_fp16(*fp16)
                    .with_engine_cache(true)
                    .with_engine_cache_path(TENSORRT_CACHE_DIR)
                    .build()
                    .error_on_failure(),
            ),
            Self::OpenVino { device } => {
                Some(ep::OpenVINO::default().with_device_type(device).build().error_on_failure())
            }
        }
    }
}

impl fmt::Display for ExecutionProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda { device_id } => write!(f, "cuda:{device_id}"),
            Self::TensorRt { device_id, fp16 } => {
                write!(f, "tensorrt:{device_id}{}", if *fp16 { " (fp16)" } else { "" })
            }
            Self::OpenVino { device } => write!(f, "openvino:{device}"),
        }
    }
}

/// The provider a user asked for, and what to do when it cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderChoice {
    pub provider: ExecutionProvider,
    /// Run on CPU, with a warning, when `provider` fails. Off by default: asking for CUDA and
    /// quietly getting CPU is exactly the surprise this guards against.
    pub fallback_to_cpu: bool,
}

impl ProviderChoice {
    /// CPU, which has nothing to fall back from.
    pub fn cpu() -> Self {
        Self { provider: ExecutionProvider::Cpu, fallback_to_cpu: false }
    }
}

impl Default for ProviderChoice {
    fn default() -> Self {
        Self::cpu()
    }
}
