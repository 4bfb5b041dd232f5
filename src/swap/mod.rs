//! Swappers put the source identity onto target faces. Two implementations share one trait:
//! [`InSwapper`] (insightface's inswapper_128) and [`LandmarkSwapper`] (the default pack only).
//! The source is a [`SourceFace`] value computed once and shared; swappers hold only buffers.

mod emap;
mod error;
mod face_map;
mod inswapper;
mod landmark;
mod mouth_mask;
mod paste_back;
mod source;

pub use emap::{read_last_initializer, Initializer};
pub use error::SwapError;
pub use face_map::{FaceMap, Sources, SAME_PERSON};
pub use inswapper::{InSwapper, PIXEL_BOOST_SIDES};
pub use landmark::{match_colour, FaceMesh, LandmarkSettings, LandmarkSwapper, Texture, DEFAULT_SHAPE_WEIGHT};
pub use mouth_mask::{MouthKeeper, MouthMask};
pub use paste_back::PasteBack;
pub use source::{SourceFace, Turn};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::{
    face::{Analysis, Face},
    models::VerifiedModel,
    runtime::SessionFactory,
};

/// Puts a source face onto target faces, frame after frame, reusing its buffers.
pub trait Swapper: Send {
    /// Which swapper this is.
    fn kind(&self) -> SwapperKind;

    /// What each target face must carry when handed to [`Swapper::swap`].
    fn target_needs(&self) -> Analysis;

    /// Replaces the face `target` in `frame` with `source`.
    ///
    /// # Errors
    /// [`SwapError::MissingAnalysis`] when the face lacks what [`Swapper::target_needs`] asks,
    /// or a model failure.
    fn swap(&mut self, frame: &mut RgbImage, target: &Face, source: &SourceFace) -> Result<(), SwapError>;

    /// Swaps at an aligned crop of `side` pixels (pixel boost); `None` for the swapper's own.
    ///
    /// # Errors
    /// A side this swapper cannot work at, or any side for a swapper without a crop.
    fn set_pixel_boost(&mut self, side: Option<u32>) -> Result<(), SwapError> {
        match side {
            None => Ok(()),
            Some(_) => Err(SwapError::PixelBoostUnsupported { swapper: self.kind().name() }),
        }
    }

    /// Whether the target's own mouth will be laid back over the swaps that follow (the mouth
    /// mask). A swapper that reshapes the face may then keep more of the target's shape, so the
    /// restored mouth sits in a face shaped for it.
    fn set_mouth_kept(&mut self, _kept: bool) {}

    /// Time spent inside a model so far (none for a swapper without one).
    fn inference_time(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

/// How to swap a picture: which swapper, whether the target's own mouth is laid back, the
/// pixel boost, and the face enhancer run after the swap.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SwapSettings {
    pub swapper: SwapperKind,
    pub mouth_mask: Option<MouthMask>,
    /// The aligned crop's side for inswapper (256, 384, 512…); none for the model's own.
    pub pixel_boost: Option<u32>,
    pub enhancer: Option<crate::enhance::EnhanceSettings>,
    /// The occlusion and region masks around each swap.
    pub masks: crate::mask::MaskSettings,
}

/// Which swapper to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SwapperKind {
    /// insightface's inswapper_128 (fp32 or fp16 file).
    Inswapper,
    /// Triangle warp on the 106 landmarks, colour-matched and feathered.
    #[default]
    Landmark,
}

impl SwapperKind {
    /// Every swapper there is.
    pub const ALL: [Self; 2] = [Self::Landmark, Self::Inswapper];

    /// The name in logs, overlays and requests (`inswapper`, `landmark`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Inswapper => "inswapper",
            Self::Landmark => "landmark",
        }
    }
}

impl std::fmt::Display for SwapperKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SwapperKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "inswapper" => Ok(Self::Inswapper),
            "landmark" => Ok(Self::Landmark),
            other => Err(format!("unknown swapper {other:?}: use landmark or inswapper")),
        }
    }
}

/// Builds a swapper of `kind` on `factory`; `model` is the inswapper's file.
///
/// # Errors
/// [`SwapError::ModelRequired`] for an inswapper without a file, or the model's own error.
pub fn build_swapper(
    kind: SwapperKind,
    model: Option<&VerifiedModel>,
    factory: &SessionFactory,
) -> Result<Box<dyn Swapper>, SwapError> {
    Ok(match kind {
        SwapperKind::Landmark => Box::new(LandmarkSwapper::new()),
        SwapperKind::Inswapper => {
            let model = model.ok_or(SwapError::ModelRequired { swapper: kind.name() })?;
            Box::new(InSwapper::build(factory, model)?)
        }
    })
}
