//! Rule groups as the engine evaluates them: checked, typed, nothing left
//! to validate. Labels and annotations are kept sorted by name so output
//! and errors come in one order (Go's maps have none).

use std::collections::BTreeMap;
use std::time::Duration;

/// One group: rules evaluated in order at one timestamp every `interval`.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Unique within its file.
    pub name: String,
    /// `None`: the configured evaluation interval (Prometheus's global one).
    pub interval: Option<Duration>,
    /// Evaluate at `t - query_offset` (Prometheus 3); `None`: the global
    /// default (zero).
    pub query_offset: Option<Duration>,
    /// Most series or alerts one rule may produce; over it the rule's whole
    /// output is dropped and the rule errs. Zero: no limit.
    pub limit: usize,
    /// Added to every rule's output; a rule's own label of the same name wins.
    pub labels: BTreeMap<String, String>,
    /// In evaluation order.
    pub rules: Vec<Rule>,
}

/// A recording or an alerting rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// `record:` — the expression's result stored under a new name.
    Record(RecordingRule),
    /// `alert:` — each result element an alert.
    Alert(AlertingRule),
}

impl Rule {
    /// The record name or the alert name.
    pub fn name(&self) -> &str {
        match self {
            Rule::Record(r) => &r.record,
            Rule::Alert(a) => &a.alert,
        }
    }

    /// The rule's own labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        match self {
            Rule::Record(r) => &r.labels,
            Rule::Alert(a) => &a.labels,
        }
    }
}

/// `record: name`, `expr`, `labels`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordingRule {
    /// The metric name results are stored under.
    pub record: String,
    /// PromQL, known to parse.
    pub expr: String,
    /// Set on every result (not templated).
    pub labels: BTreeMap<String, String>,
}

/// `alert: name`, `expr`, `for`, `keep_firing_for`, `labels`, `annotations`.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertingRule {
    /// The `alertname` label of its alerts.
    pub alert: String,
    /// PromQL, known to parse.
    pub expr: String,
    /// How long an element must stay in the result before it fires.
    pub for_: Duration,
    /// How long a firing alert keeps firing after its element leaves.
    pub keep_firing_for: Duration,
    /// Templates, expanded per alert.
    pub labels: BTreeMap<String, String>,
    /// Templates, expanded per alert.
    pub annotations: BTreeMap<String, String>,
}
