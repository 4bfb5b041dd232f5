//! `--provenance`, `--sign-cert`, `--sign-key`: the flags of every command that writes swapped
//! media.

use std::path::PathBuf;

use clap::Args;
use faceswap::{engine::ProvenanceConfig, provenance::ProvenanceMarks};

#[derive(Debug, Clone, Args)]
pub struct ProvenanceArgs {
    /// Marks on every output: c2pa (a signed Content Credentials manifest), watermark (an
    /// invisible one in every swapped frame), both (the default), or none.
    #[arg(long, value_name = "MARKS", default_value = "c2pa,watermark", value_parser = ProvenanceMarks::parse)]
    pub provenance: ProvenanceMarks,
    /// The PEM certificate chain that signs the manifests (signing certificate first); with
    /// --sign-key. Default: a local CA's certificate made on first use in the data folder.
    #[arg(long, value_name = "PEM", requires = "sign_key")]
    pub sign_cert: Option<PathBuf>,
    /// The PKCS#8 PEM private key of --sign-cert (ES256 or Ed25519).
    #[arg(long, value_name = "PEM", requires = "sign_cert")]
    pub sign_key: Option<PathBuf>,
}

impl ProvenanceArgs {
    /// The library's configuration; warns on stderr when a mark is off.
    ///
    /// # Errors
    /// `--sign-cert` with the manifest off (it would be ignored).
    pub fn config(&self, data_dir: Option<PathBuf>) -> anyhow::Result<ProvenanceConfig> {
        if self.sign_cert.is_some() && !self.provenance.c2pa {
            anyhow::bail!("--sign-cert signs C2PA manifests, and --provenance {} makes none: add c2pa to --provenance, or leave --sign-cert out", self.provenance);
        }
        if let Some(missing) = self.provenance.missing() {
            eprintln!("warning: --provenance {}: {missing}", self.provenance);
        }
        Ok(ProvenanceConfig {
            marks: self.provenance,
            sign_cert: self.sign_cert.clone(),
            sign_key: self.sign_key.clone(),
            data_dir,
        })
    }
}
