//! OTLP ↔ Prometheus.
//!
//! * [`otlp_to_series`]: the OpenTelemetry → Prometheus compatibility
//!   mapping, as Prometheus's own OTLP receiver does it (names, units,
//!   `_total`, histogram buckets, `job`/`instance`, `target_info`, stale
//!   markers), so data is named the same whichever way it arrives.
//! * [`decode_remote_write`] / [`encode_remote_write`]: Prometheus
//!   remote-write 1.0 bodies (snappy block format + protobuf).
//! * [`registry_to_otlp`]: a `prometheus` crate registry's gathered families
//!   as OTLP, so the agent can ship its own `/metrics` like any other data.
//!
//! [`Series`] is the common currency: plain labels and samples, no Prometheus
//! or OTLP types, so the collector's store does not depend on either.

mod exposition;
mod names;
mod otlp;
mod registry;
mod remote_write;
mod values;

pub use exposition::to_text;
pub use names::{MetricKind, label_name, metric_name};
pub use otlp::{Rejected, STALE_NAN_BITS, otlp_to_series};
pub use registry::registry_to_otlp;
pub use remote_write::{
    MAX_DECOMPRESSED_BYTES, RemoteWriteBatch, RemoteWriteError, decode_remote_write,
    decode_remote_write_batch, encode_remote_write,
};
pub use values::go_format_f;

/// A Prometheus series as plain data: label pairs (including `__name__`, any
/// order, no duplicate names) and `(ms timestamp, value)` samples in time
/// order. Both the OTLP and the remote-write paths produce it, so the store
/// has one input type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Label name/value pairs, `__name__` among them. Empty values are never
    /// produced: in Prometheus an empty label value means "no such label".
    pub labels: Vec<(String, String)>,
    /// `(unix milliseconds, value)`, oldest first.
    pub samples: Vec<(i64, f64)>,
}

impl Series {
    /// The metric name (`__name__` label), if present.
    pub fn name(&self) -> Option<&str> {
        self.label("__name__")
    }

    /// The value of label `name`, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}
