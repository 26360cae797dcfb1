//! Health checks configured in the agent's YAML: each runs on its own
//! schedule, its report is shipped as OTLP metrics through the export path,
//! and every verdict change is logged (and so shipped as a log record).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use sextant_config::duration;
use sextant_config::map::read_once;
use sextant_export::Exporter;
use sextant_health::kind::{KindConfig, KindName, KindSet, keys_with_kinds};
use sextant_health::probe::{ProbeCache, run_check};
use sextant_health::report_to_otlp;
use tokio::sync::watch;

/// One configured check: a name, a schedule and exactly one kind, written
/// flat as `{name, interval, mysql: {…}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckConfig {
    /// Unique name; the `check` attribute of its log lines.
    pub name: String,
    /// How often it runs.
    pub interval: Duration,
    /// The kind and its settings.
    pub kind: KindConfig,
}

fn default_interval() -> Duration {
    Duration::from_secs(15)
}

impl CheckConfig {
    /// Checks the name, the schedule and the kind's settings.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() || self.name.len() > 128 {
            return Err("name: must be 1 to 128 characters".to_string());
        }
        if self.interval.is_zero() {
            return Err(format!("{}: interval must be positive", self.name));
        }
        self.kind
            .build()
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", self.name))
    }
}

/// An entry's keys: its own, then every kind's.
static KEYS: [&str; 2 + KindName::COUNT] = keys_with_kinds(["name", "interval"]);

/// Reads an entry by hand, so the kind's block sits beside `name` and
/// `interval` while unknown keys, and errors inside the block, keep their
/// line and column (serde's `flatten` would lose them).
struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = CheckConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a check: name, interval and one of {}",
            KindName::NAMES.join(", ")
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CheckConfig, A::Error> {
        let (mut name, mut interval) = (None::<String>, None::<duration::Value>);
        let mut kinds = KindSet::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => read_once(&mut map, "name", &mut name)?,
                "interval" => read_once(&mut map, "interval", &mut interval)?,
                _ if kinds.next_value(&key, &mut map)? => {}
                _ => return Err(de::Error::unknown_field(&key, &KEYS)),
            }
        }
        Ok(CheckConfig {
            name: name.ok_or_else(|| de::Error::missing_field("name"))?,
            interval: interval.map_or_else(default_interval, |v| v.0),
            kind: kinds.into_one()?,
        })
    }
}

impl<'de> Deserialize<'de> for CheckConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct("CheckConfig", &KEYS, CheckVisitor)
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
        let check = cfg.kind.build().map_err(|reason| CheckError {
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
mod tests;
