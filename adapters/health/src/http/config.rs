//! Settings of the HTTP check, every default in [`HttpConfig::default`],
//! and their validation into what a check needs at run time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use hyper::Uri;
use hyper::header::{HeaderName, HeaderValue};
use regex::Regex;
use serde::Deserialize;

use crate::sidecar::{FlagError, SidecarFlags};
pub use sextant_tls::TlsOptions;

/// Why a check could not be built from its config.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A setting is out of range, malformed, or contradicts another.
    #[error("invalid http check config: {0}")]
    InvalidConfig(String),
}

/// Settings of one HTTP check.
///
/// Durations are strings with a unit (`"500ms"`, `"5s"`, `"14d"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// `http://` or `https://` URL to request.
    pub url: String,
    /// Request method.
    pub method: String,
    /// Status codes that count as ready; empty means any 2xx.
    pub valid_status_codes: Vec<u16>,
    /// A regex the body (its first `max_body_bytes`) must match to be ready.
    pub body_regex: Option<String>,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// File holding a bearer token, sent as `Authorization: Bearer …`;
    /// read at every check so a rotated secret is picked up.
    pub bearer_token_file: Option<PathBuf>,
    /// Budget of one whole check (resolve, connect, TLS, request, body).
    #[serde(with = "sextant_config::duration")]
    pub timeout: Duration,
    /// A check that took longer than this is degraded.
    #[serde(with = "sextant_config::duration")]
    pub max_duration: Duration,
    /// Most body bytes read; the rest is not read.
    pub max_body_bytes: usize,
    /// TLS settings for `https://` URLs.
    pub tls: TlsOptions,
    /// A certificate expiring sooner than this is degraded.
    #[serde(with = "sextant_config::duration")]
    pub min_cert_validity: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            url: String::new(),
            method: "GET".to_string(),
            valid_status_codes: Vec::new(),
            body_regex: None,
            headers: BTreeMap::new(),
            bearer_token_file: None,
            timeout: Duration::from_secs(5),
            max_duration: Duration::from_secs(1),
            max_body_bytes: 1024 * 1024,
            tls: TlsOptions::default(),
            min_cert_validity: Duration::from_secs(14 * 86_400),
        }
    }
}

/// The parts of a validated config a check uses on every run.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub uri: Uri,
    pub https: bool,
    /// Host as in the URL, brackets removed from IPv6 literals.
    pub host: String,
    pub port: u16,
    pub method: hyper::Method,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body_regex: Option<Regex>,
}

impl HttpConfig {
    /// The sidecar's flags over these settings: `--target` is the URL,
    /// `--timeout` the budget; `--tls-ca-file` and `--role` are refused
    /// (an https check's CA is `tls.ca_file` in the config file).
    pub fn apply_flags(&mut self, flags: &SidecarFlags) -> Result<(), FlagError> {
        flags.refuse_tls_ca_file()?;
        flags.refuse_role()?;
        if let Some(url) = &flags.target {
            self.url.clone_from(url);
        }
        if let Some(t) = flags.timeout {
            self.timeout = t;
        }
        Ok(())
    }

    /// The target of reports: the URL without user info or query string.
    pub fn target(&self) -> String {
        match self.url.parse::<Uri>() {
            Ok(uri) => format!(
                "{}://{}{}",
                uri.scheme_str().unwrap_or("http"),
                uri.authority()
                    .map(|a| a.as_str().rsplit('@').next().unwrap_or_default())
                    .unwrap_or_default(),
                uri.path()
            ),
            Err(_) => self.url.clone(),
        }
    }

    /// Checks every setting and compiles what needs compiling.
    pub(crate) fn prepare(&self) -> Result<Prepared, HttpError> {
        let bad = |why: String| HttpError::InvalidConfig(why);
        let uri: Uri = self
            .url
            .parse()
            .map_err(|e| bad(format!("url {:?}: {e}", self.url)))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => {
                return Err(bad(format!(
                    "url {:?} must be http:// or https://",
                    self.url
                )));
            }
        };
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad(format!("url {:?} has no host", self.url)))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let method = hyper::Method::from_bytes(self.method.as_bytes())
            .map_err(|_| bad(format!("method {:?} is not a valid method", self.method)))?;
        let mut headers = Vec::new();
        for (k, v) in &self.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| bad(format!("header name {k:?} is invalid")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| bad(format!("header {k:?} has an invalid value")))?;
            headers.push((name, value));
        }
        let body_regex = match &self.body_regex {
            Some(r) => Some(Regex::new(r).map_err(|e| bad(format!("body_regex: {e}")))?),
            None => None,
        };
        if let Some(code) = self
            .valid_status_codes
            .iter()
            .find(|c| !(100..=599).contains(*c))
        {
            return Err(bad(format!(
                "valid_status_codes: {code} is not an HTTP status"
            )));
        }
        if self.timeout.is_zero() {
            return Err(bad("timeout must be positive".to_string()));
        }
        if self.max_body_bytes == 0 {
            return Err(bad("max_body_bytes must be positive".to_string()));
        }
        if !https && (self.tls != TlsOptions::default()) {
            return Err(bad("tls settings need an https:// url".to_string()));
        }
        Ok(Prepared {
            uri,
            https,
            host,
            port,
            method,
            headers,
            body_regex,
        })
    }

    /// Whether `status` counts as ready.
    pub fn accepts(&self, status: u16) -> bool {
        if self.valid_status_codes.is_empty() {
            (200..300).contains(&status)
        } else {
            self.valid_status_codes.contains(&status)
        }
    }

    /// The accepted statuses, for reasons: `2xx` or `200, 204`.
    pub fn accepted_text(&self) -> String {
        if self.valid_status_codes.is_empty() {
            "2xx".to_string()
        } else {
            let codes: Vec<String> = self.valid_status_codes.iter().map(u16::to_string).collect();
            codes.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<HttpConfig, String> {
        serde_json::from_str::<HttpConfig>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_with_defaults_and_rejects_unknown_keys() {
        let c = parse(r#"{"url":"https://a.example/x","min_cert_validity":"20d","tls":{"ca_file":"/ca.pem"}}"#)
            .expect("valid");
        assert_eq!(c.min_cert_validity, Duration::from_secs(20 * 86_400));
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.method, "GET");
        assert_eq!(c.tls.ca_file, Some(PathBuf::from("/ca.pem")));
        let err = parse(r#"{"ulr":"x"}"#).expect_err("typo");
        assert!(err.contains("unknown field `ulr`"), "{err}");
        let err = parse(r#"{"tls":{"insecure":true}}"#).expect_err("typo in tls");
        assert!(err.contains("unknown field `insecure`"), "{err}");
        let err = parse(r#"{"timeout":"5"}"#).expect_err("unit");
        assert!(err.contains("no unit"), "{err}");
    }

    #[test]
    fn validation_cases() {
        type Case = (fn(&mut HttpConfig), Option<&'static str>);
        let cases: [Case; 10] = [
            (|_| {}, None),
            (|c| c.url = "ftp://x/".into(), Some("http:// or https://")),
            (|c| c.url = "http:///x".into(), Some("url")),
            (
                |c| c.url = "/just/a/path".into(),
                Some("http:// or https://"),
            ),
            (|c| c.method = "GE T".into(), Some("method")),
            (|c| c.body_regex = Some("(".into()), Some("body_regex")),
            (|c| c.valid_status_codes = vec![200, 700], Some("700")),
            (|c| c.timeout = Duration::ZERO, Some("timeout")),
            (
                |c| {
                    c.headers.insert("Bad Header".into(), "x".into());
                },
                Some("header name"),
            ),
            (
                |c| c.tls.server_name = Some("x".into()),
                Some("need an https"),
            ),
        ];
        for (edit, want) in cases {
            let mut c = HttpConfig {
                url: "http://127.0.0.1:8080/healthz".into(),
                ..HttpConfig::default()
            };
            edit(&mut c);
            match (c.prepare(), want) {
                (Ok(_), None) => {}
                (Err(e), Some(w)) => assert!(e.to_string().contains(w), "{e} lacks {w}"),
                (got, want) => panic!("{got:?} but wanted {want:?}"),
            }
        }
    }

    #[test]
    fn targets_drop_credentials_and_queries_and_ports_default() {
        let c = HttpConfig {
            url: "https://user:pw@[::1]/ready?token=s3cret".into(),
            ..HttpConfig::default()
        };
        assert_eq!(c.target(), "https://[::1]/ready");
        let p = c.prepare().expect("valid");
        assert_eq!((p.host.as_str(), p.port, p.https), ("::1", 443, true));
        let c = HttpConfig {
            valid_status_codes: vec![200, 204],
            ..HttpConfig::default()
        };
        assert!(c.accepts(204) && !c.accepts(201));
        assert_eq!(c.accepted_text(), "200, 204");
        assert!(HttpConfig::default().accepts(299));
        assert!(!HttpConfig::default().accepts(301));
    }
}
