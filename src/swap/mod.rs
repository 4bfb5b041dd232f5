//! Swappers put the source identity onto target faces. Two implementations share one trait:
//! [`InSwapper`] (insightface's inswapper_128) and [`LandmarkSwapper`] (the default pack only).

mod emap;
mod error;
mod inswapper;
mod landmark;
mod paste_back;

pub use emap::{read_last_initializer, Initializer};
pub use error::SwapError;
pub use inswapper::InSwapper;
pub use landmark::{match_colour, FaceMesh, LandmarkSwapper, DEFAULT_SHAPE_WEIGHT};
pub use paste_back::PasteBack;

use image::RgbImage;

use crate::face::{Analysis, Face};

/// Puts one source face onto target faces, frame after frame.
///
/// The source is set once (`set_source`); `swap` then runs per frame and per target face,
/// reusing the swapper's buffers.
pub trait Swapper: Send {
    /// A short name for logs and overlays (`inswapper`, `landmark`).
    fn name(&self) -> &'static str;

    /// What the source face must carry when handed to [`Swapper::set_source`].
    fn source_needs(&self) -> Analysis;

    /// What each target face must carry when handed to [`Swapper::swap`].
    fn target_needs(&self) -> Analysis;

    /// Takes the source face (found in `picture`) that later swaps put onto targets.
    ///
    /// # Errors
    /// [`SwapError::MissingAnalysis`] when the face lacks what [`Swapper::source_needs`] asks.
    fn set_source(&mut self, picture: &RgbImage, face: &Face) -> Result<(), SwapError>;

    /// Replaces the face `target` in `frame` with the source.
    ///
    /// # Errors
    /// [`SwapError::NoSource`] before `set_source`, [`SwapError::MissingAnalysis`] when the face
    /// lacks what [`Swapper::target_needs`] asks, or a model failure.
    fn swap(&mut self, frame: &mut RgbImage, target: &Face) -> Result<(), SwapError>;

    /// Time spent inside a model so far (none for a swapper without one).
    fn inference_time(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

/// Which swapper to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SwapperKind {
    /// insightface's inswapper_128 (fp32 or fp16 file).
    Inswapper,
    /// Triangle warp on the 106 landmarks, colour-matched and feathered.
    #[default]
    Landmark,
}

impl std::fmt::Display for SwapperKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Inswapper => "inswapper",
            Self::Landmark => "landmark",
        })
    }
}
