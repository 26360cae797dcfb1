//! The MySQL / MariaDB health check.
//!
//! One [`MysqlCheck`] per server holds a pool of at most two connections
//! (mysql_async defaults to 10–100, far too many for a monitor), each with
//! `lock_wait_timeout` set for its session. [`MysqlCheck::check`] runs a
//! bounded sequence of queries, every one under `tokio::time::timeout` of
//! what is left of the check's budget:
//!
//! 1. `SELECT 1` — liveness and latency (a stale pooled connection is
//!    retried once on a fresh one, so a restart does not look like death);
//! 2. `SHOW GLOBAL VARIABLES WHERE …` — flavour, version, read_only, limits;
//! 3. `SHOW GLOBAL STATUS WHERE …` — threads, counters, buffer pool, wsrep;
//! 4. the replica status statement that flavour and version want (not with
//!    `role: primary`, so a monitor without the replication privilege works);
//! 5. `information_schema.INNODB_METRICS` — history list, deadlocks;
//! 6. `information_schema.INNODB_TRX` — the oldest open transaction.
//!
//! With a `tls:` block the driver runs its own rustls handshake (it takes
//! no verifier from outside, so `skip_domain_validation` alone is refused);
//! its failures are put in words by the one describer,
//! [`sextant_tls::describe_error`], so they read as every other check's.
//!
//! A connection that timed out or broke is disconnected, never returned to
//! the pool half-read. The password is never logged, never part of the
//! target, and scrubbed from every error text.

pub mod config;
mod galera;
mod innodb;
mod judge;
mod replication;
pub mod status;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Pool, PoolConstraints, PoolOpts, SslOpts, Value};
use tokio::time::timeout_at;

pub use config::{ExpectedRole, MysqlConfig, MysqlError, Secret, TlsSettings};
pub use status::Flavour;

use sextant_tls::Trusted;

use crate::report::Report;
use crate::secret::WithPassword;
use crate::verdict::Verdict;
use innodb::InnodbState;
use judge::Snapshot;
use replication::Channel;

/// The `kind` of MySQL reports.
pub const KIND: &str = "mysql";

/// Most connections a check keeps to its server.
pub const MAX_CONNECTIONS: usize = 2;

/// One result row: lower-cased column name → text value (None = NULL).
pub(crate) type Row = BTreeMap<String, Option<String>>;

/// A health check of one MySQL or MariaDB server.
pub struct MysqlCheck {
    config: MysqlConfig,
    secret: Option<Secret>,
    pool: Pool,
    target: String,
    /// What the driver trusts, for the words of an unknown-authority failure.
    trusted: Trusted,
}

impl std::fmt::Debug for MysqlCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlCheck")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl MysqlCheck {
    /// Validates `config`, reads the password from its file or variable,
    /// and prepares the pool (no connection is made until the first check).
    pub fn new(config: MysqlConfig) -> Result<Self, MysqlError> {
        config.validate()?;
        let secret = config.resolve_password()?;
        Self::with_secret(config, secret)
    }

    /// Like [`new`](Self::new) with the password given directly (embedding, tests).
    pub fn with_secret(config: MysqlConfig, secret: Option<Secret>) -> Result<Self, MysqlError> {
        config.validate()?;
        let constraints = PoolConstraints::new(0, MAX_CONNECTIONS)
            .ok_or_else(|| MysqlError::InvalidConfig("pool constraints".to_string()))?;
        let pool_opts = PoolOpts::default()
            .with_constraints(constraints)
            .with_reset_connection(false)
            .with_inactive_connection_ttl(Duration::from_secs(60));
        let setup = format!(
            "SET SESSION lock_wait_timeout = {}",
            config.lock_wait_timeout_secs()
        );
        let mut opts = OptsBuilder::default()
            .user(Some(config.user.clone()))
            .pass(secret.as_ref().map(|s| s.expose().to_string()))
            .prefer_socket(false)
            .setup(vec![setup])
            .pool_opts(pool_opts);
        opts = match &config.socket {
            Some(path) => opts.socket(Some(path.to_string_lossy().into_owned())),
            None => opts
                .ip_or_hostname(config.host.clone())
                .tcp_port(config.port),
        };
        if let Some(tls) = &config.tls {
            ensure_crypto_provider();
            let mut ssl = SslOpts::default()
                .with_danger_skip_domain_validation(tls.skip_domain_validation)
                .with_danger_accept_invalid_certs(tls.accept_invalid_certs);
            if let Some(ca) = &tls.ca_file {
                // The CA file replaces the built-in roots, as `mysql
                // --ssl-ca` and the other checks' `ca_file` do.
                ssl = ssl
                    .with_root_certs(vec![ca.clone().into()])
                    .with_disable_built_in_roots(true);
            }
            opts = opts.ssl_opts(Some(ssl));
        }
        let trusted = match config.tls.as_ref().and_then(|t| t.ca_file.clone()) {
            Some(path) => Trusted::CaFile(path),
            None => Trusted::BuiltIn(BUILT_IN_ROOTS),
        };
        Ok(MysqlCheck {
            target: config.target(),
            pool: Pool::new(opts),
            trusted,
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
    pub fn config(&self) -> &MysqlConfig {
        &self.config
    }

    /// Runs one check. Never fails and never takes (much) longer than
    /// `config.timeout`: every problem is a verdict with its reason.
    pub async fn check(&self) -> Report {
        let started = Instant::now();
        let at = now_unix_nanos();
        let deadline = tokio::time::Instant::from_std(started + self.config.timeout);
        let mut session = Session {
            conn: None,
            deadline,
            budget: self.config.timeout,
            operations: 0,
            secret: self.secret.as_ref(),
            host: &self.config.host,
            trusted: &self.trusted,
        };
        let (verdict, metrics, start) = match session.connect_and_ping(&self.pool).await {
            Err(reason) => (Verdict::unreachable(reason), Vec::new(), 0),
            Ok(ping) => {
                let snap = session.gather(ping, self.config.role).await;
                let verdict = judge::judge(&snap, &self.config);
                (verdict, judge::metrics(&snap), snap.started_unix_nanos(at))
            }
        };
        session.finish().await;
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

    /// Closes the pool's connections (bounded by the check timeout).
    pub async fn close(self) {
        let _ = tokio::time::timeout(self.config.timeout, self.pool.disconnect()).await;
    }
}

/// Without a CA file mysql_async trusts the webpki-roots crate it was built
/// with, not the system's store.
const BUILT_IN_ROOTS: &str = "the MySQL driver's built-in Mozilla CAs";

/// mysql_async builds its rustls config with `ClientConfig::builder()`,
/// which panics when no process-wide crypto provider is installed and the
/// build enables more than one. Install ring (the workspace's provider) if
/// nobody has; losing a race to another installer is fine.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
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
    conn: Option<Conn>,
    deadline: tokio::time::Instant,
    budget: Duration,
    operations: u32,
    secret: Option<&'a Secret>,
    /// The host the certificate must name, and what the driver trusts.
    host: &'a str,
    trusted: &'a Trusted,
}

impl Session<'_> {
    fn describe(&self, err: &mysql_async::Error) -> String {
        use mysql_async::Error;
        let text = match err {
            Error::Server(e) => format!("server error {} ({}): {}", e.code, e.state, e.message),
            Error::Io(mysql_async::IoError::Io(e)) => {
                match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                    // The driver runs its own handshake; its failures read
                    // as every other check's.
                    Some(tls) => format!(
                        "TLS error: {}",
                        sextant_tls::describe_error(tls, self.host, self.trusted)
                    ),
                    None => format!("I/O error: {e}"),
                }
            }
            Error::Io(e) => e.to_string(),
            Error::Driver(e) => format!("driver error: {e}"),
            Error::Other(e) => format!("error: {e}"),
            // URL errors can echo the URL; never show them.
            Error::Url(_) => "invalid connection settings".to_string(),
        };
        match self.secret {
            Some(s) => s.scrub(&text),
            None => text,
        }
    }

    fn timed_out(&self, during: &str) -> String {
        format!(
            "{during}: no answer within the check timeout of {:?}",
            self.budget
        )
    }

    /// Connects (or takes a pooled connection) and runs `SELECT 1`;
    /// returns its round trip or why the server is not live.
    async fn connect_and_ping(&mut self, pool: &Pool) -> Result<Duration, String> {
        for attempt in 0..2 {
            let mut conn = match timeout_at(self.deadline, pool.get_conn()).await {
                Err(_) => return Err(self.timed_out("connect")),
                Ok(Err(e)) => return Err(format!("connect: {}", self.describe(&e))),
                Ok(Ok(c)) => c,
            };
            self.operations += 1;
            let sent = Instant::now();
            match timeout_at(self.deadline, conn.query_drop("SELECT 1")).await {
                Ok(Ok(())) => {
                    self.conn = Some(conn);
                    return Ok(sent.elapsed());
                }
                // A pooled connection may have died with a restarted server
                // or wait_timeout: try once more on a fresh one.
                Ok(Err(e)) if e.is_fatal() && attempt == 0 => discard(conn).await,
                Ok(Err(e)) => {
                    let why = format!("SELECT 1: {}", self.describe(&e));
                    discard(conn).await;
                    return Err(why);
                }
                Err(_) => {
                    discard(conn).await;
                    return Err(self.timed_out("SELECT 1"));
                }
            }
        }
        Err("SELECT 1: connection lost twice".to_string())
    }

    /// Runs one query; a timeout or broken connection ends the session
    /// (the connection is disconnected, later queries are skipped).
    async fn rows(&mut self, sql: &str) -> Result<Vec<Row>, String> {
        let Some(conn) = self.conn.as_mut() else {
            return Err("skipped: the connection was lost earlier in this check".to_string());
        };
        self.operations += 1;
        let result = timeout_at(self.deadline, conn.query::<mysql_async::Row, _>(sql)).await;
        match result {
            Ok(Ok(rows)) => Ok(rows.iter().map(to_row).collect()),
            Ok(Err(e)) => {
                let why = self.describe(&e);
                if e.is_fatal()
                    && let Some(conn) = self.conn.take()
                {
                    discard(conn).await;
                }
                Err(why)
            }
            Err(_) => {
                if let Some(conn) = self.conn.take() {
                    discard(conn).await;
                }
                Err(self.timed_out(statement_head(sql)))
            }
        }
    }

    /// Reads everything after a successful ping; replica status only when
    /// the role is not configured as `primary`.
    async fn gather(&mut self, ping: Duration, role: ExpectedRole) -> Snapshot {
        let variables = self.rows(status::VARIABLES_SQL).await.map(|r| pairs(&r));
        let status = self.rows(status::STATUS_SQL).await.map(|r| pairs(&r));
        let info = variables
            .as_ref()
            .ok()
            .and_then(status::ServerInfo::from_variables);
        let replication = match role {
            ExpectedRole::Primary => None,
            ExpectedRole::Auto | ExpectedRole::Replica => Some(
                self.rows(replication::statement(info.as_ref()))
                    .await
                    .map(|rows| rows.iter().map(Channel::from_row).collect()),
            ),
        };
        let mut innodb_errors = Vec::new();
        let metric_rows = self.rows(innodb::METRICS_SQL).await;
        if let Err(e) = &metric_rows {
            innodb_errors.push(format!("could not read INNODB_METRICS: {e}"));
        }
        let empty = status::Vars::new();
        let mut innodb = InnodbState::from_sources(
            metric_rows.as_deref().ok(),
            status.as_ref().unwrap_or(&empty),
        );
        match self.rows(innodb::TRX_SQL).await {
            Ok(rows) => {
                if let Some(row) = rows.first() {
                    innodb = innodb.with_transactions(row);
                }
            }
            Err(e) => innodb_errors.push(format!("could not read INNODB_TRX: {e}")),
        }
        Snapshot {
            ping,
            variables,
            status,
            replication,
            innodb,
            innodb_errors,
        }
    }

    /// Returns a healthy connection to the pool.
    async fn finish(&mut self) {
        drop(self.conn.take());
    }
}

/// Closes a connection that must not go back to the pool. `disconnect`
/// marks it disconnected before its first await, so even if the bounded
/// wait expires the pool discards it instead of reusing it.
async fn discard(conn: Conn) {
    let _ = tokio::time::timeout(Duration::from_millis(100), conn.disconnect()).await;
}

fn statement_head(sql: &str) -> &str {
    let end = sql
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .nth(2)
        .map_or(sql.len(), |(i, _)| i);
    &sql[..end]
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

fn to_row(row: &mysql_async::Row) -> Row {
    row.columns_ref()
        .iter()
        .enumerate()
        .map(|(i, col)| {
            let value = row.as_ref(i).and_then(value_text);
            (col.name_str().to_ascii_lowercase(), value)
        })
        .collect()
}

/// `SHOW … VARIABLES/STATUS` rows → name/value map.
fn pairs(rows: &[Row]) -> status::Vars {
    status::vars_from_pairs(rows.iter().filter_map(|r| {
        let name = r.get("variable_name")?.clone()?;
        let value = r.get("value").cloned().flatten().unwrap_or_default();
        Some((name, value))
    }))
}
