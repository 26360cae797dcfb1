//! Sextant's data model: the plain types every layer hands to the next.
//!
//! A series is [`Labels`] plus [`Sample`]s ([`Series`]); a log record is a
//! [`LogEntry`] in a stream; a span is a [`SpanEntry`] indexed by trace id;
//! selectors are lists of [`Matcher`]s. The adapters produce these, the
//! store keeps them, the query engines read them.
//!
//! **Invariant:** this crate is the bottom of the graph: it depends on no
//! other Sextant crate and knows no wire format (no OTLP, no Prometheus
//! protobuf, no HTTP), so everything can depend on it.

pub mod civil;
mod labels;
mod log;
mod matcher;
mod series;
mod span;

pub use labels::Labels;
pub use log::LogEntry;
pub use matcher::{MatchOp, Matcher};
pub use series::{STALE_NAN_BITS, Sample, Series, is_stale};
pub use span::SpanEntry;
