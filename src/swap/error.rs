//! Errors from swapping.

use std::path::PathBuf;

use crate::{face::FaceError, runtime::RuntimeError};

/// What went wrong putting a face onto another.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Face(#[from] FaceError),
    #[error("cannot read the emap of {path}: {reason}")]
    Emap { path: PathBuf, reason: String },
    #[error("the {swapper} swapper needs the {what} of the {role} face")]
    MissingAnalysis { swapper: &'static str, what: &'static str, role: &'static str },
    #[error("the {swapper} swapper has no source face yet")]
    NoSource { swapper: &'static str },
}
