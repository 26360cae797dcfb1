//! Listeners: the only place the binary binds sockets. Each server stops
//! accepting when the shutdown signal flips and finishes in-flight requests.

use anyhow::{Context, Result};
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Binds `addr` now (so a busy port fails at startup) and serves `router`
/// (HTTP/1.1 and h2c, so gRPC routes work too) until shutdown.
pub async fn serve(
    name: &'static str,
    addr: &str,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) -> Result<JoinHandle<Result<()>>> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("{name}: cannot listen on {addr}"))?;
    let local = listener
        .local_addr()
        .with_context(|| format!("{name}: no local address"))?;
    tracing::info!(listener = name, address = %local, "listening");
    Ok(tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            })
            .await
            .with_context(|| format!("{name} on {local} failed"))
    }))
}

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
    use prometheus::Encoder;
    let encoder = prometheus::TextEncoder::new();
    let mut buf = Vec::new();
    match encoder.encode(&registry.gather(), &mut buf) {
        Ok(()) => (
            [(
                axum::http::header::CONTENT_TYPE,
                encoder.format_type().to_string(),
            )],
            buf,
        )
            .into_response(),
        Err(e) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("metrics encoding failed: {e}"),
        )
            .into_response(),
    }
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
