//! Helpers for tests that run checks against real servers.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::health::Report;

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
