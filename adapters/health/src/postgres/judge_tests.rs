//! Table tests of the verdict rules over hand-built snapshots.

use super::*;

/// A healthy primary: 10 of 100 connections, no long transaction.
fn primary() -> Snapshot {
    Snapshot {
        ping: Duration::from_micros(1500),
        server: Ok(ServerState {
            version: Some("15.14".into()),
            started_unix: Some(1_700_000_000.0),
            uptime_secs: Some(3600.0),
            in_recovery: Some(false),
            default_read_only: Some(false),
            transaction_read_only: Some(false),
            max_connections: Some(100.0),
            backends: Some(10.0),
            oldest_xact_secs: None,
            ..ServerState::default()
        }),
        receiver: Ok(None),
        clients: Ok(vec![]),
        databases: Ok(vec![]),
    }
}

fn standby() -> Snapshot {
    let mut s = primary();
    if let Ok(server) = &mut s.server {
        server.in_recovery = Some(true);
        server.default_read_only = Some(false);
        server.transaction_read_only = Some(true);
        server.replay_age_secs = Some(2.0);
        server.replay_backlog_bytes = Some(128.0);
        server.replay_paused = Some(false);
    }
    s.receiver = Ok(Some(Receiver {
        status: Some("streaming".into()),
        sender: "db1:5432".into(),
        last_msg_age_secs: Some(0.5),
    }));
    s
}

type Edit = fn(&mut Snapshot);

fn server(s: &mut Snapshot) -> &mut ServerState {
    s.server
        .as_mut()
        .expect("test snapshots have a server state")
}

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
            Ok("primary: writable (not in recovery, default_transaction_read_only=off)"),
        ),
        (
            "read-only primary",
            primary(),
            |s| server(s).default_read_only = Some(true),
            Some(Role::Primary),
            Err("primary is read-only (default_transaction_read_only=on)"),
        ),
        (
            "read-only session on a primary",
            primary(),
            |s| server(s).transaction_read_only = Some(true),
            Some(Role::Primary),
            Err("primary is read-only (transaction_read_only=on)"),
        ),
        (
            "standby",
            standby(),
            |_| {},
            Some(Role::Standby),
            Ok("standby: in recovery, WAL receiver streaming from db1:5432, replay lag 2.0s"),
        ),
        (
            "caught-up standby of an idle primary",
            standby(),
            |s| {
                server(s).replay_age_secs = Some(9000.0);
                server(s).replay_backlog_bytes = Some(0.0);
            },
            Some(Role::Standby),
            Ok("standby: in recovery, WAL receiver streaming from db1:5432, replay lag 0.0s"),
        ),
        (
            "lagging, paused standby",
            standby(),
            |s| {
                server(s).replay_age_secs = Some(31.0);
                server(s).replay_paused = Some(true);
            },
            Some(Role::Standby),
            Err("standby: replay lag 31.0s exceeds max_replica_lag 30s (replay paused)"),
        ),
        (
            "standby with unknown lag",
            standby(),
            |s| server(s).replay_age_secs = None,
            Some(Role::Standby),
            Err("standby: replay lag unknown (no transaction replayed yet)"),
        ),
        (
            "standby without receiver",
            standby(),
            |s| s.receiver = Ok(None),
            Some(Role::Standby),
            Err("standby: no WAL receiver running"),
        ),
        (
            "standby with a waiting receiver",
            standby(),
            |s| {
                s.receiver = Ok(Some(Receiver {
                    status: Some("waiting".into()),
                    sender: String::new(),
                    last_msg_age_secs: None,
                }))
            },
            Some(Role::Standby),
            Err("standby: WAL receiver is waiting, not streaming"),
        ),
        (
            "receiver status hidden",
            standby(),
            |s| {
                s.receiver = Ok(Some(Receiver {
                    status: None,
                    sender: String::new(),
                    last_msg_age_secs: None,
                }))
            },
            Some(Role::Standby),
            Err("standby: WAL receiver status not visible (grant pg_monitor to the monitor role)"),
        ),
        (
            "state timed out",
            primary(),
            |s| s.server = Err("no answer".into()),
            None,
            Err("could not read server state: no answer"),
        ),
    ];
    let cfg = PostgresConfig::default();
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

#[test]
fn degraded_never_fails_a_probe() {
    let cases: [(&str, Edit, &[&str]); 5] = [
        ("healthy", |_| {}, &[]),
        (
            "saturated",
            |s| server(s).backends = Some(81.0),
            &["connections: 81 of max_connections 100 in use (81%), over 80%"],
        ),
        ("at the threshold", |s| server(s).backends = Some(80.0), &[]),
        (
            "long transaction",
            |s| server(s).oldest_xact_secs = Some(75.4),
            &["long_transaction: a transaction has been open 75s, over 60s"],
        ),
        (
            "stats unreadable",
            |s| s.databases = Err("permission denied".into()),
            &["incomplete: could not read pg_stat_database: permission denied"],
        ),
    ];
    let cfg = PostgresConfig::default();
    for (name, edit, want) in cases {
        let mut snap = primary();
        edit(&mut snap);
        let v = judge(&snap, &cfg);
        assert!(v.live.ok && v.ready.ok, "{name}: {v}");
        let got: Vec<String> = v.degraded.iter().map(ToString::to_string).collect();
        assert_eq!(got, want, "{name}");
    }
}

fn find<'a>(out: &'a [MetricValue], name: &str, attr: Option<&str>) -> Option<&'a MetricValue> {
    out.iter().find(|m| {
        m.def.name == name && attr.is_none_or(|a| m.attributes.iter().any(|(_, v)| v == a))
    })
}

#[test]
fn unknown_standby_lag_keeps_its_series() {
    let mut snap = standby();
    server(&mut snap).replay_age_secs = None;
    server(&mut snap).replay_backlog_bytes = None;
    snap.receiver = Ok(None);
    let out = metrics(&snap);
    let lag = find(&out, "postgresql.replica.lag", None).expect("lag series present");
    assert!(lag.value.is_nan());
    let known = find(&out, "postgresql.replica.lag_known", None).expect("lag_known");
    assert_eq!(known.value, 0.0);
    let backlog = find(&out, "postgresql.replica.replay_backlog", None).expect("backlog");
    assert!(backlog.value.is_nan());
    let streaming = find(&out, "postgresql.wal_receiver.streaming", None).expect("receiver");
    assert_eq!(streaming.value, 0.0);
    assert_eq!(
        find(&out, "postgresql.role", Some("standby")).map(|m| m.value),
        Some(1.0)
    );
}

#[test]
fn primary_metrics_per_database_and_client() {
    let mut snap = primary();
    snap.clients = Ok(vec![ReplicationClient {
        name: "standby1".into(),
        state: "streaming".into(),
        write_lag: Some(0.01),
        flush_lag: None,
        replay_lag: Some(0.03),
        data_delay: Some(4096.0),
    }]);
    snap.databases = Ok(vec![DatabaseStats {
        name: "app".into(),
        backends: Some(3.0),
        commits: Some(100.0),
        rollbacks: Some(2.0),
        deadlocks: Some(1.0),
    }]);
    let out = metrics(&snap);
    let value = |name: &str, attr: Option<&str>| find(&out, name, attr).map(|m| m.value);
    assert_eq!(value("postgresql.connection.utilization", None), Some(0.1));
    assert_eq!(value("postgresql.connection.max", None), Some(100.0));
    assert_eq!(value("postgresql.commits", Some("app")), Some(100.0));
    assert_eq!(value("postgresql.deadlocks", Some("app")), Some(1.0));
    assert_eq!(
        value("postgresql.replication.data_delay", Some("standby1")),
        Some(4096.0)
    );
    assert_eq!(
        value("postgresql.wal.lag", Some("flush")),
        Some(0.0),
        "NULL lag: caught up"
    );
    assert_eq!(
        value("postgresql.replication.clients", Some("streaming")),
        Some(1.0)
    );
    assert_eq!(
        value("postgresql.replication.clients", Some("catchup")),
        Some(0.0)
    );
    assert_eq!(
        value("postgresql.transaction.max_duration", None),
        Some(0.0)
    );
    assert_eq!(value("postgresql.role", Some("primary")), Some(1.0));
    assert!(
        find(&out, "postgresql.replica.lag", None).is_none(),
        "standby series only on standbys"
    );
    assert_eq!(snap.started_unix_nanos(), 1_700_000_000_000_000_000);
}
