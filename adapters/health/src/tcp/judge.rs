//! From what the port did to verdicts and metrics, table-tested.
//!
//! *Live*: the connection opened (and, with TLS, the peer answered the
//! handshake). *Ready*: the certificate is trusted and valid, and the reply
//! matched `expect`. *Degraded*: slow, or a certificate expiring soon.

use std::time::Duration;

use sextant_tls::PeerCerts;

use super::config::TcpConfig;
use crate::expiry::judge_expiry;
use crate::report::{MetricValue, flag, metric};
use crate::verdict::{Judgement, Reason, Verdict};

/// How the conversation ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// No connection (refused, unresolvable, timed out) or a broken handshake.
    Unreachable(String),
    /// Connected; the peer's certificate was rejected (text says why).
    CertRejected(String),
    /// Connected (and handshaken), the exchange done or attempted.
    Connected {
        /// Whether the reply matched `expect` (None without one).
        matched: Option<bool>,
        /// The reply read, for reasons (lossy text, shortened).
        reply: String,
        /// Why the reply ended before it matched, if it did not.
        reply_error: Option<String>,
    },
}

/// Everything one check saw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Observation {
    pub outcome: Outcome,
    /// (phase, time): resolve, connect, tls, expect.
    pub phases: Vec<(&'static str, Duration)>,
    pub total: Duration,
    pub certs: Option<PeerCerts>,
    pub now: i64,
}

fn ms(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}

/// The verdicts of one observation.
pub(crate) fn judge(obs: &Observation, cfg: &TcpConfig, regex: Option<&str>) -> Verdict {
    let mut degraded = Vec::new();
    if obs.total > cfg.max_duration {
        degraded.push(Reason::new(
            "slow",
            format!("took {}, over {}", ms(obs.total), ms(cfg.max_duration)),
        ));
    }
    let mut failures = Vec::new();
    if let Some(at) = obs.certs.as_ref().and_then(|c| c.earliest_not_after) {
        let (fail, worry) = judge_expiry(at, obs.now, cfg.min_cert_validity);
        degraded.extend(worry);
        failures.extend(fail);
    }
    let (matched, reply, reply_error) = match &obs.outcome {
        Outcome::Unreachable(why) => return Verdict::unreachable(why.clone()),
        Outcome::CertRejected(why) => {
            return Verdict {
                live: Judgement::pass("connected; certificate rejected"),
                ready: Judgement::fail(why.clone()),
                degraded,
            };
        }
        Outcome::Connected {
            matched,
            reply,
            reply_error,
        } => (matched, reply, reply_error),
    };
    let how = if obs.certs.is_some() {
        "connected with TLS"
    } else {
        "connected"
    };
    let live = Judgement::pass(format!("{how} in {}", ms(obs.total)));
    let mut pass = how.to_string();
    if let (Some(m), Some(re)) = (matched, regex) {
        if *m {
            pass = format!("reply matches /{re}/");
        } else {
            let why = reply_error
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            failures.push(format!("reply {reply:?} does not match /{re}/{why}"));
        }
    }
    Verdict {
        live,
        ready: Judgement::from_failures(failures, pass),
        degraded,
    }
}

metric!(
    STATUS,
    "tcpcheck.status",
    "1",
    Gauge,
    "1 if the connection (and TLS handshake) succeeded, else 0 (OTel tcpcheck)."
);
metric!(
    DURATION,
    "tcpcheck.duration",
    "s",
    Gauge,
    "Time from the start of the check to the end of the exchange."
);
metric!(
    PHASE_DURATION,
    "tcpcheck.phase.duration",
    "s",
    Gauge,
    "Time spent in each phase: resolve, connect, tls, expect."
);
metric!(
    EXPECT_MATCHED,
    "tcpcheck.expect.matched",
    "1",
    Gauge,
    "1 if the reply matched expect, else 0 (only with expect)."
);
metric!(
    CERT_REMAINING,
    "tcpcheck.tls.cert_remaining",
    "s",
    Gauge,
    "Seconds until the earliest notAfter of the peer's chain; negative once expired."
);
metric!(
    CERT_EXPIRY,
    "tcpcheck.tls.cert_expiry",
    "s",
    Gauge,
    "Earliest notAfter of the peer's chain, Unix seconds (probe_ssl_earliest_cert_expiry)."
);

/// Every metric the observation supports.
pub(crate) fn metrics(obs: &Observation) -> Vec<MetricValue> {
    let connected = matches!(obs.outcome, Outcome::Connected { .. });
    let mut out = vec![
        MetricValue::new(&STATUS, flag(connected)),
        MetricValue::new(&DURATION, obs.total.as_secs_f64()),
    ];
    for (phase, d) in &obs.phases {
        out.push(MetricValue::with(
            &PHASE_DURATION,
            "phase",
            phase,
            d.as_secs_f64(),
        ));
    }
    if let Outcome::Connected {
        matched: Some(m), ..
    } = &obs.outcome
    {
        out.push(MetricValue::new(&EXPECT_MATCHED, flag(*m)));
    }
    if let Some(at) = obs.certs.as_ref().and_then(|c| c.earliest_not_after) {
        out.push(MetricValue::new(&CERT_REMAINING, (at - obs.now) as f64));
        out.push(MetricValue::new(&CERT_EXPIRY, at as f64));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Status;

    const NOW: i64 = 1_700_000_000;

    fn obs(outcome: Outcome, total_ms: u64, not_after: Option<i64>) -> Observation {
        Observation {
            outcome,
            phases: vec![("connect", Duration::from_millis(1))],
            total: Duration::from_millis(total_ms),
            certs: not_after.map(|at| PeerCerts {
                earliest_not_after: Some(at),
                parse_error: None,
            }),
            now: NOW,
        }
    }

    fn connected(matched: Option<bool>) -> Outcome {
        Outcome::Connected {
            matched,
            reply: "-ERR".into(),
            reply_error: matched.filter(|m| !m).map(|_| "peer closed".into()),
        }
    }

    #[test]
    fn verdict_cases() {
        let cfg = TcpConfig::default();
        /// (observation, regex, status, live text prefix, ready text, degraded signals)
        type Case = (
            Observation,
            Option<&'static str>,
            Status,
            &'static str,
            &'static str,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                obs(connected(None), 3, None),
                None,
                Status::Ok,
                "connected in 3.0ms",
                "connected",
                vec![],
            ),
            (
                obs(connected(Some(true)), 3, Some(NOW + 86_400)),
                Some("PONG"),
                Status::Degraded,
                "connected with TLS",
                "reply matches /PONG/",
                vec!["cert_expiry"],
            ),
            (
                obs(connected(Some(false)), 2000, None),
                Some("PONG"),
                Status::Failed,
                "connected",
                "reply \"-ERR\" does not match /PONG/ (peer closed)",
                vec!["slow"],
            ),
            (
                obs(Outcome::Unreachable("connect: refused".into()), 1, None),
                None,
                Status::Failed,
                "connect: refused",
                "not live: connect: refused",
                vec![],
            ),
            (
                obs(
                    Outcome::CertRejected("certificate expired 1d ago".into()),
                    1,
                    Some(NOW - 86_400),
                ),
                None,
                Status::Failed,
                "connected; certificate rejected",
                "certificate expired 1d ago",
                vec![],
            ),
        ];
        for (o, regex, status, live, ready, worries) in cases {
            let v = judge(&o, &cfg, regex);
            assert_eq!(v.status(), status, "{v}");
            assert!(v.live.summary().starts_with(live), "{v}");
            assert_eq!(v.ready.summary(), ready, "{v}");
            let signals: Vec<&str> = v.degraded.iter().map(|d| d.signal).collect();
            assert_eq!(signals, worries, "{v}");
            let m = metrics(&o);
            let status_value = m
                .iter()
                .find(|x| x.def.name == "tcpcheck.status")
                .map(|x| x.value);
            assert_eq!(
                status_value,
                Some(flag(
                    v.live.ok && !matches!(o.outcome, Outcome::CertRejected(_))
                ))
            );
        }
    }
}
