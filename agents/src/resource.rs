//! The OTLP resource every item the agent sends carries.

use opentelemetry_proto::tonic::resource::v1::Resource;
use sextant_otlp::string_kv as kv;

use crate::AgentConfig;

/// `service.name=sextant-agent`, `service.instance.id`, `host.name`, by the
/// OpenTelemetry semantic conventions, so the collector maps them to
/// `job`/`instance`.
pub fn agent_resource(cfg: &AgentConfig) -> Resource {
    let host = host_name();
    let instance = if cfg.instance.is_empty() {
        host.clone()
    } else {
        cfg.instance.clone()
    };
    Resource {
        attributes: vec![
            kv("service.name", "sextant-agent"),
            kv("service.version", env!("CARGO_PKG_VERSION")),
            kv("service.instance.id", &instance),
            kv("host.name", &host),
        ],
        ..Default::default()
    }
}

/// The node's name from the kernel, falling back to `$HOSTNAME`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}
