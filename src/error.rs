//! The library's error type: each module's errors, under one enum for callers that mix them.

use crate::{face::FaceError, imaging::ImageError, models::ModelError, runtime::RuntimeError, swap::SwapError};

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
    Video(#[from] crate::video::VideoError),
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::PipelineError),
}

/// A result whose error is the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
