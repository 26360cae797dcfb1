//! A group evaluated against an in-memory store, minute by minute.

use std::time::Duration;

use super::*;
use crate::model::{AlertingRule, RecordingRule};

const MIN: i64 = 60_000;

#[derive(Default)]
struct Mem(crate::mem::MemStore);

impl Queryable for Mem {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<Series> {
        self.0.select(matchers, start_ms, end_ms)
    }
}

impl Mem {
    fn put(&mut self, pairs: &[(&str, &str)], t: i64, v: f64) {
        let labels = Labels::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        self.0.put(&labels, t, v);
    }

    fn append(&mut self, e: &Evaluation) {
        self.0.append(&e.samples);
    }
}

fn group(rules: Vec<Rule>) -> Group {
    Group {
        name: "g".into(),
        interval: Some(Duration::from_secs(60)),
        query_offset: None,
        limit: 0,
        labels: BTreeMap::new(),
        rules,
    }
}

fn record(name: &str, expr: &str) -> Rule {
    Rule::Record(RecordingRule {
        record: name.into(),
        expr: expr.into(),
        labels: BTreeMap::new(),
    })
}

fn alert(name: &str, expr: &str, for_min: u64) -> Rule {
    Rule::Alert(AlertingRule {
        alert: name.into(),
        expr: expr.into(),
        for_: Duration::from_secs(for_min * 60),
        keep_firing_for: Duration::ZERO,
        labels: BTreeMap::new(),
        annotations: BTreeMap::from([("summary".into(), "{{ $labels.job }}: {{ $value }}".into())]),
    })
}

fn settings(ext: &BTreeMap<String, String>) -> Settings<'_> {
    Settings {
        default_interval: Duration::from_secs(60),
        resend_delay: Duration::from_secs(60),
        external_labels: ext,
        external_url: "http://sextant",
    }
}

fn names(e: &Evaluation) -> Vec<String> {
    let mut v: Vec<String> = e
        .samples
        .iter()
        .map(|s| {
            let stale = s.samples.iter().any(|x| x.v.to_bits() == STALE_NAN_BITS);
            format!("{}{}", s.labels, if stale { " stale" } else { "" })
        })
        .collect();
    v.sort();
    v
}

#[test]
fn later_rules_see_earlier_records_and_series_that_stop_go_stale() {
    let mut store = Mem::default();
    store.put(
        &[("__name__", "errors"), ("job", "api"), ("i", "1")],
        0,
        1.0,
    );
    store.put(
        &[("__name__", "errors"), ("job", "api"), ("i", "2")],
        0,
        2.0,
    );
    let mut g = GroupRunner::new(group(vec![
        record("job:errors:sum", "sum by (job) (errors)"),
        alert("ManyErrors", "job:errors:sum > 2", 0),
    ]));
    let ext = BTreeMap::new();
    let engine = Engine::default();
    let e = g.eval(&engine, &store, 30_000, &settings(&ext));
    assert_eq!(
        names(&e),
        [
            r#"{__name__="ALERTS", alertname="ManyErrors", alertstate="firing", job="api"}"#,
            r#"{__name__="ALERTS_FOR_STATE", alertname="ManyErrors", job="api"}"#,
            r#"{__name__="job:errors:sum", job="api"}"#,
        ]
    );
    let recorded = e
        .samples
        .iter()
        .find(|s| s.labels.get("__name__") == Some("job:errors:sum"))
        .expect("recorded");
    assert_eq!(recorded.samples, [Sample { t: 30_000, v: 3.0 }]);
    assert_eq!(e.alerts.len(), 1);
    assert_eq!(e.alerts[0].annotations["summary"], "api: 3");
    assert!(
        g.health().iter().all(|h| h.last_error.is_none()),
        "{:?}",
        g.health()
    );
    store.append(&e);

    // Six minutes on, the errors are older than the lookback: the record
    // and both alert series get stale markers and the alert resolves.
    let e = g.eval(&engine, &store, 6 * MIN, &settings(&ext));
    assert_eq!(
        names(&e),
        [
            r#"{__name__="ALERTS", alertname="ManyErrors", alertstate="firing", job="api"} stale"#,
            r#"{__name__="ALERTS_FOR_STATE", alertname="ManyErrors", job="api"} stale"#,
            r#"{__name__="job:errors:sum", job="api"} stale"#,
        ]
    );
    assert_eq!(e.alerts.len(), 1);
    assert_eq!(e.alerts[0].resolved_at_ms, Some(6 * MIN));
}

#[test]
fn pending_turns_firing_and_alerts_series_change_state() {
    let mut store = Mem::default();
    for m in 0..4 {
        store.put(&[("__name__", "up"), ("job", "db")], m * MIN, 0.0);
    }
    let mut g = GroupRunner::new(group(vec![alert("Down", "up == 0", 2)]));
    let ext = BTreeMap::new();
    let engine = Engine::default();
    let e0 = g.eval(&engine, &store, 0, &settings(&ext));
    assert!(
        names(&e0)[0].contains(r#"alertstate="pending""#),
        "{:?}",
        names(&e0)
    );
    assert!(e0.alerts.is_empty(), "pending alerts are not sent");
    store.append(&e0);
    g.eval(&engine, &store, MIN, &settings(&ext));
    let e2 = g.eval(&engine, &store, 2 * MIN, &settings(&ext));
    let n = names(&e2);
    assert!(
        n.iter()
            .any(|s| s.contains(r#"alertstate="firing""#) && !s.ends_with("stale")),
        "{n:?}"
    );
    assert!(
        n.iter()
            .any(|s| s.contains(r#"alertstate="pending""#) && s.ends_with("stale")),
        "{n:?}"
    );
    let state = e2
        .samples
        .iter()
        .find(|s| s.labels.get("__name__") == Some("ALERTS_FOR_STATE"))
        .expect("for state");
    assert_eq!(state.samples[0].v, 0.0, "activeAt in Unix seconds");
    assert_eq!(e2.alerts.len(), 1);
}

#[test]
fn a_failing_rule_is_its_own_failure() {
    let mut store = Mem::default();
    store.put(&[("__name__", "a"), ("job", "x")], 0, 1.0);
    store.put(&[("__name__", "b"), ("job", "x")], 0, 1.0);
    let mut g = GroupRunner::new(group(vec![
        record("broken", "{__name__=~\"a|b\"} * 1"),
        record("fine", "a"),
        alert("Str", "\"text\"", 0),
    ]));
    let ext = BTreeMap::new();
    let e = g.eval(&Engine::default(), &store, 0, &settings(&ext));
    let h = g.health();
    assert!(
        h[0].last_error
            .as_deref()
            .is_some_and(|e| e.contains("same labelset")),
        "{h:?}"
    );
    assert_eq!(h[1].last_error, None);
    assert_eq!(
        h[2].last_error.as_deref(),
        Some("rule result is not a vector or scalar")
    );
    assert_eq!(names(&e), [r#"{__name__="fine", job="x"}"#]);
}

#[test]
fn query_offset_limit_and_group_labels() {
    let mut store = Mem::default();
    store.put(&[("__name__", "x"), ("i", "1")], MIN, 1.0);
    store.put(&[("__name__", "x"), ("i", "2")], MIN, 2.0);
    let mut grp = group(vec![record("x:copy", "x")]);
    grp.query_offset = Some(Duration::from_secs(60));
    grp.labels = BTreeMap::from([("team".into(), "infra".into())]);
    let mut g = GroupRunner::new(grp.clone());
    let ext = BTreeMap::new();
    // Evaluated at 1m30s, queried at 30s: nothing yet.
    let e = g.eval(&Engine::default(), &store, 90_000, &settings(&ext));
    assert!(e.samples.is_empty(), "{:?}", names(&e));
    let e = g.eval(&Engine::default(), &store, 2 * MIN, &settings(&ext));
    assert_eq!(
        names(&e),
        [
            r#"{__name__="x:copy", i="1", team="infra"}"#,
            r#"{__name__="x:copy", i="2", team="infra"}"#,
        ]
    );
    assert!(
        e.samples.iter().all(|s| s.samples[0].t == MIN),
        "written at the query time"
    );
    grp.limit = 1;
    let mut g = GroupRunner::new(grp);
    let e = g.eval(&Engine::default(), &store, 2 * MIN, &settings(&ext));
    assert!(e.samples.is_empty());
    assert_eq!(
        g.health()[0].last_error.as_deref(),
        Some("exceeded limit of 1 with 2 series")
    );
}
