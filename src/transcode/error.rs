//! Errors a transcode is refused or stopped with.

use std::path::PathBuf;

use crate::error_kind::ErrorKind;

/// Why a transcode cannot run as asked.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error("input video {path} does not exist")]
    InputMissing { path: PathBuf },
    #[error("input video {path} is {what}, not a video file")]
    InputNotAFile { path: PathBuf, what: crate::atomic_file::NotAFile },
    #[error(transparent)]
    Target(crate::atomic_file::TargetError),
    #[error("output {path} is the input")]
    OutputIsInput { path: PathBuf },
    #[error("output {path} already exists")]
    OutputExists { path: PathBuf },
    #[error("output {path}: no container for this extension (known: {known})")]
    UnknownContainer { path: PathBuf, known: String },
    #[error("codec {codec} is not a codec or encoder this ffmpeg has (known: {known})")]
    UnknownCodec { codec: String, known: String },
    #[error("the {container} container cannot hold {codec} video (it holds {allowed})")]
    CodecNotInContainer { codec: String, container: &'static str, allowed: String },
    #[error("CRF {crf} is out of range for {codec}: use 0 to {max}")]
    Crf { crf: u32, codec: &'static str, max: u32 },
    #[error("part {index} of the swapped video cannot be joined to the others: {reason}")]
    PartMismatch { index: usize, reason: String },
    #[error("there are no swapped parts to join")]
    NoParts,
    #[error("the output {path} could not be written")]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl TranscodeError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InputMissing { .. } => ErrorKind::NotFound,
            Self::Target(crate::atomic_file::TargetError::NoFolder { .. }) => ErrorKind::NotFound,
            Self::Target(crate::atomic_file::TargetError::NotWritable { .. }) => ErrorKind::Internal,
            Self::OutputIsInput { .. } | Self::InputNotAFile { .. } | Self::Target(_) | Self::Crf { .. } => {
                ErrorKind::InvalidInput
            }
            Self::OutputExists { .. } => ErrorKind::Exists,
            Self::UnknownContainer { .. } | Self::UnknownCodec { .. } | Self::CodecNotInContainer { .. } => {
                ErrorKind::UnsupportedFormat
            }
            Self::Output { .. } | Self::PartMismatch { .. } | Self::NoParts => ErrorKind::Internal,
        }
    }
}
