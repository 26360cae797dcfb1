//! The one TLS client: a [`Connector`] built from [`TlsSettings`] (the
//! database checks' block, or what the HTTP and TCP checks' block maps
//! onto), whose [`Connector::handshake`] every check runs and whose rustls
//! config ([`Connector::config`]) clients that drive TLS themselves (the
//! exporter's reqwest) use.

use std::sync::{Arc, PoisonError};

use rustls::client::Resumption;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;

use crate::peer::PeerCerts;
use crate::verifier::{Policy, Verifier};
use crate::words::{Context, Trusted, describe_io};
use crate::{HandshakeError, TlsSettings, TlsSetupError};

/// `host` as the name a certificate must carry (a DNS name or an IP).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsSetupError> {
    ServerName::try_from(host.to_string()).map_err(|_| TlsSetupError::ServerName {
        host: host.to_string(),
    })
}

/// A prepared TLS client: roots read once, one rustls config (ring, TLS
/// 1.2 and 1.3, no client certificate) for every connection.
#[derive(Clone)]
pub struct Connector {
    policy: Arc<Policy>,
    config: Arc<rustls::ClientConfig>,
    /// What the roots are, for "unknown authority" texts.
    trusted: Trusted,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("trusted", &self.trusted)
            .field("alpn", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

/// How one handshake ended, and what the peer showed of its certificates
/// either way.
#[derive(Debug)]
pub struct Handshake<S> {
    /// The encrypted, verified stream, or why there is none.
    pub result: Result<TlsStream<S>, HandshakeError>,
    /// The chain the peer sent (empty if the handshake never got that far).
    pub peer: PeerCerts,
}

impl Connector {
    /// Reads the roots (unless `accept_invalid_certs`) and builds the
    /// rustls config.
    pub fn new(settings: &TlsSettings) -> Result<Self, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let policy = Arc::new(Policy::new(settings, &provider)?);
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Verifier::shared(Arc::clone(&policy))))
            .with_no_client_auth();
        let trusted = match &settings.ca_file {
            Some(path) => Trusted::CaFile(path.clone()),
            None => Trusted::System,
        };
        Ok(Connector {
            policy,
            config: Arc::new(config),
            trusted,
        })
    }

    /// Offers `protocols` by ALPN in every handshake (the HTTP check's
    /// `http/1.1`, so a server that insists on ALPN answers).
    pub fn with_alpn(mut self, protocols: &[&[u8]]) -> Self {
        Arc::make_mut(&mut self.config).alpn_protocols =
            protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    /// The rustls config, for clients that drive the handshake themselves
    /// (the exporter's reqwest, the test servers' client). It verifies as
    /// [`handshake`](Self::handshake) does but keeps no chain, and resumes
    /// sessions as rustls does by default.
    pub fn config(&self) -> Arc<rustls::ClientConfig> {
        Arc::clone(&self.config)
    }

    /// Runs the handshake on `stream` for `name` (SNI unless an IP, and the
    /// name verified). Every handshake is a full one, never a resumed
    /// session: a check must verify the certificate the server presents
    /// now and see its chain. Not bounded here: the caller wraps it in its
    /// deadline.
    pub async fn handshake<S>(&self, name: ServerName<'static>, stream: S) -> Handshake<S>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (verifier, seen) = Verifier::capturing(Arc::clone(&self.policy));
        let mut config = (*self.config).clone();
        config
            .dangerous()
            .set_certificate_verifier(Arc::new(verifier));
        config.resumption = Resumption::disabled();
        let host = name.to_str().into_owned();
        let result = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, stream)
            .await;
        let chain = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
        let peer = PeerCerts::of(&chain);
        let result = result.map_err(|e| {
            describe_io(
                &e,
                &Context {
                    host: &host,
                    trusted: &self.trusted,
                    peer: &peer,
                },
            )
        });
        Handshake { result, peer }
    }
}
