//! `sextant adapt <kind>`: one health check as a sidecar. It runs the check
//! on its own schedule and serves Kubernetes-style probes over the cached
//! verdict plus a Prometheus `/metrics` of the latest report, so any app's
//! database is judged the same way, in depth, without an agent.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use anyhow::{Context, Result, bail};
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
use sextant_health::tcp::TcpConfig;
use sextant_health::{Report, report_to_otlp};
use sextant_tls::TlsSettings;
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

/// A database target, `scheme://[user@]host[:port][/database]`.
struct Target {
    user: Option<String>,
    host: String,
    port: u16,
    database: Option<String>,
}

/// Parses a database target; a password in the URL is refused (it would
/// show in `ps`), and no error repeats what came after the user name.
fn parse_target(target: &str, scheme: &str, default_port: u16) -> Result<Target> {
    let rest = target
        .strip_prefix(scheme)
        .and_then(|r| r.strip_prefix("://"))
        .with_context(|| format!("--target must start with {scheme}://"))?;
    let (rest, database) = match rest.split_once('/') {
        Some((r, db)) => (r, (!db.is_empty()).then(|| db.to_string())),
        None => (rest, None),
    };
    let (user, hostport) = match rest.rsplit_once('@') {
        Some((user, hp)) => (Some(user), hp),
        None => (None, rest),
    };
    if user.is_some_and(|u| u.contains(':')) {
        bail!("--target must not carry a password (it would show in `ps`); use --password-file");
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .with_context(|| format!("--target port {p:?} is not a port number"))?,
        ),
        None => (hostport, default_port),
    };
    if host.is_empty() {
        bail!("--target has no host");
    }
    Ok(Target {
        user: user.map(str::to_string),
        host: host.to_string(),
        port,
        database,
    })
}

/// The kind's settings from the file (or defaults) with the flags applied.
fn kind_config(args: &AdaptArgs, file: &AdaptConfig) -> Result<KindConfig> {
    let target = args.target.as_deref();
    let mut kind = KindConfig::default();
    let ca = args.tls_ca_file.clone();
    if ca.is_some() && !matches!(args.kind, Kind::Mysql | Kind::Postgres | Kind::Redis) {
        bail!(
            "--tls-ca-file applies to mysql, postgres and redis; \
             for http and tcp set tls.ca_file in the config's adapt: section"
        );
    }
    if args.role.is_some() && !matches!(args.kind, Kind::Mysql) {
        bail!("--role applies to mysql only");
    }
    match args.kind {
        Kind::Mysql => {
            let mut c = file.mysql.clone().unwrap_or_default();
            if let Some(t) = target {
                let t = parse_target(t, "mysql", 3306)?;
                (c.host, c.port) = (t.host, t.port);
                if let Some(u) = t.user {
                    c.user = u;
                }
            }
            if let Some(p) = &args.password_file {
                c.password_file = Some(p.clone());
                c.password_env = None;
            }
            if let Some(l) = args.max_replica_lag {
                c.max_replica_lag = l;
            }
            if let Some(t) = args.timeout {
                c.timeout = t;
            }
            if let Some(r) = args.role {
                c.role = r;
            }
            if ca.is_some() {
                c.tls = Some(with_ca(c.tls.take(), ca));
            }
            kind.mysql = Some(c);
        }
        Kind::Http => {
            let mut c = file.http.clone().unwrap_or_default();
            if let Some(t) = target {
                c.url = t.to_string();
            }
            if let Some(t) = args.timeout {
                c.timeout = t;
            }
            kind.http = Some(c);
        }
        Kind::Tcp => {
            let mut c = file.tcp.clone().unwrap_or_default();
            if let Some(t) = target {
                let (host, port) = t
                    .rsplit_once(':')
                    .with_context(|| format!("--target {t:?}: want host:port"))?;
                c.host = host.to_string();
                c.port = port
                    .parse()
                    .with_context(|| format!("--target port {port:?} is not a port number"))?;
            }
            if let Some(t) = args.timeout {
                c.timeout = t;
            }
            kind.tcp = Some(c);
        }
        Kind::Dns => {
            let mut c = file.dns.clone().unwrap_or_default();
            if let Some(t) = target {
                c.server = t.to_string();
            }
            if let Some(n) = &args.name {
                c.name = n.clone();
            }
            if let Some(t) = args.timeout {
                c.timeout = t;
            }
            kind.dns = Some(c);
        }
        Kind::Postgres => {
            let mut c = file.postgres.clone().unwrap_or_default();
            if let Some(t) = target {
                let t = parse_target(t, "postgres", 5432)?;
                (c.host, c.port) = (t.host, t.port);
                if let Some(u) = t.user {
                    c.user = u;
                }
                if let Some(db) = t.database {
                    c.database = db;
                }
            }
            if let Some(p) = &args.password_file {
                c.password_file = Some(p.clone());
                c.password_env = None;
            }
            if let Some(l) = args.max_replica_lag {
                c.max_replica_lag = l;
            }
            if let Some(t) = args.timeout {
                c.timeout = t;
            }
            if ca.is_some() {
                c.tls = Some(with_ca(c.tls.take(), ca));
            }
            kind.postgres = Some(c);
        }
        Kind::Redis => {
            let mut c = file.redis.clone().unwrap_or_default();
            let mut tls_on = ca.is_some();
            if let Some(t) = target {
                // `rediss://` is how Redis clients spell TLS.
                let scheme = if t.starts_with("rediss://") {
                    tls_on = true;
                    "rediss"
                } else {
                    "redis"
                };
                let t = parse_target(t, scheme, 6379)?;
                (c.host, c.port, c.user) = (t.host, t.port, t.user);
            }
            if let Some(p) = &args.password_file {
                c.password_file = Some(p.clone());
                c.password_env = None;
            }
            if let Some(t) = args.timeout {
                c.timeout = t;
            }
            if tls_on {
                c.tls = Some(with_ca(c.tls.take(), ca));
            }
            kind.redis = Some(c);
        }
    }
    Ok(kind)
}

/// The config's `tls:` block (or a default one, since the flag turns TLS
/// on) with `--tls-ca-file`, when given, as its CA; the block's switches stay.
fn with_ca(tls: Option<TlsSettings>, ca: Option<PathBuf>) -> TlsSettings {
    let mut tls = tls.unwrap_or_default();
    if ca.is_some() {
        tls.ca_file = ca;
    }
    tls
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

    #[test]
    fn parses_targets() {
        let t = parse_target("mysql://monitor@db.local:3307", "mysql", 3306).expect("valid");
        assert_eq!(
            (t.user.as_deref(), t.host.as_str(), t.port),
            (Some("monitor"), "db.local", 3307)
        );
        let t = parse_target("postgres://10.0.0.1/orders", "postgres", 5432).expect("valid");
        assert_eq!(
            (t.user, t.host.as_str(), t.port, t.database.as_deref()),
            (None, "10.0.0.1", 5432, Some("orders"))
        );
        let bad = [
            ("mysql://u:secret@h:1", "mysql"),
            ("postgres://h", "mysql"),
            ("mysql://u@", "mysql"),
            ("mysql://h:port", "mysql"),
        ];
        for (t, scheme) in bad {
            let err = parse_target(t, scheme, 1)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!err.is_empty() && !err.contains("secret"), "{t}: {err}");
        }
    }
}
