//! The collector's own metrics, served on `/metrics` and self-ingested.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

/// Distinct `source` values `series_refused` labels; later ones are
/// counted as `other`, so a client inventing jobs cannot grow `/metrics`.
pub const MAX_REFUSED_SOURCES: usize = 1000;

/// Distinct `service_name` values `log_records` labels, then `other`.
pub const MAX_LOG_SERVICES: usize = 1000;

/// Distinct `severity` values `log_records` labels, then `other`: severity
/// text is free text, and a client sending a new one per record must not
/// grow `/metrics`.
pub const MAX_LOG_SEVERITIES: usize = 64;

/// A label whose values come from clients: the first `max` distinct values
/// keep their own, later ones are `other`.
struct BoundedValues {
    seen: Mutex<HashSet<String>>,
    max: usize,
}

impl BoundedValues {
    fn new(max: usize) -> BoundedValues {
        BoundedValues {
            seen: Mutex::new(HashSet::new()),
            max,
        }
    }

    fn label<'a>(&self, value: &'a str) -> &'a str {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.contains(value) {
            value
        } else if seen.len() < self.max {
            seen.insert(value.to_string());
            value
        } else {
            "other"
        }
    }
}

/// Counters every receiver and API handler updates. Names follow the
/// OpenTelemetry Collector's receiver metrics in our namespace.
pub struct CollectorMetrics {
    /// Items (spans, data points, log records, samples) accepted and stored.
    pub accepted: IntCounterVec,
    /// Items refused, by reason (malformed, too_large, unmappable, invalid, series_limit, behind, store).
    pub refused: IntCounterVec,
    /// Requests answered, by receiver/handler and status code.
    pub requests: IntCounterVec,
    /// Time to handle a request, by handler.
    pub request_seconds: HistogramVec,
    /// Series in the store's head.
    pub store_series: IntGauge,
    /// Bytes of compressed samples in memory.
    pub store_chunk_bytes: IntGauge,
    /// Bytes the store holds on disk.
    pub store_disk_bytes: IntGauge,
    /// Log entries in the store.
    pub store_log_entries: IntGauge,
    /// Spans in the store.
    pub store_spans: IntGauge,
    /// New series refused past a series limit, by source and limit: who is
    /// hitting the cap. Update it through [`CollectorMetrics::count_series_refused`].
    pub series_refused: IntCounterVec,
    refused_sources: BoundedValues,
    /// Log records stored, by service and severity, so error-log rules need
    /// no setup. Update it through [`CollectorMetrics::count_log_records`].
    pub log_records: IntCounterVec,
    log_services: BoundedValues,
    log_severities: BoundedValues,
}

impl CollectorMetrics {
    /// Creates and registers the metrics.
    pub fn register(registry: &Registry) -> Result<CollectorMetrics, prometheus::Error> {
        let accepted = IntCounterVec::new(
            Opts::new(
                "sextant_receiver_accepted_items_total",
                "Items accepted and stored, by signal and transport.",
            ),
            &["signal", "transport"],
        )?;
        let refused = IntCounterVec::new(
            Opts::new(
                "sextant_receiver_refused_items_total",
                "Items refused, by signal, transport and reason.",
            ),
            &["signal", "transport", "reason"],
        )?;
        let requests = IntCounterVec::new(
            Opts::new(
                "sextant_http_requests_total",
                "Requests answered, by handler and status code.",
            ),
            &["handler", "code"],
        )?;
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "sextant_http_request_duration_seconds",
                "Time to answer a request, by handler.",
            ),
            &["handler"],
        )?;
        let store_series = IntGauge::new("sextant_store_series", "Series in the store.")?;
        let store_chunk_bytes = IntGauge::new(
            "sextant_store_chunk_bytes",
            "Bytes of compressed samples held in memory.",
        )?;
        let store_disk_bytes =
            IntGauge::new("sextant_store_disk_bytes", "Bytes the store holds on disk.")?;
        let store_log_entries =
            IntGauge::new("sextant_store_log_entries", "Log entries in the store.")?;
        let store_spans = IntGauge::new("sextant_store_spans", "Spans in the store.")?;
        let series_refused = IntCounterVec::new(
            Opts::new(
                "sextant_collector_series_refused_total",
                "New series (log streams) refused past max_series or max_series_per_source (max_log_streams or max_log_streams_per_source), by source (job; service_name for streams) and limit.",
            ),
            &["source", "limit"],
        )?;
        let log_records = IntCounterVec::new(
            Opts::new(
                "sextant_log_records_total",
                "Log records stored, by service_name and severity (OTel severity text lowercased; from the severity number without one; unspecified with neither).",
            ),
            &["service_name", "severity"],
        )?;
        registry.register(Box::new(log_records.clone()))?;
        registry.register(Box::new(series_refused.clone()))?;
        registry.register(Box::new(store_log_entries.clone()))?;
        registry.register(Box::new(store_spans.clone()))?;
        registry.register(Box::new(accepted.clone()))?;
        registry.register(Box::new(refused.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_seconds.clone()))?;
        registry.register(Box::new(store_series.clone()))?;
        registry.register(Box::new(store_chunk_bytes.clone()))?;
        registry.register(Box::new(store_disk_bytes.clone()))?;
        Ok(CollectorMetrics {
            accepted,
            refused,
            requests,
            request_seconds,
            store_series,
            store_chunk_bytes,
            store_disk_bytes,
            store_log_entries,
            store_spans,
            series_refused,
            refused_sources: BoundedValues::new(MAX_REFUSED_SOURCES),
            log_records,
            log_services: BoundedValues::new(MAX_LOG_SERVICES),
            log_severities: BoundedValues::new(MAX_LOG_SEVERITIES),
        })
    }

    /// Counts `n` series of `source` refused by `limit`, under `other`
    /// once [`MAX_REFUSED_SOURCES`] sources have their own value. Only
    /// refusals pay for the lock.
    pub fn count_series_refused(&self, source: &str, limit: &str, n: u64) {
        self.series_refused
            .with_label_values(&[self.refused_sources.label(source), limit])
            .inc_by(n);
    }

    /// Counts stored log records by service and severity (bounded as
    /// [`MAX_LOG_SERVICES`] and [`MAX_LOG_SEVERITIES`] say).
    pub fn count_log_records(&self, counts: &[(String, String, u64)]) {
        for (service, severity, n) in counts {
            self.log_records
                .with_label_values(&[
                    self.log_services.label(service),
                    self.log_severities.label(severity),
                ])
                .inc_by(*n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_sources_are_bounded() -> Result<(), prometheus::Error> {
        let m = CollectorMetrics::register(&Registry::new())?;
        for i in 0..MAX_REFUSED_SOURCES + 5 {
            m.count_series_refused(&format!("job{i}"), "max_series", 1);
        }
        m.count_series_refused("job0", "max_series", 1);
        let c = |s: &str| m.series_refused.with_label_values(&[s, "max_series"]).get();
        assert_eq!((c("job0"), c("job999"), c("other")), (2, 1, 5));
        Ok(())
    }

    #[test]
    fn log_record_labels_are_bounded() -> Result<(), prometheus::Error> {
        let m = CollectorMetrics::register(&Registry::new())?;
        let counts: Vec<(String, String, u64)> = (0..MAX_LOG_SEVERITIES + 3)
            .map(|i| ("svc".to_string(), format!("level{i}"), 1))
            .collect();
        m.count_log_records(&counts);
        let n = |sev: &str| m.log_records.with_label_values(&["svc", sev]).get();
        assert_eq!(n("level0"), 1);
        assert_eq!(n("other"), 3);
        Ok(())
    }
}
