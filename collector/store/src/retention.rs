//! Retention policy: which cutoff time to apply by age and by size.
//!
//! Size retention drops the oldest data across all kinds first. We build a
//! per-minute histogram of approximate stored bytes (chunks by their last
//! sample, log lines and spans by their own time) and walk it from the oldest
//! minute until the remainder fits the budget. Dropping is by whole chunk, so
//! the cutoff is applied to a chunk's *last* sample, matching the histogram.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::logs::LogStore;
use crate::series::{Head, labels_bytes};
use crate::spans::{SpanStore, span_bytes};

const BUCKET_MS: i64 = 60_000;

/// Converts a millisecond cutoff to nanoseconds (saturating: far past/future stay ordered).
pub fn ms_to_ns(ms: i64) -> i64 {
    ms.saturating_mul(1_000_000)
}

/// Data with a time before this is past the age limit.
pub fn age_cutoff_ms(now_ms: i64, retention: Duration) -> i64 {
    let r = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    now_ms.saturating_sub(r)
}

/// Approximate snapshot bytes per minute of data time, oldest first.
pub fn histogram(head: &Head, logs: &LogStore, spans: &SpanStore) -> BTreeMap<i64, u64> {
    let mut h: BTreeMap<i64, u64> = BTreeMap::new();
    let mut add =
        |t_ms: i64, bytes: u64| *h.entry(t_ms.div_euclid(BUCKET_MS)).or_default() += bytes;
    for (_, s) in head.iter() {
        for c in &s.chunks {
            add(c.max_t(), c.bytes().len() as u64 + 6);
        }
        // The labels go when the newest chunk goes.
        if let Some(last) = s.chunks.last() {
            add(last.max_t(), labels_bytes(&s.labels) + 4);
        }
    }
    for st in logs.streams() {
        for l in &st.lines {
            add(l.t_ns.div_euclid(1_000_000), l.bytes());
        }
        if let Some(last) = st.lines.last() {
            add(last.t_ns.div_euclid(1_000_000), labels_bytes(&st.labels));
        }
    }
    for s in spans.iter() {
        add(s.t_ns.div_euclid(1_000_000), span_bytes(s));
    }
    h
}

/// The smallest cutoff (ms; drop data strictly before it) that brings the
/// histogram's total under `budget`, or `None` if it already fits.
pub fn size_cutoff_ms(hist: &BTreeMap<i64, u64>, budget: u64) -> Option<i64> {
    let mut total: u64 = hist.values().sum();
    if total <= budget {
        return None;
    }
    for (&bucket, &bytes) in hist {
        total -= bytes;
        if total <= budget {
            return Some(bucket.saturating_add(1).saturating_mul(BUCKET_MS));
        }
    }
    hist.keys()
        .next_back()
        .map(|b| b.saturating_add(1).saturating_mul(BUCKET_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_oldest_buckets_first() {
        let hist: BTreeMap<i64, u64> = [(0, 100), (1, 100), (2, 100)].into_iter().collect();
        assert_eq!(size_cutoff_ms(&hist, 300), None);
        assert_eq!(size_cutoff_ms(&hist, 250), Some(60_000));
        assert_eq!(size_cutoff_ms(&hist, 100), Some(120_000));
        assert_eq!(size_cutoff_ms(&hist, 0), Some(180_000));
        assert_eq!(age_cutoff_ms(1_000_000, Duration::from_secs(10)), 990_000);
        assert_eq!(age_cutoff_ms(0, Duration::MAX), -i64::MAX);
    }
}
