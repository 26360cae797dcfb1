//! `sextant up` on embedded defaults (only the ports moved): within 30 s the
//! agent's and the collector's own metrics, logs and spans are stored and
//! read back. And `sextant check` points at a bad key with line and column.

use crate::common;
use crate::common::Kill;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::tls_api::TlsApi;
use common::{enc, eventually, free_port, get_json};

#[test]
fn up_stores_its_own_telemetry_within_30_seconds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(dir.path().join("up.log")).expect("log");
    let _up = Kill(
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .arg("up")
            .args(["--http-listen", &http])
            .args(["--otlp-grpc-listen", &format!("127.0.0.1:{}", free_port())])
            .args(["--otlp-http-listen", &format!("127.0.0.1:{}", free_port())])
            .args(["--agent-listen", &format!("127.0.0.1:{}", free_port())])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn sextant up"),
    );
    let api = |p: &str| format!("http://{http}{p}");
    eventually(Duration::from_secs(30), "both jobs' metrics", || {
        let v = std::panic::catch_unwind(|| get_json(&api("/api/v1/label/job/values"))).ok()?;
        let jobs = v["data"].as_array()?;
        (jobs.iter().any(|j| j == "sextant-agent") && jobs.iter().any(|j| j == "sextant-collector"))
            .then_some(())
    });
    for service in ["sextant-agent", "sextant-collector"] {
        eventually(Duration::from_secs(30), &format!("{service} logs"), || {
            let q = enc(&format!(r#"{{service_name="{service}"}}"#));
            let v = get_json(&api(&format!("/loki/api/v1/query_range?query={q}")));
            (!v["data"]["result"].as_array()?.is_empty()).then_some(())
        });
    }
    // Each role's listeners announce themselves in that role's own stream,
    // though both share the listener code: three for the collector (OTLP
    // gRPC and HTTP, the query API), one for the agent.
    for (service, want) in [("sextant-collector", 3), ("sextant-agent", 1)] {
        let what = format!("{want} \"listening\" records from {service}");
        eventually(Duration::from_secs(30), &what, || {
            let q = enc(&format!(r#"{{service_name="{service}"}}"#));
            let v = get_json(&api(&format!("/loki/api/v1/query_range?query={q}")));
            let listening = v["data"]["result"]
                .as_array()?
                .iter()
                .flat_map(|stream| stream["values"].as_array().into_iter().flatten())
                .filter(|entry| entry[1] == "listening")
                .count();
            (listening == want).then_some(())
        });
    }
    eventually(Duration::from_secs(30), "stored spans", || {
        let v = get_json(&api(&format!(
            "/api/v1/query?query={}",
            enc("sextant_store_spans")
        )));
        let n: f64 = v["data"]["result"][0]["value"][1].as_str()?.parse().ok()?;
        (n > 0.0).then_some(())
    });
    let id = eventually(Duration::from_secs(30), "a trace of sextant's own", || {
        let v = get_json(&api(&format!(
            "/api/search?tags={}",
            enc("service.name=sextant")
        )));
        v["traces"].as_array()?.first()?["traceID"]
            .as_str()
            .map(str::to_string)
    });
    let query = |expr: &str| {
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(["query", "--url", &api(""), expr])
            .output()
            .expect("run sextant query")
    };
    let out = query("system_cpu_load_average_1m");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && table.starts_with("SERIES")
            && table.contains(r#"job="sextant-agent""#),
        "{table}"
    );
    let out = query("up{");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad_data"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = get_json(&api(&format!("/api/traces/{id}")));
    assert!(
        !trace["batches"].as_array().expect("batches").is_empty(),
        "{trace}"
    );
    assert!(
        dir.path().join("data").is_dir(),
        "up keeps its data under ./data"
    );
}

/// Under `collector.security` the local agent ships over TLS with the
/// collector's token: before, it posted plain `http://` without one and
/// every export was refused, so no agent metric was ever stored.
#[test]
fn up_under_security_ships_the_agents_metrics_with_tls_and_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let tls = sextant_testing::tls::tls_files(d);
    let token = "up-security-token";
    let token_file = d.join("token");
    std::fs::write(&token_file, format!("{token}\n")).expect("token");
    let config = d.join("sextant.yaml");
    std::fs::write(
        &config,
        format!(
            "collector:\n  security:\n    tls_cert_file: {}\n    tls_key_file: {}\n    bearer_token_file: {}\n",
            tls.cert.display(),
            tls.key.display(),
            token_file.display(),
        ),
    )
    .expect("config");
    let http = format!("127.0.0.1:{}", free_port());
    let log_path = d.join("up.log");
    let _up = Kill(
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .arg("up")
            .arg("--config")
            .arg(&config)
            .args(["--http-listen", &http])
            .args(["--otlp-grpc-listen", &format!("127.0.0.1:{}", free_port())])
            .args(["--otlp-http-listen", &format!("127.0.0.1:{}", free_port())])
            .args(["--agent-listen", &format!("127.0.0.1:{}", free_port())])
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).expect("log"))
            .spawn()
            .expect("spawn sextant up"),
    );
    let api = TlsApi::new(&tls.ca, &http, token);
    let q = format!(
        "/api/v1/query?query={}",
        enc(r#"system_cpu_load_average_1m{job="sextant-agent"}"#)
    );
    eventually(
        Duration::from_secs(45),
        "the agent's metrics over TLS",
        || {
            let (status, body) = api.get(&q).ok()?;
            assert_eq!(status, 200, "{body}");
            let v: serde_json::Value = serde_json::from_str(&body).expect("query JSON");
            (!v["data"]["result"].as_array()?.is_empty()).then_some(())
        },
    );
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(!log.contains("ERROR"), "ERROR lines in up's log:\n{log}");
}

#[test]
fn check_points_at_the_bad_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "collector:\n  limits:\n    max_request_byte: 5\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .arg("check")
        .arg(&bad)
        .output()
        .expect("run check");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bad config must fail the check");
    assert!(
        err.contains("line 3 column 5") && err.contains("max_request_byte"),
        "{err}"
    );
    let good = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args([
            "check",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sextant.yaml"),
        ])
        .output()
        .expect("run check");
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
}
