//! What can go wrong: setting a client up (a config problem, found when a
//! check or the exporter is built) and a handshake (found during a check,
//! already in words).

use std::path::PathBuf;

/// Why a TLS client could not be set up from its settings (a config
/// problem, found when the check is built, never during a check).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The CA file could not be read or holds no PEM certificate block.
    // The cause is in the text, not also a `source`: an error chain printed
    // whole (`{:#}`) would say it twice.
    #[error("ca_file {}: {error}", path.display())]
    CaFile {
        /// The file named in the settings.
        path: PathBuf,
        /// What reading or decoding it said.
        error: rustls::pki_types::pem::Error,
    },
    /// The CA file holds no certificate.
    #[error("ca_file {}: no certificates in it", path.display())]
    NoCertificates {
        /// The file named in the settings.
        path: PathBuf,
    },
    /// A certificate in the CA file is not a usable trust anchor.
    #[error("ca_file {}: {error}", path.display())]
    BadCertificate {
        /// The file named in the settings.
        path: PathBuf,
        /// Why rustls refused it.
        error: rustls::Error,
    },
    /// The certificate file a pinned client trusts could not be read or
    /// holds no certificate.
    #[error("certificate file {}: {error}", path.display())]
    PinnedFile {
        /// The file the client pins.
        path: PathBuf,
        /// Why it is unusable.
        error: String,
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

/// Why a handshake ended without a session, in words (a check puts them
/// after "TLS error: " or "TLS handshake: "). The two kinds matter to a
/// verdict: a peer that sent a certificate we reject is up, only not
/// trusted; one that failed the handshake otherwise may not be up at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The peer answered with a certificate (or a signature over the
    /// handshake) this client does not accept.
    #[error("{0}")]
    Rejected(String),
    /// The handshake failed otherwise: not TLS, refused, reset, a protocol
    /// error.
    #[error("{0}")]
    Failed(String),
}
