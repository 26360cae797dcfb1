//! One rule group evaluated as Prometheus's `rules.Group.Eval` does: every
//! rule in order at one timestamp (minus `query_offset`), each seeing what
//! earlier rules of the same evaluation wrote; recording rules' results
//! under their new name, alerting rules' `ALERTS` and `ALERTS_FOR_STATE`;
//! a stale marker for every series a rule wrote last time and not this
//! time; each rule's health and last error kept for `/api/v1/rules`.
//!
//! The evaluation returns what to append and what to notify; it writes
//! nothing itself, so the caller decides where samples go and how alerts
//! are delivered.
//!
//! **Invariant:** a rule's failure (a query error, a duplicate label set,
//! a limit) is its own: it is recorded in its health and the group's other
//! rules still run.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use sextant_model::{Labels, Matcher, STALE_NAN_BITS, Sample, Series};
use sextant_promql::{Engine, Queryable, Value, VectorSample};

use crate::alert::{Alert, AlertSet, Context};
use crate::model::{Group, Rule};
use crate::template::{Env, sample};

/// How a rule fared at its last evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleHealth {
    /// `None` before the first evaluation.
    pub last_eval_ms: Option<i64>,
    /// Why the last evaluation failed; `None` when it succeeded.
    pub last_error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

/// What one evaluation produced.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    /// Samples to append: recorded series, `ALERTS`, `ALERTS_FOR_STATE`,
    /// and stale markers, all at the evaluation's query time.
    pub samples: Vec<Series>,
    /// Alerts to hand the notifier (Prometheus's `needsSending`).
    pub alerts: Vec<Alert>,
}

/// Settings every group shares.
pub struct Settings<'a> {
    /// Interval for groups that set none.
    pub default_interval: Duration,
    /// Prometheus's `--rules.alert.resend-delay` (1m).
    pub resend_delay: Duration,
    /// Templates' `$externalLabels`.
    pub external_labels: &'a BTreeMap<String, String>,
    /// Templates' `$externalURL`.
    pub external_url: &'a str,
}

/// A group and its rules' state across evaluations.
pub struct GroupRunner {
    group: Group,
    alerts: Vec<AlertSet>,
    written: Vec<HashSet<Labels>>,
    health: Vec<RuleHealth>,
}

impl GroupRunner {
    /// A group not yet evaluated.
    pub fn new(group: Group) -> GroupRunner {
        let n = group.rules.len();
        GroupRunner {
            group,
            alerts: vec![AlertSet::default(); n],
            written: vec![HashSet::new(); n],
            health: vec![RuleHealth::default(); n],
        }
    }

    /// The group.
    pub fn group(&self) -> &Group {
        &self.group
    }

    /// Each rule's health, in rule order.
    pub fn health(&self) -> &[RuleHealth] {
        &self.health
    }

    /// The alerts of rule `i` (empty for a recording rule).
    pub fn alerts(&self, i: usize) -> Vec<&Alert> {
        self.alerts.get(i).map(AlertSet::alerts).unwrap_or_default()
    }

    /// The group's interval under `settings`.
    pub fn interval(&self, settings: &Settings) -> Duration {
        self.group.interval.unwrap_or(settings.default_interval)
    }

    /// Evaluates every rule at `ts_ms` against `store`.
    pub fn eval(
        &mut self,
        engine: &Engine,
        store: &dyn Queryable,
        ts_ms: i64,
        settings: &Settings,
    ) -> Evaluation {
        let offset = self.group.query_offset.map_or(0, |d| d.as_millis() as i64);
        let t = ts_ms - offset;
        let interval_ms = self.interval(settings).as_millis() as i64;
        let mut out = Evaluation::default();
        for i in 0..self.group.rules.len() {
            let started = Instant::now();
            let rule = self.with_group_labels(i);
            let overlay = Overlay {
                base: store,
                added: &out.samples,
            };
            let query_env = |expr: &str| -> Result<Vec<crate::template::Value>, String> {
                match engine.instant(&overlay, expr, t) {
                    Ok(r) => match r.value {
                        Value::Vector(v) => Ok(v
                            .into_iter()
                            .map(|s| sample(&s.labels.pairs().iter().cloned().collect(), s.v))
                            .collect()),
                        Value::Scalar { v, .. } => Ok(vec![sample(&BTreeMap::new(), v)]),
                        _ => Err("query result is not a vector or scalar".into()),
                    },
                    Err(e) => Err(e.to_string()),
                }
            };
            let env = Env {
                query: &query_env,
                external_url: settings.external_url,
            };
            let result = match &rule {
                Rule::Record(r) => instant_vector(engine, &overlay, &r.expr, t)
                    .and_then(|v| record(&r.record, &r.labels, v, self.group.limit)),
                Rule::Alert(a) => instant_vector(engine, &overlay, &a.expr, t).and_then(|v| {
                    let ctx = Context {
                        external_labels: settings.external_labels,
                        external_url: settings.external_url,
                    };
                    let live = self.alerts[i]
                        .eval(a, v, ts_ms, self.group.limit, &ctx, &env)
                        .map_err(|e| e.to_string())?;
                    Ok(alert_series(live, t))
                }),
            };
            let health = &mut self.health[i];
            health.last_eval_ms = Some(ts_ms);
            health.duration = started.elapsed();
            match result {
                Ok(series) => {
                    health.last_error = None;
                    let now: HashSet<Labels> = series.iter().map(|s| s.labels.clone()).collect();
                    for gone in self.written[i].difference(&now) {
                        out.samples.push(Series {
                            labels: gone.clone(),
                            samples: vec![Sample {
                                t,
                                v: f64::from_bits(STALE_NAN_BITS),
                            }],
                        });
                    }
                    self.written[i] = now;
                    out.samples.extend(series);
                }
                Err(e) => health.last_error = Some(e),
            }
            if matches!(rule, Rule::Alert(_)) {
                out.alerts.extend(self.alerts[i].to_send(
                    ts_ms,
                    settings.resend_delay.as_millis() as i64,
                    interval_ms,
                ));
            }
        }
        out
    }

    /// Rule `i` with the group's labels under its own (Prometheus 3).
    fn with_group_labels(&self, i: usize) -> Rule {
        let mut rule = self.group.rules[i].clone();
        if self.group.labels.is_empty() {
            return rule;
        }
        let merge = |own: &mut BTreeMap<String, String>| {
            for (k, v) in &self.group.labels {
                own.entry(k.clone()).or_insert_with(|| v.clone());
            }
        };
        match &mut rule {
            Rule::Record(r) => merge(&mut r.labels),
            Rule::Alert(a) => merge(&mut a.labels),
        }
        rule
    }
}

/// An instant query as a rule reads it: a scalar is one element without
/// labels, anything else but a vector is an error.
fn instant_vector(
    engine: &Engine,
    q: &dyn Queryable,
    expr: &str,
    t: i64,
) -> Result<Vec<VectorSample>, String> {
    match engine.instant(q, expr, t).map_err(|e| e.to_string())?.value {
        Value::Vector(v) => Ok(v),
        Value::Scalar { v, .. } => Ok(vec![VectorSample {
            labels: Labels::from_pairs(Vec::new()),
            t,
            v,
        }]),
        _ => Err("rule result is not a vector or scalar".into()),
    }
}

/// A recording rule's output: each element under the new name with the
/// rule's labels (an empty one removes the label).
fn record(
    name: &str,
    labels: &BTreeMap<String, String>,
    v: Vec<VectorSample>,
    limit: usize,
) -> Result<Vec<Series>, String> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(v.len());
    for s in v {
        let mut l: BTreeMap<String, String> = s.labels.pairs().iter().cloned().collect();
        l.insert("__name__".into(), name.to_owned());
        for (k, val) in labels {
            l.insert(k.clone(), val.clone());
        }
        let labels = Labels::from_pairs(l.into_iter().filter(|(_, v)| !v.is_empty()).collect());
        if !seen.insert(labels.clone()) {
            return Err(
                "vector contains metrics with the same labelset after applying rule labels".into(),
            );
        }
        out.push(Series {
            labels,
            samples: vec![Sample { t: s.t, v: s.v }],
        });
    }
    if limit > 0 && out.len() > limit {
        return Err(format!(
            "exceeded limit of {limit} with {} series",
            out.len()
        ));
    }
    Ok(out)
}

/// `ALERTS{…, alertstate} = 1` and `ALERTS_FOR_STATE{…} = activeAt` (Unix
/// seconds) for each pending or firing alert.
fn alert_series(live: Vec<&Alert>, t: i64) -> Vec<Series> {
    let mut out = Vec::with_capacity(live.len() * 2);
    for a in live {
        let mut alerts = a.labels.pairs().to_vec();
        alerts.push(("__name__".into(), "ALERTS".into()));
        alerts.push(("alertstate".into(), a.state.as_str().into()));
        out.push(Series {
            labels: Labels::from_pairs(alerts),
            samples: vec![Sample { t, v: 1.0 }],
        });
        let mut state = a.labels.pairs().to_vec();
        state.push(("__name__".into(), "ALERTS_FOR_STATE".into()));
        out.push(Series {
            labels: Labels::from_pairs(state),
            samples: vec![Sample {
                t,
                v: (a.active_at_ms / 1000) as f64,
            }],
        });
    }
    out
}

/// The store plus what this evaluation has written so far, so later rules
/// see earlier rules' output at the same timestamp.
struct Overlay<'a> {
    base: &'a dyn Queryable,
    added: &'a [Series],
}

impl Queryable for Overlay<'_> {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<Series> {
        let mut out = self.base.select(matchers, start_ms, end_ms);
        for s in self.added.iter().filter(|s| s.labels.matches(matchers)) {
            let samples: Vec<Sample> = s
                .samples
                .iter()
                .filter(|x| x.t >= start_ms && x.t <= end_ms)
                .copied()
                .collect();
            if samples.is_empty() {
                continue;
            }
            match out.binary_search_by(|o| o.labels.cmp(&s.labels)) {
                Ok(i) => {
                    let merged = &mut out[i].samples;
                    merged.retain(|x| !samples.iter().any(|y| y.t == x.t));
                    merged.extend(samples);
                    merged.sort_by_key(|x| x.t);
                }
                Err(i) => out.insert(
                    i,
                    Series {
                        labels: s.labels.clone(),
                        samples,
                    },
                ),
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
