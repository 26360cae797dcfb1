//! Malformed and oversize payloads on every receiver get a 4xx with a reason,
//! and the collector keeps serving (and keeps what it had accepted).

use crate::common;

use std::io::Write;

use common::{Collector, enc, post};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// What, URL, headers, body, expected status, a word the reason must contain.
type Case<'a> = (
    &'a str,
    String,
    Vec<(&'a str, &'a str)>,
    Vec<u8>,
    u16,
    &'a str,
);

#[test]
fn bad_input_gets_a_reason_and_the_collector_stays_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = Collector::start(&dir.path().join("data"));
    let otlp = |p: &str| format!("http://{}{p}", c.otlp_http);
    let api = |p: &str| format!("http://{}{p}", c.http);

    // A good write first: it must survive everything below.
    let good = r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"mal"}}]},
        "scopeMetrics":[{"metrics":[{"name":"kept","gauge":{"dataPoints":[{"asDouble":7,"timeUnixNano":"TS"}]}}]}]}]}"#
        .replace("TS", &format!("{}", (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos())));
    let (status, body) = post(
        &otlp("/v1/metrics"),
        &[("Content-Type", "application/json")],
        good.as_bytes(),
    );
    assert_eq!(status, 200, "{body}");

    let pb = ("Content-Type", "application/x-protobuf");
    let json = ("Content-Type", "application/json");
    let gz = ("Content-Encoding", "gzip");
    let bomb = gzip(&vec![b'{'; 80 << 20]);
    let huge = vec![0u8; 17 << 20];
    let cases: Vec<Case> = vec![
        (
            "garbage protobuf",
            otlp("/v1/logs"),
            vec![pb],
            vec![0xff, 0xff, 0xff, 0x0f],
            400,
            "malformed protobuf",
        ),
        (
            "truncated protobuf",
            otlp("/v1/traces"),
            vec![pb],
            vec![0x0a, 0x10, 0x01],
            400,
            "malformed protobuf",
        ),
        (
            "bad JSON",
            otlp("/v1/metrics"),
            vec![json],
            b"{\"resourceMetrics\": [".to_vec(),
            400,
            "malformed JSON",
        ),
        (
            "wrong JSON type",
            otlp("/v1/logs"),
            vec![json],
            br#"{"resourceLogs": 5}"#.to_vec(),
            400,
            "malformed JSON",
        ),
        (
            "bad hex trace id",
            otlp("/v1/traces"),
            vec![json],
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"00"}]}]}]}"#
                .to_vec(),
            400,
            "invalid character",
        ),
        (
            "invalid UTF-8 JSON",
            otlp("/v1/logs"),
            vec![json],
            vec![b'{', 0xc3, 0x28, b'}'],
            400,
            "UTF-8",
        ),
        (
            "unknown content type",
            otlp("/v1/logs"),
            vec![("Content-Type", "text/plain")],
            b"hi".to_vec(),
            415,
            "Content-Type",
        ),
        (
            "not gzip",
            otlp("/v1/logs"),
            vec![pb, gz],
            b"plain".to_vec(),
            400,
            "gzip",
        ),
        (
            "gzip bomb",
            otlp("/v1/logs"),
            vec![json, gz],
            bomb,
            413,
            "limit",
        ),
        (
            "oversize body",
            otlp("/v1/metrics"),
            vec![pb],
            huge.clone(),
            413,
            "limit",
        ),
        (
            "remote-write garbage",
            api("/api/v1/write"),
            vec![pb],
            b"not snappy".to_vec(),
            400,
            "remote-write",
        ),
        (
            "remote-write oversize",
            api("/api/v1/write"),
            vec![pb],
            huge,
            413,
            "limit",
        ),
    ];
    for (what, url, headers, body, want, reason) in cases {
        let (status, text) = post(&url, &headers, &body);
        assert_eq!(status, want, "{what}: {text}");
        assert!(
            text.contains(reason),
            "{what}: reason {text:?} should mention {reason:?}"
        );
        assert!(c.alive(), "collector died on {what}");
    }

    // gRPC: undecodable and oversize messages, sent by the real grpcio client.
    let script = r#"
import sys, grpc
ch = grpc.insecure_channel(sys.argv[1])
call = ch.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")
for body, want in ((b"\xff\xff\xff\x0f", grpc.StatusCode.INVALID_ARGUMENT), (b"\x0a" + b"\x80" * 9, grpc.StatusCode.INVALID_ARGUMENT), (b"\x00" * (70 << 20), grpc.StatusCode.OUT_OF_RANGE)):
    try:
        call(body, timeout=20)
        sys.exit("accepted malformed gRPC body")
    except grpc.RpcError as e:
        if e.code() != want or not e.details():
            sys.exit(f"want {want}, got {e.code()} {e.details()!r}")
        print(e.code(), e.details())
"#;
    common::run_python(&["-c", script, &c.otlp_grpc], "gRPC cases");
    assert!(c.alive(), "collector died on malformed gRPC");

    // Bad queries answer in Prometheus's error shape.
    let v = c.get_json(&format!("/api/v1/query?query={}", enc("up{")));
    assert_eq!(v["status"], "error");
    assert_eq!(v["errorType"], "bad_data");

    // Still serving, and the first write is still there.
    c.wait_ready();
    let v = c.get_json(&format!(
        "/api/v1/query?query={}",
        enc(r#"kept{job="mal"}"#)
    ));
    assert_eq!(v["data"]["result"][0]["value"][1], "7", "{v}");
}
