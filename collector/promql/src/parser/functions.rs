//! The functions promql-parser 0.11 knows, with the argument and return
//! types it gives them. promql-parser keeps its table private, and a
//! [`Call`](promql_parser::parser::Call) holds a whole [`Function`], so the
//! AST can only equal promql-parser's if every field here equals its own
//! (the oracle tests call every function to hold us to that).

use promql_parser::parser::Function;
use promql_parser::parser::value::ValueType;

/// Name, argument types (`V`ector, `S`calar, `M`atrix, s`T`ring), variadic
/// count (0 exact, n up to n optional, -1 any number), return type, and
/// whether Prometheus calls it experimental.
const TABLE: &[(&str, &str, i32, ValueType, bool)] = {
    use ValueType::*;
    &[
        ("abs", "V", 0, Vector, false),
        ("absent", "V", 0, Vector, false),
        ("absent_over_time", "M", 0, Vector, false),
        ("acos", "V", 0, Vector, false),
        ("acosh", "V", 0, Vector, false),
        ("asin", "V", 0, Vector, false),
        ("asinh", "V", 0, Vector, false),
        ("atan", "V", 0, Vector, false),
        ("atanh", "V", 0, Vector, false),
        ("avg_over_time", "M", 0, Vector, false),
        ("ceil", "V", 0, Vector, false),
        ("changes", "M", 0, Vector, false),
        ("clamp", "VSS", 0, Vector, false),
        ("clamp_max", "VS", 0, Vector, false),
        ("clamp_min", "VS", 0, Vector, false),
        ("cos", "V", 0, Vector, false),
        ("cosh", "V", 0, Vector, false),
        ("count_over_time", "M", 0, Vector, false),
        ("days_in_month", "V", 1, Vector, false),
        ("day_of_month", "V", 1, Vector, false),
        ("day_of_week", "V", 1, Vector, false),
        ("day_of_year", "V", 1, Vector, false),
        ("deg", "V", 0, Vector, false),
        ("delta", "M", 0, Vector, false),
        ("deriv", "M", 0, Vector, false),
        ("end", "", 0, Scalar, true),
        ("exp", "V", 0, Vector, false),
        ("first_over_time", "M", 0, Vector, false),
        ("floor", "V", 0, Vector, false),
        ("histogram_avg", "V", 0, Vector, false),
        ("histogram_count", "V", 0, Vector, false),
        ("histogram_fraction", "SSV", 0, Vector, false),
        ("histogram_quantile", "SV", 0, Vector, false),
        ("histogram_quantiles", "VTSS", 9, Vector, true),
        ("histogram_stddev", "V", 0, Vector, false),
        ("histogram_stdvar", "V", 0, Vector, false),
        ("histogram_sum", "V", 0, Vector, false),
        ("info", "VV", 1, Vector, true),
        ("double_exponential_smoothing", "MSS", 0, Vector, true),
        ("hour", "V", 1, Vector, false),
        ("idelta", "M", 0, Vector, false),
        ("increase", "M", 0, Vector, false),
        ("integral", "MS", 1, Vector, true),
        ("irate", "M", 0, Vector, false),
        ("label_replace", "VTTTT", 0, Vector, false),
        ("label_join", "VTTT", -1, Vector, false),
        ("max_of", "SS", 0, Scalar, true),
        ("last_over_time", "M", 0, Vector, false),
        ("min_of", "SS", 0, Scalar, true),
        ("ln", "V", 0, Vector, false),
        ("log10", "V", 0, Vector, false),
        ("log2", "V", 0, Vector, false),
        ("mad_over_time", "M", 0, Vector, true),
        ("max_over_time", "M", 0, Vector, false),
        ("min_over_time", "M", 0, Vector, false),
        ("ts_of_first_over_time", "M", 0, Vector, true),
        ("ts_of_last_over_time", "M", 0, Vector, true),
        ("ts_of_max_over_time", "M", 0, Vector, true),
        ("ts_of_min_over_time", "M", 0, Vector, true),
        ("minute", "V", 1, Vector, false),
        ("month", "V", 1, Vector, false),
        ("pi", "", 0, Scalar, false),
        ("range", "", 0, Scalar, true),
        ("predict_linear", "MS", 0, Vector, false),
        ("present_over_time", "M", 0, Vector, false),
        ("quantile_over_time", "SM", 0, Vector, false),
        ("rad", "V", 0, Vector, false),
        ("rate", "M", 0, Vector, false),
        ("resets", "M", 0, Vector, false),
        ("round", "VS", 1, Vector, false),
        ("scalar", "V", 0, Scalar, false),
        ("sgn", "V", 0, Vector, false),
        ("start", "", 0, Scalar, true),
        ("start_timestamp", "V", 0, Vector, true),
        ("step", "", 0, Scalar, true),
        ("sin", "V", 0, Vector, false),
        ("sinh", "V", 0, Vector, false),
        ("sort", "V", 0, Vector, false),
        ("sort_desc", "V", 0, Vector, false),
        ("sort_by_label", "VT", -1, Vector, true),
        ("sort_by_label_desc", "VT", -1, Vector, true),
        ("sqrt", "V", 0, Vector, false),
        ("stddev_over_time", "M", 0, Vector, false),
        ("stdvar_over_time", "M", 0, Vector, false),
        ("sum_over_time", "M", 0, Vector, false),
        ("tan", "V", 0, Vector, false),
        ("tanh", "V", 0, Vector, false),
        ("time", "", 0, Scalar, false),
        ("timestamp", "V", 0, Vector, false),
        ("vector", "S", 0, Vector, false),
        ("year", "V", 1, Vector, false),
    ]
};

/// The function named `name` (case-sensitive), if there is one.
pub(super) fn lookup(name: &str) -> Option<Function> {
    let &(name, args, variadic, ret, experimental) = TABLE.iter().find(|f| f.0 == name)?;
    let args = args
        .chars()
        .map(|c| match c {
            'S' => ValueType::Scalar,
            'M' => ValueType::Matrix,
            'T' => ValueType::String,
            _ => ValueType::Vector,
        })
        .collect();
    Some(Function::new(name, args, variadic, ret, experimental))
}

/// Every function name, for tests that call them all.
#[cfg(test)]
pub(super) fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|f| f.0)
}
