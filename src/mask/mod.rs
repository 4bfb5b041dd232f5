//! Face masks as FaceFusion makes them: the occlusion mask (an XSeg model: what in front of the
//! face is not face) and the region mask (a BiSeNet parser: which parts of the face), and the
//! keeper that lays the target's own pixels back wherever the masks say the swap does not
//! belong, whichever swapper ran.

mod keeper;
mod occluder;
mod parser;
mod region;

pub use keeper::{FaceMasker, MASK_SIZE};
pub use occluder::Occluder;
pub use parser::FaceParser;
pub use region::{FaceRegion, FaceRegions};

/// The manifest's occluder and parser (FaceFusion's defaults).
pub const DEFAULT_OCCLUDER: &str = "xseg_1";
pub const DEFAULT_PARSER: &str = "bisenet_resnet_34";

/// A mask model rebuilt by the watchdog.
pub enum MaskModel {
    Occluder(Occluder),
    Parser(FaceParser),
}

use serde::{Deserialize, Serialize};

use crate::imaging::{gaussian_blur, gaussian_kernel, GrayF32, Rect};

/// Which masks to apply after the swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MaskSettings {
    /// Keep what the occluder says is in front of the face.
    pub occlusion: bool,
    /// Swap only these regions (none: no region mask).
    pub regions: Option<FaceRegions>,
}

impl MaskSettings {
    /// Whether any model mask is asked for.
    pub fn is_on(&self) -> bool {
        self.occlusion || self.regions.is_some()
    }

    /// The masks named in `kinds` and `regions` (each a comma-separated list).
    ///
    /// # Errors
    /// An unknown name, or regions without the region mask.
    pub fn parse(kinds: Option<&str>, regions: Option<&str>) -> Result<Self, String> {
        let mut settings = Self::default();
        let mut region = false;
        for kind in kinds.into_iter().flat_map(|k| k.split(',')).map(str::trim).filter(|k| !k.is_empty()) {
            match kind {
                "box" => {}
                "occlusion" => settings.occlusion = true,
                "region" => region = true,
                other => return Err(format!("unknown mask {other:?}: use box, occlusion or region")),
            }
        }
        let chosen = match regions {
            None => None,
            Some(list) => Some(
                list.split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::parse::<FaceRegion>)
                    .collect::<Result<FaceRegions, _>>()?,
            ),
        };
        settings.regions = match (region, chosen) {
            (true, Some(regions)) if regions.is_empty() => return Err("mask_regions names no region".to_string()),
            (true, Some(regions)) => Some(regions),
            (true, None) => Some(FaceRegions::all()),
            (false, Some(_)) => return Err("mask regions need the region mask: add region to the masks".to_string()),
            (false, None) => None,
        };
        Ok(settings)
    }
}

/// FaceFusion's finish of a model mask: a Gaussian blur of sigma 5, then only what is over
/// one half kept, stretched back to 0…1 — `(blur(m).clip(0.5, 1) − 0.5) × 2`.
fn soften(mut mask: GrayF32) -> GrayF32 {
    let (w, h) = mask.dimensions();
    mask.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    // OpenCV's kernel size for a float image and sigma 5: round(5·4·2 + 1) | 1.
    let kernel = gaussian_kernel(41, 5.0);
    let mut scratch = Vec::new();
    gaussian_blur(&mut mask, Rect::full(w, h), &kernel, &mut scratch);
    mask.iter_mut().for_each(|v| *v = (v.clamp(0.5, 1.0) - 0.5) * 2.0);
    mask
}
