//! OTLP ↔ Prometheus: the OpenTelemetry compatibility mapping, remote-write
//! 1.0, the text exposition format, and a `prometheus` crate registry as OTLP.
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
//! Every path produces the data model's [`Series`](sextant_model::Series)
//! (canonical labels and samples, no Prometheus or OTLP types), which the
//! collector's store takes as it is.

mod exposition;
mod names;
mod otlp;
mod registry;
mod remote_write;
mod values;

pub use exposition::to_text;
pub use names::{MetricKind, label_name, metric_name};
pub use otlp::{Rejected, otlp_to_series};
pub use registry::registry_to_otlp;
pub use remote_write::{
    MAX_DECOMPRESSED_BYTES, RemoteWriteBatch, RemoteWriteError, decode_remote_write,
    decode_remote_write_batch, decode_write_request, decode_write_request_batch,
    encode_remote_write,
};
pub use values::go_format_f;
