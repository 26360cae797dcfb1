//! From what PostgreSQL said to verdicts and metrics: pure functions over a
//! [`Snapshot`], table-tested without a server.
//!
//! *Live* means the server answered `SELECT 1`. *Ready* depends on the role:
//! a primary must be out of recovery and writable (`default_transaction_read_only`
//! and `transaction_read_only` off); a standby must be in recovery with a
//! streaming WAL receiver and a known replay lag under the limit.
//! *Degraded* covers connection saturation, long transactions and parts of
//! the check that could not be read — none of them fails a probe.

use std::time::Duration;

use super::config::PostgresConfig;
use super::state::{DatabaseStats, Receiver, ReplicationClient, ServerState};
use crate::report::{MetricValue, flag, metric};
use crate::verdict::{Judgement, Reason, Verdict};

/// Everything one check read from a server that answered `SELECT 1`.
/// A part that could not be read holds the error text.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub ping: Duration,
    pub server: Result<ServerState, String>,
    /// The WAL receiver; `Ok(None)` when none runs.
    pub receiver: Result<Option<Receiver>, String>,
    pub clients: Result<Vec<ReplicationClient>, String>,
    pub databases: Result<Vec<DatabaseStats>, String>,
}

/// What the server is, which decides what "ready" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Primary,
    Standby,
}

impl Role {
    const ALL: [Role; 2] = [Role::Primary, Role::Standby];

    fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Standby => "standby",
        }
    }
}

impl Snapshot {
    /// The role, when `pg_is_in_recovery()` could be read.
    pub fn role(&self) -> Option<Role> {
        match self.server.as_ref().ok()?.in_recovery? {
            true => Some(Role::Standby),
            false => Some(Role::Primary),
        }
    }

    /// Postmaster start as Unix nanoseconds; 0 when unknown.
    pub fn started_unix_nanos(&self) -> u64 {
        self.server
            .as_ref()
            .ok()
            .and_then(|s| s.started_unix)
            .filter(|s| *s > 0.0)
            .map(|s| (s * 1e9) as u64)
            .unwrap_or(0)
    }
}

/// The verdicts for a server that answered `SELECT 1` in `snap.ping`.
pub(crate) fn judge(snap: &Snapshot, cfg: &PostgresConfig) -> Verdict {
    let live = Judgement::pass(format!(
        "answered SELECT 1 in {:.1}ms",
        snap.ping.as_secs_f64() * 1000.0
    ));
    Verdict {
        live,
        ready: ready(snap, cfg),
        degraded: degraded(snap, cfg),
    }
}

fn ready(snap: &Snapshot, cfg: &PostgresConfig) -> Judgement {
    let server = match &snap.server {
        Ok(s) => s,
        Err(e) => return Judgement::fail(format!("could not read server state: {e}")),
    };
    match server.in_recovery {
        None => Judgement::fail("recovery state unknown (pg_is_in_recovery)"),
        Some(false) => primary_ready(server),
        Some(true) => standby_ready(snap, server, cfg),
    }
}

fn primary_ready(server: &ServerState) -> Judgement {
    let mut failures = Vec::new();
    match server.default_read_only {
        None => failures.push("primary: default_transaction_read_only unknown".to_string()),
        Some(true) => {
            failures.push("primary is read-only (default_transaction_read_only=on)".to_string())
        }
        Some(false) => {}
    }
    if server.transaction_read_only == Some(true) && server.default_read_only == Some(false) {
        failures.push("primary is read-only (transaction_read_only=on)".to_string());
    }
    Judgement::from_failures(
        failures,
        "primary: writable (not in recovery, default_transaction_read_only=off)",
    )
}

fn standby_ready(snap: &Snapshot, server: &ServerState, cfg: &PostgresConfig) -> Judgement {
    let mut failures = Vec::new();
    let mut source = String::new();
    match &snap.receiver {
        Err(e) => failures.push(format!("could not read pg_stat_wal_receiver: {e}")),
        Ok(None) => failures.push("standby: no WAL receiver running".to_string()),
        Ok(Some(r)) => match r.status.as_deref() {
            Some("streaming") => source = format!(" from {}", r.sender),
            Some(other) => {
                failures.push(format!("standby: WAL receiver is {other}, not streaming"))
            }
            None => failures.push(
                "standby: WAL receiver status not visible (grant pg_monitor to the monitor role)"
                    .to_string(),
            ),
        },
    }
    let paused = if server.replay_paused == Some(true) {
        " (replay paused)"
    } else {
        ""
    };
    let max = cfg.max_replica_lag.as_secs_f64();
    let lag = server.standby_lag_secs();
    match lag {
        None => failures.push(format!(
            "standby: replay lag unknown (no transaction replayed yet){paused}"
        )),
        Some(l) if l > max => failures.push(format!(
            "standby: replay lag {l:.1}s exceeds max_replica_lag {max}s{paused}"
        )),
        Some(_) => {}
    }
    let pass = format!(
        "standby: in recovery, WAL receiver streaming{source}, replay lag {:.1}s",
        lag.unwrap_or(f64::NAN)
    );
    Judgement::from_failures(failures, pass)
}

fn degraded(snap: &Snapshot, cfg: &PostgresConfig) -> Vec<Reason> {
    let mut out = Vec::new();
    match &snap.server {
        Err(e) => out.push(Reason::new(
            "incomplete",
            format!("could not read server state: {e}"),
        )),
        Ok(s) => {
            if let (Some(used), Some(max)) = (s.backends, s.max_connections)
                && max > 0.0
                && used / max > cfg.max_connection_ratio
            {
                out.push(Reason::new(
                    "connections",
                    format!(
                        "{used} of max_connections {max} in use ({:.0}%), over {:.0}%",
                        100.0 * used / max,
                        100.0 * cfg.max_connection_ratio
                    ),
                ));
            }
            let limit = cfg.max_transaction_age.as_secs_f64();
            if let Some(age) = s.oldest_xact_secs
                && age > limit
            {
                out.push(Reason::new(
                    "long_transaction",
                    format!("a transaction has been open {age:.0}s, over {limit}s"),
                ));
            }
        }
    }
    let parts = [
        ("pg_stat_wal_receiver", snap.receiver.as_ref().err()),
        ("pg_stat_replication", snap.clients.as_ref().err()),
        ("pg_stat_database", snap.databases.as_ref().err()),
    ];
    for (what, err) in parts {
        if let Some(e) = err {
            out.push(Reason::new(
                "incomplete",
                format!("could not read {what}: {e}"),
            ));
        }
    }
    out
}

metric!(
    PING,
    "postgresql.ping.duration",
    "s",
    Gauge,
    "Round trip of the liveness query SELECT 1."
);
metric!(
    SERVER_INFO,
    "postgresql.server.info",
    "1",
    Gauge,
    "Always 1; attribute postgresql.version."
);
metric!(
    UPTIME,
    "postgresql.uptime",
    "s",
    Counter,
    "Seconds since the postmaster started."
);
metric!(
    ROLE,
    "postgresql.role",
    "1",
    Gauge,
    "1 for the server's current role (primary, standby), 0 for the other."
);
metric!(
    READ_ONLY,
    "postgresql.read_only",
    "1",
    Gauge,
    "1 when default_transaction_read_only is on."
);
metric!(
    CONNECTION_MAX,
    "postgresql.connection.max",
    "{connections}",
    Gauge,
    "The max_connections setting."
);
metric!(
    CONNECTION_COUNT,
    "postgresql.connection.count",
    "{connections}",
    Gauge,
    "Client backends connected now, all databases."
);
metric!(
    CONNECTION_UTILIZATION,
    "postgresql.connection.utilization",
    "1",
    Gauge,
    "Client backends / max_connections."
);
metric!(
    BACKENDS,
    "postgresql.backends",
    "1",
    Gauge,
    "Backends connected to a database (numbackends)."
);
metric!(
    COMMITS,
    "postgresql.commits",
    "1",
    Counter,
    "Transactions committed in a database."
);
metric!(
    ROLLBACKS,
    "postgresql.rollbacks",
    "1",
    Counter,
    "Transactions rolled back in a database."
);
metric!(
    DEADLOCKS,
    "postgresql.deadlocks",
    "{deadlock}",
    Counter,
    "Deadlocks detected in a database."
);
metric!(
    XACT_MAX_DURATION,
    "postgresql.transaction.max_duration",
    "s",
    Gauge,
    "Age of the oldest open transaction of another session (0 when none)."
);
metric!(
    REPLICA_LAG,
    "postgresql.replica.lag",
    "s",
    Gauge,
    "Standby: replay lag (0 when all received WAL is replayed); NaN when unknown."
);
metric!(
    REPLICA_LAG_KNOWN,
    "postgresql.replica.lag_known",
    "1",
    Gauge,
    "Standby: 1 when the replay lag is known, else 0."
);
metric!(
    REPLICA_BACKLOG,
    "postgresql.replica.replay_backlog",
    "By",
    Gauge,
    "Standby: WAL received but not replayed; NaN when unknown."
);
metric!(
    REPLICA_PAUSED,
    "postgresql.replica.replay_paused",
    "1",
    Gauge,
    "Standby: 1 when WAL replay is paused."
);
metric!(
    RECEIVER_STREAMING,
    "postgresql.wal_receiver.streaming",
    "1",
    Gauge,
    "Standby: 1 when the WAL receiver is streaming."
);
metric!(
    REPLICATION_CLIENTS,
    "postgresql.replication.clients",
    "{clients}",
    Gauge,
    "Standbys streaming from this server, by state."
);
metric!(
    DATA_DELAY,
    "postgresql.replication.data_delay",
    "By",
    Gauge,
    "WAL a replication client has not replayed yet."
);
metric!(
    WAL_LAG,
    "postgresql.wal.lag",
    "s",
    Gauge,
    "Replication lag of a client by operation (write, flush, replay); 0 when caught up and idle."
);

const CLIENT_STATES: [&str; 5] = ["startup", "catchup", "streaming", "backup", "stopping"];
const DB_ATTR: &str = "postgresql.database.name";
const CLIENT_ATTR: &str = "replication_client";

fn nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// Every metric the snapshot supports; a value the server did not report
/// is left out, except the standby lag series, which read NaN when unknown.
pub(crate) fn metrics(snap: &Snapshot) -> Vec<MetricValue> {
    let mut out = vec![MetricValue::new(&PING, snap.ping.as_secs_f64())];
    if let Ok(s) = &snap.server {
        server_metrics(s, &mut out);
    }
    if let Some(role) = snap.role() {
        for r in Role::ALL {
            out.push(MetricValue::with(
                &ROLE,
                "role",
                r.as_str(),
                flag(r == role),
            ));
        }
    }
    if let (Some(Role::Standby), Ok(s)) = (snap.role(), &snap.server) {
        let lag = s.standby_lag_secs();
        out.push(MetricValue::new(&REPLICA_LAG, nan(lag)));
        out.push(MetricValue::new(&REPLICA_LAG_KNOWN, flag(lag.is_some())));
        out.push(MetricValue::new(
            &REPLICA_BACKLOG,
            nan(s.replay_backlog_bytes),
        ));
        out.push(MetricValue::new(
            &REPLICA_PAUSED,
            flag(s.replay_paused == Some(true)),
        ));
        if let Ok(r) = &snap.receiver {
            let streaming = r.as_ref().and_then(|r| r.status.as_deref()) == Some("streaming");
            out.push(MetricValue::new(&RECEIVER_STREAMING, flag(streaming)));
        }
    }
    if let Ok(clients) = &snap.clients {
        for state in CLIENT_STATES {
            let n = clients.iter().filter(|c| c.state == state).count();
            out.push(MetricValue::with(
                &REPLICATION_CLIENTS,
                "state",
                state,
                n as f64,
            ));
        }
        for c in clients {
            if let Some(d) = c.data_delay {
                out.push(MetricValue::with(&DATA_DELAY, CLIENT_ATTR, &c.name, d));
            }
            for (op, lag) in [
                ("write", c.write_lag),
                ("flush", c.flush_lag),
                ("replay", c.replay_lag),
            ] {
                out.push(
                    MetricValue::with(&WAL_LAG, "operation", op, lag.unwrap_or(0.0))
                        .attr(CLIENT_ATTR, c.name.clone()),
                );
            }
        }
    }
    if let Ok(dbs) = &snap.databases {
        for db in dbs {
            let defs = [
                (&BACKENDS, db.backends),
                (&COMMITS, db.commits),
                (&ROLLBACKS, db.rollbacks),
                (&DEADLOCKS, db.deadlocks),
            ];
            for (def, value) in defs {
                if let Some(v) = value {
                    out.push(MetricValue::with(def, DB_ATTR, &db.name, v));
                }
            }
        }
    }
    out
}

fn server_metrics(s: &ServerState, out: &mut Vec<MetricValue>) {
    if let Some(v) = &s.version {
        out.push(MetricValue::with(
            &SERVER_INFO,
            "postgresql.version",
            v,
            1.0,
        ));
    }
    let plain = [
        (&UPTIME, s.uptime_secs),
        (&CONNECTION_MAX, s.max_connections),
        (&CONNECTION_COUNT, s.backends),
        (&READ_ONLY, s.default_read_only.map(flag)),
    ];
    for (def, value) in plain {
        if let Some(v) = value {
            out.push(MetricValue::new(def, v));
        }
    }
    if let (Some(used), Some(max)) = (s.backends, s.max_connections)
        && max > 0.0
    {
        out.push(MetricValue::new(&CONNECTION_UTILIZATION, used / max));
    }
    out.push(MetricValue::new(
        &XACT_MAX_DURATION,
        s.oldest_xact_secs.unwrap_or(0.0).max(0.0),
    ));
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
