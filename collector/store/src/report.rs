//! Counters returned by the store's operations, for the collector's own
//! metrics and logs.

/// Outcome of [`crate::Store::append_samples`]: rejected samples are counted, not errors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
