//! Listener security at the edge: TLS (rustls) and bearer-token auth,
//! loaded from a `ListenerSecurity` block and applied to any router.

use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sextant_config::listener::ListenerSecurity;
use subtle::ConstantTimeEq;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Longest token file read; a token is never megabytes.
const MAX_TOKEN_BYTES: u64 = 4096;

/// What a listener enforces, loaded once at startup.
#[derive(Clone, Default)]
pub struct Security {
    /// Present when the listener speaks TLS.
    pub tls: Option<TlsAcceptor>,
    /// Present when requests must carry `Authorization: Bearer <token>`.
    token: Option<Arc<[u8]>>,
}

impl Security {
    /// Reads the certificate, key and token files; errors name the file.
    pub fn load(cfg: &ListenerSecurity) -> Result<Security> {
        let tls = match (&cfg.tls_cert_file, &cfg.tls_key_file) {
            (Some(cert), Some(key)) => {
                let certs = CertificateDer::pem_file_iter(cert)
                    .with_context(|| format!("cannot read TLS certificate {}", cert.display()))?
                    .collect::<Result<Vec<_>, _>>()
                    .with_context(|| {
                        format!("invalid PEM in TLS certificate {}", cert.display())
                    })?;
                let key = PrivateKeyDer::from_pem_file(key)
                    .with_context(|| format!("cannot read TLS private key {}", key.display()))?;
                let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
                let mut config = ServerConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .context("TLS protocol versions")?
                    .with_no_client_auth()
                    .with_single_cert(certs, key)
                    .context("TLS certificate and key do not form a valid pair")?;
                // h2 first so gRPC clients negotiate HTTP/2 over TLS.
                config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
                Some(TlsAcceptor::from(Arc::new(config)))
            }
            _ => None,
        };
        let token = match &cfg.bearer_token_file {
            Some(path) => {
                let meta = std::fs::metadata(path)
                    .with_context(|| format!("cannot read token file {}", path.display()))?;
                anyhow::ensure!(
                    meta.len() <= MAX_TOKEN_BYTES,
                    "token file {} is over {MAX_TOKEN_BYTES} bytes",
                    path.display()
                );
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read token file {}", path.display()))?;
                let token = text.trim();
                anyhow::ensure!(!token.is_empty(), "token file {} is empty", path.display());
                Some(Arc::from(token.as_bytes()))
            }
            None => None,
        };
        Ok(Security { tls, token })
    }

    /// Wraps `router` so every request but the probes must carry the token.
    pub fn protect(&self, router: Router) -> Router {
        match &self.token {
            None => router,
            Some(token) => {
                let token = Arc::clone(token);
                router.layer(axum::middleware::from_fn(
                    move |req: Request, next: Next| {
                        let token = Arc::clone(&token);
                        async move { authorize(&token, req, next).await }
                    },
                ))
            }
        }
    }
}

/// Lets the request through when it carries the token (compared in constant
/// time) or asks for a probe; otherwise 401, in gRPC's form for gRPC calls.
async fn authorize(token: &[u8], req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/livez"
        || path == "/readyz"
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
    {
        return next.run(req).await;
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .unwrap_or(b"");
    if bool::from(presented.ct_eq(token)) {
        return next.run(req).await;
    }
    let is_grpc = req
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    if is_grpc {
        let mut resp = StatusCode::OK.into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        h.insert("grpc-status", HeaderValue::from_static("16"));
        h.insert(
            "grpc-message",
            HeaderValue::from_static("missing or invalid bearer token"),
        );
        return resp;
    }
    let mut resp = (
        StatusCode::UNAUTHORIZED,
        "missing or invalid bearer token\n",
    )
        .into_response();
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    resp
}
