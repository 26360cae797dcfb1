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
    /// Where the collector sends its own traces (OTLP/gRPC); empty means its own receiver.
    pub self_traces_endpoint: String,
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
    /// How far back an instant selector looks (`--query.lookback-delta`).
    #[serde(with = "sextant_config::duration")]
    pub lookback_delta: Duration,
}

impl Default for QueryConfig {
    fn default() -> Self {
        QueryConfig {
            timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
            max_concurrency: 20,
            lookback_delta: Duration::from_secs(300),
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
            max_connections: conns.max_connections,
            header_read_timeout: conns.header_read_timeout,
            request_body_timeout: conns.request_body_timeout,
            idle_timeout: conns.idle_timeout,
        }
    }
}
