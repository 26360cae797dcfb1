//! What the handler tests share: a collector over a real store in a temp
//! dir, data written straight into that store, and one request sent through
//! a router with `oneshot`, answered as status, headers and body.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use sextant_model::{Labels, LogEntry, Sample, Series};
use sextant_store::{Store, StoreConfig};
use tempfile::TempDir;
use tower::ServiceExt;

use crate::{Collector, Limits, QueryConfig};

/// Sample times in the tests: whole minutes from here (2023-11-14).
pub const T0_MS: i64 = 1_700_000_000_000;

/// A collector over an empty store; the store lives as long as the dir.
pub fn collector() -> (Collector, TempDir) {
    collector_with(Limits::default())
}

/// A collector with input limits of its own.
pub fn collector_with(limits: Limits) -> (Collector, TempDir) {
    collector_configured(limits, QueryConfig::default())
}

/// A collector with query limits of its own.
pub fn collector_with_query(query: QueryConfig) -> (Collector, TempDir) {
    collector_configured(Limits::default(), query)
}

fn collector_configured(limits: Limits, query: QueryConfig) -> (Collector, TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    // The tests write at T0_MS (2023), which the default retention would refuse as too old.
    let cfg = StoreConfig {
        retention: std::time::Duration::from_secs(100 * 365 * 24 * 3600),
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), cfg).expect("open store");
    let c = Collector::new(Arc::new(store), limits, query, &prometheus::Registry::new())
        .expect("collector");
    (c, dir)
}

/// A label set from pairs.
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// Appends one series per label set, each with samples at `T0_MS` plus 0,
/// 1 and 2 minutes valued 1, 2, 3.
pub fn write_series(c: &Collector, sets: &[&[(&str, &str)]]) {
    let batch: Vec<Series> = sets
        .iter()
        .map(|pairs| Series {
            labels: labels(pairs),
            samples: (0..3)
                .map(|i| Sample {
                    t: T0_MS + i * 60_000,
                    v: (i + 1) as f64,
                })
                .collect(),
        })
        .collect();
    c.store().append_samples(&batch).expect("append samples");
}

/// Appends one log line per (stream, line), a second apart from `T0_MS`.
pub fn write_logs(c: &Collector, lines: &[(&[(&str, &str)], &str)]) {
    let entries: Vec<LogEntry> = lines
        .iter()
        .enumerate()
        .map(|(i, (stream, line))| LogEntry {
            t_ns: (T0_MS + i as i64 * 1000) * 1_000_000,
            stream: labels(stream),
            line: line.to_string(),
            metadata: Labels::default(),
        })
        .collect();
    c.store().append_logs(&entries).expect("append logs");
}

/// One answer: status, headers, body.
pub struct Answer {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `Content-Type` header, "" when absent.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Sends one request through `router` (a clone, as each connection gets).
pub async fn send(router: &Router, req: Request<Body>) -> Answer {
    let resp = router
        .clone()
        .oneshot(req)
        .await
        .expect("infallible router");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("response body")
        .to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

/// `GET uri`.
pub async fn get(router: &Router, uri: &str) -> Answer {
    send(
        router,
        Request::get(uri).body(Body::empty()).expect("request"),
    )
    .await
}

/// `GET uri` with extra headers.
pub async fn get_with(router: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(router, req.body(Body::empty()).expect("request")).await
}

/// `POST uri` with headers and a body.
pub async fn post(
    router: &Router,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Answer {
    let mut req = Request::post(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(router, req.body(body.into()).expect("request")).await
}

/// `POST uri` with a form body, as Grafana sends queries.
pub async fn post_form(router: &Router, uri: &str, form: &[(&str, &str)]) -> Answer {
    let body = serde_urlencoded::to_string(form).expect("form");
    post(
        router,
        uri,
        &[("content-type", "application/x-www-form-urlencoded")],
        body,
    )
    .await
}

/// A query string from pairs, percent-encoded.
pub fn qs(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("query string")
}

/// An OTLP request of one gauge `name` of service `svc` with `points`, the
/// shape every receiver test sends.
pub fn gauge_request(name: &str, points: Vec<NumberDataPoint>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![sextant_otlp::string_kv("service.name", "svc")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: name.into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: points,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}
