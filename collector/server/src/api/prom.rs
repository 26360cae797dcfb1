//! The Prometheus HTTP API, first cut: series, labels, label values,
//! buildinfo, and instant queries of selectors. Envelope, string-encoded
//! values and `errorType`s as Prometheus answers them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use promql_parser::parser::{self, Expr, Offset, VectorSelector};
use serde_json::{Value, json};
use sextant_store::{Labels, Matcher, Sample, Store};

use super::params::Params;
use super::time::parse_ms;
use crate::Collector;
use crate::selector;

/// Prometheus's default lookback for instant vectors.
const LOOKBACK_MS: i64 = 5 * 60 * 1000;
/// The NaN bit pattern Prometheus writes as a staleness marker.
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// A Prometheus API error: `errorType` decides the status code.
pub struct ApiError {
    kind: &'static str,
    message: String,
}

impl ApiError {
    /// `bad_data` (400): the request is wrong.
    pub fn bad_data(message: impl Into<String>) -> ApiError {
        ApiError {
            kind: "bad_data",
            message: message.into(),
        }
    }

    /// `internal` (500).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            kind: "internal",
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self.kind {
            "bad_data" => StatusCode::BAD_REQUEST,
            "execution" => StatusCode::UNPROCESSABLE_ENTITY,
            "timeout" | "canceled" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (
            status,
            Json(json!({"status": "error", "errorType": self.kind, "error": self.message})),
        )
            .into_response()
    }
}

fn success(data: Value) -> Response {
    Json(json!({"status": "success", "data": data})).into_response()
}

/// Formats a sample value as Prometheus does (`NaN`, `+Inf`, `-Inf`, shortest decimal).
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

/// A timestamp in the float seconds Prometheus's JSON uses.
fn format_time(ms: i64) -> Value {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

fn labels_json(labels: &Labels) -> Value {
    Value::Object(
        labels
            .pairs()
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn time_param(p: &Params, key: &str, default: i64) -> Result<i64, ApiError> {
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

/// The `match[]` selectors of a request, each parsed to matchers.
fn match_params(p: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    p.all("match[]")
        .into_iter()
        .map(|s| {
            selector::parse(s)
                .map_err(|e| ApiError::bad_data(format!("invalid parameter \"match[]\": {e}")))
        })
        .collect()
}

/// Runs a blocking store read off the async workers.
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
        let mut all: Vec<Labels> = read(&c.store, move |s| {
            sets.iter().flat_map(|m| s.series(m, start, end)).collect()
        })
        .await?;
        all.sort();
        all.dedup();
        all.truncate(limit);
        Ok::<_, ApiError>(success(Value::Array(all.iter().map(labels_json).collect())))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `GET|POST /api/v1/labels`.
pub async fn labels(State(c): State<Collector>, p: Params) -> Response {
    let run = async {
        let sets = match_params(&p)?;
        let end = time_param(&p, "end", now_ms())?;
        let start = time_param(&p, "start", i64::MIN / 2)?;
        let limit = limit_param(&p)?;
        let mut names: Vec<String> = read(&c.store, move |s| {
            if sets.is_empty() {
                s.label_names(&[], start, end)
            } else {
                sets.iter()
                    .flat_map(|m| s.label_names(m, start, end))
                    .collect()
            }
        })
        .await?;
        names.sort();
        names.dedup();
        names.truncate(limit);
        Ok::<_, ApiError>(success(json!(names)))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
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
        let mut values: Vec<String> = read(&c.store, move |s| {
            if sets.is_empty() {
                s.label_values(&name, &[], start, end)
            } else {
                sets.iter()
                    .flat_map(|m| s.label_values(&name, m, start, end))
                    .collect()
            }
        })
        .await?;
        values.sort();
        values.dedup();
        values.truncate(limit);
        Ok::<_, ApiError>(success(json!(values)))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
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
        let expr = parser::parse(text)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
        Ok::<_, ApiError>(success(json!(expr.prettify())))
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

/// `GET|POST /api/v1/query_exemplars`: exemplars are not stored yet, so a
/// valid query answers an empty list (as Prometheus does with none stored).
pub async fn query_exemplars(p: Params) -> Response {
    let run = || {
        let text = p
            .get("query")
            .ok_or_else(|| ApiError::bad_data("invalid parameter \"query\": missing"))?;
        parser::parse(text)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
        time_param(&p, "start", 0)?;
        time_param(&p, "end", 0)?;
        Ok::<_, ApiError>(success(json!([])))
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

/// `GET|POST /api/v1/query`: number and string literals, instant vector
/// selectors and range selectors (the PromQL engine lands with the query work).
pub async fn query(State(c): State<Collector>, p: Params) -> Response {
    let run = async {
        let text = p
            .get("query")
            .ok_or_else(|| ApiError::bad_data("invalid parameter \"query\": missing"))?;
        if text.len() > selector::MAX_SELECTOR_BYTES {
            return Err(ApiError::bad_data(
                "invalid parameter \"query\": query too long",
            ));
        }
        let t = time_param(&p, "time", now_ms())?;
        let expr = parser::parse(text)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
        evaluate(&c.store, &expr, t).await.map(success)
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn evaluate(store: &Arc<Store>, expr: &Expr, t: i64) -> Result<Value, ApiError> {
    match expr {
        Expr::Paren(p) => Box::pin(evaluate(store, &p.expr, t)).await,
        Expr::NumberLiteral(n) => {
            Ok(json!({"resultType": "scalar", "result": [format_time(t), format_value(n.val)]}))
        }
        Expr::StringLiteral(s) => {
            Ok(json!({"resultType": "string", "result": [format_time(t), s.val]}))
        }
        Expr::VectorSelector(vs) => {
            let (matchers, at) = selector_at(vs, t)?;
            let found = read(store, move |s| {
                s.select(&matchers, at - LOOKBACK_MS + 1, at)
            })
            .await?;
            let result: Vec<Value> = found
                .into_iter()
                .filter_map(|s| {
                    let last = s.samples.last().copied()?;
                    (last.v.to_bits() != STALE_NAN)
                        .then(|| json!({"metric": labels_json(&s.labels), "value": [format_time(t), format_value(last.v)]}))
                })
                .collect();
            Ok(json!({"resultType": "vector", "result": result}))
        }
        Expr::MatrixSelector(ms) => {
            let (matchers, at) = selector_at(&ms.vs, t)?;
            let range = ms.range.as_millis() as i64;
            let found = read(store, move |s| s.select(&matchers, at - range + 1, at)).await?;
            let result: Vec<Value> = found
                .into_iter()
                .filter_map(|s| {
                    let values: Vec<Value> = s
                        .samples
                        .iter()
                        .filter(|x: &&Sample| x.v.to_bits() != STALE_NAN)
                        .map(|x| json!([format_time(x.t), format_value(x.v)]))
                        .collect();
                    (!values.is_empty())
                        .then(|| json!({"metric": labels_json(&s.labels), "values": values}))
                })
                .collect();
            Ok(json!({"resultType": "matrix", "result": result}))
        }
        _ => Err(ApiError::bad_data(
            "only selectors and literals are evaluated so far; functions, operators and aggregations come with the PromQL engine",
        )),
    }
}

/// Matchers and evaluation time of a selector, honouring `offset` and `@`.
fn selector_at(vs: &VectorSelector, t: i64) -> Result<(Vec<Matcher>, i64), ApiError> {
    let matchers = selector::matchers(vs).map_err(ApiError::bad_data)?;
    let mut at = match &vs.at {
        Some(promql_parser::parser::AtModifier::At(when)) => when
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
        _ => t,
    };
    match &vs.offset {
        Some(Offset::Pos(d)) => at -= d.as_millis() as i64,
        Some(Offset::Neg(d)) => at += d.as_millis() as i64,
        None => {}
    }
    Ok((matchers, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_values_like_prometheus() {
        let cases = [
            (1.0, "1"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e21, "1000000000000000000000"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(format_value(v), want);
        }
        assert_eq!(format_time(1_500), json!(1.5));
        assert_eq!(format_time(2_000), json!(2));
    }
}
