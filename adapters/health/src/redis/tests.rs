//! The Redis check against real servers (see `testing::redis`) and against
//! endpoints that fail in the ways networks (and impostors) fail.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{RedisCheck, RedisConfig, Secret, TlsSettings};

use crate::test_support::{show, until, verification_cases};
use sextant_testing::redis::Redis;
use sextant_testing::tls::{tls_files, tls_files_for};

fn check_on(port: u16, edit: impl FnOnce(&mut RedisConfig)) -> RedisCheck {
    let mut cfg = RedisConfig {
        port,
        ..RedisConfig::default()
    };
    edit(&mut cfg);
    RedisCheck::with_secret(cfg, None).expect("valid config")
}

fn info_field(redis: &Redis, name: &str) -> f64 {
    let info = redis.command(&["INFO", "memory"]);
    super::info::number(&super::info::parse_info(&info), name)
        .unwrap_or_else(|| panic!("{name} in INFO memory"))
}

#[tokio::test]
async fn master_is_ready_and_degraded_near_maxmemory() {
    let redis = Redis::start(&[]).await;
    let check = check_on(redis.port, |_| {});
    let r = check.check().await;
    show("master", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(r.verdict.ready.summary(), "master: answers PING");
    assert!(r.verdict.degraded.is_empty(), "{}", r.verdict);
    assert_eq!(r.operations, 2, "PING, INFO");
    for (name, attr) in [
        ("redis.ping.duration", None),
        ("redis.server.info", None),
        ("redis.uptime", None),
        ("redis.clients.connected", None),
        ("redis.connections.rejected", None),
        ("redis.connections.received", None),
        ("redis.memory.used", None),
        ("redis.memory.peak", None),
        ("redis.maxmemory", None),
        ("redis.replication.offset", None),
        ("redis.slaves.connected", None),
        ("redis.keyspace.hits", None),
    ] {
        assert!(r.metric(name, attr).is_some(), "{name} {attr:?} missing");
    }
    assert_eq!(
        r.metric("redis.role", Some("primary")).map(|m| m.value),
        Some(1.0)
    );
    assert!(r.start_unix_nanos > 0 && r.start_unix_nanos <= r.at_unix_nanos);

    redis.command(&["SET", "big", &"x".repeat(2_000_000)]);
    let used = info_field(&redis, "used_memory");
    let max = (used / 0.9) as u64;
    redis.command(&["CONFIG", "SET", "maxmemory", &max.to_string()]);
    let r = check.check().await;
    show("near maxmemory", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    let memory = r
        .verdict
        .degraded
        .iter()
        .find(|d| d.signal == "memory")
        .unwrap_or_else(|| panic!("no memory reason: {}", r.verdict));
    assert!(
        memory
            .text
            .contains(&format!("of maxmemory {max}, over 80%")),
        "{memory}"
    );
    let util = r
        .metric("redis.memory.utilization", None)
        .expect("utilization");
    assert!(util.value > 0.8 && util.value < 1.0, "{}", util.value);
}

#[tokio::test]
async fn replica_ready_until_its_master_dies() {
    let mut master = Redis::start(&[]).await;
    let replica = Redis::replica_of(&master, &[]).await;
    let check = check_on(replica.port, |_| {});
    let wait = Duration::from_secs(20);
    let r = until(|| check.check(), wait, |r| r.verdict.ready.ok).await;
    show("replica", &r);
    assert!(r.verdict.ready.ok, "{}", r.verdict);
    let ready = r.verdict.ready.summary();
    let source = format!("127.0.0.1:{}", master.port);
    assert!(
        ready.starts_with(&format!("replica of {source}: link up, last I/O ")),
        "{ready}"
    );
    assert_eq!(
        r.metric("redis.role", Some("replica")).map(|m| m.value),
        Some(1.0)
    );
    assert_eq!(
        r.metric("redis.replication.link.up", None).map(|m| m.value),
        Some(1.0)
    );

    master.kill();
    let r = until(|| check.check(), wait, |r| !r.verdict.ready.ok).await;
    show("replica without master", &r);
    assert!(r.verdict.live.ok, "{}", r.verdict);
    let why = r.verdict.ready.summary();
    assert!(
        why.starts_with(&format!("replica: link to master {source} is down")),
        "{why}"
    );
    assert_eq!(
        r.metric("redis.replication.link.up", None).map(|m| m.value),
        Some(0.0)
    );
    assert!(r.metric("redis.replication.link.last_io", None).is_some());
}

#[tokio::test]
async fn passwords_right_wrong_and_missing() {
    let password = "r3d!s:pw@x";
    let redis = Redis::start(&["--requirepass", password]).await;
    let pw_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(pw_file.path(), format!("{password}\n")).expect("write password");
    let good = RedisCheck::new(RedisConfig {
        port: redis.port,
        password_file: Some(pw_file.path().to_path_buf()),
        ..RedisConfig::default()
    })
    .expect("config with a password file");
    let r = good.check().await;
    show("right password", &r);
    assert!(r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(r.operations, 3, "AUTH, PING, INFO");

    let wrong = "not-the-s3cret";
    let bad = RedisCheck::with_secret(
        RedisConfig {
            port: redis.port,
            ..RedisConfig::default()
        },
        Some(Secret::new(wrong)),
    )
    .expect("valid config");
    let r = bad.check().await;
    show("wrong password", &r);
    assert!(!r.verdict.live.ok && !r.verdict.ready.ok);
    assert_eq!(
        r.verdict.live.summary(),
        "AUTH: server error WRONGPASS invalid username-password pair or user is disabled."
    );
    assert!(!format!("{bad:?} {r:?}").contains(wrong));

    let none = check_on(redis.port, |_| {});
    let r = none.check().await;
    show("no password", &r);
    assert!(!r.verdict.live.ok);
    assert_eq!(
        r.verdict.live.summary(),
        "PING: server error NOAUTH Authentication required."
    );
}

/// A 160-character password with no repeated 6-character run, so any run
/// found in a text can only have come from the password.
fn long_password() -> String {
    (0..160)
        .map(|i| {
            char::from(
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                    [(i * 7 + i / 62) % 62],
            )
        })
        .collect()
}

/// The first 6-character run of `password` found in `text`.
fn leaked(text: &str, password: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(6)
        .map(|w| w.iter().collect::<String>())
        .find(|w| password.contains(w.as_str()))
}

#[tokio::test]
async fn a_server_echoing_auth_leaks_no_run_of_the_password() {
    // With AUTH renamed away, Redis answers "unknown command 'AUTH', with
    // args beginning with: '<first 128 characters>'".
    let redis = Redis::start(&["--rename-command", "AUTH", ""]).await;
    let password = long_password();
    let check = RedisCheck::with_secret(
        RedisConfig {
            port: redis.port,
            ..RedisConfig::default()
        },
        Some(Secret::new(password.clone())),
    )
    .expect("valid config");
    let r = check.check().await;
    show("echoing server", &r);
    assert!(!r.verdict.live.ok, "{}", r.verdict);
    let text = format!("{} {r:?}", r.verdict);
    assert!(text.contains("unknown command 'AUTH'"), "{text}");
    assert_eq!(leaked(&text, &password), None, "{text}");

    // An impostor echoing a fragment as a status reply, a path that never
    // went through the error scrub.
    let echo = impostor(format!("+{}\r\n", &password[20..90]).into_bytes()).await;
    let check = RedisCheck::with_secret(
        RedisConfig {
            port: echo,
            ..RedisConfig::default()
        },
        Some(Secret::new(password.clone())),
    )
    .expect("valid config");
    let r = check.check().await;
    show("echoing impostor", &r);
    let text = format!("{} {r:?}", r.verdict);
    assert_eq!(leaked(&text, &password), None, "{text}");
}

#[tokio::test]
async fn rejected_connections_degrade_and_a_full_server_is_alive() {
    let redis = Redis::start(&["--maxclients", "4"]).await;
    let check = check_on(redis.port, |_| {});
    assert!(check.check().await.verdict.degraded.is_empty());
    let mut hogs = redis.idle_clients(4);
    // Let the server accept them all, so a fifth client is rejected.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = check.check().await;
    show("full", &r);
    assert!(r.verdict.live.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "not serving: ERR max number of clients reached"
    );
    hogs.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = check.check().await;
    show("after rejections", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    let rejected = r
        .verdict
        .degraded
        .iter()
        .find(|d| d.signal == "rejected_connections")
        .unwrap_or_else(|| panic!("no rejection reason: {}", r.verdict));
    assert_eq!(
        rejected.text,
        "1 connections rejected since the last check (maxclients 4)"
    );
    drop(hogs);
    let r = check.check().await;
    assert!(r.verdict.degraded.is_empty(), "{}", r.verdict);
}

/// A TCP server answering every read with `reply`.
async fn impostor(reply: Vec<u8>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while matches!(sock.read(&mut buf).await, Ok(n) if n > 0) {
                    if !reply.is_empty() && sock.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn loading_silent_oversized_and_unreachable() {
    let loading = impostor(b"-LOADING Redis is loading the dataset in memory\r\n".to_vec()).await;
    let r = check_on(loading, |_| {}).check().await;
    show("loading", &r);
    assert!(r.verdict.live.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "not serving: LOADING Redis is loading the dataset in memory"
    );

    let timeout = Duration::from_millis(300);
    let silent = impostor(Vec::new()).await;
    let r = check_on(silent, |c| c.timeout = timeout).check().await;
    show("silent", &r);
    assert!(!r.verdict.live.ok);
    assert!(r.duration < Duration::from_millis(600), "{:?}", r.duration);
    assert_eq!(
        r.verdict.live.summary(),
        "PING: no answer within the check timeout of 300ms"
    );

    let mut huge = b"*2\r\n".to_vec();
    for _ in 0..2 {
        huge.extend_from_slice(format!("$900000\r\n{}\r\n", "y".repeat(900_000)).as_bytes());
    }
    let oversized = impostor(huge).await;
    let r = check_on(oversized, |_| {}).check().await;
    show("oversized", &r);
    assert_eq!(
        r.verdict.live.summary(),
        "PING: reply larger than 1048576 bytes"
    );

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let r = check_on(closed, |_| {}).check().await;
    show("unreachable", &r);
    assert!(!r.verdict.live.ok);
    let why = r.verdict.live.summary();
    assert!(
        why.starts_with("connect: I/O error") && why.contains("refused"),
        "{why}"
    );
    assert!(r.metrics.is_empty());
}

#[tokio::test]
async fn tls_is_verified_against_the_host() {
    let certs = tempfile::tempdir().expect("cert dir");
    // The server's certificate names localhost only, so 127.0.0.1 is a
    // name mismatch on the same server.
    let tls = tls_files_for(certs.path(), "DNS:localhost");
    let other_dir = tempfile::tempdir().expect("other cert dir");
    let other = tls_files(other_dir.path());
    let password = "tl5:s3cret@pw";
    let redis = Redis::start_tls(&tls, &["--requirepass", password]).await;
    let check = |host: &str, settings: Option<TlsSettings>| {
        let cfg = RedisConfig {
            host: host.to_string(),
            port: redis.port,
            tls: settings,
            ..RedisConfig::default()
        };
        RedisCheck::with_secret(cfg, Some(Secret::new(password))).expect("valid config")
    };
    let trusting = |ca: &std::path::Path| TlsSettings {
        ca_file: Some(ca.to_path_buf()),
        ..TlsSettings::default()
    };

    let trusted = check("localhost", Some(trusting(&tls.ca)));
    let r = trusted.check().await;
    show("TLS, trusted CA", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(r.target, format!("rediss://localhost:{}", redis.port));
    assert_eq!(r.operations, 3, "AUTH, PING, INFO over TLS");
    assert!(r.metric("redis.uptime", None).is_some());

    let plain = check("localhost", None);
    let r = plain.check().await;
    show("no TLS, TLS-only server", &r);
    assert!(!r.verdict.live.ok, "{}", r.verdict);
    let why = r.verdict.live.summary();
    assert!(why.starts_with("AUTH: "), "{why}");
    assert!(
        why.ends_with("(does the server want TLS? set tls)"),
        "{why}"
    );
    assert!(!why.contains(password), "{why}");

    verification_cases(&tls.ca, &other.ca, |host, settings| {
        let c = check(host, Some(settings));
        async move { c.check().await }
    })
    .await;

    // Redis reads a ClientHello as the start of an inline command and
    // waits for its end: the handshake runs into the deadline.
    let plain_server = Redis::start(&[]).await;
    let r = check_on(plain_server.port, |c| {
        c.tls = Some(trusting(&tls.ca));
        c.timeout = Duration::from_millis(300);
    })
    .check()
    .await;
    show("TLS, plain server", &r);
    assert!(!r.verdict.live.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.live.summary(),
        "connect: TLS handshake: no answer within the check timeout of 300ms \
         (does the server speak TLS on this port?)"
    );
}

#[tokio::test]
async fn tls_handshake_is_bounded_and_config_errors_name_the_file() {
    let certs = tempfile::tempdir().expect("cert dir");
    let tls = tls_files(certs.path());
    let timeout = Duration::from_millis(300);
    let silent = impostor(Vec::new()).await;
    let r = check_on(silent, |c| {
        c.timeout = timeout;
        c.tls = Some(TlsSettings {
            ca_file: Some(tls.ca.clone()),
            ..TlsSettings::default()
        });
    })
    .check()
    .await;
    show("TLS, silent server", &r);
    assert!(!r.verdict.live.ok);
    assert!(r.duration < Duration::from_millis(600), "{:?}", r.duration);
    assert!(
        r.verdict
            .live
            .summary()
            .starts_with("connect: TLS handshake: no answer within the check timeout of 300ms"),
        "{}",
        r.verdict
    );

    let missing = certs.path().join("nope.pem");
    let cfg = RedisConfig {
        tls: Some(TlsSettings {
            ca_file: Some(missing.clone()),
            ..TlsSettings::default()
        }),
        ..RedisConfig::default()
    };
    let err = RedisCheck::new(cfg)
        .expect_err("missing CA file")
        .to_string();
    let want = format!("redis tls: ca_file {}: ", missing.display());
    assert!(err.starts_with(&want), "{err}");
}
