//! Loki's read API for stream selectors: `query_range`, `labels`,
//! `label/<name>/values` and `series`, answered in Loki's format. Selectors
//! are parsed by [`sextant_promql::parse_selector`] (LogQL stream selectors
//! share PromQL's syntax), so `or` alternatives work as in `match[]`, their
//! streams unioned. With `X-Loki-Response-Encoding-Flags: categorize-labels`
//! (Grafana sends it) structured metadata rides as the third element of each
//! value, as in Loki 3; without it, metadata is folded into the stream
//! labels as older clients expect. Errors are plain text with the status
//! code, as Loki answers them ([`ApiError::loki`]).

use std::collections::{BTreeMap, HashSet};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sextant_model::{Labels, LogEntry, Matcher};

use super::error::ApiError;
use super::params::Params;
use super::prom::labels_json;
use super::time::parse_ns;
use crate::Collector;

/// Loki's default and maximum line counts per query.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 5000;

/// `GET|POST /loki/api/v1/query_range`.
pub async fn query_range(State(c): State<Collector>, headers: HeaderMap, p: Params) -> Response {
    let run = async {
        let query = p
            .get("query")
            .ok_or_else(|| ApiError::bad_data("query parameter is required"))?;
        let sets = sextant_promql::parse_selector(query.trim()).map_err(|e| {
            ApiError::bad_data(format!(
                "{e} (only stream selectors are supported so far; line filters come later)"
            ))
        })?;
        let (start, end) = window(&p)?;
        let limit = match p.get("limit") {
            Some(l) => l
                .parse::<usize>()
                .map_err(|_| ApiError::bad_data(format!("invalid limit {l:?}")))?,
            None => DEFAULT_LIMIT,
        }
        .min(MAX_LIMIT);
        let backward = !matches!(p.get("direction"), Some(d) if d.eq_ignore_ascii_case("forward"));
        let categorize = headers
            .get("X-Loki-Response-Encoding-Flags")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|f| f.trim() == "categorize-labels"));
        let store = std::sync::Arc::clone(&c.store);
        let entries = tokio::task::spawn_blocking(move || {
            let per_set = sets
                .iter()
                .map(|m| store.logs(m, start, end, limit, backward))
                .collect();
            union(per_set, limit, backward)
        })
        .await
        .map_err(|e| ApiError::internal(format!("log read failed: {e}")))?;

        let mut streams: BTreeMap<Labels, Vec<Value>> = BTreeMap::new();
        for e in entries {
            let (key, value) = if categorize {
                let mut v = vec![json!(e.t_ns.to_string()), json!(e.line)];
                if !e.metadata.pairs().is_empty() {
                    v.push(json!({"structuredMetadata": labels_json(&e.metadata)}));
                }
                (e.stream, Value::Array(v))
            } else {
                let merged: Vec<(String, String)> = e
                    .stream
                    .pairs()
                    .iter()
                    .chain(e.metadata.pairs())
                    .cloned()
                    .collect();
                (
                    Labels::from_pairs(merged),
                    json!([e.t_ns.to_string(), e.line]),
                )
            };
            streams.entry(key).or_default().push(value);
        }
        let result: Vec<Value> = streams
            .into_iter()
            .map(|(labels, values)| json!({"stream": labels_json(&labels), "values": values}))
            .collect();
        let mut body = json!({
            "status": "success",
            "data": {"resultType": "streams", "result": result, "stats": {}},
        });
        if categorize {
            body["data"]["encodingFlags"] = json!(["categorize-labels"]);
        }
        Ok::<_, ApiError>(axum::Json(body).into_response())
    };
    run.await.unwrap_or_else(ApiError::loki)
}

/// The entries of several matcher sets' answers (each newest first if
/// `backward`, at most `limit`) as one answer of the same shape. A stream
/// that more than one set matched is taken from the first set that returned
/// lines of it, so no line appears twice: another set's lines of that stream
/// are the same lines, or older ones that the cut to `limit` drops anyway.
fn union(mut per_set: Vec<Vec<LogEntry>>, limit: usize, backward: bool) -> Vec<LogEntry> {
    if per_set.len() <= 1 {
        return per_set.pop().unwrap_or_default();
    }
    let mut seen: HashSet<Labels> = HashSet::new();
    let mut out = Vec::new();
    for entries in per_set {
        let fresh: HashSet<Labels> = entries
            .iter()
            .map(|e| e.stream.clone())
            .filter(|s| !seen.contains(s))
            .collect();
        out.extend(entries.into_iter().filter(|e| fresh.contains(&e.stream)));
        seen.extend(fresh);
    }
    // The store's order: by time, ties by stream labels, reversed when
    // backward (a stable sort keeps each stream's own order).
    out.sort_by(|a, b| {
        let order = a.t_ns.cmp(&b.t_ns).then_with(|| a.stream.cmp(&b.stream));
        if backward { order.reverse() } else { order }
    });
    out.truncate(limit);
    out
}

/// The time window of a Loki request: `start`/`end` (default the last hour).
fn window(p: &Params) -> Result<(i64, i64), ApiError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    let end = p
        .get("end")
        .map(parse_ns)
        .transpose()
        .map_err(ApiError::bad_data)?
        .unwrap_or(now);
    let start = p
        .get("start")
        .map(parse_ns)
        .transpose()
        .map_err(ApiError::bad_data)?
        .unwrap_or(end - 3_600_000_000_000);
    Ok((start, end))
}

/// Stream labels of streams matching `query` (or every stream), in the window.
async fn streams(c: &Collector, p: &Params, selectors: Vec<&str>) -> Result<Vec<Labels>, ApiError> {
    let (start, end) = window(p)?;
    let mut sets: Vec<Vec<Matcher>> = Vec::new();
    for s in &selectors {
        let parsed = sextant_promql::parse_selector(s.trim())
            .map_err(|e| ApiError::bad_data(e.to_string()))?;
        sets.extend(parsed);
    }
    if selectors.is_empty() {
        sets.push(Vec::new());
    }
    let store = std::sync::Arc::clone(&c.store);
    let mut out = tokio::task::spawn_blocking(move || {
        sets.iter()
            .flat_map(|m| store.log_streams(m, start, end))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::internal(format!("log read failed: {e}")))?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn loki_data(data: Value) -> Response {
    axum::Json(json!({"status": "success", "data": data})).into_response()
}

/// `GET|POST /loki/api/v1/labels`: label names of streams in the window.
pub async fn labels(State(c): State<Collector>, p: Params) -> Response {
    let run = async {
        let found = streams(&c, &p, p.get("query").into_iter().collect()).await?;
        let mut names: Vec<&str> = found
            .iter()
            .flat_map(|l| l.pairs().iter().map(|(k, _)| k.as_str()))
            .collect();
        names.sort_unstable();
        names.dedup();
        Ok::<_, ApiError>(loki_data(json!(names)))
    };
    run.await.unwrap_or_else(ApiError::loki)
}

/// `GET /loki/api/v1/label/<name>/values`.
pub async fn label_values(
    State(c): State<Collector>,
    Path(name): Path<String>,
    p: Params,
) -> Response {
    let run = async {
        let found = streams(&c, &p, p.get("query").into_iter().collect()).await?;
        let mut values: Vec<&str> = found.iter().filter_map(|l| l.get(&name)).collect();
        values.sort_unstable();
        values.dedup();
        Ok::<_, ApiError>(loki_data(json!(values)))
    };
    run.await.unwrap_or_else(ApiError::loki)
}

/// `GET|POST /loki/api/v1/series`: label sets of streams matching `match[]`.
pub async fn series(State(c): State<Collector>, p: Params) -> Response {
    let run = async {
        let selectors = p.all("match[]");
        if selectors.is_empty() {
            return Err(ApiError::bad_data(
                "at least one match[] parameter is required",
            ));
        }
        let found = streams(&c, &p, selectors).await?;
        Ok(loki_data(Value::Array(
            found.iter().map(labels_json).collect(),
        )))
    };
    run.await.unwrap_or_else(ApiError::loki)
}
