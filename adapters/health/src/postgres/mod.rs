//! The PostgreSQL health check.
//!
//! One [`PostgresCheck`] per server keeps at most two connections
//! ([`MAX_CONNECTIONS`]; a semaphore bounds concurrent checks, an idle
//! connection is reused), each opened with `statement_timeout` and
//! `lock_timeout` set to the check's budget so the server gives up when the
//! check does. [`PostgresCheck::check`] runs five simple-protocol queries,
//! every one under `tokio::time::timeout` of what is left of the budget:
//!
//! 1. `SELECT 1` — liveness and latency (a stale idle connection is retried
//!    once on a fresh one, so a restart does not look like death);
//! 2. the server state: version, start, recovery, read-only settings,
//!    connections, oldest transaction, standby replay position;
//! 3. `pg_stat_wal_receiver`; 4. `pg_stat_replication`; 5. `pg_stat_database`.
//!
//! A server that answers the connection with "too many clients" (53300) or
//! "cannot connect now" (57P03: starting up, shutting down) is alive but not
//! ready: restarting it would not help. A connection that timed out or broke
//! is dropped, never reused. The password is never logged, never part of the
//! target, and scrubbed from every error text.
//!
//! With a `tls:` block the check behaves as libpq with `sslmode=verify-full`
//! (the block's switches relax it to `verify-ca` or `require`): it asks for
//! TLS (`SSLRequest`), refuses to go on in plain text when the server
//! declines, verifies the certificate against `host` with the shared rustls
//! client ([`sextant_tls`]) inside the check's deadline, and offers
//! SCRAM channel binding. A failed handshake is a liveness failure that says
//! why (`connect: TLS error: certificate signed by an unknown authority …`).
//! Without the block it speaks plain TCP or uses the Unix socket.

pub mod config;
mod judge;
mod state;
mod tls;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::timeout_at;
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

pub use config::{PostgresConfig, PostgresError, Secret, TlsSettings};

use crate::report::Report;
use crate::secret::WithPassword;
use crate::verdict::{Judgement, Reason, Verdict};
use judge::Snapshot;
use sextant_tls::{Connector, server_name};
use state::{DatabaseStats, Receiver, ReplicationClient, Row, ServerState};
use tls::MakeRustls;

/// The `kind` of PostgreSQL reports.
pub const KIND: &str = "postgresql";

/// Most connections a check keeps to its server.
pub const MAX_CONNECTIONS: usize = 2;

/// The `application_name` of the check's sessions, visible in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "sextant-health";

/// SQLSTATEs of a server that answered but will not take the connection now.
const BUSY_STATES: [&str; 2] = ["53300", "57P03"];

/// An open connection and the task driving it.
struct Pooled {
    client: Client,
    task: JoinHandle<()>,
}

impl Pooled {
    /// Drives `connection` on a task of its own (it owns the socket).
    fn spawn<F>(client: Client, connection: F) -> Pooled
    where
        F: std::future::Future<Output = Result<(), tokio_postgres::Error>> + Send + 'static,
    {
        let task = tokio::spawn(async move {
            let _ = connection.await;
        });
        Pooled { client, task }
    }

    fn discard(self) {
        self.task.abort();
    }
}

/// A health check of one PostgreSQL server (primary or standby).
pub struct PostgresCheck {
    config: PostgresConfig,
    secret: Option<Secret>,
    connect: tokio_postgres::Config,
    tls: Option<MakeRustls>,
    idle: Mutex<Vec<Pooled>>,
    slots: Arc<Semaphore>,
    target: String,
}

impl std::fmt::Debug for PostgresCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresCheck")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Why `SELECT 1` did not succeed.
enum Failure {
    /// No answer, or an error: not live.
    Dead(String),
    /// The server answered but refused the session (full, starting up).
    Busy(String),
}

impl PostgresCheck {
    /// Validates `config` and reads the password from its file or variable
    /// (no connection is made until the first check).
    pub fn new(config: PostgresConfig) -> Result<Self, PostgresError> {
        config.validate()?;
        let secret = config.resolve_password()?;
        Self::with_secret(config, secret)
    }

    /// Like [`new`](Self::new) with the password given directly (embedding, tests).
    pub fn with_secret(
        config: PostgresConfig,
        secret: Option<Secret>,
    ) -> Result<Self, PostgresError> {
        config.validate()?;
        let mut connect = tokio_postgres::Config::new();
        let ms = config.timeout_millis();
        connect
            .user(&config.user)
            .dbname(&config.database)
            .port(config.port)
            .application_name(APPLICATION_NAME)
            .connect_timeout(config.timeout)
            .options(format!("-c statement_timeout={ms} -c lock_timeout={ms}"));
        match &config.socket_dir {
            Some(dir) => connect.host_path(dir),
            None => connect.host(&config.host),
        };
        if let Some(s) = &secret {
            connect.password(s.expose());
        }
        let tls = match &config.tls {
            Some(settings) => {
                server_name(&config.host).map_err(PostgresError::Tls)?;
                connect.ssl_mode(SslMode::Require);
                Some(MakeRustls(
                    Connector::new(settings).map_err(PostgresError::Tls)?,
                ))
            }
            None => {
                connect.ssl_mode(SslMode::Disable);
                None
            }
        };
        Ok(PostgresCheck {
            tls,
            target: config.target(),
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            connect,
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
    pub fn config(&self) -> &PostgresConfig {
        &self.config
    }

    /// Runs one check. Never fails and never takes (much) longer than
    /// `config.timeout`: every problem is a verdict with its reason.
    pub async fn check(&self) -> Report {
        let started = Instant::now();
        let at = now_unix_nanos();
        let deadline = tokio::time::Instant::from_std(started + self.config.timeout);
        let mut session = Session {
            check: self,
            conn: None,
            _permit: None,
            deadline,
            operations: 0,
        };
        let (verdict, metrics, start) = match session.connect_and_ping().await {
            Err(Failure::Dead(reason)) => (Verdict::unreachable(reason), Vec::new(), 0),
            Err(Failure::Busy(reason)) => (busy(reason), Vec::new(), 0),
            Ok(ping) => {
                let snap = session.gather(ping).await;
                let verdict = judge::judge(&snap, &self.config);
                (verdict, judge::metrics(&snap), snap.started_unix_nanos())
            }
        };
        session.finish();
        let report = Report {
            kind: KIND,
            target: self.target.clone(),
            at_unix_nanos: at,
            start_unix_nanos: start,
            duration: started.elapsed(),
            operations: session.operations,
            verdict,
            metrics,
        };
        // Whatever the server echoed, on any path, leaves without the password.
        match &self.secret {
            Some(secret) => report.redacted(secret.secrets()),
            None => report,
        }
    }

    /// Closes the idle connections (each sends its Terminate message).
    pub async fn close(self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for pooled in idle {
            drop(pooled.client);
            let _ = tokio::time::timeout(self.config.timeout, pooled.task).await;
        }
    }

    fn describe(&self, err: &tokio_postgres::Error) -> String {
        let text = match err.as_db_error() {
            Some(db) => format!(
                "server error {} ({}): {}",
                db.code().code(),
                db.severity(),
                db.message()
            ),
            None => tls_failure(err).unwrap_or_else(|| with_sources(err)),
        };
        match &self.secret {
            Some(s) => s.scrub(&text),
            None => text,
        }
    }

    fn timed_out(&self, during: &str) -> String {
        format!(
            "{during}: no answer within the check timeout of {:?}",
            self.config.timeout
        )
    }
}

/// An error and its causes, `"a: b: c"` (tokio-postgres keeps the I/O
/// error, e.g. "Connection refused", in the source chain).
fn with_sources(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}

/// tokio-postgres's text of every TLS failure; the cause says why.
const TLS_FAILURE: &str = "error performing TLS handshake";

/// `TLS error: <why>` for a failed handshake (ours, in words) or a server
/// that declined TLS ("server does not support TLS"); None otherwise.
fn tls_failure(err: &tokio_postgres::Error) -> Option<String> {
    use std::error::Error;
    if err.to_string() != TLS_FAILURE {
        return None;
    }
    let why = match err.source() {
        Some(cause) => with_sources(cause),
        None => "handshake failed".to_string(),
    };
    Some(format!("TLS error: {why}"))
}

/// The verdict of a server that answered but refused the session.
fn busy(reason: String) -> Verdict {
    Verdict {
        live: Judgement::pass(format!("answered, but refused the session: {reason}")),
        ready: Judgement::fail(reason.clone()),
        degraded: vec![Reason::new("refused", reason)],
    }
}

fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// One check's use of one connection, with its deadline and query count.
struct Session<'a> {
    check: &'a PostgresCheck,
    conn: Option<Pooled>,
    _permit: Option<OwnedSemaphorePermit>,
    deadline: tokio::time::Instant,
    operations: u32,
}

impl Session<'_> {
    fn take_idle(&self) -> Option<Pooled> {
        let mut idle = self
            .check
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while let Some(p) = idle.pop() {
            if !p.client.is_closed() {
                return Some(p);
            }
            p.discard();
        }
        None
    }

    async fn open(&self) -> Result<Pooled, Failure> {
        let check = self.check;
        let opened = match &check.tls {
            None => timeout_at(self.deadline, check.connect.connect(NoTls))
                .await
                .map(|r| r.map(|(client, conn)| Pooled::spawn(client, conn))),
            Some(tls) => timeout_at(self.deadline, check.connect.connect(tls.clone()))
                .await
                .map(|r| r.map(|(client, conn)| Pooled::spawn(client, conn))),
        };
        match opened {
            Err(_) => Err(Failure::Dead(check.timed_out("connect"))),
            Ok(Err(e)) => {
                let why = format!("connect: {}", check.describe(&e));
                let busy = e
                    .as_db_error()
                    .is_some_and(|db| BUSY_STATES.contains(&db.code().code()));
                Err(if busy {
                    Failure::Busy(why)
                } else {
                    Failure::Dead(why)
                })
            }
            Ok(Ok(pooled)) => Ok(pooled),
        }
    }

    /// Takes a slot and a connection, and runs `SELECT 1`; returns its
    /// round trip or why the server is not live.
    async fn connect_and_ping(&mut self) -> Result<Duration, Failure> {
        let slots = self.check.slots.clone();
        match timeout_at(self.deadline, slots.acquire_owned()).await {
            Ok(Ok(permit)) => self._permit = Some(permit),
            _ => {
                return Err(Failure::Dead(
                    self.check.timed_out("waiting for a free connection slot"),
                ));
            }
        }
        for attempt in 0..2 {
            let (conn, pooled) = match self.take_idle() {
                Some(p) if attempt == 0 => (p, true),
                other => {
                    if let Some(p) = other {
                        p.discard();
                    }
                    (self.open().await?, false)
                }
            };
            self.operations += 1;
            let sent = Instant::now();
            match timeout_at(self.deadline, conn.client.simple_query("SELECT 1")).await {
                Ok(Ok(_)) => {
                    self.conn = Some(conn);
                    return Ok(sent.elapsed());
                }
                // An idle connection may have died with a restarted server.
                Ok(Err(_)) if pooled && conn.client.is_closed() => conn.discard(),
                Ok(Err(e)) => {
                    let why = format!("SELECT 1: {}", self.check.describe(&e));
                    conn.discard();
                    return Err(Failure::Dead(why));
                }
                Err(_) => {
                    conn.discard();
                    return Err(Failure::Dead(self.check.timed_out("SELECT 1")));
                }
            }
        }
        Err(Failure::Dead("SELECT 1: connection lost twice".to_string()))
    }

    /// Runs one query; a timeout or broken connection ends the session.
    async fn rows(&mut self, sql: &str, what: &str) -> Result<Vec<Row>, String> {
        let Some(conn) = self.conn.as_ref() else {
            return Err("skipped: the connection was lost earlier in this check".to_string());
        };
        self.operations += 1;
        match timeout_at(self.deadline, conn.client.simple_query(sql)).await {
            Ok(Ok(messages)) => Ok(to_rows(messages)),
            Ok(Err(e)) => {
                let why = self.check.describe(&e);
                if conn.client.is_closed()
                    && let Some(conn) = self.conn.take()
                {
                    conn.discard();
                }
                Err(why)
            }
            Err(_) => {
                if let Some(conn) = self.conn.take() {
                    conn.discard();
                }
                Err(self.check.timed_out(what))
            }
        }
    }

    /// Reads everything after a successful ping.
    async fn gather(&mut self, ping: Duration) -> Snapshot {
        let server = self
            .rows(state::STATE_SQL, "server state")
            .await
            .and_then(|rows| {
                rows.first()
                    .map(ServerState::from_row)
                    .ok_or_else(|| "no row".to_string())
            });
        let receiver = self
            .rows(state::RECEIVER_SQL, "pg_stat_wal_receiver")
            .await
            .map(|rows| rows.first().map(Receiver::from_row));
        let clients = self
            .rows(state::CLIENTS_SQL, "pg_stat_replication")
            .await
            .map(|rows| rows.iter().map(ReplicationClient::from_row).collect());
        let databases = self
            .rows(state::DATABASES_SQL, "pg_stat_database")
            .await
            .map(|rows| rows.iter().map(DatabaseStats::from_row).collect());
        Snapshot {
            ping,
            server,
            receiver,
            clients,
            databases,
        }
    }

    /// Returns a healthy connection to the idle list.
    fn finish(&mut self) {
        if let Some(conn) = self.conn.take() {
            if conn.client.is_closed() {
                conn.discard();
            } else {
                self.check
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(conn);
            }
        }
    }
}

fn to_rows(messages: Vec<SimpleQueryMessage>) -> Vec<Row> {
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .map(|r| {
            r.columns()
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name().to_string(), r.get(i).map(str::to_string)))
                .collect()
        })
        .collect()
}
