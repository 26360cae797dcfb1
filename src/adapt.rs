//! `sextant adapt <kind>`: one health check as a sidecar. It runs the check
//! on its own schedule and serves Kubernetes-style probes over the cached
//! verdict plus a Prometheus `/metrics` of the latest report, so any app's
//! database is judged the same way, in depth, without an agent.
//!
//! Only the command line and the serving live here: the kinds, their
//! blocks in the `adapt:` section and what each flag means for each kind
//! (default ports, database `--target` URLs, `rediss://`, refused flags)
//! are `sextant-health`'s (`kind`, `sidecar`).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use clap::Args;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use sextant_config::duration;
use sextant_config::listener::{ConnectionLimits, ListenerSecurity};
use sextant_config::map::read_once;
use sextant_health::kind::{KindName, KindSet, keys_with_kinds};
use sextant_health::mysql::ExpectedRole;
use sextant_health::probe::{ProbeCache, run_check};
use sextant_health::sidecar::SidecarFlags;
use sextant_health::{Report, report_to_otlp};
use tokio::sync::watch;

use crate::listener_metrics::ListenerMetrics;
use crate::security::Security;
use crate::serve::{self, serve};

/// Flags of `sextant adapt`; they override the `adapt:` section of `--config`.
#[derive(Args)]
pub struct AdaptArgs {
    /// What to check.
    #[arg(value_parser = kind_parser())]
    kind: KindName,
    /// What to check: `mysql://user@host:port`, `postgres://user@host:port/db`,
    /// `redis://[user@]host:port` (`rediss://` for TLS) — no password here:
    /// use --password-file —, an `http(s)://` URL, `host:port` for tcp, or
    /// the DNS server's `ip:port` for dns.
    #[arg(long)]
    target: Option<String>,
    /// The name to resolve (dns).
    #[arg(long)]
    name: Option<String>,
    /// File holding the password (a mounted Secret).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// CA certificate (PEM) to verify the server with; turns TLS on
    /// (mysql, postgres, redis). The config's `tls:` block sets the rest.
    #[arg(long, value_name = "FILE")]
    tls_ca_file: Option<PathBuf>,
    /// Where probes and /metrics are served.
    #[arg(long)]
    listen: Option<String>,
    /// YAML config; its `adapt:` section sets thresholds and TLS.
    #[arg(long)]
    config: Option<PathBuf>,
    /// How often the check runs (e.g. 10s).
    #[arg(long, value_parser = sextant_config::duration::parse)]
    interval: Option<Duration>,
    /// Replica lag over which a replica is not ready (e.g. 30s).
    #[arg(long, value_parser = sextant_config::duration::parse)]
    max_replica_lag: Option<Duration>,
    /// Per-call timeout of the check (e.g. 2s).
    #[arg(long, value_parser = sextant_config::duration::parse)]
    timeout: Option<Duration>,
    /// What the MySQL server is supposed to be (mysql): `auto` works it
    /// out; `primary` needs no replication privilege and is not ready when
    /// read-only; `replica` is not ready without replication.
    #[arg(long, value_name = "ROLE", value_parser = role_parser())]
    role: Option<ExpectedRole>,
}

/// `<kind>`'s parser: the registry's names, each with its few words in `--help`.
fn kind_parser() -> impl clap::builder::TypedValueParser<Value = KindName> {
    use clap::builder::{PossibleValue, TypedValueParser};
    clap::builder::PossibleValuesParser::new(
        KindName::ALL
            .iter()
            .map(|k| PossibleValue::new(k.as_str()).help(k.about())),
    )
    .try_map(|s| s.parse::<KindName>())
}

/// `--role`'s parser: the config's names, listed in `--help`.
fn role_parser() -> impl clap::builder::TypedValueParser<Value = ExpectedRole> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(ExpectedRole::ALL.map(ExpectedRole::as_str))
        .try_map(|s| s.parse::<ExpectedRole>())
}

impl AdaptArgs {
    /// The `--config` file, if given.
    pub fn config_path(&self) -> Option<&PathBuf> {
        self.config.as_ref()
    }

    /// The flags each kind's config applies to itself.
    fn flags(&self) -> SidecarFlags {
        SidecarFlags {
            target: self.target.clone(),
            name: self.name.clone(),
            password_file: self.password_file.clone(),
            tls_ca_file: self.tls_ca_file.clone(),
            max_replica_lag: self.max_replica_lag,
            timeout: self.timeout,
            role: self.role,
        }
    }
}

/// The `adapt:` section of the config file: the listener, the schedule,
/// and a block for each kind the sidecar may be asked to run, flat beside
/// them (`{listen, interval, security, mysql: {…}, http: {…}}`).
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptConfig {
    /// Where probes and /metrics are served (9104 is mysqld_exporter's port).
    pub listen: String,
    /// How often the check runs.
    pub interval: Duration,
    /// TLS and bearer-token auth for the listener (probes stay open).
    pub security: ListenerSecurity,
    /// The kinds' settings; the command line picks one.
    pub kinds: KindSet,
}

impl Default for AdaptConfig {
    fn default() -> Self {
        AdaptConfig {
            listen: "127.0.0.1:9104".to_string(),
            interval: Duration::from_secs(15),
            security: ListenerSecurity::default(),
            kinds: KindSet::default(),
        }
    }
}

/// The section's keys: its own, then every kind's.
static KEYS: [&str; 3 + KindName::COUNT] = keys_with_kinds(["listen", "interval", "security"]);

/// Reads the section by hand, so the kinds' blocks sit beside its own keys
/// while unknown keys, and errors inside a block, keep their line and
/// column (serde's `flatten` would lose them). Absent keys keep their defaults.
struct AdaptVisitor;

impl<'de> Visitor<'de> for AdaptVisitor {
    type Value = AdaptConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the adapt: section")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AdaptConfig, A::Error> {
        let (mut listen, mut interval, mut security) = (None, None::<duration::Value>, None);
        let mut kinds = KindSet::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "listen" => read_once(&mut map, "listen", &mut listen)?,
                "interval" => read_once(&mut map, "interval", &mut interval)?,
                "security" => read_once(&mut map, "security", &mut security)?,
                _ if kinds.next_value(&key, &mut map)? => {}
                _ => return Err(de::Error::unknown_field(&key, &KEYS)),
            }
        }
        let defaults = AdaptConfig::default();
        Ok(AdaptConfig {
            listen: listen.unwrap_or(defaults.listen),
            interval: interval.map_or(defaults.interval, |v| v.0),
            security: security.unwrap_or(defaults.security),
            kinds,
        })
    }
}

impl<'de> Deserialize<'de> for AdaptConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct("AdaptConfig", &KEYS, AdaptVisitor)
    }
}

/// Runs the sidecar until SIGINT/SIGTERM.
pub async fn run(args: AdaptArgs, file: AdaptConfig) -> Result<()> {
    let kind = file.kinds.sidecar(args.kind, &args.flags())?;
    let mut cfg = file;
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if let Some(i) = args.interval {
        cfg.interval = i;
    }
    let check = Arc::new(kind.build().map_err(|e| anyhow::anyhow!("adapt: {e}"))?);
    let name = args.kind.as_str().to_string();
    // Three missed runs (or one run stuck past its timeout twice) make the result stale.
    let cache = ProbeCache::new(cfg.interval * 3 + kind.timeout() * 2);
    let latest: Arc<RwLock<Option<Report>>> = Arc::default();
    let (stop_tx, stop_rx) = watch::channel(false);
    let registry = prometheus::Registry::new();
    let listeners =
        ListenerMetrics::register(&registry).context("cannot register listener metrics")?;
    let router = crate::probes::router(Arc::clone(&cache))
        .merge(metrics_router(Arc::clone(&latest), registry));
    let security = Security::load(&cfg.security).context("adapt.security")?;
    let http = serve(
        "adapt",
        &cfg.listen,
        router,
        &security,
        ConnectionLimits::default(),
        &listeners,
        stop_rx.clone(),
    )
    .await?;
    tracing::info!(check = %name, target = %check.target(), interval = ?cfg.interval, "sidecar running");
    let runner = {
        let check = Arc::clone(&check);
        tokio::spawn(run_check(
            name,
            cfg.interval,
            cache,
            move || {
                let (check, latest) = (Arc::clone(&check), Arc::clone(&latest));
                async move {
                    let report = check.check().await;
                    *latest.write().unwrap_or_else(PoisonError::into_inner) = Some(report.clone());
                    report
                }
            },
            stop_rx,
        ))
    };
    serve::wait_for_signal(stop_tx).await;
    let _ = runner.await;
    http.await.context("listener task")?
}

/// `/metrics`: the latest report in the Prometheus text format, then the
/// sidecar's own registry.
fn metrics_router(latest: Arc<RwLock<Option<Report>>>, registry: prometheus::Registry) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let latest = Arc::clone(&latest);
            let registry = registry.clone();
            async move {
                let report = latest
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let mut text = match report {
                    Some(r) => {
                        let (series, _) =
                            sextant_prometheus::otlp_to_series(&report_to_otlp(&[r], Vec::new()));
                        sextant_prometheus::to_text(&series)
                    }
                    None => String::new(),
                };
                text.push_str(&serve::registry_text(&registry));
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    text,
                )
                    .into_response()
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_health::kind::KindConfig;

    #[test]
    fn role_flag_and_key_take_the_three_names() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            adapt: AdaptArgs,
        }
        let parse = |role: &str| {
            Cli::try_parse_from(["adapt", "mysql", "--role", role])
                .map(|c| c.adapt.role)
                .map_err(|e| e.to_string())
        };
        assert_eq!(parse("primary"), Ok(Some(ExpectedRole::Primary)));
        assert_eq!(parse("replica"), Ok(Some(ExpectedRole::Replica)));
        assert_eq!(parse("auto"), Ok(Some(ExpectedRole::Auto)));
        let err = parse("master").expect_err("not a role");
        assert!(
            err.contains("invalid value 'master' for '--role <ROLE>'")
                && err.contains("[possible values: auto, primary, replica]"),
            "{err}"
        );

        let cfg = crate::config::parse("adapt:\n  mysql:\n    role: primary\n").expect("valid");
        let role = match cfg.adapt.kinds.get(KindName::Mysql) {
            Some(KindConfig::Mysql(c)) => Some(c.role),
            _ => None,
        };
        assert_eq!(role, Some(ExpectedRole::Primary));
        let err = crate::config::parse("adapt:\n  mysql:\n    role: master\n")
            .expect_err("master is not a role");
        assert!(
            err.contains("line 3 column 11")
                && err
                    .contains(r#"role: "master" is not a role; expected auto, primary or replica"#),
            "{err}"
        );
    }
}
