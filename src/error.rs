//! The library's error type: each module's errors under one enum for callers that mix them, and
//! the [`ErrorKind`] every error maps to, so a front-end can choose an exit code or HTTP status
//! without matching on messages.

use serde::Serialize;

use crate::{
    face::FaceError, imaging::ImageError, models::ModelError, pipeline::PipelineError, runtime::RuntimeError,
    swap::SwapError, transcode::TranscodeError, video::VideoError,
};

/// What kind of failure an error is: the part a caller acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A file, camera or record that is not there.
    NotFound,
    /// Not a picture or video this build reads, or a container/codec it cannot write.
    UnsupportedFormat,
    /// An input that cannot be used as given: damaged, truncated, a face index past the end.
    InvalidInput,
    /// No face where one is needed.
    NoFace,
    /// Larger than the configured limits.
    TooLarge,
    /// An output that already exists and may not be replaced.
    Exists,
    /// Not possible in the current state (a job's result before it has finished).
    Conflict,
    /// A model, runtime library or execution provider that cannot be used now.
    ModelUnavailable,
    /// Every worker busy and the queue full: try again later.
    Busy,
    /// Anything else: a fault of this program or its machine (disk, encoder).
    Internal,
}

/// Any error the library returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Face(#[from] FaceError),
    #[error(transparent)]
    Swap(#[from] SwapError),
    #[error(transparent)]
    Video(#[from] VideoError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Transcode(#[from] TranscodeError),
    #[error(transparent)]
    Job(#[from] crate::jobs::JobError),
    #[error("every engine worker is busy and the queue is full")]
    Busy,
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Runtime(e) => e.kind(),
            Self::Model(e) => e.kind(),
            Self::Image(e) => e.kind(),
            Self::Face(e) => e.kind(),
            Self::Swap(e) => e.kind(),
            Self::Video(e) => e.kind(),
            Self::Pipeline(e) => e.kind(),
            Self::Transcode(e) => e.kind(),
            Self::Job(e) => e.kind(),
            Self::Busy => ErrorKind::Busy,
        }
    }
}

/// A result whose error is the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
