//! The OTLP/HTTP receiver through its router: protobuf and JSON bodies,
//! gzip, the answer in the request's encoding, and refusals (415, 413, 400)
//! as a `google.rpc.Status` carrying the gRPC code. What is stored is read
//! back through the API.

use std::io::Write;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::metrics::v1::{NumberDataPoint, number_data_point};
use prost::Message;
use serde_json::json;

use crate::Limits;
use crate::api::error::RpcStatus;
use crate::test_support::{T0_MS, collector, collector_with, gauge_request, get, post, qs};

const PB: (&str, &str) = ("content-type", "application/x-protobuf");
const JSON: (&str, &str) = ("content-type", "application/json");

/// One gauge point `name{job="svc"} = value` at `T0_MS`.
fn gauge(name: &str, value: f64) -> ExportMetricsServiceRequest {
    gauge_request(
        name,
        vec![NumberDataPoint {
            time_unix_nano: (T0_MS * 1_000_000) as u64,
            value: Some(number_data_point::Value::AsDouble(value)),
            ..Default::default()
        }],
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("in-memory gzip");
    e.finish().expect("in-memory gzip")
}

/// The value the API answers for `name{job="svc"}` at `T0_MS`.
async fn stored(c: &crate::Collector, name: &str) -> serde_json::Value {
    let q = qs(&[
        ("query", &format!("{name}{{job=\"svc\"}}")),
        ("time", &(T0_MS / 1000).to_string()),
    ]);
    get(&c.app(), &format!("/api/v1/query?{q}")).await.json()["data"]["result"][0]["value"][1]
        .clone()
}

/// proto3 JSON spells NaN and the infinities as strings; they are stored
/// as the doubles they name, as the same points over protobuf would be.
#[tokio::test]
async fn special_doubles_in_json_are_stored() {
    let (c, _dir) = collector();
    let router = c.otlp_http_router();
    for (name, sent, read) in [
        ("nan_gauge", "\"NaN\"", "NaN"),
        ("inf_gauge", "\"Infinity\"", "+Inf"),
        ("neg_inf_gauge", "\"-Infinity\"", "-Inf"),
        (
            "exact_gauge",
            "\"0.30000000000000004\"",
            "0.30000000000000004",
        ),
    ] {
        let mut body = serde_json::to_value(gauge(name, 0.0)).expect("OTLP JSON");
        let point = &mut body["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["gauge"]["dataPoints"]
            [0];
        point["asDouble"] = serde_json::from_str(sent).expect("JSON");
        let a = post(&router, "/v1/metrics", &[JSON], body.to_string()).await;
        assert_eq!(a.status, 200, "{sent}: {}", a.text());
        assert_eq!(
            a.json()["partialSuccess"],
            serde_json::Value::Null,
            "{sent}"
        );
        assert_eq!(stored(&c, name).await, read, "{sent}");
    }
}

#[tokio::test]
async fn protobuf_json_and_gzip_bodies_are_stored() {
    let (c, _dir) = collector();
    let router = c.otlp_http_router();
    let a = post(
        &router,
        "/v1/metrics",
        &[PB],
        gauge("pb_gauge", 1.5).encode_to_vec(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.content_type(), "application/x-protobuf");
    let resp = ExportMetricsServiceResponse::decode(a.body.as_ref()).expect("protobuf response");
    assert_eq!(resp.partial_success, None);

    let json_body = serde_json::to_vec(&gauge("json_gauge", 2.5)).expect("OTLP JSON");
    let a = post(&router, "/v1/metrics", &[JSON], json_body.clone()).await;
    assert_eq!(
        (a.status.as_u16(), a.content_type()),
        (200, "application/json"),
        "{}",
        a.text()
    );

    let a = post(
        &router,
        "/v1/metrics",
        &[PB, ("content-encoding", "gzip")],
        gzip(&gauge("gz_gauge", 3.5).encode_to_vec()),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());

    assert_eq!(stored(&c, "pb_gauge").await, "1.5");
    assert_eq!(stored(&c, "json_gauge").await, "2.5");
    assert_eq!(stored(&c, "gz_gauge").await, "3.5");

    // Logs and traces take the same path; an empty request is a success.
    let a = post(&router, "/v1/logs", &[PB], Vec::new()).await;
    assert_eq!(a.status, 200, "{}", a.text());
    ExportLogsServiceResponse::decode(a.body.as_ref()).expect("logs response");
    let a = post(&router, "/v1/traces", &[JSON], "{}").await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        a.json()["partialSuccess"],
        serde_json::Value::Null,
        "{}",
        a.text()
    );
}

/// Decodes a refusal as a client would, by its content type.
fn status_of(a: &crate::test_support::Answer) -> (u16, i32, String) {
    let s = match a.content_type() {
        "application/x-protobuf" => RpcStatus::decode(a.body.as_ref()).expect("protobuf Status"),
        "application/json" => {
            let v = a.json();
            RpcStatus {
                code: v["code"].as_i64().unwrap_or(-1) as i32,
                message: v["message"].as_str().unwrap_or("").to_string(),
            }
        }
        other => panic!("refusal in {other:?}: {}", a.text()),
    };
    (a.status.as_u16(), s.code, s.message)
}

#[tokio::test]
async fn refusals_are_google_rpc_status_in_the_requests_encoding() {
    let (c, _dir) = collector_with(Limits {
        max_request_bytes: 1024,
        max_decompressed_bytes: 4096,
        ..Limits::default()
    });
    let router = c.otlp_http_router();
    // (what, path, headers, body, status, gRPC code, encoding, reason starts with)
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, &'a str)>,
        Vec<u8>,
        u16,
        i32,
        &'a str,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "garbage protobuf",
            "/v1/logs",
            vec![PB],
            vec![0xff, 0xff, 0xff, 0x0f],
            400,
            3,
            "application/x-protobuf",
            "malformed protobuf ExportLogsServiceRequest: ",
        ),
        (
            "bad JSON",
            "/v1/metrics",
            vec![JSON],
            b"{\"resourceMetrics\": [".to_vec(),
            400,
            3,
            "application/json",
            "malformed JSON ExportMetricsServiceRequest: ",
        ),
        (
            "not UTF-8",
            "/v1/traces",
            vec![JSON],
            vec![b'{', 0xc3, 0x28, b'}'],
            400,
            3,
            "application/json",
            "JSON ExportTraceServiceRequest is not valid UTF-8: ",
        ),
        (
            "wrong content type",
            "/v1/logs",
            vec![("content-type", "text/plain")],
            b"hi".to_vec(),
            415,
            3,
            "application/json",
            "unsupported Content-Type \"text/plain\"",
        ),
        (
            "unknown content encoding",
            "/v1/logs",
            vec![PB, ("content-encoding", "br")],
            b"hi".to_vec(),
            415,
            3,
            "application/x-protobuf",
            "unsupported Content-Encoding \"br\"",
        ),
        (
            "not gzip",
            "/v1/logs",
            vec![PB, ("content-encoding", "gzip")],
            b"plain".to_vec(),
            400,
            3,
            "application/x-protobuf",
            "gzip body does not decompress",
        ),
        (
            "oversize",
            "/v1/metrics",
            vec![PB],
            vec![0u8; 2048],
            413,
            8,
            "application/x-protobuf",
            "request body over the 1024 byte limit",
        ),
        (
            "gzip bomb",
            "/v1/metrics",
            vec![JSON, ("content-encoding", "gzip")],
            gzip(&[b' '; 8192]),
            413,
            8,
            "application/json",
            "gzip body inflates past the 4096 byte limit",
        ),
    ];
    for (what, path, headers, body, status, code, encoding, reason) in cases {
        let a = post(&router, path, &headers, body).await;
        assert_eq!(a.content_type(), encoding, "{what}: {}", a.text());
        let (s, grpc, message) = status_of(&a);
        assert_eq!((s, grpc), (status, code), "{what}: {message}");
        assert!(message.starts_with(reason), "{what}: {message:?}");
    }
    // A JSON refusal is the Status's JSON mapping.
    let a = post(&router, "/v1/logs", &[JSON], "[").await;
    let v = a.json();
    assert_eq!(v.as_object().map(|o| o.len()), Some(2), "{v}");
    assert_eq!(v["code"], json!(3), "{v}");
    // Only POST is routed.
    assert_eq!(get(&router, "/v1/logs").await.status, 405);
}
