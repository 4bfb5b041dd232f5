//! Errors from face analysis.

use crate::runtime::RuntimeError;

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
