//! Checks on their own schedule, results in a cache: probes (Kubernetes'
//! `/livez` and `/readyz`) read the cache and never run a check themselves,
//! so a kubelet probing every second adds no load to a struggling database.
//! A result older than the staleness bound counts as failed, so a wedged
//! checker cannot keep a pod ready forever.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{Judgement, Report};

/// Latest result of every check, shared by the schedulers and the probes.
pub struct ProbeCache {
    checks: RwLock<BTreeMap<String, Entry>>,
    staleness: Duration,
}

/// One check's latest report and when it arrived.
struct Entry {
    report: Option<Report>,
    updated: Instant,
}

/// Which probe is asked.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// `/livez`: should the process be restarted?
    Live,
    /// `/readyz`: should traffic be routed here?
    Ready,
}

impl Probe {
    /// The probe's path name, `livez` or `readyz`.
    pub fn name(self) -> &'static str {
        match self {
            Probe::Live => "livez",
            Probe::Ready => "readyz",
        }
    }
}

impl ProbeCache {
    /// A cache whose results expire after `staleness`.
    pub fn new(staleness: Duration) -> Arc<ProbeCache> {
        Arc::new(ProbeCache {
            checks: RwLock::new(BTreeMap::new()),
            staleness,
        })
    }

    /// Declares a check before its first result, so probes know it exists.
    pub fn register(&self, name: &str) {
        let mut checks = self.checks.write().unwrap_or_else(PoisonError::into_inner);
        checks.entry(name.to_string()).or_insert(Entry {
            report: None,
            updated: Instant::now(),
        });
    }

    /// Stores a result; returns the previous one for change detection.
    pub fn update(&self, name: &str, report: Report) -> Option<Report> {
        let mut checks = self.checks.write().unwrap_or_else(PoisonError::into_inner);
        let entry = Entry {
            report: Some(report),
            updated: Instant::now(),
        };
        checks
            .insert(name.to_string(), entry)
            .and_then(|e| e.report)
    }

    /// The judgement of one check for one probe, with staleness applied.
    fn judge(&self, entry: &Entry, probe: Probe) -> Judgement {
        let Some(report) = &entry.report else {
            // Before the first result: alive (no reason to restart), not ready.
            return match probe {
                Probe::Live => Judgement::pass("no result yet"),
                Probe::Ready => Judgement::fail("no result yet"),
            };
        };
        let age = entry.updated.elapsed();
        if age > self.staleness {
            return Judgement::fail(format!(
                "last result is {}s old (limit {}s): the check is not running",
                age.as_secs(),
                self.staleness.as_secs()
            ));
        }
        match probe {
            Probe::Live => report.verdict.live.clone(),
            Probe::Ready => report.verdict.ready.clone(),
        }
    }

    /// Every check's name, judgement for `probe` and degraded reasons, in
    /// name order; only `only` when given, never those in `exclude`.
    pub fn evaluate(
        &self,
        probe: Probe,
        only: Option<&str>,
        exclude: &[String],
    ) -> Vec<(String, Judgement, Vec<String>)> {
        let checks = self.checks.read().unwrap_or_else(PoisonError::into_inner);
        checks
            .iter()
            .filter(|(name, _)| only.is_none_or(|o| o == name.as_str()))
            .filter(|(name, _)| !exclude.contains(name))
            .map(|(name, entry)| {
                let degraded = entry
                    .report
                    .as_ref()
                    .map(|r| r.verdict.degraded.iter().map(ToString::to_string).collect())
                    .unwrap_or_default();
                (name.clone(), self.judge(entry, probe), degraded)
            })
            .collect()
    }

    /// Whether a check of that name is registered.
    pub fn has(&self, name: &str) -> bool {
        self.checks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(name)
    }
}

/// Runs `check` every `interval` until shutdown, caching each report and
/// logging every verdict change (the agent ships those logs as OTLP records).
pub async fn run_check<F, Fut>(
    name: String,
    interval: Duration,
    cache: Arc<ProbeCache>,
    check: F,
    mut shutdown: watch::Receiver<bool>,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = Report>,
{
    cache.register(&name);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let report = check().await;
        let status = report.verdict.status();
        let previous = cache.update(&name, report.clone());
        if previous.as_ref().map(|p| p.verdict.status()) != Some(status) {
            let v = &report.verdict;
            let degraded: Vec<String> = v.degraded.iter().map(ToString::to_string).collect();
            tracing::warn!(
                check = %name,
                target = %report.target,
                status = status.as_str(),
                live = %v.live,
                ready = %v.ready,
                degraded = %degraded.join("; "),
                "health verdict changed"
            );
        }
    }
}
