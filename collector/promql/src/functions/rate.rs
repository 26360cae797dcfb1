//! Counter and gauge rate functions over range vectors: `rate`, `increase`
//! and `delta` with Prometheus's extrapolation (`extrapolatedRate`),
//! `irate`/`idelta`, `deriv`/`predict_linear` (least squares), `resets`, `changes`.

use promql_parser::parser::Expr;

use super::{arg, per_window};
use crate::error::QueryError;
use crate::eval::Evaluator;
use crate::labels as lbl;
use crate::numeric::kahan_inc;
use crate::value::Val;
use sextant_model::Sample;

/// Dispatches the rate family.
pub(crate) fn call(
    ev: &mut Evaluator,
    name: &str,
    args: &[&Expr],
    t: i64,
) -> Result<Val, QueryError> {
    let range_arg = arg(args, 0)?;
    let m = ev.eval_matrix(range_arg, t)?;
    if matches!(name, "rate" | "increase") {
        let mut last = "";
        for w in &m.series {
            let metric = w.labels.get(lbl::NAME).unwrap_or("");
            if metric != last {
                if let Some(info) = not_a_counter(metric) {
                    ev.info_at(info, range_arg);
                }
                last = metric;
            }
        }
    }
    match name {
        "predict_linear" => {
            let secs = ev.eval_scalar(arg(args, 1)?, t)?;
            per_window(&m, false, t, |w| {
                (w.samples.len() >= 2).then(|| {
                    let (slope, intercept) = linear_regression(&w.samples, t);
                    intercept + slope * secs
                })
            })
        }
        _ if is_window_fn(name) => per_window(&m, false, t, |w| {
            window_value(name, &w.samples, m.end, m.range)
        }),
        _ => Err(QueryError::exec(format!("unknown function {name}"))),
    }
}

/// Prometheus's info for `rate`/`increase` over a series whose name does
/// not say it is a counter; `None` for counter-like or empty names.
pub(crate) fn not_a_counter(metric: &str) -> Option<String> {
    let counter_like = ["_total", "_sum", "_count", "_bucket"]
        .iter()
        .any(|suffix| metric.ends_with(suffix));
    (!metric.is_empty() && !counter_like).then(|| {
        format!(
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric:?}"
        )
    })
}

/// Whether `name` is a rate-family function of its window alone (every
/// one but `predict_linear`, which also takes a scalar).
pub(crate) fn is_window_fn(name: &str) -> bool {
    matches!(
        name,
        "rate" | "increase" | "delta" | "irate" | "idelta" | "deriv" | "resets" | "changes"
    )
}

/// One window's value for a function [`is_window_fn`] accepts, the window
/// being `(end - range, end]` with stale markers already removed; `None`
/// drops the series. Shared by the per-step path and the range fast path
/// so both compute identically.
pub(crate) fn window_value(name: &str, s: &[Sample], end: i64, range: i64) -> Option<f64> {
    match name {
        "rate" => extrapolated_rate(s, end, range, true, true),
        "increase" => extrapolated_rate(s, end, range, true, false),
        "delta" => extrapolated_rate(s, end, range, false, false),
        "irate" => instant_value(s, true),
        "idelta" => instant_value(s, false),
        "deriv" => {
            let first = s.first()?;
            (s.len() >= 2).then(|| linear_regression(s, first.t).0)
        }
        "resets" => Some(s.windows(2).filter(|p| p[1].v < p[0].v).count() as f64),
        "changes" => Some(
            s.windows(2)
                .filter(|p| !(p[1].v == p[0].v || (p[1].v.is_nan() && p[0].v.is_nan())))
                .count() as f64,
        ),
        _ => None,
    }
}

/// Prometheus's `extrapolatedRate`: the increase between the first and last
/// sample (corrected for counter resets), extrapolated to the window edges
/// when the samples reach within 110% of the average spacing of them, else
/// by half a spacing; a counter is never extrapolated below zero.
///
/// The zero-point limit applies to the start extrapolation as already
/// chosen (the gap, or half a spacing), as in Prometheus since 2.51.0
/// ("Constrain extrapolation in rate() to half of sample interval",
/// prometheus/prometheus#13725, commit 7f912db) and so in Prometheus 3.
/// Prometheus 2.42 limited the raw gap to the zero point first and then
/// tested that against the 110% threshold, so when a series starts inside
/// the window with its zero point between half a spacing and 110% of one
/// before its first sample, 2.42 extrapolated further (issue 8's
/// `histogram_quantile` disagreement; pinned in `rate_tests.rs`).
pub(crate) fn extrapolated_rate(
    s: &[Sample],
    end: i64,
    range: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let (first, last) = (s.first()?, s.last()?);
    let range_start = end.saturating_sub(range);
    let range_end = end;
    let mut result = last.v - first.v;
    if is_counter {
        let mut last_value = 0.0;
        for p in s {
            if p.v < last_value {
                result += last_value;
            }
            last_value = p.v;
        }
    }
    let mut duration_to_start = first.t.saturating_sub(range_start) as f64 / 1000.0;
    let mut duration_to_end = range_end.saturating_sub(last.t) as f64 / 1000.0;
    let sampled_interval = last.t.saturating_sub(first.t) as f64 / 1000.0;
    let avg_between = sampled_interval / (s.len() - 1) as f64;
    let threshold = avg_between * 1.1;
    if duration_to_start >= threshold {
        duration_to_start = avg_between / 2.0;
    }
    if is_counter && result > 0.0 && first.v >= 0.0 {
        let duration_to_zero = sampled_interval * (first.v / result);
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    if duration_to_end >= threshold {
        duration_to_end = avg_between / 2.0;
    }
    let mut factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    if is_rate {
        factor /= range as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate`/`idelta`: from the last two samples only; `irate` treats a drop
/// as a counter reset (the last value is the increase) and needs distinct
/// timestamps.
fn instant_value(s: &[Sample], is_rate: bool) -> Option<f64> {
    let n = s.len();
    if n < 2 {
        return None;
    }
    let (prev, last) = (s.get(n - 2)?, s.get(n - 1)?);
    let mut result = if is_rate && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    let interval = last.t.saturating_sub(prev.t);
    if interval == 0 {
        return None;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// Least-squares fit of value over time (seconds relative to
/// `intercept_t`), with compensated sums; a constant series has slope 0
/// (NaN when the constant is infinite), as Prometheus's `linearRegression`.
pub(crate) fn linear_regression(s: &[Sample], intercept_t: i64) -> (f64, f64) {
    let init_y = s.first().map_or(f64::NAN, |p| p.v);
    let mut const_y = true;
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    for (i, p) in s.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = p.t.saturating_sub(intercept_t) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(p.v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * p.v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}
