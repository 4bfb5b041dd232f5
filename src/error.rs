//! The library's error type: each module's errors under one enum for callers that mix them, and
//! the [`ErrorKind`] every error maps to (defined apart, in [`crate::error_kind`], so that the
//! modules' errors import it without importing this gathering of them).

pub use crate::error_kind::ErrorKind;
use crate::{
    face::FaceError, imaging::ImageError, models::ModelError, pipeline::PipelineError, runtime::RuntimeError,
    swap::SwapError, transcode::TranscodeError, video::VideoError,
};

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
    Stream(#[from] crate::stream::StreamError),
    #[error(transparent)]
    Compare(#[from] crate::quality::CompareError),
    #[error(transparent)]
    Provenance(#[from] crate::provenance::ProvenanceError),
    #[cfg(feature = "server")]
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
            Self::Stream(e) => e.kind(),
            Self::Compare(e) => e.kind(),
            Self::Provenance(e) => e.kind(),
            #[cfg(feature = "server")]
            Self::Job(e) => e.kind(),
            Self::Busy => ErrorKind::Busy,
        }
    }
}

/// A result whose error is the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
