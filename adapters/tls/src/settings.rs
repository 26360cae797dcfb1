//! The database checks' `tls:` block, what the one
//! [`Connector`](crate::Connector) is built from. Its keys are a contract
//! with every config file out there, so they stay as they are.

use std::path::PathBuf;

use serde::Deserialize;

/// The `tls:` block of the MySQL, PostgreSQL and Redis checks: present
/// means the check speaks only TLS to its server and verifies it as set
/// here. (The MySQL check refuses `skip_domain_validation` alone: its driver
/// cannot honour it.)
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    /// PEM file of the CA(s) to trust instead of the system roots (as
    /// libpq's `sslrootcert` and `redis-cli --cacert`).
    pub ca_file: Option<PathBuf>,
    /// Accept a certificate whose names do not include the configured host,
    /// still requiring a chain to a trusted CA (dangerous; libpq's
    /// `sslmode=verify-ca`).
    pub skip_domain_validation: bool,
    /// Accept any certificate at all: encryption without trust (dangerous;
    /// libpq's `sslmode=require`). No CA is read.
    pub accept_invalid_certs: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
        serde_json::from_str::<T>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn settings_parse_with_defaults_and_reject_unknown_keys() {
        let parse = parse::<TlsSettings>;
        assert_eq!(parse("{}").expect("empty block"), TlsSettings::default());
        let s = parse(r#"{"ca_file":"/etc/ca.pem","skip_domain_validation":true}"#)
            .expect("valid block");
        assert_eq!(s.ca_file, Some(PathBuf::from("/etc/ca.pem")));
        assert!(s.skip_domain_validation && !s.accept_invalid_certs);
        let err = parse(r#"{"ca":"/etc/ca.pem"}"#).expect_err("typo");
        assert!(err.contains("unknown field `ca`"), "{err}");
        let err = parse(r#"{"accept_invalid_certs":"yes"}"#).expect_err("not a bool");
        assert!(err.contains("expected a boolean"), "{err}");
    }
}
