//! The collector's configuration: what a user writes under `collector:` in YAML.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use sextant_config::listener::{ConnectionLimits, ListenerSecurity};

/// Everything a user can set for the collector. Command-line flags override
/// these after loading; defaults live in `Default` and nowhere else.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CollectorConfig {
    /// Where the store keeps its WAL and checkpoints.
    pub data_dir: PathBuf,
    /// Query API, remote-write and UI. Not 9090, so a real Prometheus fits beside it.
    pub http_listen: String,
    /// OTLP/gRPC receiver.
    pub otlp_grpc_listen: String,
    /// OTLP/HTTP receiver.
    pub otlp_http_listen: String,
    /// Drop data older than this (e.g. `15d`).
    #[serde(with = "sextant_config::duration")]
    pub retention: Duration,
    /// Keep the store under this many bytes on disk; 0 means no limit.
    pub retention_bytes: u64,
    /// Input limits every receiver applies.
    pub limits: Limits,
    /// Where the collector sends its own traces (OTLP/gRPC); empty means
    /// its own store, in-process, with no network hop.
    pub self_traces_endpoint: String,
    /// Bearer token for a remote `self_traces_endpoint` (read once at start).
    pub self_traces_bearer_token_file: Option<PathBuf>,
    /// CA for an `https://` `self_traces_endpoint`; `None`: the system's roots.
    pub self_traces_ca_file: Option<PathBuf>,
    /// TLS and bearer-token auth, applied to all three listeners.
    pub security: ListenerSecurity,
    /// PromQL limits.
    pub query: QueryConfig,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            data_dir: PathBuf::from("data"),
            http_listen: "127.0.0.1:9464".to_string(),
            otlp_grpc_listen: "127.0.0.1:4317".to_string(),
            otlp_http_listen: "127.0.0.1:4318".to_string(),
            retention: Duration::from_secs(15 * 24 * 3600),
            retention_bytes: 0,
            limits: Limits::default(),
            self_traces_endpoint: String::new(),
            self_traces_bearer_token_file: None,
            self_traces_ca_file: None,
            security: ListenerSecurity::default(),
            query: QueryConfig::default(),
        }
    }
}

/// PromQL limits, with Prometheus's defaults (`--query.*` flags).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QueryConfig {
    /// Longest a query may run (`--query.timeout`).
    #[serde(with = "sextant_config::duration")]
    pub timeout: Duration,
    /// Most samples one query may hold (`--query.max-samples`).
    pub max_samples: usize,
    /// Queries evaluated at once; the rest wait (`--query.max-concurrency`).
    pub max_concurrency: usize,
    /// Queries that may wait for a slot; past it a query is answered 429
    /// with `Retry-After` at once, so overload shows as an answer instead
    /// of as minutes of latency (Mimir's `max_outstanding_requests_per_tenant`
    /// default; Prometheus queues without bound until the timeout).
    pub max_queued: usize,
    /// How far back an instant selector looks (`--query.lookback-delta`).
    #[serde(with = "sextant_config::duration")]
    pub lookback_delta: Duration,
    /// Largest answer one query may return; a bigger one fails with 422
    /// instead of being built. Prometheus has no such limit, but it streams
    /// nothing either: 20 queries each holding a gigabyte of JSON is how a
    /// dashboard storm takes a server down. 128 MiB is some 4M points.
    pub max_response_bytes: usize,
}

impl Default for QueryConfig {
    fn default() -> Self {
        QueryConfig {
            timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
            max_concurrency: 20,
            max_queued: 100,
            lookback_delta: Duration::from_secs(300),
            max_response_bytes: 128 << 20,
        }
    }
}

/// Bounds on what one request may carry, so no client can exhaust memory.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body accepted, compressed or not (413 beyond).
    pub max_request_bytes: usize,
    /// Largest body after gzip or snappy decompression (413 beyond).
    pub max_decompressed_bytes: usize,
    /// Longest label name or value, log line or attribute value kept verbatim.
    pub max_string_bytes: usize,

    // Validation and cardinality (Mimir's names and meanings): an item
    // breaking one is refused alone, named in a 400 (a new series past a
    // series limit: 429), and the rest of its request is stored.
    /// Most labels one series (or log stream) may have, `__name__` included.
    pub max_label_names_per_series: usize,
    /// Longest label name, in bytes.
    pub max_label_name_length: usize,
    /// Longest label value, in bytes.
    pub max_label_value_length: usize,
    /// How far past the collector's clock a sample or log entry may lie.
    #[serde(with = "sextant_config::duration")]
    pub creation_grace_period: Duration,
    /// Most series the store may hold; new ones past it are refused.
    pub max_series: u64,
    /// Most series one source (the `job` label) may hold.
    pub max_series_per_source: u64,
    /// Most log streams the store may hold; lines of new ones past it are refused.
    pub max_log_streams: u64,
    /// Most log streams one source (the `service_name` label) may hold.
    pub max_log_streams_per_source: u64,

    // Bounded decode and in-flight memory: counted by the pre-scan before
    // anything is decoded (413 beyond), and one budget for all receivers.
    /// Most resources (`resource_metrics`/`_logs`/`_spans` elements) in one request.
    pub max_resources_per_request: usize,
    /// Most metric data points in one request.
    pub max_points_per_request: usize,
    /// Most log records in one request.
    pub max_log_records_per_request: usize,
    /// Most spans in one request.
    pub max_spans_per_request: usize,
    /// Most remote-write time series in one request.
    pub max_series_per_request: usize,
    /// Bytes all requests being read, decoded and stored may hold at once
    /// (bodies plus estimated decoded size): 429 with `Retry-After` past it,
    /// 413 for a request that alone is over it. Decoded metric points take
    /// 9-11x their protobuf size (measured on the pre-scan's estimate), so
    /// the default admits one request of about 20-25 MiB of points, below
    /// `max_decompressed_bytes`: the budget, not the body limit, is
    /// what bounds one request's memory, and an operator who wants bigger
    /// batches raises both (examples/sextant.yaml says so).
    pub max_inflight_bytes: usize,
    /// Requests appending to the store at once; the rest wait for a slot.
    /// The WAL's group commit shares one fsync among concurrent appends,
    /// so this bounds queueing, not throughput.
    pub max_concurrent_appends: usize,
    /// Longest a request waits for an append slot before it is answered
    /// 429 (`RESOURCE_EXHAUSTED`) with `Retry-After`, so a collector that
    /// cannot keep up says so and senders back off, instead of answering
    /// in tens of seconds until they time out.
    #[serde(with = "sextant_config::duration")]
    pub max_append_wait: Duration,

    // Connection hygiene of each of the three listeners (defaults and why
    // in `ConnectionLimits`, shared with the agent's and sidecar's).
    /// Most connections per listener (Prometheus's `--web.max-connections`).
    pub max_connections: usize,
    /// Longest a client may take to send a request head.
    #[serde(with = "sextant_config::duration")]
    pub header_read_timeout: Duration,
    /// Longest a request body may take to arrive (408 past it).
    #[serde(with = "sextant_config::duration")]
    pub request_body_timeout: Duration,
    /// Longest a connection stays open with no request in flight.
    #[serde(with = "sextant_config::duration")]
    pub idle_timeout: Duration,
}

impl Limits {
    /// The connection settings, as every listener takes them.
    pub fn connections(&self) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: self.max_connections,
            header_read_timeout: self.header_read_timeout,
            request_body_timeout: self.request_body_timeout,
            idle_timeout: self.idle_timeout,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        let conns = ConnectionLimits::default();
        Limits {
            max_request_bytes: 16 << 20,
            max_decompressed_bytes: 64 << 20,
            max_string_bytes: 64 << 10,

            max_label_names_per_series: 64,
            max_label_name_length: 1024,
            max_label_value_length: 4096,
            creation_grace_period: Duration::from_secs(10 * 60),
            max_series: 1_000_000,
            max_series_per_source: 100_000,
            max_log_streams: 100_000,
            max_log_streams_per_source: 10_000,

            max_resources_per_request: 10_000,
            max_points_per_request: 1_000_000,
            max_log_records_per_request: 1_000_000,
            max_spans_per_request: 1_000_000,
            max_series_per_request: 1_000_000,
            max_inflight_bytes: 256 << 20,
            max_concurrent_appends: 64,
            max_append_wait: Duration::from_secs(5),

            max_connections: conns.max_connections,
            header_read_timeout: conns.header_read_timeout,
            request_body_timeout: conns.request_body_timeout,
            idle_timeout: conns.idle_timeout,
        }
    }
}
