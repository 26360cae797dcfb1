//! Settings of the MySQL/MariaDB check: where, who, how long, and the
//! thresholds of the verdicts, with every default in [`MysqlConfig::default`].
//!
//! The password never sits in the config itself: it comes from a file (a
//! mounted Secret) or an environment variable (the [`PasswordSource`] every
//! kind that logs in shares), is held in a [`Secret`] whose `Debug` is
//! redacted, and never reaches the target string or an error.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

pub use crate::secret::Secret;
use crate::secret::{PasswordSource, SecretError, WithPassword};
use crate::sidecar::{FlagError, SidecarFlags};

/// Why a check could not be built from its config.
#[derive(Debug, thiserror::Error)]
pub enum MysqlError {
    /// A setting is out of range or contradicts another.
    #[error("invalid mysql check config: {0}")]
    InvalidConfig(String),
    /// The password could not be read.
    #[error("mysql password: {0}")]
    Password(#[from] SecretError),
}

pub use sextant_tls::TlsSettings;

/// What the operator says the server is supposed to be (`role:`).
///
/// `auto` works the role out from the server itself, which needs the
/// replication privilege to read replica status. Naming the role drops that
/// need for a primary and turns "the server is not what it should be" (a
/// primary that became read-only or a replica after a failover; a replica
/// whose replication was reset) into a failed readiness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ExpectedRole {
    /// Work the role out from the server: a Galera node, a replica when a
    /// replication channel is configured, a primary otherwise.
    #[default]
    Auto,
    /// A server that takes writes: replica status is never read (so the
    /// monitor needs no replication privilege); not ready when read-only.
    Primary,
    /// A replica: not ready when no replication channel is configured,
    /// otherwise judged as an auto-detected replica.
    Replica,
}

impl ExpectedRole {
    /// Every value, in the order the config and `--role` list them.
    pub const ALL: [ExpectedRole; 3] = [
        ExpectedRole::Auto,
        ExpectedRole::Primary,
        ExpectedRole::Replica,
    ];

    /// The name the config file and `--role` use.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedRole::Auto => "auto",
            ExpectedRole::Primary => "primary",
            ExpectedRole::Replica => "replica",
        }
    }
}

impl fmt::Display for ExpectedRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ExpectedRole {
    type Err = String;

    /// Lower-case names only; the error names the key, since a YAML
    /// error's position alone does not say which setting was wrong.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExpectedRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("role: {s:?} is not a role; expected auto, primary or replica"))
    }
}

impl TryFrom<String> for ExpectedRole {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Settings of one MySQL/MariaDB check.
///
/// Durations are strings with a unit (`"500ms"`, `"2s"`, `"1m"`).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MysqlConfig {
    /// Host name or IP of the server (ignored when `socket` is set).
    pub host: String,
    /// TCP port of the server.
    pub port: u16,
    /// Unix socket path; when set, used instead of `host`/`port`.
    pub socket: Option<PathBuf>,
    /// The monitoring user (needs `PROCESS, REPLICATION CLIENT` — on MariaDB
    /// ≥ 10.5.9 also `REPLICA MONITOR` — and nothing else; with
    /// `role: primary` `PROCESS` alone).
    pub user: String,
    /// File holding the password (one line; a trailing newline is dropped).
    pub password_file: Option<PathBuf>,
    /// Environment variable holding the password.
    pub password_env: Option<String>,
    /// TLS settings; absent means no TLS.
    pub tls: Option<TlsSettings>,
    /// Budget of one whole check, connection included; keep it under the
    /// probe's `timeoutSeconds`.
    #[serde(with = "sextant_config::duration")]
    pub timeout: Duration,
    /// Session `lock_wait_timeout` of the monitor's connections (whole
    /// seconds, at least 1), so a metadata lock cannot park a check.
    #[serde(with = "sextant_config::duration")]
    pub lock_wait_timeout: Duration,
    /// A replica lagging more than this (after `SQL_Delay`) is not ready.
    #[serde(with = "sextant_config::duration")]
    pub max_replica_lag: Duration,
    /// Threads_connected / max_connections above this ratio is degraded.
    pub max_connection_ratio: f64,
    /// An InnoDB history list longer than this is degraded (purge debt).
    pub max_history_list: u64,
    /// A transaction open longer than this is degraded.
    #[serde(with = "sextant_config::duration")]
    pub max_transaction_age: Duration,
    /// Whether a Galera node serving as SST/IST donor counts as ready.
    pub galera_donor_ready: bool,
    /// What the server is supposed to be: `auto` (work it out), `primary`
    /// or `replica`; see [`ExpectedRole`].
    pub role: ExpectedRole,
}

impl Default for MysqlConfig {
    fn default() -> Self {
        MysqlConfig {
            host: "127.0.0.1".to_string(),
            port: Self::DEFAULT_PORT,
            socket: None,
            user: "sextant".to_string(),
            password_file: None,
            password_env: None,
            tls: None,
            timeout: Duration::from_secs(2),
            lock_wait_timeout: Duration::from_secs(1),
            max_replica_lag: Duration::from_secs(30),
            max_connection_ratio: 0.8,
            max_history_list: 100_000,
            max_transaction_age: Duration::from_secs(60),
            galera_donor_ready: false,
            role: ExpectedRole::Auto,
        }
    }
}

// Hand-written to keep the output short and free of anything secret-adjacent.
impl fmt::Debug for MysqlConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlConfig")
            .field("target", &self.target())
            .field("password", &self.password())
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .field("max_replica_lag", &self.max_replica_lag)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl MysqlConfig {
    /// The server's port when neither `port:` nor `--target` names one.
    pub const DEFAULT_PORT: u16 = 3306;

    /// The sidecar's flags over these settings: `--target
    /// mysql://user@host[:port]`, `--password-file`, `--tls-ca-file` (turns
    /// TLS on), `--max-replica-lag`, `--timeout` and `--role`.
    pub fn apply_flags(&mut self, flags: &SidecarFlags) -> Result<(), FlagError> {
        if let Some(t) = flags.db_target("mysql", Self::DEFAULT_PORT)? {
            (self.host, self.port) = (t.host, t.port);
            if let Some(user) = t.user {
                self.user = user;
            }
        }
        flags.apply_password_file(&mut self.password_file, &mut self.password_env);
        if let Some(lag) = flags.max_replica_lag {
            self.max_replica_lag = lag;
        }
        if let Some(t) = flags.timeout {
            self.timeout = t;
        }
        if let Some(role) = flags.role {
            self.role = role;
        }
        flags.apply_tls_ca_file(&mut self.tls);
        Ok(())
    }

    /// What the check reports as its target: `mysql://user@host:port` or
    /// `mysql://user@unix:/path`; never a password.
    pub fn target(&self) -> String {
        match &self.socket {
            Some(path) => format!("mysql://{}@unix:{}", self.user, path.display()),
            None if self.host.contains(':') => {
                format!("mysql://{}@[{}]:{}", self.user, self.host, self.port)
            }
            None => format!("mysql://{}@{}:{}", self.user, self.host, self.port),
        }
    }

    /// Checks ranges and contradictions.
    pub fn validate(&self) -> Result<(), MysqlError> {
        let bad = |why: &str| Err(MysqlError::InvalidConfig(why.to_string()));
        if self.timeout.is_zero() {
            return bad("timeout must be positive");
        }
        if self.lock_wait_timeout < Duration::from_secs(1) {
            return bad("lock_wait_timeout must be at least 1s");
        }
        if !(self.max_connection_ratio > 0.0 && self.max_connection_ratio <= 1.0) {
            return bad("max_connection_ratio must be in (0, 1]");
        }
        if let Err(why) = self.password().validate() {
            return bad(why);
        }
        if self.user.is_empty() {
            return bad("user must not be empty");
        }
        if self.socket.is_none() && self.host.is_empty() {
            return bad("host must not be empty (or set socket)");
        }
        if self
            .tls
            .as_ref()
            .is_some_and(|t| t.skip_domain_validation && !t.accept_invalid_certs)
        {
            // mysql_async 0.37 forgives a name mismatch only when rustls's
            // error text contains "NotValidForName", which rustls 0.23 no
            // longer writes: the switch would silently do nothing.
            return bad(
                "tls.skip_domain_validation is not supported by the MySQL check (its driver cannot skip only the name check); use a certificate that names the host, or tls.accept_invalid_certs",
            );
        }
        Ok(())
    }

    /// `lock_wait_timeout` in whole seconds, rounded up.
    pub fn lock_wait_timeout_secs(&self) -> u64 {
        let d = self.lock_wait_timeout;
        d.as_secs() + u64::from(d.subsec_nanos() > 0)
    }
}

impl WithPassword for MysqlConfig {
    type Error = MysqlError;

    fn password(&self) -> PasswordSource<'_> {
        PasswordSource::new(self.password_file.as_deref(), self.password_env.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<MysqlConfig, String> {
        serde_json::from_str::<MysqlConfig>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_with_defaults_and_rejects_unknown_keys() {
        let c = parse(r#"{"host":"db","max_replica_lag":"10s","tls":{}}"#).expect("valid config");
        assert_eq!(c.host, "db");
        assert_eq!(c.max_replica_lag, Duration::from_secs(10));
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert_eq!(c.tls, Some(TlsSettings::default()));
        let err = parse(r#"{"hots":"db"}"#).expect_err("typo must be rejected");
        assert!(err.contains("unknown field `hots`"), "{err}");
        let err = parse(r#"{"timeout":"2"}"#).expect_err("unit required");
        assert!(err.contains("no unit"), "{err}");
        let err = parse(r#"{"password":"x"}"#).expect_err("no inline passwords");
        assert!(err.contains("unknown field `password`"), "{err}");
    }

    #[test]
    fn role_parses_lowercase_names_and_refuses_others() {
        assert_eq!(MysqlConfig::default().role, ExpectedRole::Auto);
        for role in ExpectedRole::ALL {
            let c = parse(&format!(r#"{{"role":"{role}"}}"#)).expect("a known role");
            assert_eq!(c.role, role);
        }
        let c = parse(r#"{"role":"primary"}"#).expect("primary");
        assert_eq!(c.role, ExpectedRole::Primary);
        for bad in ["master", "Primary", "slave", ""] {
            let err = parse(&format!(r#"{{"role":"{bad}"}}"#)).expect_err("refused");
            assert!(
                err.starts_with(&format!(
                    "role: {bad:?} is not a role; expected auto, primary or replica"
                )),
                "{err}"
            );
        }
        let err = parse(r#"{"role":1}"#).expect_err("not a string");
        assert!(err.contains("expected a string"), "{err}");
    }

    #[test]
    fn validation_cases() {
        type Case = (fn(&mut MysqlConfig), Option<&'static str>);
        let cases: [Case; 8] = [
            (|_| {}, None),
            (|c| c.timeout = Duration::ZERO, Some("timeout")),
            (
                |c| c.lock_wait_timeout = Duration::from_millis(10),
                Some("lock_wait"),
            ),
            (|c| c.max_connection_ratio = 1.5, Some("ratio")),
            (
                |c| {
                    c.password_env = Some("A".into());
                    c.password_file = Some("f".into());
                },
                Some("not both"),
            ),
            (|c| c.user.clear(), Some("user")),
            (
                |c| {
                    c.tls = Some(TlsSettings {
                        skip_domain_validation: true,
                        ..TlsSettings::default()
                    })
                },
                Some("skip_domain_validation is not supported"),
            ),
            (
                |c| {
                    c.tls = Some(TlsSettings {
                        skip_domain_validation: true,
                        accept_invalid_certs: true,
                        ..TlsSettings::default()
                    })
                },
                None,
            ),
        ];
        for (edit, want) in cases {
            let mut c = MysqlConfig::default();
            edit(&mut c);
            match (c.validate(), want) {
                (Ok(()), None) => {}
                (Err(e), Some(w)) => assert!(e.to_string().contains(w), "{e} lacks {w}"),
                (got, want) => panic!("{got:?} but wanted {want:?}"),
            }
        }
    }

    #[test]
    fn targets_never_hold_passwords() {
        let mut c = MysqlConfig {
            user: "mon".into(),
            host: "db.local".into(),
            port: 3307,
            password_env: Some("PW".into()),
            ..MysqlConfig::default()
        };
        assert_eq!(c.target(), "mysql://mon@db.local:3307");
        c.host = "::1".into();
        assert_eq!(c.target(), "mysql://mon@[::1]:3307");
        c.socket = Some("/run/mysqld/mysqld.sock".into());
        assert_eq!(c.target(), "mysql://mon@unix:/run/mysqld/mysqld.sock");
        let pw = c
            .resolve_password_with(|n| (n == "PW").then(|| "s3cret".to_string()))
            .expect("set")
            .expect("some");
        assert_eq!(pw.expose(), "s3cret");
        assert_eq!(format!("{pw:?}"), "***");
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(pw.scrub("bad s3cret here"), "bad [***] here");
    }

    #[test]
    fn password_sources() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "hunter2\n").expect("write pw");
        let from_file = MysqlConfig {
            password_file: Some(file),
            ..MysqlConfig::default()
        };
        let pw = from_file.resolve_password_with(|_| None).expect("read");
        assert_eq!(pw.map(|p| p.expose().to_string()), Some("hunter2".into()));
        let missing = MysqlConfig {
            password_env: Some("NOPE".into()),
            ..MysqlConfig::default()
        };
        let err = missing.resolve_password_with(|_| None).expect_err("unset");
        assert_eq!(
            err.to_string(),
            "mysql password: password environment variable NOPE is not set"
        );
        let none = MysqlConfig::default()
            .resolve_password_with(|_| None)
            .expect("ok");
        assert!(none.is_none());
        let c = MysqlConfig {
            lock_wait_timeout: Duration::from_millis(1500),
            ..MysqlConfig::default()
        };
        assert_eq!(c.lock_wait_timeout_secs(), 2);
    }
}
