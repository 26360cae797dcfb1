//! Health checks end to end against a real MariaDB: the `sextant adapt mysql`
//! sidecar serves Kubernetes-style probes that follow the server's state and
//! a `/metrics` page; the agent runs the same check from YAML and ships its
//! metrics to a collector as OTLP.

use crate::common;
use crate::common::Kill;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Collector, enc, eventually, free_port};
use sextant_testing::mariadb::{MONITOR_PASSWORD, MONITOR_USER, MariaDb};

fn get(url: &str) -> Option<(u16, String)> {
    let resp = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.into_body().read_to_string().ok()?))
}

#[test]
fn sidecar_probes_follow_the_server_and_the_agent_ships_the_check() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut db = rt.block_on(MariaDb::start(1));
    let dir = tempfile::tempdir().expect("tempdir");
    let password = dir.path().join("password");
    std::fs::write(&password, MONITOR_PASSWORD).expect("password file");
    let listen = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(dir.path().join("adapt.log")).expect("log");
    let _sidecar = Kill(
        common::adapt_mysql(db.port, &password, &listen)
            .args(["--interval", "500ms", "--timeout", "1s"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn sidecar"),
    );
    let url = |p: &str| format!("http://{listen}{p}");
    eventually(Duration::from_secs(20), "sidecar ready", || {
        (get(&url("/readyz"))? == (200, "ok".to_string())).then_some(())
    });
    let (status, body) = get(&url("/readyz?verbose")).expect("verbose");
    assert_eq!(status, 200);
    assert!(
        body.contains("[+]mysql ok") && body.ends_with("readyz check passed\n"),
        "{body}"
    );
    let (_, metrics) = get(&url("/metrics")).expect("metrics");
    for name in [
        "mysql_uptime_seconds_total",
        "mysql_threads{",
        "sextant_check_ready{",
        "sextant_check_live{",
    ] {
        assert!(
            metrics.contains(name),
            "{name} missing from /metrics:\n{metrics}"
        );
    }
    assert!(
        !metrics.contains(MONITOR_PASSWORD),
        "the password leaked into /metrics"
    );

    // A primary made read-only is alive but not ready, and the probe says why.
    rt.block_on(db.exec(&["SET GLOBAL read_only = 1"]));
    let body = eventually(
        Duration::from_secs(10),
        "not ready after read_only=1",
        || {
            let (status, body) = get(&url("/readyz?verbose"))?;
            (status == 503).then_some(body)
        },
    );
    assert!(
        body.contains("[-]mysql failed: primary is read-only"),
        "{body}"
    );
    assert_eq!(
        get(&url("/livez")).expect("livez").0,
        200,
        "read-only is not dead"
    );
    rt.block_on(db.exec(&["SET GLOBAL read_only = 0"]));
    eventually(Duration::from_secs(10), "ready again", || {
        (get(&url("/readyz"))?.0 == 200).then_some(())
    });

    // The agent runs the same check from YAML and ships it as OTLP.
    let collector = Collector::start(&dir.path().join("data"));
    let agent_cfg = dir.path().join("agent.yaml");
    std::fs::write(
        &agent_cfg,
        format!(
            "agent:\n  http_listen: 127.0.0.1:{}\n  host_metrics: false\n  traces_endpoint: \"\"\n  export:\n    endpoint: http://{}\n    queue_dir: {}\n    batch_timeout: 200ms\n  checks:\n    - name: orders-db\n      interval: 1s\n      mysql:\n        host: 127.0.0.1\n        port: {}\n        user: {MONITOR_USER}\n        password_file: {}\n",
            free_port(),
            collector.otlp_http,
            dir.path().join("queue").display(),
            db.port,
            password.display()
        ),
    )
    .expect("agent config");
    let log = std::fs::File::create(dir.path().join("agent.log")).expect("log");
    let _agent = Kill(
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(["agent", "--config"])
            .arg(&agent_cfg)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn agent"),
    );
    eventually(
        Duration::from_secs(30),
        "mysql metrics from the agent",
        || {
            let v = collector.get_json(&format!(
                "/api/v1/query?query={}",
                enc("sextant_check_ready")
            ));
            let first = v["data"]["result"].as_array()?.first()?.clone();
            (first["value"][1] == "1" && first["metric"]["job"] == "sextant-agent").then_some(())
        },
    );

    // Killing the server fails liveness within one interval plus the timeout.
    db.kill();
    let body = eventually(Duration::from_secs(5), "not live after the kill", || {
        let (status, body) = get(&url("/livez?verbose"))?;
        (status == 503).then_some(body)
    });
    assert!(body.contains("[-]mysql failed"), "{body}");
    // The agent logs the verdict change; it reaches the collector as a log record.
    eventually(Duration::from_secs(20), "verdict-change log record", || {
        let q = enc(r#"{service_name="sextant-agent"}"#);
        let v = collector.get_json(&format!("/loki/api/v1/query_range?query={q}&limit=1000"));
        let lines = v["data"]["result"]
            .as_array()?
            .iter()
            .flat_map(|s| s["values"].as_array().cloned().unwrap_or_default());
        lines
            .into_iter()
            .any(|l| l[1] == "health verdict changed")
            .then_some(())
    });
}

#[test]
fn sidecar_runs_http_and_tcp_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let collector = Collector::start(&dir.path().join("data"));
    let closed = format!("127.0.0.1:{}", free_port());
    let cases = [
        ("http", format!("http://{}/readyz", collector.http), 200),
        ("http", format!("http://{}/nope", collector.http), 503),
        ("tcp", collector.otlp_grpc.clone(), 200),
        ("tcp", closed, 503),
    ];
    for (kind, target, want) in cases {
        let listen = format!("127.0.0.1:{}", free_port());
        let _sidecar = Kill(
            Command::new(env!("CARGO_BIN_EXE_sextant"))
                .args([
                    "adapt",
                    kind,
                    "--target",
                    &target,
                    "--listen",
                    &listen,
                    "--interval",
                    "300ms",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn sidecar"),
        );
        let url = format!("http://{listen}/readyz?verbose");
        let body = eventually(
            Duration::from_secs(10),
            &format!("{kind} {target} readiness"),
            || {
                let (status, body) = get(&url)?;
                (status == want && !body.contains("no result yet")).then_some(body)
            },
        );
        let line = format!("[{}]{kind}", if want == 200 { '+' } else { '-' });
        assert!(body.starts_with(&line), "{kind} {target}: {body}");
    }
}

#[test]
fn sidecar_runs_redis_and_postgres_checks() {
    use sextant_testing::postgres::Postgres;
    use sextant_testing::redis::Redis;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut redis = rt.block_on(Redis::start(&[]));
    let pg = rt.block_on(Postgres::start(&[]));
    let dir = tempfile::tempdir().expect("tempdir");
    let pg_password = dir.path().join("pg-password");
    std::fs::write(&pg_password, sextant_testing::postgres::MONITOR_PASSWORD).expect("password");
    let targets = [
        ("redis", format!("redis://127.0.0.1:{}", redis.port), None),
        (
            "postgres",
            format!(
                "postgres://{}@127.0.0.1:{}/postgres",
                sextant_testing::postgres::MONITOR_USER,
                pg.port
            ),
            Some(&pg_password),
        ),
    ];
    let mut sidecars = Vec::new();
    for (kind, target, password) in &targets {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sextant"));
        cmd.args([
            "adapt",
            kind,
            "--target",
            target,
            "--listen",
            &listen,
            "--interval",
            "300ms",
        ]);
        if let Some(p) = password {
            cmd.arg("--password-file").arg(p);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sidecar");
        sidecars.push((Kill(child), *kind, listen));
    }
    for (_, kind, listen) in &sidecars {
        let url = format!("http://{listen}/readyz?verbose");
        let body = eventually(Duration::from_secs(15), &format!("{kind} ready"), || {
            let (status, body) = get(&url)?;
            (status == 200).then_some(body)
        });
        assert!(body.starts_with(&format!("[+]{kind} ok")), "{body}");
    }
    // A dead Redis fails liveness; the verdict says why.
    redis.kill();
    let listen = &sidecars[0].2;
    let body = eventually(Duration::from_secs(5), "redis not live", || {
        let (status, body) = get(&format!("http://{listen}/livez?verbose"))?;
        (status == 503).then_some(body)
    });
    assert!(body.contains("[-]redis failed"), "{body}");
}
