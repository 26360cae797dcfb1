//! Listener security at the edge: TLS (rustls) and bearer-token auth,
//! loaded from a `ListenerSecurity` block and applied to any router. The
//! certificate, its key and the token file are re-read on SIGHUP and when
//! they change (`reload`): new handshakes present the new certificate
//! (through a certificate resolver, so no listener restarts) and every
//! request is checked against the current token.
//!
//! **Invariant:** a replacement that fails to load (unreadable, not PEM, a
//! key that does not match, an empty token) never replaces what works: the
//! old certificate or token stays in force and an ERROR names the file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

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
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

use crate::reload::{self, Reload};

/// Longest token file read; a token is never megabytes.
const MAX_TOKEN_BYTES: u64 = 4096;

/// What a listener enforces, loaded at startup and kept current.
#[derive(Clone, Default)]
pub struct Security {
    /// Present when the listener speaks TLS.
    pub tls: Option<TlsAcceptor>,
    /// Present when requests must carry `Authorization: Bearer <token>`.
    token: Option<Arc<Token>>,
}

impl Security {
    /// Reads the certificate, key and token files (errors name the file),
    /// and, inside a runtime, keeps them reloaded.
    pub fn load(cfg: &ListenerSecurity) -> Result<Security> {
        let tls = match (&cfg.tls_cert_file, &cfg.tls_key_file) {
            (Some(cert), Some(key)) => {
                let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
                let cert = Arc::new(Certificate {
                    current: RwLock::new(Arc::new(certified_key(cert, key, &provider)?)),
                    cert_file: cert.clone(),
                    key_file: key.clone(),
                    provider: Arc::clone(&provider),
                });
                let mut config = ServerConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .context("TLS protocol versions")?
                    .with_no_client_auth()
                    .with_cert_resolver(Arc::clone(&cert) as Arc<dyn ResolvesServerCert>);
                // h2 first so gRPC clients negotiate HTTP/2 over TLS.
                config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
                reload::watch(Arc::downgrade(&(cert as Arc<dyn Reload>)));
                Some(TlsAcceptor::from(Arc::new(config)))
            }
            _ => None,
        };
        let token = match &cfg.bearer_token_file {
            Some(path) => {
                let token = Arc::new(Token {
                    current: RwLock::new(read_token(path)?),
                    file: path.clone(),
                });
                reload::watch(Arc::downgrade(&(Arc::clone(&token) as Arc<dyn Reload>)));
                Some(token)
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
                        let current = token.current();
                        async move { authorize(&current, req, next).await }
                    },
                ))
            }
        }
    }
}

/// The certificate and key new handshakes present, swapped on reload.
#[derive(Debug)]
struct Certificate {
    cert_file: PathBuf,
    key_file: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(PoisonError::into_inner),
        ))
    }
}

impl Reload for Certificate {
    fn files(&self) -> Vec<PathBuf> {
        vec![self.cert_file.clone(), self.key_file.clone()]
    }

    fn reload(&self) {
        match certified_key(&self.cert_file, &self.key_file, &self.provider) {
            Ok(key) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(key);
                tracing::info!(file = %self.cert_file.display(), "TLS certificate reloaded");
            }
            Err(e) => tracing::error!(
                file = %self.cert_file.display(),
                error = %format!("{e:#}"),
                "TLS certificate not reloaded; the previous one stays in use"
            ),
        }
    }
}

/// The chain in `cert` and the key in `key`, checked to belong together.
fn certified_key(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey> {
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read TLS certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("invalid PEM in TLS certificate {}", cert.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "TLS certificate {} holds no PEM certificate",
        cert.display()
    );
    let der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read TLS private key {}", key.display()))?;
    CertifiedKey::from_der(certs, der, provider).with_context(|| {
        format!(
            "TLS certificate {} and key {} do not form a valid pair",
            cert.display(),
            key.display()
        )
    })
}

/// The bearer token requests must carry, swapped on reload.
struct Token {
    file: PathBuf,
    current: RwLock<Arc<[u8]>>,
}

impl Token {
    fn current(&self) -> Arc<[u8]> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Reload for Token {
    fn files(&self) -> Vec<PathBuf> {
        vec![self.file.clone()]
    }

    fn reload(&self) {
        match read_token(&self.file) {
            Ok(token) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = token;
                tracing::info!(file = %self.file.display(), "bearer token reloaded");
            }
            Err(e) => tracing::error!(
                file = %self.file.display(),
                error = %format!("{e:#}"),
                "bearer token not reloaded; the previous one stays in use"
            ),
        }
    }
}

/// The token in `path`, trimmed; refused when empty or oversized.
fn read_token(path: &Path) -> Result<Arc<[u8]>> {
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
    Ok(Arc::from(token.as_bytes()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn presented(cert: &Certificate) -> Vec<u8> {
        let current = cert.current.read().unwrap_or_else(PoisonError::into_inner);
        current.cert[0].to_vec()
    }

    fn der(pem: &Path) -> Vec<u8> {
        CertificateDer::from_pem_file(pem).expect("pem").to_vec()
    }

    #[test]
    fn a_certificate_reload_swaps_a_good_pair_and_keeps_the_old_on_a_bad_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).expect("mkdir");
        std::fs::create_dir_all(&b).expect("mkdir");
        let (a, b) = (
            sextant_testing::tls::tls_files(&a),
            sextant_testing::tls::tls_files(&b),
        );
        let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::copy(&a.cert, &cert_file).expect("copy");
        std::fs::copy(&a.key, &key_file).expect("copy");
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let cert = Certificate {
            current: RwLock::new(Arc::new(
                certified_key(&cert_file, &key_file, &provider).expect("first pair"),
            )),
            cert_file: cert_file.clone(),
            key_file: key_file.clone(),
            provider,
        };
        assert_eq!(presented(&cert), der(&a.cert));
        // Half a rotation (new certificate, old key) is not a pair: kept.
        std::fs::copy(&b.cert, &cert_file).expect("copy");
        cert.reload();
        assert_eq!(presented(&cert), der(&a.cert));
        let err = certified_key(&cert_file, &key_file, &cert.provider).expect_err("mismatch");
        assert!(
            format!("{err:#}").contains("do not form a valid pair"),
            "{err:#}"
        );
        std::fs::copy(&b.key, &key_file).expect("copy");
        cert.reload();
        assert_eq!(presented(&cert), der(&b.cert));
        for broken in ["", "-----BEGIN CERTIFICATE-----\nnot base64\n"] {
            std::fs::write(&cert_file, broken).expect("write");
            let err = certified_key(&cert_file, &key_file, &cert.provider).expect_err("broken");
            assert!(
                format!("{err:#}").contains(&cert_file.display().to_string()),
                "{err:#}"
            );
            cert.reload();
            assert_eq!(presented(&cert), der(&b.cert));
        }
    }

    #[test]
    fn a_token_reload_takes_a_new_token_and_refuses_an_empty_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("token");
        std::fs::write(&file, "one\n").expect("write");
        let token = Token {
            current: RwLock::new(read_token(&file).expect("token")),
            file: file.clone(),
        };
        std::fs::write(&file, " two \n").expect("write");
        token.reload();
        assert_eq!(&*token.current(), b"two");
        std::fs::write(&file, "\n").expect("write");
        token.reload();
        assert_eq!(&*token.current(), b"two");
        std::fs::remove_file(&file).expect("rm");
        token.reload();
        assert_eq!(&*token.current(), b"two");
        assert_eq!(token.files(), vec![file]);
    }
}
