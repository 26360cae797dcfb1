//! The one client TLS of Sextant's outbound connections: the database
//! checks and the OTLP exporter's `https://` client go through it, so
//! trust, verification and the words of a failure are the same for them.
//!
//! * [`TlsSettings`] — the database checks' `tls:` block, with the two
//!   dangerous switches; what a [`Connector`] is built from.
//! * [`Connector`] — the trust roots (the CA file, else the system's), one
//!   rustls config (ring) with the one verifier (WebPKI, the dangerous
//!   switches, the peer's chain kept even when rejected; handshake
//!   signatures always verified), optional ALPN. [`Connector::handshake`]
//!   gives the stream or a [`HandshakeError`] that tells a rejected
//!   certificate (the peer is up, only not trusted) from a failed
//!   handshake, and the peer's certificates ([`PeerCerts`]: earliest
//!   `notAfter`, parse error) either way. [`Connector::config`] is the same
//!   client for drivers that run the handshake themselves.
//! * [`describe_error`] — handshake failures in words ("certificate signed
//!   by an unknown authority (trusting the CAs in /etc/ca.pem)",
//!   "certificate is not valid for 10.0.0.5 (it names db.local)",
//!   "certificate expired 3d ago (notAfter …)"), the one describer the
//!   connector uses, also for drivers that drive rustls themselves
//!   (naming what they trust with [`Trusted`]).
//! * [`cert`] — a certificate's validity period from its DER, and how
//!   times are written; [`server_end_point`] — RFC 5929 channel binding
//!   (SCRAM-SHA-256-PLUS). Both read the peer's bytes with one
//!   bounds-checked DER walker.
//!
//! Judging what a certificate's expiry means for a verdict is not here:
//! that is the health checks' (pure) business. The handshake itself is not
//! bounded here either: every caller runs it under its own deadline.

pub mod cert;
mod channel_binding;
mod connector;
mod der;
mod error;
mod peer;
mod roots;
mod settings;
mod verifier;
mod words;

#[cfg(test)]
mod tests;

pub use channel_binding::server_end_point;
pub use connector::{Connector, Handshake, server_name};
pub use error::{HandshakeError, TlsSetupError};
pub use peer::PeerCerts;
pub use roots::load_roots;
pub use settings::TlsSettings;
pub use words::{Trusted, describe_error, expired_text};
