//! `rules test`: promtool's rule unit-test format and verdicts
//! (`cmd/promtool/unittest.go`). Each test group loads its input series
//! into a fresh in-memory store, evaluates every rule group from time 0 in
//! steps of `evaluation_interval` up to the last `eval_time`, checks the
//! firing alerts of each `alert_rule_test` at the evaluation its
//! `eval_time` falls in, then each `promql_expr_test`; failures are printed
//! in promtool's words and shape, line for line.
//!
//! Evaluation uses the engine's Prometheus 3 semantics (left-open windows),
//! so a test that depends on a sample exactly a window's length old can
//! differ from promtool 2.42.

mod notation;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use sextant_config::duration;
use sextant_model::Labels;
use sextant_promql::{Engine, Value as PromValue};

use crate::alert::AlertState;
use crate::group::{GroupRunner, Settings};
use crate::mem::MemStore;
use crate::model::{Group, Rule};
use crate::template::{format_e_shortest, go_quote};

pub use notation::{MAX_VALUES, expand, series_labels};

/// A test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default)]
    evaluation_interval: Option<duration::Value>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    tests: Vec<TestGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    #[serde(default)]
    interval: Option<duration::Value>,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    external_url: String,
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    series: String,
    values: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    eval_time: duration::Value,
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExprTest {
    expr: String,
    eval_time: duration::Value,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    labels: String,
    value: f64,
}

/// What a test file's run printed and whether it passed, as promtool
/// splits it between stdout and stderr.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// promtool's stdout for this file.
    pub stdout: String,
    /// promtool's stderr for this file.
    pub stderr: String,
    /// Every test passed.
    pub passed: bool,
}

/// Loads the rule files a pattern (relative to the test file) names:
/// `(path, text)` of each, or why not.
pub type RuleLoader<'a> = &'a dyn Fn(&str) -> Result<Vec<(String, String)>, String>;

/// Runs one test file named `name` with text `text`.
pub fn run(name: &str, text: &str, load: RuleLoader) -> Report {
    let mut report = Report {
        stdout: format!("Unit Testing:  {name}\n"),
        ..Report::default()
    };
    let errors = match run_file(text, load) {
        Ok(errors) => errors,
        Err(e) => vec![e],
    };
    if errors.is_empty() {
        report.stdout.push_str("  SUCCESS\n\n");
        report.passed = true;
        return report;
    }
    report.stderr.push_str("  FAILED:\n");
    for e in errors {
        report.stderr.push_str(&e);
        report.stderr.push('\n');
        report.stdout.push('\n');
    }
    report.stdout.push('\n');
    report
}

fn run_file(text: &str, load: RuleLoader) -> Result<Vec<String>, String> {
    let file: TestFile = serde_saphyr::from_str(text).map_err(|e| format!("    {e}"))?;
    let eval_interval = file
        .evaluation_interval
        .map_or(Duration::from_secs(60), |d| d.0);
    if eval_interval.is_zero() {
        return Err("    evaluation_interval must be greater than zero".into());
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut errors = Vec::new();
    for pattern in &file.rule_files {
        for (path, text) in load(pattern).map_err(|e| format!("    {e}"))? {
            match crate::check(&text) {
                Ok(f) => groups.extend(f.groups),
                Err(errs) => errors.extend(errs.iter().map(|e| format!("    {path}: {e}"))),
            }
        }
    }
    if !errors.is_empty() {
        return Ok(errors);
    }
    order_groups(&mut groups, &file.group_eval_order);
    for tg in &file.tests {
        errors.extend(run_group(tg, &groups, eval_interval));
    }
    Ok(errors)
}

/// `group_eval_order` first, in its order; the rest as loaded.
fn order_groups(groups: &mut [Group], order: &[String]) {
    let rank = |g: &Group| {
        order
            .iter()
            .position(|n| *n == g.name)
            .unwrap_or(order.len())
    };
    groups.sort_by_key(rank);
}

fn run_group(tg: &TestGroup, groups: &[Group], eval_interval: Duration) -> Vec<String> {
    let mut errors = Vec::new();
    let interval_ms = tg.interval.map_or(eval_interval, |d| d.0).as_millis() as i64;
    let mut store = MemStore::default();
    for s in &tg.input_series {
        let labels = match series_labels(&s.series) {
            Ok(l) => l,
            Err(e) => return vec![format!("    series {:?}: {e}", s.series)],
        };
        let values = match expand(&s.values) {
            Ok(v) => v,
            Err(e) => {
                return vec![format!(
                    "    series {:?}: values {:?}: {e}",
                    s.series, s.values
                )];
            }
        };
        for (i, v) in values.into_iter().enumerate() {
            if let Some(v) = v {
                store.put(&labels, i as i64 * interval_ms, v);
            }
        }
    }
    let engine = Engine::default();
    let settings = Settings {
        default_interval: eval_interval,
        resend_delay: Duration::from_secs(60),
        external_labels: &tg.external_labels,
        external_url: &tg.external_url,
    };
    let mut runners: Vec<GroupRunner> = groups.iter().cloned().map(GroupRunner::new).collect();
    let mut alert_times: Vec<i64> = tg
        .alert_rule_test
        .iter()
        .map(|t| t.eval_time.0.as_millis() as i64)
        .collect();
    alert_times.sort_unstable();
    alert_times.dedup();
    let max_t = alert_times
        .iter()
        .copied()
        .chain(
            tg.promql_expr_test
                .iter()
                .map(|t| t.eval_time.0.as_millis() as i64),
        )
        .max()
        .unwrap_or(0);
    let step = eval_interval.as_millis() as i64;
    let mut next = 0;
    let mut ts = 0;
    while ts <= max_t {
        let mut eval_errors = Vec::new();
        for g in runners.iter_mut() {
            let e = g.eval(&engine, &store, ts, &settings);
            store.append(&e.samples);
            for (rule, h) in g.group().rules.iter().zip(g.health()) {
                if let Some(err) = &h.last_error {
                    eval_errors.push(format!(
                        "    rule: {}, time: {}, err: {err}",
                        rule.name(),
                        go_duration(ts)
                    ));
                }
            }
        }
        if !eval_errors.is_empty() {
            errors.extend(eval_errors);
            return errors;
        }
        while next < alert_times.len() && ts <= alert_times[next] && alert_times[next] < ts + step {
            let t = alert_times[next];
            for test in tg
                .alert_rule_test
                .iter()
                .filter(|a| a.eval_time.0.as_millis() as i64 == t)
            {
                if let Some(e) = check_alerts(tg, test, &runners) {
                    errors.push(e);
                }
            }
            next += 1;
        }
        ts += step;
    }
    for test in &tg.promql_expr_test {
        if let Some(e) = check_expr(test, &engine, &store) {
            errors.push(e);
        }
    }
    errors
}

type Firing = (Labels, Labels);

fn check_alerts(tg: &TestGroup, test: &AlertTest, runners: &[GroupRunner]) -> Option<String> {
    let mut got: Vec<Firing> = Vec::new();
    for g in runners {
        for (i, rule) in g.group().rules.iter().enumerate() {
            if matches!(rule, Rule::Alert(a) if a.alert == test.alertname) {
                for a in g.alerts(i) {
                    if a.state == AlertState::Firing {
                        got.push((a.labels.clone(), map_labels(&a.annotations)));
                    }
                }
            }
        }
    }
    let mut exp: Vec<Firing> = test
        .exp_alerts
        .iter()
        .map(|a| {
            let mut l = a.exp_labels.clone();
            l.insert("alertname".into(), test.alertname.clone());
            (map_labels(&l), map_labels(&a.exp_annotations))
        })
        .collect();
    got.sort();
    exp.sort();
    if got == exp {
        return None;
    }
    let name = if tg.name.is_empty() {
        String::new()
    } else {
        format!("    name: {},\n", tg.name)
    };
    Some(format!(
        "{name}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
        test.alertname,
        model_duration(test.eval_time.0.as_millis() as i64),
        indent(&alerts_string(&exp), "            "),
        indent(&alerts_string(&got), "            ")
    ))
}

fn check_expr(test: &ExprTest, engine: &Engine, store: &MemStore) -> Option<String> {
    let t = test.eval_time.0.as_millis() as i64;
    let head = format!(
        "    expr: {}, time: {}",
        go_quote(&test.expr),
        model_duration(t)
    );
    let got: Vec<(Labels, f64)> = match engine.instant(store, &test.expr, t) {
        Ok(r) => match r.value {
            PromValue::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect(),
            PromValue::Scalar { v, .. } => vec![(Labels::from_pairs(Vec::new()), v)],
            _ => return Some(format!("{head}, err: expression evaluated to a string")),
        },
        Err(e) => {
            // The engine words parse errors for the HTTP API; promtool
            // prints the parser's own.
            let e = e.to_string();
            let e = e
                .strip_prefix("invalid parameter \"query\": ")
                .unwrap_or(&e);
            return Some(format!("{head}, err: {e}"));
        }
    };
    let mut exp = Vec::new();
    for s in &test.exp_samples {
        match series_labels(&s.labels) {
            Ok(l) => exp.push((l, s.value)),
            Err(e) => return Some(format!("{head}, err: labels {:?}: {e}", s.labels)),
        }
    }
    let mut got = got;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    exp.sort_by(|a, b| a.0.cmp(&b.0));
    // Go's reflect.DeepEqual on floats: NaN never equals NaN.
    let same =
        got.len() == exp.len() && got.iter().zip(&exp).all(|(g, e)| g.0 == e.0 && g.1 == e.1);
    if same {
        return None;
    }
    Some(format!(
        "{head},\n        exp: {}\n        got: {}",
        samples_string(&exp),
        samples_string(&got)
    ))
}

fn map_labels(m: &BTreeMap<String, String>) -> Labels {
    Labels::from_pairs(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// promtool's `labelsAndAnnotations.String()`.
fn alerts_string(alerts: &[Firing]) -> String {
    if alerts.is_empty() {
        return "[]".into();
    }
    let one = |(l, a): &Firing| format!("Labels:{l}\nAnnotations:{a}");
    let mut s = format!("[\n0:{}", indent(&format!("\n{}", one(&alerts[0])), "  "));
    for (i, a) in alerts.iter().enumerate().skip(1) {
        s.push_str(&format!(
            ",\n{i}:{}",
            indent(&format!("\n{}", one(a)), "  ")
        ));
    }
    s.push_str("\n]");
    s
}

/// promtool's `parsedSamplesString`.
fn samples_string(samples: &[(Labels, f64)]) -> String {
    if samples.is_empty() {
        return "nil".into();
    }
    samples
        .iter()
        .map(|(l, v)| format!("{l} {}", format_e_shortest(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// promtool's `indentLines`: every line but the first gets `indent`.
fn indent(text: &str, indent: &str) -> String {
    let mut lines = text.split('\n');
    let mut out = lines.next().unwrap_or("").to_owned();
    for l in lines {
        out.push('\n');
        out.push_str(indent);
        out.push_str(l);
    }
    out
}

/// Prometheus's `model.Duration` printing: `5m`, `1h30m`, `0s`, `2w`.
pub fn model_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut ms = ms;
    let mut out = String::new();
    for (unit, mult, exact) in [
        ("y", 365 * 86_400_000, true),
        ("w", 7 * 86_400_000, true),
        ("d", 86_400_000, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ] {
        if exact && ms % mult != 0 {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            out.push_str(&format!("{v}{unit}"));
            ms -= v * mult;
        }
    }
    out
}

/// Go's `time.Duration` printing for whole milliseconds: `2m0s`, `1h0m0s`.
pub fn go_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m) = (ms / 3_600_000, (ms / 60_000) % 60);
    let s = (ms % 60_000) as f64 / 1000.0;
    let secs = crate::template::format_g(s, None);
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}

#[cfg(test)]
#[path = "unittest_tests.rs"]
mod tests;
