//! A faster evaluation of the commonest dashboard shape, a plain
//! aggregation over a window function of a selector
//! (`sum by (job) (rate(x[5m]))`), which a range query repeats at every step.
//!
//! The general path builds, per step, a window per series with cloned
//! labels, the function's output with `__name__` dropped (a rebuilt label
//! set), a duplicate check over all of them and a group key per element.
//! None of that depends on the step: which group a series falls in, its
//! output labels and whether they are unique are fixed by the loaded series.
//! So they are worked out once per query (an [`AggPlan`]) and each step only
//! cuts windows out of the sorted samples and reduces values per group,
//! calling the same window and reduce functions as the general path, in the
//! same order, so answers are identical.

use std::collections::HashMap;
use std::rc::Rc;

use promql_parser::parser::token::{
    T_AVG, T_COUNT, T_GROUP, T_MAX, T_MIN, T_QUANTILE, T_STDDEV, T_STDVAR, T_SUM,
};
use promql_parser::parser::{AggregateExpr, Expr, LabelModifier, MatrixSelector};
use sextant_store::{Labels, Sample, SeriesSamples};

use crate::aggregate::reduce;
use crate::error::QueryError;
use crate::eval::Evaluator;
use crate::functions::{over_time, rate, unparen};
use crate::labels as lbl;
use crate::selector::{duration_ms, ref_time};
use crate::value::{Elem, is_stale};

/// What one aggregation node needs at every step, computed once per query.
pub(crate) struct AggPlan {
    /// Group index per loaded series, in the selector's series order.
    group_of: Vec<usize>,
    /// Each group's output labels.
    groups: Vec<Labels>,
    /// Series holding stale markers, whose windows must be filtered.
    stale: Vec<bool>,
}

/// Evaluates `a` at `t` when it has the supported shape, else `None` (the
/// caller then takes the general path). `param` is the already evaluated
/// scalar parameter (`quantile`).
pub(crate) fn aggregate(
    ev: &mut Evaluator,
    a: &AggregateExpr,
    op: u16,
    param: Option<f64>,
    t: i64,
) -> Result<Option<Vec<Elem>>, QueryError> {
    // Operators reducing a group's values to one number; the others keep
    // or label individual elements.
    if !matches!(
        op,
        T_SUM | T_AVG | T_COUNT | T_GROUP | T_MAX | T_MIN | T_STDDEV | T_STDVAR | T_QUANTILE
    ) {
        return Ok(None);
    }
    let Some((name, ms)) = shape(&a.expr) else {
        return Ok(None);
    };
    let key = a as *const AggregateExpr as usize;
    let plan = match ev.agg_plans.get(&key) {
        Some(p) => p.clone(),
        None => {
            let p = plan(ev.series(&ms.vs), a, name).map(Rc::new);
            ev.agg_plans.insert(key, p.clone());
            p
        }
    };
    let Some(plan) = plan else {
        return Ok(None);
    };
    let ref_t = ref_time(&ms.vs.at, &ms.vs.offset, t, ev.start, ev.end);
    let range = duration_ms(&ms.range);
    let lo = ref_t.saturating_sub(range);
    let is_rate = rate::is_window_fn(name);
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); plan.groups.len()];
    // Groups in order of first appearance, as the general path orders them.
    let mut order: Vec<usize> = Vec::new();
    let mut held = 0usize;
    let mut scratch: Vec<Sample> = Vec::new();
    for (i, s) in ev.series(&ms.vs).iter().enumerate() {
        // The left-open window (lo, ref_t], as `selector::window` cuts it.
        let from = s.samples.partition_point(|p| p.t <= lo);
        let to = s.samples.partition_point(|p| p.t <= ref_t).max(from);
        let Some(raw) = s.samples.get(from..to) else {
            continue;
        };
        let w: &[Sample] = if plan.stale.get(i).copied().unwrap_or(true) {
            scratch.clear();
            scratch.extend(raw.iter().filter(|p| !is_stale(p.v)).copied());
            &scratch
        } else {
            raw
        };
        // Empty windows are dropped before the function sees them.
        if w.is_empty() {
            continue;
        }
        held = held.saturating_add(w.len());
        let v = if is_rate {
            rate::window_value(name, w, ref_t, range)
        } else {
            over_time::window_value(name, w)
        };
        let (Some(v), Some(&g)) = (v, plan.group_of.get(i)) else {
            continue;
        };
        if let Some(group) = values.get_mut(g) {
            if group.is_empty() {
                order.push(g);
            }
            group.push(v);
        }
    }
    // The windows count against the sample limit as the general path's do.
    ev.hold(held)?;
    let mut out = Vec::with_capacity(order.len());
    for g in order {
        let (Some(labels), Some(vals)) = (plan.groups.get(g), values.get_mut(g)) else {
            continue;
        };
        out.push(Elem {
            labels: labels.clone(),
            v: reduce(op, std::mem::take(vals), param)?,
            ts: t,
        });
    }
    Ok(Some(out))
}

/// The window function and its selector when `e` is `f(sel[range])` for a
/// function of the window alone.
fn shape(e: &Expr) -> Option<(&'static str, &MatrixSelector)> {
    let Expr::Call(c) = unparen(e) else {
        return None;
    };
    let name = c.func.name;
    if !(rate::is_window_fn(name) || over_time::is_window_fn(name)) {
        return None;
    }
    let [arg] = c.args.args.as_slice() else {
        return None;
    };
    match unparen(arg) {
        Expr::MatrixSelector(ms) => Some((name, ms)),
        _ => None,
    }
}

/// Groups the loaded series as the general path would group the function's
/// output; `None` when two outputs would share a label set, where the
/// general path must raise its error at the steps where both are present.
fn plan(series: &[SeriesSamples], a: &AggregateExpr, name: &str) -> Option<AggPlan> {
    let (on, names) = match &a.modifier {
        Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
        Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
        None => (true, Vec::new()),
    };
    let keep_name = over_time::is_window_fn(name) && over_time::keeps_name(name);
    let out: Vec<Labels> = series
        .iter()
        .map(|s| {
            if keep_name {
                s.labels.clone()
            } else {
                lbl::drop_name(&s.labels)
            }
        })
        .collect();
    if lbl::has_duplicates(out.iter()) {
        return None;
    }
    let mut index: HashMap<Vec<(String, String)>, usize> = HashMap::new();
    let mut groups = Vec::new();
    let group_of = out
        .iter()
        .map(|l| {
            let key = lbl::signature(l, on, &names);
            *index.entry(key).or_insert_with_key(|k| {
                groups.push(Labels::from_pairs(k.clone()));
                groups.len() - 1
            })
        })
        .collect();
    let stale = series
        .iter()
        .map(|s| s.samples.iter().any(|p| is_stale(p.v)))
        .collect();
    Some(AggPlan {
        group_of,
        groups,
        stale,
    })
}
