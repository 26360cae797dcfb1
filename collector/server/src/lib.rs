//! Sextant's collector: everything between a listening socket and the store.
//!
//! * Receivers: OTLP over gRPC ([`Collector::otlp_grpc_routes`]) and over
//!   HTTP ([`Collector::otlp_http_router`], protobuf and JSON, gzip), and
//!   Prometheus remote-write 1.0 (on [`Collector::app`]).
//! * [`ingest`] turns wire messages into the store's plain types and appends
//!   them; a request is acknowledged only after the store says the data is in
//!   its WAL.
//! * The read-back APIs on [`Collector::app`]: Prometheus (PromQL queries,
//!   series, labels, metadata), Loki (`/loki/api/v1/query_range`, labels,
//!   series) and Tempo (`/api/traces/<id>`, `/api/search`).
//! * One error type for all of them (`api::error`): Prometheus's
//!   `errorType`s mapped once to status codes and rendered in each API's
//!   envelope.
//!
//! The crate hands out `axum::Router`s and tonic routes; it never binds a
//! socket or starts a runtime: the binary does. The routers it hands out are
//! the ones the unit tests drive, so tests see the production routing.

pub mod config;
pub mod decode;
pub mod inflight;
pub mod ingest;
pub mod telemetry;

mod api;
mod body;
mod otlp_grpc;
mod otlp_http;
mod queryable;
mod remote_write;

#[cfg(test)]
mod otlp_http_tests;
#[cfg(test)]
mod remote_write_tests;
#[cfg(test)]
mod test_support;

use std::sync::Arc;

use sextant_store::Store;

pub use config::{CollectorConfig, Limits, QueryConfig};
pub use telemetry::CollectorMetrics;

/// The collector's shared state: the store, the limits every receiver applies
/// and the self-metrics every handler updates. Cheap to clone.
#[derive(Clone)]
pub struct Collector {
    store: Arc<Store>,
    limits: Limits,
    policy: ingest::Policy,
    metrics: Arc<CollectorMetrics>,
    query: api::QueryRunner,
    /// Bytes held by requests in flight, shared by every receiver.
    inflight: Arc<inflight::Budget>,
}

impl Collector {
    /// Wires a collector around an opened store with its input and query
    /// limits; registers its metrics on `registry`.
    pub fn new(
        store: Arc<Store>,
        limits: Limits,
        query: QueryConfig,
        registry: &prometheus::Registry,
    ) -> Result<Collector, prometheus::Error> {
        let metrics = Arc::new(CollectorMetrics::register(registry)?);
        let policy = ingest::Policy::new(&limits, store.config().retention);
        Ok(Collector {
            store,
            limits,
            policy,
            metrics,
            query: api::QueryRunner::new(query),
            inflight: inflight::Budget::new(limits.max_inflight_bytes),
        })
    }

    /// The store, for the binary's maintenance loop and for in-process ingestion.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// What ingest checks requests against, for in-process ingestion.
    pub fn policy(&self) -> &ingest::Policy {
        &self.policy
    }

    /// Copies the store's statistics into the self-metrics gauges.
    pub fn refresh_store_metrics(&self) {
        let stats = self.store.stats();
        self.metrics.store_series.set(stats.series as i64);
        self.metrics.store_chunk_bytes.set(stats.chunk_bytes as i64);
        self.metrics.store_disk_bytes.set(stats.disk_bytes as i64);
        self.metrics.store_log_entries.set(stats.log_entries as i64);
        self.metrics.store_spans.set(stats.spans as i64);
    }

    /// The OTLP/HTTP receiver: `POST /v1/logs`, `/v1/metrics`, `/v1/traces`,
    /// which the binary serves on a port of its own.
    pub fn otlp_http_router(&self) -> axum::Router {
        otlp_http::router(self.clone())
    }

    /// The OTLP/gRPC receiver: the three OTLP collector services.
    pub fn otlp_grpc_routes(&self) -> tonic::service::Routes {
        otlp_grpc::routes(self.clone())
    }

    /// Stores one decoded OTLP request and counts the outcome; shared by
    /// both OTLP transports so they account identically.
    pub(crate) async fn accept(
        &self,
        transport: &'static str,
        req: ingest::Request,
    ) -> Result<ingest::Accepted, ingest::IngestError> {
        let signal = req.signal();
        let items = req.items();
        let result = match req {
            ingest::Request::Logs(r) => {
                ingest::logs(&self.store, &self.policy, r, self.limits.max_string_bytes).await
            }
            ingest::Request::Metrics(r) => ingest::metrics(&self.store, &self.policy, r).await,
            ingest::Request::Traces(r) => ingest::traces(&self.store, &self.policy, r).await,
        };
        self.count(signal, transport, items, &result);
        result
    }

    /// Updates the receiver counters for one append attempt.
    pub(crate) fn count(
        &self,
        signal: ingest::Signal,
        transport: &str,
        items: u64,
        result: &Result<ingest::Accepted, ingest::IngestError>,
    ) {
        let m = &self.metrics;
        match result {
            Ok(acc) => {
                m.accepted
                    .with_label_values(&[signal.as_str(), transport])
                    .inc_by(acc.accepted);
                if acc.rejected > 0 {
                    m.refused
                        .with_label_values(&[signal.as_str(), transport, "unmappable"])
                        .inc_by(acc.rejected);
                }
                let r = &acc.refusals;
                if r.invalid > 0 {
                    m.refused
                        .with_label_values(&[signal.as_str(), transport, "invalid"])
                        .inc_by(r.invalid);
                }
                if r.limited > 0 {
                    m.refused
                        .with_label_values(&[signal.as_str(), transport, "series_limit"])
                        .inc_by(r.limited);
                }
                for (source, limit, n) in &r.by_source {
                    m.count_series_refused(source, limit.as_str(), *n);
                }
                m.count_log_records(&acc.log_records);
            }
            Err(e @ ingest::IngestError::Behind { .. }) => {
                m.refused
                    .with_label_values(&[signal.as_str(), transport, e.reason()])
                    .inc_by(items);
            }
            Err(e) => {
                m.refused
                    .with_label_values(&[signal.as_str(), transport, e.reason()])
                    .inc_by(items);
                tracing::error!(signal = signal.as_str(), error = %e, "append failed; the client will retry");
            }
        }
    }

    /// Counts the collector's own stored log records, which reach the
    /// store in-process rather than through a receiver.
    pub fn count_own_logs(&self, acc: &ingest::Accepted) {
        self.metrics.count_log_records(&acc.log_records);
    }

    /// Counts a request refused before it could be decoded.
    pub(crate) fn count_refused(&self, signal: ingest::Signal, transport: &str, reason: &str) {
        self.metrics
            .refused
            .with_label_values(&[signal.as_str(), transport, reason])
            .inc();
    }

    /// The collector's whole HTTP API, what the binary serves on the API
    /// port: Prometheus remote-write and read-back, Loki, Tempo.
    pub fn app(&self) -> axum::Router {
        api::app(self.clone())
    }
}
