//! Log records in memory, grouped by stream labels as Loki does. Each stream
//! keeps its entries sorted by time so range queries are binary searches and
//! retention drops a prefix.

use std::collections::{HashMap, HashSet};

use crate::cardinality::{Admission, STREAM_SOURCE_LABEL, SourceCounts, StreamLimits};
use crate::index::LabelIndex;
use crate::report::{ItemsReport, Refusal, Refused};
use crate::series::labels_bytes;
use sextant_model::{Labels, LogEntry, Matcher};

/// One line of a stream (the stream labels are stored once per stream).
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    /// Nanoseconds since the epoch.
    pub t_ns: i64,
    /// The log body.
    pub line: String,
    /// Structured metadata.
    pub metadata: Labels,
}

impl LogLine {
    /// Approximate stored size, for size-based retention.
    pub fn bytes(&self) -> u64 {
        self.line.len() as u64 + labels_bytes(&self.metadata) + 10
    }
}

/// One stream: labels and time-sorted lines.
#[derive(Debug)]
pub struct Stream {
    /// Stream identity.
    pub labels: Labels,
    /// Lines sorted by `t_ns` (ties in arrival order).
    pub lines: Vec<LogLine>,
}

/// All log streams.
#[derive(Debug)]
pub struct LogStore {
    streams: HashMap<u64, Stream>,
    by_labels: HashMap<Labels, u64>,
    index: LabelIndex,
    next_id: u64,
    entries: u64,
    /// Streams per `service_name`, for [`StreamLimits`].
    sources: SourceCounts,
}

impl Default for LogStore {
    fn default() -> Self {
        LogStore {
            streams: HashMap::new(),
            by_labels: HashMap::new(),
            index: LabelIndex::default(),
            next_id: 0,
            entries: 0,
            sources: SourceCounts::by(STREAM_SOURCE_LABEL),
        }
    }
}

impl LogStore {
    /// Which of `entries` (each with its index in the append's batch) are
    /// lines of new streams that `limits` refuse; each refusal goes into
    /// `report` under that index, and its count out of `report.appended`.
    /// Lines of existing streams always pass. Changes nothing: the WAL is
    /// written first.
    pub fn refuse_new_streams<'e>(
        &self,
        entries: impl Iterator<Item = (usize, &'e LogEntry)>,
        limits: StreamLimits,
        report: &mut ItemsReport,
    ) -> HashSet<usize> {
        let mut refused = HashSet::new();
        if limits == StreamLimits::UNLIMITED {
            return refused;
        }
        let mut admission = Admission::streams(&self.sources, limits);
        // Each new stream is decided once per append, by its first line.
        let mut decided: HashMap<&Labels, Option<Refusal>> = HashMap::new();
        for (index, e) in entries {
            if self.by_labels.contains_key(&e.stream) {
                continue;
            }
            let verdict = decided.entry(&e.stream).or_insert_with(|| {
                admission
                    .admit(&e.stream)
                    .err()
                    .map(|limit| Refusal::SeriesLimit {
                        limit,
                        source: self.sources.source(&e.stream).to_string(),
                        max: admission.max(limit),
                    })
            });
            if let Some(reason) = verdict {
                refused.insert(index);
                report.refused.push(Refused {
                    index,
                    reason: reason.clone(),
                });
            }
        }
        report.appended -= refused.len() as u64;
        refused
    }

    /// Adds entries; out-of-order lines are inserted in place (Loki accepts them).
    pub fn append(&mut self, entries: &[LogEntry]) {
        for e in entries {
            self.push(
                &e.stream,
                LogLine {
                    t_ns: e.t_ns,
                    line: e.line.clone(),
                    metadata: e.metadata.clone(),
                },
            );
        }
    }

    /// Adds one line to a stream, creating the stream on first use.
    pub fn push(&mut self, stream: &Labels, line: LogLine) {
        let id = match self.by_labels.get(stream) {
            Some(&id) => id,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                self.index.add(id, stream);
                self.sources.add(stream);
                self.by_labels.insert(stream.clone(), id);
                self.streams.insert(
                    id,
                    Stream {
                        labels: stream.clone(),
                        lines: Vec::new(),
                    },
                );
                id
            }
        };
        if let Some(s) = self.streams.get_mut(&id) {
            if s.lines.last().is_none_or(|l| l.t_ns <= line.t_ns) {
                s.lines.push(line);
            } else {
                let at = s.lines.partition_point(|l| l.t_ns <= line.t_ns);
                s.lines.insert(at, line);
            }
            self.entries += 1;
        }
    }

    /// Entries of matching streams with `start <= t <= end`, newest first when
    /// `backward`, at most `limit`. Ties are broken by stream labels for a
    /// stable order across calls.
    pub fn query(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        limit: usize,
        backward: bool,
    ) -> Vec<LogEntry> {
        if limit == 0 || start > end {
            return Vec::new();
        }
        let streams: Vec<&Stream> = match self.index.candidates(matchers) {
            Some(ids) => ids.iter().filter_map(|id| self.streams.get(id)).collect(),
            None => self.streams.values().collect(),
        };
        let mut picked: Vec<(&Stream, &LogLine)> = Vec::new();
        for s in streams.into_iter().filter(|s| s.labels.matches(matchers)) {
            let lo = s.lines.partition_point(|l| l.t_ns < start);
            let hi = s.lines.partition_point(|l| l.t_ns <= end);
            let range = s.lines.get(lo..hi).unwrap_or(&[]);
            // Only the `limit` lines nearest the starting edge can make the cut.
            let take: &[LogLine] = if backward {
                &range[range.len().saturating_sub(limit)..]
            } else {
                &range[..range.len().min(limit)]
            };
            picked.extend(take.iter().map(|l| (s, l)));
        }
        picked.sort_by(|a, b| {
            a.1.t_ns
                .cmp(&b.1.t_ns)
                .then_with(|| a.0.labels.cmp(&b.0.labels))
        });
        if backward {
            picked.reverse();
        }
        picked.truncate(limit);
        picked
            .into_iter()
            .map(|(s, l)| LogEntry {
                t_ns: l.t_ns,
                stream: s.labels.clone(),
                line: l.line.clone(),
                metadata: l.metadata.clone(),
            })
            .collect()
    }

    /// Labels of matching streams with a line in `[start, end]`, sorted: what
    /// Loki's label and series endpoints list.
    pub fn streams_in(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<Labels> {
        let streams: Vec<&Stream> = match self.index.candidates(matchers) {
            Some(ids) => ids.iter().filter_map(|id| self.streams.get(id)).collect(),
            None => self.streams.values().collect(),
        };
        let mut out: Vec<Labels> = streams
            .into_iter()
            .filter(|s| s.labels.matches(matchers))
            .filter(|s| {
                let lo = s.lines.partition_point(|l| l.t_ns < start);
                s.lines.get(lo).is_some_and(|l| l.t_ns <= end)
            })
            .map(|s| s.labels.clone())
            .collect();
        out.sort();
        out
    }

    /// Drops lines older than `cutoff_ns` and emptied streams. Returns (lines, bytes).
    pub fn drop_before(&mut self, cutoff_ns: i64) -> (u64, u64) {
        let (mut n, mut bytes) = (0u64, 0u64);
        let mut emptied = Vec::new();
        for (id, s) in &mut self.streams {
            let cut = s.lines.partition_point(|l| l.t_ns < cutoff_ns);
            for l in s.lines.drain(..cut) {
                n += 1;
                bytes += l.bytes();
            }
            if s.lines.is_empty() {
                emptied.push(*id);
            }
        }
        for id in emptied {
            if let Some(s) = self.streams.remove(&id) {
                self.index.remove(id, &s.labels);
                self.sources.remove(&s.labels);
                self.by_labels.remove(&s.labels);
                bytes += labels_bytes(&s.labels);
            }
        }
        self.entries -= n;
        (n, bytes)
    }

    /// Drops lines later than `cutoff_ns` and emptied streams (what a clock
    /// set back leaves; no retention would reach it). Returns (lines, bytes).
    pub fn drop_after(&mut self, cutoff_ns: i64) -> (u64, u64) {
        let (mut n, mut bytes) = (0u64, 0u64);
        for s in self.streams.values_mut() {
            let keep = s.lines.partition_point(|l| l.t_ns <= cutoff_ns);
            for l in s.lines.drain(keep..) {
                n += 1;
                bytes += l.bytes();
            }
        }
        self.entries -= n;
        let (m, label_bytes) = self.drop_before(i64::MIN);
        (n + m, bytes + label_bytes)
    }

    /// All streams (snapshots, size accounting).
    pub fn streams(&self) -> impl Iterator<Item = &Stream> {
        self.streams.values()
    }

    /// Number of lines held.
    pub fn len(&self) -> u64 {
        self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::MatchOp;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn entry(t: i64, app: &str, line: &str) -> LogEntry {
        LogEntry {
            t_ns: t,
            stream: l(&[("app", app)]),
            line: line.into(),
            metadata: Labels::default(),
        }
    }

    #[test]
    fn forward_backward_limit_and_retention() -> Result<(), regex::Error> {
        let mut s = LogStore::default();
        s.append(&[
            entry(30, "a", "a30"),
            entry(10, "a", "a10"),
            entry(20, "b", "b20"),
            entry(40, "b", "b40"),
            entry(20, "a", "a20"),
        ]);
        let all = [Matcher::new("app", MatchOp::Re, ".+")?];
        let lines = |v: Vec<LogEntry>| v.into_iter().map(|e| e.line).collect::<Vec<_>>();
        assert_eq!(
            lines(s.query(&all, 0, 100, 10, false)),
            ["a10", "a20", "b20", "a30", "b40"]
        );
        assert_eq!(lines(s.query(&all, 0, 100, 2, true)), ["b40", "a30"]);
        assert_eq!(
            lines(s.query(&all, 20, 30, 10, true)),
            ["a30", "b20", "a20"]
        );
        assert_eq!(
            lines(s.query(&[Matcher::new("app", MatchOp::Eq, "a")?], 0, 100, 2, false)),
            ["a10", "a20"]
        );
        assert_eq!(
            lines(s.query(&[Matcher::new("app", MatchOp::Ne, "a")?], 0, 100, 9, false)),
            ["b20", "b40"]
        );
        assert_eq!(s.drop_before(25).0, 3);
        assert_eq!(lines(s.query(&all, 0, 100, 10, false)), ["a30", "b40"]);
        assert_eq!(s.len(), 2);
        Ok(())
    }

    #[test]
    fn lists_streams_with_lines_in_the_window() -> Result<(), regex::Error> {
        let mut s = LogStore::default();
        s.append(&[entry(10, "a", "x"), entry(50, "b", "y")]);
        let all = [Matcher::new("app", MatchOp::Re, ".+")?];
        assert_eq!(
            s.streams_in(&all, 0, 100),
            vec![l(&[("app", "a")]), l(&[("app", "b")])]
        );
        assert_eq!(s.streams_in(&all, 20, 100), vec![l(&[("app", "b")])]);
        assert!(s.streams_in(&all, 60, 100).is_empty());
        assert_eq!(
            s.streams_in(&[Matcher::new("app", MatchOp::Eq, "a")?], 0, 100)
                .len(),
            1
        );
        Ok(())
    }
}
