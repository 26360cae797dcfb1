//! Helpers for this crate's tests that run checks against real servers
//! (which `sextant-testing` starts).

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use sextant_tls::TlsSettings;

use crate::Report;

/// Prints one report's verdict, duration and round trips (visible with
/// `--nocapture`, and in the output of a failing test).
pub fn show(label: &str, r: &Report) {
    println!(
        "{label}: {} in {:.1} ms, {} round trips: {}",
        r.target,
        r.duration.as_secs_f64() * 1000.0,
        r.operations,
        r.verdict
    );
}

/// Runs `check` until `want` holds or `limit` passes; returns the last report.
pub async fn until<F, Fut>(check: F, limit: Duration, want: impl Fn(&Report) -> bool) -> Report
where
    F: Fn() -> Fut,
    Fut: Future<Output = Report>,
{
    let end = Instant::now() + limit;
    loop {
        let r = check().await;
        if want(&r) || Instant::now() > end {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The certificate checks every TLS-speaking health check must make, run
/// against a server whose certificate (signed by `ca`) names `localhost`
/// only: a name mismatch through 127.0.0.1 fails and only
/// `skip_domain_validation` forgives it; an unknown CA (`other_ca`) fails,
/// `skip_domain_validation` does not forgive it, `accept_invalid_certs`
/// does. `check(host, tls)` runs one check of the server under test.
pub async fn verification_cases<F, Fut>(ca: &Path, other_ca: &Path, check: F)
where
    F: Fn(&'static str, TlsSettings) -> Fut,
    Fut: Future<Output = Report>,
{
    let trusting = |ca: &Path| TlsSettings {
        ca_file: Some(ca.to_path_buf()),
        ..TlsSettings::default()
    };
    let r = check("127.0.0.1", trusting(ca)).await;
    show("TLS, name mismatch", &r);
    assert!(!r.verdict.live.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.live.summary(),
        "connect: TLS error: certificate is not valid for 127.0.0.1 (it names localhost)"
    );
    let skip_name = TlsSettings {
        skip_domain_validation: true,
        ..trusting(ca)
    };
    let r = check("127.0.0.1", skip_name).await;
    show("TLS, name mismatch, skip_domain_validation", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);

    let r = check("localhost", trusting(other_ca)).await;
    show("TLS, unknown CA", &r);
    assert!(!r.verdict.live.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.live.summary(),
        format!(
            "connect: TLS error: certificate signed by an unknown authority \
             (trusting the CAs in {})",
            other_ca.display()
        )
    );
    let skip_name = TlsSettings {
        skip_domain_validation: true,
        ..trusting(other_ca)
    };
    let r = check("localhost", skip_name).await;
    assert!(
        r.verdict.live.summary().contains("unknown authority"),
        "skipping the name check forgives no CA: {}",
        r.verdict
    );
    let anything = TlsSettings {
        accept_invalid_certs: true,
        ..trusting(other_ca)
    };
    let r = check("127.0.0.1", anything).await;
    show("TLS, unknown CA, accept_invalid_certs", &r);
    assert!(r.verdict.live.ok && r.verdict.ready.ok, "{}", r.verdict);
}
