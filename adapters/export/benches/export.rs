//! Agent export overhead: items/s through submit → batch → gzip → HTTP to a
//! local sink that discards, and through the disk-queue path (collector down).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::time::Duration;

use axum::Router;
use axum::routing::post;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use sextant_export::{Exporter, ExporterConfig, Outcome};

const ITEMS_PER_REQUEST: usize = 100;
const REQUESTS: usize = 100;

/// A request shaped like a tailer's: 100 log lines of ~120 bytes with attributes.
fn request(seed: usize) -> ExportLogsServiceRequest {
    let log_records = (0..ITEMS_PER_REQUEST)
        .map(|i| LogRecord {
            time_unix_nano: 1_700_000_000_000_000_000 + (seed * ITEMS_PER_REQUEST + i) as u64,
            severity_text: "INFO".to_string(),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!(
                    "GET /api/v1/items/{} 200 {}ms user=u{} trace=4bf92f3577b34da6a3ce929d0e0e{:04}",
                    seed * 31 + i,
                    i % 97,
                    i % 13,
                    i
                ))),
            }),
            attributes: vec![KeyValue {
                key: "log.file.path".to_string(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue("/var/log/app/access.log".to_string())),
                }),
                ..KeyValue::default()
            }],
            ..LogRecord::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

async fn push_all(exporter: &Exporter, requests: &[ExportLogsServiceRequest], expect: &Outcome) {
    let mut tickets = Vec::with_capacity(requests.len());
    for r in requests {
        tickets.push(exporter.submit_logs(r.clone()).await.expect("submit"));
    }
    for t in tickets {
        assert_eq!(&t.outcome().await, expect);
    }
}

fn bench_export(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let requests: Vec<_> = (0..REQUESTS).map(request).collect();
    let mut group = c.benchmark_group("export");
    group.throughput(Throughput::Elements((REQUESTS * ITEMS_PER_REQUEST) as u64));

    // Path 1: collector up, a sink that discards.
    let sink_dir = tempfile::tempdir().expect("tempdir");
    let exporter = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let sink = Router::new().route("/v1/logs", post(|_body: axum::body::Bytes| async { "" }));
        tokio::spawn(async move { axum::serve(listener, sink).await });
        let cfg = ExporterConfig {
            endpoint: format!("http://{addr}"),
            queue_dir: sink_dir.path().join("queue"),
            batch_timeout: Duration::from_millis(5),
            ..ExporterConfig::default()
        };
        Exporter::start(cfg, &prometheus::Registry::new()).expect("start")
    });
    group.bench_function("submit_batch_gzip_http", |b| {
        b.iter(|| runtime.block_on(push_all(&exporter, &requests, &Outcome::Delivered)))
    });
    runtime.block_on(exporter.shutdown()).expect("shutdown");

    // Path 2: collector down, everything goes to the fsynced disk queue.
    let queue_dir = tempfile::tempdir().expect("tempdir");
    let exporter = runtime.block_on(async {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = probe.local_addr().expect("addr");
        drop(probe);
        let cfg = ExporterConfig {
            endpoint: format!("http://{addr}"),
            queue_dir: queue_dir.path().join("queue"),
            batch_timeout: Duration::from_millis(5),
            max_queue_bytes: 8 * 1024 * 1024 * 1024,
            // Keep the background sender's retries out of the measurement.
            initial_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(60),
            ..ExporterConfig::default()
        };
        Exporter::start(cfg, &prometheus::Registry::new()).expect("start")
    });
    group.bench_function("submit_batch_gzip_disk_queue", |b| {
        b.iter(|| runtime.block_on(push_all(&exporter, &requests, &Outcome::Queued)))
    });
    runtime.block_on(exporter.shutdown()).expect("shutdown");
    group.finish();
}

criterion_group!(benches, bench_export);
criterion_main!(benches);
