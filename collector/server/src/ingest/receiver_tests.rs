//! Validation and series limits through every receiver: the bad item is
//! refused with 400 / INVALID_ARGUMENT (a new series past a limit: 429 /
//! RESOURCE_EXHAUSTED with `Retry-After`) naming it, and its good
//! neighbours in the same request are stored.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{NumberDataPoint, number_data_point};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use sextant_model::{Labels, Sample, Series};

use crate::api::error::RpcStatus;
use crate::otlp_grpc::{Receiver, Signal as GrpcSignal};
use crate::test_support::{collector, collector_with, gauge_request, get, post, qs};
use crate::{Collector, Limits};

const PB: (&str, &str) = ("content-type", "application/x-protobuf");

fn now_ms() -> i64 {
    super::now_ms()
}

fn wide_labels(name: &str, n: usize) -> Labels {
    let mut pairs = vec![
        ("__name__".to_string(), name.to_string()),
        ("job".to_string(), "rw".to_string()),
    ];
    pairs.extend((0..n).map(|i| (format!("l{i}"), "v".to_string())));
    Labels::from_pairs(pairs)
}

fn one(labels: Labels, t: i64) -> Series {
    Series {
        labels,
        samples: vec![Sample { t, v: 7.0 }],
    }
}

fn named(name: &str, job: &str) -> Labels {
    Labels::from_pairs(vec![
        ("__name__".to_string(), name.to_string()),
        ("job".to_string(), job.to_string()),
    ])
}

async fn remote_write(c: &Collector, series: &[Series]) -> crate::test_support::Answer {
    let body = sextant_prometheus::encode_remote_write(series);
    post(&c.app(), "/api/v1/write", &[PB], body).await
}

/// How many samples of `name` the API holds over the last hour.
async fn count(c: &Collector, name: &str) -> serde_json::Value {
    let q = qs(&[
        ("query", &format!("sum(count_over_time({name}[1h]))")),
        ("time", &(now_ms() / 1000 + 1).to_string()),
    ]);
    get(&c.app(), &format!("/api/v1/query?{q}")).await.json()["data"]["result"][0]["value"][1]
        .clone()
}

#[tokio::test]
async fn remote_write_refuses_the_bad_series_and_stores_its_neighbour() {
    let (c, _dir) = collector();
    let now = now_ms();
    for (what, bad, reason) in [
        (
            "10,000 labels",
            one(wide_labels("wide", 10_000), now),
            "has 10002 labels, limit max_label_names_per_series=64",
        ),
        (
            "a 1 MiB value",
            one(
                Labels::from_pairs(vec![
                    ("__name__".into(), "fat".into()),
                    ("v".into(), "x".repeat(1 << 20)),
                ]),
                now,
            ),
            "value of label \"v\" is 1048576 bytes, limit max_label_value_length=4096",
        ),
        (
            "a 70 KiB name",
            one(
                Labels::from_pairs(vec![
                    ("__name__".into(), "long".into()),
                    ("n".repeat(70 << 10), "1".into()),
                ]),
                now,
            ),
            "bytes, limit max_label_name_length=1024",
        ),
    ] {
        let good = one(named("good", what), now);
        let a = remote_write(&c, &[bad, good]).await;
        assert_eq!(a.status, 400, "{what}: {}", a.text());
        let text = a.text();
        assert!(text.contains(reason), "{what}: {text}");
        assert!(text.ends_with("; stored 1 samples"), "{what}: {text}");
        assert!(
            text.len() < 1000,
            "{what}: a bounded reason, not {} bytes",
            text.len()
        );
    }
    assert_eq!(count(&c, "good").await, "3");
    for gone in ["wide", "fat", "long"] {
        assert_eq!(count(&c, gone).await, serde_json::Value::Null, "{gone}");
    }
}

#[tokio::test]
async fn a_sample_from_the_future_is_refused_and_current_data_keeps_flowing() {
    let (c, _dir) = collector();
    let now = now_ms();
    let year = 365 * 24 * 3600 * 1000;
    for t in [now + year, i64::MAX] {
        let a = remote_write(&c, &[one(named("clock", "rw"), t)]).await;
        assert_eq!(a.status, 400, "{}", a.text());
        assert!(a.text().contains("too far in the future"), "{}", a.text());
    }
    let a = remote_write(&c, &[one(named("clock", "rw"), now)]).await;
    assert_eq!(a.status, 204, "{}", a.text());
    // Older than retention (100 years in the test collector) is refused too.
    let a = remote_write(&c, &[one(named("clock", "rw"), now - 101 * year)]).await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert!(a.text().contains("too old"), "{}", a.text());
    assert_eq!(count(&c, "clock").await, "1");
}

fn point(attrs: Vec<KeyValue>, t_ms: i64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: (t_ms * 1_000_000) as u64,
        value: Some(number_data_point::Value::AsDouble(1.0)),
        ..Default::default()
    }
}

fn wide_attrs(n: usize) -> Vec<KeyValue> {
    (0..n)
        .map(|i| sextant_otlp::string_kv(&format!("a{i}"), "v"))
        .collect()
}

#[tokio::test]
async fn otlp_http_answers_400_with_a_status_and_stores_the_rest() {
    let (c, _dir) = collector();
    let now = now_ms();
    let req = gauge_request(
        "otlp_gauge",
        vec![
            point(wide_attrs(10_000), now),
            point(vec![sextant_otlp::string_kv("k", "good")], now),
        ],
    );
    let a = post(
        &c.otlp_http_router(),
        "/v1/metrics",
        &[PB],
        req.encode_to_vec(),
    )
    .await;
    assert_eq!(a.status, 400);
    let status = RpcStatus::decode(a.body.as_ref()).expect("a google.rpc.Status");
    assert_eq!(status.code, tonic::Code::InvalidArgument as i32);
    assert!(
        status
            .message
            .starts_with("refused 1 samples: otlp_gauge{a0=\"v\", a1=\"v\", a10=\"v\", … "),
        "{}",
        status.message
    );
    assert!(
        status.message.ends_with("stored 1 samples"),
        "{}",
        status.message
    );
    assert_eq!(count(&c, "otlp_gauge").await, "1");
}

#[tokio::test]
async fn otlp_grpc_answers_invalid_argument_and_stores_the_rest() {
    let (c, _dir) = collector();
    let now = now_ms();
    let req = gauge_request(
        "otlp_gauge",
        vec![point(wide_attrs(100), now), point(vec![], now)],
    );
    let r = Receiver(c.clone());
    let status = <ExportMetricsServiceRequest as GrpcSignal>::export(r.clone(), req)
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status
            .message()
            .contains("limit max_label_names_per_series=64"),
        "{status:?}"
    );
    assert_eq!(count(&c, "otlp_gauge").await, "1");
}

fn log_request(service: &str, t_ms: i64) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![sextant_otlp::string_kv("service.name", service)],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: (t_ms * 1_000_000) as u64,
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("hello".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test]
async fn log_streams_and_times_are_validated_per_record() {
    let (c, _dir) = collector();
    let now = now_ms();
    let mut req = log_request(&"s".repeat(5000), now);
    req.resource_logs
        .extend(log_request("ok", now).resource_logs);
    req.resource_logs
        .extend(log_request("late", now + 3_600_000).resource_logs);
    let r = Receiver(c.clone());
    let status = <ExportLogsServiceRequest as GrpcSignal>::export(r.clone(), req)
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let msg = status.message();
    assert!(
        msg.starts_with("refused 2 log records: log stream {service_name="),
        "{msg}"
    );
    assert!(msg.contains("limit max_label_value_length=4096"), "{msg}");
    assert!(msg.contains("service_name=\"late\"}: timestamp"), "{msg}");
    assert!(msg.ends_with("; stored 1 log records"), "{msg}");
    let q = qs(&[
        ("query", "{service_name=~\".+\"}"),
        ("start", &((now - 60_000) * 1_000_000).to_string()),
        ("end", &((now + 7_200_000) * 1_000_000).to_string()),
    ]);
    let v = get(&c.app(), &format!("/loki/api/v1/query_range?{q}"))
        .await
        .json();
    let streams = v["data"]["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(streams.len(), 1, "{v}");
    assert_eq!(streams[0]["stream"]["service_name"], "ok", "{v}");
}

#[tokio::test]
async fn past_max_series_new_series_get_429_and_existing_ones_keep_ingesting() {
    let (c, _dir) = collector_with(Limits {
        max_series: 3,
        max_series_per_source: 2,
        ..Limits::default()
    });
    let now = now_ms();
    let a = remote_write(
        &c,
        &[one(named("a", "j1"), now), one(named("b", "j1"), now)],
    )
    .await;
    assert_eq!(a.status, 204, "{}", a.text());
    // j1 is at its per-source cap: the new series is refused, the old one stored.
    let a = remote_write(
        &c,
        &[
            one(named("a", "j1"), now + 1),
            one(named("c", "j1"), now + 1),
        ],
    )
    .await;
    assert_eq!(a.status, 429, "{}", a.text());
    assert_eq!(
        a.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("60")
    );
    assert!(
        a.text().contains(
            "c{job=\"j1\"}: new series refused: job \"j1\" holds max_series_per_source=2 series"
        ),
        "{}",
        a.text()
    );
    let a = remote_write(
        &c,
        &[one(named("d", "j2"), now), one(named("e", "j2"), now)],
    )
    .await;
    assert_eq!(a.status, 429, "{}", a.text());
    assert!(a.text().contains("max_series=3"), "{}", a.text());
    // Over gRPC too.
    let r = Receiver(c.clone());
    let status = <ExportMetricsServiceRequest as GrpcSignal>::export(
        r.clone(),
        gauge_request("otlp_gauge", vec![point(vec![], now)]),
    )
    .await
    .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    // Existing series are never refused.
    let a = remote_write(
        &c,
        &[
            one(named("a", "j1"), now + 2),
            one(named("d", "j2"), now + 2),
        ],
    )
    .await;
    assert_eq!(a.status, 204, "{}", a.text());
    assert_eq!(count(&c, "a").await, "3");
    let refused = |source: &str, limit: &str| {
        c.metrics
            .series_refused
            .with_label_values(&[source, limit])
            .get()
    };
    assert_eq!(
        (
            refused("j1", "max_series_per_source"),
            refused("j2", "max_series"),
            refused("svc", "max_series")
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn past_max_log_streams_new_streams_get_429_and_existing_ones_keep_ingesting() {
    let (c, _dir) = collector_with(Limits {
        max_log_streams: 2,
        max_log_streams_per_source: 1,
        ..Limits::default()
    });
    let now = now_ms();
    let r = Receiver(c.clone());
    let export = |req| <ExportLogsServiceRequest as GrpcSignal>::export(r.clone(), req);
    export(log_request("a", now))
        .await
        .expect("first stream of a");
    // a is at its per-source cap; b's stream fits.
    let mut req = log_request("a", now + 1);
    let mut second_a = log_request("a", now + 1);
    second_a.resource_logs[0]
        .resource
        .as_mut()
        .expect("resource")
        .attributes
        .push(sextant_otlp::string_kv("service.namespace", "other"));
    req.resource_logs.extend(second_a.resource_logs);
    req.resource_logs
        .extend(log_request("b", now).resource_logs);
    let status = export(req).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    let msg = status.message();
    assert!(
        msg.contains(
            r#"new log stream refused: service_name "a" holds max_log_streams_per_source=1 streams"#
        ),
        "{msg}"
    );
    assert!(msg.ends_with("; stored 2 log records"), "{msg}");
    // The store is full: a new service is refused, existing streams flow.
    let status = export(log_request("c", now)).await.expect_err("full");
    assert!(status.message().contains("max_log_streams=2"), "{status:?}");
    export(log_request("a", now + 2)).await.expect("existing a");
    export(log_request("b", now + 2)).await.expect("existing b");
    let q = qs(&[
        ("query", "{service_name=~\".+\"}"),
        ("start", &((now - 60_000) * 1_000_000).to_string()),
        ("end", &((now + 60_000) * 1_000_000).to_string()),
    ]);
    let v = get(&c.app(), &format!("/loki/api/v1/query_range?{q}"))
        .await
        .json();
    let lines: usize = v["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["values"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(lines, 5, "{v}");
    let refused = |source: &str, limit: &str| {
        c.metrics
            .series_refused
            .with_label_values(&[source, limit])
            .get()
    };
    assert_eq!(
        (
            refused("a", "max_log_streams_per_source"),
            refused("c", "max_log_streams")
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn a_collector_behind_answers_429_with_retry_after_and_loses_nothing() {
    let (c, _dir) = collector_with(Limits {
        max_concurrent_appends: 1,
        max_append_wait: std::time::Duration::from_millis(20),
        ..Limits::default()
    });
    let now = now_ms();
    // A long append holds the only slot …
    let slot = c.policy.append_slot().await.expect("the free slot");
    // … so remote-write, OTLP/HTTP and OTLP/gRPC each say the collector is
    // behind, with Retry-After / RetryInfo, instead of waiting for it.
    let a = remote_write(&c, &[one(named("late", "rw"), now)]).await;
    assert_eq!(a.status, 429, "{}", a.text());
    assert_eq!(a.headers["retry-after"], "1");
    assert!(
        a.text().contains("collector.limits.max_append_wait"),
        "{}",
        a.text()
    );
    let req = gauge_request("late_otlp", vec![point(vec![], now)]);
    let body = req.encode_to_vec();
    let a = post(&c.otlp_http_router(), "/v1/metrics", &[PB], body.clone()).await;
    assert_eq!(a.status, 429, "{}", a.text());
    assert_eq!(a.headers["retry-after"], "1");
    let status = <ExportMetricsServiceRequest as GrpcSignal>::export(Receiver(c.clone()), req)
        .await
        .expect_err("behind");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    // Once the slot is free, the same requests are stored.
    drop(slot);
    let a = remote_write(&c, &[one(named("late", "rw"), now)]).await;
    assert_eq!(a.status, 204, "{}", a.text());
    let a = post(&c.otlp_http_router(), "/v1/metrics", &[PB], body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(count(&c, "late").await, "1");
    assert_eq!(count(&c, "late_otlp").await, "1");
}

#[tokio::test]
async fn stored_log_records_are_counted_by_service_and_severity() {
    let (c, _dir) = collector();
    let now = now_ms();
    let mut req = log_request("shop", now);
    let template = req.resource_logs[0].scope_logs[0].log_records[0].clone();
    req.resource_logs[0].scope_logs[0].log_records =
        [("ERROR", 17), ("", 17), ("", 0), ("info", 9)]
            .into_iter()
            .map(|(text, number)| LogRecord {
                severity_text: text.into(),
                severity_number: number,
                ..template.clone()
            })
            .collect();
    let a = post(
        &c.otlp_http_router(),
        "/v1/logs",
        &[PB],
        req.encode_to_vec(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let n = |service: &str, severity: &str| {
        c.metrics
            .log_records
            .with_label_values(&[service, severity])
            .get()
    };
    assert_eq!(n("shop", "error"), 2);
    assert_eq!(n("shop", "unspecified"), 1);
    assert_eq!(n("shop", "info"), 1);
    // A record refused by validation is not counted.
    let old = log_request("shop", now + 86_400_000);
    let a = post(
        &c.otlp_http_router(),
        "/v1/logs",
        &[PB],
        old.encode_to_vec(),
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert_eq!(n("shop", "unspecified"), 1);
}
