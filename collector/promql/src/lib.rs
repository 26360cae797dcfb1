//! Sextant's PromQL engine.
//!
//! Queries are parsed by our own parser (`parser/`: promql-parser's AST and
//! accepted language, Prometheus's error positions and messages) and
//! evaluated here with Prometheus 3 semantics for float samples (native
//! histograms are not stored, so the native-only functions answer empty
//! vectors). Storage is reached through
//! one narrow trait, [`Queryable`], declared here over the data model's types
//! (`sextant-model`), so the engine can be tested against an in-memory series
//! set and served from the collector's store alike; the crate does not know
//! the store (the collector implements the trait for it).
//!
//! Evaluation model: every selector in the expression is loaded for the
//! time ranges its steps need, then the expression is evaluated step by
//! step; a range query is its instant evaluation at each step, stitched into
//! a matrix. A range query loads and evaluates in time slices (the first 2 h,
//! later ones sized to about 2M samples from the previous slice's density),
//! so memory follows the slice rather than the whole range. Samples loaded
//! for the current slice and points held are counted against
//! [`EngineConfig::max_samples`] and the deadline is checked between steps.
//! The commonest dashboard shapes — a window function of a selector
//! (`rate(x[5m])`), and a plain aggregation of one or of a bare selector
//! (`sum by (job) (rate(x[5m]))`, `avg by (job) (x)`) — take a fast path
//! (`fastpath.rs`) that works out output labels and groups once per slice
//! and follows each series with a cursor instead of searching its samples
//! at every step, with identical answers.
//!
//! Selectors become store matchers in one place (`matchers.rs`): one
//! matcher set per `or` alternative, their series unioned. The HTTP layer's
//! `match[]` and Loki stream selectors go through the same conversion with
//! [`parse_selector`], so those endpoints accept and refuse what a query of
//! the same selector does.
//!
//! Annotations follow Prometheus 3: warnings (quantile and ratio out of
//! range, malformed `le`) and infos ("metric might not be a counter" for
//! `rate`/`increase`, histogram_quantile's forced monotonicity) in its
//! words, each ending with the `(line:col)` of the node it is about, which
//! the parser notes for every sub-expression (`parser/positions.rs`).
//!
//! Guards: expressions over 64 KiB, with more than 10,000 operators or
//! nesting deeper than 1,000 levels are refused as `bad_data`; range queries
//! over [`MAX_STEPS`] steps likewise. Parsing and evaluation of expressions
//! over 64 bytes run on a scoped thread with a 64 MiB (reserved, not
//! committed) stack (shorter ones cannot nest deep enough to need it), and a
//! panic becomes an execution error.
//!
//! Known differences from Prometheus: parse errors carry Prometheus's
//! `line:col: parse error:` position and, for the common errors, its exact
//! wording, but the language accepted is promql-parser's (a few Prometheus 3
//! forms such as expressions inside `[…]` are refused, and a few it refuses
//! are accepted, e.g. `ln(0)`; see `parser/tests.rs`), except where we
//! follow Prometheus over promql-parser (`info()`'s label selector; `\x` and
//! octal escapes as bytes, with strings that are then not UTF-8 refused,
//! where Prometheus keeps them); native histograms,
//! `fill` modifiers and the `anchored`/`smoothed` selector modifiers are
//! not supported (experimental functions that read floats — `info`,
//! `double_exponential_smoothing`, `mad_over_time`, `ts_of_*_over_time`,
//! `sort_by_label*`, `limitk`, `limit_ratio`, and the query-frame `start`,
//! `end`, `range`, `step`, `min_of`, `max_of` — are, always on; duration
//! arithmetic inside `[…]` and `offset`, where those mostly serve, is not,
//! nor are `start_timestamp` and promql-parser's own `integral` and
//! `histogram_quantiles`); the default
//! subquery step is a fixed 1m (Prometheus's default global evaluation
//! interval); calendar functions return NaN for non-finite inputs.

mod aggregate;
mod binary;
mod engine;
mod error;
mod eval;
mod fastpath;
mod functions;
mod guard;
mod labels;
mod matchers;
mod numeric;
mod parser;
mod selector;
mod subquery;
mod topk;
mod value;

#[cfg(test)]
mod aggregate_tests;
#[cfg(test)]
mod annotation_tests;
#[cfg(test)]
mod binary_tests;
#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod extra_tests;
#[cfg(test)]
mod fastpath_tests;
#[cfg(test)]
mod harness;
#[cfg(test)]
mod selector_tests;
#[cfg(test)]
mod subquery_tests;

pub use engine::{Engine, EngineConfig, MAX_STEPS};
pub use error::QueryError;
/// Series selectors as store matchers, shared by the evaluator and the
/// HTTP layer's `match[]` and stream selectors.
pub use matchers::{MAX_SELECTOR_BYTES, SelectorError, matcher_sets, parse_selector};
/// The PromQL parser: promql-parser's AST, Prometheus's error positions.
/// Public so the HTTP layer (`format_query`, `parse_query`, selectors)
/// parses exactly as the engine does and reports the same errors.
pub use parser::{ParseError, parse};
pub use value::{QueryResult, RangeSeries, Value, VectorSample, format_sample_value};

/// What the engine needs from storage. Kept this narrow so the store needs no
/// knowledge of PromQL and tests can substitute an in-memory implementation;
/// the collector implements it for its store where the two meet.
pub trait Queryable: Sync {
    /// Series matching all matchers with their samples in `[start_ms, end_ms]`
    /// (inclusive), sorted by labels.
    fn select(
        &self,
        matchers: &[sextant_model::Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<sextant_model::Series>;
}
