//! Settings of the DNS check, every default in [`DnsConfig::default`].

use std::net::SocketAddr;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use super::wire::RecordType;
use crate::sidecar::{FlagError, SidecarFlags};

/// Why a check could not be built from its config.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// A setting is out of range, malformed, or contradicts another.
    #[error("invalid dns check config: {0}")]
    InvalidConfig(String),
}

/// Settings of one DNS check.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfig {
    /// The server to ask, `ip:port` (no name: resolving the resolver would
    /// test something else).
    pub server: String,
    /// The name to query.
    pub name: String,
    /// The record type to query.
    pub record_type: RecordType,
    /// Response codes that count as ready (`NOERROR`, `NXDOMAIN`, …).
    pub valid_rcodes: Vec<String>,
    /// Fewest answer records for ready.
    pub min_answers: usize,
    /// A regex at least one answer record (presentation form, `name TTL IN
    /// TYPE data`) must match to be ready.
    pub expect_answer: Option<String>,
    /// Budget of one whole check (UDP and the TCP retry together).
    #[serde(with = "sextant_config::duration")]
    pub timeout: Duration,
    /// A check that took longer than this is degraded.
    #[serde(with = "sextant_config::duration")]
    pub max_duration: Duration,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            server: "127.0.0.1:53".to_string(),
            name: String::new(),
            record_type: RecordType::A,
            valid_rcodes: vec!["NOERROR".to_string()],
            min_answers: 1,
            expect_answer: None,
            timeout: Duration::from_secs(2),
            max_duration: Duration::from_millis(500),
        }
    }
}

impl DnsConfig {
    /// The sidecar's flags over these settings: `--target` is the server's
    /// `ip:port`, `--name` the name to resolve, `--timeout` the budget;
    /// `--tls-ca-file` and `--role` are refused.
    pub fn apply_flags(&mut self, flags: &SidecarFlags) -> Result<(), FlagError> {
        flags.refuse_tls_ca_file()?;
        flags.refuse_role()?;
        if let Some(server) = &flags.target {
            self.server.clone_from(server);
        }
        if let Some(name) = &flags.name {
            self.name.clone_from(name);
        }
        if let Some(t) = flags.timeout {
            self.timeout = t;
        }
        Ok(())
    }

    /// The target of reports: `dns://server/name?type=A`.
    pub fn target(&self) -> String {
        let kind = super::wire::type_name(self.record_type.code());
        format!("dns://{}/{}?type={kind}", self.server, self.name)
    }

    /// Checks every setting; returns the server address and the regex.
    pub(crate) fn prepare(&self) -> Result<(SocketAddr, Option<Regex>), DnsError> {
        let bad = |why: String| DnsError::InvalidConfig(why);
        let server: SocketAddr = self
            .server
            .parse()
            .map_err(|_| bad(format!("server {:?} must be ip:port", self.server)))?;
        if self.name.is_empty() {
            return Err(bad("name must be set".to_string()));
        }
        super::wire::encode_query(0, &self.name, self.record_type)
            .map_err(|e| bad(format!("name {:?}: {e}", self.name)))?;
        if self.timeout.is_zero() {
            return Err(bad("timeout must be positive".to_string()));
        }
        if self.valid_rcodes.is_empty() {
            return Err(bad("valid_rcodes must not be empty".to_string()));
        }
        let known: Vec<String> = (0..16).map(super::wire::rcode_name).collect();
        if let Some(r) = self.valid_rcodes.iter().find(|r| !known.contains(r)) {
            return Err(bad(format!("valid_rcodes: unknown rcode {r:?}")));
        }
        let regex = match &self.expect_answer {
            Some(r) => Some(Regex::new(r).map_err(|e| bad(format!("expect_answer: {e}")))?),
            None => None,
        };
        Ok((server, regex))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_validation_cases() {
        let c: DnsConfig = serde_json::from_str(
            r#"{"server":"10.0.0.53:53","name":"example.com","record_type":"AAAA","expect_answer":"::1$"}"#,
        )
        .expect("valid");
        assert_eq!(c.record_type, RecordType::Aaaa);
        assert_eq!(c.valid_rcodes, ["NOERROR"]);
        assert_eq!(c.target(), "dns://10.0.0.53:53/example.com?type=AAAA");
        assert!(c.prepare().is_ok());
        for bad in [r#"{"record_type":"PTR"}"#, r#"{"nmae":"x"}"#] {
            assert!(serde_json::from_str::<DnsConfig>(bad).is_err(), "{bad}");
        }
        type Case = (fn(&mut DnsConfig), Option<&'static str>);
        let cases: [Case; 6] = [
            (|_| {}, None),
            (|c| c.server = "dns.example:53".into(), Some("ip:port")),
            (|c| c.name.clear(), Some("name must be set")),
            (|c| c.name = "a..b".into(), Some("bad DNS name")),
            (
                |c| c.valid_rcodes = vec!["NOPE".into()],
                Some("unknown rcode"),
            ),
            (
                |c| c.expect_answer = Some("[".into()),
                Some("expect_answer"),
            ),
        ];
        for (edit, want) in cases {
            let mut c = DnsConfig {
                name: "example.com".into(),
                ..DnsConfig::default()
            };
            edit(&mut c);
            match (c.prepare(), want) {
                (Ok(_), None) => {}
                (Err(e), Some(w)) => assert!(e.to_string().contains(w), "{e} lacks {w}"),
                (got, want) => panic!("{got:?} but wanted {want:?}"),
            }
        }
    }
}
