//! Errors reading and writing pictures.

use std::path::PathBuf;

use crate::error_kind::ErrorKind;

/// What went wrong with a picture. `what` names it: a file path, or an upload's field.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("picture {what} does not exist")]
    Missing { what: String },
    #[error("picture {what} could not be read")]
    Unreadable {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("picture {what} is not a picture this program reads ({reason}): use PNG or JPEG")]
    Format { what: String, reason: String },
    #[error("picture {what} is truncated: the {format} data ends before the picture does")]
    Truncated { what: String, format: &'static str },
    #[error("picture {what} is damaged: {reason}")]
    Damaged { what: String, reason: String },
    #[error("picture {what} is {width}×{height} ({pixels} pixels), over the limit of {limit} pixels")]
    TooLarge { what: String, width: u32, height: u32, pixels: u64, limit: u64 },
    #[error("picture {what} is {bytes} bytes or more, over the limit of {limit} bytes")]
    FileTooLarge { what: String, bytes: u64, limit: u64 },
    #[error("picture {path} could not be written")]
    Write {
        path: PathBuf,
        #[source]
        source: crate::atomic_file::WriteError,
    },
    #[error("output {path}: unknown picture format: use the extension .png, .jpg or .jpeg")]
    UnknownExtension { path: PathBuf },
    #[error(transparent)]
    Target(crate::atomic_file::TargetError),
    #[error("picture could not be encoded as {format}: {reason}")]
    Encode { format: &'static str, reason: String },
    #[error("output {path} already exists")]
    Exists { path: PathBuf },
    #[error("output {path} is one of the inputs")]
    OutputIsInput { path: PathBuf },
}

impl ImageError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Missing { .. } => ErrorKind::NotFound,
            Self::Format { .. } => ErrorKind::UnsupportedFormat,
            Self::Truncated { .. } | Self::Damaged { .. } => ErrorKind::InvalidInput,
            Self::TooLarge { .. } | Self::FileTooLarge { .. } => ErrorKind::TooLarge,
            Self::Exists { .. } => ErrorKind::Exists,
            Self::OutputIsInput { .. } | Self::UnknownExtension { .. } => ErrorKind::InvalidInput,
            Self::Target(e) => match e {
                crate::atomic_file::TargetError::NoFolder { .. } => ErrorKind::NotFound,
                crate::atomic_file::TargetError::NotWritable { .. } => ErrorKind::Internal,
                _ => ErrorKind::InvalidInput,
            },
            Self::Unreadable { .. } | Self::Write { .. } | Self::Encode { .. } => ErrorKind::Internal,
        }
    }
}
