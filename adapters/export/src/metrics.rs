//! The exporter's self-monitoring metrics, named after the OpenTelemetry
//! Collector's exporterhelper so dashboards carry over.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};

use sextant_otlp::Signal;

/// Handles on every exporter metric; cheap to clone.
#[derive(Clone)]
pub(crate) struct ExportMetrics {
    sent_items: IntCounterVec,
    failed_requests: IntCounterVec,
    dropped_items: IntCounterVec,
    retries: IntCounterVec,
    enqueued_items: IntCounterVec,
    request_duration: HistogramVec,
    pub(crate) queue_size_bytes: IntGauge,
    pub(crate) queue_batches: IntGauge,
    pub(crate) queue_capacity_bytes: IntGauge,
    pub(crate) queue_corrupt_records: IntCounter,
    pub(crate) queue_corrupt_bytes: IntCounter,
}

fn counter_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    let g = IntGauge::new(name, help)?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

fn counter(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntCounter> {
    let c = IntCounter::new(name, help)?;
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

impl ExportMetrics {
    /// Creates and registers all metrics; fails if they already exist in `registry`.
    pub(crate) fn register(registry: &Registry) -> prometheus::Result<Self> {
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "sextant_exporter_request_duration_seconds",
                "Duration of OTLP/HTTP export requests, successful or not.",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["signal"],
        )?;
        registry.register(Box::new(request_duration.clone()))?;
        Ok(ExportMetrics {
            sent_items: counter_vec(
                registry,
                "sextant_exporter_sent_items_total",
                "Items (log records, data points, spans) accepted by the collector.",
                &["signal"],
            )?,
            failed_requests: counter_vec(
                registry,
                "sextant_exporter_send_failed_requests_total",
                "Export requests that failed, by reason (transport, timeout, status_<code>).",
                &["signal", "reason"],
            )?,
            dropped_items: counter_vec(
                registry,
                "sextant_exporter_dropped_items_total",
                "Items lost for good, by reason.",
                &["signal", "reason"],
            )?,
            retries: counter_vec(
                registry,
                "sextant_exporter_retries_total",
                "Retries of queued batches after retryable failures.",
                &["signal"],
            )?,
            enqueued_items: counter_vec(
                registry,
                "sextant_exporter_enqueued_items_total",
                "Items written to the on-disk queue.",
                &["signal"],
            )?,
            request_duration,
            queue_size_bytes: gauge(
                registry,
                "sextant_exporter_queue_size_bytes",
                "Undelivered bytes in the on-disk queue.",
            )?,
            queue_batches: gauge(
                registry,
                "sextant_exporter_queue_batches",
                "Undelivered batches in the on-disk queue.",
            )?,
            queue_capacity_bytes: gauge(
                registry,
                "sextant_exporter_queue_capacity_bytes",
                "Configured bound of the on-disk queue.",
            )?,
            queue_corrupt_records: counter(
                registry,
                "sextant_exporter_queue_corrupt_records_total",
                "Corrupt regions of the on-disk queue that were skipped (their items are lost).",
            )?,
            queue_corrupt_bytes: counter(
                registry,
                "sextant_exporter_queue_corrupt_bytes_total",
                "Bytes of corrupt on-disk queue data that were skipped.",
            )?,
        })
    }

    pub(crate) fn sent(&self, signal: Signal, items: u64) {
        self.sent_items
            .with_label_values(&[signal.as_str()])
            .inc_by(items);
    }

    pub(crate) fn failed(&self, signal: Signal, reason: &str) {
        self.failed_requests
            .with_label_values(&[signal.as_str(), reason])
            .inc();
    }

    pub(crate) fn dropped(&self, signal: Signal, reason: &str, items: u64) {
        self.dropped_items
            .with_label_values(&[signal.as_str(), reason])
            .inc_by(items);
    }

    pub(crate) fn retried(&self, signal: Signal) {
        self.retries.with_label_values(&[signal.as_str()]).inc();
    }

    pub(crate) fn enqueued(&self, signal: Signal, items: u64) {
        self.enqueued_items
            .with_label_values(&[signal.as_str()])
            .inc_by(items);
    }

    pub(crate) fn observe_request(&self, signal: Signal, seconds: f64) {
        self.request_duration
            .with_label_values(&[signal.as_str()])
            .observe(seconds);
    }
}
