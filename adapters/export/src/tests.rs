//! End-to-end tests of the exporter against a real local OTLP/HTTP server.

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message;
use tempfile::TempDir;

use super::*;

/// How the fake collector answers a request.
#[derive(Clone, Debug)]
enum Reply {
    Ok,
    Status(u16, Option<u64>),
    Partial(i64, &'static str),
}

#[derive(Default)]
struct Collector {
    /// Log bodies of accepted requests, in arrival order.
    received: Vec<String>,
    /// Item count of every request, whatever the reply.
    requests: Vec<usize>,
    script: VecDeque<Reply>,
    default_reply: Option<Reply>,
}

type Shared = Arc<Mutex<Collector>>;

async fn handle_logs(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    assert_eq!(
        headers.get("content-encoding").map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
    assert_eq!(
        headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/x-protobuf"[..])
    );
    let mut plain = Vec::new();
    if flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut plain)
        .is_err()
    {
        return (StatusCode::BAD_REQUEST, "bad gzip").into_response();
    }
    let Ok(req) = ExportLogsServiceRequest::decode(&plain[..]) else {
        return (StatusCode::BAD_REQUEST, "bad protobuf").into_response();
    };
    let bodies: Vec<String> = req
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .map(|r| match r.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => s.clone(),
            _ => String::new(),
        })
        .collect();
    let mut c = state.lock().expect("collector state");
    c.requests.push(bodies.len());
    let reply = c
        .script
        .pop_front()
        .or(c.default_reply.clone())
        .unwrap_or(Reply::Ok);
    match reply {
        Reply::Ok => {
            c.received.extend(bodies);
            (
                StatusCode::OK,
                ExportLogsServiceResponse::default().encode_to_vec(),
            )
                .into_response()
        }
        Reply::Partial(rejected, message) => {
            c.received.extend(bodies);
            let resp = ExportLogsServiceResponse {
                partial_success: Some(ExportLogsPartialSuccess {
                    rejected_log_records: rejected,
                    error_message: message.to_string(),
                }),
            };
            (StatusCode::OK, resp.encode_to_vec()).into_response()
        }
        Reply::Status(code, retry_after) => {
            let status = StatusCode::from_u16(code).expect("status");
            let mut headers = HeaderMap::new();
            if let Some(secs) = retry_after {
                headers.insert("retry-after", secs.to_string().parse().expect("header"));
            }
            (status, headers, "collector says no: invalid data").into_response()
        }
    }
}

/// A collector that is not listening yet; `up()` starts it on the same port.
struct FakeCollector {
    addr: SocketAddr,
    state: Shared,
}

impl FakeCollector {
    fn down() -> Self {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind probe");
        let addr = probe.local_addr().expect("addr");
        drop(probe);
        FakeCollector {
            addr,
            state: Shared::default(),
        }
    }

    async fn running() -> Self {
        let c = Self::down();
        c.up().await;
        c
    }

    async fn up(&self) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("rebind collector port");
        let app = Router::new()
            .route("/v1/logs", post(handle_logs))
            .with_state(Arc::clone(&self.state));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn received(&self) -> Vec<String> {
        self.state.lock().expect("state").received.clone()
    }

    fn requests(&self) -> Vec<usize> {
        self.state.lock().expect("state").requests.clone()
    }

    fn script(&self, replies: &[Reply]) {
        self.state
            .lock()
            .expect("state")
            .script
            .extend(replies.iter().cloned());
    }

    fn always(&self, reply: Reply) {
        self.state.lock().expect("state").default_reply = Some(reply);
    }

    async fn wait_for_items(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.received().len() < n {
            assert!(
                Instant::now() < deadline,
                "only {} of {n} items arrived",
                self.received().len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn logs(range: std::ops::Range<usize>) -> ExportLogsServiceRequest {
    let log_records = range
        .map(|i| LogRecord {
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(i.to_string())),
            }),
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

fn expected(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| i.to_string()).collect()
}

fn config(endpoint: &str, dir: &TempDir) -> ExporterConfig {
    ExporterConfig {
        endpoint: endpoint.to_string(),
        queue_dir: dir.path().join("queue"),
        max_batch_items: 100,
        batch_timeout: Duration::from_millis(30),
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        request_timeout: Duration::from_secs(2),
        ..ExporterConfig::default()
    }
}

/// Sum of a metric's samples whose labels include all of `labels`.
fn metric(registry: &prometheus::Registry, name: &str, labels: &[(&str, &str)]) -> f64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == name)
        .flat_map(|f| f.get_metric())
        .filter(|m| {
            labels.iter().all(|(k, v)| {
                m.get_label()
                    .iter()
                    .any(|l| l.name() == *k && l.value() == *v)
            })
        })
        .map(|m| {
            if m.get_counter().is_some() {
                m.get_counter().value()
            } else if m.get_gauge().is_some() {
                m.get_gauge().value()
            } else {
                m.get_histogram().get_sample_count() as f64
            }
        })
        .sum()
}

async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Submits `count` single-record requests (bodies `first..first+count`), returning the tickets.
async fn submit_each(exporter: &Exporter, first: usize, count: usize) -> Vec<Ticket> {
    let mut tickets = Vec::new();
    for i in first..first + count {
        tickets.push(exporter.submit_logs(logs(i..i + 1)).await.expect("submit"));
    }
    tickets
}

async fn outcomes(tickets: Vec<Ticket>) -> Vec<Outcome> {
    let mut out = Vec::new();
    for t in tickets {
        out.push(
            tokio::time::timeout(Duration::from_secs(5), t.outcome())
                .await
                .expect("ticket resolves"),
        );
    }
    out
}

#[tokio::test]
async fn batches_by_item_count() {
    let collector = FakeCollector::running().await;
    let dir = TempDir::new().expect("tempdir");
    let registry = prometheus::Registry::new();
    let cfg = ExporterConfig {
        max_batch_items: 10,
        batch_timeout: Duration::from_secs(30),
        ..config(&collector.endpoint(), &dir)
    };
    let exporter = Exporter::start(cfg, &registry).expect("start");
    let first = submit_each(&exporter, 0, 20).await;
    let rest = submit_each(&exporter, 20, 5).await;
    assert!(
        outcomes(first)
            .await
            .iter()
            .all(|o| *o == Outcome::Delivered)
    );
    assert_eq!(
        collector.requests(),
        vec![10, 10],
        "two full batches, the tail still waits"
    );
    exporter.shutdown().await.expect("shutdown");
    assert!(
        outcomes(rest)
            .await
            .iter()
            .all(|o| *o == Outcome::Delivered)
    );
    assert_eq!(collector.requests(), vec![10, 10, 5]);
    assert_eq!(collector.received(), expected(0..25));
    assert_eq!(
        metric(
            &registry,
            "sextant_exporter_sent_items_total",
            &[("signal", "logs")]
        ),
        25.0
    );
}

#[tokio::test]
async fn batches_by_timeout() {
    let collector = FakeCollector::running().await;
    let dir = TempDir::new().expect("tempdir");
    let registry = prometheus::Registry::new();
    let cfg = ExporterConfig {
        batch_timeout: Duration::from_millis(150),
        ..config(&collector.endpoint(), &dir)
    };
    let exporter = Exporter::start(cfg, &registry).expect("start");
    let started = Instant::now();
    let mut tickets = Vec::new();
    for i in 0..3 {
        tickets.push(
            exporter
                .submit_logs(logs(i * 2..i * 2 + 2))
                .await
                .expect("submit"),
        );
    }
    assert!(
        outcomes(tickets)
            .await
            .iter()
            .all(|o| *o == Outcome::Delivered)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(140),
        "flushed before the timeout"
    );
    assert_eq!(collector.requests(), vec![6], "one merged batch");
    assert_eq!(collector.received(), expected(0..6));
    exporter.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn retries_503_then_delivers() {
    let collector = FakeCollector::running().await;
    collector.script(&[Reply::Status(503, None), Reply::Status(503, None)]);
    let dir = TempDir::new().expect("tempdir");
    let registry = prometheus::Registry::new();
    let exporter = Exporter::start(config(&collector.endpoint(), &dir), &registry).expect("start");
    let ticket = exporter.submit_logs(logs(0..4)).await.expect("submit");
    assert_eq!(
        ticket.outcome().await,
        Outcome::Queued,
        "first failure parks the batch on disk"
    );
    collector.wait_for_items(4).await;
    assert_eq!(collector.received(), expected(0..4));
    assert_eq!(collector.requests(), vec![4, 4, 4]);
    let failed = [("signal", "logs"), ("reason", "status_503")];
    assert_eq!(
        metric(
            &registry,
            "sextant_exporter_send_failed_requests_total",
            &failed
        ),
        2.0
    );
    assert_eq!(
        metric(
            &registry,
            "sextant_exporter_retries_total",
            &[("signal", "logs")]
        ),
        1.0
    );
    assert_eq!(
        metric(
            &registry,
            "sextant_exporter_enqueued_items_total",
            &[("signal", "logs")]
        ),
        4.0
    );
    wait_until("queue drained", || {
        metric(&registry, "sextant_exporter_queue_batches", &[]) == 0.0
    })
    .await;
    exporter.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let collector = FakeCollector::running().await;
    // The direct send and the first queued send both get "429, Retry-After: 1".
    collector.script(&[Reply::Status(429, Some(1)), Reply::Status(429, Some(1))]);
    let dir = TempDir::new().expect("tempdir");
    let registry = prometheus::Registry::new();
    let exporter = Exporter::start(config(&collector.endpoint(), &dir), &registry).expect("start");
    let ticket = exporter.submit_logs(logs(0..1)).await.expect("submit");
    assert_eq!(ticket.outcome().await, Outcome::Queued);
    let queued_at = Instant::now();
    collector.wait_for_items(1).await;
    // The configured backoff is at most 50 ms: only Retry-After explains a 1 s wait.
    assert!(
        queued_at.elapsed() >= Duration::from_millis(900),
        "retried after {:?}",
        queued_at.elapsed()
    );
    assert_eq!(collector.requests().len(), 3);
    exporter.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn never_retries_400_and_counts_the_drop() {
    let collector = FakeCollector::running().await;
    collector.always(Reply::Status(400, None));
    let dir = TempDir::new().expect("tempdir");
    let registry = prometheus::Registry::new();
    let exporter = Exporter::start(config(&collector.endpoint(), &dir), &registry).expect("start");
    let ticket = exporter.submit_logs(logs(0..7)).await.expect("submit");
    assert_eq!(
        ticket.outcome().await,
        Outcome::Dropped {
            reason: "permanent_error".to_string()
        }
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(collector.requests(), vec![7], "exactly one attempt");
    let dropped = [("signal", "logs"), ("reason", "permanent_error")];
    assert_eq!(
        metric(&registry, "sextant_exporter_dropped_items_total", &dropped),
        7.0
    );
    assert_eq!(
        metric(&registry, "sextant_exporter_retries_total", &[]),
        0.0
    );
    exporter.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn partial_success_counts_rejected_items() {
    let collector = FakeCollector::running().await;
    collector.script(&[Reply::Partial(2, "two records had bad timestamps")]);
    let dir = TempDir::new().expect("tempdir");
    let registry = prometheus::Registry::new();
    let exporter = Exporter::start(config(&collector.endpoint(), &dir), &registry).expect("start");
    let ticket = exporter.submit_logs(logs(0..5)).await.expect("submit");
    assert_eq!(ticket.outcome().await, Outcome::Delivered);
    let rejected = [("signal", "logs"), ("reason", "rejected")];
    assert_eq!(
        metric(&registry, "sextant_exporter_dropped_items_total", &rejected),
        2.0
    );
    assert_eq!(
        metric(&registry, "sextant_exporter_sent_items_total", &[]),
        3.0
    );
    exporter.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn collector_down_queues_then_delivers_everything_once_in_order() {
    let collector = FakeCollector::down();
    let dir = TempDir::new().expect("tempdir");
    let registry = prometheus::Registry::new();
    let cfg = ExporterConfig {
        max_batch_items: 5,
        ..config(&collector.endpoint(), &dir)
    };
    let exporter = Exporter::start(cfg, &registry).expect("start");
    let tickets = submit_each(&exporter, 0, 50).await;
    assert!(
        outcomes(tickets)
            .await
            .iter()
            .all(|o| *o == Outcome::Queued)
    );
    assert_eq!(
        metric(&registry, "sextant_exporter_queue_batches", &[]),
        10.0
    );
    assert!(metric(&registry, "sextant_exporter_queue_size_bytes", &[]) > 0.0);
    collector.up().await;
    collector.wait_for_items(50).await;
    wait_until("queue drained", || {
        metric(&registry, "sextant_exporter_queue_batches", &[]) == 0.0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        collector.received(),
        expected(0..50),
        "exactly once, in order"
    );
    assert_eq!(
        metric(&registry, "sextant_exporter_queue_size_bytes", &[]),
        0.0
    );
    assert_eq!(
        metric(&registry, "sextant_exporter_sent_items_total", &[]),
        50.0
    );
    // Once drained, new data goes straight to the wire again.
    let ticket = exporter.submit_logs(logs(50..51)).await.expect("submit");
    assert_eq!(ticket.outcome().await, Outcome::Delivered);
    exporter.shutdown().await.expect("shutdown");
}

/// Starts an exporter, retrying while a dropped predecessor's tasks still hold the lock.
async fn restart(cfg: &ExporterConfig, registry: &prometheus::Registry) -> Exporter {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match Exporter::start(cfg.clone(), registry) {
            Ok(e) => return e,
            Err(ExportError::QueueLocked { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => panic!("restart failed: {e}"),
        }
    }
}

#[tokio::test]
async fn queue_survives_shutdown_and_restart() {
    let collector = FakeCollector::down();
    let dir = TempDir::new().expect("tempdir");
    let cfg = ExporterConfig {
        max_batch_items: 4,
        ..config(&collector.endpoint(), &dir)
    };
    let exporter = Exporter::start(cfg.clone(), &prometheus::Registry::new()).expect("start");
    let tickets = submit_each(&exporter, 0, 10).await;
    exporter.shutdown().await.expect("shutdown");
    // The last two records were flushed by shutdown itself.
    assert!(
        outcomes(tickets)
            .await
            .iter()
            .all(|o| *o == Outcome::Queued)
    );

    let registry = prometheus::Registry::new();
    let exporter = restart(&cfg, &registry).await;
    assert_eq!(
        metric(&registry, "sextant_exporter_queue_batches", &[]),
        3.0
    );
    collector.up().await;
    collector.wait_for_items(10).await;
    wait_until("queue drained", || {
        metric(&registry, "sextant_exporter_queue_batches", &[]) == 0.0
    })
    .await;
    assert_eq!(collector.received(), expected(0..10));
    exporter.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn queue_survives_drop_without_shutdown() {
    let collector = FakeCollector::down();
    let dir = TempDir::new().expect("tempdir");
    let cfg = config(&collector.endpoint(), &dir);
    let registry = prometheus::Registry::new();
    let exporter = Exporter::start(cfg.clone(), &registry).expect("start");
    let tickets = submit_each(&exporter, 0, 6).await;
    assert!(
        outcomes(tickets)
            .await
            .iter()
            .all(|o| *o == Outcome::Queued)
    );
    // Unflushed data at the "kill": lost, but counted.
    let lost = exporter.submit_logs(logs(100..103)).await.expect("submit");
    drop(exporter);
    assert_eq!(
        lost.outcome().await,
        Outcome::Dropped {
            reason: "exporter_stopped".to_string()
        }
    );
    let stopped = [("reason", "exporter_stopped")];
    wait_until("loss counted", || {
        metric(&registry, "sextant_exporter_dropped_items_total", &stopped) == 3.0
    })
    .await;

    let exporter = restart(&cfg, &prometheus::Registry::new()).await;
    collector.up().await;
    collector.wait_for_items(6).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(collector.received(), expected(0..6));
    exporter.shutdown().await.expect("shutdown");
}

fn tiny_queue(collector: &FakeCollector, dir: &TempDir, when_full: WhenFull) -> ExporterConfig {
    ExporterConfig {
        max_batch_items: 1,
        max_queue_bytes: 1500,
        when_full,
        ..config(&collector.endpoint(), dir)
    }
}

#[tokio::test]
async fn full_queue_applies_backpressure_until_space_frees() {
    let collector = FakeCollector::down();
    let dir = TempDir::new().expect("tempdir");
    let registry = prometheus::Registry::new();
    let exporter =
        Exporter::start(tiny_queue(&collector, &dir, WhenFull::Block), &registry).expect("start");
    let submitted = Arc::new(AtomicUsize::new(0));
    let producer = {
        let (exporter, submitted) = (exporter.clone(), Arc::clone(&submitted));
        tokio::spawn(async move {
            let mut tickets = Vec::new();
            for i in 0..100 {
                tickets.push(exporter.submit_logs(logs(i..i + 1)).await.expect("submit"));
                submitted.fetch_add(1, Ordering::SeqCst);
            }
            tickets
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stalled_at = submitted.load(Ordering::SeqCst);
    assert!(stalled_at < 100, "submit must block when the queue is full");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        submitted.load(Ordering::SeqCst),
        stalled_at,
        "still blocked"
    );
    assert_eq!(
        metric(&registry, "sextant_exporter_dropped_items_total", &[]),
        0.0
    );

    collector.up().await;
    let tickets = tokio::time::timeout(Duration::from_secs(5), producer)
        .await
        .expect("producer unblocks")
        .expect("producer task");
    assert!(outcomes(tickets).await.iter().all(|o| *o
        != Outcome::Dropped {
            reason: "queue_full".into()
        }));
    collector.wait_for_items(100).await;
    assert_eq!(collector.received(), expected(0..100));
    exporter.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn full_queue_with_drop_newest_drops_and_counts() {
    let collector = FakeCollector::down();
    let dir = TempDir::new().expect("tempdir");
    let registry = prometheus::Registry::new();
    let exporter = Exporter::start(
        tiny_queue(&collector, &dir, WhenFull::DropNewest),
        &registry,
    )
    .expect("start");
    let tickets = tokio::time::timeout(Duration::from_secs(5), submit_each(&exporter, 0, 100))
        .await
        .expect("drop_newest never blocks");
    let results = outcomes(tickets).await;
    let dropped = results
        .iter()
        .filter(|o| matches!(o, Outcome::Dropped { reason } if reason == "queue_full"))
        .count();
    let queued = results.iter().filter(|o| **o == Outcome::Queued).count();
    assert!(
        dropped > 0 && queued > 0,
        "dropped {dropped}, queued {queued}"
    );
    assert_eq!(dropped + queued, 100);
    let full = [("signal", "logs"), ("reason", "queue_full")];
    assert_eq!(
        metric(&registry, "sextant_exporter_dropped_items_total", &full),
        dropped as f64
    );
    exporter.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn corrupt_queue_files_are_skipped_and_counted() {
    let collector = FakeCollector::down();
    let dir = TempDir::new().expect("tempdir");
    let cfg = ExporterConfig {
        max_batch_items: 1,
        ..config(&collector.endpoint(), &dir)
    };
    let exporter = Exporter::start(cfg.clone(), &prometheus::Registry::new()).expect("start");
    let tickets = submit_each(&exporter, 0, 3).await;
    assert!(
        outcomes(tickets)
            .await
            .iter()
            .all(|o| *o == Outcome::Queued)
    );
    exporter.shutdown().await.expect("shutdown");

    // Damage the middle record of the segment, add a torn tail and a junk
    // segment, and scribble over the cursor.
    let queue_dir = cfg.queue_dir.clone();
    let segment = std::fs::read_dir(&queue_dir)
        .expect("queue dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "seg"))
        .expect("a segment");
    let mut bytes = std::fs::read(&segment).expect("segment");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    bytes.extend_from_slice(&[7, 0, 0]);
    std::fs::write(&segment, &bytes).expect("write segment");
    std::fs::write(
        queue_dir.join("00000000000000009999.seg"),
        b"\xff\xff\xff\xffjunk",
    )
    .expect("junk");
    std::fs::write(queue_dir.join("cursor"), b"garbage").expect("cursor");

    let registry = prometheus::Registry::new();
    let exporter = Exporter::start(cfg, &registry).expect("starts despite corruption");
    assert_eq!(
        metric(
            &registry,
            "sextant_exporter_queue_corrupt_records_total",
            &[]
        ),
        3.0
    );
    assert!(metric(&registry, "sextant_exporter_queue_corrupt_bytes_total", &[]) > 0.0);
    collector.up().await;
    collector.wait_for_items(2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(collector.received(), vec!["0".to_string(), "2".to_string()]);
    exporter.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn shutdown_stops_every_clone() {
    let collector = FakeCollector::running().await;
    let dir = TempDir::new().expect("tempdir");
    let exporter = Exporter::start(
        config(&collector.endpoint(), &dir),
        &prometheus::Registry::new(),
    )
    .expect("start");
    let clone = exporter.clone();
    exporter.shutdown().await.expect("shutdown");
    assert!(matches!(
        clone.submit_logs(logs(0..1)).await,
        Err(ExportError::Shutdown)
    ));
    assert!(clone.shutdown().await.is_ok(), "second shutdown is a no-op");
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let dir = TempDir::new().expect("tempdir");
    let cfg = config("http://127.0.0.1:1", &dir);
    assert!(matches!(
        Exporter::start(cfg, &prometheus::Registry::new()),
        Err(ExportError::NoRuntime)
    ));
}
