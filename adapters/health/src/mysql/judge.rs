//! From what the server said to verdicts and metrics: pure functions over a
//! [`Snapshot`], so every rule is table-tested without a server.
//!
//! *Live* means the server answered `SELECT 1`. *Ready* depends on the role:
//! a primary (no replication configured) must be writable; a replica must be
//! read-only with both threads running and a known lag under the limit; a
//! Galera node must be Primary and Synced. *Degraded* covers connection
//! saturation, purge debt, long transactions, and parts of the check that
//! could not be read — none of them fails a probe.
//!
//! The role is worked out from the server unless the config names it
//! (`role:`). `primary` skips replica status and wants a writable server
//! (a Galera node: Primary, Synced *and* writable). `replica` wants at least
//! one replication channel and then judges as `auto` does (a Galera node
//! with an async channel: the Galera rules plus the channel's).

use std::time::Duration;

use super::config::{ExpectedRole, MysqlConfig};
use super::galera::{self, GaleraState};
use super::innodb::{self, InnodbState};
use super::replication::{self, Channel};
use super::status::{self, ServerInfo, Vars, flag_var, number};
use crate::report::{MetricValue, flag, metric};
use crate::verdict::{Judgement, Reason, Verdict};

/// Everything one check read from a server that answered `SELECT 1`.
/// A part that could not be read holds the error text.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub ping: Duration,
    pub variables: Result<Vars, String>,
    pub status: Result<Vars, String>,
    /// Replica status; `None` when it was not asked for (`role: primary`).
    pub replication: Option<Result<Vec<Channel>, String>>,
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

    /// The role the server showed, when the parts deciding it were read
    /// (never the configured role: with `role: primary` only a Galera node
    /// shows one, since replica status is not read).
    pub fn role(&self) -> Option<Role> {
        if self.galera().is_some() {
            return Some(Role::Galera);
        }
        match &self.replication {
            Some(Ok(channels)) if !channels.is_empty() => Some(Role::Replica),
            Some(Ok(_)) => Some(Role::Primary),
            Some(Err(_)) | None => None,
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
    if cfg.role == ExpectedRole::Primary {
        return configured_primary(vars, galera.as_ref(), cfg);
    }
    let channels = match &snap.replication {
        Some(Ok(c)) => c.as_slice(),
        Some(Err(e)) => {
            return Judgement::fail(format!(
                "could not read replica status: {e}{}",
                privilege_hint(e, cfg.role)
            ));
        }
        None => return Judgement::fail("replica status was not read"),
    };
    if cfg.role == ExpectedRole::Replica && channels.is_empty() {
        return Judgement::fail("expected a replica: no replication configured");
    }
    let replica = match cfg.role {
        ExpectedRole::Replica => "replica (configured)",
        ExpectedRole::Auto | ExpectedRole::Primary => "replica",
    };
    let mut failures = Vec::new();
    let mut passes = Vec::new();
    if let Some(g) = &galera {
        failures.extend(g.failures(cfg.galera_donor_ready));
        passes.push(g.describe());
    } else if channels.is_empty() {
        match writable(vars, "primary") {
            Ok(pass) => passes.push(pass),
            Err(failure) => failures.push(failure),
        }
    } else {
        match flag_var(vars, "read_only") {
            Some(true) => passes.push(format!("{replica}: read-only")),
            Some(false) => failures.push(format!("{replica} is not read-only (read_only=OFF)")),
            None => failures.push(format!("{replica}: read_only unknown")),
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

/// `role: primary`: replica status was not read; the server must take
/// writes (and a Galera node must also pass the Galera rules).
fn configured_primary(vars: &Vars, galera: Option<&GaleraState>, cfg: &MysqlConfig) -> Judgement {
    let mut failures = Vec::new();
    let mut passes = Vec::new();
    if let Some(g) = galera {
        failures.extend(g.failures(cfg.galera_donor_ready));
        passes.push(g.describe());
    }
    match writable(vars, "primary (configured)") {
        Ok(pass) => passes.push(pass),
        Err(failure) => failures.push(failure),
    }
    Judgement::from_failures(failures, passes.join("; "))
}

/// Whether a server meant to take writes can: `Ok(why)` or `Err(why not)`.
fn writable(vars: &Vars, label: &str) -> Result<String, String> {
    match (
        flag_var(vars, "read_only"),
        flag_var(vars, "super_read_only"),
    ) {
        (None, _) => Err(format!("{label}: read_only unknown")),
        (Some(true), _) => Err(format!("{label} is read-only (read_only=ON)")),
        (Some(false), Some(true)) => Err(format!("{label} is read-only (super_read_only=ON)")),
        (Some(false), _) => Ok(format!("{label}: writable (read_only=OFF)")),
    }
}

/// What to do when the monitor may not read replica status: grant the
/// privilege, or (when the role was left to `auto`) name the role.
fn privilege_hint(error: &str, role: ExpectedRole) -> &'static str {
    let denied = error.starts_with("server error 1227 ") || error.contains("Access denied");
    match role {
        _ if !denied => "",
        ExpectedRole::Auto => " (grant REPLICATION CLIENT / REPLICA MONITOR, or set role: primary)",
        ExpectedRole::Primary | ExpectedRole::Replica => {
            " (grant REPLICATION CLIENT / REPLICA MONITOR)"
        }
    }
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
    if let Some(Ok(channels)) = &snap.replication {
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
