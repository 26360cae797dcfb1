//! Subqueries `expr[range:step]`: the inner expression evaluated at
//! absolutely aligned steps inside the left-open window, as a range vector.

use std::collections::{BTreeMap, VecDeque};

use promql_parser::parser::SubqueryExpr;
use sextant_model::{Labels, Sample};

use crate::error::QueryError;
use crate::eval::{DEFAULT_SUBQUERY_STEP_MS, Evaluator};
use crate::selector::{duration_ms, ref_time};
use crate::value::{RangeVec, Val, Window};

/// Evaluates a subquery at `t`. Inner steps are multiples of the step (so
/// they line up across outer steps and queries) strictly after
/// `ref - range` and up to `ref`, where `ref` is `t` (or the `@` time) minus
/// the offset — Prometheus's alignment `step * ((ref - range) / step)`, then
/// one step more when that is not after the window start.
pub(crate) fn eval(ev: &mut Evaluator, sq: &SubqueryExpr, t: i64) -> Result<Val, QueryError> {
    let end = ref_time(&sq.at, &sq.offset, t, ev.start, ev.end);
    let range = duration_ms(&sq.range);
    let step = sq
        .step
        .as_ref()
        .map(duration_ms)
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_SUBQUERY_STEP_MS);
    let lo = end.saturating_sub(range);
    // Go's integer division truncates toward zero, like Rust's.
    let mut first = step.saturating_mul(lo / step);
    if first <= lo {
        first = first.saturating_add(step);
    }
    // Refuse step counts no query could hold before looping over them.
    let steps = (end.saturating_sub(first) / step).saturating_add(1);
    if usize::try_from(steps).unwrap_or(usize::MAX) > ev.max_samples() {
        return Err(QueryError::TooManySamples(ev.max_samples()));
    }
    // The inner results are kept per subquery node across outer steps: with
    // absolute alignment consecutive outer steps share most inner steps, so
    // each is evaluated once per query instead of once per outer step.
    let key = sq as *const SubqueryExpr as usize;
    let mut cache = ev.take_subquery_cache(key);
    let result = cache.advance(ev, sq, first, end, step);
    let series = result.map(|()| cache.window(end));
    ev.put_subquery_cache(key, cache);
    Ok(Val::Matrix(RangeVec {
        series: series?,
        end,
        range,
    }))
}

/// A subquery's inner points for its current window, maintained as outer
/// steps move forward: old steps are dropped from the front, new steps
/// evaluated and appended; moving backwards (a nested subquery restarting)
/// starts over.
#[derive(Default)]
pub(crate) struct SubqueryCache {
    series: BTreeMap<Labels, VecDeque<Sample>>,
    /// First and last step held, if any.
    span: Option<(i64, i64)>,
}

impl SubqueryCache {
    /// Makes the cache hold exactly the steps `first, first+step, …` up to `end`.
    fn advance(
        &mut self,
        ev: &mut Evaluator,
        sq: &SubqueryExpr,
        first: i64,
        end: i64,
        step: i64,
    ) -> Result<(), QueryError> {
        let mut next = first;
        match self.span {
            Some((held_first, held_last)) if held_first <= first && held_last <= end => {
                for points in self.series.values_mut() {
                    while points.front().is_some_and(|p| p.t < first) {
                        points.pop_front();
                    }
                }
                self.series.retain(|_, points| !points.is_empty());
                if held_last >= first {
                    next = held_last.saturating_add(step);
                }
            }
            _ => self.series.clear(),
        }
        self.span = None;
        let base = ev.step_held();
        let mut held: usize = self.series.values().map(VecDeque::len).sum();
        let mut last = next.saturating_sub(step);
        while next <= end {
            ev.check_deadline()?;
            let points = inner_step(ev, sq, next)?;
            // Inner evaluations' windows are freed after each inner step;
            // only the collected points stay held.
            held = held.saturating_add(points.len());
            ev.set_step_held(base.saturating_add(held));
            ev.check_samples()?;
            for (labels, v) in points {
                self.series
                    .entry(labels)
                    .or_default()
                    .push_back(Sample { t: next, v });
            }
            last = next;
            match next.checked_add(step) {
                Some(n) => next = n,
                None => break,
            }
        }
        self.span = Some((first, last.max(first.saturating_sub(step))));
        Ok(())
    }

    /// The held points as range-vector windows, up to `end`.
    fn window(&self, end: i64) -> Vec<Window> {
        self.series
            .iter()
            .filter_map(|(labels, points)| {
                let samples: Vec<Sample> = points.iter().filter(|p| p.t <= end).copied().collect();
                (!samples.is_empty()).then(|| Window {
                    labels: labels.clone(),
                    samples,
                })
            })
            .collect()
    }
}

/// One inner step's result: (labels, value) pairs; a scalar has empty labels.
type StepPoints = Vec<(Labels, f64)>;

/// The inner expression's points at one step.
fn inner_step(ev: &mut Evaluator, sq: &SubqueryExpr, ts: i64) -> Result<StepPoints, QueryError> {
    match ev.eval(&sq.expr, ts)? {
        Val::Scalar(v) => Ok(vec![(Labels::default(), v)]),
        Val::Vector(v) => Ok(v.into_iter().map(|e| (e.labels, e.v)).collect()),
        other => Err(QueryError::exec(format!(
            "subquery is only allowed on instant vector or scalar, got {}",
            other.type_name()
        ))),
    }
}
