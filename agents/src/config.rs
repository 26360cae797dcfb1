//! The agent's configuration: what a user writes under `agent:` in YAML.

use std::time::Duration;

use serde::Deserialize;
use sextant_config::listener::ListenerSecurity;
use sextant_export::ExporterConfig;

use crate::checks::CheckConfig;

/// Everything a user can set for the agent. Defaults live in `Default` only.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// Where the agent's own `/metrics`, `/livez` and `/readyz` are served.
    pub http_listen: String,
    /// The export path: collector endpoint, batching, retry, disk queue.
    pub export: ExporterConfig,
    /// How often the agent ships its own metrics.
    #[serde(with = "sextant_config::duration")]
    pub self_metrics_interval: Duration,
    /// Whether to collect host CPU, memory and load metrics.
    pub host_metrics: bool,
    /// How often host metrics are read.
    #[serde(with = "sextant_config::duration")]
    pub host_metrics_interval: Duration,
    /// `service.instance.id` of the agent's telemetry; empty means the host name.
    pub instance: String,
    /// OTLP/gRPC endpoint for the agent's own spans; empty turns them off.
    pub traces_endpoint: String,
    /// TLS and bearer-token auth for the agent's listener.
    pub security: ListenerSecurity,
    /// Health checks to run and ship (e.g. a MySQL on this node).
    pub checks: Vec<CheckConfig>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            http_listen: "127.0.0.1:9465".to_string(),
            export: ExporterConfig::default(),
            self_metrics_interval: Duration::from_secs(15),
            host_metrics: true,
            host_metrics_interval: Duration::from_secs(15),
            instance: String::new(),
            traces_endpoint: "http://127.0.0.1:4317".to_string(),
            security: ListenerSecurity::default(),
            checks: Vec::new(),
        }
    }
}
