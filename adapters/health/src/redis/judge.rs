//! From what Redis said to verdicts and metrics: pure functions over a
//! [`Snapshot`], table-tested without a server.
//!
//! *Live* means PING was answered: `PONG`, or an error that only a working
//! server sends while it cannot serve yet (`LOADING`, `MASTERDOWN`, `BUSY`),
//! which is live but not ready. *Ready* depends on the role: a master that
//! answers is ready; a replica needs its link up, no initial sync running
//! and recent I/O from its master. *Degraded* covers memory near
//! `maxmemory` and connections rejected since the previous check.

use std::time::Duration;

use super::config::RedisConfig;
use super::info::{Info, Role, number};
use crate::report::{MetricValue, flag, metric};
use crate::verdict::{Judgement, Reason, Verdict};

/// Counters remembered between checks, to see them increase.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Previous {
    /// `run_id` of the server then (a restart resets the counters).
    pub run_id: String,
    pub rejected_connections: f64,
}

/// Everything one check read from a server that answered PING.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub ping: Duration,
    /// The error PING answered with when the server is up but cannot serve
    /// (`LOADING …`, `MASTERDOWN …`, `BUSY …`); None for `PONG`.
    pub not_serving: Option<String>,
    pub info: Result<Info, String>,
    /// What the previous check of this server saw, if anything.
    pub previous: Option<Previous>,
}

impl Snapshot {
    fn get(&self, name: &str) -> Option<f64> {
        self.info.as_ref().ok().and_then(|i| number(i, name))
    }

    /// What the next check compares with.
    pub fn remember(&self) -> Option<Previous> {
        let info = self.info.as_ref().ok()?;
        Some(Previous {
            run_id: info.get("run_id")?.clone(),
            rejected_connections: number(info, "rejected_connections")?,
        })
    }

    /// Server start as Unix nanoseconds, from `now` and `uptime_in_seconds`.
    pub fn started_unix_nanos(&self, now_unix_nanos: u64) -> u64 {
        self.get("uptime_in_seconds")
            .map(|s| now_unix_nanos.saturating_sub((s * 1e9) as u64))
            .unwrap_or(0)
    }
}

/// The verdicts for a server that answered PING in `snap.ping`.
pub(crate) fn judge(snap: &Snapshot, cfg: &RedisConfig) -> Verdict {
    let ms = snap.ping.as_secs_f64() * 1000.0;
    let live = match &snap.not_serving {
        None => Judgement::pass(format!("answered PING with PONG in {ms:.1}ms")),
        Some(e) => Judgement::pass(format!("answered PING in {ms:.1}ms with {e}")),
    };
    Verdict {
        live,
        ready: ready(snap, cfg),
        degraded: degraded(snap, cfg),
    }
}

fn ready(snap: &Snapshot, cfg: &RedisConfig) -> Judgement {
    if let Some(e) = &snap.not_serving {
        return Judgement::fail(format!("not serving: {e}"));
    }
    let info = match &snap.info {
        Ok(i) => i,
        Err(e) => return Judgement::fail(format!("could not read INFO: {e}")),
    };
    match Role::from_info(info) {
        None => Judgement::fail("role unknown (no role in INFO replication)"),
        Some(Role::Master) => Judgement::pass("master: answers PING"),
        Some(Role::Replica) => replica_ready(info, cfg),
    }
}

fn replica_ready(info: &Info, cfg: &RedisConfig) -> Judgement {
    let text = |k: &str| info.get(k).map(String::as_str).unwrap_or("?");
    let master = format!("{}:{}", text("master_host"), text("master_port"));
    let mut failures = Vec::new();
    let link = text("master_link_status");
    if link != "up" {
        let since = match number(info, "master_link_down_since_seconds") {
            Some(s) if s >= 0.0 => format!(" for {s:.0}s"),
            _ => String::new(),
        };
        failures.push(format!("replica: link to master {master} is {link}{since}"));
    }
    if number(info, "master_sync_in_progress") == Some(1.0) {
        failures.push(format!(
            "replica: initial sync from master {master} in progress"
        ));
    }
    let max = cfg.max_link_idle.as_secs();
    let last_io = number(info, "master_last_io_seconds_ago").filter(|s| *s >= 0.0);
    match last_io {
        Some(s) if s > max as f64 => failures.push(format!(
            "replica: last I/O from master {s:.0}s ago, over {max}s"
        )),
        None if link == "up" => {
            failures.push("replica: time since last I/O from master unknown".to_string())
        }
        _ => {}
    }
    let pass = format!(
        "replica of {master}: link up, last I/O {:.0}s ago",
        last_io.unwrap_or(f64::NAN)
    );
    Judgement::from_failures(failures, pass)
}

fn degraded(snap: &Snapshot, cfg: &RedisConfig) -> Vec<Reason> {
    let mut out = Vec::new();
    let info = match &snap.info {
        Ok(i) => i,
        Err(e) => {
            out.push(Reason::new(
                "incomplete",
                format!("could not read INFO: {e}"),
            ));
            return out;
        }
    };
    if let (Some(used), Some(max)) = (number(info, "used_memory"), number(info, "maxmemory"))
        && max > 0.0
        && used / max > cfg.max_memory_ratio
    {
        out.push(Reason::new(
            "memory",
            format!(
                "used_memory {used} is {:.0}% of maxmemory {max}, over {:.0}%",
                100.0 * used / max,
                100.0 * cfg.max_memory_ratio
            ),
        ));
    }
    if let (Some(prev), Some(now), Some(run_id)) = (
        &snap.previous,
        number(info, "rejected_connections"),
        info.get("run_id"),
    ) && prev.run_id == *run_id
        && now > prev.rejected_connections
    {
        let maxclients = info.get("maxclients").map(String::as_str).unwrap_or("?");
        out.push(Reason::new(
            "rejected_connections",
            format!(
                "{} connections rejected since the last check (maxclients {maxclients})",
                now - prev.rejected_connections
            ),
        ));
    }
    out
}

metric!(
    PING,
    "redis.ping.duration",
    "s",
    Gauge,
    "Round trip of PING."
);
metric!(
    SERVER_INFO,
    "redis.server.info",
    "1",
    Gauge,
    "Always 1; attribute redis.version."
);
metric!(
    UPTIME,
    "redis.uptime",
    "s",
    Counter,
    "Seconds since the server started."
);
metric!(
    CLIENTS,
    "redis.clients.connected",
    "{client}",
    Gauge,
    "Client connections, replicas excluded."
);
metric!(
    BLOCKED,
    "redis.clients.blocked",
    "{client}",
    Gauge,
    "Clients waiting on a blocking call."
);
metric!(
    RECEIVED,
    "redis.connections.received",
    "{connection}",
    Counter,
    "Connections accepted."
);
metric!(
    REJECTED,
    "redis.connections.rejected",
    "{connection}",
    Counter,
    "Connections rejected because of maxclients."
);
metric!(
    MEM_USED,
    "redis.memory.used",
    "By",
    Gauge,
    "Bytes allocated by Redis (used_memory)."
);
metric!(
    MEM_PEAK,
    "redis.memory.peak",
    "By",
    Gauge,
    "Peak of used_memory."
);
metric!(
    MEM_RSS,
    "redis.memory.rss",
    "By",
    Gauge,
    "Resident set size of the server."
);
metric!(
    MEM_FRAG,
    "redis.memory.fragmentation_ratio",
    "1",
    Gauge,
    "used_memory_rss / used_memory."
);
metric!(
    MAXMEMORY,
    "redis.maxmemory",
    "By",
    Gauge,
    "The maxmemory setting (0: no limit)."
);
metric!(
    MEM_UTILIZATION,
    "redis.memory.utilization",
    "1",
    Gauge,
    "used_memory / maxmemory, when maxmemory is set."
);
metric!(
    ROLE,
    "redis.role",
    "1",
    Gauge,
    "1 for the server's current role (primary, replica), 0 for the other."
);
metric!(
    REPL_OFFSET,
    "redis.replication.offset",
    "By",
    Gauge,
    "The server's replication offset."
);
metric!(
    REPLICA_OFFSET,
    "redis.replication.replica_offset",
    "By",
    Gauge,
    "Replica: offset replicated from its master."
);
metric!(
    SLAVES,
    "redis.slaves.connected",
    "{replica}",
    Gauge,
    "Replicas connected to this server."
);
metric!(
    HITS,
    "redis.keyspace.hits",
    "{hit}",
    Counter,
    "Successful key lookups."
);
metric!(
    MISSES,
    "redis.keyspace.misses",
    "{miss}",
    Counter,
    "Failed key lookups."
);
metric!(
    EVICTED,
    "redis.keys.evicted",
    "{key}",
    Counter,
    "Keys evicted because of maxmemory."
);
metric!(
    EXPIRED,
    "redis.keys.expired",
    "{key}",
    Counter,
    "Keys that expired."
);
metric!(
    LINK_UP,
    "redis.replication.link.up",
    "1",
    Gauge,
    "Replica: 1 when the link to the master is up."
);
metric!(
    LINK_LAST_IO,
    "redis.replication.link.last_io",
    "s",
    Gauge,
    "Replica: seconds since the last I/O from the master; NaN when unknown."
);
metric!(
    SYNCING,
    "redis.replication.sync_in_progress",
    "1",
    Gauge,
    "Replica: 1 while the initial sync from the master runs."
);

/// Every metric the snapshot supports; a value the server did not report is
/// left out, except the replica link series, which read NaN when unknown.
pub(crate) fn metrics(snap: &Snapshot) -> Vec<MetricValue> {
    let mut out = vec![MetricValue::new(&PING, snap.ping.as_secs_f64())];
    let Ok(info) = &snap.info else {
        return out;
    };
    if let Some(v) = info.get("redis_version") {
        out.push(MetricValue::with(&SERVER_INFO, "redis.version", v, 1.0));
    }
    let fields = [
        (&UPTIME, "uptime_in_seconds"),
        (&CLIENTS, "connected_clients"),
        (&BLOCKED, "blocked_clients"),
        (&RECEIVED, "total_connections_received"),
        (&REJECTED, "rejected_connections"),
        (&MEM_USED, "used_memory"),
        (&MEM_PEAK, "used_memory_peak"),
        (&MEM_RSS, "used_memory_rss"),
        (&MEM_FRAG, "mem_fragmentation_ratio"),
        (&MAXMEMORY, "maxmemory"),
        (&REPL_OFFSET, "master_repl_offset"),
        (&SLAVES, "connected_slaves"),
        (&HITS, "keyspace_hits"),
        (&MISSES, "keyspace_misses"),
        (&EVICTED, "evicted_keys"),
        (&EXPIRED, "expired_keys"),
    ];
    for (def, field) in fields {
        if let Some(v) = number(info, field) {
            out.push(MetricValue::new(def, v));
        }
    }
    if let (Some(used), Some(max)) = (number(info, "used_memory"), number(info, "maxmemory"))
        && max > 0.0
    {
        out.push(MetricValue::new(&MEM_UTILIZATION, used / max));
    }
    if let Some(role) = Role::from_info(info) {
        for r in Role::ALL {
            out.push(MetricValue::with(
                &ROLE,
                "role",
                r.as_str(),
                flag(r == role),
            ));
        }
        if role == Role::Replica {
            let up = info.get("master_link_status").map(String::as_str) == Some("up");
            out.push(MetricValue::new(&LINK_UP, flag(up)));
            let last_io = number(info, "master_last_io_seconds_ago").filter(|s| *s >= 0.0);
            out.push(MetricValue::new(&LINK_LAST_IO, last_io.unwrap_or(f64::NAN)));
            let syncing = number(info, "master_sync_in_progress") == Some(1.0);
            out.push(MetricValue::new(&SYNCING, flag(syncing)));
            if let Some(v) = number(info, "slave_repl_offset") {
                out.push(MetricValue::new(&REPLICA_OFFSET, v));
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
