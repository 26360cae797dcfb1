//! Warnings and infos as Prometheus 3 writes them: its messages, each ended
//! by the position of the node it is about (`… (1:6)`), deduplicated, the
//! same from the fast and the general path and for instant and range queries.

use sextant_model::Series;

use crate::harness::Mem;
use crate::{Engine, EngineConfig, QueryResult};

fn series(pairs: &[(&str, &str)], f: fn(i64) -> f64) -> Series {
    crate::harness::series(pairs, 15_000, f)
}

fn mem() -> Mem {
    Mem {
        series: vec![
            series(&[("__name__", "http_requests"), ("job", "a")], |i| i as f64),
            series(&[("__name__", "http_requests"), ("job", "b")], |i| {
                2.0 * i as f64
            }),
            series(&[("__name__", "http_requests_total"), ("job", "a")], |i| {
                i as f64
            }),
            // Cumulative counts that fall from le=1 to le=+Inf: not monotonic.
            series(&[("__name__", "h_bucket"), ("le", "1")], |i| 2.0 * i as f64),
            series(&[("__name__", "h_bucket"), ("le", "+Inf")], |i| i as f64),
            series(&[("__name__", "bad_bucket"), ("le", "x")], |i| i as f64),
        ],
    }
}

const NOT_A_COUNTER: &str =
    "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket:";

#[test]
fn annotations_carry_prometheus_messages_and_positions() {
    let monotonic = "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name";
    // (query, warnings, infos)
    let cases: Vec<(&str, Vec<String>, Vec<String>)> = vec![
        (
            "rate(http_requests[1m])",
            vec![],
            vec![format!("{NOT_A_COUNTER} \"http_requests\" (1:6)")],
        ),
        (
            "sum by (job) (increase(http_requests[1m]))",
            vec![],
            vec![format!("{NOT_A_COUNTER} \"http_requests\" (1:24)")],
        ),
        (
            "sum(\n  rate(http_requests[5m])\n)",
            vec![],
            vec![format!("{NOT_A_COUNTER} \"http_requests\" (2:8)")],
        ),
        ("rate(http_requests_total[1m])", vec![], vec![]),
        ("irate(http_requests[1m])", vec![], vec![]),
        ("delta(http_requests[1m])", vec![], vec![]),
        (
            "histogram_quantile(0.5, h_bucket)",
            vec![],
            vec![format!("{monotonic} \"h_bucket\" (1:25)")],
        ),
        (
            "histogram_quantile(0.5, sum by (le) (h_bucket))",
            vec![],
            vec![format!("{monotonic} \"\" (1:25)")],
        ),
        (
            "histogram_quantile(2, h_bucket)",
            vec!["PromQL warning: quantile value should be between 0 and 1, got 2 (1:20)".into()],
            // Out of range, the answer is ±Inf before buckets are looked at.
            vec![],
        ),
        (
            "histogram_quantile(0.5, bad_bucket)",
            vec![
                "PromQL warning: bucket label \"le\" is missing or has a malformed value of \"x\" for metric name \"bad_bucket\" (1:25)".into(),
            ],
            vec![],
        ),
        (
            "quantile(1.5, http_requests)",
            vec!["PromQL warning: quantile value should be between 0 and 1, got 1.5 (1:10)".into()],
            vec![],
        ),
        (
            "quantile_over_time(-1, http_requests[5m])",
            vec!["PromQL warning: quantile value should be between 0 and 1, got -1 (1:20)".into()],
            vec![],
        ),
        (
            "limit_ratio(2, http_requests)",
            vec![
                "PromQL warning: ratio value should be between -1 and 1, got 2, capping to 1 (1:13)"
                    .into(),
            ],
            vec![],
        ),
    ];
    let mem = mem();
    let engines = [
        Engine::new(EngineConfig::default()),
        Engine::new(EngineConfig::default()).without_fast_paths(),
    ];
    for (q, warnings, infos) in &cases {
        for engine in &engines {
            let instant = engine.instant(&mem, q, 300_000);
            let range = engine.range(&mem, q, 100_000, 500_000, 30_000);
            for (kind, r) in [("instant", instant), ("range", range)] {
                let r: QueryResult = r.unwrap_or_else(|e| panic!("{q} ({kind}): {e}"));
                assert_eq!(&r.warnings, warnings, "{q} ({kind}) warnings");
                assert_eq!(&r.infos, infos, "{q} ({kind}) infos");
            }
        }
    }
}

/// Two metrics without counter names under one `rate` each get their info.
#[test]
fn each_offending_metric_is_named_once() {
    let mut m = mem();
    m.series
        .push(series(&[("__name__", "queue_depth")], |i| i as f64));
    let r = Engine::default()
        .range(
            &m,
            "sum(rate({__name__=~\"http_requests|queue_depth\"}[1m]))",
            100_000,
            500_000,
            30_000,
        )
        .expect("query");
    assert_eq!(
        r.infos,
        vec![
            format!("{NOT_A_COUNTER} \"http_requests\" (1:10)"),
            format!("{NOT_A_COUNTER} \"queue_depth\" (1:10)"),
        ]
    );
}
