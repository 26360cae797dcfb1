//! OTLP request → expected series, case by case.

use super::*;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, ResourceMetrics, Sum,
    Summary, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

const T: u64 = 1_700_000_000_123_456_789; // ns
const T_MS: i64 = 1_700_000_000_123;

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(key: &str, value: &str) -> KeyValue {
    kv(key, Value::StringValue(value.to_string()))
}

fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: None,
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.to_string(),
        unit: unit.to_string(),
        data: Some(data),
        ..Default::default()
    }
}

fn number(attrs: Vec<KeyValue>, v: number_data_point::Value) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: T,
        value: Some(v),
        ..Default::default()
    }
}

fn dbl(v: f64) -> number_data_point::Value {
    number_data_point::Value::AsDouble(v)
}

fn sum(monotonic: bool, temporality: AggregationTemporality, points: Vec<NumberDataPoint>) -> Data {
    Data::Sum(Sum {
        data_points: points,
        aggregation_temporality: temporality as i32,
        is_monotonic: monotonic,
    })
}

/// Series as (sorted labels, samples), for order-independent comparison.
fn expect(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> Series {
    let labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Series {
        labels: Labels::from_pairs(labels),
        samples: samples.iter().map(|&(t, v)| Sample { t, v }).collect(),
    }
}

fn sorted(mut series: Vec<Series>) -> Vec<Series> {
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    series
}

fn check(req: &ExportMetricsServiceRequest, want: Vec<Series>, want_rejected: usize) {
    let (got, rejected) = otlp_to_series(req);
    assert_eq!(rejected.len(), want_rejected, "rejected: {rejected:?}");
    assert_eq!(sorted(got), sorted(want));
}

#[test]
fn sums_and_gauges() {
    let cases: Vec<(&str, Metric, Vec<Series>)> = vec![
        (
            "monotonic cumulative sum is a counter with _total",
            metric(
                "http.server.requests",
                "{request}",
                sum(
                    true,
                    AggregationTemporality::Cumulative,
                    vec![number(
                        vec![s("http.method", "GET")],
                        number_data_point::Value::AsInt(7),
                    )],
                ),
            ),
            vec![expect(
                &[
                    ("__name__", "http_server_requests_total"),
                    ("http_method", "GET"),
                ],
                &[(T_MS, 7.0)],
            )],
        ),
        (
            "non-monotonic sum is a gauge without _total or _ratio",
            metric(
                "queue.size",
                "1",
                sum(
                    false,
                    AggregationTemporality::Cumulative,
                    vec![number(vec![], dbl(-3.0))],
                ),
            ),
            vec![expect(&[("__name__", "queue_size")], &[(T_MS, -3.0)])],
        ),
        (
            "gauge in unit 1 gets _ratio",
            metric(
                "system.cpu.utilization",
                "1",
                Data::Gauge(Gauge {
                    data_points: vec![number(vec![], dbl(0.25))],
                }),
            ),
            vec![expect(
                &[("__name__", "system_cpu_utilization_ratio")],
                &[(T_MS, 0.25)],
            )],
        ),
        (
            "gauge in By gets _bytes; two points of one series merge in time order",
            metric(
                "process.memory",
                "By",
                Data::Gauge(Gauge {
                    data_points: vec![
                        number(vec![], dbl(20.0)),
                        NumberDataPoint {
                            time_unix_nano: T - 15_000_000_000,
                            ..number(vec![], dbl(10.0))
                        },
                    ],
                }),
            ),
            vec![expect(
                &[("__name__", "process_memory_bytes")],
                &[(T_MS - 15_000, 10.0), (T_MS, 20.0)],
            )],
        ),
    ];
    for (what, m, want) in cases {
        let (got, rejected) = otlp_to_series(&request(vec![], vec![m]));
        assert!(rejected.is_empty(), "{what}: {rejected:?}");
        assert_eq!(sorted(got), sorted(want), "{what}");
    }
}

#[test]
fn histogram_buckets_are_accumulated_with_prometheus_le() {
    let h = metric(
        "http.server.duration",
        "s",
        Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                attributes: vec![s("route", "/")],
                time_unix_nano: T,
                count: 10,
                sum: Some(4.5),
                bucket_counts: vec![1, 2, 3, 0, 4],
                explicit_bounds: vec![0.005, 1.0, 2.5, 1e6],
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        }),
    );
    let name = "http_server_duration_seconds";
    let bucket = format!("{name}_bucket");
    let want = vec![
        expect(
            &[("__name__", &format!("{name}_sum")), ("route", "/")],
            &[(T_MS, 4.5)],
        ),
        expect(
            &[("__name__", &format!("{name}_count")), ("route", "/")],
            &[(T_MS, 10.0)],
        ),
        expect(
            &[("__name__", &bucket), ("route", "/"), ("le", "0.005")],
            &[(T_MS, 1.0)],
        ),
        expect(
            &[("__name__", &bucket), ("route", "/"), ("le", "1")],
            &[(T_MS, 3.0)],
        ),
        expect(
            &[("__name__", &bucket), ("route", "/"), ("le", "2.5")],
            &[(T_MS, 6.0)],
        ),
        expect(
            &[("__name__", &bucket), ("route", "/"), ("le", "1000000")],
            &[(T_MS, 6.0)],
        ),
        expect(
            &[("__name__", &bucket), ("route", "/"), ("le", "+Inf")],
            &[(T_MS, 10.0)],
        ),
    ];
    check(&request(vec![], vec![h]), want, 0);
}

#[test]
fn histogram_without_sum_has_no_sum_series() {
    let h = metric(
        "latency",
        "ms",
        Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                time_unix_nano: T,
                count: 2,
                sum: None,
                bucket_counts: vec![2, 0],
                explicit_bounds: vec![100.0],
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        }),
    );
    let (got, _) = otlp_to_series(&request(vec![], vec![h]));
    let names: Vec<&str> = got.iter().filter_map(|s| s.name()).collect();
    assert!(!names.contains(&"latency_milliseconds_sum"), "{names:?}");
    assert!(names.contains(&"latency_milliseconds_count"), "{names:?}");
    assert_eq!(got.len(), 3); // count, le=100, le=+Inf
}

#[test]
fn summary_has_quantiles_sum_and_count() {
    let m = metric(
        "rpc.duration",
        "ms",
        Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                time_unix_nano: T,
                count: 5,
                sum: 12.5,
                quantile_values: vec![
                    ValueAtQuantile {
                        quantile: 0.5,
                        value: 2.0,
                    },
                    ValueAtQuantile {
                        quantile: 0.99,
                        value: 9.0,
                    },
                    ValueAtQuantile {
                        quantile: 1.0,
                        value: 10.0,
                    },
                ],
                ..Default::default()
            }],
        }),
    );
    let n = "rpc_duration_milliseconds";
    let want = vec![
        expect(&[("__name__", &format!("{n}_sum"))], &[(T_MS, 12.5)]),
        expect(&[("__name__", &format!("{n}_count"))], &[(T_MS, 5.0)]),
        expect(&[("__name__", n), ("quantile", "0.5")], &[(T_MS, 2.0)]),
        expect(&[("__name__", n), ("quantile", "0.99")], &[(T_MS, 9.0)]),
        expect(&[("__name__", n), ("quantile", "1")], &[(T_MS, 10.0)]),
    ];
    check(&request(vec![], vec![m]), want, 0);
}

#[test]
fn unmappable_metrics_are_rejected_and_counted() {
    let two = vec![
        number(vec![], dbl(1.0)),
        number(vec![s("a", "b")], dbl(2.0)),
    ];
    let cases: Vec<(Metric, u64, &str)> = vec![
        (
            metric(
                "d",
                "",
                sum(true, AggregationTemporality::Delta, two.clone()),
            ),
            2,
            "delta temporality",
        ),
        (
            metric(
                "dh",
                "",
                Data::Histogram(Histogram {
                    data_points: vec![HistogramDataPoint::default()],
                    aggregation_temporality: AggregationTemporality::Delta as i32,
                }),
            ),
            1,
            "delta temporality",
        ),
        (
            metric(
                "u",
                "",
                sum(true, AggregationTemporality::Unspecified, two.clone()),
            ),
            2,
            "unspecified aggregation temporality",
        ),
        (
            metric(
                "e",
                "",
                Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: vec![ExponentialHistogramDataPoint::default(); 3],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            ),
            3,
            "exponential histograms",
        ),
        (
            metric(
                "@@@",
                "",
                Data::Gauge(Gauge {
                    data_points: two.clone(),
                }),
            ),
            2,
            "empty name",
        ),
        (
            metric(
                "novalue",
                "",
                Data::Gauge(Gauge {
                    data_points: vec![NumberDataPoint {
                        time_unix_nano: T,
                        ..Default::default()
                    }],
                }),
            ),
            1,
            "no value",
        ),
        (
            metric(
                "badkey",
                "",
                Data::Gauge(Gauge {
                    data_points: vec![number(vec![s("...", "x")], dbl(1.0))],
                }),
            ),
            1,
            "invalid label name",
        ),
        (
            metric(
                "empty",
                "",
                Data::Gauge(Gauge {
                    data_points: vec![],
                }),
            ),
            0,
            "empty data points",
        ),
    ];
    for (m, points, why) in cases {
        let name = m.name.clone();
        let (got, rejected) = otlp_to_series(&request(vec![], vec![m]));
        assert!(got.is_empty(), "{name}: {got:?}");
        assert_eq!(rejected.len(), 1, "{name}: {rejected:?}");
        assert_eq!(rejected[0].data_points, points, "{name}");
        assert!(
            rejected[0].reason.contains(why),
            "{name}: {}",
            rejected[0].reason
        );
        assert!(
            rejected[0].reason.contains(&format!("{name:?}")),
            "{}",
            rejected[0].reason
        );
    }
}

#[test]
fn good_points_survive_next_to_bad_ones() {
    let m = metric(
        "g",
        "",
        Data::Gauge(Gauge {
            data_points: vec![
                number(vec![], dbl(1.0)),
                NumberDataPoint {
                    time_unix_nano: T,
                    ..Default::default()
                },
            ],
        }),
    );
    let (got, rejected) = otlp_to_series(&request(vec![], vec![m]));
    assert_eq!(got, vec![expect(&[("__name__", "g")], &[(T_MS, 1.0)])]);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].data_points, 1);
}

#[test]
fn resource_maps_to_job_instance_and_target_info() {
    let resource = vec![
        s("service.name", "checkout"),
        s("service.namespace", "shop"),
        s("service.instance.id", "pod-1"),
        s("host.name", "node-7"),
        kv("k8s.replicas", Value::IntValue(3)),
    ];
    let later = T + 400_000_000_000; // 400 s later
    let m = metric(
        "up",
        "",
        Data::Gauge(Gauge {
            data_points: vec![
                number(vec![], dbl(1.0)),
                NumberDataPoint {
                    time_unix_nano: later,
                    ..number(vec![], dbl(1.0))
                },
            ],
        }),
    );
    let later_ms = T_MS + 400_000;
    let id = [("job", "shop/checkout"), ("instance", "pod-1")];
    let want = vec![
        expect(
            &[("__name__", "up"), id[0], id[1]],
            &[(T_MS, 1.0), (later_ms, 1.0)],
        ),
        // Every 150 s from the earliest point, then the latest.
        expect(
            &[
                ("__name__", "target_info"),
                id[0],
                id[1],
                ("host_name", "node-7"),
                ("k8s_replicas", "3"),
            ],
            &[
                (T_MS, 1.0),
                (T_MS + 150_000, 1.0),
                (T_MS + 300_000, 1.0),
                (later_ms, 1.0),
            ],
        ),
    ];
    check(&request(resource, vec![m]), want, 0);
}

#[test]
fn job_without_namespace_and_no_target_info_for_identity_only_resources() {
    let resource = vec![s("service.name", "api"), s("service.instance.id", "i-1")];
    let m = metric(
        "up",
        "",
        Data::Gauge(Gauge {
            data_points: vec![number(vec![], dbl(1.0))],
        }),
    );
    let want = vec![expect(
        &[("__name__", "up"), ("job", "api"), ("instance", "i-1")],
        &[(T_MS, 1.0)],
    )];
    check(&request(resource, vec![m]), want, 0);
}

#[test]
fn target_info_needs_job_or_instance() {
    let m = metric(
        "up",
        "",
        Data::Gauge(Gauge {
            data_points: vec![number(vec![], dbl(1.0))],
        }),
    );
    let (got, _) = otlp_to_series(&request(vec![s("host.name", "x")], vec![m]));
    assert_eq!(got, vec![expect(&[("__name__", "up")], &[(T_MS, 1.0)])]);
}

#[test]
fn colliding_attribute_keys_are_joined_in_key_order() {
    let attrs = vec![
        s("foo_bar", "3"),
        s("foo.bar", "1"),
        s("foo-bar", "2"),
        kv("flag", Value::BoolValue(true)),
        kv("ratio", Value::DoubleValue(0.5)),
        s("empty", ""),
    ];
    let m = metric(
        "g",
        "",
        Data::Gauge(Gauge {
            data_points: vec![number(attrs, dbl(1.0))],
        }),
    );
    // Sorted original keys: "foo-bar" < "foo.bar" < "foo_bar".
    let want = vec![expect(
        &[
            ("__name__", "g"),
            ("foo_bar", "2;1;3"),
            ("flag", "true"),
            ("ratio", "0.5"),
        ],
        &[(T_MS, 1.0)],
    )];
    check(&request(vec![], vec![m]), want, 0);
}

#[test]
fn scope_becomes_otel_scope_labels() {
    let mut req = request(
        vec![],
        vec![metric(
            "g",
            "",
            Data::Gauge(Gauge {
                data_points: vec![number(vec![], dbl(1.0))],
            }),
        )],
    );
    let sm = &mut req.resource_metrics[0].scope_metrics[0];
    sm.scope = Some(InstrumentationScope {
        name: "io.sextant.agent".into(),
        version: "1.2.3".into(),
        attributes: vec![s("lib.kind", "core")],
        ..Default::default()
    });
    let want = vec![expect(
        &[
            ("__name__", "g"),
            ("otel_scope_name", "io.sextant.agent"),
            ("otel_scope_version", "1.2.3"),
            ("otel_scope_lib_kind", "core"),
        ],
        &[(T_MS, 1.0)],
    )];
    check(&req, want, 0);
}

#[test]
fn no_recorded_value_becomes_the_stale_marker() {
    let stale_point = NumberDataPoint {
        time_unix_nano: T,
        flags: DataPointFlags::NoRecordedValueMask as u32,
        ..Default::default()
    };
    let h = HistogramDataPoint {
        time_unix_nano: T,
        flags: DataPointFlags::NoRecordedValueMask as u32,
        sum: Some(1.0),
        count: 1,
        bucket_counts: vec![1, 0],
        explicit_bounds: vec![1.0],
        ..Default::default()
    };
    let req = request(
        vec![],
        vec![
            metric(
                "g",
                "",
                Data::Gauge(Gauge {
                    data_points: vec![stale_point],
                }),
            ),
            metric(
                "h",
                "",
                Data::Histogram(Histogram {
                    data_points: vec![h],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            ),
        ],
    );
    let (got, rejected) = otlp_to_series(&req);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(got.len(), 1 + 4); // g; h_sum, h_count, two buckets
    for s in got {
        assert_eq!(s.samples.len(), 1);
        assert_eq!(s.samples[0].v.to_bits(), STALE_NAN_BITS, "{s:?}");
    }
}
