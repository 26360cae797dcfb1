//! The in-memory head of metric series: series identities, their label
//! index and their compressed chunks. Appends are two-phase (`plan`, then
//! `apply` once the WAL write succeeded) so memory never holds data the WAL
//! failed to take.

use std::collections::HashMap;

use crate::cardinality::{Admission, SeriesLimits, SourceCounts, source_of};
use crate::chunk::Chunk;
use crate::config::check_labels;
use crate::index::LabelIndex;
use crate::report::{AppendReport, Refusal, Refused};
use sextant_model::{Labels, Matcher, Sample, Series};

/// One series: its labels and its chunks, oldest first; the last one is open.
#[derive(Debug)]
pub struct MemSeries {
    /// Series identity.
    pub labels: Labels,
    /// Compressed samples, oldest first.
    pub chunks: Vec<Chunk>,
}

impl MemSeries {
    fn new(labels: Labels) -> MemSeries {
        MemSeries {
            labels,
            chunks: Vec::new(),
        }
    }

    /// Last sample, the reference for out-of-order checks.
    pub fn last(&self) -> Option<Sample> {
        self.chunks.last().and_then(Chunk::last)
    }

    /// Appends after the last sample, cutting a new chunk when the open one is full.
    pub fn append(&mut self, s: Sample) {
        if self.chunks.last().is_none_or(Chunk::is_full) {
            let prefer_xor = self.chunks.last().is_some_and(Chunk::mostly_escapes);
            self.chunks.push(Chunk::new(prefer_xor));
        }
        if let Some(c) = self.chunks.last_mut() {
            c.append(s.t, s.v);
        }
    }

    /// Copies of the chunks that overlap `[start, end]`: cheap (compressed
    /// bytes), so readers can copy under the head lock and decode after it.
    pub fn chunks_in(&self, start: i64, end: i64) -> Vec<Chunk> {
        self.chunks
            .iter()
            .filter(|c| c.max_t() >= start && c.min_t() <= end)
            .cloned()
            .collect()
    }

    /// Whether any sample lies in `[start, end]` (decodes only boundary chunks).
    pub fn has_samples_in(&self, start: i64, end: i64) -> bool {
        self.chunks.iter().any(|c| {
            if c.max_t() < start || c.min_t() > end {
                false
            } else if c.min_t() >= start || c.max_t() <= end {
                // One end of the chunk lies inside the range.
                true
            } else {
                c.samples().iter().any(|s| s.t >= start && s.t <= end)
            }
        })
    }

    /// Number of samples held.
    pub fn sample_count(&self) -> u64 {
        self.chunks.iter().map(|c| u64::from(c.len())).sum()
    }

    /// Compressed bytes held.
    pub fn chunk_bytes(&self) -> u64 {
        self.chunks.iter().map(|c| c.bytes().len() as u64).sum()
    }
}

/// Decodes the samples of `chunks` (oldest first) with `start <= t <= end`.
pub fn samples_between(chunks: &[Chunk], start: i64, end: i64) -> Vec<Sample> {
    let mut out = Vec::new();
    for c in chunks {
        c.samples_between(start, end, &mut out);
    }
    out
}

/// What an append will do, computed before the WAL write.
#[derive(Debug, Default)]
pub struct AppendPlan {
    /// Series to create, with the refs they will get.
    pub new_series: Vec<(u64, Labels)>,
    /// Accepted samples per series ref, in order.
    pub samples: Vec<(u64, Vec<Sample>)>,
    /// Counts for the caller.
    pub report: AppendReport,
}

/// All series in memory.
#[derive(Debug, Default)]
pub struct Head {
    series: HashMap<u64, MemSeries>,
    by_labels: HashMap<Labels, u64>,
    index: LabelIndex,
    next_ref: u64,
    sources: SourceCounts,
}

impl Head {
    /// Works out which samples are accepted and which series are new, without
    /// changing anything: the WAL is written first, then [`Head::apply`].
    /// A series breaking an input limit, or new past one of `limits`, is
    /// refused whole and named in the report; the rest of the batch goes on.
    pub fn plan(&self, batch: &[Series], limits: SeriesLimits) -> AppendPlan {
        let mut plan = AppendPlan::default();
        let mut new_refs: HashMap<&Labels, u64> = HashMap::new();
        let mut last: HashMap<u64, Option<Sample>> = HashMap::new();
        let mut slot: HashMap<u64, usize> = HashMap::new();
        let mut admission = Admission::new(&self.sources, limits);
        for (index, ss) in batch.iter().enumerate() {
            if ss.samples.is_empty() {
                continue;
            }
            if let Err(why) = check_labels("series", &ss.labels) {
                plan.report.refused.push(Refused {
                    index,
                    reason: Refusal::Invalid(why),
                });
                continue;
            }
            let r = match self
                .by_labels
                .get(&ss.labels)
                .or_else(|| new_refs.get(&ss.labels))
            {
                Some(&r) => r,
                None => {
                    if let Err(limit) = admission.admit(&ss.labels) {
                        let max = admission.max(limit);
                        plan.report.refused.push(Refused {
                            index,
                            reason: Refusal::SeriesLimit {
                                limit,
                                source: source_of(&ss.labels).to_string(),
                                max,
                            },
                        });
                        continue;
                    }
                    let r = self.next_ref.saturating_add(new_refs.len() as u64);
                    new_refs.insert(&ss.labels, r);
                    plan.new_series.push((r, ss.labels.clone()));
                    plan.report.series_created += 1;
                    r
                }
            };
            let prev = last
                .entry(r)
                .or_insert_with(|| self.series.get(&r).and_then(MemSeries::last));
            let idx = *slot.entry(r).or_insert_with(|| {
                plan.samples.push((r, Vec::new()));
                plan.samples.len() - 1
            });
            for &s in &ss.samples {
                match prev {
                    Some(p) if s.t == p.t && s.v.to_bits() == p.v.to_bits() => {
                        plan.report.samples_duplicate += 1
                    }
                    Some(p) if s.t <= p.t => plan.report.samples_out_of_order += 1,
                    _ => {
                        *prev = Some(s);
                        plan.report.samples_appended += 1;
                        if let Some((_, v)) = plan.samples.get_mut(idx) {
                            v.push(s);
                        }
                    }
                }
            }
        }
        plan.samples.retain(|(_, v)| !v.is_empty());
        plan
    }

    /// Applies a plan made by [`Head::plan`] under the same lock.
    pub fn apply(&mut self, plan: AppendPlan) {
        for (r, labels) in plan.new_series {
            self.create(r, labels);
        }
        for (r, samples) in plan.samples {
            if let Some(s) = self.series.get_mut(&r) {
                for x in samples {
                    s.append(x);
                }
            }
        }
    }

    /// Creates (or finds, by labels) a series; returns the ref in use.
    /// Replay uses the returned ref to remap WAL refs onto snapshot refs.
    pub fn create(&mut self, r: u64, labels: Labels) -> u64 {
        if let Some(&existing) = self.by_labels.get(&labels) {
            return existing;
        }
        let mut r = r;
        if self.series.contains_key(&r) {
            // A damaged WAL reused a ref for other labels: keep the first, give these a fresh ref.
            r = self.next_ref;
            if self.series.contains_key(&r) {
                // Only reachable with absurd refs from damaged files; never panic.
                return r;
            }
        }
        self.index.add(r, &labels);
        self.sources.add(&labels);
        self.by_labels.insert(labels.clone(), r);
        self.series.insert(r, MemSeries::new(labels));
        self.next_ref = self.next_ref.max(r.saturating_add(1));
        r
    }

    /// Replays samples for one series with the normal out-of-order rules, so
    /// samples already present from a snapshot are not applied twice.
    pub fn replay_samples(&mut self, r: u64, samples: &[Sample]) -> bool {
        let Some(s) = self.series.get_mut(&r) else {
            return false;
        };
        for &x in samples {
            if s.last().is_none_or(|p| x.t > p.t) {
                s.append(x);
            }
        }
        true
    }

    /// Restores a series from a snapshot with its chunks as they were.
    pub fn restore(&mut self, r: u64, labels: Labels, chunks: Vec<Chunk>) {
        let r = self.create(r, labels);
        if let Some(s) = self.series.get_mut(&r) {
            s.chunks = chunks;
        }
    }

    /// Series matching `matchers`, in no particular order.
    pub fn matching<'a>(
        &'a self,
        matchers: &'a [Matcher],
    ) -> Box<dyn Iterator<Item = &'a MemSeries> + 'a> {
        match self.index.candidates(matchers) {
            Some(ids) => Box::new(
                ids.iter()
                    .filter_map(|r| self.series.get(r))
                    .filter(move |s| s.labels.matches(matchers)),
            ),
            None => Box::new(
                self.series
                    .values()
                    .filter(move |s| s.labels.matches(matchers)),
            ),
        }
    }

    /// Every series with its ref (snapshots, retention).
    pub fn iter(&self) -> impl Iterator<Item = (u64, &MemSeries)> {
        self.series.iter().map(|(r, s)| (*r, s))
    }

    /// Next ref to hand out (recorded in snapshots so refs are never reused).
    pub fn next_ref(&self) -> u64 {
        self.next_ref
    }

    /// Raises the next ref (after loading a snapshot).
    pub fn bump_next_ref(&mut self, r: u64) {
        self.next_ref = self.next_ref.max(r);
    }

    /// Drops whole chunks whose last sample is before `cutoff_ms`, and series
    /// left empty. Returns (series dropped, samples dropped, bytes freed).
    pub fn drop_before(&mut self, cutoff_ms: i64) -> (u64, u64, u64) {
        let (mut samples, mut bytes) = (0u64, 0u64);
        let mut emptied = Vec::new();
        for (r, s) in &mut self.series {
            let keep_from = s
                .chunks
                .iter()
                .position(|c| c.max_t() >= cutoff_ms)
                .unwrap_or(s.chunks.len());
            for c in s.chunks.drain(..keep_from) {
                samples += u64::from(c.len());
                bytes += c.bytes().len() as u64;
            }
            if s.chunks.is_empty() {
                emptied.push(*r);
            }
        }
        for r in &emptied {
            if let Some(s) = self.series.remove(r) {
                self.index.remove(*r, &s.labels);
                self.sources.remove(&s.labels);
                self.by_labels.remove(&s.labels);
                bytes += labels_bytes(&s.labels);
            }
        }
        (emptied.len() as u64, samples, bytes)
    }

    /// Drops samples later than `cutoff_ms` (re-encoding the chunk they end
    /// in), and series left empty, so a sample from the future cannot refuse
    /// a series' current data forever. Returns (series dropped, samples
    /// dropped, bytes freed).
    pub fn drop_after(&mut self, cutoff_ms: i64) -> (u64, u64, u64) {
        let (mut samples, mut bytes) = (0u64, 0u64);
        for s in self.series.values_mut() {
            if s.chunks.last().is_none_or(|c| c.max_t() <= cutoff_ms) {
                continue;
            }
            let keep = s
                .chunks
                .iter()
                .position(|c| c.max_t() > cutoff_ms)
                .unwrap_or(s.chunks.len());
            let before = s.chunk_bytes();
            let tail: Vec<Chunk> = s.chunks.drain(keep..).collect();
            for c in tail {
                for x in c.samples() {
                    if x.t <= cutoff_ms {
                        s.append(x);
                    } else {
                        samples += 1;
                    }
                }
            }
            bytes += before.saturating_sub(s.chunk_bytes());
        }
        // Series left empty go the way retention removes them.
        let (series, _, label_bytes) = self.drop_before(i64::MIN);
        (series, samples, bytes + label_bytes)
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.series.len()
    }
}

/// Approximate encoded size of a label set (for size-based retention).
pub fn labels_bytes(l: &Labels) -> u64 {
    l.pairs()
        .iter()
        .map(|(k, v)| (k.len() + v.len() + 2) as u64)
        .sum::<u64>()
        + 1
}
