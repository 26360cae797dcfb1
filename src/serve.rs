//! Listeners: the only place the binary binds sockets. Each server stops
//! accepting when the shutdown signal flips and finishes in-flight requests.

use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::security::Security;

/// Binds `addr` now (so a busy port fails at startup) and serves `router`
/// (HTTP/1.1 and HTTP/2, so gRPC routes work too; TLS and the bearer token
/// when `security` asks for them) until shutdown.
pub async fn serve(
    name: &'static str,
    addr: &str,
    router: Router,
    security: &Security,
    mut shutdown: watch::Receiver<bool>,
) -> Result<JoinHandle<Result<()>>> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("{name}: cannot listen on {addr}"))?;
    let local = listener
        .local_addr()
        .with_context(|| format!("{name}: no local address"))?;
    let router = security.protect(router);
    let Some(tls) = security.tls.clone() else {
        tracing::info!(listener = name, address = %local, "listening");
        return Ok(tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = shutdown.wait_for(|stop| *stop).await;
                })
                .await
                .with_context(|| format!("{name} on {local} failed"))
        }));
    };
    tracing::info!(listener = name, address = %local, tls = true, "listening");
    Ok(tokio::spawn(async move {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        loop {
            let (tcp, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(listener = name, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
            };
            let tls = tls.clone();
            let router = router.clone();
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let stream = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(tcp))
                    .await
                {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        return tracing::debug!(listener = name, %peer, error = %e, "TLS handshake failed");
                    }
                    Err(_) => {
                        return tracing::debug!(listener = name, %peer, "TLS handshake timed out");
                    }
                };
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        tower::ServiceExt::oneshot(router.clone(), req)
                    },
                );
                let builder = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                let conn = builder
                    .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(stream), service);
                if let Err(e) = watcher.watch(conn.into_owned()).await {
                    tracing::debug!(listener = name, %peer, error = %e, "connection ended with an error");
                }
            });
        }
        // Give in-flight requests a bounded time to finish.
        let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
        Ok(())
    }))
}

/// A client that connects but never finishes the handshake is dropped after this.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// `/metrics`, `/livez` and `/readyz` for a process whose metrics live in `registry`.
pub fn self_router(registry: prometheus::Registry) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let registry = registry.clone();
                async move { metrics_text(&registry) }
            }),
        )
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
}

fn metrics_text(registry: &prometheus::Registry) -> axum::response::Response {
    let text = registry_text(registry);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The registry in the Prometheus text format (empty if it cannot be encoded,
/// which only a registry with conflicting metric definitions could cause).
pub fn registry_text(registry: &prometheus::Registry) -> String {
    prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "metrics encoding failed");
            String::new()
        })
}

/// Resolves when SIGINT or SIGTERM arrives, then flips `tx`.
pub async fn wait_for_signal(tx: watch::Sender<bool>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
    let _ = tx.send(true);
}
