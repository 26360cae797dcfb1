//! The TCP check against local servers on 127.0.0.1: an echo server, a
//! silent one, a refused port, and TLS echo servers with valid and expired
//! certificates.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::{TcpCheck, TcpConfig, TlsOptions};
use crate::http::tests::acceptor;
use crate::report::Report;
use sextant_testing::tls::{TlsFiles, expired_tls_files, tls_files};

/// Greets, then answers each line with `echo: <line>`.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(io: S) {
    let (r, mut w) = tokio::io::split(io);
    if w.write_all(b"+OK ready\r\n").await.is_err() {
        return;
    }
    let mut lines = BufReader::new(r).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if w.write_all(format!("echo: {line}\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

async fn echo_server(tls: Option<&TlsFiles>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let acceptor = tls.map(acceptor);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    Some(a) => {
                        if let Ok(s) = a.accept(tcp).await {
                            echo(s).await;
                        }
                    }
                    None => echo(tcp).await,
                }
            });
        }
    });
    port
}

async fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    port
}

fn show(label: &str, r: &Report) {
    println!(
        "{label}: {} in {:.1} ms: {}",
        r.target,
        r.duration.as_secs_f64() * 1000.0,
        r.verdict
    );
}

async fn run(cfg: TcpConfig) -> Report {
    TcpCheck::new(cfg).expect("valid config").check().await
}

fn cfg(port: u16, send: Option<&str>, expect: Option<&str>) -> TcpConfig {
    TcpConfig {
        port,
        send: send.map(str::to_string),
        expect: expect.map(str::to_string),
        timeout: Duration::from_millis(300),
        ..TcpConfig::default()
    }
}

#[tokio::test]
async fn plain_tcp_verdicts() {
    let port = echo_server(None).await;
    let silent = silent_server().await;
    let refused = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    // (config, live, ready, ready text prefix)
    let cases = [
        (cfg(port, None, None), true, true, "connected"),
        (
            cfg(port, None, Some("^\\+OK")),
            true,
            true,
            "reply matches /^\\+OK/",
        ),
        (
            cfg(port, Some("hello\n"), Some("echo: hello")),
            true,
            true,
            "reply matches /echo: hello/",
        ),
        (
            cfg(port, Some("hello\n"), Some("echo: bye")),
            true,
            false,
            "reply \"+OK ready\\r\\necho: hello\\n\" does not match /echo: bye/ (no match within the check timeout)",
        ),
        (
            cfg(silent, Some("PING\r\n"), Some("PONG")),
            true,
            false,
            "reply \"\" does not match /PONG/ (no match within the check timeout)",
        ),
        (
            cfg(refused, None, None),
            false,
            false,
            "not live: connect 127.0.0.1:",
        ),
    ];
    for (c, live, ready, text) in cases {
        let r = run(c).await;
        show("tcp", &r);
        assert_eq!(
            (r.verdict.live.ok, r.verdict.ready.ok),
            (live, ready),
            "{}",
            r.verdict
        );
        assert!(r.verdict.ready.summary().starts_with(text), "{}", r.verdict);
        assert!(r.duration < Duration::from_millis(500), "{:?}", r.duration);
    }
}

#[tokio::test]
async fn tls_tcp_checks_certificates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = tls_files(dir.path());
    let port = echo_server(Some(&files)).await;
    let tls = TlsOptions {
        ca_file: Some(files.ca.clone()),
        server_name: Some("localhost".into()),
    };
    let r = run(TcpConfig {
        tls: Some(tls.clone()),
        ..cfg(port, Some("hi\n"), Some("echo: hi"))
    })
    .await;
    show("tls", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.live.summary().split(" in ").next(),
        Some("connected with TLS")
    );
    let signals: Vec<&str> = r.verdict.degraded.iter().map(|d| d.signal).collect();
    assert_eq!(signals, ["cert_expiry"], "2-day certificate under 14 days");
    assert!(r.target.starts_with("tls://127.0.0.1:"));
    assert!(
        r.metrics
            .iter()
            .any(|m| m.def.name == "tcpcheck.tls.cert_remaining" && m.value > 0.0)
    );

    let expired_dir = tempfile::tempdir().expect("tempdir");
    let expired = expired_tls_files(expired_dir.path());
    let port = echo_server(Some(&expired)).await;
    let r = run(TcpConfig {
        tls: Some(TlsOptions {
            ca_file: Some(expired.ca.clone()),
            server_name: None,
        }),
        ..cfg(port, None, None)
    })
    .await;
    show("tls, expired", &r);
    assert!(r.verdict.live.ok && !r.verdict.ready.ok, "{}", r.verdict);
    assert!(
        r.verdict
            .ready
            .summary()
            .starts_with("certificate expired ")
            && r.verdict
                .ready
                .summary()
                .ends_with("(notAfter 2020-02-01T00:00:00Z)"),
        "{}",
        r.verdict
    );
    let status = r
        .metrics
        .iter()
        .find(|m| m.def.name == "tcpcheck.status")
        .map(|m| m.value);
    assert_eq!(status, Some(0.0));
}
