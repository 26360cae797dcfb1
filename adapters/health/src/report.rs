//! What one health check produced, and its conversion to OTLP metrics.
//!
//! A [`Report`] is plain data so the same result can answer a probe, be
//! logged, and be exported: [`report_to_otlp`] turns reports into one OTLP
//! request with the check's own metrics (gauges, and counters as monotonic
//! cumulative sums starting when the target started) plus the per-check
//! `sextant.check.*` metrics every kind shares.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::verdict::{Status, Verdict, redact_in_place};
use sextant_config::redact::Secrets;
use sextant_otlp::string_kv;

/// The instrumentation scope of every health-check metric.
pub const SCOPE_NAME: &str = "sextant.health";
/// Attribute naming the check's target on every data point, so several
/// targets can share one request and one resource.
pub const TARGET_ATTRIBUTE: &str = "sextant.check.target";
/// Attribute naming the check's kind on the `sextant.check.*` metrics.
pub const KIND_ATTRIBUTE: &str = "sextant.check.kind";

/// How a metric's values accumulate, which decides its OTLP type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A value that goes up and down (OTLP Gauge).
    Gauge,
    /// A count since the target started (OTLP monotonic cumulative Sum).
    Counter,
}

/// The fixed part of a metric: declared once as a `static`, shared by every
/// value, so names, units and descriptions live in one place per module.
#[derive(Debug, PartialEq, Eq)]
pub struct MetricDef {
    /// OpenTelemetry-style name, e.g. `"mysql.threads"`.
    pub name: &'static str,
    /// UCUM unit, e.g. `"s"`, `"By"`, `"{threads}"`, `"1"`.
    pub unit: &'static str,
    /// Gauge or counter.
    pub kind: MetricKind,
    /// One line for the OTLP description.
    pub description: &'static str,
}

/// One value a check measured.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// Which metric.
    pub def: &'static MetricDef,
    /// Attributes of this point (e.g. `kind=running`); the target is added on export.
    pub attributes: Vec<(&'static str, String)>,
    /// The value; NaN means "unknown" where a series must not go missing.
    pub value: f64,
}

impl MetricValue {
    /// A value without attributes.
    pub fn new(def: &'static MetricDef, value: f64) -> Self {
        MetricValue {
            def,
            attributes: Vec::new(),
            value,
        }
    }

    /// A value with one attribute.
    pub fn with(def: &'static MetricDef, key: &'static str, attr: &str, value: f64) -> Self {
        MetricValue {
            def,
            attributes: vec![(key, attr.to_string())],
            value,
        }
    }

    /// Adds an attribute.
    pub fn attr(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.attributes.push((key, value.into()));
        self
    }
}

/// Declares a `pub static` [`MetricDef`] — name, unit, kind, description —
/// so each metric is written down once, next to the code that measures it.
macro_rules! metric {
    ($id:ident, $name:literal, $unit:literal, $kind:ident, $doc:literal) => {
        #[doc = concat!("`", $name, "`: ", $doc)]
        pub static $id: $crate::report::MetricDef = $crate::report::MetricDef {
            name: $name,
            unit: $unit,
            kind: $crate::report::MetricKind::$kind,
            description: $doc,
        };
    };
}
pub(crate) use metric;

/// `true` as 1.0, `false` as 0.0.
pub fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Everything one run of one check produced.
#[derive(Debug, Clone)]
pub struct Report {
    /// The kind of check, e.g. `"mysql"`.
    pub kind: &'static str,
    /// What was checked, e.g. `"mysql://monitor@db:3306"`; never credentials.
    pub target: String,
    /// When the check started, Unix nanoseconds (the timestamp of every point).
    pub at_unix_nanos: u64,
    /// When the target's counters started counting (its start time), Unix
    /// nanoseconds; 0 when unknown. Start time of the cumulative sums.
    pub start_unix_nanos: u64,
    /// How long the check took, end to end.
    pub duration: Duration,
    /// Round trips made to the target (queries, requests), so the load a
    /// check puts on what it watches stays visible.
    pub operations: u32,
    /// Live, ready, degraded, with reasons.
    pub verdict: Verdict,
    /// The target's own metrics.
    pub metrics: Vec<MetricValue>,
}

impl Report {
    /// The report with `secrets` scrubbed from its target, every reason and
    /// every attribute value: what the kinds that log in apply before a
    /// report leaves them, so whatever the server echoed never reaches a
    /// probe answer, a log line or an exported point.
    pub fn redacted(mut self, secrets: &Secrets) -> Report {
        redact_in_place(&mut self.target, secrets);
        self.verdict.redact(secrets);
        for metric in &mut self.metrics {
            for (_, value) in &mut metric.attributes {
                redact_in_place(value, secrets);
            }
        }
        self
    }

    /// The first value of metric `name`, with an attribute equal to `attr`
    /// when one is given: for tests and for callers that judge one value.
    pub fn metric(&self, name: &str, attr: Option<&str>) -> Option<&MetricValue> {
        self.metrics.iter().find(|m| {
            m.def.name == name && attr.is_none_or(|a| m.attributes.iter().any(|(_, v)| v == a))
        })
    }
}

/// `sextant.check.live`: 1 if the target answered.
pub static CHECK_LIVE: MetricDef = MetricDef {
    name: "sextant.check.live",
    unit: "",
    kind: MetricKind::Gauge,
    description: "1 if the checked target answered (liveness verdict), else 0.",
};
/// `sextant.check.ready`: 1 if the target is ready for traffic in its role.
pub static CHECK_READY: MetricDef = MetricDef {
    name: "sextant.check.ready",
    unit: "",
    kind: MetricKind::Gauge,
    description: "1 if the checked target is ready in its role (readiness verdict), else 0.",
};
/// `sextant.check.degraded`: number of degraded reasons.
pub static CHECK_DEGRADED: MetricDef = MetricDef {
    name: "sextant.check.degraded",
    unit: "{reasons}",
    kind: MetricKind::Gauge,
    description: "Number of reasons the checked target is degraded (0 when none).",
};
/// `sextant.check.status{state}`: 1 for the current state, 0 for the others.
pub static CHECK_STATUS: MetricDef = MetricDef {
    name: "sextant.check.status",
    unit: "",
    kind: MetricKind::Gauge,
    description: "1 for the check's current state (ok, degraded, failed), 0 for the others.",
};
/// `sextant.check.duration`: how long the check took.
pub static CHECK_DURATION: MetricDef = MetricDef {
    name: "sextant.check.duration",
    unit: "s",
    kind: MetricKind::Gauge,
    description: "Wall time of the last check, end to end.",
};
/// `sextant.check.operations`: round trips one check made.
pub static CHECK_OPERATIONS: MetricDef = MetricDef {
    name: "sextant.check.operations",
    unit: "{operations}",
    kind: MetricKind::Gauge,
    description: "Round trips (queries, requests) the last check made to its target.",
};

/// The `sextant.check.*` values every report gets, whatever its kind.
pub fn check_metrics(report: &Report) -> Vec<MetricValue> {
    let v = &report.verdict;
    let status = v.status();
    let mut out = vec![
        MetricValue::new(&CHECK_LIVE, flag(v.live.ok)),
        MetricValue::new(&CHECK_READY, flag(v.ready.ok)),
        MetricValue::new(&CHECK_DEGRADED, v.degraded.len() as f64),
    ];
    for state in Status::ALL {
        out.push(MetricValue::with(
            &CHECK_STATUS,
            "state",
            state.as_str(),
            flag(state == status),
        ));
    }
    out.push(MetricValue::new(
        &CHECK_DURATION,
        report.duration.as_secs_f64(),
    ));
    out.push(MetricValue::new(
        &CHECK_OPERATIONS,
        f64::from(report.operations),
    ));
    for m in &mut out {
        m.attributes
            .insert(0, (KIND_ATTRIBUTE, report.kind.to_string()));
    }
    out
}

/// Converts reports into one OTLP request with one resource (`resource`
/// attributes) and one scope ([`SCOPE_NAME`]).
///
/// Values of the same metric name across reports share one OTLP `Metric`
/// (first definition wins). Every point carries [`TARGET_ATTRIBUTE`] and its
/// own attributes, is stamped `at_unix_nanos`, and counters get
/// `start_unix_nanos` as their start time.
pub fn report_to_otlp(reports: &[Report], resource: Vec<KeyValue>) -> ExportMetricsServiceRequest {
    let mut metrics: Vec<Metric> = Vec::new();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for report in reports {
        let common = check_metrics(report);
        for value in common.iter().chain(&report.metrics) {
            let point = data_point(report, value);
            let slot = *index.entry(value.def.name).or_insert_with(|| {
                metrics.push(empty_metric(value.def));
                metrics.len() - 1
            });
            match &mut metrics[slot].data {
                Some(Data::Gauge(g)) => g.data_points.push(point),
                Some(Data::Sum(s)) => s.data_points.push(point),
                _ => {}
            }
        }
    }
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: SCOPE_NAME.to_string(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    ..Default::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn empty_metric(def: &MetricDef) -> Metric {
    let data = match def.kind {
        MetricKind::Gauge => Data::Gauge(Gauge {
            data_points: Vec::new(),
        }),
        MetricKind::Counter => Data::Sum(Sum {
            data_points: Vec::new(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        }),
    };
    Metric {
        name: def.name.to_string(),
        description: def.description.to_string(),
        unit: def.unit.to_string(),
        data: Some(data),
        ..Default::default()
    }
}

fn data_point(report: &Report, value: &MetricValue) -> NumberDataPoint {
    let mut attributes = Vec::with_capacity(value.attributes.len() + 1);
    attributes.push(string_kv(TARGET_ATTRIBUTE, report.target.clone()));
    attributes.extend(
        value
            .attributes
            .iter()
            .map(|(k, v)| string_kv(k, v.clone())),
    );
    let start = match value.def.kind {
        MetricKind::Counter => report.start_unix_nanos,
        MetricKind::Gauge => 0,
    };
    NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: report.at_unix_nanos,
        value: Some(number_data_point::Value::AsDouble(value.value)),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{Judgement, Reason};
    use opentelemetry_proto::tonic::common::v1::any_value::Value;

    static UPTIME: MetricDef = MetricDef {
        name: "test.uptime",
        unit: "s",
        kind: MetricKind::Counter,
        description: "test counter",
    };
    static THREADS: MetricDef = MetricDef {
        name: "test.threads",
        unit: "{threads}",
        kind: MetricKind::Gauge,
        description: "test gauge",
    };

    fn report(target: &str, degraded: bool) -> Report {
        Report {
            kind: "test",
            target: target.to_string(),
            at_unix_nanos: 2_000,
            start_unix_nanos: 1_000,
            duration: Duration::from_millis(250),
            operations: 6,
            verdict: Verdict {
                live: Judgement::pass("answered"),
                ready: Judgement::pass("writable"),
                degraded: if degraded {
                    vec![Reason::new("connections", "90%")]
                } else {
                    vec![]
                },
            },
            metrics: vec![
                MetricValue::new(&UPTIME, 42.0),
                MetricValue::with(&THREADS, "kind", "running", 3.0),
            ],
        }
    }

    fn attr<'a>(p: &'a NumberDataPoint, key: &str) -> Option<&'a str> {
        p.attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
            match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => Some(s.as_str()),
                _ => None,
            }
        })
    }

    fn value(p: &NumberDataPoint) -> f64 {
        match p.value {
            Some(number_data_point::Value::AsDouble(v)) => v,
            _ => f64::NAN,
        }
    }

    #[test]
    fn counters_are_monotonic_cumulative_sums_from_the_target_start() {
        let req = report_to_otlp(&[report("a", false)], vec![string_kv("service.name", "x")]);
        let scope = &req.resource_metrics[0].scope_metrics[0];
        assert_eq!(
            scope.scope.as_ref().map(|s| s.name.as_str()),
            Some(SCOPE_NAME)
        );
        let uptime = scope
            .metrics
            .iter()
            .find(|m| m.name == "test.uptime")
            .expect("uptime exported");
        let Some(Data::Sum(sum)) = &uptime.data else {
            panic!("counter must be a Sum: {uptime:?}");
        };
        assert!(sum.is_monotonic);
        assert_eq!(
            sum.aggregation_temporality,
            AggregationTemporality::Cumulative as i32
        );
        let p = &sum.data_points[0];
        assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (1_000, 2_000));
        assert_eq!(attr(p, TARGET_ATTRIBUTE), Some("a"));
        assert_eq!(uptime.unit, "s");
    }

    #[test]
    fn reports_share_metrics_and_carry_check_status() {
        let req = report_to_otlp(&[report("a", false), report("b", true)], vec![]);
        let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
        let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "sextant.check.live",
                "sextant.check.ready",
                "sextant.check.degraded",
                "sextant.check.status",
                "sextant.check.duration",
                "sextant.check.operations",
                "test.uptime",
                "test.threads",
            ]
        );
        let status = metrics
            .iter()
            .find(|m| m.name == "sextant.check.status")
            .and_then(|m| match &m.data {
                Some(Data::Gauge(g)) => Some(g),
                _ => None,
            })
            .expect("status gauge");
        assert_eq!(status.data_points.len(), 6, "3 states x 2 targets");
        let current: Vec<(Option<&str>, Option<&str>)> = status
            .data_points
            .iter()
            .filter(|p| value(p) == 1.0)
            .map(|p| (attr(p, TARGET_ATTRIBUTE), attr(p, "state")))
            .collect();
        assert_eq!(
            current,
            [(Some("a"), Some("ok")), (Some("b"), Some("degraded"))]
        );
        let threads = metrics
            .iter()
            .find(|m| m.name == "test.threads")
            .expect("threads");
        let Some(Data::Gauge(g)) = &threads.data else {
            panic!("gauge expected");
        };
        assert_eq!(g.data_points[1].start_time_unix_nano, 0);
        assert_eq!(attr(&g.data_points[1], "kind"), Some("running"));
        assert_eq!(attr(&g.data_points[1], TARGET_ATTRIBUTE), Some("b"));
    }
}
