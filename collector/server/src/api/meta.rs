//! `/api/v1/metadata` and `/api/v1/parse_query`.

use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::ApiError;
use super::params::Params;

/// An optional integer parameter; Prometheus's wording when it is not one.
fn int_param(p: &Params, key: &str) -> Result<Option<i64>, ApiError> {
    match p.get(key) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_data(format!("{key} must be a number"))),
    }
}

/// `GET /api/v1/metadata`: `{metric: [{type, help, unit}]}`.
///
/// Prometheus takes metadata from its scrape targets only; series that
/// arrived by remote-write have none, and it answers `{}` for them. Every
/// series here arrived over a wire (remote-write or OTLP) and the store keeps
/// no metadata, so the answer is `{}` too, after the same parameter checks:
/// guessing a type from a name suffix would claim more than is known
/// (`_count` and `_total` are conventions, not types).
pub async fn metadata(p: Params) -> Response {
    let run = || {
        int_param(&p, "limit")?;
        int_param(&p, "limit_per_metric")?;
        Ok::<_, ApiError>(axum::Json(json!({"status": "success", "data": {}})).into_response())
    };
    run().unwrap_or_else(ApiError::prometheus)
}

/// `GET|POST /api/v1/parse_query`: the expression's syntax tree as Prometheus
/// 3 answers it (see [`super::ast`]), or `bad_data` when it does not parse.
pub async fn parse_query(p: Params) -> Response {
    let run = || {
        let text = p.get("query").unwrap_or("");
        let expr = sextant_promql::parse(text)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
        Ok::<_, ApiError>(
            axum::Json(json!({"status": "success", "data": super::ast::translate(&expr)}))
                .into_response(),
        )
    };
    run().unwrap_or_else(ApiError::prometheus)
}
