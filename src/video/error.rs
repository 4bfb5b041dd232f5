//! Errors from sources and sinks.

use std::path::PathBuf;

use crate::error_kind::ErrorKind;

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
    #[error("video {path} is {width}×{height}, over the limit of {limit} pixels a frame")]
    TooLarge { path: PathBuf, width: u32, height: u32, limit: u64 },
    #[error("video {path}: {reason}")]
    Unsupported { path: PathBuf, reason: String },
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
    /// The same error naming `to` where it named `from` (a file written under another name).
    pub fn with_path(self, from: &std::path::Path, to: &std::path::Path) -> Self {
        let rename = |path: PathBuf| if path == from { to.to_path_buf() } else { path };
        match self {
            Self::Write { path, reason } => Self::Write { path: rename(path), reason },
            Self::Unsupported { path, reason } => Self::Unsupported { path: rename(path), reason },
            other => other,
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NoCamera { .. } | Self::Missing { .. } => ErrorKind::NotFound,
            Self::Open { .. } | Self::NoVideoStream { .. } | Self::Unsupported { .. } => ErrorKind::UnsupportedFormat,
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::Decode { .. } => ErrorKind::InvalidInput,
            Self::Camera { .. } | Self::Write { .. } | Self::Window { .. } => ErrorKind::Internal,
            Self::Picture(e) => e.kind(),
        }
    }
}
