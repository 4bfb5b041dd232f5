//! Errors of the job queue and its files.

use std::path::PathBuf;

use crate::{error::ErrorKind, storage::StorageError};

/// What went wrong with a job or the job store.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no job {id}")]
    NotFound { id: String },
    #[error("job {id} is {status}: its result is only there once it has succeeded")]
    NotReady { id: String, status: &'static str },
    #[error("the job queue is full ({queued} jobs waiting)")]
    QueueFull { queued: u64 },
    #[error("the job database {database} failed: {source}")]
    Database {
        database: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("the job database {database} could not be brought up to date: {source}")]
    Migrate {
        database: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("the job file {path} could not be written or read: {source}")]
    Files {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("job record {id} is unreadable: {reason}")]
    Corrupt { id: String, reason: String },
}

impl JobError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound { .. } | Self::Storage(StorageError::NotFound { .. }) => ErrorKind::NotFound,
            Self::NotReady { .. } => ErrorKind::Conflict,
            Self::QueueFull { .. } => ErrorKind::Busy,
            Self::Database { .. }
            | Self::Migrate { .. }
            | Self::Files { .. }
            | Self::Storage(_)
            | Self::Corrupt { .. } => ErrorKind::Internal,
        }
    }
}
