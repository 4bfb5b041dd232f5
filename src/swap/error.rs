//! Errors from swapping.

use std::path::PathBuf;

use crate::{error_kind::ErrorKind, face::FaceError, runtime::RuntimeError};

/// What went wrong putting a face onto another.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Face(#[from] FaceError),
    #[error("cannot read the emap of {path}")]
    Emap {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the emap of {path} has shape {dims:?}, expected [512, 512]")]
    EmapShape { path: PathBuf, dims: Vec<i64> },
    #[error("the {swapper} swapper needs the {what} of the {role} face")]
    MissingAnalysis { swapper: &'static str, what: &'static str, role: &'static str },
    #[error("the {swapper} swapper needs a model file, and none was given")]
    ModelRequired { swapper: &'static str },
    #[error("a pixel boost of {side} is not a multiple of the model's {model} pixels up to 8 times it")]
    PixelBoost { side: u32, model: u32 },
    #[error("pixel boost is for inswapper; the {swapper} swapper works at the face's own size")]
    PixelBoostUnsupported { swapper: &'static str },
}

impl SwapError {
    /// What kind of failure this is, for callers that map it (HTTP status, exit code).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Runtime(e) => e.kind(),
            Self::Face(e) => e.kind(),
            Self::Emap { .. } | Self::EmapShape { .. } | Self::ModelRequired { .. } => ErrorKind::ModelUnavailable,
            Self::MissingAnalysis { .. } => ErrorKind::Internal,
            Self::PixelBoost { .. } | Self::PixelBoostUnsupported { .. } => ErrorKind::InvalidInput,
        }
    }
}
