//! Counters returned by the store's operations, for the collector's own
//! metrics and logs.

use crate::cardinality::SeriesLimit;

/// Outcome of [`crate::Store::append_samples`]: rejected samples are counted
/// and refused series named by their place in the batch, not errors, so one
/// bad series never costs the rest of its batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppendReport {
    /// Samples stored.
    pub samples_appended: u64,
    /// Samples skipped because their timestamp was not after the series' last one
    /// (or equal with a different value).
    pub samples_out_of_order: u64,
    /// Samples skipped because they repeat the last sample exactly (same t, same value bits).
    pub samples_duplicate: u64,
    /// Series seen for the first time.
    pub series_created: u64,
    /// Series of the batch refused whole (none of their samples stored).
    pub refused: Vec<Refused>,
}

/// One item of a batch the store refused, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Its index in the batch passed to the append.
    pub index: usize,
    /// Why.
    pub reason: Refusal,
}

/// Why the store refused an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// It breaks an input limit of [`crate::limits`] (the words say which).
    Invalid(String),
    /// It would be a new series (or log stream) past a cardinality limit
    /// (existing ones still take samples and lines).
    SeriesLimit {
        /// Which limit.
        limit: SeriesLimit,
        /// The series' source (`job` value; a stream's `service_name`; `""` for none).
        source: String,
        /// The limit's value.
        max: u64,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Invalid(why) => f.write_str(why),
            Refusal::SeriesLimit {
                limit: SeriesLimit::Global,
                max,
                ..
            } => write!(
                f,
                "new series refused: the store holds max_series={max} series"
            ),
            Refusal::SeriesLimit {
                limit: SeriesLimit::PerSource,
                source,
                max,
            } => write!(
                f,
                "new series refused: job {source:?} holds max_series_per_source={max} series"
            ),
            Refusal::SeriesLimit {
                limit: SeriesLimit::Streams,
                max,
                ..
            } => write!(
                f,
                "new log stream refused: the store holds max_log_streams={max} streams"
            ),
            Refusal::SeriesLimit {
                limit: SeriesLimit::StreamsPerSource,
                source,
                max,
            } => write!(
                f,
                "new log stream refused: service_name {source:?} holds max_log_streams_per_source={max} streams"
            ),
        }
    }
}

/// Outcome of [`crate::Store::append_logs`] and [`crate::Store::append_spans`]:
/// what was stored and which items were refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemsReport {
    /// Items stored.
    pub appended: u64,
    /// Items refused, by their index in the batch.
    pub refused: Vec<Refused>,
}

/// A point-in-time view of the store's size, for `/metrics` and capacity planning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Series in memory.
    pub series: u64,
    /// Samples in memory.
    pub samples_in_memory: u64,
    /// Compressed bytes in memory for samples.
    pub chunk_bytes: u64,
    /// Bytes on disk: snapshot plus WAL segments.
    pub disk_bytes: u64,
    /// Log entries in memory.
    pub log_entries: u64,
    /// Spans in memory.
    pub spans: u64,
    /// Corrupt WAL or snapshot records met since open (each skipped the rest of its file).
    pub corrupt_records: u64,
    /// Samples in the WAL that referenced an unknown series (after corruption) and were dropped.
    pub orphan_samples: u64,
}

/// Outcome of [`crate::Store::maintain`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaintainReport {
    /// Series removed because all their samples expired.
    pub series_dropped: u64,
    /// Samples removed.
    pub samples_dropped: u64,
    /// Log entries removed.
    pub logs_dropped: u64,
    /// Spans removed.
    pub spans_dropped: u64,
    /// Approximate bytes of data removed from memory (and, via the snapshot, from disk).
    pub bytes_freed: u64,
    /// The cutoff applied to satisfy `max_bytes`, if any (ms since the epoch; older data was dropped).
    pub size_cutoff_ms: Option<i64>,
    /// Disk bytes (snapshot + WAL) after the checkpoint.
    pub disk_bytes: u64,
}
