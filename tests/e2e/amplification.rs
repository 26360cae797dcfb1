//! Issue 17, finding 1: a small body of empty protobuf (or JSON) elements
//! made the collector allocate gigabytes while decoding it. Against the
//! release binary: each amplification body — OTLP/HTTP protobuf, OTLP/gRPC,
//! OTLP/JSON, remote-write — is refused with 413 (or 429), peak RSS stays
//! under 512 MiB, and a normal request is still accepted afterwards; and a
//! burst of parallel requests over the in-flight budget gets 429 with
//! `Retry-After` while the process survives.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::{self, Collector, peak_rss_kib, post};

/// What the issue measured: 64 MiB of empty elements.
const BOMB_BYTES: usize = 64 << 20;
/// The bound the issue sets on peak RSS.
const MAX_RSS_KIB: u64 = 512 << 10;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// Field 1, length 0, over and over: empty `resource_metrics` (or
/// remote-write `timeseries`) elements.
fn empty_elements(bytes: usize) -> Vec<u8> {
    [0x0a, 0x00].repeat(bytes / 2)
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos()
}

fn good_json(name: &str) -> String {
    format!(
        r#"{{"resourceMetrics":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"amp"}}}}]}},
        "scopeMetrics":[{{"metrics":[{{"name":"{name}","gauge":{{"dataPoints":[{{"asDouble":1,"timeUnixNano":"{}"}}]}}}}]}}]}}]}}"#,
        now_ns()
    )
}

fn assert_refused(what: &str, status: u16, body: &str) {
    assert!(
        status == 413 || status == 429,
        "{what}: want 413 or 429, got {status}: {body}"
    );
}

#[test]
fn amplification_bodies_are_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = Collector::start_release(&dir.path().join("data"), "", &[]);
    let pid = c.child.id();
    let otlp = format!("http://{}/v1/metrics", c.otlp_http);
    let before = peak_rss_kib(pid);

    // OTLP/HTTP protobuf: 64 MiB of empty ResourceMetrics, gzipped.
    let bomb = gzip(&empty_elements(BOMB_BYTES));
    assert!(bomb.len() < 256 << 10, "bomb is {} bytes", bomb.len());
    let pb = [
        ("Content-Type", "application/x-protobuf"),
        ("Content-Encoding", "gzip"),
    ];
    let (status, body) = post(&otlp, &pb, &bomb);
    assert_refused("OTLP/HTTP protobuf", status, &body);
    assert!(body.contains("max_resources_per_request"), "{body:?}");

    // OTLP/JSON: 64 MiB of `{},` in resourceMetrics, gzipped.
    let mut json = b"{\"resourceMetrics\":[".to_vec();
    json.extend(b"{},".repeat(BOMB_BYTES / 3 - 10));
    json.extend(b"{}]}");
    let json_bomb = gzip(&json);
    drop(json);
    let js = [
        ("Content-Type", "application/json"),
        ("Content-Encoding", "gzip"),
    ];
    let (status, body) = post(&otlp, &js, &json_bomb);
    assert_refused("OTLP/JSON", status, &body);
    assert!(body.contains("max_resources_per_request"), "{body}");

    // Remote-write: 32 MiB of empty TimeSeries, snappy (about 1.5 MB).
    let rw_bomb = snap::raw::Encoder::new()
        .compress_vec(&empty_elements(32 << 20))
        .expect("snappy");
    let (status, body) = post(
        &format!("http://{}/api/v1/write", c.http),
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
        ],
        &rw_bomb,
    );
    assert_refused("remote-write", status, &body);
    assert!(body.contains("max_series_per_request"), "{body}");

    // OTLP/gRPC: the same 64 MiB, gzip-compressed by the real grpcio client.
    let script = r#"
import sys, grpc
ch = grpc.insecure_channel(sys.argv[1], options=[("grpc.max_send_message_length", 128 << 20)])
call = ch.unary_unary("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export")
try:
    call(b"\x0a\x00" * (32 << 20), timeout=60, compression=grpc.Compression.Gzip)
    sys.exit("accepted the gRPC bomb")
except grpc.RpcError as e:
    if e.code() != grpc.StatusCode.RESOURCE_EXHAUSTED or "max_resources_per_request" not in e.details():
        sys.exit(f"want RESOURCE_EXHAUSTED naming the limit, got {e.code()} {e.details()!r}")
    print(e.code(), e.details())
"#;
    common::run_python(&["-c", script, &c.otlp_grpc], "gRPC bomb");

    assert!(c.alive(), "collector died");
    let peak = peak_rss_kib(pid);
    assert!(
        peak < MAX_RSS_KIB,
        "peak RSS {} MiB (from {} MiB) over 512 MiB",
        peak >> 10,
        before >> 10
    );
    eprintln!(
        "amplification: peak RSS {} MiB (started at {} MiB)",
        peak >> 10,
        before >> 10
    );

    // A normal request is still accepted, over HTTP and gRPC-sized paths.
    let (status, body) = post(
        &otlp,
        &[("Content-Type", "application/json")],
        good_json("after_bombs").as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let v = common::eventually(Duration::from_secs(10), "after_bombs stored", || {
        let v = c.get_json("/api/v1/query?query=after_bombs");
        (v["data"]["result"].as_array().map(Vec::len) == Some(1)).then_some(v)
    });
    assert_eq!(v["data"]["result"][0]["value"][1], "1", "{v}");
    let metrics = c.metrics_text();
    assert!(
        metrics
            .lines()
            .any(|l| l.contains("reason=\"too_large\"") && l.contains("transport=\"grpc\"")),
        "{metrics}"
    );
}

/// One OTLP/HTTP protobuf request of `points` gauge points.
fn points_request(points: usize, name: &str) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::metrics::v1 as m;
    use prost::Message;
    let t = now_ns() as u64;
    let data_points = (0..points)
        .map(|i| m::NumberDataPoint {
            time_unix_nano: t + i as u64 * 1_000_000,
            value: Some(m::number_data_point::Value::AsDouble(i as f64)),
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![m::ResourceMetrics {
            scope_metrics: vec![m::ScopeMetrics {
                metrics: vec![m::Metric {
                    name: name.to_string(),
                    data: Some(m::metric::Data::Gauge(m::Gauge { data_points })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[test]
fn a_burst_over_the_inflight_budget_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 16 MiB: one request of 50,000 points (about 1 MiB on the wire, about
    // 11 MiB decoded) fits; several at once do not.
    let yaml = "collector:\n  limits:\n    max_inflight_bytes: 16777216\n";
    let mut c = Collector::start_release(&dir.path().join("data"), yaml, &[]);
    let url = format!("http://{}/v1/metrics", c.otlp_http);
    let (mut ok, mut limited) = (0, 0);
    for round in 0..10 {
        let bodies: Vec<Vec<u8>> = (0..8)
            .map(|i| points_request(50_000, &format!("burst_{round}_{i}")))
            .collect();
        let answers: Vec<(u16, Option<String>, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = bodies
                .iter()
                .map(|b| {
                    let url = &url;
                    s.spawn(move || {
                        let mut resp = ureq::post(url)
                            .config()
                            .http_status_as_error(false)
                            .build()
                            .header("Content-Type", "application/x-protobuf")
                            .send(b.as_slice())
                            .expect("POST");
                        let retry = resp
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        let status = resp.status().as_u16();
                        let text = String::from_utf8_lossy(
                            &resp.body_mut().read_to_vec().unwrap_or_default(),
                        )
                        .into_owned();
                        (status, retry, text)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("client thread"))
                .collect()
        });
        for (status, retry, text) in answers {
            match status {
                200 => ok += 1,
                429 => {
                    limited += 1;
                    assert_eq!(retry.as_deref(), Some("1"), "429 without Retry-After");
                    assert!(text.contains("max_inflight_bytes"), "{text:?}");
                }
                other => panic!("want 200 or 429, got {other}: {text:?}"),
            }
        }
        assert!(c.alive(), "collector died in round {round}");
        if limited > 0 && ok > 0 {
            break;
        }
    }
    assert!(ok > 0, "no request of the burst was accepted");
    assert!(
        limited > 0,
        "no request of the burst got 429 ({ok} accepted)"
    );
    // The budget is given back: a lone request fits again.
    let (status, body) = post(
        &url,
        &[("Content-Type", "application/x-protobuf")],
        &points_request(50_000, "after_burst"),
    );
    assert_eq!(status, 200, "{body}");
}
