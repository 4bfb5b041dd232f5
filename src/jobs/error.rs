//! Errors of the job queue and its files.

use std::path::PathBuf;

use crate::{error_kind::ErrorKind, storage::StorageError};

/// What went wrong with a job or the job store.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no job {id}")]
    NotFound { id: String },
    #[error("job {id} is {status}: its result is only there once it has succeeded")]
    NotReady { id: String, status: &'static str },
    #[error("the job queue is full ({queued} jobs waiting)")]
    QueueFull { queued: u64 },
    #[error("the job database {database} failed")]
    Database {
        database: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("the job database {database} could not be brought up to date")]
    Migrate {
        database: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("the job file {path} could not be written or read")]
    Files {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("field \"input\" is not a video this server runs: {reason}")]
    NotAVideo { reason: String },
    #[error("the video has {frames} frames, over the limit of {limit} a job may have")]
    TooManyFrames { frames: u64, limit: u64 },
    #[error("the video plays for {seconds:.0} s, over the limit of {limit:.0} s a job may have")]
    TooLong { seconds: f64, limit: f64 },
    #[error("codec {codec} is not offered for jobs here (offered: {allowed})")]
    CodecNotAllowed { codec: String, allowed: String },
    #[error("a job chooses a face by likeness from its reference picture: send it in field \"reference\"")]
    LikenessWithoutReference,
    #[error("the job ran past its limit of {seconds} s and was stopped")]
    TimedOut { seconds: u64 },
    /// A row the database holds that this program cannot read back (written by another
    /// version, or changed by hand); the cause is the parser's.
    #[error("job record {id} is unreadable")]
    Corrupt {
        id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl JobError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound { .. } | Self::Storage(StorageError::NotFound { .. }) => ErrorKind::NotFound,
            Self::NotReady { .. } => ErrorKind::Conflict,
            Self::QueueFull { .. } => ErrorKind::Busy,
            Self::NotAVideo { .. } => ErrorKind::UnsupportedFormat,
            Self::TooManyFrames { .. } | Self::TooLong { .. } | Self::TimedOut { .. } => ErrorKind::TooLarge,
            Self::CodecNotAllowed { .. } | Self::LikenessWithoutReference => ErrorKind::InvalidInput,
            Self::Database { .. }
            | Self::Migrate { .. }
            | Self::Files { .. }
            | Self::Storage(_)
            | Self::Corrupt { .. } => ErrorKind::Internal,
        }
    }
}
