//! The one server-certificate verifier of every client: WebPKI against the
//! trust roots, the two dangerous switches of the database checks, and a
//! copy of the chain the peer sent, kept even when the chain is rejected
//! (so an expired certificate can say when it expired). Handshake
//! signatures are always verified, whatever the switches say, so the peer
//! must still hold the key of the certificate it shows.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use crate::roots::load_roots;
use crate::{TlsSettings, TlsSetupError};

/// The peer signed the handshake with a key that is not its certificate's:
/// rustls calls that a bad signature, as it does a chain that does not
/// verify, but the words must tell the two apart.
#[derive(Debug, thiserror::Error)]
#[error("the server's handshake signature does not verify with its certificate's key")]
pub(crate) struct ForeignKey;

/// A handshake signature's verdict, a bad one named as [`ForeignKey`].
pub(crate) fn own_key(
    verdict: Result<HandshakeSignatureValid, rustls::Error>,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    verdict.map_err(|e| match e {
        rustls::Error::InvalidCertificate(CertificateError::BadSignature) => {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                ForeignKey,
            ))))
        }
        other => other,
    })
}

/// What a verifier accepts, read once per client (the roots are loaded
/// here) and shared by every handshake's verifier.
#[derive(Debug)]
pub(crate) struct Policy {
    /// WebPKI against the roots; None with `accept_invalid_certs`.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    skip_domain_validation: bool,
}

impl Policy {
    /// Reads the roots (unless `accept_invalid_certs`: then no CA is read).
    pub(crate) fn new(
        settings: &TlsSettings,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Self, TlsSetupError> {
        let webpki = if settings.accept_invalid_certs {
            None
        } else {
            let roots = load_roots(settings.ca_file.as_deref())?;
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
                    .build()
                    .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
            Some(verifier)
        };
        Ok(Policy {
            webpki,
            algorithms: provider.signature_verification_algorithms,
            skip_domain_validation: settings.skip_domain_validation,
        })
    }
}

/// The chain a verifier saw, end entity first; empty until it is asked.
pub(crate) type Seen = Arc<Mutex<Vec<CertificateDer<'static>>>>;

/// The verifier: the policy, and where the peer's chain goes.
#[derive(Debug)]
pub(crate) struct Verifier {
    policy: Arc<Policy>,
    /// Where this handshake's chain is kept; None for a config shared by
    /// many connections (a driver's), where nobody reads it.
    seen: Option<Seen>,
}

impl Verifier {
    /// A verifier that keeps no chain, for a config shared by connections.
    pub(crate) fn shared(policy: Arc<Policy>) -> Self {
        Verifier { policy, seen: None }
    }

    /// A verifier for one handshake, and where it keeps the peer's chain.
    pub(crate) fn capturing(policy: Arc<Policy>) -> (Self, Seen) {
        let seen = Seen::default();
        let verifier = Verifier {
            policy,
            seen: Some(Arc::clone(&seen)),
        };
        (verifier, seen)
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(seen) = &self.seen {
            let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
            seen.clear();
            seen.push(end_entity.clone().into_owned());
            seen.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        let Some(webpki) = &self.policy.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        // WebPKI checks the chain first and the name last, so a name error
        // means the chain itself is trusted.
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.policy.skip_domain_validation => Ok(ServerCertVerified::assertion()),
            other => other,
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
            &self.policy.algorithms,
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
            &self.policy.algorithms,
        ))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.policy.algorithms.supported_schemes()
    }
}
