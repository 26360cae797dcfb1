//! PromQL functions, dispatched by name. Each family lives in its own
//! module; this one holds the dispatcher, the shared "apply per series"
//! helpers, and the small functions that fit nowhere else (`vector`,
//! `scalar`, `absent*`, `timestamp`).

mod histogram;
mod info;
#[cfg(test)]
mod info_tests;
mod labels;
mod math;
pub(crate) mod over_time;
pub(crate) mod rate;
mod time;

use promql_parser::parser::{Call, Expr};
use sextant_model::Labels;

use crate::error::QueryError;
use crate::eval::{Evaluator, check_unique};
use crate::labels as lbl;
use crate::numeric::{go_max, go_min};
use crate::value::{Elem, RangeVec, Val, Window};

/// Evaluates a function call at `t`.
pub(crate) fn call(ev: &mut Evaluator, c: &Call, t: i64) -> Result<Val, QueryError> {
    let args: Vec<&Expr> = c.args.args.iter().map(|a| a.as_ref()).collect();
    let name = c.func.name;
    match name {
        "time" => Ok(Val::Scalar(t as f64 / 1000.0)),
        "pi" => Ok(Val::Scalar(std::f64::consts::PI)),
        // Prometheus 3's query-frame functions (experimental, made for
        // duration expressions): the query's own start, end, span and step
        // in seconds, the same at every step and inside subqueries.
        "start" => Ok(Val::Scalar(ev.start as f64 / 1000.0)),
        "end" => Ok(Val::Scalar(ev.end as f64 / 1000.0)),
        "range" => Ok(Val::Scalar(ev.end.saturating_sub(ev.start) as f64 / 1000.0)),
        "step" => Ok(Val::Scalar(ev.interval as f64 / 1000.0)),
        "min_of" | "max_of" => {
            let a = ev.eval_scalar(arg(&args, 0)?, t)?;
            let b = ev.eval_scalar(arg(&args, 1)?, t)?;
            Ok(Val::Scalar(if name == "min_of" {
                go_min(a, b)
            } else {
                go_max(a, b)
            }))
        }
        "vector" => {
            let v = ev.eval_scalar(arg(&args, 0)?, t)?;
            Ok(Val::Vector(vec![Elem {
                labels: Labels::default(),
                v,
                ts: t,
            }]))
        }
        "scalar" => {
            let v = ev.eval_vector(arg(&args, 0)?, t)?;
            Ok(Val::Scalar(match v.as_slice() {
                [only] => only.v,
                _ => f64::NAN,
            }))
        }
        "timestamp" => timestamp(ev, arg(&args, 0)?, t),
        "absent" => {
            let a = arg(&args, 0)?;
            let v = ev.eval_vector(a, t)?;
            Ok(Val::Vector(absent_result(v.is_empty(), a, t)))
        }
        "absent_over_time" => {
            let a = arg(&args, 0)?;
            let m = ev.eval_matrix(a, t)?;
            Ok(Val::Vector(absent_result(m.series.is_empty(), a, t)))
        }
        // Native-histogram functions: this store holds floats only, and
        // Prometheus ignores float samples in them, so the result is empty.
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_fraction"
        | "histogram_stddev" | "histogram_stdvar" => {
            for a in &args {
                ev.eval(a, t)?;
            }
            Ok(Val::Vector(Vec::new()))
        }
        "info" => info::info(ev, c, &args, t),
        "histogram_quantile" => histogram::histogram_quantile(ev, &args, t),
        "label_replace" => labels::label_replace(ev, &args, t),
        "label_join" => labels::label_join(ev, &args, t),
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
            labels::sort(ev, name, &args, t)
        }
        "rate" | "increase" | "delta" | "irate" | "idelta" | "deriv" | "predict_linear"
        | "resets" | "changes" => {
            if let Some(out) = crate::fastpath::call(ev, c, t)? {
                return Ok(Val::Vector(out));
            }
            rate::call(ev, name, &args, t)
        }
        _ if over_time::is_family(name) => {
            if let Some(out) = crate::fastpath::call(ev, c, t)? {
                return Ok(Val::Vector(out));
            }
            over_time::call(ev, name, &args, t)
        }
        "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute"
        | "month" | "year" => time::call(ev, name, &args, t),
        _ => math::call(ev, name, &args, t),
    }
}

/// The `i`th argument, or an error (the parser checks arity, but the engine
/// must not trust that).
pub(crate) fn arg<'a>(args: &[&'a Expr], i: usize) -> Result<&'a Expr, QueryError> {
    args.get(i)
        .copied()
        .ok_or_else(|| QueryError::exec(format!("missing argument {}", i + 1)))
}

/// Applies `f` to each series of a range-vector argument; series for which
/// `f` answers `None` are dropped. Drops `__name__` unless `keep_name`.
pub(crate) fn per_window(
    m: &RangeVec,
    keep_name: bool,
    t: i64,
    mut f: impl FnMut(&Window) -> Option<f64>,
) -> Result<Val, QueryError> {
    let out: Vec<Elem> = m
        .series
        .iter()
        .filter_map(|w| {
            f(w).map(|v| Elem {
                labels: if keep_name {
                    w.labels.clone()
                } else {
                    lbl::drop_name(&w.labels)
                },
                v,
                ts: t,
            })
        })
        .collect();
    check_unique(out)
}

/// Applies `f` to every value of an instant vector, dropping `__name__`.
pub(crate) fn per_sample(v: Vec<Elem>, t: i64, f: impl Fn(f64) -> f64) -> Result<Val, QueryError> {
    let out: Vec<Elem> = v
        .into_iter()
        .map(|e| Elem {
            labels: lbl::drop_name(&e.labels),
            v: f(e.v),
            ts: t,
        })
        .collect();
    check_unique(out)
}

/// Strips parentheses, which do not change what an argument is.
pub(crate) fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// `timestamp(v)`: for a plain selector the raw samples' timestamps (what
/// Prometheus reports even with `offset`), otherwise the evaluation time.
fn timestamp(ev: &mut Evaluator, a: &Expr, t: i64) -> Result<Val, QueryError> {
    let raw = matches!(unparen(a), Expr::VectorSelector(_));
    let v = ev.eval_vector(a, t)?;
    let out: Vec<Elem> = v
        .into_iter()
        .map(|e| Elem {
            labels: lbl::drop_name(&e.labels),
            v: if raw { e.ts } else { t } as f64 / 1000.0,
            ts: t,
        })
        .collect();
    check_unique(out)
}

/// `absent`/`absent_over_time`: nothing when the input has series,
/// otherwise 1 labelled from the selector's equality matchers (a name
/// matched twice, or by anything but `=`, is left out).
fn absent_result(empty: bool, a: &Expr, t: i64) -> Vec<Elem> {
    if !empty {
        return Vec::new();
    }
    let vs = match unparen(a) {
        Expr::VectorSelector(vs) => Some(vs),
        Expr::MatrixSelector(ms) => Some(&ms.vs),
        _ => None,
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    if let Some(vs) = vs {
        for m in &vs.matchers.matchers {
            if m.name == lbl::NAME {
                continue;
            }
            let eq = matches!(m.op, promql_parser::label::MatchOp::Equal);
            pairs.retain(|(k, _)| k != &m.name);
            if eq && !seen.contains(&m.name) {
                pairs.push((m.name.clone(), m.value.clone()));
                seen.push(m.name.clone());
            }
        }
    }
    vec![Elem {
        labels: Labels::from_pairs(pairs),
        v: 1.0,
        ts: t,
    }]
}

#[cfg(test)]
mod misc_tests;
#[cfg(test)]
mod over_time_tests;
#[cfg(test)]
mod rate_tests;
