//! Health checks configured in the agent's YAML: each runs on its own
//! schedule, its report is shipped as OTLP metrics through the export path,
//! and every verdict change is logged (and so shipped as a log record).

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::Deserialize;
use sextant_export::Exporter;
use sextant_health::dns::DnsConfig;
use sextant_health::http::HttpConfig;
use sextant_health::kind::KindConfig;
use sextant_health::mysql::MysqlConfig;
use sextant_health::postgres::PostgresConfig;
use sextant_health::probe::{ProbeCache, run_check};
use sextant_health::redis::RedisConfig;
use sextant_health::report_to_otlp;
use sextant_health::tcp::TcpConfig;
use tokio::sync::watch;

/// One configured check: a name, a schedule and exactly one kind.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    /// Unique name; the `check` attribute of its log lines.
    pub name: String,
    /// How often it runs.
    #[serde(default = "default_interval", with = "sextant_config::duration")]
    pub interval: Duration,
    /// A MySQL/MariaDB check.
    pub mysql: Option<MysqlConfig>,
    /// An HTTP(S) check.
    pub http: Option<HttpConfig>,
    /// A TCP/TLS check.
    pub tcp: Option<TcpConfig>,
    /// A DNS check.
    pub dns: Option<DnsConfig>,
    /// A PostgreSQL check.
    pub postgres: Option<PostgresConfig>,
    /// A Redis check.
    pub redis: Option<RedisConfig>,
}

fn default_interval() -> Duration {
    Duration::from_secs(15)
}

impl CheckConfig {
    /// The kind-specific part.
    fn kind(&self) -> KindConfig {
        KindConfig {
            mysql: self.mysql.clone(),
            http: self.http.clone(),
            tcp: self.tcp.clone(),
            dns: self.dns.clone(),
            postgres: self.postgres.clone(),
            redis: self.redis.clone(),
        }
    }

    /// Checks the entry names exactly one kind and that its settings are valid.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() || self.name.len() > 128 {
            return Err("name: must be 1 to 128 characters".to_string());
        }
        if self.interval.is_zero() {
            return Err(format!("{}: interval must be positive", self.name));
        }
        self.kind()
            .build()
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", self.name))
    }
}

/// Why a check could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("check {name}: {reason}")]
pub struct CheckError {
    /// The check's name.
    pub name: String,
    /// Why.
    pub reason: String,
}

/// Starts every check; each task runs until shutdown.
pub fn start(
    checks: &[CheckConfig],
    exporter: &Exporter,
    resource: &Resource,
    shutdown: &watch::Receiver<bool>,
    tasks: &mut tokio::task::JoinSet<()>,
) -> Result<(), CheckError> {
    // The agent serves no probes for these (its own /readyz is about the
    // agent); the cache still gives run_check its change detection.
    let cache = ProbeCache::new(Duration::from_secs(3600));
    for cfg in checks {
        let check = cfg.kind().build().map_err(|reason| CheckError {
            name: cfg.name.clone(),
            reason,
        })?;
        let check = Arc::new(check);
        let (exporter, resource) = (exporter.clone(), resource.clone());
        tasks.spawn(run_check(
            cfg.name.clone(),
            cfg.interval,
            Arc::clone(&cache),
            move || {
                let (check, exporter, resource) =
                    (Arc::clone(&check), exporter.clone(), resource.clone());
                async move {
                    let report = check.check().await;
                    let metrics =
                        report_to_otlp(std::slice::from_ref(&report), resource.attributes.clone());
                    if let Err(e) = exporter.submit_metrics(metrics).await {
                        tracing::warn!(error = %e, "could not submit health metrics");
                    }
                    report
                }
            },
            shutdown.clone(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_entries() {
        let ok = CheckConfig {
            name: "db".into(),
            interval: Duration::from_secs(5),
            mysql: Some(MysqlConfig::default()),
            http: None,
            tcp: None,
            dns: None,
            postgres: None,
            redis: None,
        };
        assert!(ok.validate().is_ok());
        let none = CheckConfig {
            mysql: None,
            ..ok.clone()
        };
        assert!(none.validate().is_err_and(|e| e.contains("exactly one")));
        let zero = CheckConfig {
            interval: Duration::ZERO,
            ..ok.clone()
        };
        assert!(zero.validate().is_err());
        let unnamed = CheckConfig {
            name: String::new(),
            ..ok
        };
        assert!(unnamed.validate().is_err());
    }
}
