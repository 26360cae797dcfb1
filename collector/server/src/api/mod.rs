//! The collector's HTTP API: remote-write in, and read-back in the formats
//! Grafana already speaks (Prometheus, Loki, Tempo). [`app`] is the whole of
//! it, exactly as the binary mounts it on the API port, so the unit tests
//! (`*_tests.rs` beside the handlers) drive the production routing with
//! `tower::ServiceExt::oneshot`. Every error answer is an
//! [`error::ApiError`] in the envelope of the API it came from.

mod ast;
pub(crate) mod error;
mod loki;
mod meta;
mod params;
mod prom;
mod query;
mod query_pool;
mod result_json;
mod tempo;
mod time;

#[cfg(test)]
mod loki_tests;
#[cfg(test)]
mod prom_tests;
#[cfg(test)]
mod query_tests;
#[cfg(test)]
mod tempo_tests;

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};

use crate::Collector;

pub use query::QueryRunner;

/// The collector's whole HTTP API: every route, observed by [`observe`].
pub fn app(c: Collector) -> Router {
    Router::new()
        .route("/api/v1/write", post(crate::remote_write::write))
        .route("/api/v1/query", get(query::instant).post(query::instant))
        .route("/api/v1/query_range", get(query::range).post(query::range))
        .route("/api/v1/series", get(prom::series).post(prom::series))
        .route("/api/v1/labels", get(prom::labels).post(prom::labels))
        .route("/api/v1/label/{name}/values", get(prom::label_values))
        .route("/api/v1/status/buildinfo", get(prom::buildinfo))
        .route("/api/v1/metadata", get(meta::metadata))
        .route(
            "/api/v1/parse_query",
            get(meta::parse_query).post(meta::parse_query),
        )
        .route(
            "/api/v1/format_query",
            get(prom::format_query).post(prom::format_query),
        )
        .route(
            "/api/v1/query_exemplars",
            get(prom::query_exemplars).post(prom::query_exemplars),
        )
        .route("/loki/api/v1/labels", get(loki::labels).post(loki::labels))
        .route("/loki/api/v1/label/{name}/values", get(loki::label_values))
        .route("/loki/api/v1/series", get(loki::series).post(loki::series))
        .route(
            "/loki/api/v1/query_range",
            get(loki::query_range).post(loki::query_range),
        )
        .route("/api/traces/{id}", get(tempo::trace_v1))
        .route("/api/v2/traces/{id}", get(tempo::trace_v2))
        .route("/api/search", get(tempo::search))
        .layer(axum::middleware::from_fn_with_state(c.clone(), observe))
        .with_state(c)
}

/// Wraps every request in a span (exported as the collector's own traces)
/// and records its duration and status code in the self-metrics.
pub async fn observe(State(c): State<Collector>, req: Request, next: Next) -> Response {
    let handler = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format!("{} {handler}", req.method()),
        otel.kind = "server",
        http.request.method = %req.method(),
        http.route = %handler,
        http.response.status_code = tracing::field::Empty,
    );
    let start = Instant::now();
    let resp = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    let code = resp.status().as_u16();
    span.record("http.response.status_code", code);
    c.metrics
        .request_seconds
        .with_label_values(&[&handler])
        .observe(start.elapsed().as_secs_f64());
    c.metrics
        .requests
        .with_label_values(&[handler.as_str(), &code.to_string()])
        .inc();
    resp
}
