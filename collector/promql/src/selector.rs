//! Selectors: working out which time range each selector needs over the
//! whole query, loading it once (through [`crate::matchers`], the one
//! conversion to store matchers), and cutting instant samples (lookback) and
//! range windows out of what was loaded.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use promql_parser::label::Matchers;
use promql_parser::parser::{AtModifier, Call, Expr, Offset, VectorSelector};
use sextant_model::{Labels, Sample, Series};

use crate::error::QueryError;
use crate::value::{Elem, Window, is_stale};

/// A `Duration` in milliseconds, saturating (durations come from user input).
pub(crate) fn duration_ms(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An `offset` in signed milliseconds.
pub(crate) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => duration_ms(d),
        Some(Offset::Neg(d)) => duration_ms(d).saturating_neg(),
    }
}

/// The time an `@` modifier pins evaluation to, if any; `start()`/`end()`
/// refer to the query's range (both are the evaluation time for instant queries).
pub(crate) fn at_ms(at: &Option<AtModifier>, start: i64, end: i64) -> Option<i64> {
    match at {
        None => None,
        Some(AtModifier::Start) => Some(start),
        Some(AtModifier::End) => Some(end),
        Some(AtModifier::At(st)) => Some(match st.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => duration_ms(&d),
            Err(e) => duration_ms(&e.duration()).saturating_neg(),
        }),
    }
}

/// The reference time a selector or subquery reads at when evaluated at `t`:
/// the `@` time (or `t`), minus the offset.
pub(crate) fn ref_time(
    at: &Option<AtModifier>,
    offset: &Option<Offset>,
    t: i64,
    start: i64,
    end: i64,
) -> i64 {
    at_ms(at, start, end)
        .unwrap_or(t)
        .saturating_sub(offset_ms(offset))
}

/// A map key identifying one selector node of the parsed expression.
pub(crate) fn key(vs: &VectorSelector) -> usize {
    vs as *const VectorSelector as usize
}

/// The map key of the info series an `info()` call reads: the call node's
/// address, which no selector node shares.
pub(crate) fn info_key(c: &Call) -> usize {
    c as *const Call as usize
}

/// The info metric Prometheus joins when the selector names none.
pub(crate) const TARGET_INFO: &str = "target_info";

/// The selector for the info series of `info(v, {sel})`: the label selector
/// as written, and `target_info` unless it matches `__name__` itself.
/// `None` when the second argument is not a selector (the call then fails).
pub(crate) fn info_selector(c: &Call) -> Option<VectorSelector> {
    let mut vs = match c.args.args.get(1).map(|a| crate::functions::unparen(a)) {
        Some(Expr::VectorSelector(vs)) => vs.clone(),
        Some(_) => return None,
        None => VectorSelector::new(None, Matchers::empty()),
    };
    let names_metric = vs.name.is_some()
        || vs
            .matchers
            .matchers
            .iter()
            .chain(vs.matchers.or_matchers.iter().flatten())
            .any(|m| m.name == "__name__");
    if !names_metric {
        vs.name = Some(TARGET_INFO.to_string());
    }
    (vs.offset, vs.at) = (None, None);
    Some(vs)
}

/// The time range every selector needs for a query evaluated at steps in
/// `[start, end]`, keyed by [`key`] (or [`info_key`] for the series an
/// `info()` call joins): Prometheus's `FindMinMaxTime`, per node.
pub(crate) fn needed_ranges<'e>(
    expr: &'e Expr,
    start: i64,
    end: i64,
    lookback: i64,
    query: (i64, i64),
    out: &mut HashMap<usize, (Cow<'e, VectorSelector>, i64, i64)>,
) {
    let mut note = |k: usize, vs: Cow<'e, VectorSelector>, back: i64| {
        let at = at_ms(&vs.at, query.0, query.1);
        let (s, e) = at.map_or((start, end), |a| (a, a));
        let off = offset_ms(&vs.offset);
        let lo = s.saturating_sub(off).saturating_sub(back);
        let hi = e.saturating_sub(off);
        let entry = out.entry(k).or_insert((vs, lo, hi));
        entry.1 = entry.1.min(lo);
        entry.2 = entry.2.max(hi);
    };
    match expr {
        Expr::VectorSelector(vs) => note(key(vs), Cow::Borrowed(vs), lookback),
        Expr::MatrixSelector(ms) => {
            note(key(&ms.vs), Cow::Borrowed(&ms.vs), duration_ms(&ms.range))
        }
        // info()'s second argument is a label selector for the info
        // series, not an input: load those series instead.
        Expr::Call(c) if c.func.name == "info" => {
            if let Some(vs) = info_selector(c) {
                note(info_key(c), Cow::Owned(vs), lookback);
            }
            if let Some(a) = c.args.args.first() {
                needed_ranges(a, start, end, lookback, query, out);
            }
        }
        Expr::Subquery(sq) => {
            let at = at_ms(&sq.at, query.0, query.1);
            let (s, e) = at.map_or((start, end), |a| (a, a));
            let off = offset_ms(&sq.offset);
            let lo = s.saturating_sub(off).saturating_sub(duration_ms(&sq.range));
            needed_ranges(&sq.expr, lo, e.saturating_sub(off), lookback, query, out);
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                needed_ranges(p, start, end, lookback, query, out);
            }
            needed_ranges(&a.expr, start, end, lookback, query, out);
        }
        Expr::Unary(u) => needed_ranges(&u.expr, start, end, lookback, query, out),
        Expr::Paren(p) => needed_ranges(&p.expr, start, end, lookback, query, out),
        Expr::Binary(b) => {
            needed_ranges(&b.lhs, start, end, lookback, query, out);
            needed_ranges(&b.rhs, start, end, lookback, query, out);
        }
        Expr::Call(c) => {
            for a in &c.args.args {
                needed_ranges(a, start, end, lookback, query, out);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// Loads one selector's series over `[lo, hi]`, merging `or` alternatives.
pub(crate) fn load(
    q: &dyn crate::Queryable,
    vs: &VectorSelector,
    lo: i64,
    hi: i64,
) -> Result<Vec<Series>, QueryError> {
    let sets = crate::matchers::matcher_sets(vs)?;
    if sets.len() == 1 {
        return Ok(sets
            .first()
            .map(|m| q.select(m, lo, hi))
            .unwrap_or_default());
    }
    let mut merged: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
    for m in &sets {
        for s in q.select(m, lo, hi) {
            merged.entry(s.labels).or_insert(s.samples);
        }
    }
    Ok(merged
        .into_iter()
        .map(|(labels, samples)| Series { labels, samples })
        .collect())
}

/// The instant vector at `ref_t`: per series the latest sample in
/// `(ref_t - lookback, ref_t]`, unless that sample is a stale marker.
/// `ts` keeps the sample's own timestamp for `timestamp()`.
pub(crate) fn instant(series: &[Series], ref_t: i64, lookback: i64) -> Vec<Elem> {
    let lo = ref_t.saturating_sub(lookback);
    series
        .iter()
        .filter_map(|s| {
            let idx = s.samples.partition_point(|p| p.t <= ref_t);
            let p = s.samples.get(idx.checked_sub(1)?)?;
            (p.t > lo && !is_stale(p.v)).then(|| Elem {
                labels: s.labels.clone(),
                v: p.v,
                ts: p.t,
            })
        })
        .collect()
}

/// The range vector at `ref_t`: per series the samples in the left-open
/// window `(ref_t - range, ref_t]`, stale markers removed; empty windows dropped.
pub(crate) fn window(series: &[Series], ref_t: i64, range: i64) -> Vec<Window> {
    let lo = ref_t.saturating_sub(range);
    series
        .iter()
        .filter_map(|s| {
            let a = s.samples.partition_point(|p| p.t <= lo);
            let b = s.samples.partition_point(|p| p.t <= ref_t);
            let samples: Vec<Sample> = s
                .samples
                .get(a..b.max(a))?
                .iter()
                .filter(|p| !is_stale(p.v))
                .copied()
                .collect();
            (!samples.is_empty()).then(|| Window {
                labels: s.labels.clone(),
                samples,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::STALE_NAN_BITS;

    fn series(points: &[(i64, f64)]) -> Vec<Series> {
        vec![Series {
            labels: Labels::from_pairs(vec![("__name__".into(), "m".into())]),
            samples: points.iter().map(|&(t, v)| Sample { t, v }).collect(),
        }]
    }

    #[test]
    fn range_window_is_left_open() {
        let s = series(&[(0, 0.0), (60_000, 1.0), (120_000, 2.0)]);
        // (60s, 120s]: the sample exactly at the left edge is excluded.
        let w = window(&s, 120_000, 60_000);
        assert_eq!(w[0].samples, vec![Sample { t: 120_000, v: 2.0 }]);
        // (59.999s, 119.999s]: now the 60s sample is in and 120s is out.
        let w = window(&s, 119_999, 60_000);
        assert_eq!(w[0].samples, vec![Sample { t: 60_000, v: 1.0 }]);
        // (0, 60s]: right edge inclusive, left edge exclusive.
        let w = window(&s, 60_000, 60_000);
        assert_eq!(w[0].samples.len(), 1);
        assert!(window(&s, -1, 1).is_empty());
    }

    #[test]
    fn lookback_is_left_open() {
        let s = series(&[(0, 5.0)]);
        assert_eq!(instant(&s, 299_999, 300_000).len(), 1);
        assert!(instant(&s, 300_000, 300_000).is_empty());
        assert!(instant(&s, -1, 300_000).is_empty());
        assert_eq!(instant(&s, 0, 300_000)[0].ts, 0);
    }

    #[test]
    fn stale_marker_ends_series() {
        let s = series(&[
            (0, 5.0),
            (10_000, f64::from_bits(STALE_NAN_BITS)),
            (20_000, 7.0),
        ]);
        assert_eq!(instant(&s, 5_000, 300_000)[0].v, 5.0);
        assert!(instant(&s, 15_000, 300_000).is_empty());
        assert_eq!(instant(&s, 20_000, 300_000)[0].v, 7.0);
        assert_eq!(window(&s, 20_000, 60_000)[0].samples.len(), 2);
    }
}
