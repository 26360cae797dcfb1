//! [`Store`]: ties the in-memory head, logs and spans to the WAL and snapshots.
//!
//! Lock order is always `data lock (head | logs | spans) → WAL mutex`; the WAL
//! write happens under the data lock so WAL order equals memory order, and
//! the fsync happens after both are released (group commit in [`Wal::sync`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::cardinality::{SeriesLimits, StreamLimits};
use crate::checkpoint::{self, Covered};
use crate::config::{StoreConfig, check_log, check_span};
use crate::error::StoreError;
use crate::logs::LogStore;
use crate::private;
use crate::record::{self, WalRecord};
use crate::report::{AppendReport, ItemsReport, MaintainReport, Refusal, Refused, StoreStats};
use crate::retention;
use crate::segment::{read_file, scan};
use crate::series::{self, Head};
use crate::spans::SpanStore;
use crate::wal::{self, Pos, SEGMENT_SIZE, Wal};
use sextant_model::{Labels, LogEntry, Matcher, Series, SpanEntry};

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

/// The embedded store. `Send + Sync`; share it behind an `Arc` and call it
/// from async code via `spawn_blocking` (appends fsync).
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    cfg: StoreConfig,
    head: RwLock<Head>,
    logs: RwLock<LogStore>,
    spans: RwLock<SpanStore>,
    wal: Wal,
    maintain_lock: Mutex<()>,
    snapshot_bytes: AtomicU64,
    corrupt_records: AtomicU64,
    orphan_samples: AtomicU64,
    /// Held for the store's lifetime: two writers on one WAL would corrupt it.
    _lock: fs::File,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`: loads the latest
    /// snapshot, then replays the WAL segments after it. A torn or corrupt
    /// WAL tail is truncated with a warning; a corrupt record inside an older
    /// segment skips the rest of that segment (warned and counted in
    /// [`StoreStats::corrupt_records`]). Only I/O errors make this fail.
    pub fn open(dir: &Path, cfg: StoreConfig) -> Result<Store, StoreError> {
        let wal_dir = dir.join("wal");
        private::create_dir(dir)?;
        private::create_dir(&wal_dir)?;
        private::tighten_files(dir)?;
        private::tighten_files(&wal_dir)?;
        let lock = lock_dir(dir)?;
        let (snaps, tmps) = checkpoint::list_snapshots(dir)?;
        for t in tmps {
            fs::remove_file(&t).map_err(|e| StoreError::io(&t, e))?;
        }
        let mut loaded = match snaps.last() {
            Some((n, path)) => checkpoint::load(path, *n)?,
            None => checkpoint::Loaded::default(),
        };
        let mut snapshot_bytes = 0;
        for (i, (_, path)) in snaps.iter().enumerate() {
            if i + 1 < snaps.len() {
                fs::remove_file(path).map_err(|e| StoreError::io(path, e))?;
            } else {
                snapshot_bytes = fs::metadata(path)
                    .map_err(|e| StoreError::io(path, e))?
                    .len();
            }
        }
        let start = Pos {
            segment: loaded.wal_start,
            offset: 0,
        };
        let covered = loaded.covered.unwrap_or(Covered {
            metrics: start,
            logs: start,
            spans: start,
        });
        let mut replay = Replay {
            covered,
            remap: HashMap::new(),
            corrupt: loaded.corrupt,
            orphans: 0,
        };
        let segments = wal::list_segments(&wal_dir)?;
        let last = segments.keys().next_back().copied();
        // Each open starts a fresh segment, so a torn tail may sit before empty ones.
        let last_data = segments
            .iter()
            .rev()
            .find(|(_, p)| fs::metadata(p).is_ok_and(|m| m.len() > 0))
            .map(|(i, _)| *i);
        let mut existing = BTreeMap::new();
        for (&index, path) in &segments {
            if index < loaded.wal_start {
                // Covered by the snapshot; a crash stopped the cleanup.
                fs::remove_file(path).map_err(|e| StoreError::io(path, e))?;
                continue;
            }
            let size = replay.segment(&mut loaded, index, path, Some(index) == last_data)?;
            existing.insert(index, size);
        }
        let next = last.map_or(loaded.wal_start, |l| (l + 1).max(loaded.wal_start));
        let wal = Wal::open(&wal_dir, next, existing, SEGMENT_SIZE)?;
        Ok(Store {
            dir: dir.to_path_buf(),
            cfg,
            head: RwLock::new(loaded.head),
            logs: RwLock::new(loaded.logs),
            spans: RwLock::new(loaded.spans),
            wal,
            maintain_lock: Mutex::new(()),
            snapshot_bytes: AtomicU64::new(snapshot_bytes),
            corrupt_records: AtomicU64::new(replay.corrupt),
            orphan_samples: AtomicU64::new(replay.orphans),
            _lock: lock,
        })
    }

    /// What the store was opened with (the collector refuses samples older
    /// than its retention, which would be dropped at the next maintenance).
    pub fn config(&self) -> &StoreConfig {
        &self.cfg
    }

    /// Durable append: returns `Ok` only after the data is in the WAL and
    /// fsynced. Samples at or before the series' last timestamp are skipped
    /// and counted (same t and value bits = duplicate, else out of order). A
    /// series breaking an input limit is refused and named in the report;
    /// the rest of the batch is stored. No cardinality limit applies: see
    /// [`Store::append_samples_within`].
    pub fn append_samples(&self, batch: &[Series]) -> Result<AppendReport, StoreError> {
        self.append_samples_within(batch, SeriesLimits::UNLIMITED)
    }

    /// [`Store::append_samples`], refusing new series past `limits`
    /// (existing series keep taking samples). Checking costs nothing for
    /// existing series: new ones are found by the lookup every append makes.
    pub fn append_samples_within(
        &self,
        batch: &[Series],
        limits: SeriesLimits,
    ) -> Result<AppendReport, StoreError> {
        let mut head = write(&self.head);
        let mut plan = head.plan(batch, limits);
        let report = std::mem::take(&mut plan.report);
        if plan.samples.is_empty() && plan.new_series.is_empty() {
            return Ok(report);
        }
        let buf = record::encode_samples(
            &plan.samples,
            record::encode_series(&plan.new_series, Vec::new()),
        );
        let seq = self.wal.write(&buf)?;
        head.apply(plan);
        drop(head);
        self.wal.sync(seq)?;
        Ok(report)
    }

    /// Durable append of log entries (same guarantee as
    /// [`Store::append_samples`]); an entry breaking an input limit is
    /// refused and named in the report, the rest stored.
    pub fn append_logs(&self, entries: &[LogEntry]) -> Result<ItemsReport, StoreError> {
        self.append_logs_within(entries, StreamLimits::UNLIMITED)
    }

    /// [`Store::append_logs`], refusing lines of new streams past `limits`
    /// (existing streams keep taking lines), as
    /// [`Store::append_samples_within`] refuses new series.
    pub fn append_logs_within(
        &self,
        entries: &[LogEntry],
        limits: StreamLimits,
    ) -> Result<ItemsReport, StoreError> {
        let (ok, mut report) = admit(entries, check_log);
        if ok.is_empty() {
            return Ok(report);
        }
        // Held from admission to apply, so concurrent appends cannot both
        // take the last place under a cap.
        let mut logs = write(&self.logs);
        let invalid: HashSet<usize> = report.refused.iter().map(|r| r.index).collect();
        let valid = || {
            entries
                .iter()
                .enumerate()
                .filter(|(i, _)| !invalid.contains(i))
        };
        let limited = logs.refuse_new_streams(valid(), limits, &mut report);
        let ok = if limited.is_empty() {
            ok
        } else {
            report.refused.sort_by_key(|r| r.index);
            std::borrow::Cow::Owned(
                valid()
                    .filter(|(i, _)| !limited.contains(i))
                    .map(|(_, e)| e.clone())
                    .collect(),
            )
        };
        if ok.is_empty() {
            return Ok(report);
        }
        let buf = record::encode_logs(&ok, Vec::new());
        let seq = self.wal.write(&buf)?;
        logs.append(&ok);
        drop(logs);
        self.wal.sync(seq)?;
        Ok(report)
    }

    /// Durable append of spans (same guarantee and refusals as [`Store::append_logs`]).
    pub fn append_spans(&self, spans: &[SpanEntry]) -> Result<ItemsReport, StoreError> {
        let (ok, report) = admit(spans, check_span);
        if ok.is_empty() {
            return Ok(report);
        }
        let buf = record::encode_spans(&ok, Vec::new());
        let mut store = write(&self.spans);
        let seq = self.wal.write(&buf)?;
        store.append(&ok);
        drop(store);
        self.wal.sync(seq)?;
        Ok(report)
    }

    /// Series matching all matchers with their samples in `[start_ms, end_ms]`
    /// (inclusive), sorted by labels; series without samples there are omitted.
    ///
    /// Only copying the overlapping compressed chunks happens under the head
    /// lock; decoding them, the costly part, happens after it is released,
    /// so a heavy query never holds up appends (a writer waiting on the lock
    /// would in turn hold up every other reader).
    pub fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<Series> {
        let copied: Vec<_> = {
            let head = read(&self.head);
            head.matching(matchers)
                .map(|s| (s.labels.clone(), s.chunks_in(start_ms, end_ms)))
                .filter(|(_, chunks)| !chunks.is_empty())
                .collect()
        };
        let mut out: Vec<Series> = copied
            .into_iter()
            .filter_map(|(labels, chunks)| {
                let samples = series::samples_between(&chunks, start_ms, end_ms);
                (!samples.is_empty()).then_some(Series { labels, samples })
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    /// Label sets of matching series with at least one sample in `[start_ms, end_ms]`, sorted.
    pub fn series(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<Labels> {
        let head = read(&self.head);
        let mut out: Vec<Labels> = head
            .matching(matchers)
            .filter(|s| s.has_samples_in(start_ms, end_ms))
            .map(|s| s.labels.clone())
            .collect();
        out.sort();
        out
    }

    /// Label names of those series, sorted and unique.
    pub fn label_names(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<String> {
        let head = read(&self.head);
        let mut names = BTreeSet::new();
        for s in head
            .matching(matchers)
            .filter(|s| s.has_samples_in(start_ms, end_ms))
        {
            names.extend(s.labels.pairs().iter().map(|(k, _)| k.as_str()));
        }
        names.into_iter().map(str::to_string).collect()
    }

    /// Values of label `name` on those series, sorted and unique.
    pub fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<String> {
        let head = read(&self.head);
        let mut values = BTreeSet::new();
        for s in head.matching(matchers) {
            if let Some(v) = s.labels.get(name)
                && !values.contains(v)
                && s.has_samples_in(start_ms, end_ms)
            {
                values.insert(v);
            }
        }
        values.into_iter().map(str::to_string).collect()
    }

    /// Log entries whose stream matches, `t` in `[start_ns, end_ns]`, newest
    /// first if `backward`, at most `limit`.
    pub fn logs(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
        limit: usize,
        backward: bool,
    ) -> Vec<LogEntry> {
        read(&self.logs).query(matchers, start_ns, end_ns, limit, backward)
    }

    /// Labels of log streams matching `matchers` with a line in `[start_ns, end_ns]`, sorted.
    pub fn log_streams(&self, matchers: &[Matcher], start_ns: i64, end_ns: i64) -> Vec<Labels> {
        read(&self.logs).streams_in(matchers, start_ns, end_ns)
    }

    /// All spans of one trace, in the order written.
    pub fn trace(&self, trace_id: &[u8; 16]) -> Vec<SpanEntry> {
        read(&self.spans).trace(trace_id)
    }

    /// Ids and start times of traces with a span starting in `[start_ns,
    /// end_ns]`, newest first, at most `limit`.
    pub fn trace_ids(&self, start_ns: i64, end_ns: i64, limit: usize) -> Vec<([u8; 16], i64)> {
        read(&self.spans).recent(start_ns, end_ns, limit)
    }

    /// Applies retention (age, then size) and writes a snapshot so the WAL
    /// segments it covers can be deleted. Safe to call concurrently with
    /// appends; concurrent `maintain` calls run one after the other.
    pub fn maintain(&self, now_ms: i64) -> Result<MaintainReport, StoreError> {
        let _one = self
            .maintain_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut rep = MaintainReport::default();
        self.drop_future(now_ms, &mut rep);
        self.drop_before(
            retention::age_cutoff_ms(now_ms, self.cfg.retention),
            &mut rep,
        );
        if self.cfg.max_bytes > 0 {
            let hist =
                retention::histogram(&read(&self.head), &read(&self.logs), &read(&self.spans));
            if let Some(cut) = retention::size_cutoff_ms(&hist, self.cfg.max_bytes / 10 * 9) {
                self.drop_before(cut, &mut rep);
                rep.size_cutoff_ms = Some(cut);
            }
        }
        let n = self.wal.cut()?;
        let size =
            match checkpoint::write(&self.dir, n, &self.head, &self.logs, &self.spans, &self.wal) {
                Ok(size) => size,
                Err(e) => {
                    let _ = fs::remove_file(
                        checkpoint::snapshot_path(&self.dir, n).with_extension("tmp"),
                    );
                    return Err(e);
                }
            };
        self.snapshot_bytes.store(size, Ordering::Release);
        let (snaps, _) = checkpoint::list_snapshots(&self.dir)?;
        for (old, path) in snaps.into_iter().filter(|(i, _)| *i < n) {
            fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
            tracing::debug!(old, "removed superseded snapshot");
        }
        self.wal.remove_before(n)?;
        rep.disk_bytes = size + self.wal.disk_bytes();
        Ok(rep)
    }

    /// Drops what lies later than `now + max_future`: no retention would
    /// ever reach it, and a series holding it refuses its current samples.
    fn drop_future(&self, now_ms: i64, rep: &mut MaintainReport) {
        let grace = i64::try_from(self.cfg.max_future.as_millis()).unwrap_or(i64::MAX);
        let cutoff_ms = now_ms.saturating_add(grace);
        let (series, samples, b1) = write(&self.head).drop_after(cutoff_ms);
        let (logs, b2) = write(&self.logs).drop_after(retention::ms_to_ns(cutoff_ms));
        rep.series_dropped += series;
        rep.samples_dropped += samples;
        rep.logs_dropped += logs;
        rep.bytes_freed += b1 + b2;
    }

    fn drop_before(&self, cutoff_ms: i64, rep: &mut MaintainReport) {
        let (series, samples, b1) = write(&self.head).drop_before(cutoff_ms);
        let (logs, b2) = write(&self.logs).drop_before(retention::ms_to_ns(cutoff_ms));
        let (spans, b3) = write(&self.spans).drop_before(retention::ms_to_ns(cutoff_ms));
        rep.series_dropped += series;
        rep.samples_dropped += samples;
        rep.logs_dropped += logs;
        rep.spans_dropped += spans;
        rep.bytes_freed += b1 + b2 + b3;
    }

    /// Current sizes (walks all series; cheap enough for a scrape every few seconds).
    pub fn stats(&self) -> StoreStats {
        let (mut samples, mut bytes) = (0, 0);
        let head = read(&self.head);
        let series = head.len() as u64;
        for (_, s) in head.iter() {
            samples += s.sample_count();
            bytes += s.chunk_bytes();
        }
        drop(head);
        StoreStats {
            series,
            samples_in_memory: samples,
            chunk_bytes: bytes,
            disk_bytes: self.snapshot_bytes.load(Ordering::Acquire) + self.wal.disk_bytes(),
            log_entries: read(&self.logs).len(),
            spans: read(&self.spans).len(),
            corrupt_records: self.corrupt_records.load(Ordering::Relaxed),
            orphan_samples: self.orphan_samples.load(Ordering::Relaxed),
        }
    }
}

/// Splits a batch into the items `check` passes (cloned, to be written) and
/// a report naming the rest. Clones only when something is refused.
fn admit<T: Clone>(
    items: &[T],
    check: impl Fn(&T) -> Result<(), String>,
) -> (std::borrow::Cow<'_, [T]>, ItemsReport) {
    let refused: Vec<Refused> = items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| {
            check(item).err().map(|why| Refused {
                index,
                reason: Refusal::Invalid(why),
            })
        })
        .collect();
    let report = ItemsReport {
        appended: (items.len() - refused.len()) as u64,
        refused,
    };
    if report.refused.is_empty() {
        return (std::borrow::Cow::Borrowed(items), report);
    }
    let mut bad = report.refused.iter().map(|r| r.index).peekable();
    let ok = items
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            if bad.peek() == Some(i) {
                bad.next();
                false
            } else {
                true
            }
        })
        .map(|(_, item)| item.clone())
        .collect();
    (std::borrow::Cow::Owned(ok), report)
}

/// Takes an exclusive advisory lock on `<dir>/LOCK` (released when the file closes).
fn lock_dir(dir: &Path) -> Result<fs::File, StoreError> {
    let path = dir.join("LOCK");
    let f = private::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::Locked { path }),
        Err(fs::TryLockError::Error(e)) => Err(StoreError::io(path, e)),
    }
}

/// State carried across segments while replaying the WAL.
struct Replay {
    covered: Covered,
    /// WAL ref → ref in use (they differ when a snapshot already had the labels).
    remap: HashMap<u64, u64>,
    corrupt: u64,
    orphans: u64,
}

impl Replay {
    /// Replays one segment; returns its size after any truncation.
    fn segment(
        &mut self,
        st: &mut checkpoint::Loaded,
        index: u64,
        path: &Path,
        is_last: bool,
    ) -> Result<u64, StoreError> {
        let buf = read_file(path)?;
        let sc = scan(&buf);
        let mut damage = sc.damage.map(|d| (sc.valid_len, d));
        for r in &sc.records {
            let pos = Pos {
                segment: index,
                offset: r.offset,
            };
            match record::decode(r.kind, r.payload) {
                Ok(rec) => self.apply(st, pos, rec),
                Err(reason) => {
                    damage = Some((r.offset, reason));
                    break;
                }
            }
        }
        let Some((offset, reason)) = damage else {
            return Ok(buf.len() as u64);
        };
        self.corrupt += 1;
        if is_last {
            tracing::warn!(path = %path.display(), offset, %reason, "truncating torn WAL tail");
            let f = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| StoreError::io(path, e))?;
            f.set_len(offset)
                .and_then(|()| f.sync_all())
                .map_err(|e| StoreError::io(path, e))?;
            Ok(offset)
        } else {
            tracing::warn!(path = %path.display(), offset, %reason, "corrupt WAL record; skipping the rest of this segment");
            Ok(buf.len() as u64)
        }
    }

    fn apply(&mut self, st: &mut checkpoint::Loaded, pos: Pos, rec: WalRecord) {
        match rec {
            WalRecord::Series(list) if pos >= self.covered.metrics => {
                for (r, labels) in list {
                    let used = st.head.create(r, labels);
                    st.head.bump_next_ref(r.saturating_add(1));
                    self.remap.insert(r, used);
                }
            }
            WalRecord::Samples(list) if pos >= self.covered.metrics => {
                for (r, samples) in list {
                    let r = self.remap.get(&r).copied().unwrap_or(r);
                    if !st.head.replay_samples(r, &samples) {
                        self.orphans += samples.len() as u64;
                    }
                }
            }
            WalRecord::Logs(entries) if pos >= self.covered.logs => st.logs.append(&entries),
            WalRecord::Spans(spans) if pos >= self.covered.spans => st.spans.append(&spans),
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "recovery_tests.rs"]
mod recovery_tests;
