//! From what the server said to verdicts and metrics: pure functions over a
//! [`Snapshot`], so every rule is table-tested without a server.
//!
//! *Live* means the server answered `SELECT 1`. *Ready* depends on the role:
//! a primary (no replication configured) must be writable; a replica must be
//! read-only with both threads running and a known lag under the limit; a
//! Galera node must be Primary and Synced. *Degraded* covers connection
//! saturation, purge debt, long transactions, and parts of the check that
//! could not be read — none of them fails a probe.

use std::time::Duration;

use super::config::MysqlConfig;
use super::galera::{self, GaleraState};
use super::innodb::{self, InnodbState};
use super::replication::{self, Channel};
use super::status::{self, ServerInfo, Vars, flag_var, number};
use crate::health::report::{MetricValue, flag, metric};
use crate::health::verdict::{Judgement, Reason, Verdict};

/// Everything one check read from a server that answered `SELECT 1`.
/// A part that could not be read holds the error text.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub ping: Duration,
    pub variables: Result<Vars, String>,
    pub status: Result<Vars, String>,
    pub replication: Result<Vec<Channel>, String>,
    pub innodb: InnodbState,
    /// Parts of the InnoDB reading that failed (e.g. no PROCESS privilege).
    pub innodb_errors: Vec<String>,
}

/// What the server is, which decides what "ready" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Primary,
    Replica,
    Galera,
}

impl Role {
    const ALL: [Role; 3] = [Role::Primary, Role::Replica, Role::Galera];

    fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
            Role::Galera => "galera",
        }
    }
}

fn empty() -> &'static Vars {
    static EMPTY: Vars = Vars::new();
    &EMPTY
}

impl Snapshot {
    fn vars(&self) -> &Vars {
        self.variables.as_ref().unwrap_or(empty())
    }

    fn stat(&self) -> &Vars {
        self.status.as_ref().unwrap_or(empty())
    }

    pub fn server(&self) -> Option<ServerInfo> {
        ServerInfo::from_variables(self.vars())
    }

    pub fn galera(&self) -> Option<GaleraState> {
        GaleraState::from_vars(self.vars(), self.stat())
    }

    /// The role, when the parts deciding it could be read.
    pub fn role(&self) -> Option<Role> {
        if self.galera().is_some() {
            return Some(Role::Galera);
        }
        match &self.replication {
            Ok(channels) if !channels.is_empty() => Some(Role::Replica),
            Ok(_) => Some(Role::Primary),
            Err(_) => None,
        }
    }

    /// Server start as Unix nanoseconds, from `now` and `Uptime`.
    pub fn started_unix_nanos(&self, now_unix_nanos: u64) -> u64 {
        number(self.stat(), "uptime")
            .map(|s| now_unix_nanos.saturating_sub((s * 1e9) as u64))
            .unwrap_or(0)
    }
}

/// The verdicts for a server that answered `SELECT 1` in `snap.ping`.
pub(crate) fn judge(snap: &Snapshot, cfg: &MysqlConfig) -> Verdict {
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

fn ready(snap: &Snapshot, cfg: &MysqlConfig) -> Judgement {
    let vars = match &snap.variables {
        Ok(v) => v,
        Err(e) => return Judgement::fail(format!("could not read variables: {e}")),
    };
    let galera = snap.galera();
    if galera.is_some()
        && let Err(e) = &snap.status
    {
        return Judgement::fail(format!("could not read Galera status: {e}"));
    }
    let channels = match &snap.replication {
        Ok(c) => c.as_slice(),
        Err(e) => return Judgement::fail(format!("could not read replica status: {e}")),
    };
    let read_only = flag_var(vars, "read_only");
    let super_read_only = flag_var(vars, "super_read_only");
    let mut failures = Vec::new();
    let mut passes = Vec::new();
    if let Some(g) = &galera {
        failures.extend(g.failures(cfg.galera_donor_ready));
        passes.push(g.describe());
    } else if channels.is_empty() {
        match read_only {
            None => failures.push("primary: read_only unknown".to_string()),
            Some(true) => failures.push("primary is read-only (read_only=ON)".to_string()),
            Some(false) if super_read_only == Some(true) => {
                failures.push("primary is read-only (super_read_only=ON)".to_string())
            }
            Some(false) => passes.push("primary: writable (read_only=OFF)".to_string()),
        }
    } else {
        match read_only {
            Some(true) => passes.push("replica: read-only".to_string()),
            Some(false) => failures.push("replica is not read-only (read_only=OFF)".to_string()),
            None => failures.push("replica: read_only unknown".to_string()),
        }
    }
    for c in channels {
        let f = c.failures(cfg.max_replica_lag);
        if f.is_empty() {
            passes.push(c.describe());
        }
        failures.extend(f);
    }
    Judgement::from_failures(failures, passes.join("; "))
}

fn degraded(snap: &Snapshot, cfg: &MysqlConfig) -> Vec<Reason> {
    let mut out = Vec::new();
    match &snap.status {
        Err(e) => out.push(Reason::new(
            "incomplete",
            format!("could not read status: {e}"),
        )),
        Ok(status) => {
            let connected = number(status, "threads_connected");
            let max = number(snap.vars(), "max_connections");
            if let (Some(connected), Some(max)) = (connected, max)
                && max > 0.0
                && connected / max > cfg.max_connection_ratio
            {
                out.push(Reason::new(
                    "connections",
                    format!(
                        "{connected} of max_connections {max} in use ({:.0}%), over {:.0}%",
                        100.0 * connected / max,
                        100.0 * cfg.max_connection_ratio
                    ),
                ));
            }
        }
    }
    if let Some(h) = snap.innodb.history_list
        && h > cfg.max_history_list
    {
        out.push(Reason::new(
            "history_list",
            format!(
                "InnoDB history list length {h} over {}",
                cfg.max_history_list
            ),
        ));
    }
    if let Some(age) = snap.innodb.oldest_transaction_secs
        && age > cfg.max_transaction_age.as_secs()
    {
        out.push(Reason::new(
            "long_transaction",
            format!(
                "a transaction has been open {age}s, over {}s",
                cfg.max_transaction_age.as_secs()
            ),
        ));
    }
    for e in &snap.innodb_errors {
        out.push(Reason::new("incomplete", e.clone()));
    }
    out
}

metric!(
    ROLE,
    "mysql.role",
    "",
    Gauge,
    "1 for the server's current role (primary, replica, galera), 0 for the others."
);

/// Every metric the snapshot supports.
pub(crate) fn metrics(snap: &Snapshot) -> Vec<MetricValue> {
    let mut out = vec![MetricValue::new(&status::PING, snap.ping.as_secs_f64())];
    let server = snap.server();
    status::metrics(server.as_ref(), snap.stat(), snap.vars(), &mut out);
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
    if let Ok(channels) = &snap.replication {
        replication::metrics(channels, &mut out);
    }
    innodb::metrics(&snap.innodb, &mut out);
    if let Some(g) = snap.galera() {
        galera::metrics(&g, &mut out);
    }
    out
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
