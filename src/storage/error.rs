//! Errors of job file storage.

use std::path::PathBuf;

/// What went wrong storing or reading a job file.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot use the storage {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("no stored file {key}")]
    NotFound { key: String },
    #[error("the stored file {key} is {size} bytes, over the {limit} expected")]
    TooLarge { key: String, size: u64, limit: u64 },
    #[error("the storage {url} failed on {key}")]
    Object {
        url: String,
        key: String,
        #[source]
        source: Box<object_store::Error>,
    },
    #[error("the local file {path} could not be read or written")]
    Local {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
