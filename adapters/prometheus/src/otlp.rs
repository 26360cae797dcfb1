//! OTLP metrics → Prometheus series.
//!
//! Implements the OpenTelemetry "Prometheus and OpenMetrics Compatibility"
//! mapping the way Prometheus's OTLP receiver does with its defaults
//! (`UnderscoreEscapingWithSuffixes`, target_info on, delta rejected), plus
//! scope promotion (`otel_scope_*` labels, as `promote_scope_metadata`).
//! Anything that cannot be mapped is returned as [`Rejected`] so the
//! receiver can answer with an OTLP partial success instead of dropping data
//! silently.

use std::collections::{BTreeMap, HashMap};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, DataPointFlags, HistogramDataPoint, Metric, NumberDataPoint,
    ScopeMetrics, SummaryDataPoint, metric::Data, number_data_point,
};

use sextant_model::{Labels, STALE_NAN_BITS, Sample, Series};

use super::names::{MetricKind, label_name, metric_name};
use super::values::{any_value_to_string, go_format_f};

/// Half the default PromQL lookback delta (5m): `target_info` gets a sample
/// at least this often between a resource's first and last point, as in
/// Prometheus, so joins against it never fall out of the lookback window.
const TARGET_INFO_INTERVAL_NANOS: u64 = 150 * 1_000_000_000;

/// Part of a request that could not be mapped: it is dropped, counted, and
/// reported to the sender as an OTLP partial success
/// (`rejected_data_points` is the sum of `data_points`, `error_message`
/// joins the reasons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// OTLP data points dropped for this reason (0 for metric-level problems
    /// such as a metric without data points).
    pub data_points: u64,
    /// Why, naming the metric, e.g. `metric "x": delta temporality is not
    /// supported`.
    pub reason: String,
}

/// Maps an OTLP export request to Prometheus series.
///
/// Series with identical label sets (e.g. several points of one metric) are
/// merged and their samples put in time order. See the module docs for the
/// mapping; what cannot be mapped (delta temporality, exponential
/// histograms, points without a value, names that normalize to nothing) is
/// returned in the second vector instead.
pub fn otlp_to_series(req: &ExportMetricsServiceRequest) -> (Vec<Series>, Vec<Rejected>) {
    let mut out = SeriesSet::default();
    let mut rejected = Vec::new();
    for rm in &req.resource_metrics {
        let resource_attrs: &[KeyValue] = rm
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        let resource = ResourceLabels::new(resource_attrs);
        let mut earliest = u64::MAX;
        let mut latest = 0u64;
        for sm in &rm.scope_metrics {
            let scope = scope_labels(sm);
            for metric in &sm.metrics {
                // Like Prometheus, rejected metrics still count for the
                // resource's time range.
                for t in point_times(metric) {
                    earliest = earliest.min(t);
                    latest = latest.max(t);
                }
                let ctx = PointContext {
                    resource: &resource,
                    scope: &scope,
                };
                convert_metric(metric, &ctx, &mut out, &mut rejected);
            }
        }
        if earliest != u64::MAX {
            add_target_info(
                resource_attrs,
                &resource,
                earliest,
                latest,
                &mut out,
                &mut rejected,
            );
        }
    }
    (out.finish(), rejected)
}

/// `job` and `instance`, derived from the resource's service identity.
struct ResourceLabels {
    job: Option<String>,
    instance: Option<String>,
}

const SERVICE_NAME: &str = "service.name";
const SERVICE_NAMESPACE: &str = "service.namespace";
const SERVICE_INSTANCE_ID: &str = "service.instance.id";

fn find_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a KeyValue> {
    attrs.iter().find(|kv| kv.key == key)
}

impl ResourceLabels {
    fn new(attrs: &[KeyValue]) -> Self {
        let job = find_attr(attrs, SERVICE_NAME).map(|name| {
            let name = any_value_to_string(name.value.as_ref());
            match find_attr(attrs, SERVICE_NAMESPACE) {
                Some(ns) => format!("{}/{}", any_value_to_string(ns.value.as_ref()), name),
                None => name,
            }
        });
        let instance =
            find_attr(attrs, SERVICE_INSTANCE_ID).map(|i| any_value_to_string(i.value.as_ref()));
        ResourceLabels { job, instance }
    }
}

/// `otel_scope_name`, `_version`, `_schema_url` and `otel_scope_<attr>`;
/// none when the scope is unnamed (as in Prometheus).
fn scope_labels(sm: &ScopeMetrics) -> Vec<(String, String)> {
    let Some(scope) = sm.scope.as_ref().filter(|s| !s.name.is_empty()) else {
        return Vec::new();
    };
    let mut labels = vec![
        ("otel_scope_name".to_string(), scope.name.clone()),
        ("otel_scope_version".to_string(), scope.version.clone()),
        ("otel_scope_schema_url".to_string(), sm.schema_url.clone()),
    ];
    for kv in &scope.attributes {
        // The `otel_scope_` prefix keeps the name valid whatever the key.
        if let Ok(name) = label_name(&format!("otel_scope_{}", kv.key)) {
            labels.push((name, any_value_to_string(kv.value.as_ref())));
        }
    }
    labels
}

struct PointContext<'a> {
    resource: &'a ResourceLabels,
    scope: &'a [(String, String)],
}

impl PointContext<'_> {
    /// The labels every series of one data point shares, in Prometheus's
    /// precedence: attributes (colliding keys joined with `;` in key
    /// order), then scope labels, then `job`/`instance`.
    fn base_labels(&self, attrs: &[KeyValue]) -> Result<BTreeMap<String, String>, String> {
        let mut labels = BTreeMap::new();
        attribute_labels(attrs, &[], &mut labels)?;
        for (k, v) in self.scope {
            labels.insert(k.clone(), v.clone());
        }
        insert_identity(self.resource, &mut labels);
        Ok(labels)
    }
}

fn attribute_labels(
    attrs: &[KeyValue],
    ignore: &[&str],
    labels: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    let mut sorted: Vec<&KeyValue> = attrs
        .iter()
        .filter(|kv| !ignore.contains(&kv.key.as_str()))
        .collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key)); // stable: equal keys keep order
    for kv in sorted {
        let name = label_name(&kv.key)?;
        let value = any_value_to_string(kv.value.as_ref());
        labels
            .entry(name)
            .and_modify(|existing| {
                existing.push(';');
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    Ok(())
}

fn insert_identity(resource: &ResourceLabels, labels: &mut BTreeMap<String, String>) {
    if let Some(job) = &resource.job {
        labels.insert("job".to_string(), job.clone());
    }
    if let Some(instance) = &resource.instance {
        labels.insert("instance".to_string(), instance.clone());
    }
}

/// Collects samples per distinct label set, keeping first-seen order.
#[derive(Default)]
struct SeriesSet {
    index: HashMap<Labels, usize>,
    series: Vec<Series>,
}

impl SeriesSet {
    /// Adds one sample to the series `base + extra + __name__=name`; empty
    /// label values are dropped (Prometheus treats them as absent).
    fn add(
        &mut self,
        base: &BTreeMap<String, String>,
        name: String,
        extra: Option<(&str, String)>,
        sample: (i64, f64),
    ) {
        let mut labels = base.clone();
        if let Some((k, v)) = extra {
            labels.insert(k.to_string(), v);
        }
        labels.insert("__name__".to_string(), name);
        // Already sorted by name; `from_pairs` drops the empty values.
        let labels = Labels::from_pairs(labels.into_iter().collect());
        let sample = Sample {
            t: sample.0,
            v: sample.1,
        };
        match self.index.get(&labels) {
            Some(&i) => self.series[i].samples.push(sample),
            None => {
                self.index.insert(labels.clone(), self.series.len());
                self.series.push(Series {
                    labels,
                    samples: vec![sample],
                });
            }
        }
    }

    fn finish(mut self) -> Vec<Series> {
        for s in &mut self.series {
            s.samples.sort_by_key(|p| p.t); // stable
        }
        self.series
    }
}

fn point_times(metric: &Metric) -> Vec<u64> {
    match &metric.data {
        Some(Data::Gauge(g)) => g.data_points.iter().map(|p| p.time_unix_nano).collect(),
        Some(Data::Sum(s)) => s.data_points.iter().map(|p| p.time_unix_nano).collect(),
        Some(Data::Histogram(h)) => h.data_points.iter().map(|p| p.time_unix_nano).collect(),
        Some(Data::ExponentialHistogram(h)) => {
            h.data_points.iter().map(|p| p.time_unix_nano).collect()
        }
        Some(Data::Summary(s)) => s.data_points.iter().map(|p| p.time_unix_nano).collect(),
        None => Vec::new(),
    }
}

/// OTLP nanoseconds → Prometheus milliseconds, truncating like Prometheus.
fn millis(time_unix_nano: u64) -> i64 {
    (time_unix_nano / 1_000_000) as i64
}

fn no_recorded_value(flags: u32) -> bool {
    flags & DataPointFlags::NoRecordedValueMask as u32 != 0
}

fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

fn convert_metric(
    metric: &Metric,
    ctx: &PointContext<'_>,
    out: &mut SeriesSet,
    rejected: &mut Vec<Rejected>,
) {
    let reject = |rejected: &mut Vec<Rejected>, n: usize, why: String| {
        rejected.push(Rejected {
            data_points: n as u64,
            reason: format!("metric {:?}: {why}", metric.name),
        });
    };
    let Some(data) = &metric.data else {
        reject(
            rejected,
            0,
            "metric has no data (unknown or unset type)".to_string(),
        );
        return;
    };
    let (kind, points, temporality) = match data {
        Data::Gauge(g) => (MetricKind::Gauge, g.data_points.len(), None),
        Data::Sum(s) => {
            let kind = if s.is_monotonic {
                MetricKind::MonotonicCounter
            } else {
                MetricKind::NonMonotonicCounter
            };
            (kind, s.data_points.len(), Some(s.aggregation_temporality))
        }
        Data::Histogram(h) => (
            MetricKind::Histogram,
            h.data_points.len(),
            Some(h.aggregation_temporality),
        ),
        Data::ExponentialHistogram(h) => {
            reject(
                rejected,
                h.data_points.len(),
                "exponential histograms are not representable as classic Prometheus series"
                    .to_string(),
            );
            return;
        }
        Data::Summary(s) => (MetricKind::Summary, s.data_points.len(), None),
    };
    if let Some(t) = temporality
        && t != AggregationTemporality::Cumulative as i32
    {
        let what = if t == AggregationTemporality::Delta as i32 {
            "delta temporality is not representable in Prometheus (only cumulative is)"
        } else {
            "unspecified aggregation temporality (only cumulative is representable)"
        };
        reject(rejected, points, what.to_string());
        return;
    }
    if points == 0 {
        reject(rejected, 0, "empty data points, metric dropped".to_string());
        return;
    }
    let name = match metric_name(&metric.name, &metric.unit, kind) {
        Ok(n) => n,
        Err(e) => {
            reject(rejected, points, e);
            return;
        }
    };
    let mut bad_points = BTreeMap::<String, u64>::new();
    let mut note = |why: String| *bad_points.entry(why).or_default() += 1;
    match data {
        Data::Gauge(g) => {
            for p in &g.data_points {
                if let Err(e) = add_number_point(p, &name, ctx, out) {
                    note(e);
                }
            }
        }
        Data::Sum(s) => {
            for p in &s.data_points {
                if let Err(e) = add_number_point(p, &name, ctx, out) {
                    note(e);
                }
            }
        }
        Data::Histogram(h) => {
            for p in &h.data_points {
                if let Err(e) = add_histogram_point(p, &name, ctx, out) {
                    note(e);
                }
            }
        }
        Data::Summary(s) => {
            for p in &s.data_points {
                if let Err(e) = add_summary_point(p, &name, ctx, out) {
                    note(e);
                }
            }
        }
        Data::ExponentialHistogram(_) => {}
    }
    for (why, n) in bad_points {
        reject(rejected, n as usize, why);
    }
}

fn add_number_point(
    p: &NumberDataPoint,
    name: &str,
    ctx: &PointContext<'_>,
    out: &mut SeriesSet,
) -> Result<(), String> {
    let value = if no_recorded_value(p.flags) {
        stale_nan()
    } else {
        match p.value {
            Some(number_data_point::Value::AsDouble(d)) => d,
            Some(number_data_point::Value::AsInt(i)) => i as f64,
            // The OTLP spec calls such a point invalid; Prometheus would
            // store 0, which is a lie, so we reject it instead.
            None => return Err("data point has no value".to_string()),
        }
    };
    let base = ctx.base_labels(&p.attributes)?;
    out.add(
        &base,
        name.to_string(),
        None,
        (millis(p.time_unix_nano), value),
    );
    Ok(())
}

fn add_histogram_point(
    p: &HistogramDataPoint,
    name: &str,
    ctx: &PointContext<'_>,
    out: &mut SeriesSet,
) -> Result<(), String> {
    let base = ctx.base_labels(&p.attributes)?;
    let t = millis(p.time_unix_nano);
    let stale = no_recorded_value(p.flags);
    let value = |v: f64| if stale { stale_nan() } else { v };
    // An absent sum means "not recorded" (e.g. negative observations), so
    // there is no `_sum` series at all rather than a 0.
    if let Some(sum) = p.sum {
        out.add(&base, format!("{name}_sum"), None, (t, value(sum)));
    }
    out.add(
        &base,
        format!("{name}_count"),
        None,
        (t, value(p.count as f64)),
    );
    // OTLP counts are per bucket; Prometheus `le` buckets are cumulative.
    let mut cumulative = 0u64;
    for (bound, count) in p.explicit_bounds.iter().zip(&p.bucket_counts) {
        cumulative = cumulative.saturating_add(*count);
        out.add(
            &base,
            format!("{name}_bucket"),
            Some(("le", go_format_f(*bound))),
            (t, value(cumulative as f64)),
        );
    }
    // The +Inf bucket is the total count, as Prometheus writes it.
    out.add(
        &base,
        format!("{name}_bucket"),
        Some(("le", "+Inf".to_string())),
        (t, value(p.count as f64)),
    );
    Ok(())
}

fn add_summary_point(
    p: &SummaryDataPoint,
    name: &str,
    ctx: &PointContext<'_>,
    out: &mut SeriesSet,
) -> Result<(), String> {
    let base = ctx.base_labels(&p.attributes)?;
    let t = millis(p.time_unix_nano);
    let stale = no_recorded_value(p.flags);
    let value = |v: f64| if stale { stale_nan() } else { v };
    out.add(&base, format!("{name}_sum"), None, (t, value(p.sum)));
    out.add(
        &base,
        format!("{name}_count"),
        None,
        (t, value(p.count as f64)),
    );
    for q in &p.quantile_values {
        out.add(
            &base,
            name.to_string(),
            Some(("quantile", go_format_f(q.quantile))),
            (t, value(q.value)),
        );
    }
    Ok(())
}

/// `target_info`: one gauge (value 1) per resource that has attributes
/// beyond its identity, carrying them as labels so they can be joined onto
/// any series by `job`/`instance`. Sampled from the resource's earliest to
/// its latest point every 2.5 minutes, and at the latest point.
fn add_target_info(
    attrs: &[KeyValue],
    resource: &ResourceLabels,
    earliest: u64,
    latest: u64,
    out: &mut SeriesSet,
    rejected: &mut Vec<Rejected>,
) {
    const IDENTIFYING: [&str; 3] = [SERVICE_NAMESPACE, SERVICE_NAME, SERVICE_INSTANCE_ID];
    let identifying = IDENTIFYING
        .iter()
        .filter(|k| find_attr(attrs, k).is_some())
        .count();
    if attrs.len() <= identifying {
        return; // only job/instance: target_info would say nothing new
    }
    let mut labels = BTreeMap::new();
    if let Err(e) = attribute_labels(attrs, &IDENTIFYING, &mut labels) {
        rejected.push(Rejected {
            data_points: 0,
            reason: format!("target_info: {e}"),
        });
        return;
    }
    insert_identity(resource, &mut labels);
    let has_identity = ["job", "instance"]
        .iter()
        .any(|k| labels.get(*k).is_some_and(|v| !v.is_empty()));
    if !has_identity {
        return; // nothing to join it on
    }
    let mut t = earliest;
    let mut last = None;
    while t < latest {
        out.add(&labels, "target_info".to_string(), None, (millis(t), 1.0));
        last = Some(millis(t));
        t = t.saturating_add(TARGET_INFO_INTERVAL_NANOS);
    }
    if last.is_none_or(|l| l < millis(latest)) {
        out.add(
            &labels,
            "target_info".to_string(),
            None,
            (millis(latest), 1.0),
        );
    }
}

#[cfg(test)]
mod tests;
