//! Table tests of the verdict rules over hand-built snapshots.

use super::*;
use crate::mysql::status::vars_from_pairs;

fn vars(pairs: &[(&str, &str)]) -> Vars {
    vars_from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

fn channel(seconds_behind: Option<u64>) -> Channel {
    let lag = seconds_behind.map(|s| s.to_string());
    Channel::from_row(
        &[
            ("master_host", Some("db1")),
            ("master_port", Some("3306")),
            ("slave_io_running", Some("Yes")),
            ("slave_sql_running", Some("Yes")),
            ("seconds_behind_master", lag.as_deref()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.map(|v| v.to_string())))
        .collect(),
    )
}

/// A healthy MariaDB primary: 10 of 100 connections, little purge debt.
fn primary() -> Snapshot {
    Snapshot {
        ping: Duration::from_micros(1500),
        variables: Ok(vars(&[
            ("version", "10.11.6-MariaDB"),
            ("read_only", "OFF"),
            ("max_connections", "100"),
            ("wsrep_on", "OFF"),
        ])),
        status: Ok(vars(&[("Threads_connected", "10"), ("Uptime", "3600")])),
        replication: Some(Ok(vec![])),
        innodb: InnodbState {
            history_list: Some(10),
            deadlocks: Some(0),
            active_transactions: Some(0),
            oldest_transaction_secs: Some(0),
        },
        innodb_errors: vec![],
    }
}

fn replica() -> Snapshot {
    let mut s = primary();
    s.variables = Ok(vars(&[
        ("version", "8.0.36"),
        ("read_only", "ON"),
        ("max_connections", "100"),
    ]));
    s.replication = Some(Ok(vec![channel(Some(2))]));
    s
}

fn galera(state: &str, comment: &str) -> Snapshot {
    let mut s = primary();
    s.variables = Ok(vars(&[
        ("version", "10.11.6-MariaDB"),
        ("read_only", "OFF"),
        ("wsrep_on", "ON"),
    ]));
    s.status = Ok(vars(&[
        ("wsrep_cluster_status", "Primary"),
        ("wsrep_local_state", state),
        ("wsrep_local_state_comment", comment),
        ("wsrep_ready", "ON"),
        ("wsrep_cluster_size", "3"),
    ]));
    s
}

type Edit = fn(&mut Snapshot);

#[test]
fn readiness_by_role() {
    type Case = (
        &'static str,
        Snapshot,
        Edit,
        Option<Role>,
        Result<&'static str, &'static str>,
    );
    let cases: [Case; 11] = [
        (
            "primary",
            primary(),
            |_| {},
            Some(Role::Primary),
            Ok("primary: writable (read_only=OFF)"),
        ),
        (
            "read-only primary",
            primary(),
            |s| s.variables = Ok(vars(&[("read_only", "ON")])),
            Some(Role::Primary),
            Err("primary is read-only (read_only=ON)"),
        ),
        (
            "super_read_only primary",
            primary(),
            |s| s.variables = Ok(vars(&[("read_only", "OFF"), ("super_read_only", "ON")])),
            Some(Role::Primary),
            Err("primary is read-only (super_read_only=ON)"),
        ),
        (
            "replica",
            replica(),
            |_| {},
            Some(Role::Replica),
            Ok("replica: read-only; replica from db1:3306: threads running, lag 2s"),
        ),
        (
            "writable replica",
            replica(),
            |s| s.variables = Ok(vars(&[("read_only", "OFF")])),
            Some(Role::Replica),
            Err("replica is not read-only (read_only=OFF)"),
        ),
        (
            "lagging replica",
            replica(),
            |s| s.replication = Some(Ok(vec![channel(Some(31))])),
            Some(Role::Replica),
            Err("replica: lag 31s exceeds max_replica_lag 30s"),
        ),
        (
            "replica with unknown lag",
            replica(),
            |s| s.replication = Some(Ok(vec![channel(None)])),
            Some(Role::Replica),
            Err("replica: lag unknown (Seconds_Behind_Source is NULL)"),
        ),
        (
            "replica status unreadable",
            replica(),
            |s| s.replication = Some(Err("server error 1227 (42000): Access denied".into())),
            None,
            Err(
                "could not read replica status: server error 1227 (42000): Access denied \
                 (grant REPLICATION CLIENT / REPLICA MONITOR, or set role: primary)",
            ),
        ),
        (
            "variables timed out",
            primary(),
            |s| s.variables = Err("no answer".into()),
            Some(Role::Primary),
            Err("could not read variables: no answer"),
        ),
        (
            "synced galera",
            galera("4", "Synced"),
            |_| {},
            Some(Role::Galera),
            Ok("galera: Primary, Synced, cluster size 3"),
        ),
        (
            "donor galera",
            galera("2", "Donor/Desynced"),
            |_| {},
            Some(Role::Galera),
            Err("galera: node state is \"Donor/Desynced\", not Synced (wsrep_local_state_comment)"),
        ),
    ];
    let cfg = MysqlConfig::default();
    for (name, mut snap, edit, role, want) in cases {
        edit(&mut snap);
        let v = judge(&snap, &cfg);
        assert!(v.live.ok, "{name}: a server that answered is live");
        assert_eq!(v.live.summary(), "answered SELECT 1 in 1.5ms", "{name}");
        assert_eq!(snap.role(), role, "{name}");
        let got = if v.ready.ok {
            Ok(v.ready.summary())
        } else {
            Err(v.ready.summary())
        };
        let want = want.map(str::to_string).map_err(str::to_string);
        assert_eq!(got, want, "{name}");
    }
}

/// What MariaDB 10.11 answers a monitor without `REPLICA MONITOR` (alias `SLAVE MONITOR`).
const DENIED: &str = "server error 1227 (42000): Access denied; you need (at least one of) \
                      the SUPER, SLAVE MONITOR privilege(s) for this operation";

fn stopped_sql_thread(s: &mut Snapshot) {
    let mut c = channel(None);
    c.sql_running = false;
    c.last_sql_error = "Duplicate entry '1'".into();
    s.replication = Some(Ok(vec![c]));
}

#[test]
fn readiness_by_configured_role() {
    use ExpectedRole::{Auto, Primary, Replica};
    type Case = (
        &'static str,
        fn() -> Snapshot,
        Edit,
        ExpectedRole,
        Result<&'static str, &'static str>,
    );
    let cases: [Case; 31] = [
        // A writable server without replication.
        (
            "writable primary",
            primary,
            |_| {},
            Auto,
            Ok("primary: writable (read_only=OFF)"),
        ),
        (
            "writable primary",
            primary,
            |_| {},
            Primary,
            Ok("primary (configured): writable (read_only=OFF)"),
        ),
        (
            "writable primary",
            primary,
            |_| {},
            Replica,
            Err("expected a replica: no replication configured"),
        ),
        // A read-only server without replication (demoted, or reset replica).
        (
            "read-only primary",
            primary,
            |s| s.variables = Ok(vars(&[("read_only", "ON")])),
            Auto,
            Err("primary is read-only (read_only=ON)"),
        ),
        (
            "read-only primary",
            primary,
            |s| s.variables = Ok(vars(&[("read_only", "ON")])),
            Primary,
            Err("primary (configured) is read-only (read_only=ON)"),
        ),
        (
            "read-only primary",
            primary,
            |s| s.variables = Ok(vars(&[("read_only", "ON")])),
            Replica,
            Err("expected a replica: no replication configured"),
        ),
        (
            "super_read_only primary",
            primary,
            |s| s.variables = Ok(vars(&[("read_only", "OFF"), ("super_read_only", "ON")])),
            Primary,
            Err("primary (configured) is read-only (super_read_only=ON)"),
        ),
        (
            "read_only unknown",
            primary,
            |s| s.variables = Ok(vars(&[("version", "8.0.36")])),
            Primary,
            Err("primary (configured): read_only unknown"),
        ),
        // A healthy replica.
        (
            "healthy replica",
            replica,
            |_| {},
            Auto,
            Ok("replica: read-only; replica from db1:3306: threads running, lag 2s"),
        ),
        (
            "healthy replica",
            replica,
            |_| {},
            Primary,
            Err("primary (configured) is read-only (read_only=ON)"),
        ),
        (
            "healthy replica",
            replica,
            |_| {},
            Replica,
            Ok("replica (configured): read-only; replica from db1:3306: threads running, lag 2s"),
        ),
        (
            "writable replica",
            replica,
            |s| s.variables = Ok(vars(&[("read_only", "OFF")])),
            Replica,
            Err("replica (configured) is not read-only (read_only=OFF)"),
        ),
        // A broken replica: SQL thread stopped on an error.
        (
            "broken replica",
            replica,
            stopped_sql_thread,
            Auto,
            Err("replica: SQL thread not running (Last_SQL_Error: Duplicate entry '1')"),
        ),
        (
            "broken replica",
            replica,
            stopped_sql_thread,
            Primary,
            Err("primary (configured) is read-only (read_only=ON)"),
        ),
        (
            "broken replica",
            replica,
            stopped_sql_thread,
            Replica,
            Err("replica: SQL thread not running (Last_SQL_Error: Duplicate entry '1')"),
        ),
        // A lagging replica.
        (
            "lagging replica",
            replica,
            |s| s.replication = Some(Ok(vec![channel(Some(31))])),
            Auto,
            Err("replica: lag 31s exceeds max_replica_lag 30s"),
        ),
        (
            "lagging replica",
            replica,
            |s| s.replication = Some(Ok(vec![channel(Some(31))])),
            Primary,
            Err("primary (configured) is read-only (read_only=ON)"),
        ),
        (
            "lagging replica",
            replica,
            |s| s.replication = Some(Ok(vec![channel(Some(31))])),
            Replica,
            Err("replica: lag 31s exceeds max_replica_lag 30s"),
        ),
        // A monitor without the replication privilege.
        (
            "access denied on a primary",
            primary,
            |s| s.replication = Some(Err(DENIED.into())),
            Auto,
            Err(
                "could not read replica status: server error 1227 (42000): Access denied; you \
                 need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this \
                 operation (grant REPLICATION CLIENT / REPLICA MONITOR, or set role: primary)",
            ),
        ),
        (
            "access denied on a primary",
            primary,
            |s| s.replication = Some(Err(DENIED.into())),
            Primary,
            Ok("primary (configured): writable (read_only=OFF)"),
        ),
        (
            "access denied on a replica",
            replica,
            |s| s.replication = Some(Err(DENIED.into())),
            Replica,
            Err(
                "could not read replica status: server error 1227 (42000): Access denied; you \
                 need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this \
                 operation (grant REPLICATION CLIENT / REPLICA MONITOR)",
            ),
        ),
        (
            "access denied on a replica",
            replica,
            |s| s.replication = Some(Err(DENIED.into())),
            Primary,
            Err("primary (configured) is read-only (read_only=ON)"),
        ),
        // Other failures reading replica status get no privilege hint.
        (
            "replica status timed out",
            primary,
            |s| s.replication = Some(Err("SHOW ALL REPLICAS: no answer".into())),
            Auto,
            Err("could not read replica status: SHOW ALL REPLICAS: no answer"),
        ),
        (
            "variables timed out",
            primary,
            |s| s.variables = Err("no answer".into()),
            Primary,
            Err("could not read variables: no answer"),
        ),
        // Galera: `primary` adds "writable", `replica` wants a channel.
        (
            "synced galera",
            || galera("4", "Synced"),
            |_| {},
            Auto,
            Ok("galera: Primary, Synced, cluster size 3"),
        ),
        (
            "synced galera",
            || galera("4", "Synced"),
            |_| {},
            Primary,
            Ok(
                "galera: Primary, Synced, cluster size 3; primary (configured): writable (read_only=OFF)",
            ),
        ),
        (
            "synced galera",
            || galera("4", "Synced"),
            |_| {},
            Replica,
            Err("expected a replica: no replication configured"),
        ),
        (
            "donor galera",
            || galera("2", "Donor/Desynced"),
            |_| {},
            Primary,
            Err("galera: node state is \"Donor/Desynced\", not Synced (wsrep_local_state_comment)"),
        ),
        (
            "read-only galera",
            || galera("4", "Synced"),
            |s| {
                s.variables = Ok(vars(&[("read_only", "ON"), ("wsrep_on", "ON")]));
            },
            Primary,
            Err("primary (configured) is read-only (read_only=ON)"),
        ),
        (
            "galera with an async channel",
            || galera("4", "Synced"),
            |s| s.replication = Some(Ok(vec![channel(Some(2))])),
            Replica,
            Ok(
                "galera: Primary, Synced, cluster size 3; replica from db1:3306: threads running, lag 2s",
            ),
        ),
        (
            "galera without the replication privilege",
            || galera("4", "Synced"),
            |s| s.replication = Some(Err(DENIED.into())),
            Primary,
            Ok(
                "galera: Primary, Synced, cluster size 3; primary (configured): writable (read_only=OFF)",
            ),
        ),
    ];
    for (name, build, edit, role, want) in cases {
        let mut snap = build();
        edit(&mut snap);
        if role == Primary {
            // As `gather` does: `role: primary` never reads replica status.
            snap.replication = None;
        }
        let cfg = MysqlConfig {
            role,
            ..MysqlConfig::default()
        };
        let v = judge(&snap, &cfg);
        assert!(v.live.ok, "{name} ({role}): a server that answered is live");
        let got = if v.ready.ok {
            Ok(v.ready.summary())
        } else {
            Err(v.ready.summary())
        };
        let want = want.map(str::to_string).map_err(str::to_string);
        assert_eq!(got, want, "{name} ({role})");
    }
}

#[test]
fn configured_primary_reports_no_guessed_role() {
    // Replica status was not read: the role metric is left out rather
    // than guessed, and there are no replica series.
    let mut snap = primary();
    snap.replication = None;
    assert_eq!(snap.role(), None);
    let out = metrics(&snap);
    assert!(!out.iter().any(|m| m.def.name == "mysql.role"));
    assert!(!out.iter().any(|m| m.def.name.starts_with("mysql.replica.")));
    assert!(out.iter().any(|m| m.def.name == "mysql.read_only"));
    let mut node = galera("4", "Synced");
    node.replication = None;
    assert_eq!(node.role(), Some(Role::Galera));
}

#[test]
fn degraded_never_fails_a_probe() {
    let cases: [(&str, Edit, &[&str]); 6] = [
        ("healthy", |_| {}, &[]),
        (
            "saturated",
            |s| s.status = Ok(vars(&[("Threads_connected", "81")])),
            &["connections: 81 of max_connections 100 in use (81%), over 80%"],
        ),
        (
            "at the threshold",
            |s| s.status = Ok(vars(&[("Threads_connected", "80")])),
            &[],
        ),
        (
            "purge debt and a long transaction",
            |s| {
                s.innodb.history_list = Some(250_000);
                s.innodb.oldest_transaction_secs = Some(75);
            },
            &[
                "history_list: InnoDB history list length 250000 over 100000",
                "long_transaction: a transaction has been open 75s, over 60s",
            ],
        ),
        (
            "status unreadable",
            |s| s.status = Err("timeout".into()),
            &["incomplete: could not read status: timeout"],
        ),
        (
            "no PROCESS privilege",
            |s| s.innodb_errors = vec!["could not read INNODB_TRX: denied".into()],
            &["incomplete: could not read INNODB_TRX: denied"],
        ),
    ];
    let cfg = MysqlConfig::default();
    for (name, edit, want) in cases {
        let mut snap = primary();
        edit(&mut snap);
        let v = judge(&snap, &cfg);
        assert!(v.live.ok && v.ready.ok, "{name}: {v}");
        let got: Vec<String> = v.degraded.iter().map(|r| r.to_string()).collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn metrics_cover_role_and_server_start() {
    let snap = replica();
    let out = metrics(&snap);
    let role: Vec<(String, f64)> = out
        .iter()
        .filter(|m| m.def.name == "mysql.role")
        .map(|m| (m.attributes[0].1.clone(), m.value))
        .collect();
    assert_eq!(
        role,
        [
            ("primary".into(), 0.0),
            ("replica".into(), 1.0),
            ("galera".into(), 0.0)
        ]
    );
    assert!(
        out.iter()
            .any(|m| m.def.name == "mysql.replica.time_behind_source" && m.value == 2.0)
    );
    assert_eq!(snap.started_unix_nanos(4_000_000_000_000), 400_000_000_000);
    let mut unknown = primary();
    unknown.status = Err("x".into());
    assert_eq!(unknown.started_unix_nanos(5), 0);
}
