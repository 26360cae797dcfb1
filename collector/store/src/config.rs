//! Store configuration and input limits.

use std::time::Duration;

use crate::error::StoreError;
use sextant_model::{Labels, LogEntry, SpanEntry};

/// Longest accepted label name or value, in bytes.
pub const MAX_LABEL_BYTES: usize = 64 << 10;
/// Most label pairs accepted in one label set (series, stream or metadata).
pub const MAX_LABEL_PAIRS: usize = 1024;
/// Longest accepted log line, in bytes.
pub const MAX_LOG_LINE_BYTES: usize = 1 << 20;
/// Largest accepted span payload, in bytes.
pub const MAX_SPAN_PAYLOAD_BYTES: usize = 4 << 20;

/// How much the store keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// Data older than `now - retention` is dropped by [`crate::Store::maintain`].
    pub retention: Duration,
    /// On-disk size limit (snapshot + WAL) for everything, 0 = unlimited. When
    /// over, the oldest data is dropped first, down to 90 % of the limit so the
    /// WAL has room to grow until the next maintenance.
    pub max_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            retention: Duration::from_secs(15 * 24 * 3600),
            max_bytes: 0,
        }
    }
}

/// Checks a label set against the limits.
pub fn check_labels(what: &str, l: &Labels) -> Result<(), StoreError> {
    if l.pairs().len() > MAX_LABEL_PAIRS {
        return Err(StoreError::invalid(format!(
            "{what} has {} labels, limit {MAX_LABEL_PAIRS}",
            l.pairs().len()
        )));
    }
    for (k, v) in l.pairs() {
        if k.is_empty() {
            return Err(StoreError::invalid(format!(
                "{what} has an empty label name"
            )));
        }
        if k.len() > MAX_LABEL_BYTES || v.len() > MAX_LABEL_BYTES {
            return Err(StoreError::invalid(format!(
                "{what}: label {:?}… exceeds {MAX_LABEL_BYTES} bytes",
                k.chars().take(40).collect::<String>()
            )));
        }
    }
    Ok(())
}

/// Checks log entries against the limits.
pub fn check_logs(entries: &[LogEntry]) -> Result<(), StoreError> {
    for e in entries {
        if e.stream.pairs().is_empty() {
            return Err(StoreError::invalid(
                "log entry with an empty stream label set",
            ));
        }
        check_labels("log stream", &e.stream)?;
        check_labels("log metadata", &e.metadata)?;
        if e.line.len() > MAX_LOG_LINE_BYTES {
            return Err(StoreError::invalid(format!(
                "log line of {} bytes exceeds {MAX_LOG_LINE_BYTES}",
                e.line.len()
            )));
        }
    }
    Ok(())
}

/// Checks spans against the limits.
pub fn check_spans(spans: &[SpanEntry]) -> Result<(), StoreError> {
    for s in spans {
        if s.payload.len() > MAX_SPAN_PAYLOAD_BYTES {
            return Err(StoreError::invalid(format!(
                "span payload of {} bytes exceeds {MAX_SPAN_PAYLOAD_BYTES}",
                s.payload.len()
            )));
        }
    }
    Ok(())
}
