//! `histogram_quantile` over classic histograms: series grouped by all
//! labels except `le`, buckets sorted and coalesced, monotonicity forced,
//! then Prometheus's `BucketQuantile` interpolation.

use std::collections::HashMap;

use promql_parser::parser::Expr;
use sextant_model::Labels;

use super::arg;
use crate::error::QueryError;
use crate::eval::{Evaluator, check_unique};
use crate::labels as lbl;
use crate::value::{Elem, Val};

/// Relative tolerance below which bucket-count differences are treated as
/// float noise (Prometheus's `smallDeltaTolerance`).
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// One classic bucket: upper bound and cumulative count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Bucket {
    pub upper: f64,
    pub count: f64,
}

/// `histogram_quantile(q, buckets)` at `t`.
pub(crate) fn histogram_quantile(
    ev: &mut Evaluator,
    args: &[&Expr],
    t: i64,
) -> Result<Val, QueryError> {
    let (q_arg, buckets_arg) = (arg(args, 0)?, arg(args, 1)?);
    let q = ev.eval_scalar(q_arg, t)?;
    let v = ev.eval_vector(buckets_arg, t)?;
    if !(0.0..=1.0).contains(&q) {
        ev.warn_at(
            format!("PromQL warning: quantile value should be between 0 and 1, got {q}"),
            q_arg,
        );
    }
    let mut index: HashMap<Labels, usize> = HashMap::new();
    // Per group: output labels, the metric name for annotations, buckets.
    let mut groups: Vec<(Labels, String, Vec<Bucket>)> = Vec::new();
    for e in v {
        let Some(upper) = e
            .labels
            .get("le")
            .and_then(|s| s.trim().parse::<f64>().ok())
        else {
            ev.warn_at(
                format!(
                    "PromQL warning: bucket label \"le\" is missing or has a malformed value of {:?} for metric name {:?}",
                    e.labels.get("le").unwrap_or(""),
                    e.labels.get(lbl::NAME).unwrap_or("")
                ),
                buckets_arg,
            );
            continue;
        };
        let key = lbl::without(&e.labels, &["le"]);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            let name = key.get(lbl::NAME).unwrap_or("").to_string();
            groups.push((lbl::without(&key, &[lbl::NAME]), name, Vec::new()));
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(i) {
            g.2.push(Bucket { upper, count: e.v });
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (labels, name, mut buckets) in groups {
        let (v, forced) = bucket_quantile(q, &mut buckets);
        if forced {
            ev.info_at(
                format!(
                    "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {name:?}"
                ),
                buckets_arg,
            );
        }
        out.push(Elem { labels, v, ts: t });
    }
    check_unique(out)
}

/// Prometheus's `BucketQuantile`; also says whether monotonicity had to be forced.
pub(crate) fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    buckets.sort_by(|a, b| {
        a.upper
            .partial_cmp(&b.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if buckets.last().is_none_or(|b| b.upper != f64::INFINITY) {
        return (f64::NAN, false);
    }
    coalesce(buckets);
    let forced = ensure_monotonic(buckets);
    let n = buckets.len();
    if n < 2 {
        return (f64::NAN, forced);
    }
    let observations = buckets[n - 1].count;
    if observations == 0.0 {
        return (f64::NAN, forced);
    }
    let mut rank = q * observations;
    // First bucket (excluding +Inf) whose cumulative count reaches the rank.
    let b = buckets[..n - 1].partition_point(|x| x.count < rank);
    if b == n - 1 {
        return (buckets[n - 2].upper, forced);
    }
    if b == 0 && buckets[0].upper <= 0.0 {
        return (buckets[0].upper, forced);
    }
    let mut start = 0.0;
    let end = buckets[b].upper;
    let mut count = buckets[b].count;
    if b > 0 {
        start = buckets[b - 1].upper;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    (start + (end - start) * (rank / count), forced)
}

/// Merges buckets with the same upper bound (e.g. `le="1"` and `le="1.0"`).
fn coalesce(buckets: &mut Vec<Bucket>) {
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match out.last_mut() {
            Some(last) if last.upper == b.upper => last.count += b.count,
            _ => out.push(*b),
        }
    }
    *buckets = out;
}

/// Prometheus's `ensureMonotonicAndIgnoreSmallDeltas`: counts that are
/// within float noise of the previous are set equal to it; any decrease is
/// lifted to the previous count (reported as forced).
fn ensure_monotonic(buckets: &mut [Bucket]) -> bool {
    let mut forced = false;
    let Some(mut prev) = buckets.first().map(|b| b.count) else {
        return false;
    };
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            b.count = prev;
            continue;
        }
        if curr < prev {
            b.count = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    forced
}

/// Prometheus's `almost.Equal`: relative comparison with special cases for
/// NaN and values near zero.
fn almost_equal(a: f64, b: f64, eps: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < eps * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < eps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        pairs
            .iter()
            .map(|&(upper, count)| Bucket { upper, count })
            .collect()
    }

    #[test]
    fn interpolates_and_handles_edges() {
        let inf = f64::INFINITY;
        let mut h = b(&[(0.1, 10.0), (0.2, 20.0), (inf, 20.0)]);
        assert_eq!(bucket_quantile(0.5, &mut h).0, 0.1);
        let mut h = b(&[(0.1, 10.0), (0.2, 20.0), (inf, 20.0)]);
        assert!((bucket_quantile(0.75, &mut h).0 - 0.15).abs() < 1e-12);
        // Rank falls in +Inf: the highest finite bound.
        let mut h = b(&[(0.1, 10.0), (inf, 20.0)]);
        assert_eq!(bucket_quantile(0.99, &mut h).0, 0.1);
        // No +Inf bucket: NaN.
        let mut h = b(&[(0.1, 10.0)]);
        assert!(bucket_quantile(0.5, &mut h).0.is_nan());
        // Non-monotonic input is fixed and reported.
        let mut h = b(&[(1.0, 10.0), (2.0, 5.0), (inf, 10.0)]);
        assert_eq!(bucket_quantile(0.5, &mut h), (0.5, true));
    }
}
