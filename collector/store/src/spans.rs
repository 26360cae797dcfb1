//! Spans in memory, indexed by trace id. Payloads are opaque; the store only
//! needs the trace id for lookup and the start time for retention.

use std::collections::HashMap;

use sextant_model::SpanEntry;

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

    /// Traces with a span starting in `[start_ns, end_ns]`, newest first (by
    /// their earliest span), at most `limit`: the candidates of a trace search.
    pub fn recent(&self, start_ns: i64, end_ns: i64, limit: usize) -> Vec<([u8; 16], i64)> {
        let mut found: Vec<([u8; 16], i64)> = self
            .traces
            .iter()
            .filter_map(|(id, spans)| {
                let first = spans.iter().map(|s| s.t_ns).min()?;
                let any_in = spans.iter().any(|s| s.t_ns >= start_ns && s.t_ns <= end_ns);
                any_in.then_some((*id, first))
            })
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        found.truncate(limit);
        found
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

    #[test]
    fn recent_traces_newest_first_within_the_window() {
        let mut s = SpanStore::default();
        let sp = |id: u8, t: i64| SpanEntry {
            trace_id: [id; 16],
            t_ns: t,
            payload: vec![id],
        };
        s.append(&[sp(1, 10), sp(1, 50), sp(2, 20), sp(3, 40), sp(4, 100)]);
        assert_eq!(
            s.recent(15, 60, 10),
            vec![([3; 16], 40), ([2; 16], 20), ([1; 16], 10)]
        );
        assert_eq!(s.recent(15, 60, 1), vec![([3; 16], 40)]);
        assert!(s.recent(200, 300, 10).is_empty());
    }
}
