//! Settings of the Redis check, with every default in [`RedisConfig::default`].
//!
//! As for MySQL, the password never sits in the config: it comes from a file
//! or an environment variable (the shared [`PasswordSource`]) into a
//! [`Secret`] whose `Debug` is redacted.
//! TLS is the shared `tls:` block ([`TlsSettings`]), as `redis-cli --tls`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

pub use crate::secret::Secret;
use crate::secret::{PasswordSource, SecretError, WithPassword};
use crate::sidecar::{DbTarget, FlagError, SidecarFlags};
pub use sextant_tls::TlsSettings;
use sextant_tls::TlsSetupError;

/// Why a check could not be built from its config.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// A setting is out of range or contradicts another.
    #[error("invalid redis check config: {0}")]
    InvalidConfig(String),
    /// The password could not be read.
    #[error("redis password: {0}")]
    Password(#[from] SecretError),
    /// The `tls:` block could not be turned into a TLS client (a CA file
    /// that cannot be read, a host that is no TLS server name).
    #[error("redis tls: {0}")]
    Tls(#[source] TlsSetupError),
}

/// Settings of one Redis check.
///
/// Durations are strings with a unit (`"500ms"`, `"2s"`, `"1m"`).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// Host name or IP of the server.
    pub host: String,
    /// TCP port of the server.
    pub port: u16,
    /// ACL user name (Redis ≥ 6); absent means `AUTH <password>` as `default`.
    pub user: Option<String>,
    /// File holding the password (one line; a trailing newline is dropped).
    pub password_file: Option<PathBuf>,
    /// Environment variable holding the password.
    pub password_env: Option<String>,
    /// TLS to the server's `tls-port`; absent means plain TCP. The
    /// certificate is verified against `host`.
    pub tls: Option<TlsSettings>,
    /// Budget of one whole check, connection and TLS handshake included.
    #[serde(with = "sextant_config::duration")]
    pub timeout: Duration,
    /// A replica whose last I/O from its master is older than this is not
    /// ready (masters ping replicas every `repl-ping-replica-period`, 10 s).
    #[serde(with = "sextant_config::duration")]
    pub max_link_idle: Duration,
    /// used_memory / maxmemory above this ratio is degraded (when maxmemory > 0).
    pub max_memory_ratio: f64,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            host: "127.0.0.1".to_string(),
            port: Self::DEFAULT_PORT,
            user: None,
            password_file: None,
            password_env: None,
            tls: None,
            timeout: Duration::from_secs(2),
            max_link_idle: Duration::from_secs(30),
            max_memory_ratio: 0.8,
        }
    }
}

// Hand-written to keep the output short and free of anything secret-adjacent.
impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("target", &self.target())
            .field("password", &self.password())
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisConfig {
    /// The server's port when neither `port:` nor `--target` names one.
    pub const DEFAULT_PORT: u16 = 6379;

    /// The sidecar's flags over these settings: `--target
    /// redis://[user@]host[:port]` (`rediss://` turns TLS on, as Redis
    /// clients spell it), `--password-file`, `--tls-ca-file` (turns TLS on)
    /// and `--timeout`; `--role` is refused.
    pub fn apply_flags(&mut self, flags: &SidecarFlags) -> Result<(), FlagError> {
        flags.refuse_role()?;
        if let Some(target) = flags.target.as_deref() {
            let tls = target.starts_with("rediss://");
            let scheme = if tls { "rediss" } else { "redis" };
            let t = DbTarget::parse(target, scheme, Self::DEFAULT_PORT)?;
            (self.host, self.port, self.user) = (t.host, t.port, t.user);
            if tls {
                self.tls.get_or_insert_default();
            }
        }
        flags.apply_password_file(&mut self.password_file, &mut self.password_env);
        if let Some(t) = flags.timeout {
            self.timeout = t;
        }
        flags.apply_tls_ca_file(&mut self.tls);
        Ok(())
    }

    /// What the check reports as its target: `redis://[user@]host:port`,
    /// or `rediss://…` over TLS (the scheme Redis clients use for it);
    /// never a password.
    pub fn target(&self) -> String {
        let user = self
            .user
            .as_ref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://{user}{}", self.address())
    }

    /// `host:port` to connect to (IPv6 hosts in brackets).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Checks ranges and contradictions.
    pub fn validate(&self) -> Result<(), RedisError> {
        let bad = |why: &str| Err(RedisError::InvalidConfig(why.to_string()));
        if self.timeout.is_zero() {
            return bad("timeout must be positive");
        }
        if !(self.max_memory_ratio > 0.0 && self.max_memory_ratio <= 1.0) {
            return bad("max_memory_ratio must be in (0, 1]");
        }
        if let Err(why) = self.password().validate() {
            return bad(why);
        }
        if self.host.is_empty() {
            return bad("host must not be empty");
        }
        if self.user.is_some() && !self.password().is_set() {
            return bad("user needs a password (password_file or password_env)");
        }
        Ok(())
    }
}

impl WithPassword for RedisConfig {
    type Error = RedisError;

    fn password(&self) -> PasswordSource<'_> {
        PasswordSource::new(self.password_file.as_deref(), self.password_env.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_validates_and_names_targets() {
        let c: RedisConfig =
            serde_json::from_str(r#"{"host":"cache","max_link_idle":"5s"}"#).expect("valid");
        assert_eq!(c.max_link_idle, Duration::from_secs(5));
        assert_eq!(c.target(), "redis://cache:6379");
        let err = serde_json::from_str::<RedisConfig>(r#"{"password":"x"}"#)
            .expect_err("no inline passwords")
            .to_string();
        assert!(err.contains("unknown field `password`"), "{err}");
        let v6 = RedisConfig {
            host: "::1".into(),
            user: Some("mon".into()),
            password_env: Some("PW".into()),
            ..RedisConfig::default()
        };
        assert_eq!(v6.target(), "redis://mon@[::1]:6379");
        assert!(v6.validate().is_ok());
        type Case = (fn(&mut RedisConfig), &'static str);
        let cases: [Case; 4] = [
            (|c| c.timeout = Duration::ZERO, "timeout"),
            (|c| c.max_memory_ratio = 2.0, "ratio"),
            (|c| c.host.clear(), "host"),
            (|c| c.user = Some("u".into()), "user needs a password"),
        ];
        for (edit, want) in cases {
            let mut c = RedisConfig::default();
            edit(&mut c);
            let err = c.validate().expect_err(want).to_string();
            assert!(err.contains(want), "{err}");
        }
        let tls: RedisConfig = serde_json::from_str(
            r#"{"host":"cache","tls":{"ca_file":"/ca.pem","skip_domain_validation":true}}"#,
        )
        .expect("valid tls block");
        assert_eq!(tls.target(), "rediss://cache:6379");
        let block = tls.tls.as_ref().expect("tls set");
        assert_eq!(
            block.ca_file.as_deref(),
            Some(std::path::Path::new("/ca.pem"))
        );
        assert!(block.skip_domain_validation && !block.accept_invalid_certs);
        let err = serde_json::from_str::<RedisConfig>(r#"{"tls":{"cafile":"/ca.pem"}}"#)
            .expect_err("typo in the tls block")
            .to_string();
        assert!(err.contains("unknown field `cafile`"), "{err}");
        let pw = v6
            .resolve_password_with(|n| (n == "PW").then(|| "s3cret".to_string()))
            .expect("set")
            .expect("some");
        assert_eq!(pw.expose(), "s3cret");
        assert!(!format!("{v6:?}").contains("s3cret"));
    }
}
