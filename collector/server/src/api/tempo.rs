//! Tempo's trace-by-id endpoints: `/api/traces/<id>` (`{"batches": [...]}`)
//! and `/api/v2/traces/<id>` (`{"trace": {"resourceSpans": [...]}}`), OTLP
//! JSON with hex ids; protobuf when the client asks for `application/protobuf`.
//! Also the tag search, `/api/search`. Errors are plain text with the status
//! code, as Tempo answers them ([`ApiError::tempo`]).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, TracesData};
use prost::Message;
use serde_json::json;

use super::error::{ApiError, ErrorType};
use crate::Collector;
use crate::ingest::spans;

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
        Err(e) => e.tempo(),
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
async fn lookup(c: &Collector, id: &str) -> Result<Vec<ResourceSpans>, ApiError> {
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_data(format!(
            "invalid trace id {:?}: want up to 32 hex digits",
            id.chars().take(40).collect::<String>()
        )));
    }
    let padded = format!("{id:0>32}");
    let mut trace_id = [0u8; 16];
    hex::decode_to_slice(&padded, &mut trace_id)
        .map_err(|e| ApiError::bad_data(format!("invalid trace id: {e}")))?;
    let store = std::sync::Arc::clone(&c.store);
    let entries = tokio::task::spawn_blocking(move || store.trace(&trace_id))
        .await
        .map_err(|e| ApiError::internal(format!("trace read failed: {e}")))?;
    if entries.is_empty() {
        return Err(ApiError::new(
            ErrorType::NotFound,
            format!("trace not found: {padded}"),
        ));
    }
    Ok(spans::from_entries(&entries))
}

/// How many candidate traces a tag search inspects at most.
const MAX_INSPECTED: usize = 10_000;

/// `GET /api/search`: recent traces, optionally filtered by `tags`
/// (logfmt `key=value` pairs matched against resource and span attributes,
/// `name` against span names), in Tempo's response shape.
pub async fn search(State(c): State<Collector>, p: super::params::Params) -> Response {
    let bad = |msg: String| ApiError::bad_data(msg).tempo();
    let secs = |key: &str| -> Result<Option<i64>, String> {
        match p.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(|s| Some(s.saturating_mul(1_000_000_000)))
                .map_err(|_| format!("invalid {key} {v:?}: want Unix seconds")),
        }
    };
    let (start, end) = match (secs("start"), secs("end")) {
        (Ok(s), Ok(e)) => (s.unwrap_or(i64::MIN), e.unwrap_or(i64::MAX)),
        (Err(e), _) | (_, Err(e)) => return bad(e),
    };
    let limit = match p.get("limit").map(str::parse::<usize>) {
        None => 20,
        Some(Ok(n)) => n.clamp(1, 1000),
        Some(Err(_)) => return bad("invalid limit".to_string()),
    };
    let tags = match parse_tags(p.get("tags").unwrap_or("")) {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    let store = std::sync::Arc::clone(&c.store);
    let found = tokio::task::spawn_blocking(move || {
        let candidates = store.trace_ids(
            start,
            end,
            if tags.is_empty() {
                limit
            } else {
                MAX_INSPECTED
            },
        );
        let mut out = Vec::new();
        for (id, _) in &candidates {
            let batches = spans::from_entries(&store.trace(id));
            if !tags.iter().all(|(k, v)| trace_has(&batches, k, v)) {
                continue;
            }
            out.push(summary(id, &batches));
            if out.len() == limit {
                break;
            }
        }
        (out, candidates.len())
    })
    .await;
    match found {
        Ok((traces, inspected)) => {
            axum::Json(json!({"traces": traces, "metrics": {"inspectedTraces": inspected}}))
                .into_response()
        }
        Err(e) => ApiError::internal(format!("search failed: {e}")).tempo(),
    }
}

/// Parses Tempo's logfmt `tags` (`a=b c="d e"`), bounded in size.
fn parse_tags(text: &str) -> Result<Vec<(String, String)>, String> {
    if text.len() > 4096 {
        return Err("tags over 4096 bytes".to_string());
    }
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("invalid tags {text:?}: want key=value pairs"))?;
        let key = rest[..eq].trim().to_string();
        rest = &rest[eq + 1..];
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let close = quoted
                .find('"')
                .ok_or_else(|| format!("invalid tags {text:?}: unclosed quote"))?;
            let v = quoted[..close].to_string();
            rest = &quoted[close + 1..];
            v
        } else {
            let stop = rest.find(' ').unwrap_or(rest.len());
            let v = rest[..stop].to_string();
            rest = &rest[stop..];
            v
        };
        if key.is_empty() {
            return Err(format!("invalid tags {text:?}: empty key"));
        }
        out.push((key, value));
        rest = rest.trim_start();
    }
    Ok(out)
}

fn attr_is(
    attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
    value: &str,
) -> bool {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    attrs.iter().any(|kv| {
        kv.key == key
            && match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => s == value,
                Some(Value::IntValue(i)) => i.to_string() == value,
                Some(Value::BoolValue(b)) => b.to_string() == value,
                Some(Value::DoubleValue(d)) => d.to_string() == value,
                _ => false,
            }
    })
}

fn trace_has(batches: &[ResourceSpans], key: &str, value: &str) -> bool {
    batches.iter().any(|rs| {
        let resource_match = rs
            .resource
            .as_ref()
            .is_some_and(|r| attr_is(&r.attributes, key, value));
        resource_match
            || rs
                .scope_spans
                .iter()
                .flat_map(|ss| &ss.spans)
                .any(|s| (key == "name" && s.name == value) || attr_is(&s.attributes, key, value))
    })
}

/// Tempo's per-trace search result: root service and span, start, duration.
fn summary(id: &[u8; 16], batches: &[ResourceSpans]) -> serde_json::Value {
    let mut start = u64::MAX;
    let mut end = 0u64;
    let mut root: Option<(String, String)> = None;
    for rs in batches {
        let service = rs
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| match &v.value {
                Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => {
                    Some(s.clone())
                }
                _ => None,
            })
            .unwrap_or_default();
        for s in rs.scope_spans.iter().flat_map(|ss| &ss.spans) {
            start = start.min(s.start_time_unix_nano);
            end = end.max(s.end_time_unix_nano);
            if s.parent_span_id.is_empty() && root.is_none() {
                root = Some((service.clone(), s.name.clone()));
            }
        }
    }
    let (service, name) =
        root.unwrap_or_else(|| ("<root span not yet received>".to_string(), String::new()));
    json!({
        "traceID": hex::encode(id),
        "rootServiceName": service,
        "rootTraceName": name,
        "startTimeUnixNano": start.to_string(),
        "durationMs": end.saturating_sub(start) / 1_000_000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_logfmt_tags() {
        type Case<'a> = (&'a str, Option<Vec<(&'a str, &'a str)>>);
        let cases: &[Case] = &[
            ("", Some(vec![])),
            ("service.name=shop", Some(vec![("service.name", "shop")])),
            (
                r#"a=1 name="GET /x""#,
                Some(vec![("a", "1"), ("name", "GET /x")]),
            ),
            ("novalue", None),
            (r#"a="open"#, None),
            ("=x", None),
        ];
        for (text, want) in cases {
            let got = parse_tags(text).ok();
            let want = want.as_ref().map(|w| {
                w.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<Vec<_>>()
            });
            assert_eq!(got, want, "{text}");
        }
    }
}
