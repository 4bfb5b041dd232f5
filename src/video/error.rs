//! Errors from sources and sinks.

use std::path::PathBuf;

use crate::error::ErrorKind;

/// What went wrong with a camera, video file or window.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("no camera found ({reason})")]
    NoCamera { reason: String },
    #[error("camera {camera} could not be opened: {reason}")]
    Camera { camera: String, reason: String },
    #[error("video {path} does not exist")]
    Missing { path: PathBuf },
    #[error("video {path} could not be opened: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("video {path} has no video stream")]
    NoVideoStream { path: PathBuf },
    #[error("video {path} could not be decoded: {reason}")]
    Decode { path: PathBuf, reason: String },
    #[error("video {path} could not be written: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("no window could be opened ({reason})")]
    Window { reason: String },
    #[error(transparent)]
    Picture(#[from] crate::imaging::ImageError),
}

impl VideoError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NoCamera { .. } | Self::Missing { .. } => ErrorKind::NotFound,
            Self::Open { .. } | Self::NoVideoStream { .. } => ErrorKind::UnsupportedFormat,
            Self::Decode { .. } => ErrorKind::InvalidInput,
            Self::Camera { .. } | Self::Write { .. } | Self::Window { .. } => ErrorKind::Internal,
            Self::Picture(e) => e.kind(),
        }
    }
}
