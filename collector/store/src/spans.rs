//! Spans in memory, indexed by trace id. Payloads are opaque; the store only
//! needs the trace id for lookup and the start time for retention.

use std::collections::HashMap;

use crate::types::SpanEntry;

/// Approximate stored size of a span, for size-based retention.
pub fn span_bytes(s: &SpanEntry) -> u64 {
    s.payload.len() as u64 + 28
}

/// All spans, grouped by trace in write order.
#[derive(Debug, Default)]
pub struct SpanStore {
    traces: HashMap<[u8; 16], Vec<SpanEntry>>,
    spans: u64,
}

impl SpanStore {
    /// Adds spans in the order given.
    pub fn append(&mut self, spans: &[SpanEntry]) {
        for s in spans {
            self.traces.entry(s.trace_id).or_default().push(s.clone());
        }
        self.spans += spans.len() as u64;
    }

    /// All spans of one trace in write order.
    pub fn trace(&self, id: &[u8; 16]) -> Vec<SpanEntry> {
        self.traces.get(id).cloned().unwrap_or_default()
    }

    /// Drops spans that started before `cutoff_ns`. Returns (spans, bytes).
    pub fn drop_before(&mut self, cutoff_ns: i64) -> (u64, u64) {
        let (mut n, mut bytes) = (0u64, 0u64);
        self.traces.retain(|_, spans| {
            spans.retain(|s| {
                let keep = s.t_ns >= cutoff_ns;
                if !keep {
                    n += 1;
                    bytes += span_bytes(s);
                }
                keep
            });
            !spans.is_empty()
        });
        self.spans -= n;
        (n, bytes)
    }

    /// Every span (snapshots, size accounting).
    pub fn iter(&self) -> impl Iterator<Item = &SpanEntry> {
        self.traces.values().flatten()
    }

    /// Number of spans held.
    pub fn len(&self) -> u64 {
        self.spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_in_write_order_and_retention() {
        let mut s = SpanStore::default();
        let sp = |id: u8, t: i64| SpanEntry {
            trace_id: [id; 16],
            t_ns: t,
            payload: vec![id, t as u8],
        };
        s.append(&[sp(1, 30), sp(2, 5), sp(1, 10)]);
        assert_eq!(s.trace(&[1; 16]), vec![sp(1, 30), sp(1, 10)]);
        assert!(s.trace(&[9; 16]).is_empty());
        assert_eq!(s.drop_before(20), (2, 2 * 30));
        assert_eq!(s.trace(&[1; 16]), vec![sp(1, 30)]);
        assert!(s.trace(&[2; 16]).is_empty());
        assert_eq!(s.len(), 1);
    }
}
