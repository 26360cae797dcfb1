//! The collector's embedded durable store.
//!
//! Three kinds of data live here, each in its own module, all of them the
//! data model's types (`sextant-model`): metric series (`Labels` + `Sample`s,
//! compressed in memory, written ahead to a WAL), log records (`LogEntry`,
//! grouped by stream labels) and spans (`SpanEntry`, opaque payloads indexed
//! by trace id). The store knows no HTTP and no OTLP:
//! receivers translate wire formats into these plain types, and the query
//! layers read them back through `Store`'s methods.
//!
//! **Invariant:** every `append_*` call returns `Ok` only after its data is in
//! the WAL and fsynced, so an acknowledged write survives `kill -9`.
//!
//! **Invariant:** [`Store::select`], the reader behind every PromQL query,
//! holds the head lock only to copy label sets and compressed chunks, never
//! while decoding them, so a heavy query cannot hold up appends.
//!
//! **Invariant:** bad input never fails an append: an item breaking an input
//! limit (or a new series past a cardinality limit, `cardinality`) is
//! refused and named in the report by its index, and the rest of the batch
//! is stored; `Err` means the store itself could not write.
//!
//! # Storage design
//!
//! * **Memory.** Samples live in Gorilla-style chunks of 120 samples
//!   (`chunk`: delta-of-delta timestamps; values either XOR
//!   coded or, when they are short decimals, as delta-of-delta of the scaled
//!   integer — about 1.2 bytes/sample on 15 s scrape data, bit-exact for every
//!   f64). Series are indexed by label pairs (`index`, `series`). Logs are
//!   grouped by stream and kept time-sorted (`logs`); spans are grouped by
//!   trace id (`spans`). Neither is compressed yet.
//! * **WAL** (`wal`, `record`, `segment`). `<dir>/wal/<index>` segment files
//!   of up to 64 MiB holding records `[len u32][crc32 u32][kind u8][payload]`.
//!   Kinds: series (ref → labels, once per new series), samples (by ref),
//!   logs, spans — all in one log so one fsync covers a mixed workload.
//!   Appends write under the data lock and fsync outside it, with group commit.
//! * **Snapshots** (`checkpoint`). [`Store::maintain`] applies retention
//!   (`retention`: by age, then by size, oldest data first across all kinds),
//!   cuts the WAL to a new segment N, writes `<dir>/snapshot-<N>` (same
//!   framing; chunks as in memory; a footer with per-kind WAL positions) via
//!   tmp + fsync + rename + dir fsync, then deletes segments before N.
//! * **Recovery.** `open` loads the newest snapshot, deletes segments it
//!   covers, and replays the rest, skipping records of each kind before that
//!   kind's covered position (no double-applied logs or spans) and samples
//!   not after a series' last timestamp. A torn WAL tail is truncated; a bad
//!   record mid-WAL skips the rest of its segment; both are counted, never fatal.
//!
//! * **Exclusivity.** `open` takes an advisory lock on `<dir>/LOCK`; a second
//!   `Store` on the same directory gets [`StoreError::Locked`].
//!
//! Everything retained lives in memory (the disk copy is for durability, not
//! for paging), so memory use bounds the data set; `max_bytes` bounds both.
//! A snapshot is read whole into memory at open. Input limits are in [`limits`].

mod bitstream;
mod cardinality;
mod checkpoint;
mod chunk;
mod codec;
mod config;
mod error;
mod index;
mod logs;
mod private;
mod record;
mod report;
mod retention;
mod segment;
mod series;
mod spans;
mod store;
mod wal;

/// Documented input limits: an appended item breaking one is refused and
/// named in the append's report ([`Refusal::Invalid`]); the rest of its
/// batch is stored.
pub mod limits {
    pub use crate::config::{
        MAX_LABEL_BYTES, MAX_LABEL_PAIRS, MAX_LOG_LINE_BYTES, MAX_SPAN_PAYLOAD_BYTES,
    };
}

pub use cardinality::{SOURCE_LABEL, STREAM_SOURCE_LABEL, SeriesLimit, SeriesLimits, StreamLimits};
pub use config::StoreConfig;
pub use error::StoreError;
pub use report::{AppendReport, ItemsReport, MaintainReport, Refusal, Refused, StoreStats};
pub use store::Store;
