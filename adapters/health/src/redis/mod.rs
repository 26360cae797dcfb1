//! The Redis health check, over a small RESP2 client of our own (`resp`:
//! replies capped at 1 MiB, every call under the check's deadline).
//!
//! Each [`RedisCheck::check`] opens one TCP connection (at most
//! [`MAX_CONNECTIONS`] checks run at once) — with a `tls:` block, a TLS
//! session over it to the server's `tls-port`, the certificate verified
//! against `host` (see [`sextant_tls`]) — then:
//!
//! 1. `AUTH [user] password` — when a password is configured;
//! 2. `PING` — liveness and latency; `PONG`, or `LOADING` / `MASTERDOWN` /
//!    `BUSY`, which mean alive but not ready;
//! 3. `INFO` — role, replication link, clients, memory, counters.
//!
//! and closes the connection, so every check also proves that a new client
//! can connect and authenticate; every step, the TLS handshake included, runs
//! under the check's deadline. A failed handshake is a liveness failure that
//! says why (`connect: TLS error: certificate signed by an unknown
//! authority …`). The password is never logged, never part of the target,
//! and scrubbed from every error text. No Unix socket yet.

pub mod config;
mod info;
mod judge;
mod resp;

#[cfg(test)]
mod tests;

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;

pub use config::{RedisConfig, RedisError, Secret, TlsSettings};
pub use resp::MAX_REPLY_BYTES;

use crate::report::Report;
use crate::secret::WithPassword;
use crate::verdict::Verdict;
use judge::{Previous, Snapshot};
use resp::{Connection, Reply, RespError};
use sextant_tls::Connector;

/// The `kind` of Redis reports.
pub const KIND: &str = "redis";

/// Most connections (checks in flight) a check keeps to its server.
pub const MAX_CONNECTIONS: usize = 2;

/// PING error prefixes of a server that is up but cannot serve now:
/// loading its dataset, a replica cut off from its master (with
/// `replica-serve-stale-data no`), a script running, or `maxclients` reached.
const NOT_SERVING: [&str; 4] = [
    "LOADING",
    "MASTERDOWN",
    "BUSY",
    "ERR max number of clients reached",
];

/// A health check of one Redis server (master or replica).
pub struct RedisCheck {
    config: RedisConfig,
    secret: Option<Secret>,
    address: String,
    target: String,
    slots: Semaphore,
    previous: Mutex<Option<Previous>>,
    tls: Option<(Connector, ServerName<'static>)>,
}

impl std::fmt::Debug for RedisCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCheck")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl RedisCheck {
    /// Validates `config` and reads the password from its file or variable
    /// (no connection is made until the first check).
    pub fn new(config: RedisConfig) -> Result<Self, RedisError> {
        config.validate()?;
        let secret = config.resolve_password()?;
        Self::with_secret(config, secret)
    }

    /// Like [`new`](Self::new) with the password given directly (embedding, tests).
    pub fn with_secret(config: RedisConfig, secret: Option<Secret>) -> Result<Self, RedisError> {
        if config.user.is_some() && secret.is_none() {
            return Err(RedisError::InvalidConfig(
                "user needs a password".to_string(),
            ));
        }
        let mut unchecked = config.clone();
        unchecked.user = None;
        unchecked.validate()?;
        let tls = match &config.tls {
            Some(settings) => Some((
                Connector::new(settings).map_err(RedisError::Tls)?,
                sextant_tls::server_name(&config.host).map_err(RedisError::Tls)?,
            )),
            None => None,
        };
        Ok(RedisCheck {
            tls,
            address: config.address(),
            target: config.target(),
            slots: Semaphore::new(MAX_CONNECTIONS),
            previous: Mutex::new(None),
            config,
            secret,
        })
    }

    /// What reports name as their target (never a password).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The password it logs in with, so the process can scrub it from its
    /// log output too.
    pub fn secret(&self) -> Option<&Secret> {
        self.secret.as_ref()
    }

    /// The settings this check runs with.
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }

    /// Runs one check. Never fails and never takes (much) longer than
    /// `config.timeout`: every problem is a verdict with its reason.
    pub async fn check(&self) -> Report {
        let started = Instant::now();
        let at = now_unix_nanos();
        let deadline = tokio::time::Instant::from_std(started + self.config.timeout);
        let mut operations = 0;
        let (verdict, metrics, start) = match self.run(deadline, &mut operations).await {
            Err(reason) => (Verdict::unreachable(reason), Vec::new(), 0),
            Ok(mut snap) => {
                {
                    let mut previous = self.previous.lock().unwrap_or_else(PoisonError::into_inner);
                    snap.previous = previous.clone();
                    // A check that could not read INFO keeps the last
                    // counters, so rejections during it still show next time.
                    if let Some(now) = snap.remember() {
                        *previous = Some(now);
                    }
                }
                let verdict = judge::judge(&snap, &self.config);
                (verdict, judge::metrics(&snap), snap.started_unix_nanos(at))
            }
        };
        let report = Report {
            kind: KIND,
            target: self.target.clone(),
            at_unix_nanos: at,
            start_unix_nanos: start,
            duration: started.elapsed(),
            operations,
            verdict,
            metrics,
        };
        // Whatever the server echoed, on any path, leaves without the password.
        match &self.secret {
            Some(secret) => report.redacted(secret.secrets()),
            None => report,
        }
    }

    fn describe(&self, during: &str, err: &RespError) -> String {
        self.scrub(format!("{during}: {err}"))
    }

    fn scrub(&self, text: String) -> String {
        match &self.secret {
            Some(s) => s.scrub(&text),
            None => text,
        }
    }

    /// Connects (TCP, then TLS when configured) and runs the session.
    /// Err is why the server is not live.
    async fn run(
        &self,
        deadline: tokio::time::Instant,
        operations: &mut u32,
    ) -> Result<Snapshot, String> {
        let budget = self.config.timeout;
        let Ok(Ok(_permit)) = tokio::time::timeout_at(deadline, self.slots.acquire()).await else {
            return Err(format!(
                "waiting for a free connection slot: \
                 no answer within the check timeout of {budget:?}"
            ));
        };
        let tcp = resp::connect_tcp(&self.address, deadline, budget)
            .await
            .map_err(|e| self.describe("connect", &e))?;
        let Some((connector, name)) = &self.tls else {
            return self
                .session(Connection::new(tcp), deadline, operations)
                .await;
        };
        let handshake = connector.handshake(name.clone(), tcp);
        let stream = match tokio::time::timeout_at(deadline, handshake).await {
            Err(_) => {
                let why = self.describe("connect: TLS handshake", &RespError::Timeout(budget));
                return Err(format!("{why} (does the server speak TLS on this port?)"));
            }
            Ok(h) => match h.result {
                Err(e) => return Err(self.describe("connect", &RespError::Tls(e.to_string()))),
                Ok(stream) => stream,
            },
        };
        self.session(Connection::new(stream), deadline, operations)
            .await
    }

    /// Authenticates and pings; then reads INFO, and closes the connection.
    async fn session<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut conn: Connection<S>,
        deadline: tokio::time::Instant,
        operations: &mut u32,
    ) -> Result<Snapshot, String> {
        let result = self.commands(&mut conn, deadline, operations).await;
        conn.close(deadline).await;
        match result {
            // A TLS-only port drops a plain client at its first command.
            Err(why) if self.tls.is_none() && *operations == 1 && dropped(&why) => {
                Err(format!("{why} (does the server want TLS? set tls)"))
            }
            other => other,
        }
    }

    async fn commands<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut Connection<S>,
        deadline: tokio::time::Instant,
        operations: &mut u32,
    ) -> Result<Snapshot, String> {
        let budget = self.config.timeout;
        if let Some(secret) = &self.secret {
            let password = secret.expose().as_bytes();
            let args: Vec<&[u8]> = match &self.config.user {
                Some(user) => vec![b"AUTH", user.as_bytes(), password],
                None => vec![b"AUTH", password],
            };
            *operations += 1;
            let sent = Instant::now();
            match conn.call(&args, deadline, budget).await {
                Ok(Reply::Simple(_)) => {}
                Ok(Reply::Error(e)) if NOT_SERVING.iter().any(|p| e.starts_with(p)) => {
                    return Ok(refused(e, sent.elapsed()));
                }
                Ok(Reply::Error(e)) => {
                    return Err(self.scrub(format!("AUTH: server error {e}")));
                }
                Ok(other) => return Err(format!("AUTH: unexpected reply {}", show(&other))),
                Err(e) => return Err(self.describe("AUTH", &e)),
            }
        }
        *operations += 1;
        let sent = Instant::now();
        let not_serving = match conn.call(&[b"PING"], deadline, budget).await {
            Ok(Reply::Simple(s)) if s == "PONG" => None,
            Ok(Reply::Error(e)) if NOT_SERVING.iter().any(|p| e.starts_with(p)) => Some(e),
            Ok(Reply::Error(e)) => return Err(self.scrub(format!("PING: server error {e}"))),
            Ok(other) => return Err(format!("PING: unexpected reply {}", show(&other))),
            Err(e) => return Err(self.describe("PING", &e)),
        };
        let ping = sent.elapsed();
        *operations += 1;
        let info = match conn.call(&[b"INFO"], deadline, budget).await {
            Ok(Reply::Bulk(Some(text))) => Ok(info::parse_info(&String::from_utf8_lossy(&text))),
            Ok(Reply::Error(e)) => Err(self.scrub(format!("server error {e}"))),
            Ok(other) => Err(format!("unexpected reply {}", show(&other))),
            Err(e) => Err(self.scrub(e.to_string())),
        };
        Ok(Snapshot {
            ping,
            not_serving,
            info,
            previous: None,
        })
    }
}

/// The snapshot of a server that answered AUTH (in `rtt`) with a
/// not-serving error.
fn refused(error: String, rtt: Duration) -> Snapshot {
    Snapshot {
        ping: rtt,
        not_serving: Some(error),
        info: Err("skipped: the server does not serve this connection".to_string()),
        previous: None,
    }
}

/// Whether `why` says the server dropped the connection without a word.
fn dropped(why: &str) -> bool {
    why.ends_with(&RespError::Closed.to_string()) || why.contains("Connection reset by peer")
}

/// A short description of an unexpected reply (never its whole content).
fn show(reply: &Reply) -> String {
    let text = match reply {
        Reply::Simple(s) => format!("+{s}"),
        Reply::Error(e) => format!("-{e}"),
        Reply::Integer(i) => format!(":{i}"),
        Reply::Bulk(None) => "null bulk string".to_string(),
        Reply::Bulk(Some(b)) => format!("bulk string of {} bytes", b.len()),
        Reply::Array(None) => "null array".to_string(),
        Reply::Array(Some(a)) => format!("array of {} elements", a.len()),
    };
    text.chars().take(120).collect()
}

fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
