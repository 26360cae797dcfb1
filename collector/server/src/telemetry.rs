//! The collector's own metrics, served on `/metrics` and self-ingested.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

/// Distinct `source` values `series_refused` labels; later ones are
/// counted as `other`, so a client inventing jobs cannot grow `/metrics`.
pub const MAX_REFUSED_SOURCES: usize = 1000;

/// Counters every receiver and API handler updates. Names follow the
/// OpenTelemetry Collector's receiver metrics in our namespace.
pub struct CollectorMetrics {
    /// Items (spans, data points, log records, samples) accepted and stored.
    pub accepted: IntCounterVec,
    /// Items refused, by reason (malformed, too_large, unmappable, store).
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
    refused_sources: Mutex<HashSet<String>>,
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
            refused_sources: Mutex::new(HashSet::new()),
        })
    }

    /// Counts `n` series of `source` refused by `limit`, under `other`
    /// once [`MAX_REFUSED_SOURCES`] sources have their own value. Only
    /// refusals pay for the lock.
    pub fn count_series_refused(&self, source: &str, limit: &str, n: u64) {
        let mut seen = self
            .refused_sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let label = if seen.contains(source) {
            source
        } else if seen.len() < MAX_REFUSED_SOURCES {
            seen.insert(source.to_string());
            source
        } else {
            "other"
        };
        self.series_refused
            .with_label_values(&[label, limit])
            .inc_by(n);
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
}
