//! The collector's own spans under `collector.security` (TLS and a bearer
//! token on every listener): they reach its store in-process, so no plain,
//! token-less export to its own guarded receiver fails every few seconds
//! (issue 17), and its trace API finds them.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::tls_api::TlsApi;
use crate::common::{self, Kill, enc};

#[test]
fn the_collectors_own_spans_are_stored_under_tls_and_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let tls = sextant_testing::tls::tls_files(d);
    let token = "self-traces-test-token";
    let token_file = d.join("token");
    std::fs::write(&token_file, format!("{token}\n")).expect("token");
    let config = d.join("collector.yaml");
    // self_traces_endpoint left at its default: in-process.
    std::fs::write(
        &config,
        format!(
            "collector:\n  security:\n    tls_cert_file: {}\n    tls_key_file: {}\n    bearer_token_file: {}\n",
            tls.cert.display(),
            tls.key.display(),
            token_file.display()
        ),
    )
    .expect("config");
    let (http, grpc, otlp_http) = (
        common::free_addr(),
        common::free_addr(),
        common::free_addr(),
    );
    let log_path = d.join("collector.log");
    let started = Instant::now();
    let _collector = Kill(
        Command::new(common::release_bin())
            .args(["collector", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(d.join("data"))
            .args(["--http-listen", &http])
            .args(["--otlp-grpc-listen", &grpc])
            .args(["--otlp-http-listen", &otlp_http])
            .env("RUST_LOG", "info")
            .stderr(std::fs::File::create(&log_path).expect("log"))
            .spawn()
            .expect("spawn collector"),
    );
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let api = TlsApi::new(&tls.ca, &http, token);
    common::eventually(Duration::from_secs(30), "the TLS API", || {
        matches!(api.get("/readyz"), Ok((200, _))).then_some(())
    });

    // Every API request is traced (`http.request`, named "GET <route>").
    for _ in 0..3 {
        let (status, body) = api.get("/api/v1/labels").expect("labels");
        assert_eq!(status, 200, "{body}");
    }
    // By span name too: the newest traces are this test's own searches.
    let search = format!(
        "/api/search?limit=100&tags={}",
        enc("service.name=sextant-collector name=\"GET /api/v1/labels\"")
    );
    let found = common::eventually(Duration::from_secs(30), "the collector's own spans", || {
        let (status, body) = api.get(&search).ok()?;
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("search JSON");
        let traces = v["traces"].as_array()?.clone();
        traces
            .iter()
            .any(|t| t["rootTraceName"] == "GET /api/v1/labels")
            .then_some(traces)
    });
    assert!(
        found
            .iter()
            .all(|t| t["rootServiceName"] == "sextant-collector"),
        "{found:?}"
    );

    // The old exporter failed every 5 s (the batch interval): give it more than that.
    let seven = Duration::from_secs(7);
    if let Some(rest) = seven.checked_sub(started.elapsed()) {
        std::thread::sleep(rest);
    }
    let text = log();
    let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.is_empty(),
        "ERROR lines in the collector's log:\n{text}"
    );
}
