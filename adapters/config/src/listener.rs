//! How a Sextant listener is secured: the one config block every server
//! (collector listeners, the agent's, sidecars) reads, so TLS and bearer
//! tokens are configured the same way everywhere.

use std::path::PathBuf;

use serde::Deserialize;

/// TLS and bearer-token settings for a listener. Both off by default, since
/// listeners bind 127.0.0.1 unless told otherwise.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ListenerSecurity {
    /// PEM certificate chain; with `tls_key_file`, the listener speaks TLS only.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
    /// File holding the token clients must send as `Authorization: Bearer`;
    /// the probes `/livez` and `/readyz` stay open for the kubelet.
    pub bearer_token_file: Option<PathBuf>,
}

impl ListenerSecurity {
    /// Checks the settings make sense together; names the bad key.
    pub fn validate(&self, prefix: &str) -> Result<(), String> {
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => Err(format!(
                "{prefix}.tls_key_file: required when tls_cert_file is set"
            )),
            (None, Some(_)) => Err(format!(
                "{prefix}.tls_cert_file: required when tls_key_file is set"
            )),
            _ => Ok(()),
        }
    }
}
