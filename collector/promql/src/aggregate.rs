//! Aggregation operators (`sum by (job) (…)` and friends), with
//! Prometheus's grouping rules and numerics: compensated sums, the
//! overflow-safe mean, population variance, interpolated quantiles, and
//! topk/bottomk ordering with NaN ranked last.

use std::collections::HashMap;
use std::hash::Hasher;

use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_LIMIT_RATIO, T_LIMITK, T_MAX, T_MIN,
    T_QUANTILE, T_STDDEV, T_STDVAR, T_SUM, T_TOPK,
};
use promql_parser::parser::{AggregateExpr, Expr, LabelModifier};
use sextant_model::Labels;

use crate::error::QueryError;
use crate::eval::Evaluator;
use crate::labels;
use crate::numeric::{KahanSum, MeanAcc, format_go, quantile, to_i64};
use crate::topk;
use crate::value::{Elem, Val};

/// A group's output label pairs, which also identify it.
type GroupKey = Vec<(String, String)>;

/// Evaluates an aggregation at `t`.
pub(crate) fn eval(ev: &mut Evaluator, a: &AggregateExpr, t: i64) -> Result<Val, QueryError> {
    let op = a.op.id();
    let (mut fparam, mut sparam) = (None, None);
    if let Some(p) = &a.param {
        if op == T_COUNT_VALUES {
            sparam = Some(ev.eval_string(p, t)?);
        } else {
            fparam = Some(ev.eval_scalar(p, t)?);
        }
    }
    if let (T_QUANTILE, Some(q), Some(p)) = (op, fparam, &a.param)
        && !(0.0..=1.0).contains(&q)
    {
        ev.warn_at(
            format!("PromQL warning: quantile value should be between 0 and 1, got {q}"),
            p,
        );
    }
    if let Some(out) = crate::fastpath::aggregate(ev, a, op, fparam, t)? {
        return Ok(Val::Vector(out));
    }
    let input = ev.eval_vector(&a.expr, t)?;
    let (on, names) = match &a.modifier {
        Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
        Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
        None => (true, Vec::new()),
    };
    // Groups in order of first appearance, each keyed by its output labels.
    let mut index: HashMap<GroupKey, usize> = HashMap::new();
    let mut groups: Vec<(GroupKey, Vec<Elem>)> = Vec::new();
    for e in input {
        let mut key = labels::signature(&e.labels, on, &names);
        // count_values sets the value label on each series, then groups:
        // `by` always keeps it, `without` removes it only if listed.
        if let Some(label) = &sparam {
            key.retain(|(k, _)| k != label);
            if on || !names.contains(label) {
                key.push((label.clone(), format_go(e.v)));
            }
        }
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(i) {
            g.1.push(e);
        }
    }
    let out = match op {
        T_TOPK | T_BOTTOMK | T_LIMITK => {
            let k = int_param(fparam)?;
            let mut out = Vec::new();
            let k = usize::try_from(k.max(0)).unwrap_or(usize::MAX);
            for (_, members) in groups {
                let chosen = if op == T_LIMITK {
                    members.into_iter().take(k).collect()
                } else {
                    topk::select(members, k, op == T_TOPK)
                };
                out.extend(chosen.into_iter().map(|e| Elem { ts: t, ..e }));
            }
            out
        }
        T_LIMIT_RATIO => {
            let r = ratio_param(ev, fparam, a.param.as_deref())?;
            groups
                .into_iter()
                .flat_map(|(_, m)| m)
                .filter(|e| ratio_selects(r, &e.labels))
                .map(|e| Elem { ts: t, ..e })
                .collect()
        }
        T_COUNT_VALUES => {
            let label = sparam.unwrap_or_default();
            if !labels::is_valid_name(&label) {
                return Err(QueryError::exec(format!("invalid label name {label}")));
            }
            groups
                .into_iter()
                .map(|(key, m)| Elem {
                    labels: Labels::from_pairs(key),
                    v: m.len() as f64,
                    ts: t,
                })
                .collect()
        }
        _ => {
            let mut out = Vec::with_capacity(groups.len());
            for (key, members) in groups {
                let values: Vec<f64> = members.iter().map(|e| e.v).collect();
                out.push(Elem {
                    labels: Labels::from_pairs(key),
                    v: reduce(op, values, fparam)?,
                    ts: t,
                });
            }
            out
        }
    };
    Ok(Val::Vector(out))
}

/// Reduces one group's values with a plain aggregation operator.
pub(crate) fn reduce(op: u16, mut values: Vec<f64>, param: Option<f64>) -> Result<f64, QueryError> {
    let first = values.first().copied().unwrap_or(f64::NAN);
    Ok(match op {
        T_SUM => {
            let mut s = KahanSum::default();
            values.iter().for_each(|v| s.add(*v));
            s.value()
        }
        T_AVG => {
            let mut m = MeanAcc::default();
            values.iter().for_each(|v| m.add(*v));
            m.value()
        }
        T_COUNT => values.len() as f64,
        T_GROUP => 1.0,
        // A NaN accumulator is replaced by any later value, as in Prometheus.
        T_MAX => values.iter().fold(
            first,
            |acc, &v| if acc < v || acc.is_nan() { v } else { acc },
        ),
        T_MIN => values.iter().fold(
            first,
            |acc, &v| if acc > v || acc.is_nan() { v } else { acc },
        ),
        T_STDDEV | T_STDVAR => {
            let (mut count, mut mean, mut m2) = (1.0, first, 0.0);
            for &f in values.iter().skip(1) {
                count += 1.0;
                let delta = f - mean;
                mean += delta / count;
                m2 += delta * (f - mean);
            }
            let var = m2 / count;
            if op == T_STDDEV { var.sqrt() } else { var }
        }
        T_QUANTILE => quantile(param.unwrap_or(f64::NAN), &mut values),
        _ => {
            return Err(QueryError::exec(format!(
                "unsupported aggregation operator {op}"
            )));
        }
    })
}

fn int_param(p: Option<f64>) -> Result<i64, QueryError> {
    let f = p.unwrap_or(f64::NAN);
    if f.is_nan() {
        return Err(QueryError::exec("Parameter value is NaN"));
    }
    to_i64(f).ok_or_else(|| {
        let dir = if f < 0.0 { "underflows" } else { "overflows" };
        QueryError::exec(format!("Scalar value {f} {dir} int64"))
    })
}

fn ratio_param(ev: &mut Evaluator, p: Option<f64>, at: Option<&Expr>) -> Result<f64, QueryError> {
    let r = p.unwrap_or(f64::NAN);
    if r.is_nan() {
        return Err(QueryError::exec("Ratio value is NaN"));
    }
    if let (false, Some(at)) = ((-1.0..=1.0).contains(&r), at) {
        ev.warn_at(
            format!(
                "PromQL warning: ratio value should be between -1 and 1, got {r}, capping to {}",
                r.clamp(-1.0, 1.0)
            ),
            at,
        );
    }
    Ok(r.clamp(-1.0, 1.0))
}

/// limit_ratio's deterministic per-series choice, Prometheus's
/// `HashRatioSampler`: a series' position in [0, 1] is the xxhash64 of its
/// labels (`Labels.Hash()`) over `u64::MAX`; `r >= 0` takes positions below
/// `r`, `r < 0` those at or above `1 + r`, so `limit_ratio(r, x)` and
/// `limit_ratio(-(1-r), x)` partition `x` and pick the series Prometheus picks.
fn ratio_selects(r: f64, l: &Labels) -> bool {
    let offset = labels_hash(l) as f64 / u64::MAX as f64;
    (r >= 0.0 && offset < r) || (r < 0.0 && offset >= 1.0 + r)
}

/// Prometheus's `Labels.Hash()`: xxhash64 (seed 0) of every
/// `name 0xff value 0xff` in label order.
pub(crate) fn labels_hash(l: &Labels) -> u64 {
    const SEP: u8 = 0xff;
    let mut h = twox_hash::XxHash64::with_seed(0);
    for (k, v) in l.pairs() {
        h.write(k.as_bytes());
        h.write(&[SEP]);
        h.write(v.as_bytes());
        h.write(&[SEP]);
    }
    h.finish()
}
