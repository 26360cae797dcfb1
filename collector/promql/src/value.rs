//! Query results as the API returns them, and the engine's internal values.

use sextant_model::{Labels, Sample};

/// A finished query's value plus the warnings Prometheus would attach
/// (e.g. "input to histogram_quantile needed to be fixed for monotonicity").
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The result, in the shape the API's `resultType` names.
    pub value: Value,
    /// Non-fatal annotations, deduplicated, in the order first raised.
    pub warnings: Vec<String>,
    /// Info-level annotations (Prometheus 3's `infos`, e.g. "metric might
    /// not be a counter"), deduplicated, in the order first raised.
    pub infos: Vec<String>,
}

/// The four PromQL result types, mirroring the API's `resultType`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A single number at the evaluation time.
    Scalar {
        /// Evaluation time, ms.
        t: i64,
        /// The number.
        v: f64,
    },
    /// A string literal at the evaluation time.
    String {
        /// Evaluation time, ms.
        t: i64,
        /// The string.
        v: String,
    },
    /// An instant vector: one sample per series, stamped with the evaluation time.
    Vector(Vec<VectorSample>),
    /// A range vector or a range query's result: series sorted by labels.
    Matrix(Vec<RangeSeries>),
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    /// The series' labels after evaluation (often without `__name__`).
    pub labels: Labels,
    /// Evaluation time, ms.
    pub t: i64,
    /// The value; NaN and ±Inf are kept.
    pub v: f64,
}

/// One series of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// The series' labels.
    pub labels: Labels,
    /// Points in time order.
    pub samples: Vec<Sample>,
}

/// One element of an instant vector during evaluation. `ts` is the
/// timestamp of the underlying raw sample (what `timestamp()` reports) and
/// equals the evaluation time for computed values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Elem {
    pub labels: Labels,
    pub v: f64,
    pub ts: i64,
}

/// One series of a range vector during evaluation: the window's samples.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Window {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

/// A range vector plus where its window sits, which the rate functions need
/// for extrapolation: `(end - range, end]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RangeVec {
    pub series: Vec<Window>,
    pub end: i64,
    pub range: i64,
}

/// A value during evaluation at one instant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Scalar(f64),
    Str(String),
    Vector(Vec<Elem>),
    Matrix(RangeVec),
}

impl Val {
    /// The PromQL type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Scalar(_) => "scalar",
            Val::Str(_) => "string",
            Val::Vector(_) => "instant vector",
            Val::Matrix(_) => "range vector",
        }
    }
}

/// Formats a sample value as Prometheus's JSON API does
/// (`strconv.FormatFloat(v, 'f', -1, 64)`): shortest round-trip decimal
/// without exponent, `NaN`, `+Inf`, `-Inf`. Exists so the HTTP layer renders
/// values exactly like Prometheus.
pub fn format_sample_value(v: f64) -> String {
    crate::numeric::format_go(v)
}

pub(crate) use sextant_model::is_stale;
