//! The collector's embedded durable store.
//!
//! Three kinds of data live here, each in its own module: metric series
//! (`Labels` + `Sample`s, compressed in memory, written ahead to a WAL),
//! log records (`LogEntry`, grouped by stream labels) and spans (`SpanEntry`,
//! opaque payloads indexed by trace id). The store knows no HTTP and no OTLP:
//! receivers translate wire formats into these plain types, and the query
//! layers read them back through `Store`'s methods.
//!
//! **Invariant:** every `append_*` call returns `Ok` only after its data is in
//! the WAL and fsynced, so an acknowledged write survives `kill -9`.

mod types;

pub use types::{Labels, LogEntry, MatchOp, Matcher, Sample, SeriesSamples, SpanEntry};
