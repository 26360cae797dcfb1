//! The aggregation fast path against the general path: the same query with
//! the function's output passed through `-(-…)` (an exact identity that
//! defeats the fast path's shape) must answer identically, errors included.

use sextant_store::{Labels, Sample, SeriesSamples};

use crate::harness::Mem;
use crate::value::STALE_NAN_BITS;
use crate::{Engine, EngineConfig};

/// Counters and gauges with resets, NaN, stale markers and gaps; `a` and `b`
/// share label sets once `__name__` is dropped.
fn data() -> Mem {
    let stale = f64::from_bits(STALE_NAN_BITS);
    let mut series = Vec::new();
    for (n, name) in ["a", "b", "c"].iter().enumerate() {
        for i in 0..6i64 {
            let labels = Labels::from_pairs(vec![
                ("__name__".into(), (*name).into()),
                ("job".into(), format!("j{}", i % 2)),
                ("instance".into(), format!("i{i}")),
            ]);
            let samples = (0..120i64)
                .filter(|k| (k + i) % 17 != 0)
                .map(|k| {
                    let v = match (k + i + n as i64) % 29 {
                        0 => stale,
                        7 if i == 3 => f64::NAN,
                        _ => ((k * (i + 1)) % (40 + i * 7)) as f64 * 1.5 - (n as f64),
                    };
                    Sample {
                        t: k * 15_000 + i * 1_000,
                        v,
                    }
                })
                .collect();
            series.push(SeriesSamples { labels, samples });
        }
    }
    Mem { series }
}

#[test]
fn fast_path_matches_general_path() {
    let mem = data();
    let engine = Engine::new(EngineConfig::default());
    let fns = [
        "rate",
        "increase",
        "delta",
        "irate",
        "idelta",
        "deriv",
        "resets",
        "changes",
        "avg_over_time",
        "sum_over_time",
        "count_over_time",
        "min_over_time",
        "max_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "last_over_time",
        "first_over_time",
        "present_over_time",
        "mad_over_time",
    ];
    let aggs = [
        "sum",
        "avg",
        "count",
        "group",
        "max",
        "min",
        "stddev",
        "stdvar",
        "quantile(",
    ];
    let grouping = ["", " by (job)", " without (instance)"];
    let selectors = [
        "a[1m]",
        "c[2m] offset 1m",
        "{__name__=~\"a|c\"}[45s]",
        "{__name__=~\"a|b\"}[1m]",
        "a[1m] @ 600",
    ];
    // Every function with every operator; the grouping and selector rotate
    // so each function also meets each selector, keeping the test quick.
    let mut checked = 0;
    for (fi, f) in fns.iter().enumerate() {
        for (ai, agg) in aggs.iter().enumerate() {
            let k = fi * aggs.len() + ai;
            let g = grouping[k % grouping.len()];
            let sel = selectors[(fi + ai) % selectors.len()];
            let (open, close) = match agg.strip_suffix('(') {
                Some(a) => (format!("{a}{g}(0.3, "), ")"),
                None => (format!("{agg}{g}("), ")"),
            };
            let fast = format!("{open}{f}({sel}){close}");
            let slow =
                format!("{open}label_replace({f}({sel}), \"zz\", \"\", \"zz\", \"\"){close}");
            let r1 = engine.range(&mem, &fast, 0, 1_800_000, 20_000);
            let r2 = engine.range(&mem, &slow, 0, 1_800_000, 20_000);
            assert_eq!(format!("{r1:?}"), format!("{r2:?}"), "{fast}");
            let i1 = engine.instant(&mem, &fast, 900_000);
            let i2 = engine.instant(&mem, &slow, 900_000);
            assert_eq!(format!("{i1:?}"), format!("{i2:?}"), "{fast}");
            checked += 1;
        }
    }
    assert_eq!(checked, 19 * 9);
}
