//! HTTPS for `faceswap serve` with rustls: browsers give a page the camera only on HTTPS (or
//! localhost), so a studio reached over the network needs it. The certificate chain and key
//! are PEM files; a reverse proxy in front is the other way (README).

use std::{path::Path, sync::Arc};

use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why the certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("the TLS certificate {path} could not be read as a PEM certificate chain")]
    Certificate {
        path: std::path::PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("the TLS certificate file {path} holds no certificate")]
    NoCertificate { path: std::path::PathBuf },
    #[error("the TLS key {path} could not be read as a PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    Key {
        path: std::path::PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("the TLS certificate and key do not make a server identity")]
    Identity {
        #[source]
        source: rustls::Error,
    },
}

/// The acceptor for `cert` (its chain, leaf first) and `key`.
///
/// # Errors
/// [`TlsError`] naming the file that is wrong.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Certificate { path: cert.to_path_buf(), source })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: cert.to_path_buf() });
    }
    let key_der =
        PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key { path: key.to_path_buf(), source })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key_der))
        .map_err(|source| TlsError::Identity { source })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
