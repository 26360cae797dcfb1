//! Trust by identity rather than by chain: a client that accepts as the
//! server's exactly a certificate held in one PEM file, whatever its names,
//! issuer or CA flag. It exists for a process talking to its own listener
//! over loopback (`sextant up`'s agent to its collector): the listener's
//! certificate file is at hand, but it is often self-signed with `CA:TRUE`
//! (which WebPKI refuses as an end entity) or names a host other than
//! 127.0.0.1, and no CA file would make either verify. Handshake signatures
//! are still verified, so the peer must hold that certificate's key.
//!
//! **Invariant:** a handshake is accepted only when the end-entity
//! certificate is byte for byte one in the file, as last read; a certificate
//! not among them makes the file be read again first, so a certificate the
//! listener rotated to (same file, new contents) is followed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use crate::TlsSetupError;
use crate::verifier::own_key;

/// A client config that trusts exactly the certificates in `cert_file`
/// (see the module notes). Errors name the file and why.
pub fn pinned_client_config(cert_file: &Path) -> Result<rustls::ClientConfig, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Pinned {
        file: cert_file.to_path_buf(),
        certs: Mutex::new(read(cert_file)?),
        algorithms: provider.signature_verification_algorithms,
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

fn read(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|error| TlsSetupError::PinnedFile {
            path: path.to_path_buf(),
            error: error.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsSetupError::PinnedFile {
            path: path.to_path_buf(),
            error: "no certificates in it".to_string(),
        });
    }
    Ok(certs)
}

#[derive(Debug)]
struct Pinned {
    file: PathBuf,
    /// What the file held when last read.
    certs: Mutex<Vec<CertificateDer<'static>>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut certs = self.certs.lock().unwrap_or_else(PoisonError::into_inner);
        let known = |certs: &[CertificateDer<'static>]| {
            certs.iter().any(|c| c.as_ref() == end_entity.as_ref())
        };
        if !known(&certs) {
            // A file that cannot be read now keeps what it held before.
            if let Ok(fresh) = read(&self.file) {
                *certs = fresh;
            }
        }
        if known(&certs) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        own_key(rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.algorithms,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        own_key(rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.algorithms,
        ))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
