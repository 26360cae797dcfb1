//! One alerting rule's alerts and Prometheus's state machine over them
//! (`rules/alerting.go`): each result element is an alert, pending from
//! its first evaluation and firing once it has been active for `for`; an
//! element that leaves the result deletes a pending alert and resolves a
//! firing one (unless `keep_firing_for` still runs); resolved alerts stay
//! for fifteen minutes so they are re-sent; and which alerts need sending
//! follows Prometheus's resend delay and `ValidUntil` contract.
//!
//! **Invariant:** at most one alert per label set; a pending alert is
//! never sent; a resolved alert is sent at least once after it resolved.

use std::collections::{BTreeMap, HashMap};

use sextant_model::Labels;
use sextant_promql::VectorSample;

use crate::model::AlertingRule;
use crate::template::{AlertData, Env, expand_alert};

/// How long a resolved alert is kept (and re-sent), as Prometheus does.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60_000;

/// Where an alert is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    /// In the result, not yet for `for`.
    Pending,
    /// In the result for `for` (or kept firing).
    Firing,
    /// Resolved: no longer in the result.
    Inactive,
}

impl AlertState {
    /// The `alertstate` label value and the API's `state`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Inactive => "inactive",
        }
    }
}

/// One alert of a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// The result element's labels without `__name__`, the rule's
    /// (templated) labels, and `alertname`.
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: BTreeMap<String, String>,
    /// Now.
    pub state: AlertState,
    /// The element's value at the last evaluation.
    pub value: f64,
    /// When it first appeared in the result (ms).
    pub active_at_ms: i64,
    /// When it started firing.
    pub fired_at_ms: Option<i64>,
    /// When it resolved.
    pub resolved_at_ms: Option<i64>,
    /// When it was last handed to the notifier.
    pub last_sent_ms: Option<i64>,
    /// Until when the last send said it holds (`endsAt` of a firing alert).
    pub valid_until_ms: i64,
    /// Since when it has been kept firing after leaving the result.
    pub keep_firing_since_ms: Option<i64>,
}

/// Why an evaluation of a rule failed; the rule's health says so.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// Two elements made the same label set (Prometheus's
    /// `ErrDuplicateAlertLabelSet`).
    #[error("vector contains metrics with the same labelset after applying alert labels")]
    DuplicateLabelSet,
    /// More alerts than the group's `limit`.
    #[error("exceeded limit of {limit} with {count} alerts")]
    Limit {
        /// The group's limit.
        limit: usize,
        /// Alerts the evaluation made.
        count: usize,
    },
}

/// What templates need besides the alert: external labels and URL.
pub struct Context<'a> {
    /// Added to every alert (and visible as `$externalLabels`).
    pub external_labels: &'a BTreeMap<String, String>,
    /// `$externalURL`.
    pub external_url: &'a str,
}

/// The alerts of one rule, across evaluations.
#[derive(Clone, Debug, Default)]
pub struct AlertSet {
    active: HashMap<Labels, Alert>,
}

impl AlertSet {
    /// Alerts not yet forgotten (pending, firing, and resolved within the
    /// retention), in label order.
    pub fn alerts(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self.active.values().collect();
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        v
    }

    /// Applies one evaluation's result at `ts_ms`; returns the pending and
    /// firing alerts (for `ALERTS` and `ALERTS_FOR_STATE`).
    pub fn eval(
        &mut self,
        rule: &AlertingRule,
        result: Vec<VectorSample>,
        ts_ms: i64,
        limit: usize,
        ctx: &Context,
        env: &Env,
    ) -> Result<Vec<&Alert>, AlertError> {
        let mut fresh: HashMap<Labels, Alert> = HashMap::new();
        for s in result {
            let template_labels: BTreeMap<String, String> =
                s.labels.pairs().iter().cloned().collect();
            let data = AlertData {
                labels: &template_labels,
                external_labels: ctx.external_labels,
                external_url: ctx.external_url,
                value: s.v,
            };
            let mut labels: BTreeMap<String, String> = template_labels.clone();
            labels.remove("__name__");
            for (k, v) in &rule.labels {
                labels.insert(k.clone(), expand_alert(&rule.alert, v, &data, env));
            }
            let annotations = rule
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), expand_alert(&rule.alert, v, &data, env)))
                .collect();
            labels.insert("alertname".into(), rule.alert.clone());
            // An empty label value means no label, as in Prometheus.
            let labels =
                Labels::from_pairs(labels.into_iter().filter(|(_, v)| !v.is_empty()).collect());
            if fresh.contains_key(&labels) {
                return Err(AlertError::DuplicateLabelSet);
            }
            fresh.insert(
                labels.clone(),
                Alert {
                    labels,
                    annotations,
                    state: AlertState::Pending,
                    value: s.v,
                    active_at_ms: ts_ms,
                    fired_at_ms: None,
                    resolved_at_ms: None,
                    last_sent_ms: None,
                    valid_until_ms: 0,
                    keep_firing_since_ms: None,
                },
            );
        }
        let in_result: std::collections::HashSet<Labels> = fresh.keys().cloned().collect();
        for (key, a) in fresh {
            match self.active.get_mut(&key) {
                Some(old) if old.state != AlertState::Inactive => {
                    old.value = a.value;
                    old.annotations = a.annotations;
                }
                _ => {
                    self.active.insert(key, a);
                }
            }
        }
        let hold = rule.for_.as_millis() as i64;
        let keep_for = rule.keep_firing_for.as_millis() as i64;
        let mut gone = Vec::new();
        let mut live = 0;
        for (key, a) in self.active.iter_mut() {
            if !in_result.contains(key) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && keep_for > 0 {
                    let since = *a.keep_firing_since_ms.get_or_insert(ts_ms);
                    keep_firing = ts_ms - since < keep_for;
                }
                if a.state == AlertState::Pending
                    || a.resolved_at_ms
                        .is_some_and(|r| ts_ms - r > RESOLVED_RETENTION_MS)
                {
                    gone.push(key.clone());
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at_ms = Some(ts_ms);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since_ms = None;
            }
            live += 1;
            if a.state == AlertState::Pending && ts_ms - a.active_at_ms >= hold {
                a.state = AlertState::Firing;
                a.fired_at_ms = Some(ts_ms);
            }
        }
        for key in gone {
            self.active.remove(&key);
        }
        if limit > 0 && live > limit {
            self.active.clear();
            return Err(AlertError::Limit { limit, count: live });
        }
        let mut out: Vec<&Alert> = self
            .active
            .values()
            .filter(|a| a.state != AlertState::Inactive)
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }

    /// The alerts to hand the notifier at `ts_ms` (Prometheus's
    /// `needsSending`): firing ones not sent within `resend_delay_ms`, and
    /// resolved ones not sent since they resolved. Marks them sent and
    /// valid for four times the larger of the delay and the interval.
    pub fn to_send(&mut self, ts_ms: i64, resend_delay_ms: i64, interval_ms: i64) -> Vec<Alert> {
        let mut out = Vec::new();
        for a in self.active.values_mut() {
            let needs = match a.state {
                AlertState::Pending => false,
                _ if a
                    .resolved_at_ms
                    .is_some_and(|r| a.last_sent_ms.is_none_or(|s| r > s)) =>
                {
                    true
                }
                _ => a.last_sent_ms.is_none_or(|s| s + resend_delay_ms < ts_ms),
            };
            if needs {
                a.last_sent_ms = Some(ts_ms);
                a.valid_until_ms = ts_ms + 4 * resend_delay_ms.max(interval_ms);
                out.push(a.clone());
            }
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }
}

#[cfg(test)]
#[path = "alert_tests.rs"]
mod tests;
