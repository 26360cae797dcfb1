//! The fast paths against the general path: every query they take must
//! answer exactly as the same engine with them switched off, errors included.

use sextant_model::{Labels, Sample, Series};

use crate::harness::Mem;
use crate::{Engine, EngineConfig};
use sextant_model::STALE_NAN_BITS;

/// Counters and gauges with resets, NaN, stale markers, gaps and early ends; `a` and `b`
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
                // Gaps, and one series per name that stops early so steps
                // cross the end of its lookback.
                .filter(|k| (k + i) % 17 != 0 && (i != 5 || *k <= 40))
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
            series.push(Series { labels, samples });
        }
    }
    Mem { series }
}

#[test]
fn fast_path_matches_general_path() {
    let mem = data();
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
        "ts_of_first_over_time",
        "ts_of_last_over_time",
        "ts_of_max_over_time",
        "ts_of_min_over_time",
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
    let fast = Engine::new(EngineConfig::default());
    let slow = Engine::new(EngineConfig::default()).without_fast_paths();
    let same = |q: &str| {
        let r1 = fast.range(&mem, q, 0, 1_800_000, 20_000);
        let r2 = slow.range(&mem, q, 0, 1_800_000, 20_000);
        assert_eq!(format!("{r1:?}"), format!("{r2:?}"), "{q}");
        for t in [0, 59_999, 900_000, 1_790_000] {
            let i1 = fast.instant(&mem, q, t);
            let i2 = slow.instant(&mem, q, t);
            assert_eq!(format!("{i1:?}"), format!("{i2:?}"), "{q} at {t}");
        }
    };
    let mut checked = 0;
    for (fi, f) in fns.iter().enumerate() {
        // The bare call, then under each operator; the grouping and
        // selector rotate so each function also meets each selector,
        // keeping the test quick.
        let sel = selectors[fi % selectors.len()];
        same(&format!("{f}({sel})"));
        same(&format!("timestamp({f}({sel}))"));
        // Inside a subquery each outer step goes back in time, so the
        // per-series cursors must also seek backwards.
        same(&format!("max_over_time(sum by (job) ({f}({sel}))[2m:15s])"));
        for (ai, agg) in aggs.iter().enumerate() {
            let k = fi * aggs.len() + ai;
            let g = grouping[k % grouping.len()];
            let sel = selectors[(fi + ai) % selectors.len()];
            let (open, close) = match agg.strip_suffix('(') {
                Some(a) => (format!("{a}{g}(0.3, "), ")"),
                None => (format!("{agg}{g}("), ")"),
            };
            same(&format!("{open}{f}({sel}){close}"));
            checked += 1;
        }
    }
    // Bare instant selectors under every operator and grouping, including
    // `by (__name__)`, which only a raw selector's output still carries.
    for agg in aggs {
        for g in grouping.iter().chain([&" by (__name__)"]) {
            for sel in ["a", "c offset 1m", "{__name__=~\"a|b\"}", "a @ 600", "(b)"] {
                let (open, close) = match agg.strip_suffix('(') {
                    Some(a) => (format!("{a}{g}(0.3, "), ")"),
                    None => (format!("{agg}{g}("), ")"),
                };
                same(&format!("{open}{sel}{close}"));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, fns.len() * 9 + 9 * 4 * 5);
}
