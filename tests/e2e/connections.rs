//! Connection hygiene and reloads against the release binary: 1,100
//! slow-loris connections under `ulimit -n 1024` leave a normal client
//! served within a second; a replaced TLS certificate is presented after
//! SIGHUP (a broken one is not); a rotated token file takes effect on its
//! own and on SIGHUP.

use crate::common;
use crate::common::{Collector, Kill};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio_rustls::rustls;

const SLOW_CONNECTIONS: usize = 1100;

/// A GET with a deadline; `Ok(status)` if answered in time.
fn get_within(url: &str, token: Option<&str>, limit: Duration) -> Result<u16, String> {
    let mut req = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .timeout_global(Some(limit))
        .build();
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    req.call()
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn sighup(pid: u32) {
    let status = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -HUP {pid}");
}

fn log_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn slow_connections_leave_a_normal_client_served_within_a_second() {
    common::raise_own_fd_limit(SLOW_CONNECTIONS as u64 + 200);
    let dir = tempfile::tempdir().expect("tempdir");
    let c = Collector::start_release_nofile(&dir.path().join("data"), "", 1024);
    let pid = c.child.id();
    // Each connection sends its request head a byte a second and never finishes.
    let head = b"GET /api/v1/labels HTTP/1.1\r\nHost: sextant\r\nX-Slow: ";
    let mut slow = Vec::with_capacity(SLOW_CONNECTIONS);
    for i in 0..SLOW_CONNECTIONS {
        let mut s =
            TcpStream::connect(&c.http).unwrap_or_else(|e| panic!("slow connection {i}: {e}"));
        let _ = s.write_all(&head[..1]);
        slow.push(s);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let trickle = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut at = 1;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_secs(1));
                let byte = [head.get(at).copied().unwrap_or(b'x')];
                // Closed (evicted) ones fail; the attacker does not care.
                for s in &mut slow {
                    let _ = s.write_all(&byte);
                }
                at += 1;
            }
        })
    };
    // Let the attack settle: the collector holds as many as it will.
    std::thread::sleep(Duration::from_secs(2));
    let held = open_files(pid);
    assert!(
        held > 200,
        "the collector holds only {held} files: the attack did not reach it"
    );
    let mut answers = Vec::new();
    for path in ["/api/v1/labels", "/readyz", "/api/v1/labels"] {
        let start = Instant::now();
        let url = format!("http://{}{path}", c.http);
        let got = get_within(&url, None, Duration::from_secs(1));
        answers.push((path, got, start.elapsed()));
    }
    // The cap's work shows in the self-metrics, not only in the log.
    let metrics = c.metrics_text();
    stop.store(true, Ordering::Relaxed);
    let _ = trickle.join();
    let sample = |name: &str| -> f64 {
        let key = format!("{name}{{listener=\"http\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&key)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in /metrics:\n{metrics}"))
    };
    let evicted = sample("sextant_listener_connections_evicted_total");
    let accepted = sample("sextant_listener_connections_accepted_total");
    let open = sample("sextant_listener_connections_open");
    assert!(evicted >= 1.0, "no eviction counted:\n{metrics}");
    assert!(accepted >= SLOW_CONNECTIONS as f64, "{accepted} accepted");
    assert!(
        (200.0..=512.0).contains(&open),
        "{open} connections open at a cap of 512"
    );
    let log = log_text(&c.log_path());
    for (path, got, took) in &answers {
        assert_eq!(
            got.as_ref().ok(),
            Some(&200),
            "GET {path} under 1,100 slow connections: {got:?} after {took:?}; log:\n{log}"
        );
        assert!(took < &Duration::from_secs(1), "GET {path} took {took:?}");
    }
    assert!(
        !log.contains("Too many open files"),
        "the collector ran out of descriptors:\n{log}"
    );
    assert!(
        log.contains("connection cap reached"),
        "the cap was never reached:\n{log}"
    );
}

/// The leaf certificate (DER) the server at `addr` presents, and its answer
/// to `GET /readyz` over that TLS connection.
fn handshake(addr: &str, cas: &[&Path]) -> (Vec<u8>, String) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    for ca in cas {
        let ca = CertificateDer::from_pem_file(ca).expect("read CA");
        roots.add(ca).expect("add CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").expect("server name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"GET /readyz HTTP/1.1\r\nHost: sextant\r\nConnection: close\r\n\r\n")
        .expect("TLS handshake and request");
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer);
    let leaf = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .expect("a peer certificate")
        .to_vec();
    (leaf, answer)
}

fn der(pem: &Path) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_file(pem)
        .expect("read certificate")
        .to_vec()
}

#[test]
fn a_replaced_certificate_is_presented_after_sighup_and_a_broken_one_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (old_dir, new_dir) = (d.join("old"), d.join("new"));
    std::fs::create_dir_all(&old_dir).expect("mkdir");
    std::fs::create_dir_all(&new_dir).expect("mkdir");
    let old = sextant_testing::tls::tls_files_for(&old_dir, "IP:127.0.0.1");
    let new = sextant_testing::tls::tls_files_for(&new_dir, "IP:127.0.0.1");
    let (cert, key) = (d.join("server.pem"), d.join("server.key"));
    std::fs::copy(&old.cert, &cert).expect("copy cert");
    std::fs::copy(&old.key, &key).expect("copy key");
    let config = d.join("collector.yaml");
    std::fs::write(
        &config,
        format!(
            "collector:\n  security:\n    tls_cert_file: {}\n    tls_key_file: {}\n",
            cert.display(),
            key.display()
        ),
    )
    .expect("config");
    let http = format!("127.0.0.1:{}", common::free_port());
    let log_path = d.join("collector.log");
    let collector = Kill(
        Command::new(common::release_bin())
            .args(["collector", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(d.join("data"))
            .args(["--http-listen", &http])
            .args([
                "--otlp-grpc-listen",
                &format!("127.0.0.1:{}", common::free_port()),
            ])
            .args([
                "--otlp-http-listen",
                &format!("127.0.0.1:{}", common::free_port()),
            ])
            .stderr(std::fs::File::create(&log_path).expect("log"))
            .spawn()
            .expect("spawn collector"),
    );
    let pid = collector.0.id();
    common::eventually(Duration::from_secs(30), "the TLS listener", || {
        TcpStream::connect(&http).ok()
    });
    let cas = [old.ca.as_path(), new.ca.as_path()];
    let (leaf, answer) = handshake(&http, &cas);
    assert_eq!(leaf, der(&old.cert), "the first certificate");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Replace both files, then SIGHUP: new handshakes show the new certificate.
    std::fs::copy(&new.key, &key).expect("replace key");
    std::fs::copy(&new.cert, &cert).expect("replace cert");
    sighup(pid);
    common::eventually(Duration::from_secs(3), "the new certificate", || {
        (handshake(&http, &cas).0 == der(&new.cert)).then_some(())
    });
    let (_, answer) = handshake(&http, &cas);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A broken replacement is refused with an ERROR naming the file; the
    // listener keeps presenting the last good certificate.
    let cert_name = cert.display().to_string();
    let refusals = || {
        log_text(&log_path)
            .lines()
            .filter(|l| l.contains("ERROR") && l.contains("not reloaded") && l.contains(&cert_name))
            .count()
    };
    // (A poll between the two copies above may have seen a mismatched pair.)
    let before = refusals();
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nnot base64\n").expect("break cert");
    sighup(pid);
    common::eventually(Duration::from_secs(3), "the reload error", || {
        (refusals() > before).then_some(())
    });
    let (leaf, answer) = handshake(&http, &cas);
    assert_eq!(leaf, der(&new.cert), "the last good certificate stays");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn a_rotated_token_file_takes_effect_on_its_own_and_on_sighup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "first-token\n").expect("token");
    let yaml = format!(
        "collector:\n  security:\n    bearer_token_file: {}\n",
        token_file.display()
    );
    let c = Collector::start_release(&dir.path().join("data"), &yaml, &[]);
    let url = format!("http://{}/api/v1/labels", c.http);
    let status = |token: &str| get_within(&url, Some(token), Duration::from_secs(10));
    assert_eq!(status("first-token"), Ok(200));
    assert_eq!(status("second-token"), Ok(401));

    // Rotated with no signal: the file poll picks it up within seconds.
    std::fs::write(&token_file, "second-token\n").expect("rotate");
    common::eventually(Duration::from_secs(15), "the polled token", || {
        (status("second-token") == Ok(200)).then_some(())
    });
    assert_eq!(status("first-token"), Ok(401));

    // Rotated and signalled: in force at once.
    std::fs::write(&token_file, "third-token\n").expect("rotate");
    sighup(c.child.id());
    common::eventually(Duration::from_secs(3), "the signalled token", || {
        (status("third-token") == Ok(200)).then_some(())
    });
    assert_eq!(status("second-token"), Ok(401));

    // An empty token file never opens the door: the last token stays.
    std::fs::write(&token_file, "").expect("empty");
    sighup(c.child.id());
    let token_name = token_file.display().to_string();
    common::eventually(Duration::from_secs(3), "the reload error", || {
        log_text(&c.log_path())
            .lines()
            .any(|l| l.contains("ERROR") && l.contains(&token_name))
            .then_some(())
    });
    assert_eq!(status("third-token"), Ok(200));
    assert_eq!(status(""), Ok(401));
}
