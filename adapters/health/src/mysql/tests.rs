//! The MySQL check against real MariaDB servers (see `health::mariadb`)
//! and against endpoints that fail in the ways networks fail.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use tokio::io::AsyncReadExt;

use super::TlsSettings;
use super::{ExpectedRole, MysqlCheck, MysqlConfig, Secret};
use crate::report::report_to_otlp;
use crate::test_support::{show, until};
use sextant_testing::mariadb::{MONITOR_PASSWORD, MONITOR_USER, MariaDb, tls_server_options};
use sextant_testing::tls::tls_files;

fn config(port: u16) -> MysqlConfig {
    MysqlConfig {
        host: "127.0.0.1".to_string(),
        port,
        user: MONITOR_USER.to_string(),
        ..MysqlConfig::default()
    }
}

fn check_for(db: &MariaDb, edit: impl FnOnce(&mut MysqlConfig)) -> MysqlCheck {
    let mut cfg = config(db.port);
    edit(&mut cfg);
    MysqlCheck::with_secret(cfg, Some(Secret::new(MONITOR_PASSWORD))).expect("valid config")
}

async fn monitor_connections(db: &MariaDb) -> u64 {
    let mut admin = db.admin().await;
    let n: Option<u64> = admin
        .query_first("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'monitor'")
        .await
        .expect("count monitor connections");
    let _ = admin.disconnect().await;
    n.unwrap_or(0)
}

#[tokio::test]
async fn primary_is_ready_until_read_only() {
    let db = MariaDb::start(1).await;
    let pw_file = db.dir().join("monitor.pw");
    std::fs::write(&pw_file, format!("{MONITOR_PASSWORD}\n")).expect("write password file");
    let cfg = MysqlConfig {
        password_file: Some(pw_file),
        max_transaction_age: Duration::from_secs(1),
        ..config(db.port)
    };
    let check = MysqlCheck::new(cfg).expect("config with a password file");

    let r = check.check().await;
    show("healthy primary", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "primary: writable (read_only=OFF)"
    );
    assert!(r.verdict.degraded.is_empty(), "{}", r.verdict);
    assert_eq!(
        r.operations, 6,
        "SELECT 1, variables, status, replicas, 2x InnoDB"
    );
    assert!(r.duration < Duration::from_secs(1), "{:?}", r.duration);
    assert!(!r.target.contains(MONITOR_PASSWORD));
    for (name, attr) in [
        ("mysql.uptime", None),
        ("mysql.threads", Some("connected")),
        ("mysql.threads", Some("running")),
        ("mysql.connection.utilization", None),
        ("mysql.connection.errors", Some("aborted")),
        ("mysql.query.slow.count", None),
        ("mysql.query.client.count", None),
        ("mysql.buffer_pool.pages", Some("free")),
        ("mysql.buffer_pool.usage", Some("clean")),
        ("mysql.buffer_pool.limit", None),
        ("mysql.buffer_pool.operations", Some("reads")),
        ("mysql.row_locks", Some("waits")),
        ("mysql.innodb.deadlocks", None),
        ("mysql.innodb.history_list.length", None),
        ("mysql.innodb.transactions.max_duration", None),
        ("mysql.read_only", Some("read_only")),
        ("mysql.server.info", Some("mariadb")),
        ("mysql.ping.duration", None),
    ] {
        assert!(r.metric(name, attr).is_some(), "{name} {attr:?} missing");
    }
    let role = r.metric("mysql.role", Some("primary")).expect("role");
    assert_eq!(role.value, 1.0);
    assert!(r.start_unix_nanos > 0 && r.start_unix_nanos <= r.at_unix_nanos);
    let otlp = report_to_otlp(std::slice::from_ref(&r), vec![]);
    let n = otlp.resource_metrics[0].scope_metrics[0].metrics.len();
    println!(
        "one check → {} metric values, {n} OTLP metrics",
        r.metrics.len()
    );

    db.exec(&["SET GLOBAL read_only = 1"]).await;
    let r = check.check().await;
    show("read-only primary", &r);
    assert!(r.verdict.live.ok, "{}", r.verdict);
    assert!(!r.verdict.ready.ok);
    assert_eq!(
        r.verdict.ready.summary(),
        "primary is read-only (read_only=ON)"
    );

    db.exec(&["SET GLOBAL read_only = 0"]).await;
    let r = check.check().await;
    assert!(r.verdict.ready.ok, "{}", r.verdict);

    // A long transaction degrades, never fails.
    let mut trx = db.admin().await;
    trx.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        .await
        .expect("open a transaction");
    let r = until(
        || check.check(),
        Duration::from_secs(10),
        |r| !r.verdict.degraded.is_empty(),
    )
    .await;
    show("long transaction", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.degraded[0].signal, "long_transaction",
        "{}",
        r.verdict
    );
    trx.query_drop("ROLLBACK").await.expect("rollback");

    // Repeated checks keep to the pool's two connections; time them.
    let mut times = Vec::new();
    for _ in 0..20 {
        let r = check.check().await;
        assert_eq!(r.operations, 6);
        times.push(r.duration.as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "20 full checks, 6 queries each: min {:.2} ms, median {:.2} ms, max {:.2} ms",
        times[0], times[10], times[19]
    );
    assert!(monitor_connections(&db).await <= 2);
    check.close().await;

    let over_socket = check_for(&db, |c| c.socket = Some(db.socket()));
    let r = over_socket.check().await;
    show("over the Unix socket", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    assert!(
        r.target.starts_with("mysql://monitor@unix:/"),
        "{}",
        r.target
    );
    over_socket.close().await;

    let closed = until_zero(&db).await;
    assert_eq!(closed, 0, "close() leaves no monitor connection behind");
}

async fn until_zero(db: &MariaDb) -> u64 {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let n = monitor_connections(db).await;
        if n == 0 || Instant::now() > end {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn replica_ready_stopped_lagging_and_back() {
    let primary = MariaDb::start(1).await;
    let replica = MariaDb::start(2).await;
    primary
        .exec(&[
            "CREATE DATABASE app",
            "CREATE TABLE app.t (id INT PRIMARY KEY) ENGINE=InnoDB",
        ])
        .await;
    replica.replicate_from(&primary).await;
    let check = check_for(&replica, |_| {});
    let wait = Duration::from_secs(20);

    let r = until(|| check.check(), wait, |r| r.verdict.ready.ok).await;
    show("replica", &r);
    assert!(r.verdict.ready.ok, "{}", r.verdict);
    let ready = r.verdict.ready.summary();
    assert!(
        ready.starts_with("replica: read-only; replica from 127.0.0.1:"),
        "{ready}"
    );
    assert_eq!(
        r.metric("mysql.role", Some("replica")).map(|m| m.value),
        Some(1.0)
    );
    assert_eq!(
        r.metric("mysql.replica.lag_known", None).map(|m| m.value),
        Some(1.0)
    );

    replica.exec(&["STOP SLAVE SQL_THREAD"]).await;
    let r = until(|| check.check(), wait, |r| !r.verdict.ready.ok).await;
    show("replica, SQL thread stopped", &r);
    assert!(r.verdict.live.ok);
    assert_eq!(r.verdict.ready.summary(), "replica: SQL thread not running");
    let lag = r
        .metric("mysql.replica.time_behind_source", None)
        .expect("lag series kept");
    assert!(lag.value.is_nan());
    assert_eq!(
        r.metric("mysql.replica.lag_known", None).map(|m| m.value),
        Some(0.0)
    );
    let sql = r
        .metric("mysql.replica.thread.running", Some("sql"))
        .expect("sql thread");
    assert_eq!(sql.value, 0.0);

    replica.exec(&["START SLAVE SQL_THREAD"]).await;
    let r = until(|| check.check(), wait, |r| r.verdict.ready.ok).await;
    assert!(r.verdict.ready.ok, "{}", r.verdict);

    // Lag: block the SQL thread on a table lock while it applies an event
    // stamped two minutes ago; Seconds_Behind_Master is then ~120.
    let mut locker = replica.admin().await;
    locker
        .query_drop("LOCK TABLES app.t WRITE")
        .await
        .expect("lock on the replica");
    primary
        .exec(&[
            "SET SESSION timestamp = UNIX_TIMESTAMP() - 120",
            "INSERT INTO app.t VALUES (1)",
        ])
        .await;
    let r = until(|| check.check(), wait, |r| !r.verdict.ready.ok).await;
    show("lagging replica", &r);
    assert!(r.verdict.live.ok);
    let why = r.verdict.ready.summary();
    assert!(
        why.starts_with("replica: lag 1") && why.ends_with("s exceeds max_replica_lag 30s"),
        "{why}"
    );
    locker.query_drop("UNLOCK TABLES").await.expect("unlock");
    let r = until(|| check.check(), wait, |r| r.verdict.ready.ok).await;
    show("caught up", &r);
    assert!(r.verdict.ready.ok, "{}", r.verdict);
    check.close().await;
}

/// A monitoring user with `PROCESS` only: no `REPLICATION CLIENT`, no
/// `REPLICA MONITOR`, so it may not read replica status.
const RESTRICTED_USER: &str = "monitor_norepl";

/// Creates [`RESTRICTED_USER`] on `db` without binlogging it (so a replica
/// never replays it), with the monitor's password.
async fn create_restricted_user(db: &MariaDb) {
    let create = format!(
        "CREATE USER '{RESTRICTED_USER}'@'%' IDENTIFIED BY '{MONITOR_PASSWORD}' \
         WITH MAX_USER_CONNECTIONS 3"
    );
    let grant = format!("GRANT PROCESS ON *.* TO '{RESTRICTED_USER}'@'%'");
    db.exec(&["SET SESSION sql_log_bin = 0", &create, &grant])
        .await;
}

/// A check of `db` as [`RESTRICTED_USER`] with `role`.
fn restricted_check(db: &MariaDb, role: ExpectedRole) -> MysqlCheck {
    check_for(db, |c| {
        c.user = RESTRICTED_USER.to_string();
        c.role = role;
    })
}

#[tokio::test]
async fn configured_roles_and_a_monitor_without_the_replication_privilege() {
    let primary = MariaDb::start(1).await;
    let replica = MariaDb::start(2).await;
    create_restricted_user(&primary).await;
    create_restricted_user(&replica).await;
    replica.replicate_from(&primary).await;
    let wait = Duration::from_secs(20);

    // auto: replica status is unreadable, so never ready; the reason keeps
    // its old prefix and says what to do.
    let auto = restricted_check(&primary, ExpectedRole::Auto);
    let r = auto.check().await;
    show("auto, no replication privilege", &r);
    assert!(r.verdict.live.ok && !r.verdict.ready.ok, "{}", r.verdict);
    let why = r.verdict.ready.summary();
    assert!(
        why.starts_with("could not read replica status: server error 1227 (42000): Access denied"),
        "{why}"
    );
    assert!(
        why.ends_with(" (grant REPLICATION CLIENT / REPLICA MONITOR, or set role: primary)"),
        "{why}"
    );
    assert!(r.metric("mysql.role", None).is_none());
    auto.close().await;

    // role: primary: replica status is not asked for; ready while writable.
    let as_primary = restricted_check(&primary, ExpectedRole::Primary);
    let r = as_primary.check().await;
    show("role: primary, no replication privilege", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "primary (configured): writable (read_only=OFF)"
    );
    assert!(r.verdict.degraded.is_empty(), "{}", r.verdict);
    assert_eq!(r.operations, 5, "SELECT 1, variables, status, 2x InnoDB");
    assert_eq!(
        r.metric("mysql.read_only", Some("read_only"))
            .map(|m| m.value),
        Some(0.0)
    );

    // role: replica on the primary: nothing replicates into it.
    let primary_as_replica = check_for(&primary, |c| c.role = ExpectedRole::Replica);
    let r = primary_as_replica.check().await;
    show("role: replica on the primary", &r);
    assert!(r.verdict.live.ok && !r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "expected a replica: no replication configured"
    );
    primary_as_replica.close().await;

    // role: replica on the replica: judged as an auto-detected replica.
    let as_replica = check_for(&replica, |c| c.role = ExpectedRole::Replica);
    let r = until(|| as_replica.check(), wait, |r| r.verdict.ready.ok).await;
    show("role: replica on the replica", &r);
    assert!(r.verdict.ready.ok, "{}", r.verdict);
    let ready = r.verdict.ready.summary();
    assert!(
        ready.starts_with("replica (configured): read-only; replica from 127.0.0.1:"),
        "{ready}"
    );
    assert_eq!(
        r.metric("mysql.role", Some("replica")).map(|m| m.value),
        Some(1.0)
    );

    // The replica as a (restricted) primary: it is read-only, as a primary
    // that was demoted after a failover would be.
    let replica_as_primary = restricted_check(&replica, ExpectedRole::Primary);
    let r = replica_as_primary.check().await;
    show("role: primary on the replica", &r);
    assert!(r.verdict.live.ok && !r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "primary (configured) is read-only (read_only=ON)"
    );
    replica_as_primary.close().await;

    // role: replica without the privilege: the hint does not suggest a role.
    let restricted_replica = restricted_check(&replica, ExpectedRole::Replica);
    let r = restricted_replica.check().await;
    show("role: replica, no replication privilege", &r);
    assert!(!r.verdict.ready.ok, "{}", r.verdict);
    let why = r.verdict.ready.summary();
    assert!(
        why.starts_with("could not read replica status: server error 1227")
            && why.ends_with(
                "privilege(s) for this operation (grant REPLICATION CLIENT / REPLICA MONITOR)"
            ),
        "{why}"
    );
    restricted_replica.close().await;

    // The primary made read-only is no longer ready as a primary.
    primary.exec(&["SET GLOBAL read_only = 1"]).await;
    let r = as_primary.check().await;
    show("role: primary, read-only", &r);
    assert!(r.verdict.live.ok && !r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "primary (configured) is read-only (read_only=ON)"
    );
    primary.exec(&["SET GLOBAL read_only = 0"]).await;
    let r = as_primary.check().await;
    assert!(r.verdict.ready.ok, "{}", r.verdict);
    as_primary.close().await;

    // A replica whose replication was reset: auto sees a read-only
    // primary; role: replica says what is wrong.
    replica.exec(&["STOP SLAVE", "RESET SLAVE ALL"]).await;
    let r = as_replica.check().await;
    show("role: replica, replication reset", &r);
    assert!(r.verdict.live.ok && !r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "expected a replica: no replication configured"
    );
    as_replica.close().await;
}

#[tokio::test]
async fn saturation_is_degraded_but_live_and_ready() {
    let db = MariaDb::start(1).await;
    db.exec(&["SET GLOBAL max_connections = 10"]).await;
    let mut hogs = Vec::new();
    for _ in 0..8 {
        hogs.push(db.tcp_root().await);
    }
    let check = check_for(&db, |_| {});
    let r = check.check().await;
    show("saturated", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    let reason = r
        .verdict
        .degraded
        .iter()
        .find(|d| d.signal == "connections")
        .unwrap_or_else(|| panic!("no saturation reason: {}", r.verdict));
    assert!(
        reason.text.contains("of max_connections 10 in use"),
        "{reason}"
    );
    let used = r
        .metric("mysql.connection.utilization", None)
        .expect("utilization");
    assert!(used.value > 0.8, "{}", used.value);
    drop(hogs);
    check.close().await;
}

#[tokio::test]
async fn killed_server_is_not_live_within_the_timeout() {
    let mut db = MariaDb::start(1).await;
    let check = check_for(&db, |c| c.timeout = Duration::from_secs(1));
    let r = check.check().await;
    assert!(r.verdict.live.ok, "{}", r.verdict);
    db.kill();
    let r = check.check().await;
    show("killed server", &r);
    assert!(!r.verdict.live.ok && !r.verdict.ready.ok);
    assert!(r.duration < Duration::from_millis(1500), "{:?}", r.duration);
    let why = r.verdict.live.summary();
    assert!(why.starts_with("connect: I/O error"), "{why}");
    assert!(why.contains("refused"), "{why}");
    check.close().await;
}

#[tokio::test]
async fn frozen_server_times_out_and_the_pool_recovers() {
    let db = MariaDb::start(1).await;
    let check = check_for(&db, |c| c.timeout = Duration::from_millis(500));
    assert!(check.check().await.verdict.live.ok);
    db.signal("STOP");
    // Whether the pooled connection's check or a fresh connect hangs, each
    // check ends at its timeout; more checks than pool slots must not
    // exhaust the pool for good.
    for _ in 0..4 {
        let r = check.check().await;
        show("frozen server", &r);
        assert!(r.duration < Duration::from_millis(800), "{:?}", r.duration);
        let why = r.verdict.live.summary();
        assert!(
            why.ends_with("no answer within the check timeout of 500ms"),
            "{why}"
        );
    }
    db.signal("CONT");
    let r = until(
        || check.check(),
        Duration::from_secs(10),
        |r| r.verdict.live.ok,
    )
    .await;
    show("thawed server", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    for _ in 0..3 {
        assert!(check.check().await.verdict.ready.ok);
    }
    assert!(
        monitor_connections(&db).await <= 2,
        "no stuck connection kept"
    );
    check.close().await;
}

#[tokio::test]
async fn wrong_password_is_a_clear_verdict_without_the_password() {
    let db = MariaDb::start(1).await;
    let wrong = "not-the-s3cret-pw";
    let check =
        MysqlCheck::with_secret(config(db.port), Some(Secret::new(wrong))).expect("valid config");
    for _ in 0..2 {
        let r = check.check().await;
        show("wrong password", &r);
        assert!(!r.verdict.live.ok);
        let text = r.verdict.to_string();
        assert!(
            text.contains("connect: server error 1045 (28000): Access denied for user 'monitor'"),
            "{text}"
        );
        assert!(!text.contains(wrong) && !r.target.contains(wrong));
        assert!(!format!("{check:?} {r:?}").contains(wrong));
    }
    check.close().await;
    assert_eq!(monitor_connections(&db).await, 0);
}

#[tokio::test]
async fn unreachable_port_fails_fast() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let check = MysqlCheck::with_secret(config(port), None).expect("valid config");
    let r = check.check().await;
    show("unreachable port", &r);
    assert!(!r.verdict.live.ok);
    assert!(r.duration < Duration::from_secs(2));
    let why = r.verdict.live.summary();
    assert!(
        why.starts_with("connect: I/O error") && why.contains("refused"),
        "{why}"
    );
    assert_eq!(r.verdict.ready.summary(), format!("not live: {why}"));
    assert!(r.metrics.is_empty());
    check.close().await;
}

#[tokio::test]
async fn silent_listener_times_out_without_leaking_connections() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let server = tokio::spawn(async move {
        let mut accepted = 0u32;
        while let Ok((mut sock, _)) = listener.accept().await {
            accepted += 1;
            let tx = tx.clone();
            // Never answer; report when the client hangs up.
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                while matches!(sock.read(&mut buf).await, Ok(n) if n > 0) {}
                let _ = tx.send(());
            });
            if accepted == 3 {
                break;
            }
        }
        accepted
    });
    let check = MysqlCheck::with_secret(
        MysqlConfig {
            timeout: Duration::from_millis(500),
            ..config(port)
        },
        Some(Secret::new(MONITOR_PASSWORD)),
    )
    .expect("valid config");
    for _ in 0..3 {
        let r = check.check().await;
        show("silent listener", &r);
        assert!(!r.verdict.live.ok);
        assert!(r.duration < Duration::from_millis(800), "{:?}", r.duration);
        assert_eq!(
            r.verdict.live.summary(),
            "connect: no answer within the check timeout of 500ms"
        );
    }
    check.close().await;
    let accepted = tokio::time::timeout(Duration::from_secs(2), server)
        .await
        .expect("three connections arrive")
        .expect("listener task");
    for _ in 0..accepted {
        tokio::time::timeout(Duration::from_secs(2), rx.recv())
            .await
            .expect("every connection is closed by the client")
            .expect("channel open");
    }
}

#[tokio::test]
async fn tls_is_optional_and_verified() {
    let certs = tempfile::tempdir().expect("cert dir");
    let tls = tls_files(certs.path());
    let db = MariaDb::start_with(1, &tls_server_options(&tls)).await;
    db.exec(&["ALTER USER 'monitor'@'%' REQUIRE SSL"]).await;

    let trusted = check_for(&db, |c| {
        c.tls = Some(TlsSettings {
            ca_file: Some(tls.ca.clone()),
            ..TlsSettings::default()
        })
    });
    let r = trusted.check().await;
    show("TLS, trusted CA", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    trusted.close().await;

    let plain = check_for(&db, |_| {});
    let r = plain.check().await;
    show("no TLS, REQUIRE SSL", &r);
    let why = r.verdict.live.summary();
    assert!(why.contains("Access denied for user 'monitor'"), "{why}");
    plain.close().await;

    let untrusted = check_for(&db, |c| c.tls = Some(TlsSettings::default()));
    let r = untrusted.check().await;
    show("TLS, unknown CA", &r);
    let why = r.verdict.live.summary();
    assert!(why.starts_with("connect: TLS error"), "{why}");
    untrusted.close().await;
}
