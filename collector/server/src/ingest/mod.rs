//! From decoded wire messages to durable appends.
//!
//! Each function maps one OTLP (or remote-write) request into the data
//! model's types and appends it on a blocking thread. Metrics map through
//! `sextant-prometheus` (the OpenTelemetry → Prometheus compatibility
//! mapping); logs and spans through [`logs`] (Loki's OTLP mapping) and
//! [`spans`], which only the collector needs (the Tempo API reads spans
//! back through [`spans::from_entries`]). `Ok` means the store has
//! fsynced the data: only then may a receiver acknowledge the request.

pub mod logs;
pub mod spans;

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use sextant_model::Series;
use sextant_otlp::{Signal as OtlpSignal, SignalRequest};
use sextant_prometheus as promconv;
use sextant_store::{Store, StoreError};

/// What a receiver counts, for metric labels and errors: one of the three
/// OTLP signals, or Prometheus remote-write samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Log records, data points or spans over OTLP.
    Otlp(OtlpSignal),
    /// Prometheus remote-write samples.
    Samples,
}

impl Signal {
    /// The label value used in self-metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Otlp(s) => s.as_str(),
            Signal::Samples => "samples",
        }
    }
}

/// What an append accepted and what it could not map: becomes an OTLP
/// partial-success response when `rejected > 0`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Accepted {
    /// Items stored.
    pub accepted: u64,
    /// Items that could not be mapped or were refused by the store.
    pub rejected: u64,
    /// Why, for the client; empty when nothing was rejected.
    pub message: String,
}

impl Accepted {
    /// The OTLP logs response: partial success only when something was rejected.
    pub fn logs_response(self) -> ExportLogsServiceResponse {
        let partial_success = (self.rejected > 0).then_some(ExportLogsPartialSuccess {
            rejected_log_records: self.rejected as i64,
            error_message: self.message,
        });
        ExportLogsServiceResponse { partial_success }
    }

    /// The OTLP metrics response.
    pub fn metrics_response(self) -> ExportMetricsServiceResponse {
        let partial_success = (self.rejected > 0).then_some(ExportMetricsPartialSuccess {
            rejected_data_points: self.rejected as i64,
            error_message: self.message,
        });
        ExportMetricsServiceResponse { partial_success }
    }

    /// The OTLP traces response.
    pub fn traces_response(self) -> ExportTraceServiceResponse {
        let partial_success = (self.rejected > 0).then_some(ExportTracePartialSuccess {
            rejected_spans: self.rejected as i64,
            error_message: self.message,
        });
        ExportTraceServiceResponse { partial_success }
    }
}

/// Why a request could not be stored at all; the client should retry.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The store refused the append (disk full, I/O error).
    #[error("store unavailable: {0}")]
    Store(#[from] StoreError),
    /// The blocking append task died.
    #[error("store append task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Maps OTLP metrics to Prometheus series and appends them.
pub async fn metrics(
    store: &Arc<Store>,
    req: ExportMetricsServiceRequest,
) -> Result<Accepted, IngestError> {
    let points = req.item_count() as u64;
    let (series, rejected) = promconv::otlp_to_series(&req);
    let rejected_points: u64 = rejected.iter().map(|r| r.data_points).sum();
    let mut out = samples(store, series).await?;
    let reasons: Vec<String> = rejected.into_iter().map(|r| r.reason).collect();
    out.accepted = points.saturating_sub(rejected_points);
    out.rejected = rejected_points;
    out.message = join_reasons(reasons, &out.message);
    Ok(out)
}

/// Appends remote-write (or mapped OTLP) series; out-of-order samples are counted as rejected.
pub async fn samples(store: &Arc<Store>, series: Vec<Series>) -> Result<Accepted, IngestError> {
    let store = Arc::clone(store);
    let report = tokio::task::spawn_blocking(move || store.append_samples(&series)).await??;
    let rejected = report.samples_out_of_order;
    let message = if rejected > 0 {
        format!("{rejected} samples out of order or older than the series' newest sample")
    } else {
        String::new()
    };
    Ok(Accepted {
        accepted: report.samples_appended + report.samples_duplicate,
        rejected,
        message,
    })
}

/// Maps OTLP log records to stream entries and appends them.
pub async fn logs(
    store: &Arc<Store>,
    req: ExportLogsServiceRequest,
    max_string_bytes: usize,
) -> Result<Accepted, IngestError> {
    let entries = logs::to_entries(&req, max_string_bytes, now_ns());
    let accepted = entries.len() as u64;
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || store.append_logs(&entries)).await??;
    Ok(Accepted {
        accepted,
        ..Accepted::default()
    })
}

/// Splits OTLP traces into per-span entries and appends them.
pub async fn traces(
    store: &Arc<Store>,
    req: ExportTraceServiceRequest,
) -> Result<Accepted, IngestError> {
    let (entries, invalid) = spans::to_entries(req);
    let accepted = entries.len() as u64;
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || store.append_spans(&entries)).await??;
    let message = if invalid > 0 {
        format!("{invalid} spans have an invalid trace id (must be 16 bytes, not all zero)")
    } else {
        String::new()
    };
    Ok(Accepted {
        accepted,
        rejected: invalid,
        message,
    })
}

fn join_reasons(mut reasons: Vec<String>, extra: &str) -> String {
    reasons.sort();
    reasons.dedup();
    if !extra.is_empty() {
        reasons.push(extra.to_string());
    }
    reasons.join("; ")
}

/// One decoded OTLP request of any signal.
pub enum Request {
    /// Logs.
    Logs(ExportLogsServiceRequest),
    /// Metrics.
    Metrics(ExportMetricsServiceRequest),
    /// Traces.
    Traces(ExportTraceServiceRequest),
}

impl Request {
    /// The request's signal.
    pub fn signal(&self) -> Signal {
        match self {
            Request::Logs(_) => Signal::Otlp(OtlpSignal::Logs),
            Request::Metrics(_) => Signal::Otlp(OtlpSignal::Metrics),
            Request::Traces(_) => Signal::Otlp(OtlpSignal::Traces),
        }
    }

    /// Items in the request (log records, data points, spans), counted before
    /// mapping so refusals are counted in the unit the client sent.
    pub fn items(&self) -> u64 {
        let n = match self {
            Request::Metrics(m) => m.item_count(),
            Request::Logs(l) => l.item_count(),
            Request::Traces(t) => t.item_count(),
        };
        n as u64
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}
