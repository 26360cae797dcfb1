//! Settings of the PostgreSQL check: where, who, how long, and the
//! thresholds of the verdicts, with every default in
//! [`PostgresConfig::default`].
//!
//! As for MySQL, the password never sits in the config: it comes from a file
//! or an environment variable (the shared [`PasswordSource`]) into a
//! [`Secret`] whose `Debug` is redacted.
//! TLS is the shared `tls:` block ([`TlsSettings`]): present means
//! `sslmode=require` with the certificate verified as the block says.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

pub use crate::secret::Secret;
use crate::secret::{PasswordSource, SecretError, WithPassword};
use crate::sidecar::{FlagError, SidecarFlags};
pub use sextant_tls::TlsSettings;
use sextant_tls::TlsSetupError;

/// Why a check could not be built from its config.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// A setting is out of range or contradicts another.
    #[error("invalid postgres check config: {0}")]
    InvalidConfig(String),
    /// The password could not be read.
    #[error("postgres password: {0}")]
    Password(#[from] SecretError),
    /// The `tls:` block could not be turned into a TLS client (a CA file
    /// that cannot be read, a host that is no TLS server name).
    #[error("postgres tls: {0}")]
    Tls(#[source] TlsSetupError),
}

/// Settings of one PostgreSQL check.
///
/// Durations are strings with a unit (`"500ms"`, `"2s"`, `"1m"`).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresConfig {
    /// Host name or IP of the server (ignored when `socket_dir` is set).
    pub host: String,
    /// TCP port of the server (also names the socket file in `socket_dir`).
    pub port: u16,
    /// Directory of the server's Unix socket (`.s.PGSQL.<port>`); when set,
    /// used instead of `host`.
    pub socket_dir: Option<PathBuf>,
    /// The monitoring role (`LOGIN`, member of `pg_monitor`, nothing else).
    pub user: String,
    /// Database to connect to.
    pub database: String,
    /// File holding the password (one line; a trailing newline is dropped).
    pub password_file: Option<PathBuf>,
    /// Environment variable holding the password.
    pub password_env: Option<String>,
    /// TLS to the server; absent means plain TCP (or the Unix socket).
    /// When set, the server must take TLS (`sslmode=require`) and its
    /// certificate is verified against `host` (`verify-full`; the block's
    /// switches relax that to `verify-ca` or `require`). Not with `socket_dir`.
    pub tls: Option<TlsSettings>,
    /// Budget of one whole check, connection and TLS handshake included; also the session's
    /// `statement_timeout`, so the server gives up when the check does.
    #[serde(with = "sextant_config::duration")]
    pub timeout: Duration,
    /// A standby replaying more than this behind its primary is not ready.
    #[serde(with = "sextant_config::duration")]
    pub max_replica_lag: Duration,
    /// Client backends / max_connections above this ratio is degraded.
    pub max_connection_ratio: f64,
    /// A transaction open longer than this is degraded.
    #[serde(with = "sextant_config::duration")]
    pub max_transaction_age: Duration,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            host: "127.0.0.1".to_string(),
            port: Self::DEFAULT_PORT,
            socket_dir: None,
            user: "sextant".to_string(),
            database: "postgres".to_string(),
            password_file: None,
            password_env: None,
            tls: None,
            timeout: Duration::from_secs(2),
            max_replica_lag: Duration::from_secs(30),
            max_connection_ratio: 0.8,
            max_transaction_age: Duration::from_secs(60),
        }
    }
}

// Hand-written to keep the output short and free of anything secret-adjacent.
impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("target", &self.target())
            .field("password", &self.password())
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .field("max_replica_lag", &self.max_replica_lag)
            .finish_non_exhaustive()
    }
}

impl PostgresConfig {
    /// The server's port when neither `port:` nor `--target` names one.
    pub const DEFAULT_PORT: u16 = 5432;

    /// The sidecar's flags over these settings: `--target
    /// postgres://user@host[:port][/database]`, `--password-file`,
    /// `--tls-ca-file` (turns TLS on), `--max-replica-lag` and `--timeout`;
    /// `--role` is refused.
    pub fn apply_flags(&mut self, flags: &SidecarFlags) -> Result<(), FlagError> {
        flags.refuse_role()?;
        if let Some(t) = flags.db_target("postgres", Self::DEFAULT_PORT)? {
            (self.host, self.port) = (t.host, t.port);
            if let Some(user) = t.user {
                self.user = user;
            }
            if let Some(db) = t.database {
                self.database = db;
            }
        }
        flags.apply_password_file(&mut self.password_file, &mut self.password_env);
        if let Some(lag) = flags.max_replica_lag {
            self.max_replica_lag = lag;
        }
        if let Some(t) = flags.timeout {
            self.timeout = t;
        }
        flags.apply_tls_ca_file(&mut self.tls);
        Ok(())
    }

    /// What the check reports as its target:
    /// `postgresql://user@host:port/db` or `postgresql://user@unix:/dir:port/db`;
    /// never a password.
    pub fn target(&self) -> String {
        let (user, port, db) = (&self.user, self.port, &self.database);
        match &self.socket_dir {
            Some(dir) => format!("postgresql://{user}@unix:{}:{port}/{db}", dir.display()),
            None if self.host.contains(':') => {
                format!("postgresql://{user}@[{}]:{port}/{db}", self.host)
            }
            None => format!("postgresql://{user}@{}:{port}/{db}", self.host),
        }
    }

    /// Checks ranges and contradictions.
    pub fn validate(&self) -> Result<(), PostgresError> {
        let bad = |why: &str| Err(PostgresError::InvalidConfig(why.to_string()));
        if self.timeout < Duration::from_millis(1) {
            return bad("timeout must be at least 1ms");
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
        if self.database.is_empty() {
            return bad("database must not be empty");
        }
        if self.socket_dir.is_none() && self.host.is_empty() {
            return bad("host must not be empty (or set socket_dir)");
        }
        if self.socket_dir.is_some() && self.tls.is_some() {
            return bad("tls needs host: PostgreSQL does not speak TLS over a Unix socket");
        }
        Ok(())
    }

    /// The timeout in whole milliseconds (at least 1), for `statement_timeout`.
    pub fn timeout_millis(&self) -> u128 {
        self.timeout.as_millis().max(1)
    }
}

impl WithPassword for PostgresConfig {
    type Error = PostgresError;

    fn password(&self) -> PasswordSource<'_> {
        PasswordSource::new(self.password_file.as_deref(), self.password_env.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<PostgresConfig, String> {
        serde_json::from_str::<PostgresConfig>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_with_defaults_and_rejects_unknown_keys() {
        let c = parse(r#"{"host":"db","max_replica_lag":"10s"}"#).expect("valid config");
        assert_eq!(c.host, "db");
        assert_eq!(c.max_replica_lag, Duration::from_secs(10));
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert_eq!(c.database, "postgres");
        let err = parse(r#"{"password":"x"}"#).expect_err("no inline passwords");
        assert!(err.contains("unknown field `password`"), "{err}");
        assert_eq!(c.tls, None);
        let c = parse(r#"{"tls":{"ca_file":"/etc/pg/ca.pem","accept_invalid_certs":true}}"#)
            .expect("valid tls block");
        let tls = c.tls.expect("tls set");
        assert_eq!(
            tls.ca_file.as_deref(),
            Some(std::path::Path::new("/etc/pg/ca.pem"))
        );
        assert!(tls.accept_invalid_certs && !tls.skip_domain_validation);
        let err = parse(r#"{"tls":{"sslmode":"require"}}"#).expect_err("unknown tls key");
        assert!(err.contains("unknown field `sslmode`"), "{err}");
    }

    #[test]
    fn validation_cases() {
        type Case = (fn(&mut PostgresConfig), Option<&'static str>);
        let cases: [Case; 8] = [
            (|_| {}, None),
            (|c| c.tls = Some(TlsSettings::default()), None),
            (
                |c| {
                    c.tls = Some(TlsSettings::default());
                    c.socket_dir = Some("/run/postgresql".into());
                },
                Some("tls needs host"),
            ),
            (|c| c.timeout = Duration::ZERO, Some("timeout")),
            (|c| c.max_connection_ratio = 0.0, Some("ratio")),
            (
                |c| {
                    c.password_env = Some("A".into());
                    c.password_file = Some("f".into());
                },
                Some("not both"),
            ),
            (|c| c.database.clear(), Some("database")),
            (|c| c.host.clear(), Some("host")),
        ];
        for (edit, want) in cases {
            let mut c = PostgresConfig::default();
            edit(&mut c);
            match (c.validate(), want) {
                (Ok(()), None) => {}
                (Err(e), Some(w)) => assert!(e.to_string().contains(w), "{e} lacks {w}"),
                (got, want) => panic!("{got:?} but wanted {want:?}"),
            }
        }
    }

    #[test]
    fn targets_and_passwords() {
        let mut c = PostgresConfig {
            user: "mon".into(),
            host: "db.local".into(),
            port: 5433,
            password_env: Some("PW".into()),
            ..PostgresConfig::default()
        };
        assert_eq!(c.target(), "postgresql://mon@db.local:5433/postgres");
        c.host = "::1".into();
        assert_eq!(c.target(), "postgresql://mon@[::1]:5433/postgres");
        c.socket_dir = Some("/run/postgresql".into());
        assert_eq!(
            c.target(),
            "postgresql://mon@unix:/run/postgresql:5433/postgres"
        );
        let pw = c
            .resolve_password_with(|n| (n == "PW").then(|| "s3cret".to_string()))
            .expect("set")
            .expect("some");
        assert_eq!(pw.expose(), "s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
        let err = c.resolve_password_with(|_| None).expect_err("unset");
        assert_eq!(
            err.to_string(),
            "postgres password: password environment variable PW is not set"
        );
    }
}
