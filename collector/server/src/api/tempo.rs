//! Tempo's trace-by-id endpoints: `/api/traces/<id>` (`{"batches": [...]}`)
//! and `/api/v2/traces/<id>` (`{"trace": {"resourceSpans": [...]}}`), OTLP
//! JSON with hex ids; protobuf when the client asks for `application/protobuf`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, TracesData};
use prost::Message;
use serde_json::json;

use crate::{Collector, spans};

/// `GET /api/traces/<traceID>`.
pub async fn trace_v1(
    State(c): State<Collector>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(&c, &id, &headers, |batches| json!({"batches": batches})).await
}

/// `GET /api/v2/traces/<traceID>`.
pub async fn trace_v2(
    State(c): State<Collector>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(
        &c,
        &id,
        &headers,
        |batches| json!({"trace": {"resourceSpans": batches}}),
    )
    .await
}

/// Looks the trace up and answers protobuf or, wrapped by `envelope`, JSON.
async fn answer(
    c: &Collector,
    id: &str,
    headers: &HeaderMap,
    envelope: impl FnOnce(Vec<ResourceSpans>) -> serde_json::Value,
) -> Response {
    match lookup(c, id).await {
        Ok(batches) if wants_protobuf(headers) => protobuf(batches),
        Ok(batches) => axum::Json(envelope(batches)).into_response(),
        Err(resp) => resp,
    }
}

fn wants_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/protobuf") || v.contains("application/x-protobuf"))
}

fn protobuf(batches: Vec<ResourceSpans>) -> Response {
    let body = TracesData {
        resource_spans: batches,
    }
    .encode_to_vec();
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/protobuf"),
    );
    resp
}

/// Parses a hex trace id (up to 32 digits, left-padded as Tempo does) and reads the trace.
async fn lookup(c: &Collector, id: &str) -> Result<Vec<ResourceSpans>, Response> {
    let bad = |msg: String| (StatusCode::BAD_REQUEST, msg).into_response();
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(format!(
            "invalid trace id {:?}: want up to 32 hex digits",
            id.chars().take(40).collect::<String>()
        )));
    }
    let padded = format!("{id:0>32}");
    let mut trace_id = [0u8; 16];
    hex::decode_to_slice(&padded, &mut trace_id)
        .map_err(|e| bad(format!("invalid trace id: {e}")))?;
    let store = std::sync::Arc::clone(&c.store);
    let entries = tokio::task::spawn_blocking(move || store.trace(&trace_id))
        .await
        .map_err(|e| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("trace read failed: {e}"),
            )
                .into_response()
        })?;
    if entries.is_empty() {
        return Err((StatusCode::NOT_FOUND, format!("trace not found: {padded}")).into_response());
    }
    Ok(spans::from_entries(&entries))
}
