//! Errors from loading ONNX Runtime and running models on it.

use std::path::PathBuf;

use crate::error_kind::ErrorKind;

/// What went wrong in the ONNX Runtime layer.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("ONNX Runtime library not found (looked in {searched})")]
    LibraryNotFound { searched: String },
    #[error("ONNX Runtime library {path} could not be loaded")]
    LibraryLoad { path: PathBuf, source: OrtCause },
    #[error(
        "ONNX Runtime library {path} cannot be loaded: ONNX Runtime is already loaded from {loaded} in this process"
    )]
    OtherLibraryLoaded { path: PathBuf, loaded: PathBuf },
    /// The file's own headers say it is cut short or not a library (found before loading it,
    /// since a truncated library is a bus error, not an error, once loaded).
    #[error("ONNX Runtime library {path} is damaged: {problem}")]
    LibraryDamaged { path: PathBuf, problem: String },
    #[error("execution provider {provider} is not available")]
    ProviderUnavailable { provider: String, source: OrtCause },
    #[error("execution provider {provider} is not available: the ONNX Runtime library {library} (version {version}) was built without it")]
    ProviderNotBuilt { provider: String, library: PathBuf, version: String },
    #[error("model {path} could not be loaded by ONNX Runtime")]
    Session { path: PathBuf, source: OrtCause },
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

/// ONNX Runtime's error, kept whole, said in one line: its messages can run to many lines
/// (a graph's whole node list), and an error here is one line.
#[derive(Debug)]
pub struct OrtCause(Box<dyn std::error::Error + Send + Sync + 'static>);

impl OrtCause {
    /// ONNX Runtime's error as it came.
    pub fn error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.0.as_ref()
    }
}

impl std::fmt::Display for OrtCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0.to_string();
        f.write_str(text.lines().next().unwrap_or_default())
    }
}

impl std::error::Error for OrtCause {}

impl From<ort::Error> for OrtCause {
    fn from(error: ort::Error) -> Self {
        Self(Box::new(error))
    }
}

impl From<ort::Error<ort::session::builder::SessionBuilder>> for OrtCause {
    fn from(error: ort::Error<ort::session::builder::SessionBuilder>) -> Self {
        Self(Box::new(ort::Error::<()>::from(error)))
    }
}

impl From<ort::LoadDynamicError> for OrtCause {
    fn from(error: ort::LoadDynamicError) -> Self {
        Self(Box::new(error))
    }
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
