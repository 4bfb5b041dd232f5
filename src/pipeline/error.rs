//! How a pipeline fails.

use crate::{error_kind::ErrorKind, video::VideoError};

/// A stage that failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Source(#[from] VideoError),
    #[error("the {stage} stage could not start")]
    Spawn {
        stage: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the {stage} stage crashed")]
    Panicked { stage: &'static str },
}

impl PipelineError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Source(e) => e.kind(),
            Self::Spawn { .. } | Self::Panicked { .. } => ErrorKind::Internal,
        }
    }
}
