//! How a Sextant listener is secured: the one config block every server
//! (collector listeners, the agent's, sidecars) reads, so TLS and bearer
//! tokens are configured the same way everywhere.

use std::path::PathBuf;
use std::time::Duration;

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

/// How long a listener waits on a client and how many it holds at once:
/// what keeps slow or idle clients from holding the sockets everyone needs.
/// The collector reads these from `collector.limits`; the agent's and the
/// sidecar's listeners use these defaults. The values follow Prometheus's
/// web server and Go's `net/http` practice: 512 connections is
/// `--web.max-connections`; 10 s to send the request head is far more than
/// any real client needs, yet ends a slow-loris client quickly; 5 m for the
/// body is Prometheus's `--web.read-timeout`, long enough for a large
/// remote-write batch on a slow link; 2 m idle is longer than Go's
/// `http.Transport` idle keep-alive (90 s), so Go clients close first and
/// never race the server's close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections held at once; past it the longest-idle one is
    /// closed to admit a new one, or the new one is closed if none is idle.
    pub max_connections: usize,
    /// Longest a client may take to send a request's head (HTTP/1).
    pub header_read_timeout: Duration,
    /// Longest a request's body may take to arrive once its head has.
    pub request_body_timeout: Duration,
    /// Longest a connection may stay open with no request in flight.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            request_body_timeout: Duration::from_secs(5 * 60),
            idle_timeout: Duration::from_secs(2 * 60),
        }
    }
}
