//! Rich health checks: ask a dependency (a database, a cache, an HTTP or
//! DNS endpoint, a port) how it is doing and turn the answer into three verdicts and
//! a set of metrics.
//!
//! Every kind of check has the same shape, so a new kind is one module
//! plus its line in [`kind`]'s registry:
//!
//! ```text
//!   check (kind-specific I/O, bounded by a timeout)
//!     → Report { verdict: live / ready / degraded with reasons, metrics }
//!     → report_to_otlp(...) → OTLP metrics (+ sextant.check.* per check)
//! ```
//!
//! * [`verdict`] — the three verdicts and the reasons that explain them:
//!   *live* (restart me if false), *ready* (route traffic to me), *degraded*
//!   (worth a look, never a probe failure).
//! * [`report`] — [`Report`], the metric values a check produced, and their
//!   conversion to an OTLP `ExportMetricsServiceRequest`.
//! * [`mysql`] — MySQL and MariaDB (replicas, Galera nodes, primaries).
//! * [`postgres`] — PostgreSQL (primaries and streaming standbys).
//! * [`redis`] — Redis (masters and replicas), over a small RESP2 client.
//! * [`http`], [`tcp`], [`dns`] — endpoints, ports (with TLS certificate
//!   expiry, judged in one place, `expiry`) and name servers, in the
//!   blackbox exporter's manner.
//! * [`kind`] — the kinds, listed once: their names, one config block of
//!   exactly one kind ([`kind::KindConfig`], a serde enum), several side by
//!   side ([`kind::KindSet`]), and one runnable value for any kind.
//! * [`sidecar`] — the sidecar's flags, which each kind's config applies
//!   to itself, and the database `--target` URLs.
//! * [`secret`] — passwords: the `password_file` / `password_env` source
//!   every kind that logs in shares, and a redacted [`secret::Secret`].
//! * [`probe`] — checks on a schedule, results cached for probe endpoints.
//!
//! A check never binds a socket, never panics on what the target answers and
//! never returns later than its timeout (plus scheduling slack).

pub mod dns;
mod expiry;
pub mod http;
pub mod kind;
pub mod mysql;
pub mod postgres;
pub mod probe;
pub mod redis;
pub mod report;
pub mod secret;
pub mod sidecar;
pub mod tcp;
pub mod verdict;

#[cfg(test)]
mod test_support;

pub use report::{MetricDef, MetricKind, MetricValue, Report, report_to_otlp};
pub use verdict::{Judgement, Reason, Status, Verdict};
