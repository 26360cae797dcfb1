//! Handshake failures in words, one describer for every client: what a
//! check says when a certificate is rejected ("certificate signed by an
//! unknown authority (trusting the CAs in /etc/ca.pem)", "certificate is
//! not valid for 10.0.0.5 (it names db.local)", "certificate expired 3d ago
//! (notAfter …)") and when the handshake fails otherwise ("the server does
//! not answer in TLS (…)"). Clients that drive rustls themselves (the MySQL
//! driver) put their errors through [`describe_error`], so every check
//! reads the same.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use rustls::CertificateError;

use crate::HandshakeError;
use crate::cert::{human, rfc3339};
use crate::peer::PeerCerts;
use crate::verifier::ForeignKey;

/// What a client trusts, as an unknown-authority failure names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trusted {
    /// The CAs in the settings' `ca_file`.
    CaFile(PathBuf),
    /// The system's CA store.
    System,
    /// Roots a driver builds in, in its own words (the MySQL driver's
    /// Mozilla roots).
    BuiltIn(&'static str),
}

impl fmt::Display for Trusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trusted::CaFile(path) => write!(f, "the CAs in {}", path.display()),
            Trusted::System => f.write_str("the system's CAs"),
            Trusted::BuiltIn(words) => f.write_str(words),
        }
    }
}

/// What the words of one failure may name: the host the certificate had
/// to be valid for, what the client trusts, and the peer's chain (empty
/// when the caller never saw it).
pub(crate) struct Context<'a> {
    pub host: &'a str,
    pub trusted: &'a Trusted,
    pub peer: &'a PeerCerts,
}

/// A rustls error of a handshake with `host` in words, for clients that
/// drive rustls themselves: [`HandshakeError::Rejected`] for a certificate
/// (or handshake signature) not accepted, [`HandshakeError::Failed`] for
/// anything else.
pub fn describe_error(e: &rustls::Error, host: &str, trusted: &Trusted) -> HandshakeError {
    let peer = PeerCerts::default();
    describe(
        e,
        &Context {
            host,
            trusted,
            peer: &peer,
        },
    )
}

/// What tokio-rustls said of a failed handshake, in words.
pub(crate) fn describe_io(e: &std::io::Error, cx: &Context<'_>) -> HandshakeError {
    if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return describe(tls, cx);
    }
    HandshakeError::Failed(match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "the server closed the connection during the \
             handshake (does it speak TLS on this port?)"
            .to_string(),
        _ => format!("I/O error during the handshake: {e}"),
    })
}

/// A rustls error in words, naming what was expected.
pub(crate) fn describe(e: &rustls::Error, cx: &Context<'_>) -> HandshakeError {
    match e {
        rustls::Error::InvalidCertificate(c) => {
            // With the chain, an expired certificate says how long ago, by
            // the earliest notAfter the checks also export.
            if let (CertificateError::Expired | CertificateError::ExpiredContext { .. }, Some(at)) =
                (c, cx.peer.earliest_not_after)
            {
                let now = match c {
                    CertificateError::ExpiredContext { time, .. } => unix(time.as_secs()),
                    _ => now_unix(),
                };
                return HandshakeError::Rejected(expired_text(now, at));
            }
            HandshakeError::Rejected(describe_certificate(c, cx.host, &cx.trusted.to_string()))
        }
        rustls::Error::AlertReceived(alert) => HandshakeError::Failed(format!(
            "the server refused the handshake (alert {alert:?})"
        )),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            HandshakeError::Failed(format!("the server does not answer in TLS ({e})"))
        }
        other => HandshakeError::Failed(other.to_string()),
    }
}

/// A rejected certificate in words. Without the peer's chain an expired
/// certificate names its `notAfter` only; [`describe`] says how long ago
/// when it has the chain.
pub(crate) fn describe_certificate(e: &CertificateError, host: &str, trusted: &str) -> String {
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
            format!(
                "certificate expired (notAfter {})",
                rfc3339(unix(not_after.as_secs()))
            )
        }
        CertificateError::Expired => "certificate expired".to_string(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate is not valid yet".to_string()
        }
        CertificateError::BadSignature => {
            "certificate signature does not verify against the trusted CAs".to_string()
        }
        CertificateError::Other(other) => match other.0.downcast_ref::<ForeignKey>() {
            Some(foreign) => foreign.to_string(),
            None => format!("certificate rejected: {}", other.0),
        },
        other => format!("certificate rejected: {other}"),
    }
}

/// `certificate expired 3d ago (notAfter 2020-02-01T00:00:00Z)`: how the
/// checks say a certificate has expired, whether the handshake refused it
/// or a check found it past its date.
pub fn expired_text(now: i64, not_after: i64) -> String {
    let ago = Duration::from_secs(now.saturating_sub(not_after).max(0).unsigned_abs());
    format!(
        "certificate expired {} ago (notAfter {})",
        human(ago),
        rfc3339(not_after)
    )
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

fn unix(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| unix(d.as_secs()))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{ServerName, UnixTime};

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

    #[test]
    fn with_the_chain_an_expired_certificate_says_how_long_ago() {
        let day = 86_400;
        let trusted = Trusted::CaFile("/ca.pem".into());
        let peer = PeerCerts {
            earliest_not_after: Some(1_580_515_200),
            parse_error: None,
        };
        let cx = Context {
            host: "db",
            trusted: &trusted,
            peer: &peer,
        };
        let at = |secs: u64| UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
        let expired = rustls::Error::InvalidCertificate(CertificateError::ExpiredContext {
            time: at(1_580_515_200 + 3 * day + 60),
            not_after: at(1_580_515_200),
        });
        assert_eq!(
            describe(&expired, &cx),
            HandshakeError::Rejected(
                "certificate expired 3d ago (notAfter 2020-02-01T00:00:00Z)".into()
            )
        );
        // Without the chain (a driver's own handshake), the context only.
        assert_eq!(
            describe_error(&expired, "db", &trusted),
            HandshakeError::Rejected("certificate expired (notAfter 2020-02-01T00:00:00Z)".into())
        );
        assert_eq!(
            expired_text(1_580_515_200 + 3 * day as i64, 1_580_515_200),
            "certificate expired 3d ago (notAfter 2020-02-01T00:00:00Z)"
        );
        assert_eq!(
            expired_text(1_580_515_200, 1_580_515_200 + 5),
            "certificate expired 0s ago (notAfter 2020-02-01T00:00:05Z)"
        );
    }

    #[test]
    fn other_failures_in_words() {
        let trusted = Trusted::System;
        let peer = PeerCerts::default();
        let cx = Context {
            host: "db",
            trusted: &trusted,
            peer: &peer,
        };
        let cases = [
            (
                rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
                HandshakeError::Failed(
                    "the server refused the handshake (alert HandshakeFailure)".into(),
                ),
            ),
            (
                rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
                HandshakeError::Rejected(
                    "certificate signed by an unknown authority (trusting the system's CAs)".into(),
                ),
            ),
            (
                rustls::Error::InvalidCertificate(CertificateError::Revoked),
                HandshakeError::Rejected("certificate rejected: Revoked".into()),
            ),
        ];
        for (err, want) in cases {
            assert_eq!(describe(&err, &cx), want);
        }
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert_eq!(
            describe_io(&eof, &cx).to_string(),
            "the server closed the connection during the handshake \
             (does it speak TLS on this port?)"
        );
        let wrapped = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::NotValidYet),
        );
        assert_eq!(
            describe_io(&wrapped, &cx),
            HandshakeError::Rejected("certificate is not valid yet".into())
        );
        assert_eq!(
            Trusted::BuiltIn("the driver's roots").to_string(),
            "the driver's roots"
        );
    }
}
