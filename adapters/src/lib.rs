//! Sextant's adapter toolkit: every reusable normalizer and client.
//!
//! * [`prometheus`] maps OTLP metrics to Prometheus series the way the
//!   OpenTelemetry→Prometheus compatibility spec does, decodes remote-write,
//!   and turns a `prometheus` crate registry into OTLP metrics.
//! * [`export`] is the OTLP export client the agent ships through: batching,
//!   gzip, retry with backoff and full jitter, and a bounded on-disk queue.
//! * [`health`] runs rich health checks (MySQL/MariaDB first) and turns them
//!   into live/ready/degraded verdicts with reasons and OTLP metrics.
//!
//! Nothing here owns a runtime or a listening socket; the binary wires them.

pub mod duration;
pub mod export;
pub mod health;
pub mod listener;
pub mod otlp;
pub mod prometheus;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
