//! Tempo's endpoints through the collector's app, over a trace sent to the
//! OTLP/HTTP receiver: trace by id (v1 and v2, JSON and protobuf, short ids
//! left-padded), tag search, and errors as Tempo answers them: plain text.

use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message;
use serde_json::json;

use crate::test_support::{collector, get, get_with, post};

const TRACE: &str = "00000000000000000000000000000abc";

async fn send_trace(c: &crate::Collector) {
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": TRACE,
            "spanId": "eee19b7ec3c1b174",
            "name": "GET /cart",
            "kind": 2,
            "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000000250000000",
        }]}],
    }]});
    let a = post(
        &c.otlp_http_router(),
        "/v1/traces",
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
}

#[tokio::test]
async fn trace_by_id_in_both_shapes_and_protobuf() {
    let (c, _dir) = collector();
    send_trace(&c).await;
    let app = c.app();
    for id in [TRACE, "abc", "ABC"] {
        let a = get(&app, &format!("/api/traces/{id}")).await;
        assert_eq!(a.status, 200, "{id}: {}", a.text());
        let v = a.json();
        assert_eq!(
            v["batches"][0]["scopeSpans"][0]["spans"][0]["name"], "GET /cart",
            "{id}: {v}"
        );
    }
    let a = get(&app, "/api/v2/traces/abc").await;
    assert_eq!(
        a.json()["trace"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"],
        "eee19b7ec3c1b174",
        "{}",
        a.text()
    );
    let a = get_with(
        &app,
        "/api/v2/traces/abc",
        &[("accept", "application/protobuf")],
    )
    .await;
    assert_eq!(a.content_type(), "application/protobuf");
    let data = TracesData::decode(a.body.as_ref()).expect("protobuf trace");
    assert_eq!(
        data.resource_spans[0].scope_spans[0].spans[0].name,
        "GET /cart"
    );
}

#[tokio::test]
async fn bad_and_unknown_ids_answer_plain_text() {
    let (c, _dir) = collector();
    send_trace(&c).await;
    let app = c.app();
    let long = "a".repeat(33);
    for (uri, status, want) in [
        (
            "/api/traces/xyz".to_string(),
            400,
            "invalid trace id \"xyz\": want up to 32 hex digits".to_string(),
        ),
        (
            format!("/api/v2/traces/{long}"),
            400,
            format!("invalid trace id \"{long}\": want up to 32 hex digits"),
        ),
        (
            "/api/traces/abd".to_string(),
            404,
            "trace not found: 00000000000000000000000000000abd".to_string(),
        ),
        (
            "/api/search?limit=x".to_string(),
            400,
            "invalid limit".to_string(),
        ),
        (
            "/api/search?start=monday".to_string(),
            400,
            "invalid start \"monday\": want Unix seconds".to_string(),
        ),
    ] {
        let a = get(&app, &uri).await;
        assert_eq!(a.status, status, "{uri}: {}", a.text());
        assert_eq!(a.content_type(), "text/plain; charset=utf-8", "{uri}");
        assert_eq!(a.text(), want, "{uri}");
    }
}

#[tokio::test]
async fn search_by_tags_finds_the_trace() {
    let (c, _dir) = collector();
    send_trace(&c).await;
    let app = c.app();
    let a = get(&app, "/api/search?tags=service.name%3Dshop").await;
    assert_eq!(a.status, 200, "{}", a.text());
    let t = &a.json()["traces"][0];
    assert_eq!(
        (
            &t["traceID"],
            &t["rootServiceName"],
            &t["rootTraceName"],
            &t["durationMs"]
        ),
        (
            &json!(TRACE),
            &json!("shop"),
            &json!("GET /cart"),
            &json!(250)
        )
    );
    let a = get(&app, "/api/search?tags=service.name%3Dother").await;
    assert_eq!(a.json()["traces"], json!([]), "{}", a.text());
}
