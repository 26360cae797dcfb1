//! Exporter configuration, deserializable from the agent's config file.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::ExportError;

/// What a flush does when the on-disk queue is full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// Wait for space, which makes `submit_*` wait too: backpressure up to the producer.
    #[default]
    Block,
    /// Drop the new batch (counted and logged) so producers never stall.
    DropNewest,
}

/// Settings of the OTLP/HTTP export client.
///
/// Durations are strings with a unit (`"500ms"`, `"30s"`, `"5m"`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExporterConfig {
    /// Collector base URL; `/v1/logs`, `/v1/metrics`, `/v1/traces` are appended.
    pub endpoint: String,
    /// Directory of the on-disk queue (segments and cursor).
    pub queue_dir: PathBuf,
    /// Bound on the undelivered bytes kept on disk.
    pub max_queue_bytes: u64,
    /// A batch is flushed once it holds this many log records / data points / spans.
    pub max_batch_items: usize,
    /// A batch is flushed once its protobuf encoding reaches this many bytes.
    pub max_batch_bytes: usize,
    /// A batch is flushed this long after its first item arrived.
    #[serde(with = "sextant_config::duration")]
    pub batch_timeout: Duration,
    /// First retry backoff ceiling; doubles per attempt (full jitter).
    #[serde(with = "sextant_config::duration")]
    pub initial_backoff: Duration,
    /// Cap of the backoff ceiling.
    #[serde(with = "sextant_config::duration")]
    pub max_backoff: Duration,
    /// Timeout of one HTTP request, connection included.
    #[serde(with = "sextant_config::duration")]
    pub request_timeout: Duration,
    /// Sent as `Authorization: Bearer <token>`; never logged.
    pub bearer_token: Option<String>,
    /// File holding the bearer token (keeps the secret out of the config file).
    pub bearer_token_file: Option<PathBuf>,
    /// PEM CA certificates trusted for an `https://` endpoint, instead of the
    /// system's roots (for collectors with a private CA or a self-signed cert).
    pub ca_file: Option<PathBuf>,
    /// Not a config key: set by `sextant up` for its agent, whose collector
    /// is in the same process. The `https://` endpoint must present exactly
    /// a certificate in this file (the collector's own), in place of any
    /// chain check ([`sextant_tls::pinned_client_config`]).
    #[serde(skip)]
    pub pinned_cert_file: Option<PathBuf>,
    /// Behaviour when the disk queue is full.
    pub when_full: WhenFull,
}

impl Default for ExporterConfig {
    fn default() -> Self {
        ExporterConfig {
            endpoint: "http://127.0.0.1:4318".to_string(),
            queue_dir: PathBuf::from("data/agent-queue"),
            max_queue_bytes: 256 * 1024 * 1024,
            max_batch_items: 8192,
            max_batch_bytes: 4 * 1024 * 1024,
            batch_timeout: Duration::from_secs(1),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            bearer_token: None,
            bearer_token_file: None,
            ca_file: None,
            pinned_cert_file: None,
            when_full: WhenFull::Block,
        }
    }
}

// Hand-written so the bearer token can never reach a log line via `{:?}`.
impl fmt::Debug for ExporterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExporterConfig")
            .field("endpoint", &self.endpoint)
            .field("queue_dir", &self.queue_dir)
            .field("max_queue_bytes", &self.max_queue_bytes)
            .field("max_batch_items", &self.max_batch_items)
            .field("max_batch_bytes", &self.max_batch_bytes)
            .field("batch_timeout", &self.batch_timeout)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("request_timeout", &self.request_timeout)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("bearer_token_file", &self.bearer_token_file)
            .field("ca_file", &self.ca_file)
            .field("pinned_cert_file", &self.pinned_cert_file)
            .field("when_full", &self.when_full)
            .finish()
    }
}

impl ExporterConfig {
    /// Rejects settings that cannot work, before any task is spawned.
    pub(crate) fn validate(&self) -> Result<(), ExportError> {
        let bad = |why: String| Err(ExportError::Config(why));
        if !self.endpoint.starts_with("http://") && !self.endpoint.starts_with("https://") {
            return bad(format!(
                "endpoint {:?} must start with http:// or https://",
                self.endpoint
            ));
        }
        if self.bearer_token.is_some() && self.bearer_token_file.is_some() {
            return bad("set bearer_token or bearer_token_file, not both".to_string());
        }
        if self.max_batch_items == 0 || self.max_batch_bytes == 0 {
            return bad("max_batch_items and max_batch_bytes must be positive".to_string());
        }
        if self.max_queue_bytes == 0 {
            return bad("max_queue_bytes must be positive".to_string());
        }
        if self.batch_timeout.is_zero() || self.request_timeout.is_zero() {
            return bad("batch_timeout and request_timeout must be positive".to_string());
        }
        if self.initial_backoff > self.max_backoff {
            return bad("initial_backoff must not exceed max_backoff".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializes_string_durations_and_rejects_unknown_fields() {
        let cfg: ExporterConfig = serde_json::from_str(
            r#"{"endpoint":"http://c:4318","batch_timeout":"250ms","max_backoff":"1m","when_full":"drop_newest"}"#,
        )
        .expect("valid config");
        assert_eq!(cfg.batch_timeout, Duration::from_millis(250));
        assert_eq!(cfg.max_backoff, Duration::from_secs(60));
        assert_eq!(cfg.when_full, WhenFull::DropNewest);
        assert_eq!(cfg.max_batch_items, 8192, "unset fields keep defaults");
        assert!(serde_json::from_str::<ExporterConfig>(r#"{"endpont":"x"}"#).is_err());
        assert!(serde_json::from_str::<ExporterConfig>(r#"{"batch_timeout":1000}"#).is_err());
    }

    #[test]
    fn debug_redacts_the_token_and_validation_checks_the_scheme() {
        let cfg = ExporterConfig {
            bearer_token: Some("s3cret".to_string()),
            ..ExporterConfig::default()
        };
        assert!(!format!("{cfg:?}").contains("s3cret"));
        assert!(cfg.validate().is_ok());
        let tls = ExporterConfig {
            endpoint: "https://c".to_string(),
            ..ExporterConfig::default()
        };
        assert!(tls.validate().is_ok());
        let ftp = ExporterConfig {
            endpoint: "ftp://c".to_string(),
            ..ExporterConfig::default()
        };
        assert!(ftp.validate().is_err());
        let both = ExporterConfig {
            bearer_token: Some("a".to_string()),
            bearer_token_file: Some("t".into()),
            ..ExporterConfig::default()
        };
        assert!(both.validate().is_err());
    }
}
