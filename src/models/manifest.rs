//! models/manifest.toml, compiled into the binary so that it works from any folder.

use serde::{Deserialize, Serialize};

use super::ModelError;

/// The manifest shipped with this build.
const MANIFEST_TOML: &str = include_str!("../../models/manifest.toml");

/// The pack a new user gets: small, CPU-friendly, installed by scripts/setup.sh.
pub const DEFAULT_PACK: &str = "default";

/// What a model is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelRole {
    Detector,
    Embedder,
    Landmarks,
    Swapper,
    Enhancer,
    Occluder,
    Parser,
    /// The invisible watermark's encoder and decoder.
    Watermark,
}

impl std::fmt::Display for ModelRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Detector => "detector",
            Self::Embedder => "embedder",
            Self::Landmarks => "landmarks",
            Self::Swapper => "swapper",
            Self::Enhancer => "enhancer",
            Self::Occluder => "occluder",
            Self::Parser => "parser",
            Self::Watermark => "watermark",
        })
    }
}

impl ModelRole {
    /// Every role.
    pub const ALL: [Self; 8] = [
        Self::Detector,
        Self::Landmarks,
        Self::Embedder,
        Self::Swapper,
        Self::Enhancer,
        Self::Occluder,
        Self::Parser,
        Self::Watermark,
    ];
}

impl std::str::FromStr for ModelRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "detector" => Ok(Self::Detector),
            "embedder" => Ok(Self::Embedder),
            "landmarks" => Ok(Self::Landmarks),
            "swapper" => Ok(Self::Swapper),
            "enhancer" => Ok(Self::Enhancer),
            "occluder" => Ok(Self::Occluder),
            "parser" => Ok(Self::Parser),
            "watermark" => Ok(Self::Watermark),
            other => Err(format!(
                "unknown role {other:?}: use detector, embedder, landmarks, swapper, enhancer, occluder, parser or watermark"
            )),
        }
    }
}

/// What a model file must be: its size and sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub size: u64,
    pub sha256: String,
}

/// Where an entry's pin comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pinning {
    /// The manifest's own size and sha256, from a source it cites.
    #[default]
    Manifest,
    /// Recorded in the models folder when the file was first fetched or added (`models add`):
    /// the manifest could cite no hash for it.
    Recorded,
    /// Neither yet: the file is fetched (its hash then recorded) or added before use.
    None,
}

/// One model: where its file lives, what it must hash to and where to get it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub name: String,
    pub role: ModelRole,
    pub pack: String,
    pub file: String,
    /// Pinned entries: the file's size and sha256. An entry whose publisher gives no sha256
    /// has neither, and a `max_size` instead; its pin is recorded when it is first fetched.
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    /// The most bytes a download of an entry without a pin may have.
    #[serde(default)]
    pub max_size: Option<u64>,
    #[serde(skip)]
    pub pinning: Pinning,
    pub license: String,
    /// The Python package scripts/setup.sh takes the file from, when it has no URL.
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub urls: Vec<String>,
}

impl ModelEntry {
    /// The size and sha256 the file must have, when known.
    pub fn pin(&self) -> Option<Pin> {
        Some(Pin { size: self.size?, sha256: self.sha256.clone()? })
    }

    /// The most bytes a download of it may have: its size, or its `max_size`.
    pub fn byte_limit(&self) -> u64 {
        self.size.or(self.max_size).unwrap_or(0)
    }
}

/// Every model faceswap knows.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    #[serde(rename = "model")]
    pub models: Vec<ModelEntry>,
}

impl Manifest {
    /// The manifest compiled into this build.
    ///
    /// # Errors
    /// [`ModelError::Manifest`] if it does not parse (a build-time mistake, caught by the tests).
    pub fn builtin() -> Result<Self, ModelError> {
        Self::parse(MANIFEST_TOML)
    }

    /// Parses manifest text.
    ///
    /// # Errors
    /// [`ModelError::Manifest`] with the parser's message, or when a hash is not 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let mut manifest: Self = toml::from_str(text).map_err(|e| ModelError::Manifest(e.to_string()))?;
        for m in &mut manifest.models {
            let bad = |what: &str| Err(ModelError::Manifest(format!("model {}: {what}", m.name)));
            match (&m.size, &m.sha256, m.max_size) {
                (Some(_), Some(hash), None) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {}
                (Some(_), Some(_), None) => return bad("sha256 must be 64 hex digits"),
                (None, None, Some(_)) => m.pinning = Pinning::None,
                _ => return bad("give size and sha256, or (when no sha256 can be cited) max_size alone"),
            }
        }
        Ok(manifest)
    }

    /// The entry called `name`.
    ///
    /// # Errors
    /// [`ModelError::Unknown`] listing the known names.
    pub fn get(&self, name: &str) -> Result<&ModelEntry, ModelError> {
        self.models.iter().find(|m| m.name == name).ok_or_else(|| ModelError::Unknown {
            name: name.to_string(),
            known: self.models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// The model for `role` in `pack`.
    pub fn in_pack(&self, pack: &str, role: ModelRole) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.pack == pack && m.role == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifest_parses_and_has_the_default_pack() {
        let manifest = Manifest::builtin().unwrap();
        for role in [ModelRole::Detector, ModelRole::Embedder, ModelRole::Landmarks] {
            assert!(manifest.in_pack(DEFAULT_PACK, role).is_some(), "default pack lacks a {role}");
        }
        assert_eq!(manifest.get("inswapper_128").unwrap().size, Some(554_253_681));
        let gfpgan = manifest.get("gfpgan_1.4").unwrap();
        assert_eq!((gfpgan.pinning, gfpgan.role), (Pinning::None, ModelRole::Enhancer));
        assert!(gfpgan.byte_limit() > 0);
    }

    #[test]
    fn unknown_name_lists_known_ones() {
        let err = Manifest::builtin().unwrap().get("nope").unwrap_err().to_string();
        assert!(err.contains("w600k_mbf"), "{err}");
    }

    #[test]
    fn bad_hash_is_rejected() {
        let text = r#"[[model]]
name = "x"
role = "detector"
pack = "p"
file = "x.onnx"
size = 1
sha256 = "abc"
license = "l"
"#;
        assert!(matches!(Manifest::parse(text), Err(ModelError::Manifest(_))));
    }
}
