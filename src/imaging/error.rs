//! Errors reading and writing pictures.

use std::{borrow::Cow, path::PathBuf};

use crate::error_kind::ErrorKind;

/// Why a picture could not be read or written: the image library's error kept whole, or
/// what this program found in the data.
#[derive(Debug, thiserror::Error)]
pub enum PictureCause {
    #[error(transparent)]
    Image(#[from] image::ImageError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// What this program found: no library error stands behind it.
    #[error("{0}")]
    Found(Cow<'static, str>),
}

impl From<&'static str> for PictureCause {
    fn from(text: &'static str) -> Self {
        Self::Found(Cow::Borrowed(text))
    }
}

impl From<String> for PictureCause {
    fn from(text: String) -> Self {
        Self::Found(Cow::Owned(text))
    }
}

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
    #[error("picture {what} is not a picture this program reads (PNG or JPEG)")]
    Format { what: String, source: PictureCause },
    #[error("picture {what} is truncated: the {format} data ends before the picture does")]
    Truncated { what: String, format: &'static str },
    #[error("picture {what} is damaged")]
    Damaged { what: String, source: PictureCause },
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
    #[error("picture could not be encoded as {format}")]
    Encode {
        format: &'static str,
        #[source]
        source: image::ImageError,
    },
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
