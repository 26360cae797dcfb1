//! A tiny promqltest-style harness for the table-driven tests: `load` blocks
//! with Prometheus's expanding notation (`0+10x20`, `1x3`, `_`, `stale`)
//! into an in-memory [`Queryable`], then `eval instant at <dur> <expr>` /
//! `eval range from <dur> to <dur> step <dur> <expr>` / `eval_fail …` /
//! `eval_ordered …` with expected results on the following indented lines.

use sextant_model::{Labels, Matcher, Sample, Series};

use crate::{Engine, EngineConfig, QueryError, Queryable, Value};
use sextant_model::STALE_NAN_BITS;

/// An in-memory series set.
#[derive(Default)]
pub(crate) struct Mem {
    pub series: Vec<Series>,
}

impl Queryable for Mem {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<Series> {
        let mut out: Vec<Series> = self
            .series
            .iter()
            .filter(|s| s.labels.matches(matchers))
            .map(|s| Series {
                labels: s.labels.clone(),
                samples: s
                    .samples
                    .iter()
                    .filter(|p| p.t >= start_ms && p.t <= end_ms)
                    .copied()
                    .collect(),
            })
            .filter(|s| !s.samples.is_empty())
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }
}

/// A series of 40 samples `step` ms apart starting at 0, valued `f(i)`.
pub(crate) fn series(pairs: &[(&str, &str)], step: i64, f: fn(i64) -> f64) -> Series {
    Series {
        labels: Labels::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        samples: (0..40)
            .map(|i| Sample {
                t: i * step,
                v: f(i),
            })
            .collect(),
    }
}

/// Parses `5m`, `1h30m`, `100ms`, `0` into milliseconds (negative with `-`).
pub(crate) fn dur(s: &str) -> i64 {
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let mut total = 0i64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().expect("duration number");
        num.clear();
        let unit = match (c, chars.peek()) {
            ('m', Some('s')) => {
                chars.next();
                1
            }
            ('s', _) => 1_000,
            ('m', _) => 60_000,
            ('h', _) => 3_600_000,
            ('d', _) => 86_400_000,
            ('w', _) => 7 * 86_400_000,
            ('y', _) => 365 * 86_400_000,
            _ => panic!("bad duration unit in {s}"),
        };
        total += n * unit;
    }
    if !num.is_empty() {
        total += num.parse::<i64>().expect("duration number") * 1_000;
    }
    if neg { -total } else { total }
}

/// Parses a series descriptor `name{a="b", c="d"}` (either part optional).
pub(crate) fn parse_labels(s: &str) -> Labels {
    let s = s.trim();
    let (name, rest) = match s.find('{') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let mut pairs = Vec::new();
    if !name.is_empty() {
        pairs.push(("__name__".to_string(), name.to_string()));
    }
    let body = rest.trim_start_matches('{').trim_end_matches('}');
    let mut rest = body.trim();
    while !rest.is_empty() {
        let eq = rest.find('=').expect("label =");
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let after = after.strip_prefix('"').expect("quoted label value");
        let end = after.find('"').expect("closing quote");
        pairs.push((key, after[..end].to_string()));
        rest = after[end + 1..].trim_start().trim_start_matches(',').trim();
    }
    Labels::from_pairs(pairs)
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "_" => None,
        "stale" => Some(f64::from_bits(STALE_NAN_BITS)),
        "NaN" => Some(f64::NAN),
        "Inf" | "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => Some(s.parse().unwrap_or_else(|_| panic!("bad value {s}"))),
    }
}

/// Expands `0+10x3 _ 5 1x2 stale` into per-step values (None = no sample).
fn expand(values: &str) -> Vec<Option<f64>> {
    let mut out = Vec::new();
    for tok in values.split_whitespace() {
        if let Some((base, times)) = tok.split_once('x') {
            let n: usize = times.parse().expect("repeat count");
            if base == "_" {
                out.extend(std::iter::repeat_n(None, n));
                continue;
            }
            // `a+bxn` / `a-bxn`: a, a±b, …, n+1 values; `axn` repeats a.
            let split = base[1..].find(['+', '-']).map(|i| i + 1);
            let (start, delta) = match split {
                Some(i) => (
                    parse_value(&base[..i]).expect("start"),
                    base[i..]
                        .trim_start_matches('+')
                        .parse::<f64>()
                        .expect("delta"),
                ),
                None => (parse_value(base).expect("start"), 0.0),
            };
            for k in 0..=n {
                out.push(Some(start + delta * k as f64));
            }
        } else {
            out.push(parse_value(tok));
        }
    }
    out
}

fn approx_eq(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    diff <= 1e-6 * a.abs().max(b.abs()) || diff < 1e-12
}

/// Runs a script; panics with the failing case on the first mismatch.
/// Returns how many `eval` cases ran.
pub(crate) fn run(script: &str) -> usize {
    let engine = Engine::new(EngineConfig::default());
    let mut mem = Mem::default();
    let lines: Vec<&str> = script.lines().collect();
    let mut i = 0;
    let mut cases = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut body = Vec::new();
        while i < lines.len() && lines[i].starts_with([' ', '\t']) && !lines[i].trim().is_empty() {
            body.push(lines[i].trim());
            i += 1;
        }
        if let Some(step) = line.strip_prefix("load ") {
            let step = dur(step.trim());
            for b in body {
                let split = b
                    .rfind('}')
                    .map(|i| i + 1)
                    .unwrap_or_else(|| b.find(' ').expect("values"));
                let labels = parse_labels(&b[..split]);
                let samples = expand(&b[split..])
                    .into_iter()
                    .enumerate()
                    .filter_map(|(k, v)| {
                        v.map(|v| Sample {
                            t: k as i64 * step,
                            v,
                        })
                    })
                    .collect();
                mem.series.push(Series { labels, samples });
            }
            continue;
        }
        if line == "clear" {
            mem = Mem::default();
            continue;
        }
        cases += 1;
        check(&engine, &mem, line, &body);
    }
    cases
}

/// Every instant result must equal a one-step range query at the same time
/// (same series, same values), as in Prometheus.
fn same_as_one_step_range(
    engine: &Engine,
    mem: &Mem,
    expr: &str,
    t: i64,
    instant: &Result<crate::QueryResult, QueryError>,
) {
    let Ok(instant) = instant else { return };
    if expr.contains("step()") {
        return; // an instant query has no step; a one-step range query does
    }
    let mut want: Vec<(Labels, f64)> = match &instant.value {
        Value::Vector(v) => v.iter().map(|s| (s.labels.clone(), s.v)).collect(),
        Value::Scalar { v, .. } => vec![(Labels::default(), *v)],
        _ => return,
    };
    let range = engine
        .range(mem, expr, t, t, 1)
        .expect("range query of an instant query");
    let Value::Matrix(m) = range.value else {
        panic!("range query gave {:?}", range.value)
    };
    let mut got: Vec<(Labels, f64)> = m
        .into_iter()
        .map(|s| (s.labels, s.samples.first().map_or(f64::NAN, |p| p.v)))
        .collect();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got.len(),
        want.len(),
        "{expr}: range {got:?} vs instant {want:?}"
    );
    for (g, w) in got.iter().zip(&want) {
        assert!(
            g.0 == w.0 && approx_eq(g.1, w.1),
            "{expr}: range {got:?} vs instant {want:?}"
        );
    }
}

fn check(engine: &Engine, mem: &Mem, line: &str, body: &[&str]) {
    let (kind, rest) = line.split_once(' ').expect("eval kind");
    let result = if let Some(r) = rest.strip_prefix("instant at ") {
        let (at, expr) = r.split_once(' ').expect("instant time");
        let result = engine.instant(mem, expr, dur(at));
        same_as_one_step_range(engine, mem, expr, dur(at), &result);
        result
    } else {
        let r = rest.strip_prefix("range from ").expect("instant or range");
        let (from, r) = r.split_once(" to ").expect("to");
        let (to, r) = r.split_once(" step ").expect("step");
        let (step, expr) = r.split_once(' ').expect("range expr");
        engine.range(mem, expr, dur(from), dur(to), dur(step))
    };
    let ctx = format!("{line}\n  expected: {body:?}\n  got: {result:?}");
    if kind == "eval_fail" {
        let err = result.expect_err(&ctx);
        if let Some(want) = body.first() {
            let msg = err.to_string();
            assert!(
                msg.contains(want.trim_start_matches("expected_fail_message ")),
                "{ctx}"
            );
        }
        return;
    }
    let result = result.unwrap_or_else(|e: QueryError| panic!("{ctx}\n  error: {e}"));
    match result.value {
        Value::Scalar { v, .. } => {
            assert_eq!(body.len(), 1, "{ctx}");
            let want = parse_value(body[0]).expect("scalar");
            assert!(approx_eq(v, want), "{ctx}");
        }
        Value::String { v, .. } => assert_eq!(body, [format!("{v:?}").as_str()], "{ctx}"),
        Value::Vector(got) => {
            assert_eq!(got.len(), body.len(), "{ctx}");
            let mut used = vec![false; got.len()];
            for (k, want) in body.iter().enumerate() {
                let split = want.rfind(' ').expect("labels value");
                let labels = parse_labels(&want[..split]);
                let value = parse_value(&want[split + 1..]).expect("value");
                let pos = if kind == "eval_ordered" {
                    Some(k).filter(|&k| got[k].labels == labels)
                } else {
                    got.iter()
                        .enumerate()
                        .position(|(j, g)| !used[j] && g.labels == labels)
                };
                let j = pos.unwrap_or_else(|| panic!("{ctx}\n  missing {want}"));
                used[j] = true;
                assert!(approx_eq(got[j].v, value), "{ctx}\n  value of {want}");
            }
        }
        Value::Matrix(got) => {
            assert_eq!(got.len(), body.len(), "{ctx}");
            for (g, want) in got.iter().zip(body) {
                let split = want
                    .rfind('}')
                    .map(|i| i + 1)
                    .or_else(|| want.find(' '))
                    .unwrap_or(0);
                assert_eq!(g.labels, parse_labels(&want[..split]), "{ctx}");
                let values: Vec<Option<f64>> = expand(&want[split..]);
                // Expected values are per step; `_` marks a step without a point.
                let got_values: Vec<f64> = g.samples.iter().map(|s| s.v).collect();
                let want_values: Vec<f64> = values.into_iter().flatten().collect();
                assert_eq!(got_values.len(), want_values.len(), "{ctx}");
                for (a, b) in got_values.iter().zip(&want_values) {
                    assert!(approx_eq(*a, *b), "{ctx}");
                }
            }
        }
    }
}
