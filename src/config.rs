//! The YAML config file both programs read, and `sextant check`.
//!
//! One file may hold a `collector:` and an `agent:` section; each program
//! reads its own. Unknown keys are errors, reported with line and column.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;
use sextant_agent::AgentConfig;
use sextant_collector::CollectorConfig;

use crate::adapt::AdaptConfig;

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
    for kind in cfg.adapt.kinds.iter() {
        kind.build().map(|_| ()).map_err(|e| format!("adapt.{e}"))?;
    }
    let l = &cfg.collector.limits;
    if l.max_request_bytes == 0 || l.max_decompressed_bytes == 0 || l.max_string_bytes == 0 {
        return Err("collector.limits: every limit must be greater than zero".to_string());
    }
    let zero = Duration::ZERO;
    if l.max_concurrent_appends == 0 || l.max_append_wait == zero {
        return Err(
            "collector.limits: max_concurrent_appends and max_append_wait must be greater than zero"
                .to_string(),
        );
    }
    if l.max_connections == 0
        || [
            l.header_read_timeout,
            l.request_body_timeout,
            l.idle_timeout,
        ]
        .contains(&zero)
    {
        return Err(
            "collector.limits: max_connections and the timeouts must be greater than zero"
                .to_string(),
        );
    }
    let c = &cfg.collector;
    if c.self_traces_endpoint.is_empty() {
        // In-process self traces take no credentials; a key set for them
        // anyway is a misunderstanding worth saying so at start.
        if c.self_traces_bearer_token_file.is_some() || c.self_traces_ca_file.is_some() {
            return Err(
                "collector.self_traces_bearer_token_file and self_traces_ca_file \
                 apply only to a remote self_traces_endpoint"
                    .to_string(),
            );
        }
    } else if !c.self_traces_endpoint.starts_with("http://")
        && !c.self_traces_endpoint.starts_with("https://")
    {
        return Err(format!(
            "collector.self_traces_endpoint: {:?} must start with http:// or https://",
            c.self_traces_endpoint
        ));
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

    #[test]
    fn the_example_file_parses() {
        let cfg = parse(include_str!("../examples/sextant.yaml")).expect("examples/sextant.yaml");
        assert!(cfg.agent.checks.is_empty() && cfg.adapt.kinds.is_empty());
        // Its commented-out checks, uncommented, parse too (building them
        // would read their password files).
        let text = include_str!("../examples/sextant.yaml");
        let (head, tail) = text.split_at(text.find("  checks: []").expect("checks"));
        let mut checks = String::from("  checks:\n");
        let mut rest = Vec::new();
        for line in tail.lines().skip(1) {
            match line.strip_prefix("  #") {
                Some(l) if !l.trim_start().starts_with('#') => {
                    checks.push_str(&format!("  {}\n", l.split(" # ").next().unwrap_or(l)))
                }
                Some(_) => {}
                None => rest.push(line),
            }
        }
        let cfg: FileConfig =
            serde_saphyr::from_str(&format!("{head}{checks}{}\n", rest.join("\n")))
                .expect("with checks");
        let names: Vec<&str> = cfg.agent.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["orders-db", "sessions-db", "cache", "api"]);
    }

    #[test]
    fn the_example_file_holds_the_connection_defaults() {
        let cfg = parse(include_str!("../examples/sextant.yaml")).expect("examples/sextant.yaml");
        assert_eq!(
            cfg.collector.limits.connections(),
            sextant_config::listener::ConnectionLimits::default()
        );
        let err = parse("collector:\n  limits:\n    idle_timeout: 0s\n").expect_err("zero");
        assert!(err.contains("collector.limits"), "{err}");
    }

    #[test]
    fn the_append_slot_settings_must_be_positive() {
        for text in [
            "collector:\n  limits:\n    max_concurrent_appends: 0\n",
            "collector:\n  limits:\n    max_append_wait: 0s\n",
        ] {
            let err = parse(text).expect_err(text);
            assert!(
                err.contains("max_concurrent_appends and max_append_wait"),
                "{err}"
            );
        }
        let ok = parse("collector:\n  limits:\n    max_append_wait: 1h30m\n")
            .expect("compound duration");
        assert_eq!(
            ok.collector.limits.max_append_wait,
            Duration::from_secs(5400)
        );
    }

    #[test]
    fn self_trace_credentials_need_a_remote_endpoint() {
        let cfg = parse(include_str!("../examples/sextant.yaml")).expect("examples/sextant.yaml");
        assert!(cfg.collector.self_traces_endpoint.is_empty());
        assert_eq!(cfg.collector.self_traces_bearer_token_file, None);
        assert_eq!(cfg.collector.self_traces_ca_file, None);
        let err = parse("collector:\n  self_traces_ca_file: /ca.pem\n").expect_err("no endpoint");
        assert!(err.contains("self_traces_endpoint"), "{err}");
        let err =
            parse("collector:\n  self_traces_endpoint: collector:4317\n").expect_err("scheme");
        assert!(err.contains("http://"), "{err}");
        parse(concat!(
            "collector:\n  self_traces_endpoint: https://central:4317\n",
            "  self_traces_bearer_token_file: /token\n  self_traces_ca_file: /ca.pem\n"
        ))
        .expect("a remote endpoint with credentials");
    }

    #[test]
    fn checks_and_the_adapt_section_keep_their_keys_and_positions() {
        use sextant_health::kind::KindName;
        let cfg = parse(
            "agent:\n  checks:\n    - name: db\n      interval: 5s\n      mysql: {host: db}\n\
             adapt:\n  listen: 127.0.0.1:9999\n  interval: 3s\n  mysql:\n    role: replica\n  http:\n    url: \"http://svc/healthz\"\n",
        )
        .expect("valid");
        assert_eq!(cfg.agent.checks[0].kind.kind(), KindName::Mysql);
        assert_eq!(
            (cfg.adapt.listen.as_str(), cfg.adapt.interval.as_secs()),
            ("127.0.0.1:9999", 3)
        );
        let kinds: Vec<KindName> = cfg.adapt.kinds.iter().map(|k| k.kind()).collect();
        assert_eq!(kinds, [KindName::Mysql, KindName::Http]);
        assert_eq!(
            parse("adapt: {}\n").map(|c| c.adapt),
            Ok(AdaptConfig::default())
        );

        let cases: [(&str, &[&str]); 8] = [
            (
                "adapt:\n  mysql: {}\n  lisen: x\n",
                &[
                    "line 3 column 3",
                    "unknown field `lisen`, expected one of listen, interval, security, mysql, postgres, redis, http, tcp, dns",
                ],
            ),
            ("adapt:\n  mysql:\n    port: -1\n", &["line 3 column 11"]),
            (
                "adapt:\n  redis:\n    password: x\n",
                &["line 3 column 5", "unknown field `password`"],
            ),
            (
                "adapt:\n  interval: soon\n",
                &["line 2 column 13", "duration"],
            ),
            (
                "adapt:\n  mysql:\n    lock_wait_timeout: 10ms\n",
                &["adapt.mysql: invalid mysql check config: lock_wait_timeout must be at least 1s"],
            ),
            (
                "agent:\n  checks:\n    - name: db\n      mysql: {}\n      tcp: {port: 1}\n",
                &[
                    "line 3 column 7",
                    "set exactly one of mysql, postgres, redis, http, tcp, dns (found mysql, tcp)",
                ],
            ),
            (
                "agent:\n  checks:\n    - name: db\n      tcp: {port: 0}\n",
                &["agent.checks[0]: db: tcp: invalid tcp check config"],
            ),
            (
                "agent:\n  checks:\n    - name: db\n      mysql: {}\n    - name: db\n      redis: {}\n",
                &["agent.checks[1]: a check named \"db\" already exists"],
            ),
        ];
        for (text, parts) in cases {
            let err = parse(text).expect_err(text);
            for part in parts {
                assert!(err.contains(part), "{text:?}: {err} lacks {part}");
            }
        }
    }
}
