//! Spans: opaque payloads indexed by trace id.

/// One span as the store keeps it: an opaque, self-describing payload (the
/// receiver encodes resource, scope and span together) indexed by trace id.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanEntry {
    /// The 16-byte trace id.
    pub trace_id: [u8; 16],
    /// Span start, nanoseconds since the Unix epoch (for retention by age).
    pub t_ns: i64,
    /// Encoded payload, returned as written.
    pub payload: Vec<u8>,
}
