//! The engine's provenance: the marks asked for, the signing identity and the verified
//! watermark encoder, opened with the engine so that a broken identity or model stops a run
//! before any work, not after it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{
    imaging::PictureFormat,
    models::{ModelStore, VerifiedModel},
    provenance::{
        Cadence, ContentCredentials, EditRecord, Embedding, MediaFormat, ProvenanceError, ProvenanceMarks,
        SigningIdentity, Watermarker,
    },
    runtime::SessionFactory,
    Result,
};

/// The watermark encoder's and decoder's names in the manifest.
pub const WATERMARK_ENCODER: &str = "rivagan_encoder";
pub const WATERMARK_DECODER: &str = "rivagan_decoder";

/// What marks outputs get and who signs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProvenanceConfig {
    /// `c2pa`, `watermark`, both (the default) or none.
    #[serde(with = "marks_text")]
    pub marks: ProvenanceMarks,
    /// A PEM certificate chain (signing certificate first) and its PKCS#8 key (ES256 or
    /// Ed25519); without them, the local identity in `data_dir`.
    pub sign_cert: Option<PathBuf>,
    pub sign_key: Option<PathBuf>,
    /// Where the local identity is kept (default: the user's data folder).
    pub data_dir: Option<PathBuf>,
}

impl Default for ProvenanceConfig {
    fn default() -> Self {
        Self { marks: ProvenanceMarks::ALL, sign_cert: None, sign_key: None, data_dir: None }
    }
}

mod marks_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::provenance::ProvenanceMarks;

    pub fn serialize<S: Serializer>(marks: &ProvenanceMarks, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&marks.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ProvenanceMarks, D::Error> {
        ProvenanceMarks::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl ProvenanceConfig {
    /// The signing identity this configuration names.
    ///
    /// # Errors
    /// See [`SigningIdentity::from_files`] and [`SigningIdentity::local`].
    pub fn identity(&self) -> Result<SigningIdentity, ProvenanceError> {
        match (&self.sign_cert, &self.sign_key) {
            (Some(cert), Some(key)) => SigningIdentity::from_files(cert, key),
            _ => {
                let dir = self.data_dir.clone().or_else(crate::paths::data_home).unwrap_or_else(|| PathBuf::from("."));
                SigningIdentity::local(&dir)
            }
        }
    }
}

/// The engine's provenance, ready: marks, identity, watermark encoder file.
#[derive(Debug, Clone)]
pub struct Provenance {
    marks: ProvenanceMarks,
    credentials: Option<ContentCredentials>,
    key_id: u16,
    encoder: Option<VerifiedModel>,
}

impl Provenance {
    /// Opens what `config` asks for: the identity (for the manifest, and the watermark's key
    /// id), the encoder file verified in `store`.
    ///
    /// # Errors
    /// A bad identity, a missing or damaged encoder.
    pub fn open(config: &ProvenanceConfig, store: &ModelStore) -> Result<Self> {
        let marks = config.marks;
        if marks == ProvenanceMarks::NONE {
            return Ok(Self::none());
        }
        let identity = config.identity()?;
        let key_id = identity.key_id();
        let encoder = if marks.watermark { Some(store.verify(WATERMARK_ENCODER)?) } else { None };
        let credentials = marks.c2pa.then(|| ContentCredentials::new(identity));
        Ok(Self { marks, credentials, key_id, encoder })
    }

    /// No marks at all.
    pub fn none() -> Self {
        Self { marks: ProvenanceMarks::NONE, credentials: None, key_id: 0, encoder: None }
    }

    /// The marks outputs get.
    pub fn marks(&self) -> ProvenanceMarks {
        self.marks
    }

    /// A watermarker on `factory`, when the watermark is on.
    ///
    /// # Errors
    /// When its session cannot be built.
    pub fn watermarker(&self, factory: &SessionFactory, cadence: Cadence) -> Result<Option<Watermarker>> {
        match &self.encoder {
            Some(model) => Ok(Some(Watermarker::build(factory, model, self.key_id, cadence)?)),
            None => Ok(None),
        }
    }

    /// `bytes` (a picture encoded as `format`) signed, or as they are when manifests are off.
    ///
    /// # Errors
    /// When signing fails.
    pub fn sign_picture(
        &self,
        bytes: Vec<u8>,
        format: PictureFormat,
        title: &str,
        record: &EditRecord<'_>,
    ) -> Result<Vec<u8>> {
        let Some(credentials) = &self.credentials else { return Ok(bytes) };
        let format = match format {
            PictureFormat::Png => MediaFormat::Png,
            PictureFormat::Jpeg => MediaFormat::Jpeg,
        };
        Ok(credentials.sign_bytes(&bytes, format, title, record)?)
    }

    /// Signs the finished file at `path`, to be known as `output`; `None` when manifests are
    /// off.
    ///
    /// # Errors
    /// When signing fails.
    pub fn sign_file(&self, path: &Path, output: &Path, record: &EditRecord<'_>) -> Result<Option<Embedding>> {
        match &self.credentials {
            Some(credentials) => Ok(Some(credentials.sign_file(path, output, record)?)),
            None => Ok(None),
        }
    }
}
