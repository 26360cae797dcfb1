//! Errors of the export client: each names the path or endpoint involved and why.

use std::path::PathBuf;

/// Why the export client could not start, accept data or stop cleanly.
///
/// Delivery failures are *not* errors here: they are reported per batch through
/// [`super::Outcome`] and counted in metrics, because the producer usually wants
/// to keep going while the collector is away.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The configuration cannot work (bad endpoint, zero limits, ...).
    #[error("invalid exporter configuration: {0}")]
    Config(String),
    /// `Exporter::start` was called outside a tokio runtime.
    #[error("the exporter must be started inside a tokio runtime")]
    NoRuntime,
    /// The HTTP client for the endpoint could not be built.
    #[error("cannot build the HTTP client for {endpoint}: {source}")]
    Client {
        /// The configured collector endpoint.
        endpoint: String,
        /// The underlying reqwest error.
        #[source]
        source: reqwest::Error,
    },
    /// A file or directory of the on-disk queue could not be read or written.
    #[error("disk queue I/O error on {path}: {source}")]
    QueueIo {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Another process (or another exporter in this process) uses the queue directory.
    #[error("disk queue {path} is locked by another exporter")]
    QueueLocked {
        /// The queue directory.
        path: PathBuf,
    },
    /// The exporter's metrics could not be registered (e.g. registered twice).
    #[error("cannot register exporter metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// Encoding or compressing a batch failed.
    #[error("cannot encode a {signal} batch: {reason}")]
    Encode {
        /// The signal of the batch.
        signal: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The exporter was shut down (or its tasks stopped), so it accepts nothing more.
    #[error("the exporter is shut down")]
    Shutdown,
    /// A background task of the exporter failed unexpectedly.
    #[error("exporter task failed: {0}")]
    Task(String),
}

impl ExportError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ExportError::QueueIo {
            path: path.into(),
            source,
        }
    }
}
