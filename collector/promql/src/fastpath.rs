//! A faster evaluation of the commonest dashboard shapes, which a range
//! query repeats at every step: a window function of a selector
//! (`rate(x[5m])`, `max_over_time(x[1h])`), and a plain aggregation of one
//! (`sum by (job) (rate(x[5m]))`) or of a bare selector (`avg by (job) (x)`).
//!
//! The general path builds, per step, a window per series with cloned
//! labels, the function's output with `__name__` dropped (a rebuilt label
//! set), a duplicate check over all of them and a group key per element.
//! None of that depends on the step: a series' output labels, whether they
//! are unique and which group they fall in are fixed by the loaded series.
//! So they are worked out once per load slice (a [`Plan`]) and each step only
//! cuts windows out of the sorted samples and computes values, calling the
//! same window and reduce functions as the general path, in the same order,
//! so answers are identical.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use promql_parser::parser::token::{
    T_AVG, T_COUNT, T_GROUP, T_MAX, T_MIN, T_QUANTILE, T_STDDEV, T_STDVAR, T_SUM,
};
use promql_parser::parser::{
    AggregateExpr, Call, Expr, LabelModifier, MatrixSelector, VectorSelector,
};
use sextant_model::{Labels, Sample, Series};

use crate::aggregate::reduce;
use crate::error::QueryError;
use crate::eval::Evaluator;
use crate::functions::{over_time, rate, unparen};
use crate::labels as lbl;
use crate::selector::{duration_ms, ref_time};
use crate::value::{Elem, is_stale};

/// What one fast-path node needs at every step, computed once per query
/// (per load slice, for a range query).
pub(crate) struct Plan {
    /// Output index per loaded series, in the selector's series order: its
    /// group for an aggregation, the series itself for a bare call.
    out_of: Vec<usize>,
    /// Each output's labels.
    outs: Vec<Labels>,
    /// Series holding stale markers, whose windows must be filtered.
    stale: Vec<bool>,
    /// Per series, whether `rate`/`increase` over it raises Prometheus's
    /// "might not be a counter" info (empty for other inputs).
    not_counter: Vec<bool>,
    /// Per series, where the previous step's window started and ended.
    /// Steps mostly move forward by a few samples, so seeking from here
    /// reads only the new samples instead of binary-searching the whole
    /// series, which for thousands of series was mostly cache misses.
    cursors: RefCell<Vec<(usize, usize)>>,
}

/// The per-series input a fast-path node reads.
#[derive(Clone, Copy)]
enum Input<'e> {
    /// `f(sel[range])` for a function of the window alone.
    /// The function, its selector, and the argument node (for annotations).
    Window(&'static str, &'e MatrixSelector, &'e Expr),
    /// A bare instant selector.
    Instant(&'e VectorSelector),
}

impl<'e> Input<'e> {
    fn of(e: &'e Expr) -> Option<Input<'e>> {
        match unparen(e) {
            Expr::Call(c) => window_shape(c).map(|(name, ms, arg)| Input::Window(name, ms, arg)),
            Expr::VectorSelector(vs) => Some(Input::Instant(vs)),
            _ => None,
        }
    }

    fn selector(self) -> &'e VectorSelector {
        match self {
            Input::Window(_, ms, _) => &ms.vs,
            Input::Instant(vs) => vs,
        }
    }

    /// Whether the input's values carry the series' `__name__` (a raw
    /// sample does; most functions drop it).
    fn keeps_name(self) -> bool {
        match self {
            Input::Window(name, _, _) => {
                over_time::is_window_fn(name) && over_time::keeps_name(name)
            }
            Input::Instant(_) => true,
        }
    }
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
    if !ev.fast_paths {
        return Ok(None);
    }
    // Operators reducing a group's values to one number; the others keep
    // or label individual elements.
    if !matches!(
        op,
        T_SUM | T_AVG | T_COUNT | T_GROUP | T_MAX | T_MIN | T_STDDEV | T_STDVAR | T_QUANTILE
    ) {
        return Ok(None);
    }
    let Some(input) = Input::of(&a.expr) else {
        return Ok(None);
    };
    let Some(plan) = plan_for(
        ev,
        a as *const AggregateExpr as usize,
        |series| group_plan(series, a, input.keeps_name()),
        input,
    ) else {
        return Ok(None);
    };
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); plan.outs.len()];
    // Groups in order of first appearance, as the general path orders them.
    let mut order: Vec<usize> = Vec::new();
    each_value(ev, input, &plan, t, |g, v, _| {
        if let Some(group) = values.get_mut(g) {
            if group.is_empty() {
                order.push(g);
            }
            group.push(v);
        }
    })?;
    let mut out = Vec::with_capacity(order.len());
    for g in order {
        let (Some(labels), Some(vals)) = (plan.outs.get(g), values.get_mut(g)) else {
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

/// Evaluates a bare window function of a selector (`max_over_time(x[1h])`)
/// at `t` when it has that shape, else `None`.
pub(crate) fn call(ev: &mut Evaluator, c: &Call, t: i64) -> Result<Option<Vec<Elem>>, QueryError> {
    if !ev.fast_paths {
        return Ok(None);
    }
    let Some((name, ms, arg)) = window_shape(c) else {
        return Ok(None);
    };
    let input = Input::Window(name, ms, arg);
    let Some(plan) = plan_for(
        ev,
        c as *const Call as usize,
        |series| series_plan(series, input.keeps_name()),
        input,
    ) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    each_value(ev, input, &plan, t, |i, v, ts| {
        if let Some(labels) = plan.outs.get(i) {
            out.push(Elem {
                labels: labels.clone(),
                v,
                ts,
            });
        }
    })?;
    Ok(Some(out))
}

/// The node's plan, made on first use and kept for the query's other steps.
fn plan_for(
    ev: &mut Evaluator,
    key: usize,
    make: impl FnOnce(&[Series]) -> Option<Plan>,
    input: Input<'_>,
) -> Option<Rc<Plan>> {
    if let Some(p) = ev.plans.get(&key) {
        return p.clone();
    }
    let series = ev.series(input.selector());
    let p = make(series).map(|mut p| {
        if let Input::Window("rate" | "increase", ms, _) = input {
            p.not_counter = match &ms.vs.name {
                // A selector naming its metric selects that name only: one
                // look instead of one per series.
                Some(name) if rate::not_a_counter(name).is_none() => Vec::new(),
                Some(_) => vec![true; series.len()],
                None => series
                    .iter()
                    .map(|s| rate::not_a_counter(s.labels.get(lbl::NAME).unwrap_or("")).is_some())
                    .collect(),
            };
        }
        Rc::new(p)
    });
    ev.plans.insert(key, p.clone());
    p
}

/// Calls `f(output index, value, timestamp)` for every series with a value
/// at `t`, in series order, as the general path would produce them.
fn each_value(
    ev: &mut Evaluator,
    input: Input<'_>,
    plan: &Plan,
    t: i64,
    mut f: impl FnMut(usize, f64, i64),
) -> Result<(), QueryError> {
    let vs = input.selector();
    let ref_t = ref_time(&vs.at, &vs.offset, t, ev.start, ev.end);
    match input {
        Input::Instant(_) => {
            // The latest sample in (ref_t - lookback, ref_t], unless stale,
            // as `selector::instant` picks it.
            let lo = ref_t.saturating_sub(ev.lookback);
            let mut cursors = plan.cursors.borrow_mut();
            for (i, s) in ev.series(vs).iter().enumerate() {
                let Some(cur) = cursors.get_mut(i) else {
                    continue;
                };
                let idx = seek(&s.samples, cur.1, ref_t);
                cur.1 = idx;
                let Some(p) = idx.checked_sub(1).and_then(|k| s.samples.get(k)) else {
                    continue;
                };
                if p.t > lo
                    && !is_stale(p.v)
                    && let Some(&o) = plan.out_of.get(i)
                {
                    f(o, p.v, p.t);
                }
            }
            Ok(())
        }
        Input::Window(name, ms, arg) => {
            let range = duration_ms(&ms.range);
            // Series to raise "might not be a counter" for at this step.
            let mut not_counter: Vec<usize> = Vec::new();
            let lo = ref_t.saturating_sub(range);
            let is_rate = rate::is_window_fn(name);
            let mut held = 0usize;
            let mut scratch: Vec<Sample> = Vec::new();
            let mut cursors = plan.cursors.borrow_mut();
            for (i, s) in ev.series(vs).iter().enumerate() {
                let Some(cur) = cursors.get_mut(i) else {
                    continue;
                };
                // The left-open window (lo, ref_t], as `selector::window` cuts it.
                let from = seek(&s.samples, cur.0, lo);
                let to = seek(&s.samples, cur.1.max(from), ref_t);
                *cur = (from, to);
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
                if plan.not_counter.get(i).copied().unwrap_or(false) {
                    not_counter.push(i);
                }
                let v = if is_rate {
                    rate::window_value(name, w, ref_t, range)
                } else {
                    over_time::window_value(name, w)
                };
                if let (Some(v), Some(&o)) = (v, plan.out_of.get(i)) {
                    f(o, v, t);
                }
            }
            drop(cursors);
            let mut last = "";
            let names: Vec<String> = not_counter
                .iter()
                .filter_map(|&i| ev.series(vs).get(i)?.labels.get(lbl::NAME))
                .filter(|n| std::mem::replace(&mut last, n) != *n)
                .map(str::to_string)
                .collect();
            for n in names {
                if let Some(info) = rate::not_a_counter(&n) {
                    ev.info_at(info, arg);
                }
            }
            // The windows count against the sample limit as the general path's do.
            ev.hold(held)
        }
    }
}

/// The number of samples at or before `bound` (`partition_point(t <= bound)`),
/// searched from `hint`, the answer for a nearby earlier bound: a few steps
/// forward are scanned, anything further or backwards is binary-searched.
fn seek(s: &[Sample], hint: usize, bound: i64) -> usize {
    let hint = hint.min(s.len());
    if hint > 0 && s.get(hint - 1).is_some_and(|p| p.t > bound) {
        return s
            .get(..hint)
            .map_or(0, |head| head.partition_point(|p| p.t <= bound));
    }
    let mut i = hint;
    for _ in 0..8 {
        match s.get(i) {
            Some(p) if p.t <= bound => i += 1,
            _ => return i,
        }
    }
    i + s
        .get(i..)
        .map_or(0, |tail| tail.partition_point(|p| p.t <= bound))
}

/// The window function and its selector when `c` is `f(sel[range])` for a
/// function of the window alone.
fn window_shape(c: &Call) -> Option<(&'static str, &MatrixSelector, &Expr)> {
    let name = c.func.name;
    if !(rate::is_window_fn(name) || over_time::is_window_fn(name)) {
        return None;
    }
    let [arg] = c.args.args.as_slice() else {
        return None;
    };
    match unparen(arg) {
        Expr::MatrixSelector(ms) => Some((name, ms, arg)),
        _ => None,
    }
}

/// Each series' output labels; `None` when two would share a label set,
/// where the general path must raise its error at the steps where both are
/// present.
fn output_labels(series: &[Series], keep_name: bool) -> Option<Vec<Labels>> {
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
    (!lbl::has_duplicates(out.iter())).then_some(out)
}

fn stale_flags(series: &[Series]) -> Vec<bool> {
    series
        .iter()
        .map(|s| s.samples.iter().any(|p| is_stale(p.v)))
        .collect()
}

/// A bare call's plan: one output per series.
fn series_plan(series: &[Series], keep_name: bool) -> Option<Plan> {
    let outs = output_labels(series, keep_name)?;
    Some(Plan {
        out_of: (0..outs.len()).collect(),
        outs,
        stale: stale_flags(series),
        not_counter: Vec::new(),
        cursors: RefCell::new(vec![(0, 0); series.len()]),
    })
}

/// Groups the loaded series as the general path would group the input's
/// output.
fn group_plan(series: &[Series], a: &AggregateExpr, keep_name: bool) -> Option<Plan> {
    let (on, names) = match &a.modifier {
        Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
        Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
        None => (true, Vec::new()),
    };
    let out = output_labels(series, keep_name)?;
    let mut index: HashMap<Vec<(String, String)>, usize> = HashMap::new();
    let mut outs = Vec::new();
    let out_of = out
        .iter()
        .map(|l| {
            let key = lbl::signature(l, on, &names);
            *index.entry(key).or_insert_with_key(|k| {
                outs.push(Labels::from_pairs(k.clone()));
                outs.len() - 1
            })
        })
        .collect();
    Some(Plan {
        out_of,
        outs,
        stale: stale_flags(series),
        not_counter: Vec::new(),
        cursors: RefCell::new(vec![(0, 0); series.len()]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seek_agrees_with_a_full_search_from_any_hint() {
        let s: Vec<Sample> = (0..40).map(|i| Sample { t: i * 10, v: 0.0 }).collect();
        for bound in [-5, 0, 5, 10, 95, 200, 385, 390, 391, 1000] {
            let want = s.partition_point(|p| p.t <= bound);
            for hint in [0, 1, 3, 12, 20, 39, 40, 99] {
                assert_eq!(seek(&s, hint, bound), want, "bound {bound} hint {hint}");
            }
        }
        assert_eq!(seek(&[], 3, 10), 0);
    }
}
