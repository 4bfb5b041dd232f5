//! Errors from sources and sinks.

use std::{borrow::Cow, path::PathBuf};

use crate::error_kind::ErrorKind;

/// Why a video, camera or window failed: the library's own error kept whole (ffmpeg's, the
/// system's, the camera's or window's), or what this program found wrong with the media.
#[derive(Debug, thiserror::Error)]
pub enum MediaCause {
    #[error(transparent)]
    Ffmpeg(#[from] ffmpeg_next::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An error of a layer that plugs in here (a camera library, a window system, a network
    /// source), kept as it is.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// What this program found wrong: no library error stands behind it.
    #[error("{0}")]
    Found(Cow<'static, str>),
}

impl MediaCause {
    /// Another layer's error, kept as the cause.
    pub fn other(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Other(Box::new(error))
    }
}

impl From<&'static str> for MediaCause {
    fn from(text: &'static str) -> Self {
        Self::Found(Cow::Borrowed(text))
    }
}

impl From<String> for MediaCause {
    fn from(text: String) -> Self {
        Self::Found(Cow::Owned(text))
    }
}

/// What went wrong with a camera, video file or window.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("no camera found")]
    NoCamera { source: MediaCause },
    #[error("camera {camera} could not be opened")]
    Camera { camera: String, source: MediaCause },
    #[error("video {path} does not exist")]
    Missing { path: PathBuf },
    #[error("video {path} could not be opened")]
    Open { path: PathBuf, source: MediaCause },
    #[error("video {path} has no video stream")]
    NoVideoStream { path: PathBuf },
    #[error("video {path} is {width}×{height}, over the limit of {limit} pixels a frame")]
    TooLarge { path: PathBuf, width: u32, height: u32, limit: u64 },
    /// What this program cannot do with the file (a format, a size, a stream it cannot
    /// write): a finding, with no library error behind it.
    #[error("video {path}: {problem}")]
    Unsupported { path: PathBuf, problem: String },
    #[error("video {path} could not be decoded")]
    Decode { path: PathBuf, source: MediaCause },
    #[error("video {path} could not be written")]
    Write { path: PathBuf, source: MediaCause },
    #[error("no window could be opened")]
    Window { source: MediaCause },
    #[error(transparent)]
    Picture(#[from] crate::imaging::ImageError),
}

impl VideoError {
    /// The same error naming `to` where it named `from` (a file written under another name).
    pub fn with_path(self, from: &std::path::Path, to: &std::path::Path) -> Self {
        let rename = |path: PathBuf| if path == from { to.to_path_buf() } else { path };
        match self {
            Self::Write { path, source } => Self::Write { path: rename(path), source },
            Self::Unsupported { path, problem } => Self::Unsupported { path: rename(path), problem },
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
