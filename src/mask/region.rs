//! The face parser's regions, by FaceFusion's names and BiSeNet's class numbers.

use serde::{Deserialize, Serialize};

/// A region of the face the parser tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaceRegion {
    Skin,
    LeftEyebrow,
    RightEyebrow,
    LeftEye,
    RightEye,
    Glasses,
    Nose,
    Mouth,
    UpperLip,
    LowerLip,
}

impl FaceRegion {
    pub const ALL: [Self; 10] = [
        Self::Skin,
        Self::LeftEyebrow,
        Self::RightEyebrow,
        Self::LeftEye,
        Self::RightEye,
        Self::Glasses,
        Self::Nose,
        Self::Mouth,
        Self::UpperLip,
        Self::LowerLip,
    ];

    /// FaceFusion's name (`skin`, `left-eyebrow`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Skin => "skin",
            Self::LeftEyebrow => "left-eyebrow",
            Self::RightEyebrow => "right-eyebrow",
            Self::LeftEye => "left-eye",
            Self::RightEye => "right-eye",
            Self::Glasses => "glasses",
            Self::Nose => "nose",
            Self::Mouth => "mouth",
            Self::UpperLip => "upper-lip",
            Self::LowerLip => "lower-lip",
        }
    }

    /// The parser's class number (FaceFusion's `face_mask_region_set`).
    pub fn class(self) -> usize {
        match self {
            Self::Skin => 1,
            Self::LeftEyebrow => 2,
            Self::RightEyebrow => 3,
            Self::LeftEye => 4,
            Self::RightEye => 5,
            Self::Glasses => 6,
            Self::Nose => 10,
            Self::Mouth => 11,
            Self::UpperLip => 12,
            Self::LowerLip => 13,
        }
    }
}

impl std::fmt::Display for FaceRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for FaceRegion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.name() == s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|r| r.name()).collect();
            format!("unknown face region {s:?}: use {}", names.join(", "))
        })
    }
}

/// A set of regions, as the parser's classes (a bit each): no allocation per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "Vec<FaceRegion>", from = "Vec<FaceRegion>")]
pub struct FaceRegions(u32);

impl FaceRegions {
    /// Every region: FaceFusion's default.
    pub fn all() -> Self {
        Self::ALL_OF.iter().copied().collect()
    }

    const ALL_OF: [FaceRegion; 10] = FaceRegion::ALL;

    pub fn contains_class(self, class: usize) -> bool {
        class < 32 && self.0 & (1 << class) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn regions(self) -> Vec<FaceRegion> {
        FaceRegion::ALL.into_iter().filter(|r| self.contains_class(r.class())).collect()
    }
}

impl FromIterator<FaceRegion> for FaceRegions {
    fn from_iter<I: IntoIterator<Item = FaceRegion>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, r| bits | (1 << r.class())))
    }
}

impl From<Vec<FaceRegion>> for FaceRegions {
    fn from(regions: Vec<FaceRegion>) -> Self {
        regions.into_iter().collect()
    }
}

impl From<FaceRegions> for Vec<FaceRegion> {
    fn from(regions: FaceRegions) -> Self {
        regions.regions()
    }
}
