//! Engine-level behaviour: range queries, result shapes and order, errors
//! and their API classification, limits, and a no-panic property test.

use std::time::Duration;

use proptest::prelude::*;
use sextant_model::{Labels, Sample, Series};

use crate::harness::{Mem, run};
use crate::{Engine, EngineConfig, QueryError, Value};

#[test]
fn range_queries() {
    run(r#"
load 10s
  metric1 0+1x100
  other{a="x"} 5 _ _ _ _ 6

eval range from 0 to 50s step 10s metric1
  metric1 0 1 2 3 4 5

eval range from 0 to 50s step 10s metric1 + 1
  {} 1 2 3 4 5 6

eval range from 0 to 20s step 10s time()
  {} 0 10 20

eval range from 0 to 20s step 5s metric1
  metric1 0 0 1 1 2

eval range from 0 to 20s step 10s metric1 @ 10
  metric1 1 1 1

eval range from 0 to 20s step 10s vector(1) or metric1
  {} 1 1 1

eval range from 0 to 20s step 10s metric1 or other
  metric1 0 1 2
  other{a="x"} 5 5 5

eval range from 0 to 50s step 10s sum(rate(metric1[20s]))
  {} _ 0.05 0.1 0.1 0.1 0.1

eval range from 0 to 10s step 10s metric1 > 0
  metric1 1

eval range from 5m40s to 6m step 10s other
  other{a="x"} 6 _ _

eval_fail range from 0 to 10s step 10s metric1[1m]
  invalid expression type

eval_fail range from 0 to 10s step 10s "a"
  invalid expression type
"#);
}

#[test]
fn errors_are_classified() {
    let engine = Engine::new(EngineConfig::default());
    let mem = Mem::default();
    let parse = engine
        .instant(&mem, "sum(", 0)
        .expect_err("unbalanced parenthesis");
    assert!(matches!(parse, QueryError::Parse(_)));
    assert_eq!(parse.error_type(), "bad_data");
    let step = engine.range(&mem, "1", 0, 10, 0).expect_err("zero step");
    assert_eq!(step.error_type(), "bad_data");
    let back = engine
        .range(&mem, "1", 10, 0, 1)
        .expect_err("end before start");
    assert_eq!(back.error_type(), "bad_data");
    let many = engine
        .range(&mem, "1", 0, 11_000, 1)
        .expect_err("11,001 steps");
    assert!(many.to_string().contains("exceeded maximum resolution"));
    assert!(engine.range(&mem, "1", 0, 10_999, 1).is_ok());
    assert!(
        engine
            .range(&mem, "1", i64::MIN, i64::MAX, i64::MAX)
            .is_ok()
    );
    assert_eq!(
        parse.to_string(),
        "invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"
    );
    assert_eq!(QueryError::Execution("x".into()).error_type(), "execution");
    assert_eq!(QueryError::TooManySamples(1).error_type(), "execution");
    assert_eq!(QueryError::Timeout.error_type(), "timeout");
    let big = "1+".repeat(40_000) + "1";
    assert!(matches!(
        engine.instant(&mem, &big, 0),
        Err(QueryError::Parse(_))
    ));
    run(r#"
eval_fail instant at 0 label_replace(vector(1), "dst", "x", "src", "(.*")
  invalid regular expression in label_replace()
"#);
}

fn counter_mem(points: i64) -> Mem {
    Mem {
        series: vec![Series {
            labels: Labels::from_pairs(vec![("__name__".into(), "c".into())]),
            samples: (0..points)
                .map(|i| Sample {
                    t: i * 1000,
                    v: i as f64,
                })
                .collect(),
        }],
    }
}

#[test]
fn sample_limit_is_enforced() {
    let mem = counter_mem(100);
    let small = Engine::new(EngineConfig {
        max_samples: 50,
        ..EngineConfig::default()
    });
    let err = small
        .instant(&mem, "sum_over_time(c[1h])", 100_000)
        .expect_err("100 > 50");
    assert_eq!(err, QueryError::TooManySamples(50));
    // A query touching few samples passes under the same limit.
    let ok = small.instant(&mem, "c", 1_000).expect("one sample");
    assert!(matches!(ok.value, Value::Vector(v) if v.len() == 1));
    // Range query output counts too.
    let mem = counter_mem(10);
    let err = small
        .range(&mem, "vector(1)", 0, 100_000, 1000)
        .expect_err("101 points");
    assert_eq!(err, QueryError::TooManySamples(50));
    // Subquery steps are bounded before looping.
    let err = small
        .instant(&mem, "count_over_time(vector(1)[1h:1s])", 0)
        .expect_err("3600 steps");
    assert_eq!(err, QueryError::TooManySamples(50));
}

#[test]
fn timeout_is_enforced() {
    let mem = counter_mem(10);
    let engine = Engine::new(EngineConfig {
        timeout: Duration::ZERO,
        ..EngineConfig::default()
    });
    std::thread::sleep(Duration::from_millis(2));
    let err = engine
        .range(&mem, "c", 0, 10_000, 1_000)
        .expect_err("no time at all");
    assert_eq!(err, QueryError::Timeout);
}

#[test]
fn result_shapes() {
    let mem = counter_mem(10);
    let engine = Engine::new(EngineConfig::default());
    let r = engine.instant(&mem, "c[5s]", 9_000).expect("matrix");
    let Value::Matrix(m) = r.value else {
        panic!("expected a matrix, got {:?}", r.value)
    };
    assert_eq!(
        m[0].samples.iter().map(|s| s.t).collect::<Vec<_>>(),
        vec![5_000, 6_000, 7_000, 8_000, 9_000]
    );
    let r = engine.instant(&mem, "c", 9_500).expect("vector");
    assert_eq!(
        r.value,
        Value::Vector(vec![crate::VectorSample {
            labels: Labels::from_pairs(vec![("__name__".into(), "c".into())]),
            t: 9_500,
            v: 9.0
        }])
    );
    let zero = Engine::new(EngineConfig {
        lookback_ms: 0,
        ..EngineConfig::default()
    });
    let r = zero.instant(&mem, "c", 300_000).expect("default lookback");
    assert!(matches!(r.value, Value::Vector(v) if v.len() == 1));
    let short = Engine::new(EngineConfig {
        lookback_ms: 1_000,
        ..EngineConfig::default()
    });
    let r = short.instant(&mem, "c", 10_000).expect("short lookback");
    assert!(matches!(r.value, Value::Vector(v) if v.is_empty()));
    let r = engine.instant(&mem, "time()", 9_500).expect("scalar");
    assert_eq!(r.value, Value::Scalar { t: 9_500, v: 9.5 });
    let r = engine
        .instant(&mem, "quantile_over_time(2, c[5s])", 9_000)
        .expect("warns");
    assert_eq!(r.warnings.len(), 1);
}

/// Fragments that combine into mostly-valid and sometimes-broken PromQL.
fn fragment() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "c",
        "c[5s]",
        "c[1m:7s]",
        "rate(",
        "sum",
        " by (a)",
        " without(__name__)",
        "(",
        ")",
        "+",
        "-",
        "*",
        "/",
        "%",
        "^",
        " and ",
        " or ",
        " unless ",
        " on(a) ",
        " group_left(b) ",
        " bool ",
        ">",
        "==",
        "1",
        "0",
        "-1e308",
        "NaN",
        "Inf",
        "@ 5",
        " offset -1m",
        " offset 1y",
        "topk(3,",
        "quantile(0.5,",
        "count_values(\"x\",",
        "histogram_quantile(0.9,",
        "label_replace(",
        ",\"a\",\"$1\",\"__name__\",\"(.*)\")",
        "absent(",
        "time()",
        "vector(",
        "scalar(",
        "[1h]",
        "[5m:]",
        "{a=~\"(\"}",
        "{__name__=~\".+\"}",
        "sort_desc(",
        "clamp(",
        ",1,2)",
        "round(",
        "day_of_week(",
        "predict_linear(",
        ", 3600)",
        "limit_ratio(-2,",
        "@ end()",
        "[0s:0s]",
        "9223372036854775807",
        " @ 9223372036854775807",
        " @ -9223372036854775",
        " offset 292y",
        "[292y]",
        "[1ms:1ms]",
    ])
    .prop_map(str::to_string)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn never_panics_on_fragments(parts in prop::collection::vec(fragment(), 1..12), t in prop_oneof![-1_000_000_000_000i64..1_000_000_000_000, any::<i64>()]) {
        let mem = counter_mem(30);
        let engine = Engine::new(EngineConfig { max_samples: 100_000, timeout: Duration::from_secs(5), ..EngineConfig::default() });
        let q = parts.concat();
        let _ = engine.instant(&mem, &q, t);
        let _ = engine.range(&mem, &q, t, t.saturating_add(20_000), 7_000);
    }

    #[test]
    fn never_panics_on_arbitrary_text(q in "\\PC{0,40}", t in any::<i64>()) {
        let mem = counter_mem(5);
        let engine = Engine::new(EngineConfig { max_samples: 10_000, timeout: Duration::from_secs(5), ..EngineConfig::default() });
        let _ = engine.instant(&mem, &q, t);
    }
}

/// A small data set with several label shapes, for generated queries.
fn varied_mem() -> Mem {
    use crate::harness::series;
    Mem {
        series: vec![
            series(&[("__name__", "c"), ("a", "x")], 10_000, |i| i as f64),
            series(&[("__name__", "c"), ("a", "y"), ("b", "1")], 15_000, |i| {
                (i % 7) as f64
            }),
            series(&[("__name__", "g"), ("a", "x")], 10_000, |i| {
                (i as f64).sin() * 1e300
            }),
            series(&[("__name__", "h_bucket"), ("le", "1")], 10_000, |i| {
                i as f64
            }),
            series(&[("__name__", "h_bucket"), ("le", "+Inf")], 10_000, |i| {
                2.0 * i as f64
            }),
            series(&[("__name__", "s"), ("a", "x")], 10_000, |i| {
                if i % 5 == 4 {
                    f64::from_bits(sextant_model::STALE_NAN_BITS)
                } else {
                    f64::NAN
                }
            }),
        ],
    }
}

/// Syntactically valid (mostly well-typed) expressions built recursively.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "c",
        "c{a=\"x\"}",
        "g",
        "h_bucket",
        "s",
        "{__name__=~\"c|g\"}",
        "1",
        "-2.5",
        "NaN",
        "vector(1)",
        "time()",
        "c offset 30s",
        "c @ 100",
        "nonexistent",
    ])
    .prop_map(str::to_string);
    leaf.prop_recursive(4, 48, 3, |inner| {
        let e = inner.clone();
        let two = (inner.clone(), inner.clone());
        let ops = prop::sample::select(vec![
            "+",
            "-",
            "*",
            "/",
            "%",
            "^",
            "atan2",
            "> bool",
            "==",
            "<",
            "and",
            "or",
            "unless",
            "+ on(a)",
            "* ignoring(b) group_left(b)",
            "/ on(a) group_right",
            "> on() bool",
        ]);
        let unary = prop::sample::select(vec![
            "sum by (a) ({})",
            "avg without (a) ({})",
            "topk(2, {})",
            "bottomk(1, {})",
            "quantile(0.9, {})",
            "count_values(\"v\", {})",
            "stddev({})",
            "limitk(1, {})",
            "limit_ratio(0.5, {})",
            "group({})",
            "rate(({})[1m:15s])",
            "sum_over_time(({})[1m:])",
            "histogram_quantile(0.5, {})",
            "abs({})",
            "round({}, 0.1)",
            "clamp({}, 0, 1)",
            "sort_desc({})",
            "absent({})",
            "scalar({})",
            "timestamp({})",
            "-{}",
            "({})",
            "label_replace({}, \"z\", \"$1\", \"a\", \"(.*)\")",
            "label_join({}, \"z\", \",\", \"a\", \"b\")",
            "deriv(({})[2m:20s])",
            "predict_linear(({})[2m:20s], 60)",
            "changes(({})[5m:1m] offset 1m)",
            "max_over_time(({})[1m:7s] @ 200)",
            "day_of_week({})",
            "sort_by_label({}, \"a\")",
            "quantile_over_time(0.5, ({})[1m:10s])",
            "mad_over_time(({})[1m:10s])",
            "absent_over_time(({})[1m:10s])",
            "irate(({})[1m:10s])",
            "delta(({})[1m:10s])",
            "resets(({})[1m:10s])",
            "stdvar_over_time(({})[1m:10s])",
            "last_over_time(({})[1m:10s])",
        ]);
        prop_oneof![
            (two, ops).prop_map(|((l, r), op)| format!("{l} {op} {r}")),
            (e, unary).prop_map(|(x, f)| f.replace("{}", &x)),
            prop::sample::select(vec![
                "rate(c[1m])",
                "increase(c[45s])",
                "sum_over_time(s[2m])",
                "count_over_time(c[5m])",
                "avg_over_time(g[1m])",
                "min_over_time(c[1m])",
                "irate(c[30s])",
                "idelta(g[1m])",
            ])
            .prop_map(str::to_string),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    /// Valid expressions evaluate without panicking, and an instant query
    /// agrees with a one-step range query whenever both succeed.
    #[test]
    fn generated_expressions_evaluate(q in expression(), t in 0i64..600_000) {
        let mem = varied_mem();
        let engine = Engine::new(EngineConfig { max_samples: 1_000_000, timeout: Duration::from_secs(10), ..EngineConfig::default() });
        let instant = engine.instant(&mem, &q, t);
        let range = engine.range(&mem, &q, t.saturating_sub(60_000), t, 15_000);
        if let (Ok(i), Ok(r)) = (&instant, &range)
            && let (Value::Vector(v), Value::Matrix(m)) = (&i.value, &r.value)
        {
            let at_t = m
                .iter()
                .filter(|s| s.samples.last().is_some_and(|p| p.t == t))
                .count();
            prop_assert_eq!(v.len(), at_t, "{}", q);
        }
    }
}

/// A range query must equal the instant queries at each of its steps; this
/// exercises the subquery cache shared across outer steps (nested too).
#[test]
fn range_query_equals_instant_queries_at_each_step() {
    let mem = varied_mem();
    let engine = Engine::default();
    let exprs = [
        "max_over_time(rate(c[1m])[2m:15s])",
        "sum_over_time(sum_over_time(c[1m:20s])[1m:10s])",
        "avg_over_time((c + on(a) group_left g)[90s:7s] offset 20s)",
        "min_over_time(c[1m:13s] @ 300)",
        "quantile_over_time(0.5, (histogram_quantile(0.9, h_bucket))[2m:10s])",
        "count_over_time((c > 3)[3m:])",
    ];
    for q in exprs {
        assert_range_equals_instants(&engine, &mem, q, (100_000, 400_000, 17_000));
    }
}

/// Evaluates `q` as a range query over `(start, end, step)` and checks every
/// point against the instant query at its step.
fn assert_range_equals_instants(
    engine: &Engine,
    mem: &Mem,
    q: &str,
    (start, end, step): (i64, i64, i64),
) {
    let r = engine.range(mem, q, start, end, step).expect(q);
    let Value::Matrix(m) = r.value else {
        panic!("{q}: expected a matrix")
    };
    assert!(!m.is_empty(), "{q}: no data");
    let mut t = start;
    while t <= end {
        let i = engine.instant(mem, q, t).expect(q);
        let Value::Vector(v) = i.value else {
            panic!("{q}: expected a vector")
        };
        for s in &v {
            let series = m
                .iter()
                .find(|x| x.labels == s.labels)
                .expect("series in range");
            let p = series
                .samples
                .iter()
                .find(|p| p.t == t)
                .expect("point in range");
            assert!(
                p.v == s.v || (p.v.is_nan() && s.v.is_nan()),
                "{q} at {t}: {} vs {}",
                p.v,
                s.v
            );
        }
        let in_range = m
            .iter()
            .filter(|x| x.samples.iter().any(|p| p.t == t))
            .count();
        assert_eq!(in_range, v.len(), "{q} at {t}");
        t += step;
    }
}

/// A range query longer than one load slice (`engine::MIN_SLICE_MS`) loads
/// and evaluates slice by slice: windows, subqueries, offsets and `@` that
/// reach back across slice edges, and series that start or stop in
/// different slices, must answer exactly as the instant queries do.
#[test]
fn sliced_range_queries_equal_instant_queries() {
    let minute = 60_000;
    let series = |name: &str, inst: &str, from: i64, to: i64| Series {
        labels: Labels::from_pairs(vec![
            ("__name__".into(), name.into()),
            ("instance".into(), inst.into()),
        ]),
        samples: (from..to)
            .map(|i| Sample {
                t: i * minute + 500,
                v: ((i * 7919) % 101) as f64 + if name == "c" { i as f64 * 3.0 } else { 0.0 },
            })
            .collect(),
    };
    let mem = Mem {
        series: vec![
            series("c", "a", 0, 600),
            series("c", "b", 150, 330),
            series("c", "d", 290, 600),
            series("g", "a", 0, 600),
            series("g", "b", 100, 140),
        ],
    };
    let engine = Engine::default();
    let exprs = [
        "sum(rate(c[5m]))",
        "rate(c[40m])",
        "max_over_time(g[50m])",
        "avg(g)",
        "g offset 25m",
        "c @ 20000",
        "sum by (instance) (increase(c[1h] offset 10m))",
        "max_over_time(rate(c[5m])[30m:1m])",
        "c - on (instance) g",
        "count(g > 50)",
    ];
    for q in exprs {
        // Ten hours at a 7-minute step: several slices, edges off the samples.
        assert_range_equals_instants(&engine, &mem, q, (30 * minute, 600 * minute, 7 * minute));
    }
}
