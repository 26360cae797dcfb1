//! Client TLS for Sextant's outbound connections: the `tls:` block of the
//! database checks, the rustls client it builds (ring provider; the CA file
//! or the system roots; the two dangerous switches), the handshake's failures
//! in words ("certificate signed by an unknown authority", "certificate is
//! not valid for 10.0.0.5 (it names db.local)"), a certificate's validity
//! period ([`cert`]), and RFC 5929 channel binding ([`server_end_point`]),
//! the last two reading the peer's bytes with one bounds-checked DER walker.
//!
//! The trust roots ([`load_roots`]) are also what the OTLP exporter's
//! `https://` client trusts, so reading a CA file lives in one place.
//!
//! The handshake itself is not bounded here: every caller runs it under its
//! check's deadline.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;

pub mod cert;
mod channel_binding;
mod der;

pub use channel_binding::server_end_point;

use cert::rfc3339;

/// The `tls:` block of the MySQL, PostgreSQL and Redis checks: present
/// means the check speaks only TLS to its server and verifies it as set
/// here. (The MySQL check refuses `skip_domain_validation` alone: its driver
/// cannot honour it.)
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    /// PEM file of the CA(s) to trust instead of the system roots (as
    /// libpq's `sslrootcert` and `redis-cli --cacert`).
    pub ca_file: Option<PathBuf>,
    /// Accept a certificate whose names do not include the configured host,
    /// still requiring a chain to a trusted CA (dangerous; libpq's
    /// `sslmode=verify-ca`).
    pub skip_domain_validation: bool,
    /// Accept any certificate at all: encryption without trust (dangerous;
    /// libpq's `sslmode=require`). No CA is read.
    pub accept_invalid_certs: bool,
}

/// Why a TLS client could not be set up from its settings (a config
/// problem, found when the check is built, never during a check).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The CA file could not be read or holds no PEM certificate block.
    #[error("ca_file {}: {source}", path.display())]
    CaFile {
        /// The file named in the settings.
        path: PathBuf,
        /// What reading or decoding it said.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The CA file holds no certificate.
    #[error("ca_file {}: no certificates in it", path.display())]
    NoCertificates {
        /// The file named in the settings.
        path: PathBuf,
    },
    /// A certificate in the CA file is not a usable trust anchor.
    #[error("ca_file {}: {source}", path.display())]
    BadCertificate {
        /// The file named in the settings.
        path: PathBuf,
        /// Why rustls refused it.
        #[source]
        source: rustls::Error,
    },
    /// No CA file was given and the system has no CA certificates.
    #[error("no system CA certificates found; set ca_file")]
    NoSystemRoots,
    /// rustls refused the configuration itself.
    #[error("TLS setup: {0}")]
    Rustls(String),
    /// The host is neither a DNS name nor an IP address, so there is
    /// nothing to verify the certificate against.
    #[error("host {host:?} is not a valid TLS server name")]
    ServerName {
        /// The configured host.
        host: String,
    },
}

/// Why a handshake failed, in words (the check puts it after "TLS error: ").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HandshakeError(pub String);

/// The trust roots of a TLS client: the certificates in `ca_file`, else the
/// system's. Errors name the file and why.
pub fn load_roots(ca_file: Option<&Path>) -> Result<rustls::RootCertStore, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|source| TlsSetupError::CaFile {
                    path: path.to_path_buf(),
                    source,
                })?;
            if certs.is_empty() {
                return Err(TlsSetupError::NoCertificates {
                    path: path.to_path_buf(),
                });
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|source| TlsSetupError::BadCertificate {
                        path: path.to_path_buf(),
                        source,
                    })?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                // One unparsable system certificate must not make TLS unusable.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(TlsSetupError::NoSystemRoots);
            }
        }
    }
    Ok(roots)
}

/// `host` as the name a certificate must carry (a DNS name or an IP).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsSetupError> {
    ServerName::try_from(host.to_string()).map_err(|_| TlsSetupError::ServerName {
        host: host.to_string(),
    })
}

/// A prepared TLS client: roots read once, one rustls config for every
/// connection of a check.
#[derive(Clone)]
pub struct Connector {
    config: Arc<rustls::ClientConfig>,
    /// What the roots are, for "unknown authority" texts.
    trusted: String,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("trusted", &self.trusted)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Reads the roots (unless `accept_invalid_certs`) and builds the
    /// rustls config: ring, TLS 1.2 and 1.3, no client certificate.
    pub fn new(settings: &TlsSettings) -> Result<Self, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let webpki = if settings.accept_invalid_certs {
            None
        } else {
            let roots = load_roots(settings.ca_file.as_deref())?;
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
            Some(verifier)
        };
        let verifier = Verifier {
            webpki,
            algorithms: provider.signature_verification_algorithms,
            skip_domain_validation: settings.skip_domain_validation,
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let trusted = match &settings.ca_file {
            Some(path) => format!("the CAs in {}", path.display()),
            None => "the system's CAs".to_string(),
        };
        Ok(Connector {
            config: Arc::new(config),
            trusted,
        })
    }

    /// The rustls config, for clients that drive the handshake themselves.
    pub fn config(&self) -> Arc<rustls::ClientConfig> {
        Arc::clone(&self.config)
    }

    /// Runs the handshake on `stream` for `name` (SNI unless an IP, and the
    /// name verified). Not bounded here: the caller wraps it in its deadline.
    pub async fn handshake<S>(
        &self,
        name: ServerName<'static>,
        stream: S,
    ) -> Result<TlsStream<S>, HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let shown = name.to_str().into_owned();
        tokio_rustls::TlsConnector::from(self.config())
            .connect(name, stream)
            .await
            .map_err(|e| HandshakeError(self.describe_io(&e, &shown)))
    }

    fn describe_io(&self, e: &std::io::Error, host: &str) -> String {
        if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return self.describe(tls, host);
        }
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "the server closed the connection during the handshake \
                 (does it speak TLS on this port?)"
                    .to_string()
            }
            _ => format!("I/O error during the handshake: {e}"),
        }
    }

    /// A rustls error in words, naming what was expected.
    fn describe(&self, e: &rustls::Error, host: &str) -> String {
        match e {
            rustls::Error::InvalidCertificate(c) => describe_certificate(c, host, &self.trusted),
            rustls::Error::AlertReceived(alert) => {
                format!("the server refused the handshake (alert {alert:?})")
            }
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
                format!("the server does not answer in TLS ({e})")
            }
            other => other.to_string(),
        }
    }
}

fn describe_certificate(e: &CertificateError, host: &str, trusted: &str) -> String {
    match e {
        CertificateError::UnknownIssuer => {
            format!("certificate signed by an unknown authority (trusting {trusted})")
        }
        CertificateError::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
            let names: Vec<&str> = presented.iter().map(|n| plain_name(n)).collect();
            format!(
                "certificate is not valid for {host} (it names {})",
                names.join(", ")
            )
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("certificate is not valid for {host}")
        }
        CertificateError::ExpiredContext { not_after, .. } => {
            let at = i64::try_from(not_after.as_secs()).unwrap_or(i64::MAX);
            format!("certificate expired (notAfter {})", rfc3339(at))
        }
        CertificateError::Expired => "certificate expired".to_string(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate is not valid yet".to_string()
        }
        CertificateError::BadSignature => {
            "certificate signature does not verify against the trusted CAs".to_string()
        }
        other => format!("certificate rejected: {other}"),
    }
}

/// `localhost` for WebPKI's `DnsName("localhost")`, `10.0.0.5` for
/// `IpAddress(10.0.0.5)`; anything else as it is.
fn plain_name(presented: &str) -> &str {
    presented
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            presented
                .strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        })
        .unwrap_or(presented)
}

/// The check's verifier: WebPKI against the roots, with a name mismatch
/// forgiven when `skip_domain_validation` and everything forgiven when there
/// are no roots (`accept_invalid_certs`). Handshake signatures are always
/// verified, so the peer must still hold the certificate's key.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    skip_domain_validation: bool,
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
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        // WebPKI checks the chain first and the name last, so a name error
        // means the chain itself is trusted.
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.skip_domain_validation => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first certificate of a PEM file, as DER.
    pub(crate) fn leaf_der(path: &Path) -> CertificateDer<'static> {
        CertificateDer::pem_file_iter(path)
            .and_then(|mut it| it.next().transpose())
            .expect("read PEM")
            .expect("a certificate in the file")
    }

    fn parse(json: &str) -> Result<TlsSettings, String> {
        serde_json::from_str::<TlsSettings>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn settings_parse_with_defaults_and_reject_unknown_keys() {
        assert_eq!(parse("{}").expect("empty block"), TlsSettings::default());
        let s = parse(r#"{"ca_file":"/etc/ca.pem","skip_domain_validation":true}"#)
            .expect("valid block");
        assert_eq!(s.ca_file, Some(PathBuf::from("/etc/ca.pem")));
        assert!(s.skip_domain_validation && !s.accept_invalid_certs);
        let err = parse(r#"{"ca":"/etc/ca.pem"}"#).expect_err("typo");
        assert!(err.contains("unknown field `ca`"), "{err}");
        let err = parse(r#"{"accept_invalid_certs":"yes"}"#).expect_err("not a bool");
        assert!(err.contains("expected a boolean"), "{err}");
    }

    #[test]
    fn setup_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.pem");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        for (path, want) in [
            (&missing, "missing.pem: "),
            (&empty, "no certificates in it"),
        ] {
            let settings = TlsSettings {
                ca_file: Some(path.clone()),
                ..TlsSettings::default()
            };
            let err = Connector::new(&settings)
                .expect_err("bad CA file")
                .to_string();
            assert!(err.starts_with("ca_file "), "{err}");
            assert!(err.contains(want), "{err} lacks {want}");
        }
        // accept_invalid_certs reads no CA at all.
        let anything = TlsSettings {
            ca_file: Some(missing),
            accept_invalid_certs: true,
            ..TlsSettings::default()
        };
        assert!(Connector::new(&anything).is_ok());
        let err = server_name("db local").expect_err("space").to_string();
        assert_eq!(err, "host \"db local\" is not a valid TLS server name");
        assert!(server_name("::1").is_ok() && server_name("db.local").is_ok());
    }

    #[test]
    fn certificate_errors_in_words() {
        let trusted = "the CAs in /ca.pem";
        let name = ServerName::try_from("10.0.0.5").expect("ip").to_owned();
        let cases = [
            (
                CertificateError::UnknownIssuer,
                "certificate signed by an unknown authority (trusting the CAs in /ca.pem)",
            ),
            (
                CertificateError::NotValidForNameContext {
                    expected: name,
                    presented: vec![
                        "DnsName(\"db.local\")".into(),
                        "IpAddress(10.0.0.6)".into(),
                        "Unsupported(0x81)".into(),
                    ],
                },
                "certificate is not valid for 10.0.0.5 (it names db.local, 10.0.0.6, Unsupported(0x81))",
            ),
            (
                CertificateError::NotValidForName,
                "certificate is not valid for 10.0.0.5",
            ),
            (
                CertificateError::ExpiredContext {
                    time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_600_000_000)),
                    not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                        1_580_515_200,
                    )),
                },
                "certificate expired (notAfter 2020-02-01T00:00:00Z)",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(describe_certificate(&err, "10.0.0.5", trusted), want);
        }
    }
}
