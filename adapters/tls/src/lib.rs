//! The one client TLS of every outbound connection Sextant makes: the
//! database checks, the HTTP and TCP checks, and the OTLP exporter's
//! `https://` client all go through it, so trust, verification and the
//! words of a failure are the same everywhere.
//!
//! * [`TlsSettings`] and [`TlsOptions`] — the two `tls:` blocks of the
//!   config (the database checks' with the two dangerous switches; the
//!   HTTP and TCP checks' with a server-name override), both mapping onto
//!   one [`Connector`].
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
//!   connector uses, also for drivers that drive rustls themselves (the
//!   MySQL check's, naming what it trusts with [`Trusted`]).
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
mod pinned;
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
pub use pinned::pinned_client_config;
pub use settings::{TlsOptions, TlsSettings};
pub use words::{Trusted, describe_error, expired_text};
