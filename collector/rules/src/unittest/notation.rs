//! promtool's input-series notation: `series: 'm{l="v"}'` and `values:`
//! with `a+bxn` (n+1 values from a, stepping b), `a-bxn`, `axn` (a, n+1
//! times), `_` (no sample), `_xn` (n missing), `stale` (a stale marker),
//! and plain numbers including `Inf`, `-Inf` and `NaN`.

use sextant_model::{Labels, MatchOp, STALE_NAN_BITS};

/// Most values one `values:` line may expand to: a test file is input, and
/// `0+1x1000000000` must not allocate a billion samples.
pub const MAX_VALUES: usize = 1_000_000;

/// One expanded value: a sample, or none at this step.
pub type Point = Option<f64>;

/// Reads `m{l="v"}` as labels (equality matchers only, as a series is).
pub fn series_labels(text: &str) -> Result<Labels, String> {
    // `{}` is the empty label set (a scalar's or an aggregation's), which
    // Prometheus's metric parser takes and a selector refuses.
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'));
    if inner.is_some_and(|i| i.trim().is_empty()) {
        return Ok(Labels::from_pairs(Vec::new()));
    }
    let sets = sextant_promql::parse_selector(text).map_err(|e| e.to_string())?;
    let [set] = sets.as_slice() else {
        return Err(format!("{text:?} is not one series"));
    };
    let mut pairs = Vec::new();
    for m in set {
        if m.op != MatchOp::Eq {
            return Err(format!("{text:?}: a series takes only = matchers"));
        }
        if !m.value.is_empty() {
            pairs.push((m.name.clone(), m.value.clone()));
        }
    }
    Ok(Labels::from_pairs(pairs))
}

/// Expands a `values:` line.
pub fn expand(values: &str) -> Result<Vec<Point>, String> {
    let mut out = Vec::new();
    for token in values.split_whitespace() {
        expand_token(token, &mut out)?;
        check(out.len(), 0)?;
    }
    Ok(out)
}

fn expand_token(token: &str, out: &mut Vec<Point>) -> Result<(), String> {
    let bad = || format!("invalid value {token:?} (use a, a+bxn, a-bxn, axn, _, _xn or stale)");
    if token == "_" {
        out.push(None);
        return Ok(());
    }
    if token == "stale" {
        out.push(Some(f64::from_bits(STALE_NAN_BITS)));
        return Ok(());
    }
    if let Some(n) = token.strip_prefix("_x") {
        let n: usize = n.parse().map_err(|_| bad())?;
        check(out.len(), n)?;
        out.extend(std::iter::repeat_n(None, n));
        return Ok(());
    }
    let Some((start_step, times)) = token.rsplit_once('x') else {
        out.push(Some(number(token).ok_or_else(bad)?));
        return Ok(());
    };
    let n: usize = times.parse().map_err(|_| bad())?;
    // The operator is the first + or - after the first character that is
    // not an exponent's sign.
    let op = start_step
        .char_indices()
        .skip(1)
        .find(|&(i, c)| {
            (c == '+' || c == '-') && !matches!(start_step.as_bytes().get(i - 1), Some(b'e' | b'E'))
        })
        .map(|(i, _)| i);
    let (start, step) = match op {
        Some(i) => {
            let start = number(&start_step[..i]).ok_or_else(bad)?;
            let step = number(&start_step[i + 1..]).ok_or_else(bad)?;
            (
                start,
                if &start_step[i..=i] == "-" {
                    -step
                } else {
                    step
                },
            )
        }
        None => (number(start_step).ok_or_else(bad)?, 0.0),
    };
    check(out.len(), n + 1)?;
    // Prometheus adds the step each time, so float steps accumulate as there.
    let mut v = start;
    for _ in 0..=n {
        out.push(Some(v));
        v += step;
    }
    Ok(())
}

fn check(have: usize, more: usize) -> Result<(), String> {
    if have.saturating_add(more) > MAX_VALUES {
        return Err(format!("over {MAX_VALUES} values"));
    }
    Ok(())
}

fn number(s: &str) -> Option<f64> {
    match s {
        "Inf" | "+Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(s: &str) -> Vec<Option<f64>> {
        expand(s).expect("expands")
    }

    #[test]
    fn promtools_notation() {
        assert_eq!(vals("1+1x3"), [Some(1.0), Some(2.0), Some(3.0), Some(4.0)]);
        assert_eq!(vals("1-1x2"), [Some(1.0), Some(0.0), Some(-1.0)]);
        assert_eq!(vals("-2+4x2"), [Some(-2.0), Some(2.0), Some(6.0)]);
        assert_eq!(vals("5x2"), [Some(5.0), Some(5.0), Some(5.0)]);
        assert_eq!(vals("_x3 5 _"), [None, None, None, Some(5.0), None]);
        assert_eq!(vals("1e3 2.5"), [Some(1000.0), Some(2.5)]);
        assert_eq!(vals("1e-3+1e-3x1"), [Some(0.001), Some(0.002)]);
        let s = vals("stale Inf -Inf");
        assert_eq!(s[0].map(f64::to_bits), Some(STALE_NAN_BITS));
        assert_eq!(s[1], Some(f64::INFINITY));
        assert_eq!(s[2], Some(f64::NEG_INFINITY));
        assert!(vals("NaN")[0].is_some_and(f64::is_nan));
    }

    #[test]
    fn bad_values_and_huge_expansions_are_refused() {
        for bad in ["x3", "1+x3", "abc", "1+1xq", "_xq"] {
            assert!(expand(bad).is_err(), "{bad}");
        }
        assert!(
            expand("0+1x1000000000")
                .expect_err("too many")
                .contains("over")
        );
    }

    #[test]
    fn series_are_equality_selectors() {
        let l = series_labels(r#"m{job="a", i="1"}"#).expect("series");
        assert_eq!(l.get("__name__"), Some("m"));
        assert_eq!(l.get("job"), Some("a"));
        assert!(series_labels(r#"m{job=~"a"}"#).is_err());
        assert!(series_labels("sum(m)").is_err());
        assert_eq!(series_labels("{ }").expect("empty set").pairs(), &[]);
    }
}
