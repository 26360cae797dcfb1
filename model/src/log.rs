//! Log records: Loki's model of a line in a stream.

use crate::labels::Labels;

/// One log record as the store keeps it: Loki's model of a line in a stream,
/// plus structured metadata (attributes that are not stream labels).
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    /// Nanoseconds since the Unix epoch.
    pub t_ns: i64,
    /// Stream labels (low cardinality: service, resource attributes, severity).
    pub stream: Labels,
    /// The log body rendered as text.
    pub line: String,
    /// Per-record attributes, trace and span ids.
    pub metadata: Labels,
}
