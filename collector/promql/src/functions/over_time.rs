//! The `*_over_time` family: one value per series from all samples in its
//! window, with the same numerics as the aggregation operators. Also the
//! `ts_of_*_over_time` functions (when in the window a value was seen) and
//! `double_exponential_smoothing`, which read a window the same way.

use promql_parser::parser::Expr;

use super::{arg, per_window};
use crate::error::QueryError;
use crate::eval::Evaluator;
use crate::numeric::{KahanSum, MeanAcc, VarAcc, quantile};
use crate::value::Val;
use sextant_model::Sample;

/// Dispatches the `*_over_time` family.
pub(crate) fn call(
    ev: &mut Evaluator,
    name: &str,
    args: &[&Expr],
    t: i64,
) -> Result<Val, QueryError> {
    if name == "quantile_over_time" {
        let q_arg = arg(args, 0)?;
        let q = ev.eval_scalar(q_arg, t)?;
        if !(0.0..=1.0).contains(&q) {
            ev.warn_at(
                format!("PromQL warning: quantile value should be between 0 and 1, got {q}"),
                q_arg,
            );
        }
        let m = ev.eval_matrix(arg(args, 1)?, t)?;
        return per_window(&m, false, t, |w| {
            let mut v: Vec<f64> = w.samples.iter().map(|p| p.v).collect();
            Some(quantile(q, &mut v))
        });
    }
    if name == "double_exponential_smoothing" {
        let m = ev.eval_matrix(arg(args, 0)?, t)?;
        let sf = ev.eval_scalar(arg(args, 1)?, t)?;
        let tf = ev.eval_scalar(arg(args, 2)?, t)?;
        // Prometheus checks the factors only when it has a window to smooth:
        // over no data a bad factor is no error.
        if m.series.iter().any(|w| !w.samples.is_empty()) {
            check_factor("smoothing", "sf", sf)?;
            check_factor("trend", "tf", tf)?;
        }
        return per_window(&m, false, t, |w| smooth(&w.samples, sf, tf));
    }
    let m = ev.eval_matrix(arg(args, 0)?, t)?;
    per_window(&m, keeps_name(name), t, |w| window_value(name, &w.samples))
}

/// Refuses a factor outside (0, 1) with Prometheus's message (Go's `%f`).
fn check_factor(what: &str, short: &str, f: f64) -> Result<(), QueryError> {
    if f > 0.0 && f < 1.0 {
        return Ok(());
    }
    let shown = if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{f:.6}")
    };
    Err(QueryError::exec(format!(
        "invalid {what} factor. Expected: 0 < {short} < 1, got: {shown}"
    )))
}

/// Holt's linear (double exponential) smoothing of a window, the value at its
/// last sample; `None` under two samples. The operations and their order
/// follow Prometheus's, so the float results agree to the bit.
fn smooth(samples: &[Sample], sf: f64, tf: f64) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let (mut s0, mut s1) = (0.0, samples[0].v);
    let mut b = samples[1].v - samples[0].v;
    for (i, p) in samples.iter().enumerate().skip(1) {
        let x = sf * p.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Some(s1)
}

/// The timestamp, in seconds, of the sample `better` prefers over all others
/// in the window; a NaN is always displaced, and ties go to the later sample.
fn ts_of_extreme(samples: &[Sample], better: fn(f64, f64) -> bool) -> Option<f64> {
    let mut best = samples.first()?;
    for p in samples {
        if better(p.v, best.v) || best.v.is_nan() {
            best = p;
        }
    }
    Some(seconds(best.t))
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Whether the function keeps the metric name: Prometheus keeps it only
/// where the value is a raw sample.
pub(crate) fn keeps_name(name: &str) -> bool {
    matches!(name, "last_over_time" | "first_over_time")
}

/// Whether [`call`] evaluates `name`: the window functions and the two that
/// also take scalars.
pub(crate) fn is_family(name: &str) -> bool {
    is_window_fn(name) || matches!(name, "quantile_over_time" | "double_exponential_smoothing")
}

/// Whether `name` is an `*_over_time` function of its window alone (every
/// one but `quantile_over_time`, which also takes a scalar).
pub(crate) fn is_window_fn(name: &str) -> bool {
    matches!(
        name,
        "avg_over_time"
            | "sum_over_time"
            | "count_over_time"
            | "min_over_time"
            | "max_over_time"
            | "stddev_over_time"
            | "stdvar_over_time"
            | "last_over_time"
            | "first_over_time"
            | "present_over_time"
            | "mad_over_time"
            | "ts_of_first_over_time"
            | "ts_of_last_over_time"
            | "ts_of_max_over_time"
            | "ts_of_min_over_time"
    )
}

/// One window's value (stale markers already removed); `None` drops the
/// series. Shared by the per-step path and the range fast path.
pub(crate) fn window_value(name: &str, samples: &[Sample]) -> Option<f64> {
    let vals = samples.iter().map(|p| p.v);
    let first = samples.first()?.v;
    Some(match name {
        "avg_over_time" => {
            let mut m = MeanAcc::default();
            vals.for_each(|v| m.add(v));
            m.value()
        }
        "sum_over_time" => {
            let mut s = KahanSum::default();
            vals.for_each(|v| s.add(v));
            s.value()
        }
        "count_over_time" => samples.len() as f64,
        "min_over_time" => vals.fold(first, |a, v| if v < a || a.is_nan() { v } else { a }),
        "max_over_time" => vals.fold(first, |a, v| if v > a || a.is_nan() { v } else { a }),
        "stddev_over_time" | "stdvar_over_time" => {
            let mut acc = VarAcc::default();
            vals.for_each(|v| acc.add(v));
            let var = acc.variance();
            if name == "stddev_over_time" {
                var.sqrt()
            } else {
                var
            }
        }
        "last_over_time" => samples.last()?.v,
        "first_over_time" => first,
        "present_over_time" => 1.0,
        "mad_over_time" => {
            let mut v: Vec<f64> = vals.collect();
            let median = quantile(0.5, &mut v);
            let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
            quantile(0.5, &mut dev)
        }
        "ts_of_first_over_time" => seconds(samples.first()?.t),
        "ts_of_last_over_time" => seconds(samples.last()?.t),
        "ts_of_max_over_time" => ts_of_extreme(samples, |v, best| v >= best)?,
        "ts_of_min_over_time" => ts_of_extreme(samples, |v, best| v <= best)?,
        _ => return None,
    })
}
