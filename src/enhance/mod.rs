//! Face enhancers (GFPGAN 1.4, GPEN-BFR 256 and 512, CodeFormer), run after the swap as
//! FaceFusion runs them, each on its own model session.

mod face_enhancer;
mod kind;

pub use face_enhancer::{FaceEnhancer, MASK_BLUR};
pub use kind::EnhancerKind;

use serde::{Deserialize, Serialize};

/// Which enhancer, and how much of it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnhanceSettings {
    pub kind: EnhancerKind,
    /// How much of the enhanced face is laid over the swapped one, 0…100 (FaceFusion's
    /// `--face-enhancer-blend`, default 80).
    pub blend: u8,
    /// CodeFormer's fidelity, 0…1 (FaceFusion's `--face-enhancer-weight`, default 0.5); the
    /// other models have no such input and ignore it.
    pub weight: f64,
}

impl EnhanceSettings {
    /// FaceFusion's defaults for `kind`.
    pub fn new(kind: EnhancerKind) -> Self {
        Self { kind, blend: 80, weight: 0.5 }
    }
}
