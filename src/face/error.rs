//! Errors from face analysis.

use crate::{error_kind::ErrorKind, runtime::RuntimeError};

/// What went wrong analysing faces.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("no face found in {what}: use a picture with a clear, frontal face")]
    NoFace { what: String },
    #[error("face {index} does not exist in {what}: it has {count} face(s), numbered from 0")]
    NoSuchFace { index: usize, count: usize, what: String },
}

impl FaceError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Runtime(e) => e.kind(),
            Self::NoFace { .. } => ErrorKind::NoFace,
            Self::NoSuchFace { .. } => ErrorKind::InvalidInput,
        }
    }
}
