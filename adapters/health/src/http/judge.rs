//! From what the endpoint did to verdicts and metrics: pure functions over
//! an [`Observation`], table-tested without a server.
//!
//! *Live*: any HTTP response within the timeout (a certificate we reject
//! still proves the server answers). *Ready*: the status is accepted, the
//! body matches, the certificate is valid. *Degraded*: slower than
//! `max_duration`, or a certificate expiring within `min_cert_validity`.

use std::time::Duration;

use sextant_tls::PeerCerts;

use super::config::HttpConfig;
use crate::expiry::judge_expiry;
use crate::report::{MetricValue, flag, metric};
use crate::verdict::{Judgement, Reason, Verdict};

/// Time spent in each phase, as blackbox_exporter splits a request.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Phases {
    pub resolve: Option<Duration>,
    pub connect: Option<Duration>,
    pub tls: Option<Duration>,
    /// Request written → response head read (time to first byte).
    pub processing: Option<Duration>,
    /// Response head → body read.
    pub transfer: Option<Duration>,
}

impl Phases {
    fn each(&self) -> [(&'static str, Option<Duration>); 5] {
        [
            ("resolve", self.resolve),
            ("connect", self.connect),
            ("tls", self.tls),
            ("processing", self.processing),
            ("transfer", self.transfer),
        ]
    }
}

/// A response that arrived.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Response {
    pub status: u16,
    pub body_bytes: usize,
    /// The body went past `max_body_bytes`; only the start was read.
    pub truncated: bool,
    /// Whether the body regex matched (None without a regex).
    pub body_matched: Option<bool>,
    /// Reading the body failed (timeout, reset) after the head arrived.
    pub body_error: Option<String>,
}

/// How the request ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// No HTTP answer: refused, unresolvable, timed out, TLS broken.
    Unreachable(String),
    /// The server answered the TLS handshake with a certificate we reject.
    CertRejected(String),
    /// The check could not run for a local reason (unreadable token file).
    NotChecked(String),
    /// A response head arrived.
    Response(Response),
}

/// Everything one check saw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Observation {
    pub outcome: Outcome,
    pub phases: Phases,
    pub total: Duration,
    /// The peer's chain (https only; also when rejected).
    pub certs: Option<PeerCerts>,
    /// Now, Unix seconds, for judging expiry.
    pub now: i64,
}

fn ms(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}

/// The verdicts of one observation.
pub(crate) fn judge(obs: &Observation, cfg: &HttpConfig, regex: Option<&str>) -> Verdict {
    let mut degraded = Vec::new();
    if obs.total > cfg.max_duration {
        degraded.push(Reason::new(
            "slow",
            format!("took {}, over {}", ms(obs.total), ms(cfg.max_duration)),
        ));
    }
    let mut cert_failure = None;
    if let Some(at) = obs.certs.as_ref().and_then(|c| c.earliest_not_after) {
        let (fail, worry) = judge_expiry(at, obs.now, cfg.min_cert_validity);
        cert_failure = fail;
        degraded.extend(worry);
    }
    let resp = match &obs.outcome {
        Outcome::Unreachable(why) => return Verdict::unreachable(why.clone()),
        Outcome::CertRejected(why) => {
            return Verdict {
                live: Judgement::pass("TLS handshake answered; certificate rejected"),
                ready: Judgement::fail(why.clone()),
                degraded,
            };
        }
        Outcome::NotChecked(why) => {
            return Verdict {
                live: Judgement::pass(format!("not checked: {why}")),
                ready: Judgement::fail(why.clone()),
                degraded: vec![Reason::new("incomplete", why.clone())],
            };
        }
        Outcome::Response(r) => r,
    };
    let live = Judgement::pass(format!("HTTP {} in {}", resp.status, ms(obs.total)));
    let mut failures = Vec::new();
    let mut passes = Vec::new();
    if cfg.accepts(resp.status) {
        passes.push(format!(
            "status {} accepted ({})",
            resp.status,
            cfg.accepted_text()
        ));
    } else {
        failures.push(format!(
            "status {} not in {}",
            resp.status,
            cfg.accepted_text()
        ));
    }
    if let Some(e) = &resp.body_error {
        failures.push(format!("body read failed: {e}"));
    } else if let (Some(matched), Some(re)) = (resp.body_matched, regex) {
        let read = if resp.truncated {
            format!(" (first {} bytes read)", resp.body_bytes)
        } else {
            String::new()
        };
        if matched {
            passes.push(format!("body matches /{re}/"));
        } else {
            failures.push(format!("body does not match /{re}/{read}"));
        }
    }
    failures.extend(cert_failure);
    Verdict {
        live,
        ready: Judgement::from_failures(failures, passes.join("; ")),
        degraded,
    }
}

metric!(
    STATUS,
    "httpcheck.status",
    "1",
    Gauge,
    "1 for the response's status class (1xx…5xx), 0 for the others (OTel httpcheck)."
);
metric!(
    DURATION,
    "httpcheck.duration",
    "s",
    Gauge,
    "Time from the start of the check to the end of the body."
);
metric!(
    PHASE_DURATION,
    "httpcheck.phase.duration",
    "s",
    Gauge,
    "Time spent in each phase: resolve, connect, tls, processing, transfer (blackbox_exporter)."
);
metric!(
    BODY_SIZE,
    "httpcheck.response.body.size",
    "By",
    Gauge,
    "Body bytes read (at most max_body_bytes)."
);
metric!(
    BODY_MATCHED,
    "httpcheck.body.matched",
    "1",
    Gauge,
    "1 if the body matched body_regex, else 0 (only with a regex)."
);
metric!(
    CERT_REMAINING,
    "httpcheck.tls.cert_remaining",
    "s",
    Gauge,
    "Seconds until the earliest notAfter of the peer's chain; negative once expired (OTel httpcheck)."
);
metric!(
    CERT_EXPIRY,
    "httpcheck.tls.cert_expiry",
    "s",
    Gauge,
    "Earliest notAfter of the peer's chain, Unix seconds (probe_ssl_earliest_cert_expiry)."
);

/// Every metric the observation supports.
pub(crate) fn metrics(obs: &Observation, method: &str) -> Vec<MetricValue> {
    let mut out = vec![MetricValue::new(&DURATION, obs.total.as_secs_f64())];
    for (phase, d) in obs.phases.each() {
        if let Some(d) = d {
            out.push(MetricValue::with(
                &PHASE_DURATION,
                "phase",
                phase,
                d.as_secs_f64(),
            ));
        }
    }
    if let Outcome::Response(r) = &obs.outcome {
        let class = format!("{}xx", r.status / 100);
        for c in ["1xx", "2xx", "3xx", "4xx", "5xx"] {
            out.push(
                MetricValue::with(&STATUS, "http.status_class", c, flag(c == class))
                    .attr("http.status_code", r.status.to_string())
                    .attr("http.method", method),
            );
        }
        out.push(MetricValue::new(&BODY_SIZE, r.body_bytes as f64));
        if let Some(m) = r.body_matched {
            out.push(MetricValue::new(&BODY_MATCHED, flag(m)));
        }
    }
    if let Some(at) = obs.certs.as_ref().and_then(|c| c.earliest_not_after) {
        out.push(MetricValue::new(&CERT_REMAINING, (at - obs.now) as f64));
        out.push(MetricValue::new(&CERT_EXPIRY, at as f64));
    }
    out
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
