//! The HTTP(S) health check, in the manner of blackbox_exporter's http
//! prober: one request on a fresh connection, timed phase by phase.
//!
//! [`HttpCheck::check`] resolves the host, connects, does the TLS handshake
//! (https), sends one HTTP/1.1 request (`Connection: close`, no redirects
//! followed) and reads at most `max_body_bytes` of the body — all under one
//! deadline, `timeout` after the start. Each phase is timed as blackbox
//! reports it: resolve, connect, tls, processing (request written → response
//! head), transfer (head → body read).
//!
//! TLS is the one client TLS ([`sextant_tls::Connector`], offering ALPN
//! `http/1.1`), trusting `tls.ca_file` or the system roots and verifying
//! `tls.server_name` or the URL's host. The handshake reports the peer's
//! chain even when it rejects it, so an expired certificate reads
//! `certificate expired 3d ago (notAfter …)` and its expiry is still
//! exported; the expiry is judged in `expiry`, shared with the TCP check.
//!
//! Metric names follow the OpenTelemetry httpcheck receiver where it has one
//! (`httpcheck.status{http.status_class}`, `httpcheck.duration`,
//! `httpcheck.tls.cert_remaining`) — in seconds, where the receiver uses
//! milliseconds — and blackbox_exporter otherwise
//! (`httpcheck.phase.duration{phase}` ≈ `probe_http_duration_seconds`,
//! `httpcheck.tls.cert_expiry` ≈ `probe_ssl_earliest_cert_expiry`).

pub mod config;
mod judge;

#[cfg(test)]
pub(crate) mod tests;

use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response as HttpResponse};
use hyper_util::rt::TokioIo;
use regex::Regex;
use rustls::pki_types::ServerName;
use sextant_tls::{Connector, HandshakeError, PeerCerts, TlsSetupError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant as Deadline, timeout_at};

pub use config::{HttpConfig, HttpError, TlsOptions};

use crate::report::Report;
use judge::{Observation, Outcome, Phases, Response};

/// The `kind` of HTTP reports.
pub const KIND: &str = "http";

const USER_AGENT: &str = concat!("sextant-health/", env!("CARGO_PKG_VERSION"));

/// A health check of one HTTP(S) endpoint.
#[derive(Debug)]
pub struct HttpCheck {
    config: HttpConfig,
    prepared: config::Prepared,
    /// The TLS client and the name it verifies (https only).
    tls: Option<(Connector, ServerName<'static>)>,
    target: String,
}

impl HttpCheck {
    /// Validates `config` and, for https, loads the trusted roots and
    /// checks the name to verify. No connection is made until the first
    /// check.
    pub fn new(config: HttpConfig) -> Result<Self, HttpError> {
        let prepared = config.prepare()?;
        let tls = if prepared.https {
            let invalid = |e: TlsSetupError| HttpError::InvalidConfig(e.to_string());
            let connector = Connector::new(&config.tls.settings())
                .map_err(invalid)?
                .with_alpn(&[b"http/1.1"]);
            Some((
                connector,
                config.tls.name_for(&prepared.host).map_err(invalid)?,
            ))
        } else {
            None
        };
        Ok(HttpCheck {
            target: config.target(),
            config,
            prepared,
            tls,
        })
    }

    /// What reports name as their target: the URL without credentials or query.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// No password: this kind does not log in.
    pub fn secret(&self) -> Option<&crate::secret::Secret> {
        None
    }

    /// The settings this check runs with.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Runs one check. Never fails and never takes (much) longer than
    /// `config.timeout`: every problem is a verdict with its reason.
    pub async fn check(&self) -> Report {
        let started = Instant::now();
        let at = now_unix_nanos();
        let deadline = Deadline::from_std(started + self.config.timeout);
        let mut phases = Phases::default();
        let mut certs = None;
        let outcome = self
            .run(deadline, &mut phases, &mut certs)
            .await
            .unwrap_or_else(|o| o);
        let obs = Observation {
            outcome,
            phases,
            total: started.elapsed(),
            certs,
            now: crate::expiry::now(),
        };
        let regex = self.prepared.body_regex.as_ref().map(Regex::as_str);
        Report {
            kind: KIND,
            target: self.target.clone(),
            at_unix_nanos: at,
            start_unix_nanos: 0,
            duration: obs.total,
            operations: u32::from(matches!(obs.outcome, Outcome::Response(_))),
            verdict: judge::judge(&obs, &self.config, regex),
            metrics: judge::metrics(&obs, self.prepared.method.as_str()),
        }
    }

    fn timed_out(&self, during: &str) -> Outcome {
        Outcome::Unreachable(format!(
            "{during}: no answer within the check timeout of {:?}",
            self.config.timeout
        ))
    }

    /// The request, phase by phase; `Err` carries an early outcome.
    async fn run(
        &self,
        deadline: Deadline,
        phases: &mut Phases,
        certs: &mut Option<PeerCerts>,
    ) -> Result<Outcome, Outcome> {
        let p = &self.prepared;
        let token = self.bearer_token().map_err(Outcome::NotChecked)?;
        let t = Instant::now();
        let addr = resolve(&p.host, p.port, deadline)
            .await
            .map_err(|e| e.unwrap_or_else(|| self.timed_out("resolve")))?;
        phases.resolve = Some(t.elapsed());

        let t = Instant::now();
        let tcp = match timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(_) => return Err(self.timed_out("connect")),
            Ok(Err(e)) => return Err(Outcome::Unreachable(format!("connect {addr}: {e}"))),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        phases.connect = Some(t.elapsed());

        let Some((tls, name)) = &self.tls else {
            return self.exchange(tcp, token, deadline, phases).await;
        };
        let t = Instant::now();
        let handshake = match timeout_at(deadline, tls.handshake(name.clone(), tcp)).await {
            Err(_) => return Err(self.timed_out("TLS handshake")),
            Ok(h) => h,
        };
        phases.tls = Some(t.elapsed());
        *certs = Some(handshake.peer);
        match handshake.result {
            Ok(stream) => self.exchange(stream, token, deadline, phases).await,
            Err(HandshakeError::Rejected(why)) => Err(Outcome::CertRejected(why)),
            Err(HandshakeError::Failed(why)) => {
                Err(Outcome::Unreachable(format!("TLS handshake: {why}")))
            }
        }
    }

    /// Sends the request on an open connection and reads the response.
    async fn exchange<S>(
        &self,
        io: S,
        token: Option<HeaderValue>,
        deadline: Deadline,
        phases: &mut Phases,
    ) -> Result<Outcome, Outcome>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let p = &self.prepared;
        let (mut sender, conn) = match timeout_at(
            deadline,
            hyper::client::conn::http1::handshake(TokioIo::new(io)),
        )
        .await
        {
            Err(_) => return Err(self.timed_out("HTTP handshake")),
            Ok(Err(e)) => return Err(Outcome::Unreachable(format!("HTTP handshake: {e}"))),
            Ok(Ok(pair)) => pair,
        };
        // Drives the connection; aborted when this check ends, whatever happens.
        let driver = AbortOnDrop(tokio::spawn(conn));
        let request = self.request(token)?;
        let t = Instant::now();
        let head: HttpResponse<Incoming> =
            match timeout_at(deadline, sender.send_request(request)).await {
                Err(_) => return Err(self.timed_out("waiting for the response")),
                Ok(Err(e)) => return Err(Outcome::Unreachable(format!("request: {e}"))),
                Ok(Ok(r)) => r,
            };
        phases.processing = Some(t.elapsed());
        let status = head.status().as_u16();
        let t = Instant::now();
        let body = read_bounded(head.into_body(), self.config.max_body_bytes, deadline).await;
        phases.transfer = Some(t.elapsed());
        drop(driver);
        let body_matched = match (&p.body_regex, &body.error) {
            (Some(re), None) => Some(re.is_match(&String::from_utf8_lossy(&body.bytes))),
            _ => None,
        };
        Ok(Outcome::Response(Response {
            status,
            body_bytes: body.bytes.len(),
            truncated: body.truncated,
            body_matched,
            body_error: body.error,
        }))
    }

    fn request(&self, token: Option<HeaderValue>) -> Result<Request<Empty<Bytes>>, Outcome> {
        let p = &self.prepared;
        let path = p
            .uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_string();
        let authority = p
            .uri
            .authority()
            .map(|a| {
                a.as_str()
                    .rsplit('@')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .unwrap_or_default();
        let mut builder = Request::builder()
            .method(p.method.clone())
            .uri(path)
            .header(header::HOST, authority)
            .header(header::USER_AGENT, USER_AGENT)
            .header(header::CONNECTION, "close");
        for (k, v) in &p.headers {
            builder = builder.header(k, v);
        }
        if let Some(t) = token {
            builder = builder.header(header::AUTHORIZATION, t);
        }
        builder
            .body(Empty::new())
            .map_err(|e| Outcome::NotChecked(format!("building the request: {e}")))
    }

    /// `Bearer <token>` from the token file, if one is configured.
    fn bearer_token(&self) -> Result<Option<HeaderValue>, String> {
        let Some(path) = &self.config.bearer_token_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read bearer_token_file {}: {e}", path.display()))?;
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", text.trim())).map_err(|_| {
                format!(
                    "bearer_token_file {} holds an invalid token",
                    path.display()
                )
            })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// First address of `host:port`; `Err(None)` on timeout.
pub(crate) async fn resolve(
    host: &str,
    port: u16,
    deadline: Deadline,
) -> Result<SocketAddr, Option<Outcome>> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    match timeout_at(deadline, tokio::net::lookup_host((host, port))).await {
        Err(_) => Err(None),
        Ok(Err(e)) => Err(Some(Outcome::Unreachable(format!("resolve {host}: {e}")))),
        Ok(Ok(mut addrs)) => addrs.next().ok_or_else(|| {
            Some(Outcome::Unreachable(format!(
                "resolve {host}: no addresses"
            )))
        }),
    }
}

struct Body {
    bytes: Vec<u8>,
    truncated: bool,
    error: Option<String>,
}

/// Reads at most `limit` bytes of `body` before `deadline`.
async fn read_bounded(mut body: Incoming, limit: usize, deadline: Deadline) -> Body {
    let mut out = Body {
        bytes: Vec::new(),
        truncated: false,
        error: None,
    };
    loop {
        match timeout_at(deadline, body.frame()).await {
            Err(_) => {
                out.error = Some("no end of body within the check timeout".to_string());
                return out;
            }
            Ok(None) => return out,
            Ok(Some(Err(e))) => {
                out.error = Some(e.to_string());
                return out;
            }
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    let room = limit.saturating_sub(out.bytes.len());
                    if data.len() > room {
                        out.bytes.extend_from_slice(&data[..room]);
                        out.truncated = true;
                        return out;
                    }
                    out.bytes.extend_from_slice(&data);
                }
            }
        }
    }
}

fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
