//! The PostgreSQL check against real servers (see `testing::postgres`) and
//! against endpoints that fail in the ways networks fail.

use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::{PostgresCheck, PostgresConfig, Secret, TlsSettings};
use crate::report::report_to_otlp;
use crate::test_support::{show, until, verification_cases};
use sextant_testing::postgres::{MONITOR_PASSWORD, MONITOR_USER, Postgres};
use sextant_testing::tls::{tls_files, tls_files_for};

fn config(port: u16) -> PostgresConfig {
    PostgresConfig {
        host: "127.0.0.1".to_string(),
        port,
        user: MONITOR_USER.to_string(),
        ..PostgresConfig::default()
    }
}

fn check_for(pg: &Postgres, edit: impl FnOnce(&mut PostgresConfig)) -> PostgresCheck {
    let mut cfg = config(pg.port);
    edit(&mut cfg);
    PostgresCheck::with_secret(cfg, Some(Secret::new(MONITOR_PASSWORD))).expect("valid config")
}

async fn monitor_connections(pg: &Postgres) -> u64 {
    pg.query_value("SELECT count(*) FROM pg_stat_activity WHERE usename = 'monitor'")
        .await
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn primary_is_ready_until_read_only() {
    let pg = Postgres::start(&[]).await;
    let pw_file = pg.dir().join("monitor.pw");
    std::fs::write(&pw_file, format!("{MONITOR_PASSWORD}\n")).expect("write password file");
    let cfg = PostgresConfig {
        password_file: Some(pw_file),
        max_transaction_age: Duration::from_secs(1),
        ..config(pg.port)
    };
    let check = PostgresCheck::new(cfg).expect("config with a password file");

    let r = check.check().await;
    show("healthy primary", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "primary: writable (not in recovery, default_transaction_read_only=off)"
    );
    assert!(r.verdict.degraded.is_empty(), "{}", r.verdict);
    assert_eq!(
        r.operations, 5,
        "SELECT 1, state, receiver, clients, databases"
    );
    assert!(r.duration < Duration::from_secs(1), "{:?}", r.duration);
    assert!(!r.target.contains(MONITOR_PASSWORD));
    for (name, attr) in [
        ("postgresql.ping.duration", None),
        ("postgresql.server.info", None),
        ("postgresql.uptime", None),
        ("postgresql.connection.max", None),
        ("postgresql.connection.count", None),
        ("postgresql.connection.utilization", None),
        ("postgresql.backends", Some("postgres")),
        ("postgresql.commits", Some("postgres")),
        ("postgresql.rollbacks", Some("postgres")),
        ("postgresql.deadlocks", Some("postgres")),
        ("postgresql.transaction.max_duration", None),
        ("postgresql.replication.clients", Some("streaming")),
        ("postgresql.read_only", None),
    ] {
        assert!(r.metric(name, attr).is_some(), "{name} {attr:?} missing");
    }
    assert_eq!(
        r.metric("postgresql.role", Some("primary"))
            .map(|m| m.value),
        Some(1.0)
    );
    assert!(r.start_unix_nanos > 0 && r.start_unix_nanos <= r.at_unix_nanos);
    let otlp = report_to_otlp(std::slice::from_ref(&r), vec![]);
    let n = otlp.resource_metrics[0].scope_metrics[0].metrics.len();
    println!("one check → {} values, {n} OTLP metrics", r.metrics.len());

    pg.exec(&[
        "ALTER SYSTEM SET default_transaction_read_only = on",
        "SELECT pg_reload_conf()",
    ])
    .await;
    let r = until(
        || check.check(),
        Duration::from_secs(10),
        |r| !r.verdict.ready.ok,
    )
    .await;
    show("read-only primary", &r);
    assert!(r.verdict.live.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "primary is read-only (default_transaction_read_only=on)"
    );
    pg.exec(&[
        "ALTER SYSTEM RESET default_transaction_read_only",
        "SELECT pg_reload_conf()",
    ])
    .await;
    let r = until(
        || check.check(),
        Duration::from_secs(10),
        |r| r.verdict.ready.ok,
    )
    .await;
    assert!(r.verdict.ready.ok, "{}", r.verdict);

    // A long transaction degrades, never fails.
    let trx = pg.admin().await;
    trx.batch_execute("BEGIN; SELECT txid_current()")
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
    trx.batch_execute("ROLLBACK").await.expect("rollback");

    let mut times = Vec::new();
    for _ in 0..20 {
        let r = check.check().await;
        assert_eq!(r.operations, 5);
        times.push(r.duration.as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "20 full checks, 5 queries each: min {:.2} ms, median {:.2} ms, max {:.2} ms",
        times[0], times[10], times[19]
    );
    assert!(monitor_connections(&pg).await <= 2);
    check.close().await;

    let over_socket = check_for(&pg, |c| c.socket_dir = Some(pg.socket_dir()));
    let r = over_socket.check().await;
    show("over the Unix socket", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    over_socket.close().await;
    let end = Instant::now() + Duration::from_secs(5);
    while monitor_connections(&pg).await > 0 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        monitor_connections(&pg).await,
        0,
        "close() leaves nothing behind"
    );
}

#[tokio::test]
async fn standby_ready_paused_and_cut_off() {
    let mut primary = Postgres::start(&[]).await;
    primary
        .exec(&[
            "CREATE TABLE t (id int PRIMARY KEY)",
            "INSERT INTO t VALUES (1)",
        ])
        .await;
    let standby = Postgres::standby_of(&primary, &[]).await;
    let check = check_for(&standby, |c| c.max_replica_lag = Duration::from_secs(1));
    let wait = Duration::from_secs(20);

    let r = until(|| check.check(), wait, |r| r.verdict.ready.ok).await;
    show("standby", &r);
    assert!(r.verdict.ready.ok, "{}", r.verdict);
    let ready = r.verdict.ready.summary();
    assert!(
        ready.starts_with("standby: in recovery, WAL receiver streaming from "),
        "{ready}"
    );
    assert_eq!(
        r.metric("postgresql.role", Some("standby"))
            .map(|m| m.value),
        Some(1.0)
    );
    assert_eq!(
        r.metric("postgresql.replica.lag_known", None)
            .map(|m| m.value),
        Some(1.0)
    );
    assert_eq!(
        r.metric("postgresql.wal_receiver.streaming", None)
            .map(|m| m.value),
        Some(1.0)
    );
    let on_primary = check_for(&primary, |_| {});
    let r = until(
        || on_primary.check(),
        wait,
        |r| {
            r.metric("postgresql.replication.clients", Some("streaming"))
                .map(|m| m.value)
                == Some(1.0)
        },
    )
    .await;
    show("primary with a standby", &r);
    assert!(
        r.metric("postgresql.replication.data_delay", None)
            .is_some(),
        "{:?}",
        r.metrics
    );
    assert!(r.metric("postgresql.wal.lag", Some("replay")).is_some());
    on_primary.close().await;

    // Replay paused while the primary writes: lag grows past the limit
    // (measured from the last replayed commit, so replay one first).
    primary.exec(&["INSERT INTO t VALUES (100)"]).await;
    let end = Instant::now() + wait;
    while standby
        .query_value("SELECT pg_last_xact_replay_timestamp() IS NOT NULL")
        .await
        .as_deref()
        != Some("t")
    {
        assert!(Instant::now() < end, "standby never replayed a commit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    standby.exec(&["SELECT pg_wal_replay_pause()"]).await;
    primary.exec(&["INSERT INTO t VALUES (2)"]).await;
    let r = until(|| check.check(), wait, |r| !r.verdict.ready.ok).await;
    show("paused standby", &r);
    assert!(r.verdict.live.ok, "{}", r.verdict);
    let why = r.verdict.ready.summary();
    assert!(
        why.starts_with("standby: replay lag ")
            && why.ends_with("s exceeds max_replica_lag 1s (replay paused)"),
        "{why}"
    );
    assert_eq!(
        r.metric("postgresql.replica.replay_paused", None)
            .map(|m| m.value),
        Some(1.0)
    );
    standby.exec(&["SELECT pg_wal_replay_resume()"]).await;
    let r = until(|| check.check(), wait, |r| r.verdict.ready.ok).await;
    show("resumed standby", &r);
    assert!(r.verdict.ready.ok, "{}", r.verdict);

    // The primary goes away: the receiver stops streaming.
    primary.stop();
    let r = until(|| check.check(), wait, |r| !r.verdict.ready.ok).await;
    show("standby without primary", &r);
    assert!(r.verdict.live.ok, "{}", r.verdict);
    let why = r.verdict.ready.summary();
    assert!(why.contains("WAL receiver"), "{why}");
    assert_eq!(
        r.metric("postgresql.wal_receiver.streaming", None)
            .map(|m| m.value),
        Some(0.0)
    );
    check.close().await;
}

#[tokio::test]
async fn saturation_is_degraded_and_a_full_server_alive() {
    let pg = Postgres::start(&["max_connections=10", "superuser_reserved_connections=1"]).await;
    let mut hogs = Vec::new();
    for _ in 0..8 {
        hogs.push(pg.admin().await);
    }
    let check = check_for(&pg, |_| {});
    let r = check.check().await;
    show("saturated", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    let reason = r
        .verdict
        .degraded
        .iter()
        .find(|d| d.signal == "connections")
        .unwrap_or_else(|| panic!("no saturation reason: {}", r.verdict));
    assert_eq!(
        reason.text, "9 of max_connections 10 in use (90%), over 80%",
        "{reason}"
    );
    check.close().await;

    // Every slot a non-superuser may take is taken: alive, not ready.
    hogs.push(pg.admin().await);
    let check = check_for(&pg, |_| {});
    let r = check.check().await;
    show("full", &r);
    assert!(r.verdict.live.ok, "{}", r.verdict);
    assert!(!r.verdict.ready.ok, "{}", r.verdict);
    let why = r.verdict.ready.summary();
    assert!(
        why.starts_with("connect: server error 53300 (FATAL): "),
        "{why}"
    );
    drop(hogs);
    check.close().await;
}

#[tokio::test]
async fn wrong_password_is_a_clear_verdict_without_the_password() {
    let pg = Postgres::start(&[]).await;
    let wrong = "not-the-s3cret-pw";
    let check =
        PostgresCheck::with_secret(config(pg.port), Some(Secret::new(wrong))).expect("valid");
    let r = check.check().await;
    show("wrong password", &r);
    assert!(!r.verdict.live.ok && !r.verdict.ready.ok);
    let text = r.verdict.to_string();
    let want = "connect: server error 28P01 (FATAL): \
        password authentication failed for user \"monitor\"";
    assert!(text.contains(want), "{text}");
    assert!(!text.contains(wrong) && !format!("{check:?} {r:?}").contains(wrong));
    assert!(pg.runs_as_postgres_user() || !pg.log().is_empty());
}

#[tokio::test]
async fn unreachable_port_fails_fast() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let check = PostgresCheck::with_secret(config(port), None).expect("valid config");
    let r = check.check().await;
    show("unreachable port", &r);
    assert!(!r.verdict.live.ok);
    assert!(r.duration < Duration::from_secs(2));
    let why = r.verdict.live.summary();
    assert!(
        why.starts_with("connect: ") && why.contains("refused"),
        "{why}"
    );
    assert!(r.metrics.is_empty());
}

#[tokio::test]
async fn silent_listener_and_frozen_server_time_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                while matches!(sock.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    let timeout = Duration::from_millis(500);
    let silent = PostgresCheck::with_secret(
        PostgresConfig {
            timeout,
            ..config(port)
        },
        Some(Secret::new(MONITOR_PASSWORD)),
    )
    .expect("valid config");
    for _ in 0..3 {
        let r = silent.check().await;
        show("silent listener", &r);
        assert!(!r.verdict.live.ok);
        assert!(r.duration < Duration::from_millis(800), "{:?}", r.duration);
        assert_eq!(
            r.verdict.live.summary(),
            "connect: no answer within the check timeout of 500ms"
        );
    }

    let pg = Postgres::start(&[]).await;
    let check = check_for(&pg, |c| c.timeout = timeout);
    assert!(check.check().await.verdict.live.ok);
    pg.signal("STOP");
    for _ in 0..3 {
        let r = check.check().await;
        show("frozen server", &r);
        assert!(r.duration < Duration::from_millis(800), "{:?}", r.duration);
        let why = r.verdict.live.summary();
        assert!(
            why.ends_with("no answer within the check timeout of 500ms"),
            "{why}"
        );
    }
    pg.signal("CONT");
    let r = until(
        || check.check(),
        Duration::from_secs(10),
        |r| r.verdict.ready.ok,
    )
    .await;
    show("thawed server", &r);
    assert!(r.verdict.ready.ok, "{}", r.verdict);
    assert!(
        monitor_connections(&pg).await <= 2,
        "no stuck connection kept"
    );
    check.close().await;
}

#[tokio::test]
async fn tls_is_required_and_verified_against_the_host() {
    let certs = tempfile::tempdir().expect("cert dir");
    // The server's certificate names localhost only, so 127.0.0.1 is a
    // name mismatch on the same server.
    let tls = tls_files_for(certs.path(), "DNS:localhost");
    let other_dir = tempfile::tempdir().expect("other cert dir");
    let other = tls_files(other_dir.path());
    let pg = Postgres::start_tls(&tls, &[]).await;
    let check = |host: &str, settings: Option<TlsSettings>| {
        check_for(&pg, |c| {
            c.host = host.to_string();
            c.tls = settings;
        })
    };
    let trusting = |ca: &std::path::Path| TlsSettings {
        ca_file: Some(ca.to_path_buf()),
        ..TlsSettings::default()
    };

    let trusted = check("localhost", Some(trusting(&tls.ca)));
    let r = trusted.check().await;
    show("TLS, trusted CA", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.operations, 5,
        "SELECT 1, state, receiver, clients, databases"
    );
    // The pooled session the check keeps is the encrypted one.
    let encrypted = pg
        .query_value(
            "SELECT bool_and(s.ssl)::text FROM pg_stat_ssl s \
             JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'monitor'",
        )
        .await;
    assert_eq!(encrypted.as_deref(), Some("true"));
    trusted.close().await;

    let plain = check("127.0.0.1", None);
    let r = plain.check().await;
    show("no TLS, hostssl only", &r);
    assert!(!r.verdict.live.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.live.summary(),
        "connect: server error 28000 (FATAL): no pg_hba.conf entry for host \"127.0.0.1\", \
         user \"monitor\", database \"postgres\", no encryption"
    );

    verification_cases(&tls.ca, &other.ca, |host, settings| {
        let c = check(host, Some(settings));
        async move {
            let r = c.check().await;
            c.close().await;
            r
        }
    })
    .await;

    // SCRAM over our TLS stream binds to the channel: a client that insists
    // on channel binding logs in, so the end-point hash is the server's.
    let mut bound = tokio_postgres::Config::new();
    bound
        .host("localhost")
        .port(pg.port)
        .user(MONITOR_USER)
        .password(MONITOR_PASSWORD)
        .dbname("postgres")
        .ssl_mode(tokio_postgres::config::SslMode::Require)
        .channel_binding(tokio_postgres::config::ChannelBinding::Require);
    let connector = sextant_tls::Connector::new(&trusting(&tls.ca)).expect("connector");
    let (client, connection) = bound
        .connect(super::tls::MakeRustls(connector))
        .await
        .unwrap_or_else(|e| panic!("channel binding required: {e:?}"));
    let task = tokio::spawn(connection);
    client.simple_query("SELECT 1").await.expect("SELECT 1");
    drop(client);
    let _ = task.await;

    let plain_server = Postgres::start(&[]).await;
    let r = check_for(&plain_server, |c| c.tls = Some(trusting(&tls.ca)))
        .check()
        .await;
    show("TLS, server without TLS", &r);
    assert!(!r.verdict.live.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.live.summary(),
        "connect: TLS error: server does not support TLS"
    );
}

#[test]
fn tls_config_errors_name_the_file_and_the_host() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("nope.pem");
    let cfg = PostgresConfig {
        tls: Some(TlsSettings {
            ca_file: Some(missing.clone()),
            ..TlsSettings::default()
        }),
        ..PostgresConfig::default()
    };
    let err = PostgresCheck::with_secret(cfg.clone(), None)
        .expect_err("missing CA file")
        .to_string();
    let want = format!("postgres tls: ca_file {}: ", missing.display());
    assert!(err.starts_with(&want), "{err}");
    let bad_host = PostgresConfig {
        host: "db host".into(),
        ..cfg
    };
    let err = PostgresCheck::with_secret(bad_host, None)
        .expect_err("no server name")
        .to_string();
    assert_eq!(
        err,
        "postgres tls: host \"db host\" is not a valid TLS server name"
    );
}
