//! Who signs the Content Credentials: the user's certificate chain and key, or by default a
//! local CA and a signing certificate it issued, made on first use in the data folder. C2PA
//! refuses a self-signed signing certificate, hence the small CA.

use std::{io::Write, path::Path};

use c2pa::SigningAlg;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use sha2::{Digest, Sha256};

use super::ProvenanceError;

/// The file the default identity lives in, under the data folder: the signing key (PKCS#8)
/// then the chain (signing certificate, CA), mode 0600.
pub const LOCAL_IDENTITY_FILE: &str = "provenance/signing-identity.pem";

/// A certificate chain and its private key, ready to sign.
#[derive(Clone)]
pub struct SigningIdentity {
    chain_pem: String,
    key_pem: String,
    alg: SigningAlg,
    key_id: u16,
}

impl std::fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("SigningIdentity").field("alg", &self.alg).field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl SigningIdentity {
    /// The user's own: a PEM chain (signing certificate first) and its PKCS#8 key.
    ///
    /// # Errors
    /// A file that cannot be read, a key that is neither ES256 nor Ed25519, a chain with no
    /// certificate.
    pub fn from_files(cert: &Path, key: &Path) -> Result<Self, ProvenanceError> {
        let read = |what, path: &Path| {
            std::fs::read_to_string(path).map_err(|source| ProvenanceError::ReadIdentity {
                what,
                path: path.to_path_buf(),
                source,
            })
        };
        let chain_pem = read("certificate", cert)?;
        let key_pem = read("key", key)?;
        if !pem::parse_many(&chain_pem).is_ok_and(|blocks| blocks.iter().any(|b| b.tag() == "CERTIFICATE")) {
            return Err(ProvenanceError::NoCertificate { path: cert.to_path_buf() });
        }
        Self::assemble(chain_pem, key_pem, key)
    }

    /// The default identity in `data_dir` ([`LOCAL_IDENTITY_FILE`]), made there on first use.
    ///
    /// # Errors
    /// When the folder cannot be written or the file there is damaged.
    pub fn local(data_dir: &Path) -> Result<Self, ProvenanceError> {
        let file = data_dir.join(LOCAL_IDENTITY_FILE);
        let keep = |source| ProvenanceError::KeepIdentity { dir: data_dir.to_path_buf(), source };
        if !file.exists() {
            let made = issue_local()?;
            let parent = file.parent().unwrap_or(data_dir);
            std::fs::create_dir_all(parent).map_err(keep)?;
            let mut temp = tempfile::Builder::new().prefix(".identity").tempfile_in(parent).map_err(keep)?;
            // tempfile makes it 0600 already; said again so that no umask can widen it.
            set_private(temp.path()).map_err(keep)?;
            temp.write_all(made.as_bytes()).map_err(keep)?;
            temp.as_file().sync_all().map_err(keep)?;
            // Another process may have made one meanwhile: theirs is kept, and read below.
            if let Err(e) = temp.persist_noclobber(&file) {
                if e.error.kind() != std::io::ErrorKind::AlreadyExists {
                    return Err(keep(e.error));
                }
            }
            tracing::info!(file = %file.display(), "made the local signing identity (a local CA and its signing certificate)");
        }
        let text = std::fs::read_to_string(&file).map_err(|source| ProvenanceError::ReadIdentity {
            what: "identity",
            path: file.clone(),
            source,
        })?;
        let blocks = pem::parse_many(&text).map_err(|_| ProvenanceError::NoCertificate { path: file.clone() })?;
        let key_pem: String = blocks.iter().filter(|b| b.tag() == "PRIVATE KEY").map(pem::encode).collect();
        let chain_pem: String = blocks.iter().filter(|b| b.tag() == "CERTIFICATE").map(pem::encode).collect();
        if chain_pem.is_empty() {
            return Err(ProvenanceError::NoCertificate { path: file });
        }
        Self::assemble(chain_pem, key_pem, &file)
    }

    fn assemble(chain_pem: String, key_pem: String, key_path: &Path) -> Result<Self, ProvenanceError> {
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|source| ProvenanceError::Key { path: key_path.to_path_buf(), source })?;
        let alg = if key.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256 {
            SigningAlg::Es256
        } else if key.algorithm() == &rcgen::PKCS_ED25519 {
            SigningAlg::Ed25519
        } else {
            return Err(ProvenanceError::Key {
                path: key_path.to_path_buf(),
                source: rcgen::Error::UnsupportedSignatureAlgorithm,
            });
        };
        let digest = Sha256::digest(key.public_key_raw());
        let key_id = u16::from_be_bytes([digest[0], digest[1]]) % super::watermark::KEY_IDS;
        Ok(Self { chain_pem, key_pem, alg, key_id })
    }

    /// The signer c2pa signs with.
    ///
    /// # Errors
    /// When c2pa refuses the chain or the key.
    pub fn signer(&self) -> Result<c2pa::BoxedSigner, c2pa::Error> {
        c2pa::create_signer::from_keys(self.chain_pem.as_bytes(), self.key_pem.as_bytes(), self.alg, None)
    }

    /// A short id of the signing key (the first 11 bits of its public key's SHA-256), the
    /// watermark's second half.
    pub fn key_id(&self) -> u16 {
        self.key_id
    }

    /// The signature algorithm, by its C2PA name (`es256`, `ed25519`).
    pub fn algorithm(&self) -> String {
        self.alg.to_string()
    }
}

#[cfg(unix)]
fn set_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// A fresh local CA, a signing certificate it issues (digitalSignature, emailProtection, as
/// C2PA's certificate profile asks), as one PEM text: signing key, signing certificate, CA.
/// The CA's key is not kept: nothing else is ever issued by it.
fn issue_local() -> Result<String, ProvenanceError> {
    let host = gethostname_text();
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(ProvenanceError::Issue)?;
    ca.distinguished_name = name(&format!("faceswap local CA ({host})"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let now = time::OffsetDateTime::now_utc();
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(3650);
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(ProvenanceError::Issue)?;
    let issuer = CertifiedIssuer::self_signed(ca, ca_key).map_err(ProvenanceError::Issue)?;

    let mut leaf = CertificateParams::new(Vec::<String>::new()).map_err(ProvenanceError::Issue)?;
    leaf.distinguished_name = name(&format!("faceswap on {host} (local, unverified)"));
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = now - time::Duration::days(1);
    leaf.not_after = now + time::Duration::days(3650);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(ProvenanceError::Issue)?;
    let cert = leaf.signed_by(&key, &issuer).map_err(ProvenanceError::Issue)?;
    Ok(format!("{}{}{}", key.serialize_pem(), cert.pem(), issuer.pem()))
}

fn name(common: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common);
    name.push(DnType::OrganizationName, "faceswap");
    name
}

fn gethostname_text() -> String {
    let host = gethostname::gethostname().to_string_lossy().trim().to_string();
    if host.is_empty() {
        "this machine".into()
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_identity_is_made_once_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let first = SigningIdentity::local(dir.path()).unwrap();
        let again = SigningIdentity::local(dir.path()).unwrap();
        assert_eq!(first.key_id(), again.key_id());
        assert_eq!(first.algorithm(), "es256");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(LOCAL_IDENTITY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        first.signer().unwrap();
    }
}
