//! The `*_over_time` family: one value per series from all samples in its
//! window, with the same numerics as the aggregation operators.

use promql_parser::parser::Expr;

use super::{arg, per_window};
use crate::error::QueryError;
use crate::eval::Evaluator;
use crate::numeric::{KahanSum, MeanAcc, VarAcc, quantile};
use crate::value::Val;
use sextant_store::Sample;

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
    let m = ev.eval_matrix(arg(args, 0)?, t)?;
    per_window(&m, keeps_name(name), t, |w| window_value(name, &w.samples))
}

/// Whether the function keeps the metric name: Prometheus keeps it only
/// where the value is a raw sample.
pub(crate) fn keeps_name(name: &str) -> bool {
    matches!(name, "last_over_time" | "first_over_time")
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
        _ => return None,
    })
}
