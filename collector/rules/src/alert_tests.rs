//! The state machine step by step, as Prometheus's `rules/alerting.go`
//! moves an alert (times in minutes from 0).

use std::time::Duration;

use super::*;

const MIN: i64 = 60_000;

fn rule(for_min: u64, keep_min: u64) -> AlertingRule {
    AlertingRule {
        alert: "HighErrors".into(),
        expr: "errors > 1".into(),
        for_: Duration::from_secs(for_min * 60),
        keep_firing_for: Duration::from_secs(keep_min * 60),
        labels: BTreeMap::from([("severity".into(), "page".into())]),
        annotations: BTreeMap::from([(
            "summary".into(),
            "{{ $labels.instance }} at {{ $value }}".into(),
        )]),
    }
}

fn el(instance: &str, v: f64) -> VectorSample {
    VectorSample {
        labels: Labels::from_pairs(vec![
            ("__name__".into(), "errors".into()),
            ("instance".into(), instance.into()),
        ]),
        t: 0,
        v,
    }
}

struct Run {
    set: AlertSet,
    rule: AlertingRule,
}

impl Run {
    fn new(rule: AlertingRule) -> Run {
        Run {
            set: AlertSet::default(),
            rule,
        }
    }

    /// States of the live (pending/firing) alerts after evaluating at `min`.
    fn at(&mut self, min: i64, result: Vec<VectorSample>) -> Vec<(String, &'static str)> {
        let ext = BTreeMap::new();
        let ctx = Context {
            external_labels: &ext,
            external_url: "",
        };
        let env = Env {
            query: &|_| Ok(Vec::new()),
            external_url: "",
        };
        self.set
            .eval(&self.rule, result, min * MIN, 0, &ctx, &env)
            .expect("evaluates")
            .into_iter()
            .map(|a| {
                (
                    a.labels.get("instance").unwrap_or("").to_string(),
                    a.state.as_str(),
                )
            })
            .collect()
    }
}

fn s(instance: &str, state: &'static str) -> (String, &'static str) {
    (instance.to_string(), state)
}

#[test]
fn pending_then_firing_after_for_then_resolved() {
    let mut r = Run::new(rule(2, 0));
    assert_eq!(r.at(0, vec![el("a", 5.0)]), [s("a", "pending")]);
    assert_eq!(r.at(1, vec![el("a", 6.0)]), [s("a", "pending")]);
    assert_eq!(r.at(2, vec![el("a", 7.0)]), [s("a", "firing")]);
    let a = r.set.alerts()[0].clone();
    assert_eq!(a.active_at_ms, 0);
    assert_eq!(a.fired_at_ms, Some(2 * MIN));
    assert_eq!(a.annotations["summary"], "a at 7");
    assert_eq!(a.labels.get("alertname"), Some("HighErrors"));
    assert_eq!(a.labels.get("severity"), Some("page"));
    assert_eq!(a.labels.get("__name__"), None);
    assert!(r.at(3, vec![]).is_empty());
    let resolved = r.set.alerts()[0].clone();
    assert_eq!(resolved.state, AlertState::Inactive);
    assert_eq!(resolved.resolved_at_ms, Some(3 * MIN));
    // Kept for fifteen minutes, then forgotten.
    r.at(18, vec![]);
    assert_eq!(r.set.alerts().len(), 1);
    r.at(19, vec![]);
    assert!(r.set.alerts().is_empty());
}

#[test]
fn a_pending_alert_that_leaves_is_forgotten_and_starts_over() {
    let mut r = Run::new(rule(2, 0));
    r.at(0, vec![el("a", 5.0)]);
    assert!(r.at(1, vec![]).is_empty());
    assert!(r.set.alerts().is_empty());
    assert_eq!(r.at(2, vec![el("a", 5.0)]), [s("a", "pending")]);
    assert_eq!(r.at(3, vec![el("a", 5.0)]), [s("a", "pending")]);
    assert_eq!(r.at(4, vec![el("a", 5.0)]), [s("a", "firing")]);
}

#[test]
fn for_zero_fires_at_once_and_a_returning_alert_is_new() {
    let mut r = Run::new(rule(0, 0));
    assert_eq!(r.at(0, vec![el("a", 5.0)]), [s("a", "firing")]);
    r.at(1, vec![]);
    assert_eq!(r.at(2, vec![el("a", 5.0)]), [s("a", "firing")]);
    assert_eq!(r.set.alerts()[0].active_at_ms, 2 * MIN);
}

#[test]
fn keep_firing_for_holds_a_firing_alert_after_it_leaves() {
    let mut r = Run::new(rule(0, 2));
    assert_eq!(r.at(0, vec![el("a", 5.0)]), [s("a", "firing")]);
    assert_eq!(r.at(1, vec![]), [s("a", "firing")]);
    assert_eq!(r.at(2, vec![]), [s("a", "firing")]);
    assert!(r.at(3, vec![]).is_empty());
    // Back in the result, the keep-firing clock restarts.
    let mut r = Run::new(rule(0, 2));
    r.at(0, vec![el("a", 5.0)]);
    r.at(1, vec![]);
    r.at(2, vec![el("a", 5.0)]);
    assert_eq!(r.at(3, vec![]), [s("a", "firing")]);
    assert_eq!(r.at(4, vec![]), [s("a", "firing")]);
    assert!(r.at(5, vec![]).is_empty());
}

#[test]
fn duplicate_label_sets_and_limits_fail_the_evaluation() {
    let ext = BTreeMap::new();
    let ctx = Context {
        external_labels: &ext,
        external_url: "",
    };
    let env = Env {
        query: &|_| Ok(Vec::new()),
        external_url: "",
    };
    let mut set = AlertSet::default();
    let mut other = el("a", 1.0);
    other.labels = Labels::from_pairs(vec![
        ("__name__".into(), "other".into()),
        ("instance".into(), "a".into()),
    ]);
    let r = rule(0, 0);
    assert_eq!(
        set.eval(&r, vec![el("a", 1.0), other], 0, 0, &ctx, &env)
            .err(),
        Some(AlertError::DuplicateLabelSet)
    );
    assert_eq!(
        set.eval(&r, vec![el("a", 1.0), el("b", 1.0)], 0, 1, &ctx, &env)
            .err(),
        Some(AlertError::Limit { limit: 1, count: 2 })
    );
    assert!(set.alerts().is_empty());
}

#[test]
fn sending_follows_the_resend_delay_and_resolution() {
    let mut r = Run::new(rule(1, 0));
    let send = |r: &mut Run, min: i64| -> Vec<&'static str> {
        r.set
            .to_send(min * MIN, MIN, MIN)
            .iter()
            .map(|a| a.state.as_str())
            .collect()
    };
    r.at(0, vec![el("a", 5.0)]);
    assert!(send(&mut r, 0).is_empty(), "pending alerts are never sent");
    r.at(1, vec![el("a", 5.0)]);
    assert_eq!(send(&mut r, 1), ["firing"]);
    assert_eq!(r.set.alerts()[0].valid_until_ms, MIN + 4 * MIN);
    r.at(2, vec![el("a", 5.0)]);
    assert!(send(&mut r, 2).is_empty(), "sent one delay ago: not yet");
    r.at(3, vec![el("a", 5.0)]);
    assert_eq!(send(&mut r, 3), ["firing"]);
    r.at(4, vec![]);
    assert_eq!(
        send(&mut r, 4),
        ["inactive"],
        "resolved since the last send"
    );
    assert!(send(&mut r, 5).is_empty());
    assert_eq!(send(&mut r, 6), ["inactive"], "re-sent while retained");
}
