//! The YAML config file both programs read, and `sextant check`.
//!
//! One file may hold a `collector:` and an `agent:` section; each program
//! reads its own. Unknown keys are errors, reported with line and column.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;
use sextant_agent::AgentConfig;

use sextant_health::kind::KindConfig;

use crate::adapt::AdaptConfig;
use sextant_collector::CollectorConfig;

/// Longest config file read; a config is never megabytes.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// The whole file. Defaults come from each section's `Default`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// Settings of `sextant collector` (and the collector half of `up`).
    pub collector: CollectorConfig,
    /// Settings of `sextant agent` (and the agent half of `up`).
    pub agent: AgentConfig,
    /// Settings of `sextant adapt` (a health-check sidecar).
    pub adapt: AdaptConfig,
}

/// Reads and validates `path`; the error names the file, line, column and key.
pub fn load(path: &Path) -> Result<FileConfig> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    if meta.len() > MAX_CONFIG_BYTES {
        anyhow::bail!(
            "config {} is {} bytes; the limit is {MAX_CONFIG_BYTES}",
            path.display(),
            meta.len()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Parses config text; an empty document means all defaults.
pub fn parse(text: &str) -> Result<FileConfig, String> {
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    let cfg: FileConfig = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    validate(&cfg)?;
    Ok(cfg)
}

/// Checks what types alone cannot: addresses parse, limits are positive.
fn validate(cfg: &FileConfig) -> Result<(), String> {
    let addrs = [
        ("collector.http_listen", &cfg.collector.http_listen),
        (
            "collector.otlp_grpc_listen",
            &cfg.collector.otlp_grpc_listen,
        ),
        (
            "collector.otlp_http_listen",
            &cfg.collector.otlp_http_listen,
        ),
        ("agent.http_listen", &cfg.agent.http_listen),
    ];
    for (key, addr) in addrs {
        addr.parse::<std::net::SocketAddr>()
            .map_err(|e| format!("{key}: {addr:?} is not an address like 127.0.0.1:9464 ({e})"))?;
    }
    cfg.collector.security.validate("collector.security")?;
    cfg.agent.security.validate("agent.security")?;
    cfg.adapt.security.validate("adapt.security")?;
    let mut names = std::collections::HashSet::new();
    for (i, check) in cfg.agent.checks.iter().enumerate() {
        check
            .validate()
            .map_err(|e| format!("agent.checks[{i}]: {e}"))?;
        if !names.insert(&check.name) {
            return Err(format!(
                "agent.checks[{i}]: a check named {:?} already exists",
                check.name
            ));
        }
    }
    // The sidecar's file may hold settings for several kinds; each must build.
    let a = &cfg.adapt;
    let kinds = [
        KindConfig {
            mysql: a.mysql.clone(),
            ..KindConfig::default()
        },
        KindConfig {
            http: a.http.clone(),
            ..KindConfig::default()
        },
        KindConfig {
            tcp: a.tcp.clone(),
            ..KindConfig::default()
        },
        KindConfig {
            dns: a.dns.clone(),
            ..KindConfig::default()
        },
        KindConfig {
            postgres: a.postgres.clone(),
            ..KindConfig::default()
        },
        KindConfig {
            redis: a.redis.clone(),
            ..KindConfig::default()
        },
    ];
    for kind in kinds.iter().filter(|k| !k.is_empty()) {
        kind.build().map(|_| ()).map_err(|e| format!("adapt.{e}"))?;
    }
    let l = &cfg.collector.limits;
    if l.max_request_bytes == 0 || l.max_decompressed_bytes == 0 || l.max_string_bytes == 0 {
        return Err("collector.limits: every limit must be greater than zero".to_string());
    }
    if !cfg.agent.export.endpoint.starts_with("http://")
        && !cfg.agent.export.endpoint.starts_with("https://")
    {
        return Err(format!(
            "agent.export.endpoint: {:?} must start with http:// or https://",
            cfg.agent.export.endpoint
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_defaults_and_good_files() {
        assert!(parse("").is_ok());
        let cfg = parse(
            "collector:\n  data_dir: /tmp/x\n  retention: 2d\nagent:\n  host_metrics: false\n",
        )
        .expect("valid");
        assert_eq!(cfg.collector.retention.as_secs(), 2 * 86_400);
        assert!(!cfg.agent.host_metrics);
    }

    #[test]
    fn points_at_bad_keys_with_line_and_column() {
        let cases = [
            ("collector:\n  data_dri: x\n", "data_dri", "line 2"),
            (
                "collector:\n  retention: 5 parsecs\n",
                "retention",
                "line 2",
            ),
            (
                "agent:\n  export:\n    max_batch_items: many\n",
                "max_batch_items",
                "line 3",
            ),
            (
                "collector:\n  http_listen: nowhere\n",
                "collector.http_listen",
                "",
            ),
        ];
        for (text, key, line) in cases {
            let err = parse(text).expect_err(text);
            assert!(
                err.contains(key) || err.contains(line),
                "{text:?} gave {err}"
            );
            assert!(err.contains(line), "{text:?} gave {err} (want {line})");
        }
    }
}
