//! The two `tls:` blocks of the config, and how each maps onto the one
//! [`Connector`](crate::Connector). Their keys are a contract with every
//! config file out there, so they stay as they are: the database checks
//! name the dangerous switches, the HTTP and TCP checks (in the manner of
//! blackbox_exporter) name the server to verify instead.

use std::path::PathBuf;

use rustls::pki_types::ServerName;
use serde::Deserialize;

use crate::TlsSetupError;
use crate::connector::server_name;

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

/// The `tls:` block of the HTTP and TCP checks: which CAs to trust and,
/// optionally, which name to send as SNI and verify the certificate
/// against (blackbox_exporter's `tls_config`). These checks have no
/// dangerous switches: a certificate they reject is their finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsOptions {
    /// PEM file of the CA(s) to trust instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Name to send as SNI and verify the certificate against; defaults to
    /// the target's host.
    pub server_name: Option<String>,
}

impl TlsOptions {
    /// The connector settings these options stand for: their CA file, both
    /// dangerous switches off.
    pub fn settings(&self) -> TlsSettings {
        TlsSettings {
            ca_file: self.ca_file.clone(),
            ..TlsSettings::default()
        }
    }

    /// The name a handshake to `host` sends and verifies: `server_name` if
    /// set, else `host`. An error is a config problem, found when the check
    /// is built.
    pub fn name_for(&self, host: &str) -> Result<ServerName<'static>, TlsSetupError> {
        server_name(self.server_name.as_deref().unwrap_or(host))
    }
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

    #[test]
    fn options_map_onto_the_connector_settings() {
        let o = parse::<TlsOptions>(r#"{"ca_file":"/ca.pem","server_name":"db.example"}"#)
            .expect("valid block");
        assert_eq!(
            o.settings(),
            TlsSettings {
                ca_file: Some(PathBuf::from("/ca.pem")),
                skip_domain_validation: false,
                accept_invalid_certs: false,
            }
        );
        let name = o.name_for("10.0.0.5").expect("valid name");
        assert_eq!(name.to_str(), "db.example");
        let host = TlsOptions::default().name_for("::1").expect("an IP");
        assert_eq!(host.to_str(), "::1");
        let err = parse::<TlsOptions>(r#"{"insecure":true}"#).expect_err("no such switch");
        assert!(err.contains("unknown field `insecure`"), "{err}");
        let err = TlsOptions {
            server_name: Some("a b".into()),
            ..TlsOptions::default()
        }
        .name_for("db")
        .expect_err("space")
        .to_string();
        assert_eq!(err, "host \"a b\" is not a valid TLS server name");
    }
}
