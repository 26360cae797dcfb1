//! End-to-end ingest through the collector's own routers (no socket): body
//! decode, mapping and a durable store append, on a current-thread runtime.
//! Elements are samples, log records or spans; 1000 per request.
//!
//! The `decode` group prices the limits alone: each body decoded with plain
//! prost (no limits) and through `sextant_collector::decode` (pre-scan,
//! item limits, in-flight permit, then the same prost decode).
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::Request;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use sextant_collector::{Collector, Limits, QueryConfig};
use sextant_model::{Labels, Sample, Series};
use sextant_otlp::string_kv;
use sextant_prometheus::encode_remote_write;
use sextant_store::{Store, StoreConfig};
use tower::ServiceExt;

const PER_REQUEST: usize = 1000;

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![string_kv("service.name", "bench")],
        ..Default::default()
    })
}

fn metrics_body(t_ms: i64) -> Vec<u8> {
    let points = (0..PER_REQUEST)
        .map(|i| NumberDataPoint {
            attributes: vec![string_kv("series", i.to_string())],
            time_unix_nano: t_ms as u64 * 1_000_000,
            value: Some(number_data_point::Value::AsDouble(
                (t_ms / 15_000 + i as i64) as f64,
            )),
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "bench.value".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: points,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn remote_write_body(t_ms: i64) -> Vec<u8> {
    let series: Vec<Series> = (0..PER_REQUEST)
        .map(|i| Series {
            labels: Labels::from_pairs(vec![
                ("__name__".into(), "bench_rw".into()),
                ("series".into(), i.to_string()),
            ]),
            samples: vec![Sample {
                t: t_ms,
                v: (t_ms / 15_000 + i as i64) as f64,
            }],
        })
        .collect();
    encode_remote_write(&series)
}

fn logs_body(t_ms: i64) -> Vec<u8> {
    let records = (0..PER_REQUEST)
        .map(|i| LogRecord {
            time_unix_nano: t_ms as u64 * 1_000_000 + i as u64,
            severity_text: "INFO".into(),
            body: Some(AnyValue {
                value: Some(Value::StringValue(format!("GET /api/orders/{i} 200 12ms"))),
            }),
            attributes: vec![string_kv("http.route", "/api/orders")],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn traces_body(t_ms: i64) -> Vec<u8> {
    let spans = (0..PER_REQUEST)
        .map(|i| {
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&t_ms.to_be_bytes());
            trace_id[8..].copy_from_slice(&(i as u64).to_be_bytes());
            Span {
                trace_id: trace_id.to_vec(),
                span_id: (i as u64 + 1).to_be_bytes().to_vec(),
                name: "GET /api/orders".into(),
                start_time_unix_nano: t_ms as u64 * 1_000_000,
                end_time_unix_nano: t_ms as u64 * 1_000_000 + 12_000_000,
                attributes: vec![string_kv("http.route", "/api/orders")],
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), StoreConfig::default()).expect("open store");
    let collector = Collector::new(
        Arc::new(store),
        Limits::default(),
        QueryConfig::default(),
        &prometheus::Registry::new(),
    )
    .expect("collector");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Samples must lie inside the retention window (older ones are refused):
    // a week back leaves 40,000 requests of 15 s steps before reaching now.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let clock = AtomicI64::new(now_ms - 7 * 86_400_000);
    let next_t = || clock.fetch_add(15_000, Ordering::Relaxed);

    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(PER_REQUEST as u64));
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        fn(i64) -> Vec<u8>,
        bool,
    );
    let cases: [Case; 4] = [
        (
            "otlp_metrics_samples",
            "/v1/metrics",
            "application/x-protobuf",
            metrics_body,
            true,
        ),
        (
            "remote_write_samples",
            "/api/v1/write",
            "application/x-protobuf",
            remote_write_body,
            false,
        ),
        (
            "otlp_log_records",
            "/v1/logs",
            "application/x-protobuf",
            logs_body,
            true,
        ),
        (
            "otlp_spans",
            "/v1/traces",
            "application/x-protobuf",
            traces_body,
            true,
        ),
    ];
    for (name, path, content_type, make, otlp) in cases {
        let router = if otlp {
            collector.otlp_http_router()
        } else {
            collector.app()
        };
        group.bench_function(name, |b| {
            b.iter_batched(
                || make(next_t()),
                |body| {
                    let req = Request::post(path)
                        .header("content-type", content_type)
                        .body(Body::from(body))
                        .expect("request");
                    let resp = rt.block_on(router.clone().oneshot(req)).expect("response");
                    assert!(resp.status().is_success(), "{name}: {}", resp.status());
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
    let stats = collector.store().stats();
    println!(
        "store after bench: {} series, {} samples in memory, {} chunk bytes ({:.2} bytes/sample), {} disk bytes",
        stats.series,
        stats.samples_in_memory,
        stats.chunk_bytes,
        stats.chunk_bytes as f64 / stats.samples_in_memory.max(1) as f64,
        stats.disk_bytes
    );
}

/// Decoding with the limits on (`bounded`) and off (`plain`), same bodies.
fn bench_decode(c: &mut Criterion) {
    use sextant_collector::decode;
    use sextant_collector::inflight::Budget;
    let limits = Limits::default();
    let budget = Budget::new(usize::MAX);
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(PER_REQUEST as u64));
    let t = 1_700_000_000_000;
    let (metrics, logs, traces, rw) = (
        metrics_body(t),
        logs_body(t),
        traces_body(t),
        remote_write_body(t),
    );
    group.bench_function("metrics_plain", |b| {
        b.iter(|| ExportMetricsServiceRequest::decode(metrics.as_slice()).expect("decodes"))
    });
    group.bench_function("metrics_bounded", |b| {
        b.iter(|| {
            let mut permit = budget.reserve(metrics.len()).expect("fits");
            decode::otlp_protobuf::<ExportMetricsServiceRequest>(&metrics, &limits, &mut permit)
                .expect("decodes")
        })
    });
    group.bench_function("logs_plain", |b| {
        b.iter(|| ExportLogsServiceRequest::decode(logs.as_slice()).expect("decodes"))
    });
    group.bench_function("logs_bounded", |b| {
        b.iter(|| {
            let mut permit = budget.reserve(logs.len()).expect("fits");
            decode::otlp_protobuf::<ExportLogsServiceRequest>(&logs, &limits, &mut permit)
                .expect("decodes")
        })
    });
    group.bench_function("traces_plain", |b| {
        b.iter(|| ExportTraceServiceRequest::decode(traces.as_slice()).expect("decodes"))
    });
    group.bench_function("traces_bounded", |b| {
        b.iter(|| {
            let mut permit = budget.reserve(traces.len()).expect("fits");
            decode::otlp_protobuf::<ExportTraceServiceRequest>(&traces, &limits, &mut permit)
                .expect("decodes")
        })
    });
    group.bench_function("remote_write_plain", |b| {
        b.iter(|| sextant_prometheus::decode_remote_write(&rw).expect("decodes"))
    });
    group.bench_function("remote_write_bounded", |b| {
        b.iter(|| {
            let mut permit = budget.reserve(rw.len()).expect("fits");
            decode::remote_write(&rw, &limits, &mut permit).expect("decodes")
        })
    });
    group.finish();
}

criterion_group!(benches, bench, bench_decode);
criterion_main!(benches);
