//! What can go wrong making, reading or checking provenance.

use std::path::PathBuf;

use crate::{error_kind::ErrorKind, runtime::RuntimeError};

/// A provenance failure: the signing identity, a manifest, the watermark.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    #[error("cannot read the signing {what} {}", path.display())]
    ReadIdentity {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the signing key {} is not a PKCS#8 ES256 (P-256) or Ed25519 key", path.display())]
    Key {
        path: PathBuf,
        #[source]
        source: rcgen::Error,
    },
    #[error("the signing certificate {} holds no PEM certificate", path.display())]
    NoCertificate { path: PathBuf },
    #[error("cannot keep the local signing identity in {}", dir.display())]
    KeepIdentity {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot issue the local signing certificate")]
    Issue(#[source] rcgen::Error),
    #[error("cannot sign the Content Credentials of {what}")]
    Sign {
        what: String,
        /// Boxed: c2pa's error is large, and every result of the library carries this enum.
        #[source]
        source: Box<c2pa::Error>,
    },
    #[error("cannot write the Content Credentials of {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the sidecar manifest {}", path.display())]
    Sidecar {
        path: PathBuf,
        #[source]
        source: crate::atomic_file::WriteError,
    },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is not a picture or video whose provenance faceswap reads (JPEG, PNG, MP4, MOV, WebM, MKV)")]
    UnsupportedFormat { what: String },
    #[error("{what} is larger than the {limit}-byte limit for checking")]
    TooLarge { what: String, limit: u64 },
    #[error("{what}: cannot decode it")]
    Undecodable {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("the watermark model {model}: {detail}")]
    WatermarkModel { model: String, detail: String },
}

impl ProvenanceError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::ReadIdentity { source, .. } | Self::Read { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                ErrorKind::NotFound
            }
            Self::ReadIdentity { .. } | Self::Key { .. } | Self::NoCertificate { .. } | Self::Undecodable { .. } => {
                ErrorKind::InvalidInput
            }
            Self::UnsupportedFormat { .. } => ErrorKind::UnsupportedFormat,
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::Runtime(e) => e.kind(),
            Self::WatermarkModel { .. } => ErrorKind::ModelUnavailable,
            Self::Read { .. } => ErrorKind::InvalidInput,
            Self::KeepIdentity { .. }
            | Self::Issue(_)
            | Self::Sign { .. }
            | Self::Write { .. }
            | Self::Sidecar { .. } => ErrorKind::Internal,
        }
    }
}
