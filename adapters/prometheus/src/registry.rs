//! A `prometheus` crate registry → OTLP.
//!
//! The agent instruments itself with the `prometheus` crate; converting what
//! the registry gathers into OTLP lets it ship its own metrics down the same
//! OTLP pipe as everything else, and [`otlp_to_series`](super::otlp_to_series)
//! turns them back into the names the text exposition would show.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prometheus::proto::{self as promproto, MetricFamily, MetricType};

/// Converts gathered families into one `ResourceMetrics` (with `resource`
/// attributes) holding one scope named `scope_name`.
///
/// Counter → monotonic cumulative Sum (name without `_total`, which the
/// OTLP → Prometheus mapping adds back); gauge and untyped → Gauge;
/// histogram → cumulative explicit-bucket Histogram; summary → Summary.
/// Labels become string attributes. Points without their own timestamp get
/// `now_unix_nanos`. Start times are unknown to the registry and left 0.
pub fn registry_to_otlp(
    families: &[MetricFamily],
    resource: Vec<KeyValue>,
    scope_name: &str,
    now_unix_nanos: u64,
) -> ExportMetricsServiceRequest {
    let metrics = families
        .iter()
        .map(|mf| convert_family(mf, now_unix_nanos))
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: scope_name.to_string(),
                    ..Default::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn convert_family(mf: &MetricFamily, now: u64) -> Metric {
    let kind = mf.type_();
    let name = match kind {
        MetricType::COUNTER => mf.name().strip_suffix("_total").unwrap_or(mf.name()),
        _ => mf.name(),
    };
    let cumulative = AggregationTemporality::Cumulative as i32;
    let data = match kind {
        MetricType::COUNTER => Data::Sum(Sum {
            data_points: mf
                .metric
                .iter()
                .map(|m| number_point(m, m.counter.value(), now))
                .collect(),
            aggregation_temporality: cumulative,
            is_monotonic: true,
        }),
        MetricType::GAUGE => Data::Gauge(Gauge {
            data_points: mf
                .metric
                .iter()
                .map(|m| number_point(m, m.gauge.value(), now))
                .collect(),
        }),
        MetricType::UNTYPED => Data::Gauge(Gauge {
            data_points: mf
                .metric
                .iter()
                .map(|m| number_point(m, m.untyped.value(), now))
                .collect(),
        }),
        MetricType::HISTOGRAM => Data::Histogram(Histogram {
            data_points: mf.metric.iter().map(|m| histogram_point(m, now)).collect(),
            aggregation_temporality: cumulative,
        }),
        MetricType::SUMMARY => Data::Summary(Summary {
            data_points: mf.metric.iter().map(|m| summary_point(m, now)).collect(),
        }),
    };
    Metric {
        name: name.to_string(),
        description: mf.help().to_string(),
        data: Some(data),
        ..Default::default()
    }
}

fn attributes(m: &promproto::Metric) -> Vec<KeyValue> {
    m.label
        .iter()
        .map(|lp| KeyValue {
            key: lp.name().to_string(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(lp.value().to_string())),
            }),
            ..Default::default()
        })
        .collect()
}

fn time_of(m: &promproto::Metric, now: u64) -> u64 {
    match m.timestamp_ms {
        Some(ms) => u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000),
        None => now,
    }
}

fn number_point(m: &promproto::Metric, value: f64, now: u64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attributes(m),
        time_unix_nano: time_of(m, now),
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn histogram_point(m: &promproto::Metric, now: u64) -> HistogramDataPoint {
    let h = &*m.histogram;
    // Prometheus buckets are cumulative and may or may not list +Inf; OTLP
    // wants per-bucket counts with an implicit last (+Inf) bucket.
    let mut explicit_bounds = Vec::with_capacity(h.bucket.len());
    let mut bucket_counts = Vec::with_capacity(h.bucket.len() + 1);
    let mut previous = 0u64;
    for b in h.bucket.iter().filter(|b| b.upper_bound() != f64::INFINITY) {
        explicit_bounds.push(b.upper_bound());
        bucket_counts.push(b.cumulative_count().saturating_sub(previous));
        previous = b.cumulative_count();
    }
    bucket_counts.push(h.sample_count().saturating_sub(previous));
    HistogramDataPoint {
        attributes: attributes(m),
        time_unix_nano: time_of(m, now),
        count: h.sample_count(),
        sum: Some(h.sample_sum()),
        bucket_counts,
        explicit_bounds,
        ..Default::default()
    }
}

fn summary_point(m: &promproto::Metric, now: u64) -> SummaryDataPoint {
    let s = &*m.summary;
    SummaryDataPoint {
        attributes: attributes(m),
        time_unix_nano: time_of(m, now),
        count: s.sample_count(),
        sum: s.sample_sum(),
        quantile_values: s
            .quantile
            .iter()
            .map(|q| ValueAtQuantile {
                quantile: q.quantile(),
                value: q.value(),
            })
            .collect(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::Series;

    use crate::otlp_to_series;
    use prometheus::{Encoder, HistogramOpts, Opts, Registry, TextEncoder};
    use std::collections::BTreeSet;

    /// (metric name, sorted labels, value as text) per sample line.
    type TextSamples = BTreeSet<(String, Vec<(String, String)>, String)>;

    /// Parses `name{a="b",...} value` text-exposition sample lines into
    /// (name, sorted labels, value), for comparison with mapped series.
    fn parse_text(text: &str) -> TextSamples {
        let mut out = BTreeSet::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (series, value) = line.rsplit_once(' ').expect("sample line");
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let mut pairs: Vec<(String, String)> = labels
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').expect("label pair");
                    (k.to_string(), v.trim_matches('"').to_string())
                })
                .collect();
            pairs.sort();
            out.insert((name.to_string(), pairs, value.to_string()));
        }
        out
    }

    fn as_text_triples(series: &[Series]) -> TextSamples {
        series
            .iter()
            .filter(|s| s.name() != Some("target_info"))
            .map(|s| {
                let mut labels: Vec<(String, String)> = s
                    .labels
                    .pairs()
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "__name__" | "job" | "otel_scope_name"))
                    .cloned()
                    .collect();
                labels.sort();
                assert_eq!(s.samples.len(), 1, "{s:?}");
                let v = s.samples[0].v;
                (
                    s.name().unwrap_or_default().to_string(),
                    labels,
                    v.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn registry_round_trips_through_otlp_to_the_text_exposition() {
        let registry = Registry::new();
        let counter = prometheus::IntCounterVec::new(
            Opts::new("sextant_requests_total", "Requests."),
            &["route"],
        )
        .expect("counter");
        let gauge = prometheus::Gauge::new("sextant_queue_depth", "Depth.").expect("gauge");
        let histogram = prometheus::Histogram::with_opts(
            HistogramOpts::new("sextant_latency_seconds", "Latency.")
                .buckets(vec![0.005, 0.5, 1.0, 2.5, 1e6]),
        )
        .expect("histogram");
        registry
            .register(Box::new(counter.clone()))
            .expect("register");
        registry
            .register(Box::new(gauge.clone()))
            .expect("register");
        registry
            .register(Box::new(histogram.clone()))
            .expect("register");
        counter.with_label_values(&["/a"]).inc_by(3);
        counter.with_label_values(&["/b"]).inc();
        gauge.set(7.5);
        for v in [0.001, 0.3, 0.7, 2.0, 9.0, 5e6] {
            histogram.observe(v);
        }

        let families = registry.gather();
        let mut text = String::new();
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&families, &mut buf)
            .expect("encode");
        text.push_str(std::str::from_utf8(&buf).expect("utf8"));

        let resource = vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("agent".into())),
            }),
            ..Default::default()
        }];
        let req = registry_to_otlp(
            &families,
            resource,
            "sextant-agent",
            1_700_000_000_000_000_000,
        );
        // OTLP names carry no `_total`.
        let names: Vec<&str> = req.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert!(names.contains(&"sextant_requests"), "{names:?}");

        let (series, rejected) = otlp_to_series(&req);
        assert!(rejected.is_empty(), "{rejected:?}");
        for s in &series {
            if s.name() != Some("target_info") {
                assert_eq!(s.labels.get("job"), Some("agent"));
                assert_eq!(s.labels.get("otel_scope_name"), Some("sextant-agent"));
                assert_eq!(s.samples[0].t, 1_700_000_000_000);
            }
        }
        assert_eq!(as_text_triples(&series), parse_text(&text), "text:\n{text}");
        assert!(text.contains(r#"le="1000000""#), "{text}");
    }
}
