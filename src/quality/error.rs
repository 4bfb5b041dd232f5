//! Why two pictures or videos cannot be compared.

use crate::error_kind::ErrorKind;

/// A comparison that would measure nothing, or something else than a swap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    #[error("the result is {result_w}×{result_h} and the original {original_w}×{original_h}: compare a swap with the picture or video it was made from")]
    SizeMismatch { original_w: u32, original_h: u32, result_w: u32, result_h: u32 },
    #[error("the original has no face to compare")]
    NoFaceInOriginal,
    #[error("no face of the original was found in the result, so nothing could be measured")]
    NoFaceInResult,
}

impl CompareError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::SizeMismatch { .. } => ErrorKind::InvalidInput,
            Self::NoFaceInOriginal | Self::NoFaceInResult => ErrorKind::NoFace,
        }
    }
}
