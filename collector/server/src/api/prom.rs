//! The Prometheus HTTP API's metadata endpoints: `/api/v1/series`,
//! `/labels`, `/label/<name>/values` (their `match[]` selectors parsed by
//! [`sextant_promql::parse_selector`], so `or` alternatives are accepted and
//! their answers unioned), `/status/buildinfo`, `/format_query` and
//! `/query_exemplars`, plus the parameter helpers the query endpoints share
//! (`time_param`, `now_ms`). PromQL evaluation itself is in [`super::query`],
//! `/metadata` and `/parse_query` in [`super::meta`]. Answers use Prometheus's
//! envelope; errors its `errorType`s ([`ApiError::prometheus`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sextant_model::{Labels, Matcher};
use sextant_store::Store;

use super::error::ApiError;
use super::params::Params;
use super::time::parse_ms;
use crate::Collector;

fn success(data: Value) -> Response {
    Json(json!({"status": "success", "data": data})).into_response()
}

/// A label set as the JSON object Prometheus answers with.
pub fn labels_json(labels: &Labels) -> Value {
    Value::Object(
        labels
            .pairs()
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A time parameter in milliseconds, `default` when absent.
pub fn time_param(p: &Params, key: &str, default: i64) -> Result<i64, ApiError> {
    match p.get(key) {
        None | Some("") => Ok(default),
        Some(t) => {
            parse_ms(t).map_err(|e| ApiError::bad_data(format!("invalid parameter \"{key}\": {e}")))
        }
    }
}

fn limit_param(p: &Params) -> Result<usize, ApiError> {
    match p.get("limit") {
        None | Some("") | Some("0") => Ok(usize::MAX),
        Some(l) => l.parse().map_err(|_| {
            ApiError::bad_data(format!(
                "invalid parameter \"limit\": {l:?} is not a number"
            ))
        }),
    }
}

/// The matcher sets of a request's `match[]` selectors: a series matches
/// the request when it matches any set (every selector, and every `or`
/// alternative within one, is a set of its own).
fn match_params(p: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let mut sets = Vec::new();
    for s in p.all("match[]") {
        let parsed = sextant_promql::parse_selector(s)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"match[]\": {e}")))?;
        sets.extend(parsed);
    }
    Ok(sets)
}

/// Runs a blocking store read, and whatever sorts and encodes its answer,
/// off the async workers.
async fn read<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| ApiError::internal(format!("store read failed: {e}")))
}

/// `GET|POST /api/v1/series`.
pub async fn series(State(c): State<Collector>, p: Params) -> Response {
    let run = async {
        let sets = match_params(&p)?;
        if sets.is_empty() {
            return Err(ApiError::bad_data("no match[] parameter provided"));
        }
        let end = time_param(&p, "end", now_ms())?;
        let start = time_param(&p, "start", i64::MIN / 2)?;
        let limit = limit_param(&p)?;
        // Sorting and encoding a million label sets is query work: off the async workers too.
        read(&c.store, move |s| {
            let mut all: Vec<Labels> = sets.iter().flat_map(|m| s.series(m, start, end)).collect();
            all.sort();
            all.dedup();
            all.truncate(limit);
            success(Value::Array(all.iter().map(labels_json).collect()))
        })
        .await
    };
    run.await.unwrap_or_else(ApiError::prometheus)
}

/// `GET|POST /api/v1/labels`.
pub async fn labels(State(c): State<Collector>, p: Params) -> Response {
    let run = async {
        let sets = match_params(&p)?;
        let end = time_param(&p, "end", now_ms())?;
        let start = time_param(&p, "start", i64::MIN / 2)?;
        let limit = limit_param(&p)?;
        read(&c.store, move |s| {
            let mut names: Vec<String> = if sets.is_empty() {
                s.label_names(&[], start, end)
            } else {
                sets.iter()
                    .flat_map(|m| s.label_names(m, start, end))
                    .collect()
            };
            names.sort();
            names.dedup();
            names.truncate(limit);
            success(json!(names))
        })
        .await
    };
    run.await.unwrap_or_else(ApiError::prometheus)
}

/// `GET /api/v1/label/<name>/values`.
pub async fn label_values(
    State(c): State<Collector>,
    Path(name): Path<String>,
    p: Params,
) -> Response {
    let run = async {
        let sets = match_params(&p)?;
        let end = time_param(&p, "end", now_ms())?;
        let start = time_param(&p, "start", i64::MIN / 2)?;
        let limit = limit_param(&p)?;
        read(&c.store, move |s| {
            let mut values: Vec<String> = if sets.is_empty() {
                s.label_values(&name, &[], start, end)
            } else {
                sets.iter()
                    .flat_map(|m| s.label_values(&name, m, start, end))
                    .collect()
            };
            values.sort();
            values.dedup();
            values.truncate(limit);
            success(json!(values))
        })
        .await
    };
    run.await.unwrap_or_else(ApiError::prometheus)
}

/// `GET /api/v1/status/buildinfo`, without `features` so Grafana does not take us for Mimir.
pub async fn buildinfo() -> Response {
    success(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": "",
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    }))
}

/// `GET|POST /api/v1/format_query`: the expression pretty-printed as Prometheus does.
pub async fn format_query(p: Params) -> Response {
    let run = || {
        let text = p
            .get("query")
            .ok_or_else(|| ApiError::bad_data("invalid parameter \"query\": missing"))?;
        let expr = sextant_promql::parse(text)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
        Ok::<_, ApiError>(success(json!(expr.prettify())))
    };
    run().unwrap_or_else(ApiError::prometheus)
}

/// `GET|POST /api/v1/query_exemplars`: exemplars are not stored yet, so a
/// valid query answers an empty list (as Prometheus does with none stored).
pub async fn query_exemplars(p: Params) -> Response {
    let run = || {
        let text = p
            .get("query")
            .ok_or_else(|| ApiError::bad_data("invalid parameter \"query\": missing"))?;
        // Prometheus answers this endpoint's parse errors without the
        // `invalid parameter "query": ` prefix the query endpoints use.
        sextant_promql::parse(text).map_err(|e| ApiError::bad_data(e.to_string()))?;
        time_param(&p, "start", 0)?;
        time_param(&p, "end", 0)?;
        Ok::<_, ApiError>(success(json!([])))
    };
    run().unwrap_or_else(ApiError::prometheus)
}
