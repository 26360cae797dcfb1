//! Listeners: the only place the binary binds sockets. One serving loop for
//! plain and TLS connections (hyper-util's auto builder: HTTP/1.1 and, for
//! gRPC, HTTP/2 on one port), with the connection hygiene of `conns`,
//! `body_deadline` and `fdlimit`: a header-read timeout (hyper's), a
//! request-body deadline, an idle timeout swept every second, and a cap on
//! connections where a newcomer pushes out the longest-idle connection
//! rather than waiting behind slow ones. Each server stops accepting when
//! the shutdown signal flips and gives in-flight requests a bounded time.
//!
//! **Invariant:** accepting never stops and never spins: a failed `accept`
//! (EMFILE included) is logged at most once a minute, frees an idle
//! connection when descriptors ran out, and waits 50 ms before the next.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use sextant_config::listener::ConnectionLimits;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::body_deadline;
use crate::conns::{Admission, Close, Conn, Registry, Tracked};
use crate::fdlimit;
use crate::listener_metrics::{Counters, ListenerMetrics, Open};
use crate::security::Security;

/// A client that connects but never finishes the handshake is dropped after this.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long an expired connection gets to close politely (HTTP/2 GOAWAY).
const EXPIRE_GRACE: Duration = Duration::from_secs(5);
/// Pause after a failed accept, so a persistent failure cannot spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Cap and accept trouble is logged at most this often per listener.
const NOTICE_EVERY: Duration = Duration::from_secs(60);

/// Binds `addr` now (so a busy port fails at startup) and serves `router`
/// (HTTP/1.1 and HTTP/2, so gRPC routes work too; TLS and the bearer token
/// when `security` asks for them; `limits` on every connection, counted in
/// `metrics`) until shutdown.
pub async fn serve(
    name: &'static str,
    addr: &str,
    router: Router,
    security: &Security,
    limits: ConnectionLimits,
    metrics: &ListenerMetrics,
    shutdown: watch::Receiver<bool>,
) -> Result<JoinHandle<Result<()>>> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("{name}: cannot listen on {addr}"))?;
    let local = listener
        .local_addr()
        .with_context(|| format!("{name}: no local address"))?;
    let max_connections = fdlimit::connection_cap(limits.max_connections);
    tracing::info!(
        listener = name,
        address = %local,
        tls = security.tls.is_some(),
        max_connections,
        "listening"
    );
    let server = Server {
        name,
        router: security.protect(router),
        tls: security.tls.clone(),
        limits,
        max_connections,
        builder: Arc::new(builder(&limits)),
        registry: Registry::new(max_connections),
        counters: metrics.listener(name),
    };
    Ok(tokio::spawn(server.run(listener, shutdown)))
}

/// HTTP/1.1 with hyper's header-read timeout, and HTTP/2, on one port.
fn builder(limits: &ConnectionLimits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    builder
}

/// One listener's serving state, shared by its connection tasks.
struct Server {
    name: &'static str,
    router: Router,
    tls: Option<TlsAcceptor>,
    limits: ConnectionLimits,
    /// `limits.max_connections`, clamped to the open-file limit.
    max_connections: usize,
    builder: Arc<Builder<TokioExecutor>>,
    registry: Arc<Registry>,
    counters: Counters,
}

/// What a listener had to do since it last said so: under attack these
/// happen thousands of times a second, and a log line each would flood the
/// log (and the collector's own log store).
#[derive(Default)]
struct Notice {
    last: Option<Instant>,
    evicted: u64,
    refused: u64,
    accept_errors: u64,
}

impl Notice {
    /// Whether a line is due; if so, the counts restart after the caller logs them.
    fn due(&mut self) -> bool {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < NOTICE_EVERY)
        {
            return false;
        }
        self.last = Some(now);
        true
    }

    fn at_cap(&mut self, name: &str, max_connections: usize) {
        if self.due() {
            tracing::warn!(
                listener = name,
                max_connections,
                evicted_idle = self.evicted,
                refused = self.refused,
                "connection cap reached: idle connections closed to admit new ones"
            );
            (self.evicted, self.refused) = (0, 0);
        }
    }

    fn accept_failed(&mut self, name: &str, e: &io::Error) {
        self.accept_errors += 1;
        if self.due() {
            tracing::warn!(listener = name, error = %e, failures = self.accept_errors, "accept failed; retrying");
            self.accept_errors = 0;
        }
    }
}

impl Server {
    async fn run(self, listener: TcpListener, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let server = Arc::new(self);
        let mut tasks = JoinSet::new();
        let mut notice = Notice::default();
        let sweeper = tokio::spawn(sweep(
            Arc::clone(&server.registry),
            server.limits.idle_timeout,
        ));
        loop {
            while tasks.try_join_next().is_some() {}
            let (tcp, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        server.counters.accept_errors.inc();
                        if out_of_descriptors(&e) {
                            server.registry.evict_one();
                        }
                        notice.accept_failed(server.name, &e);
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                },
                () = stopped(&mut shutdown) => break,
            };
            let conn = match server.registry.admit(Instant::now()) {
                Admission::Admitted { conn, evicted } => {
                    server.counters.accepted.inc();
                    if evicted {
                        server.counters.evicted.inc();
                        notice.evicted += 1;
                        notice.at_cap(server.name, server.max_connections);
                        // Let the evicted connection's task close its socket
                        // before the next accept takes another descriptor.
                        tokio::task::yield_now().await;
                    }
                    conn
                }
                Admission::Full => {
                    server.counters.refused.inc();
                    notice.refused += 1;
                    notice.at_cap(server.name, server.max_connections);
                    drop(tcp);
                    continue;
                }
            };
            let open = Open::new(&server.counters.open);
            let served = Arc::clone(&server).connection(tcp, peer, conn, shutdown.clone());
            tasks.spawn(async move {
                let _open = open;
                served.await
            });
        }
        sweeper.abort();
        drop(listener);
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                listener = server.name,
                open = tasks.len(),
                "connections still open at shutdown; closing them"
            );
        }
        Ok(())
    }

    /// Serves one connection until it ends, is told to close, or shutdown.
    async fn connection(
        self: Arc<Self>,
        tcp: TcpStream,
        peer: SocketAddr,
        conn: Conn,
        shutdown: watch::Receiver<bool>,
    ) {
        let signal = conn.signal();
        let name = self.name;
        let Some(tls) = self.tls.clone() else {
            return self.http(TokioIo::new(tcp), peer, conn, shutdown).await;
        };
        let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(tcp));
        let stream = tokio::select! {
            done = handshake => match done {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return tracing::debug!(listener = name, %peer, error = %e, "TLS handshake failed"),
                Err(_) => return tracing::debug!(listener = name, %peer, "TLS handshake timed out"),
            },
            _ = signal.closed() => return,
        };
        self.http(TokioIo::new(stream), peer, conn, shutdown).await
    }

    async fn http<I>(
        self: Arc<Self>,
        io: TokioIo<I>,
        peer: SocketAddr,
        conn: Conn,
        mut shutdown: watch::Receiver<bool>,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let signal = conn.signal();
        let conn = Arc::new(conn);
        let (router, body_timeout) = (self.router.clone(), self.limits.request_body_timeout);
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let in_flight = conn.request();
                let (req, watch) = body_deadline::limit(req, body_timeout);
                let router = router.clone();
                async move {
                    let resp = match tower::ServiceExt::oneshot(router, req.map(Body::new)).await {
                        Ok(resp) => resp,
                        Err(never) => match never {},
                    };
                    let resp = watch.answer(resp);
                    Ok::<_, Infallible>(resp.map(|body| Tracked::new(body, in_flight)))
                }
            });
        let served = self.builder.serve_connection_with_upgrades(io, service);
        tokio::pin!(served);
        let name = self.name;
        let graceful = tokio::select! {
            done = served.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(listener = name, %peer, error = %e, "connection ended with an error");
                }
                return;
            }
            why = signal.closed() => match why {
                // The descriptor is needed now, and nothing is in flight.
                Close::Evicted => return,
                Close::Expired => EXPIRE_GRACE,
            },
            () = stopped(&mut shutdown) => SHUTDOWN_GRACE,
        };
        served.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(graceful, served).await;
    }
}

/// Resolves once shutdown is asked for (holding no borrow of the channel
/// after, so callers may await other things in the same `select!`).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Closes connections idle past `idle_timeout`, checking every second (or
/// more often for a shorter timeout).
async fn sweep(registry: Arc<Registry>, idle_timeout: Duration) {
    let every = idle_timeout
        .min(Duration::from_secs(1))
        .max(Duration::from_millis(10));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        registry.expire(Instant::now(), idle_timeout);
    }
}

/// Whether `accept` failed for want of file descriptors (per process or system-wide).
fn out_of_descriptors(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
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
