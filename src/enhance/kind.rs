//! The face enhancers FaceFusion runs, by name: the crop each wants (its five-point template
//! and side) and whether it takes CodeFormer's fidelity weight.

use serde::{Deserialize, Serialize};

use crate::{face::ARCFACE_128_FRACTIONS, imaging::Point};

/// FaceFusion's FFHQ template for the 512 models, as fractions of the crop's side.
const FFHQ_512: [[f64; 2]; 5] = [
    [0.376_916_76, 0.468_646_64],
    [0.622_856_97, 0.469_128_13],
    [0.501_238_59, 0.613_319_04],
    [0.393_088_22, 0.725_411],
    [0.611_502_05, 0.724_904_65],
];

/// A face enhancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EnhancerKind {
    #[serde(rename = "gfpgan_1.4")]
    Gfpgan14,
    #[serde(rename = "gpen_bfr_256")]
    GpenBfr256,
    #[serde(rename = "gpen_bfr_512")]
    GpenBfr512,
    #[serde(rename = "codeformer")]
    Codeformer,
}

impl EnhancerKind {
    pub const ALL: [Self; 4] = [Self::Gfpgan14, Self::GpenBfr256, Self::GpenBfr512, Self::Codeformer];

    /// The name in flags, requests and the model manifest.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gfpgan14 => "gfpgan_1.4",
            Self::GpenBfr256 => "gpen_bfr_256",
            Self::GpenBfr512 => "gpen_bfr_512",
            Self::Codeformer => "codeformer",
        }
    }

    /// The side of the square crop the model takes.
    pub fn size(self) -> u32 {
        match self {
            Self::GpenBfr256 => 256,
            _ => 512,
        }
    }

    /// The five-point template in pixels of its crop (FaceFusion's fractions × the side, in
    /// double as numpy computes them).
    pub fn template(self) -> [Point; 5] {
        let fractions = match self {
            Self::GpenBfr256 => &ARCFACE_128_FRACTIONS,
            _ => &FFHQ_512,
        };
        let side = f64::from(self.size());
        fractions.map(|[x, y]| [(x * side) as f32, (y * side) as f32])
    }
}

impl std::fmt::Display for EnhancerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for EnhancerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|k| k.name()).collect();
            format!("unknown enhancer {s:?}: use one of {}", names.join(", "))
        })
    }
}
