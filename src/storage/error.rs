//! Errors of job file storage.

use std::path::PathBuf;

/// Why a storage could not be used: its folder, or the object store's answer.
#[derive(Debug, thiserror::Error)]
pub enum OpenCause {
    #[error("its folder cannot be made or found")]
    Folder(#[source] std::io::Error),
    /// Said in its first line: a store's answer can carry a whole XML body.
    #[error("{}", first_line(.0))]
    Store(Box<object_store::Error>),
}

fn first_line(error: &object_store::Error) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or_default().chars().take(300).collect()
}

/// What went wrong storing or reading a job file.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot use the storage {url}")]
    Open { url: String, source: OpenCause },
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
