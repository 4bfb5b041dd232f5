//! Errors reading and writing pictures.

use std::path::PathBuf;

/// What went wrong with a picture file.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("image {path} could not be read: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("image {path} could not be written: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("output {path} already exists: pass --overwrite to replace it, or choose another path")]
    Exists { path: PathBuf },
}
