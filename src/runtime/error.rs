//! Errors from loading ONNX Runtime and running models on it.

use std::path::PathBuf;

use crate::error_kind::ErrorKind;

/// What went wrong in the ONNX Runtime layer.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("ONNX Runtime library not found (looked in {searched})")]
    LibraryNotFound { searched: String },
    #[error("ONNX Runtime library {path} could not be loaded: {reason}")]
    LibraryLoad { path: PathBuf, reason: String },
    #[error("ONNX Runtime library {path} is damaged: {reason}")]
    LibraryDamaged { path: PathBuf, reason: String },
    #[error("execution provider {provider} is not available: {reason}")]
    ProviderUnavailable { provider: String, reason: String },
    #[error("model {path} could not be loaded by ONNX Runtime: {reason}")]
    Session { path: PathBuf, reason: String },
    #[error("model {model} does not have the expected interface: {detail}")]
    Interface { model: String, detail: String },
    #[error("{threads} threads per model: use 1 to {max}", max = super::MAX_THREADS)]
    Threads { threads: usize },
    #[error("inference with {model} failed")]
    Inference {
        model: String,
        #[source]
        source: ort::Error,
    },
}

impl RuntimeError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Inference { .. } => ErrorKind::Internal,
            Self::Threads { .. } => ErrorKind::InvalidInput,
            _ => ErrorKind::ModelUnavailable,
        }
    }
}
