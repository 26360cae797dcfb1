//! Settings of the TCP check, every default in [`TcpConfig::default`].

use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use crate::sidecar::{self, FlagError, SidecarFlags};
pub use sextant_tls::TlsOptions;

/// Why a check could not be built from its config.
#[derive(Debug, thiserror::Error)]
pub enum TcpError {
    /// A setting is out of range, malformed, or contradicts another.
    #[error("invalid tcp check config: {0}")]
    InvalidConfig(String),
}

/// Settings of one TCP check.
///
/// Durations are strings with a unit (`"500ms"`, `"5s"`, `"14d"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TcpConfig {
    /// Host name or IP to connect to.
    pub host: String,
    /// TCP port (required).
    pub port: u16,
    /// TLS settings; absent means plain TCP.
    pub tls: Option<TlsOptions>,
    /// Text written once connected (after the handshake with TLS).
    pub send: Option<String>,
    /// A regex the reply must match to be ready; the reply is read until it
    /// matches, the peer closes, `max_reply_bytes` are read, or time is up.
    pub expect: Option<String>,
    /// Most reply bytes read.
    pub max_reply_bytes: usize,
    /// Budget of one whole check.
    #[serde(with = "sextant_config::duration")]
    pub timeout: Duration,
    /// A check that took longer than this is degraded.
    #[serde(with = "sextant_config::duration")]
    pub max_duration: Duration,
    /// A certificate expiring sooner than this is degraded (TLS only).
    #[serde(with = "sextant_config::duration")]
    pub min_cert_validity: Duration,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            host: "127.0.0.1".to_string(),
            port: 0,
            tls: None,
            send: None,
            expect: None,
            max_reply_bytes: 64 * 1024,
            timeout: Duration::from_secs(5),
            max_duration: Duration::from_secs(1),
            min_cert_validity: Duration::from_secs(14 * 86_400),
        }
    }
}

impl TcpConfig {
    /// The sidecar's flags over these settings: `--target host:port`,
    /// `--timeout`; `--tls-ca-file` and `--role` are refused (a TLS port's
    /// CA is `tls.ca_file` in the config file).
    pub fn apply_flags(&mut self, flags: &SidecarFlags) -> Result<(), FlagError> {
        flags.refuse_tls_ca_file()?;
        flags.refuse_role()?;
        if let Some(target) = &flags.target {
            (self.host, self.port) = sidecar::host_port(target)?;
        }
        if let Some(t) = flags.timeout {
            self.timeout = t;
        }
        Ok(())
    }

    /// The target of reports, `tcp://host:port` (`tls://` with TLS).
    pub fn target(&self) -> String {
        let scheme = if self.tls.is_some() { "tls" } else { "tcp" };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }

    /// The host without the brackets of an IPv6 literal (`[::1]` → `::1`),
    /// what is resolved and, without `tls.server_name`, verified.
    pub(crate) fn bare_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// Checks every setting; returns the compiled `expect` regex.
    pub(crate) fn prepare(&self) -> Result<Option<Regex>, TcpError> {
        let bad = |why: &str| Err(TcpError::InvalidConfig(why.to_string()));
        if self.host.is_empty() {
            return bad("host must not be empty");
        }
        if self.port == 0 {
            return bad("port must be set");
        }
        if self.timeout.is_zero() {
            return bad("timeout must be positive");
        }
        if self.max_reply_bytes == 0 {
            return bad("max_reply_bytes must be positive");
        }
        match &self.expect {
            Some(r) => Regex::new(r)
                .map(Some)
                .map_err(|e| TcpError::InvalidConfig(format!("expect: {e}"))),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_validation_cases() {
        let c: TcpConfig = serde_json::from_str(
            r#"{"host":"db","port":6379,"send":"PING\r\n","expect":"^\\+PONG","tls":{}}"#,
        )
        .expect("valid");
        assert_eq!(c.send.as_deref(), Some("PING\r\n"));
        assert_eq!(c.target(), "tls://db:6379");
        assert!(c.prepare().expect("valid").is_some());
        let err = serde_json::from_str::<TcpConfig>(r#"{"prot":1}"#).expect_err("typo");
        assert!(err.to_string().contains("unknown field `prot`"), "{err}");
        type Case = (fn(&mut TcpConfig), Option<&'static str>);
        let cases: [Case; 5] = [
            (|_| {}, None),
            (|c| c.port = 0, Some("port")),
            (|c| c.host.clear(), Some("host")),
            (|c| c.expect = Some("(".into()), Some("expect")),
            (|c| c.timeout = Duration::ZERO, Some("timeout")),
        ];
        for (edit, want) in cases {
            let mut c = TcpConfig {
                port: 1,
                ..TcpConfig::default()
            };
            edit(&mut c);
            match (c.prepare(), want) {
                (Ok(_), None) => {}
                (Err(e), Some(w)) => assert!(e.to_string().contains(w), "{e} lacks {w}"),
                (got, want) => panic!("{got:?} but wanted {want:?}"),
            }
        }
        let v6 = TcpConfig {
            host: "::1".into(),
            port: 22,
            ..TcpConfig::default()
        };
        assert_eq!(v6.target(), "tcp://[::1]:22");
    }
}
