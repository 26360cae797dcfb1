//! TLS for the HTTP and TCP checks: rustls (ring) trusting a CA file or the
//! system roots, a verifier that keeps the peer's chain even when it rejects
//! it (so an expired certificate says *when* it expired), and the judging of
//! certificate expiry both checks share.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::verdict::Reason;
use sextant_tls::cert::{self, human, rfc3339};

/// TLS settings of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsOptions {
    /// PEM file of the CA(s) to trust instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Name to send as SNI and verify the certificate against; defaults to
    /// the target's host.
    pub server_name: Option<String>,
}

/// A prepared TLS client: roots loaded once, a fresh capturing verifier per
/// connection.
#[derive(Debug, Clone)]
pub(crate) struct TlsClient {
    verifier: Arc<WebPkiServerVerifier>,
    alpn: Vec<Vec<u8>>,
}

/// What a handshake showed of the peer's certificates, success or not.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PeerCerts {
    /// Earliest `notAfter` over the chain the peer sent, Unix seconds
    /// (blackbox_exporter's `probe_ssl_earliest_cert_expiry`).
    pub earliest_not_after: Option<i64>,
    /// A certificate the peer sent that could not be parsed.
    pub parse_error: Option<String>,
}

/// How a handshake ended.
#[derive(Debug)]
pub(crate) enum Handshake {
    /// Encrypted and verified.
    Done(Box<TlsStream<TcpStream>>),
    /// The peer answered with a certificate we reject: it is up, but not
    /// trustworthy. The text says why.
    Rejected(String),
    /// The handshake failed otherwise (not TLS, reset, protocol error).
    Failed(String),
}

impl TlsClient {
    /// Loads the roots (the CA file, else the system's).
    pub(crate) fn new(opts: &TlsOptions, alpn: &[&[u8]]) -> Result<Self, String> {
        let roots = sextant_tls::load_roots(opts.ca_file.as_deref()).map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("TLS verifier: {e}"))?;
        Ok(TlsClient {
            verifier,
            alpn: alpn.iter().map(|p| p.to_vec()).collect(),
        })
    }

    /// Runs the handshake on `tcp` for `server_name` (a host name or IP).
    /// Not bounded here: the caller wraps it in its deadline.
    pub(crate) async fn handshake(
        &self,
        tcp: TcpStream,
        server_name: &str,
    ) -> (Handshake, PeerCerts) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let capturing = Capturing {
            inner: self.verifier.clone(),
            seen: seen.clone(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = match rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
        {
            Ok(b) => b,
            Err(e) => {
                return (
                    Handshake::Failed(format!("TLS setup: {e}")),
                    PeerCerts::default(),
                );
            }
        };
        let mut config = config
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(capturing))
            .with_no_client_auth();
        config.alpn_protocols = self.alpn.clone();
        let name = match ServerName::try_from(server_name.to_string()) {
            Ok(n) => n,
            Err(e) => {
                let why = format!("invalid TLS server name {server_name:?}: {e}");
                return (Handshake::Failed(why), PeerCerts::default());
            }
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let result = connector.connect(name, tcp).await;
        let chain = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
        let certs = peer_certs(&chain);
        let outcome = match result {
            Ok(stream) => Handshake::Done(Box::new(stream)),
            Err(e) => match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                Some(rustls::Error::InvalidCertificate(c)) => {
                    Handshake::Rejected(describe_cert_error(c, &certs, server_name))
                }
                Some(tls) => Handshake::Failed(format!("TLS handshake: {tls}")),
                None => Handshake::Failed(format!("TLS handshake: {e}")),
            },
        };
        (outcome, certs)
    }
}

fn peer_certs(chain: &[CertificateDer<'static>]) -> PeerCerts {
    let mut out = PeerCerts::default();
    for c in chain {
        match cert::validity(c.as_ref()) {
            Ok(v) => {
                out.earliest_not_after = Some(
                    out.earliest_not_after
                        .map_or(v.not_after, |e| e.min(v.not_after)),
                )
            }
            Err(e) => out.parse_error = Some(e.to_string()),
        }
    }
    out
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn describe_cert_error(e: &CertificateError, certs: &PeerCerts, name: &str) -> String {
    match e {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            match certs.earliest_not_after {
                Some(at) => expired_text(now_unix(), at),
                None => "certificate expired".to_string(),
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate is not valid yet".to_string()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("certificate is not valid for {name}")
        }
        CertificateError::UnknownIssuer => "certificate signed by an unknown authority".to_string(),
        CertificateError::BadSignature => {
            "certificate signature does not verify against the trusted CAs".to_string()
        }
        other => format!("certificate rejected: {other:?}"),
    }
}

/// `certificate expired 3d ago (notAfter 2020-02-01T00:00:00Z)`.
pub(crate) fn expired_text(now: i64, not_after: i64) -> String {
    let ago = Duration::from_secs(now.saturating_sub(not_after).max(0).unsigned_abs());
    format!(
        "certificate expired {} ago (notAfter {})",
        human(ago),
        rfc3339(not_after)
    )
}

/// The verdict parts of a verified chain's expiry: a readiness failure if
/// expired, a degraded reason if under `min_validity`.
pub(crate) fn judge_expiry(
    not_after: i64,
    now: i64,
    min_validity: Duration,
) -> (Option<String>, Option<Reason>) {
    if not_after <= now {
        return (Some(expired_text(now, not_after)), None);
    }
    let left = Duration::from_secs(not_after.saturating_sub(now).unsigned_abs());
    if left < min_validity {
        let text = format!(
            "certificate expires in {} (notAfter {}), under {}",
            human(left),
            rfc3339(not_after),
            human(min_validity)
        );
        return (None, Some(Reason::new("cert_expiry", text)));
    }
    (None, None)
}

/// Now, Unix seconds (for judging).
pub(crate) fn now() -> i64 {
    now_unix()
}

/// Delegates to the WebPKI verifier, keeping a copy of the chain it saw.
#[derive(Debug)]
struct Capturing {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Vec<CertificateDer<'static>>>>,
}

impl ServerCertVerifier for Capturing {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            seen.clear();
            seen.push(end_entity.clone().into_owned());
            seen.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_cases() {
        let day = 86_400;
        let min = Duration::from_secs(14 * day as u64);
        let now = 1_700_000_000;
        let cases = [
            (now + 30 * day, None, None),
            (now + 2 * day + 5, None, Some("certificate expires in 2d")),
            (now + 13 * day, None, Some("under 14d")),
            (now - 3 * day - 60, Some("certificate expired 3d ago"), None),
            (now, Some("certificate expired 0s ago"), None),
        ];
        for (not_after, fail, worry) in cases {
            let (f, w) = judge_expiry(not_after, now, min);
            match (f, fail) {
                (None, None) => {}
                (Some(f), Some(want)) => assert!(f.starts_with(want), "{f} vs {want}"),
                (f, want) => panic!("{f:?} but wanted {want:?}"),
            }
            match (w, worry) {
                (None, None) => {}
                (Some(w), Some(want)) => {
                    assert_eq!(w.signal, "cert_expiry");
                    assert!(w.text.contains(want), "{} lacks {want}", w.text);
                }
                (w, want) => panic!("{w:?} but wanted {want:?}"),
            }
        }
        assert_eq!(
            expired_text(1_580_515_200 + 3 * day, 1_580_515_200),
            "certificate expired 3d ago (notAfter 2020-02-01T00:00:00Z)"
        );
    }
}
