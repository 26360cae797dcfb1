//! `sextant adapt <kind>`: one health check as a sidecar. It runs the check
//! on its own schedule and serves Kubernetes-style probes over the cached
//! verdict plus a Prometheus `/metrics` of the latest report, so any app's
//! database is judged the same way, in depth, without an agent.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use clap::{Args, ValueEnum};
use serde::Deserialize;
use sextant_config::listener::ListenerSecurity;
use sextant_health::dns::DnsConfig;
use sextant_health::http::HttpConfig;
use sextant_health::kind::KindConfig;
use sextant_health::mysql::{ExpectedRole, MysqlConfig};
use sextant_health::postgres::PostgresConfig;
use sextant_health::probe::{ProbeCache, run_check};
use sextant_health::redis::RedisConfig;
use sextant_health::sidecar::SidecarFlags;
use sextant_health::tcp::TcpConfig;
use sextant_health::{Report, report_to_otlp};
use tokio::sync::watch;

use crate::security::Security;
use crate::serve::{self, serve};

/// The kinds of check a sidecar can run.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Kind {
    /// MySQL or MariaDB.
    Mysql,
    /// An HTTP(S) endpoint.
    Http,
    /// A TCP (or TLS) port.
    Tcp,
    /// A DNS server answering for a name.
    Dns,
    /// PostgreSQL.
    Postgres,
    /// Redis.
    Redis,
}

/// Flags of `sextant adapt`; they override the `adapt:` section of `--config`.
#[derive(Args)]
pub struct AdaptArgs {
    /// What to check.
    #[arg(value_enum)]
    kind: Kind,
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

/// The `adapt:` section of the config file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptConfig {
    /// Where probes and /metrics are served (9104 is mysqld_exporter's port).
    pub listen: String,
    /// How often the check runs.
    #[serde(with = "sextant_config::duration")]
    pub interval: Duration,
    /// TLS and bearer-token auth for the listener (probes stay open).
    pub security: ListenerSecurity,
    /// The MySQL/MariaDB check's settings.
    pub mysql: Option<MysqlConfig>,
    /// The HTTP check's settings.
    pub http: Option<HttpConfig>,
    /// The TCP check's settings.
    pub tcp: Option<TcpConfig>,
    /// The DNS check's settings.
    pub dns: Option<DnsConfig>,
    /// The PostgreSQL check's settings.
    pub postgres: Option<PostgresConfig>,
    /// The Redis check's settings.
    pub redis: Option<RedisConfig>,
}

impl Default for AdaptConfig {
    fn default() -> Self {
        AdaptConfig {
            listen: "127.0.0.1:9104".to_string(),
            interval: Duration::from_secs(15),
            security: ListenerSecurity::default(),
            mysql: None,
            http: None,
            tcp: None,
            dns: None,
            postgres: None,
            redis: None,
        }
    }
}

/// The kind's settings from the file (or defaults) with the flags applied.
fn kind_config(args: &AdaptArgs, file: &AdaptConfig) -> Result<KindConfig> {
    let flags = args.flags();
    let mut kind = KindConfig::default();
    match args.kind {
        Kind::Mysql => {
            let mut c = file.mysql.clone().unwrap_or_default();
            c.apply_flags(&flags)?;
            kind.mysql = Some(c);
        }
        Kind::Http => {
            let mut c = file.http.clone().unwrap_or_default();
            c.apply_flags(&flags)?;
            kind.http = Some(c);
        }
        Kind::Tcp => {
            let mut c = file.tcp.clone().unwrap_or_default();
            c.apply_flags(&flags)?;
            kind.tcp = Some(c);
        }
        Kind::Dns => {
            let mut c = file.dns.clone().unwrap_or_default();
            c.apply_flags(&flags)?;
            kind.dns = Some(c);
        }
        Kind::Postgres => {
            let mut c = file.postgres.clone().unwrap_or_default();
            c.apply_flags(&flags)?;
            kind.postgres = Some(c);
        }
        Kind::Redis => {
            let mut c = file.redis.clone().unwrap_or_default();
            c.apply_flags(&flags)?;
            kind.redis = Some(c);
        }
    }
    Ok(kind)
}

/// Runs the sidecar until SIGINT/SIGTERM.
pub async fn run(args: AdaptArgs, file: AdaptConfig) -> Result<()> {
    let kind = kind_config(&args, &file)?;
    let mut cfg = file;
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if let Some(i) = args.interval {
        cfg.interval = i;
    }
    let check = Arc::new(kind.build().map_err(|e| anyhow::anyhow!("adapt: {e}"))?);
    let name = format!("{:?}", args.kind).to_ascii_lowercase();
    // Three missed runs (or one run stuck past its timeout twice) make the result stale.
    let cache =
        ProbeCache::new(cfg.interval * 3 + kind.timeout().unwrap_or(Duration::from_secs(5)) * 2);
    let latest: Arc<RwLock<Option<Report>>> = Arc::default();
    let (stop_tx, stop_rx) = watch::channel(false);
    let registry = prometheus::Registry::new();
    let router = crate::probes::router(Arc::clone(&cache))
        .merge(metrics_router(Arc::clone(&latest), registry));
    let security = Security::load(&cfg.security).context("adapt.security")?;
    let http = serve("adapt", &cfg.listen, router, &security, stop_rx.clone()).await?;
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
    use sextant_tls::TlsSettings;

    fn args(kind: Kind, target: &str, ca: Option<&str>) -> AdaptArgs {
        AdaptArgs {
            kind,
            target: Some(target.to_string()),
            name: None,
            password_file: None,
            tls_ca_file: ca.map(PathBuf::from),
            listen: None,
            config: None,
            interval: None,
            max_replica_lag: None,
            timeout: None,
            role: None,
        }
    }

    #[test]
    fn role_flag_overrides_the_file_for_mysql_only() {
        let mut file = AdaptConfig::default();
        let k = kind_config(&args(Kind::Mysql, "mysql://m@db", None), &file).expect("mysql");
        assert_eq!(k.mysql.map(|c| c.role), Some(ExpectedRole::Auto));

        file.mysql = Some(MysqlConfig {
            role: ExpectedRole::Replica,
            ..MysqlConfig::default()
        });
        let k = kind_config(&args(Kind::Mysql, "mysql://m@db", None), &file).expect("mysql");
        assert_eq!(k.mysql.map(|c| c.role), Some(ExpectedRole::Replica));
        let mut a = args(Kind::Mysql, "mysql://m@db", None);
        a.role = Some(ExpectedRole::Primary);
        let k = kind_config(&a, &file).expect("mysql");
        assert_eq!(k.mysql.map(|c| c.role), Some(ExpectedRole::Primary));

        let mut a = args(Kind::Postgres, "postgres://m@db", None);
        a.role = Some(ExpectedRole::Primary);
        let err = kind_config(&a, &file)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(err, "--role applies to mysql only");
    }

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
        assert_eq!(cfg.adapt.mysql.map(|c| c.role), Some(ExpectedRole::Primary));
        let err = crate::config::parse("adapt:\n  mysql:\n    role: master\n")
            .expect_err("master is not a role");
        assert!(
            err.contains("line 3 column 11")
                && err
                    .contains(r#"role: "master" is not a role; expected auto, primary or replica"#),
            "{err}"
        );
    }

    #[test]
    fn tls_ca_file_turns_tls_on_for_the_databases() {
        let mut file = AdaptConfig::default();
        let k = kind_config(
            &args(Kind::Mysql, "mysql://m@db:3306", Some("/ca.pem")),
            &file,
        )
        .expect("mysql");
        let tls = k.mysql.and_then(|c| c.tls).expect("mysql tls on");
        assert_eq!(tls.ca_file, Some(PathBuf::from("/ca.pem")));

        // The flag sets the CA; the file's switches stay.
        file.postgres = Some(PostgresConfig {
            tls: Some(TlsSettings {
                skip_domain_validation: true,
                ..Default::default()
            }),
            ..PostgresConfig::default()
        });
        let k = kind_config(
            &args(Kind::Postgres, "postgres://m@db/orders", Some("/ca.pem")),
            &file,
        )
        .expect("postgres");
        let tls = k.postgres.and_then(|c| c.tls).expect("postgres tls on");
        assert_eq!(tls.ca_file, Some(PathBuf::from("/ca.pem")));
        assert!(tls.skip_domain_validation);
        let k = kind_config(&args(Kind::Postgres, "postgres://m@db", None), &file)
            .expect("postgres from the file");
        assert!(k.postgres.is_some_and(|c| c.tls.is_some()));

        let k = kind_config(&args(Kind::Redis, "redis://cache:6379", None), &file)
            .expect("plain redis");
        assert!(k.redis.is_some_and(|c| c.tls.is_none()));
        let k =
            kind_config(&args(Kind::Redis, "rediss://cache:6380", None), &file).expect("rediss");
        let c = k.redis.expect("redis");
        assert_eq!((c.port, c.tls.clone()), (6380, Some(Default::default())));
        assert_eq!(c.target(), "rediss://cache:6380");
        let k = kind_config(
            &args(Kind::Redis, "redis://cache:6380", Some("/ca.pem")),
            &file,
        )
        .expect("redis with a CA");
        let tls = k.redis.and_then(|c| c.tls).expect("redis tls on");
        assert_eq!(tls.ca_file, Some(PathBuf::from("/ca.pem")));

        let err = kind_config(
            &args(Kind::Http, "https://svc/healthz", Some("/ca.pem")),
            &file,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.starts_with("--tls-ca-file applies to mysql"), "{err}");
    }
}
