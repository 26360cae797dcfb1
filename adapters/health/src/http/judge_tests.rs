use super::*;
use crate::verdict::Status;

const NOW: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

fn response(status: u16, matched: Option<bool>) -> Outcome {
    Outcome::Response(Response {
        status,
        body_bytes: 10,
        truncated: false,
        body_matched: matched,
        body_error: None,
    })
}

fn obs(outcome: Outcome, total_ms: u64, not_after: Option<i64>) -> Observation {
    Observation {
        outcome,
        phases: Phases {
            connect: Some(Duration::from_millis(1)),
            ..Phases::default()
        },
        total: Duration::from_millis(total_ms),
        certs: not_after.map(|at| PeerCerts {
            earliest_not_after: Some(at),
            parse_error: None,
        }),
        now: NOW,
    }
}

#[test]
fn verdict_cases() {
    let cfg = HttpConfig::default();
    // (observation, regex, status, live text prefix, ready text, degraded signals)
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
            obs(response(200, None), 12, None),
            None,
            Status::Ok,
            "HTTP 200 in 12.0ms",
            "status 200 accepted (2xx)",
            vec![],
        ),
        (
            obs(response(503, Some(false)), 12, None),
            Some("ok"),
            Status::Failed,
            "HTTP 503",
            "status 503 not in 2xx; body does not match /ok/",
            vec![],
        ),
        (
            obs(response(204, Some(true)), 1500, Some(NOW + 3 * DAY)),
            Some("ok"),
            Status::Degraded,
            "HTTP 204",
            "status 204 accepted (2xx); body matches /ok/",
            vec!["slow", "cert_expiry"],
        ),
        (
            obs(response(200, None), 5, Some(NOW - DAY)),
            None,
            Status::Failed,
            "HTTP 200",
            "certificate expired 1d ago (notAfter 2023-11-13T22:13:20Z)",
            vec![],
        ),
        (
            obs(Outcome::Unreachable("connect x: refused".into()), 1, None),
            None,
            Status::Failed,
            "connect x: refused",
            "not live: connect x: refused",
            vec![],
        ),
        (
            obs(
                Outcome::CertRejected("certificate expired 3d ago".into()),
                4,
                Some(NOW - 3 * DAY),
            ),
            None,
            Status::Failed,
            "TLS handshake answered",
            "certificate expired 3d ago",
            vec![],
        ),
        (
            obs(Outcome::NotChecked("cannot read token".into()), 0, None),
            None,
            Status::Failed,
            "not checked: cannot read token",
            "cannot read token",
            vec!["incomplete"],
        ),
    ];
    for (o, regex, status, live, ready, worries) in cases {
        let v = judge(&o, &cfg, regex);
        assert_eq!(v.status(), status, "{v}");
        assert!(v.live.summary().starts_with(live), "{v}");
        assert_eq!(v.ready.summary(), ready, "{v}");
        let signals: Vec<&str> = v.degraded.iter().map(|d| d.signal).collect();
        assert_eq!(signals, worries, "{v}");
    }
}

#[test]
fn truncated_and_broken_bodies_say_so() {
    let cfg = HttpConfig::default();
    let mut o = obs(response(200, Some(false)), 1, None);
    if let Outcome::Response(r) = &mut o.outcome {
        r.truncated = true;
        r.body_bytes = 1024;
    }
    let v = judge(&o, &cfg, Some("x"));
    assert_eq!(
        v.ready.summary(),
        "body does not match /x/ (first 1024 bytes read)"
    );
    if let Outcome::Response(r) = &mut o.outcome {
        r.body_error = Some("connection reset".into());
        r.body_matched = None;
    }
    let v = judge(&o, &cfg, Some("x"));
    assert_eq!(v.ready.summary(), "body read failed: connection reset");
}

#[test]
fn metrics_cover_phases_status_and_certificate() {
    let o = obs(response(404, Some(false)), 20, Some(NOW + DAY));
    let m = metrics(&o, "GET");
    let find = |name: &str, attr: Option<&str>| {
        m.iter()
            .find(|v| {
                v.def.name == name && attr.is_none_or(|a| v.attributes.iter().any(|(_, x)| x == a))
            })
            .map(|v| v.value)
    };
    assert_eq!(find("httpcheck.status", Some("4xx")), Some(1.0));
    assert_eq!(find("httpcheck.status", Some("2xx")), Some(0.0));
    assert_eq!(find("httpcheck.duration", None), Some(0.02));
    assert_eq!(
        find("httpcheck.phase.duration", Some("connect")),
        Some(0.001)
    );
    assert_eq!(find("httpcheck.phase.duration", Some("tls")), None);
    assert_eq!(find("httpcheck.tls.cert_remaining", None), Some(DAY as f64));
    assert_eq!(find("httpcheck.body.matched", None), Some(0.0));
    let unreachable = metrics(&obs(Outcome::Unreachable("x".into()), 1, None), "GET");
    assert!(unreachable.iter().all(|v| v.def.name != "httpcheck.status"));
}
