//! The three OTLP signals and what the exporter needs to know about each request type.

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;

/// An OTLP signal; selects the URL path, the metric label and the response type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    Logs,
    Metrics,
    Traces,
}

impl Signal {
    /// The `signal` metric label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
            Signal::Traces => "traces",
        }
    }

    /// The OTLP/HTTP path.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Signal::Logs => "/v1/logs",
            Signal::Metrics => "/v1/metrics",
            Signal::Traces => "/v1/traces",
        }
    }

    /// The byte stored in disk-queue records.
    pub(crate) fn code(self) -> u8 {
        match self {
            Signal::Logs => 1,
            Signal::Metrics => 2,
            Signal::Traces => 3,
        }
    }

    /// Inverse of [`Signal::code`]; `None` marks a corrupt record.
    pub(crate) fn from_code(code: u8) -> Option<Signal> {
        match code {
            1 => Some(Signal::Logs),
            2 => Some(Signal::Metrics),
            3 => Some(Signal::Traces),
            _ => None,
        }
    }

    /// Reads the partial success of a 2xx protobuf response body:
    /// `(rejected items, error message)`. An empty or undecodable body means
    /// full success, as the OTLP spec allows servers to send nothing.
    pub(crate) fn partial_success(self, body: &[u8]) -> Option<(i64, String)> {
        let found = match self {
            Signal::Logs => ExportLogsServiceResponse::decode(body)
                .ok()?
                .partial_success
                .map(|p| (p.rejected_log_records, p.error_message)),
            Signal::Metrics => ExportMetricsServiceResponse::decode(body)
                .ok()?
                .partial_success
                .map(|p| (p.rejected_data_points, p.error_message)),
            Signal::Traces => ExportTraceServiceResponse::decode(body)
                .ok()?
                .partial_success
                .map(|p| (p.rejected_spans, p.error_message)),
        };
        found.filter(|(rejected, message)| *rejected > 0 || !message.is_empty())
    }
}

/// An OTLP export request the batcher can count and merge.
pub(crate) trait SignalRequest: Message + Default + Send + 'static {
    /// Which signal this request carries.
    const SIGNAL: Signal;
    /// Log records, data points or spans: the unit of `max_batch_items` and metrics.
    fn item_count(&self) -> usize;
    /// Concatenates `other`'s resources into `self`.
    fn append(&mut self, other: Self);
}

impl SignalRequest for ExportLogsServiceRequest {
    const SIGNAL: Signal = Signal::Logs;
    fn item_count(&self) -> usize {
        self.resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum()
    }
    fn append(&mut self, other: Self) {
        self.resource_logs.extend(other.resource_logs);
    }
}

impl SignalRequest for ExportMetricsServiceRequest {
    const SIGNAL: Signal = Signal::Metrics;
    fn item_count(&self) -> usize {
        self.resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| match &m.data {
                Some(Data::Gauge(g)) => g.data_points.len(),
                Some(Data::Sum(s)) => s.data_points.len(),
                Some(Data::Histogram(h)) => h.data_points.len(),
                Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
                Some(Data::Summary(s)) => s.data_points.len(),
                None => 0,
            })
            .sum()
    }
    fn append(&mut self, other: Self) {
        self.resource_metrics.extend(other.resource_metrics);
    }
}

impl SignalRequest for ExportTraceServiceRequest {
    const SIGNAL: Signal = Signal::Traces;
    fn item_count(&self) -> usize {
        self.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    }
    fn append(&mut self, other: Self) {
        self.resource_spans.extend(other.resource_spans);
    }
}
