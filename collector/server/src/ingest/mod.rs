//! From decoded wire messages to durable appends.
//!
//! Each function maps one OTLP (or remote-write) request into the data
//! model's types and appends it on a blocking thread. Metrics map through
//! `sextant-prometheus` (the OpenTelemetry → Prometheus compatibility
//! mapping); logs and spans through [`logs`] (Loki's OTLP mapping) and
//! [`spans`], which only the collector needs (the Tempo API reads spans
//! back through [`spans::from_entries`]). `Ok` means the store has
//! fsynced the data: only then may a receiver acknowledge the request.
//!
//! Before the store sees them, series and log entries are checked one by
//! one ([`validate`]); what fails, and new series the store refuses past a
//! series limit, are refused alone and gathered in [`refusals`], which
//! makes the receiver's 400 or 429 answer ([`Accepted::refusal`]); the rest
//! of the request is stored.

pub mod logs;
pub mod refusals;
pub mod spans;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

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
use sextant_store::{Refusal, SeriesLimits, Store, StoreError, StreamLimits};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::api::error::{ApiError, ErrorType, RETRY_AFTER};
use crate::config::Limits;
use refusals::Refusals;
use validate::{Rules, describe};

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

/// What ingest checks a request against: the per-item rules and the
/// store's series caps, made once from the collector's limits.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Label and time checks.
    pub rules: Rules,
    /// `max_series` and `max_series_per_source`.
    pub series: SeriesLimits,
    /// `max_log_streams` and `max_log_streams_per_source`.
    pub streams: StreamLimits,
    /// Append slots (`max_concurrent_appends`), shared by every clone.
    appends: Arc<Semaphore>,
    /// `max_append_wait`.
    append_wait: Duration,
}

impl Policy {
    /// The policy of `limits`, refusing data older than `retention`.
    pub fn new(limits: &Limits, retention: Duration) -> Policy {
        Policy {
            rules: Rules::new(limits, retention),
            series: SeriesLimits {
                max_series: limits.max_series,
                max_series_per_source: limits.max_series_per_source,
            },
            streams: StreamLimits {
                max_streams: limits.max_log_streams,
                max_streams_per_source: limits.max_log_streams_per_source,
            },
            appends: Arc::new(Semaphore::new(limits.max_concurrent_appends.max(1))),
            append_wait: limits.max_append_wait,
        }
    }

    /// An append slot, or [`IngestError::Behind`] once `max_append_wait`
    /// has passed without one.
    ///
    /// **Invariant:** at most `max_concurrent_appends` appends run at once,
    /// and no request waits longer than `max_append_wait` for its turn.
    async fn append_slot(&self) -> Result<OwnedSemaphorePermit, IngestError> {
        let behind = IngestError::Behind {
            waited: self.append_wait,
        };
        match tokio::time::timeout(self.append_wait, Arc::clone(&self.appends).acquire_owned())
            .await
        {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(behind),
        }
    }
}

/// What an append accepted and what it could not map: becomes an OTLP
/// partial-success response when `rejected > 0`, and a 400 or 429 when
/// [`Accepted::refusal`] says so.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Accepted {
    /// Items stored.
    pub accepted: u64,
    /// Items that could not be mapped or were out of order.
    pub rejected: u64,
    /// Why, for the client; empty when nothing was rejected.
    pub message: String,
    /// Items refused by validation or a series limit.
    pub refusals: Refusals,
    /// Samples or log entries the store took, for the refusal's message.
    pub stored: u64,
    /// The unit of `stored` and of the refusals.
    pub unit: &'static str,
    /// Stored log records by `service_name` and severity
    /// ([`logs::severity`]), for `sextant_log_records_total`.
    pub log_records: Vec<(String, String, u64)>,
}

impl Accepted {
    /// The error answer when validation or a series limit refused items
    /// (the rest are stored): what every receiver sends instead of its
    /// success answer. `None`: answer as usual (partial success included).
    pub(crate) fn refusal(&self) -> Option<ApiError> {
        self.refusals.answer(self.unit, self.stored, &self.message)
    }

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
    /// No append slot within `max_append_wait`: the collector is behind.
    #[error(
        "the collector is behind: no append slot within {waited:?} (collector.limits.max_append_wait); retry later"
    )]
    Behind {
        /// How long the request waited.
        waited: Duration,
    },
    /// The store refused the append (disk full, I/O error).
    #[error("store unavailable: {0}")]
    Store(#[from] StoreError),
    /// The blocking append task died.
    #[error("store append task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl IngestError {
    /// The answer a receiver gives: 429 with `Retry-After` when the
    /// collector is behind (the sender should back off and retry), 503
    /// when the store cannot write.
    pub(crate) fn api_error(&self) -> ApiError {
        match self {
            IngestError::Behind { .. } => {
                ApiError::new(ErrorType::ResourceExhausted, self.to_string())
                    .retry_after(RETRY_AFTER.as_secs())
            }
            IngestError::Store(_) | IngestError::Task(_) => {
                ApiError::new(ErrorType::Unavailable, self.to_string())
            }
        }
    }

    /// The self-metrics reason a refused request is counted under.
    pub fn reason(&self) -> &'static str {
        match self {
            IngestError::Behind { .. } => "behind",
            IngestError::Store(_) | IngestError::Task(_) => "store",
        }
    }
}

/// Maps OTLP metrics to Prometheus series and appends them.
pub async fn metrics(
    store: &Arc<Store>,
    policy: &Policy,
    req: ExportMetricsServiceRequest,
) -> Result<Accepted, IngestError> {
    let points = req.item_count() as u64;
    let (series, rejected) = promconv::otlp_to_series(&req);
    let rejected_points: u64 = rejected.iter().map(|r| r.data_points).sum();
    let mut out = samples(store, policy, series).await?;
    let reasons: Vec<String> = rejected.into_iter().map(|r| r.reason).collect();
    // Refusals are counted in samples: a histogram point is several.
    let refused = out.refusals.invalid + out.refusals.limited;
    out.accepted = points.saturating_sub(rejected_points + refused);
    out.rejected += rejected_points;
    out.message = join_reasons(reasons, &out.message);
    Ok(out)
}

/// Validates remote-write (or mapped OTLP) series and appends the valid
/// ones; out-of-order samples are counted as rejected, refused series and
/// samples named in [`Accepted::refusals`].
pub async fn samples(
    store: &Arc<Store>,
    policy: &Policy,
    series: Vec<Series>,
) -> Result<Accepted, IngestError> {
    let mut refusals = Refusals::default();
    let series = screen_series(series, &policy.rules, now_ms(), &mut refusals);
    let store = Arc::clone(store);
    let limits = policy.series;
    let slot = policy.append_slot().await?;
    let (report, series) = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        store
            .append_samples_within(&series, limits)
            .map(|r| (r, series))
    })
    .await??;
    for r in &report.refused {
        let Some(ss) = series.get(r.index) else {
            continue;
        };
        let n = ss.samples.len() as u64;
        match &r.reason {
            Refusal::SeriesLimit { limit, source, .. } => {
                refusals.limited(n, &describe(&ss.labels), source, *limit, &r.reason)
            }
            _ => refusals.invalid(n, &describe(&ss.labels), &r.reason),
        }
    }
    let rejected = report.samples_out_of_order;
    let message = if rejected > 0 {
        format!("{rejected} samples out of order or older than the series' newest sample")
    } else {
        String::new()
    };
    let stored = report.samples_appended + report.samples_duplicate;
    Ok(Accepted {
        accepted: stored,
        rejected,
        message,
        refusals,
        stored,
        unit: "samples",
        log_records: Vec::new(),
    })
}

/// Drops the series and samples `rules` refuse, recording why.
fn screen_series(
    mut series: Vec<Series>,
    rules: &Rules,
    now_ms: i64,
    refusals: &mut Refusals,
) -> Vec<Series> {
    series.retain_mut(|ss| {
        if let Err(why) = rules.labels(&ss.labels) {
            refusals.invalid(ss.samples.len() as u64, &describe(&ss.labels), why);
            return false;
        }
        // Most series pass whole; only a failing one pays for the split.
        if let Some(first) = ss
            .samples
            .iter()
            .find_map(|x| rules.time(x.t, now_ms).err())
        {
            let before = ss.samples.len();
            ss.samples.retain(|x| rules.time(x.t, now_ms).is_ok());
            let n = (before - ss.samples.len()) as u64;
            let more = if n > 1 {
                format!(" (and {} more samples)", n - 1)
            } else {
                String::new()
            };
            refusals.invalid(n, &describe(&ss.labels), format!("{first}{more}"));
        }
        !ss.samples.is_empty()
    });
    series
}

/// Maps OTLP log records to stream entries, validates them and appends the valid ones.
pub async fn logs(
    store: &Arc<Store>,
    policy: &Policy,
    req: ExportLogsServiceRequest,
    max_string_bytes: usize,
) -> Result<Accepted, IngestError> {
    let now = now_ns();
    let mut refusals = Refusals::default();
    let mut entries = logs::to_entries(&req, max_string_bytes, now);
    let now_ms = now.div_euclid(1_000_000);
    entries.retain(|e| {
        let check = policy
            .rules
            .labels(&e.stream)
            .and_then(|()| policy.rules.time(e.t_ns.div_euclid(1_000_000), now_ms));
        match check {
            Ok(()) => true,
            Err(why) => {
                refusals.invalid(1, &format!("log stream {}", describe(&e.stream)), why);
                false
            }
        }
    });
    let store = Arc::clone(store);
    let limits = policy.streams;
    let slot = policy.append_slot().await?;
    let (report, entries) = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        store
            .append_logs_within(&entries, limits)
            .map(|r| (r, entries))
    })
    .await??;
    for r in &report.refused {
        let Some(e) = entries.get(r.index) else {
            continue;
        };
        let what = format!("log stream {}", describe(&e.stream));
        match &r.reason {
            Refusal::SeriesLimit { limit, source, .. } => {
                refusals.limited(1, &what, source, *limit, &r.reason)
            }
            _ => refusals.invalid(1, &what, &r.reason),
        }
    }
    let refused: std::collections::HashSet<usize> =
        report.refused.iter().map(|r| r.index).collect();
    let mut counts: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for (i, e) in entries.iter().enumerate() {
        if !refused.contains(&i) {
            let service = e.stream.get("service_name").unwrap_or("unknown_service");
            *counts
                .entry((service.to_string(), logs::severity(&e.metadata)))
                .or_default() += 1;
        }
    }
    Ok(Accepted {
        accepted: report.appended,
        refusals,
        stored: report.appended,
        unit: "log records",
        log_records: counts.into_iter().map(|((s, v), n)| (s, v, n)).collect(),
        ..Accepted::default()
    })
}

/// Splits OTLP traces into per-span entries and appends them.
pub async fn traces(
    store: &Arc<Store>,
    policy: &Policy,
    req: ExportTraceServiceRequest,
) -> Result<Accepted, IngestError> {
    let (entries, invalid) = spans::to_entries(req);
    let store = Arc::clone(store);
    let slot = policy.append_slot().await?;
    let report = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        store.append_spans(&entries)
    })
    .await??;
    let mut reasons = Vec::new();
    if invalid > 0 {
        reasons.push(format!(
            "{invalid} spans have an invalid trace id (must be 16 bytes, not all zero)"
        ));
    }
    if let Some(first) = report.refused.first() {
        reasons.push(format!(
            "{} spans refused: {}",
            report.refused.len(),
            first.reason
        ));
    }
    Ok(Accepted {
        accepted: report.appended,
        rejected: invalid + report.refused.len() as u64,
        message: reasons.join("; "),
        stored: report.appended,
        unit: "spans",
        ..Accepted::default()
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

fn now_ms() -> i64 {
    now_ns().div_euclid(1_000_000)
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod receiver_tests;
