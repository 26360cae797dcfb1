//! Store configuration and input limits.

use std::time::Duration;

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
    /// Data later than `now + max_future` is dropped by
    /// [`crate::Store::maintain`]: a sample far in the future would refuse
    /// every current sample of its series as out of order and outlive any
    /// retention. The collector refuses such samples at ingest; this clears
    /// what an older version, or a clock set back, left in a data directory.
    pub max_future: Duration,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            retention: Duration::from_secs(15 * 24 * 3600),
            max_bytes: 0,
            max_future: Duration::from_secs(10 * 60),
        }
    }
}

/// Why a label set breaks the limits, if it does: the store's own last
/// line of defence (the collector validates with tighter, configurable
/// limits first).
pub fn check_labels(what: &str, l: &Labels) -> Result<(), String> {
    if l.pairs().is_empty() {
        return Err(format!("{what} has an empty label set"));
    }
    if l.pairs().len() > MAX_LABEL_PAIRS {
        return Err(format!(
            "{what} has {} labels, limit {MAX_LABEL_PAIRS}",
            l.pairs().len()
        ));
    }
    for (k, v) in l.pairs() {
        if k.is_empty() {
            return Err(format!("{what} has an empty label name"));
        }
        if k.len() > MAX_LABEL_BYTES || v.len() > MAX_LABEL_BYTES {
            return Err(format!(
                "{what}: label {:?}… exceeds {MAX_LABEL_BYTES} bytes",
                k.chars().take(40).collect::<String>()
            ));
        }
    }
    Ok(())
}

/// Why a log entry breaks the limits, if it does.
pub fn check_log(e: &LogEntry) -> Result<(), String> {
    check_labels("log stream", &e.stream)?;
    // Metadata may be empty, a stream may not.
    if !e.metadata.pairs().is_empty() {
        check_labels("log metadata", &e.metadata)?;
    }
    if e.line.len() > MAX_LOG_LINE_BYTES {
        return Err(format!(
            "log line of {} bytes exceeds {MAX_LOG_LINE_BYTES}",
            e.line.len()
        ));
    }
    Ok(())
}

/// Why a span breaks the limits, if it does.
pub fn check_span(s: &SpanEntry) -> Result<(), String> {
    if s.payload.len() > MAX_SPAN_PAYLOAD_BYTES {
        return Err(format!(
            "span payload of {} bytes exceeds {MAX_SPAN_PAYLOAD_BYTES}",
            s.payload.len()
        ));
    }
    Ok(())
}
