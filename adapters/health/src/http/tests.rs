//! The HTTP check against local servers (plain and TLS, 127.0.0.1, free
//! ports) that answer well, badly, slowly or never.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::{HttpCheck, HttpConfig};
use crate::report::{Report, report_to_otlp};
use sextant_testing::tls::{TlsFiles, expired_tls_files, server_config, tls_files};

fn app() -> Router {
    Router::new()
        .route("/ok", get(|| async { "status: ready" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "broken") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "status: ready"
            }),
        )
        .route(
            "/hang",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "never"
            }),
        )
        .route(
            "/big",
            get(|| async { format!("{}ready", "a".repeat(2 * 1024 * 1024)) }),
        )
        .route(
            "/auth",
            get(|headers: HeaderMap| async move {
                let ok = headers.get("authorization").and_then(|v| v.to_str().ok())
                    == Some("Bearer t0ken")
                    && headers.get("x-check").and_then(|v| v.to_str().ok()) == Some("yes");
                if ok {
                    (StatusCode::OK, "welcome")
                } else {
                    (StatusCode::UNAUTHORIZED, "who are you")
                }
            }),
        )
}

async fn plain_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app()).await;
    });
    port
}

/// A rustls acceptor for the certificate and key in `files`.
pub(crate) fn acceptor(files: &TlsFiles) -> TlsAcceptor {
    TlsAcceptor::from(Arc::new(server_config(files)))
}

async fn tls_server(files: &TlsFiles) -> u16 {
    let acceptor = acceptor(files);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = TowerToHyperService::new(app());
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    port
}

/// A server that accepts connections and never says a word.
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

/// A port nobody listens on.
async fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr").port()
}

fn show(label: &str, r: &Report) {
    println!(
        "{label}: {} in {:.1} ms: {}",
        r.target,
        r.duration.as_secs_f64() * 1000.0,
        r.verdict
    );
}

fn value(r: &Report, name: &str, attr: Option<&str>) -> Option<f64> {
    r.metrics
        .iter()
        .find(|m| {
            m.def.name == name && attr.is_none_or(|a| m.attributes.iter().any(|(_, v)| v == a))
        })
        .map(|m| m.value)
}

async fn run(cfg: HttpConfig) -> Report {
    HttpCheck::new(cfg).expect("valid config").check().await
}

#[tokio::test]
async fn plain_http_verdicts() {
    let port = plain_server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    std::fs::write(&token, "t0ken\n").expect("write token");
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    type Edit = Box<dyn Fn(&mut HttpConfig)>;
    // (path, edit, ready, ready text, degraded signal)
    let cases: Vec<(&str, Edit, bool, &str, Option<&str>)> = vec![
        (
            "/ok",
            Box::new(|_| {}),
            true,
            "status 200 accepted (2xx)",
            None,
        ),
        (
            "/ok",
            Box::new(|c| c.body_regex = Some("ready$".into())),
            true,
            "status 200 accepted (2xx); body matches /ready$/",
            None,
        ),
        (
            "/ok",
            Box::new(|c| c.body_regex = Some("healthy".into())),
            false,
            "body does not match /healthy/",
            None,
        ),
        (
            "/fail",
            Box::new(|_| {}),
            false,
            "status 500 not in 2xx",
            None,
        ),
        (
            "/fail",
            Box::new(|c| c.valid_status_codes = vec![500, 503]),
            true,
            "status 500 accepted (500, 503)",
            None,
        ),
        (
            "/slow",
            Box::new(|c| c.max_duration = Duration::from_millis(100)),
            true,
            "status 200 accepted (2xx)",
            Some("slow"),
        ),
        (
            "/big",
            Box::new(|c| c.body_regex = Some("ready".into())),
            false,
            "body does not match /ready/ (first 1048576 bytes read)",
            None,
        ),
        (
            "/auth",
            Box::new(|_| {}),
            false,
            "status 401 not in 2xx",
            None,
        ),
        (
            "/auth",
            Box::new(move |c| {
                c.bearer_token_file = Some(token.clone());
                c.headers.insert("X-Check".into(), "yes".into());
            }),
            true,
            "status 200 accepted (2xx)",
            None,
        ),
    ];
    for (path, edit, ready, text, worry) in cases {
        let mut cfg = HttpConfig {
            url: url(path),
            ..HttpConfig::default()
        };
        edit(&mut cfg);
        let r = run(cfg).await;
        show(path, &r);
        assert!(r.verdict.live.ok, "{path}: {}", r.verdict);
        assert!(
            r.verdict.live.summary().starts_with("HTTP "),
            "{}",
            r.verdict
        );
        assert_eq!(r.verdict.ready.ok, ready, "{path}: {}", r.verdict);
        assert_eq!(r.verdict.ready.summary(), text, "{path}");
        let signals: Vec<&str> = r.verdict.degraded.iter().map(|d| d.signal).collect();
        assert_eq!(signals, worry.into_iter().collect::<Vec<_>>(), "{path}");
        assert!(value(&r, "httpcheck.phase.duration", Some("processing")).is_some());
        assert!(value(&r, "httpcheck.phase.duration", Some("tls")).is_none());
        assert_eq!(r.operations, 1);
    }
    let r = run(HttpConfig {
        url: url("/fail"),
        ..HttpConfig::default()
    })
    .await;
    assert_eq!(value(&r, "httpcheck.status", Some("5xx")), Some(1.0));
    assert_eq!(value(&r, "httpcheck.status", Some("2xx")), Some(0.0));
    let otlp = report_to_otlp(std::slice::from_ref(&r), vec![]);
    let names: Vec<&str> = otlp.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    println!("OTLP metrics of one http check: {names:?}");
    assert!(names.contains(&"sextant.check.ready") && names.contains(&"httpcheck.duration"));
}

#[tokio::test]
async fn silence_refusal_and_missing_token_are_bounded_failures() {
    let silent = silent_server().await;
    let refused = refused_port().await;
    let port = plain_server().await;
    let timeout = Duration::from_millis(300);
    for (url, live_text) in [
        (
            format!("http://127.0.0.1:{silent}/"),
            "waiting for the response: no answer within the check timeout of 300ms",
        ),
        (
            format!("http://127.0.0.1:{port}/hang"),
            "waiting for the response",
        ),
        (format!("http://127.0.0.1:{refused}/"), "connect 127.0.0.1:"),
    ] {
        let r = run(HttpConfig {
            url,
            timeout,
            ..HttpConfig::default()
        })
        .await;
        show("unreachable", &r);
        assert!(!r.verdict.live.ok && !r.verdict.ready.ok, "{}", r.verdict);
        assert!(
            r.verdict.live.summary().starts_with(live_text),
            "{}",
            r.verdict
        );
        assert!(
            r.duration < timeout + Duration::from_millis(200),
            "{:?}",
            r.duration
        );
    }
    let r = run(HttpConfig {
        url: format!("http://127.0.0.1:{port}/ok"),
        bearer_token_file: Some("/nonexistent/token".into()),
        ..HttpConfig::default()
    })
    .await;
    assert!(r.verdict.live.ok && !r.verdict.ready.ok, "{}", r.verdict);
    assert!(
        r.verdict
            .ready
            .summary()
            .starts_with("cannot read bearer_token_file")
    );
}

fn https(port: u16, ca: &Path) -> HttpConfig {
    let mut cfg = HttpConfig {
        url: format!("https://127.0.0.1:{port}/ok"),
        ..HttpConfig::default()
    };
    cfg.tls.ca_file = Some(ca.to_path_buf());
    cfg
}

#[tokio::test]
async fn tls_certificates_decide_readiness_and_degradation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = tls_files(dir.path());
    let port = tls_server(&files).await;

    // tls_files certificates live 2 days: under the 14-day default.
    let r = run(https(port, &files.ca)).await;
    show("https, cert valid 2d", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(r.verdict.degraded.len(), 1, "{}", r.verdict);
    assert_eq!(r.verdict.degraded[0].signal, "cert_expiry");
    assert!(
        r.verdict.degraded[0]
            .text
            .starts_with("certificate expires in ")
            && r.verdict.degraded[0].text.ends_with("), under 14d"),
        "{}",
        r.verdict
    );
    let left = value(&r, "httpcheck.tls.cert_remaining", None).expect("remaining");
    assert!((86_400.0..=2.0 * 86_400.0).contains(&left), "{left}");
    assert!(value(&r, "httpcheck.tls.cert_expiry", None).is_some());
    assert!(value(&r, "httpcheck.phase.duration", Some("tls")).is_some());

    let r = run(HttpConfig {
        min_cert_validity: Duration::from_secs(86_400),
        ..https(port, &files.ca)
    })
    .await;
    assert!(r.verdict.degraded.is_empty(), "{}", r.verdict);

    // Not trusted: another CA; wrong name.
    let other = tempfile::tempdir().expect("tempdir");
    let other_files = tls_files(other.path());
    let r = run(https(port, &other_files.ca)).await;
    show("https, unknown CA", &r);
    assert!(r.verdict.live.ok && !r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.ready.summary(),
        "certificate signature does not verify against the trusted CAs"
    );
    let mut cfg = https(port, &files.ca);
    cfg.tls.server_name = Some("other.example".into());
    let r = run(cfg).await;
    assert_eq!(
        r.verdict.ready.summary(),
        "certificate is not valid for other.example (it names 127.0.0.1, localhost)"
    );

    // Plain HTTP spoken to a TLS port, and TLS spoken to a plain port.
    let plain = plain_server().await;
    let r = run(https(plain, &files.ca)).await;
    show("https to a plain port", &r);
    assert!(!r.verdict.live.ok, "{}", r.verdict);
    assert!(r.verdict.live.summary().starts_with("TLS handshake"));
}

#[tokio::test]
async fn expired_certificate_is_not_ready_and_says_when() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = expired_tls_files(dir.path());
    let port = tls_server(&files).await;
    let r = run(https(port, &files.ca)).await;
    show("https, expired cert", &r);
    assert!(r.verdict.live.ok, "{}", r.verdict);
    assert!(!r.verdict.ready.ok, "{}", r.verdict);
    let text = r.verdict.ready.summary();
    assert!(text.starts_with("certificate expired "), "{text}");
    assert!(
        text.ends_with("d ago (notAfter 2020-02-01T00:00:00Z)"),
        "{text}"
    );
    assert_eq!(
        value(&r, "httpcheck.tls.cert_expiry", None),
        Some(1_580_515_200.0)
    );
    assert!(value(&r, "httpcheck.tls.cert_remaining", None).is_some_and(|v| v < 0.0));
}
