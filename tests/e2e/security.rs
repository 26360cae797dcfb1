//! TLS and bearer-token auth on every collector listener, the agent
//! exporting to such a collector over `https://` with a CA file and a token,
//! and `sextant query` reading from it the same way.

use crate::common;
use crate::common::Kill;

use std::process::Command;
use std::time::{Duration, Instant};

use common::free_port;

fn wait_port(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{addr} never opened");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn python(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/secure_client.py");
    let mut all = vec![script];
    all.extend_from_slice(args);
    common::run_python(&all, "secure_client.py");
}

#[test]
fn tls_and_bearer_tokens_guard_every_listener() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let tls = sextant_testing::tls::tls_files(d);
    let (ca, cert, key, token_file) = (tls.ca, tls.cert, tls.key, d.join("token"));
    let token = "s3cret-token-for-tests";
    std::fs::write(&token_file, format!("{token}\n")).expect("token");
    let (http, grpc, otlp_http) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let security = format!(
        "  security:\n    tls_cert_file: {}\n    tls_key_file: {}\n    bearer_token_file: {}\n",
        cert.display(),
        key.display(),
        token_file.display()
    );
    let collector_cfg = d.join("collector.yaml");
    std::fs::write(&collector_cfg, format!("collector:\n{security}")).expect("config");
    let log = std::fs::File::create(d.join("collector.log")).expect("log");
    let _collector = Kill(
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(["collector", "--config"])
            .arg(&collector_cfg)
            .arg("--data-dir")
            .arg(d.join("data"))
            .args([
                "--http-listen",
                &http,
                "--otlp-grpc-listen",
                &grpc,
                "--otlp-http-listen",
                &otlp_http,
            ])
            .stderr(log)
            .spawn()
            .expect("spawn collector"),
    );
    for addr in [&http, &grpc, &otlp_http] {
        wait_port(addr);
    }
    let ca = ca.display().to_string();
    python(&[
        "--http", &http, "--grpc", &grpc, "--ca", &ca, "--token", token,
    ]);

    let agent_cfg = d.join("agent.yaml");
    std::fs::write(
        &agent_cfg,
        format!(
            "agent:\n  http_listen: 127.0.0.1:{}\n  host_metrics_interval: 1s\n  traces_endpoint: \"\"\n  export:\n    endpoint: https://{otlp_http}\n    ca_file: {ca}\n    bearer_token_file: {}\n    queue_dir: {}\n    batch_timeout: 200ms\n",
            free_port(),
            token_file.display(),
            d.join("queue").display()
        ),
    )
    .expect("agent config");
    let log = std::fs::File::create(d.join("agent.log")).expect("log");
    let _agent = Kill(
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(["agent", "--config"])
            .arg(&agent_cfg)
            .stderr(log)
            .spawn()
            .expect("spawn agent"),
    );
    python(&[
        "--http",
        &http,
        "--grpc",
        &grpc,
        "--ca",
        &ca,
        "--token",
        token,
        "--wait-agent",
    ]);

    // `sextant query` over https: the CA file is what it trusts (a CA it
    // was not given is refused), and the token is what gets it in.
    let query = |ca: &std::path::Path, token: Option<&std::path::Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sextant"));
        cmd.args(["query", "--json", "--url", &format!("https://{http}")])
            .arg("--ca-file")
            .arg(ca);
        if let Some(t) = token {
            cmd.arg("--token-file").arg(t);
        }
        cmd.arg("vector(1)").output().expect("run sextant query")
    };
    let out = query(std::path::Path::new(&ca), Some(&token_file));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("\"success\""),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = query(std::path::Path::new(&ca), None);
    assert!(!out.status.success(), "no token, yet answered");
    let other = tempfile::tempdir().expect("tempdir");
    let other_ca = sextant_testing::tls::tls_files(other.path()).ca;
    let out = query(&other_ca, Some(&token_file));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a CA it was not given was trusted");
    assert!(stderr.contains("certificate"), "{stderr}");
}
