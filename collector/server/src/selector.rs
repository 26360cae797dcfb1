//! Series and stream selectors (`{job="api", path=~"/v1/.*"}`), parsed with
//! the engine's PromQL parser (LogQL stream selectors share the syntax) into
//! store matchers.

use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{Expr, VectorSelector};
use sextant_model::{MatchOp, Matcher};

/// Longest selector text we parse; longer input is refused, not parsed.
pub const MAX_SELECTOR_BYTES: usize = 16 << 10;

/// Parses a selector into matchers (a bare metric name becomes `__name__=`).
pub fn parse(text: &str) -> Result<Vec<Matcher>, String> {
    if text.len() > MAX_SELECTOR_BYTES {
        return Err(format!(
            "selector is {} bytes; the limit is {MAX_SELECTOR_BYTES}",
            text.len()
        ));
    }
    match sextant_promql::parse(text) {
        Ok(Expr::VectorSelector(vs)) => matchers(&vs),
        Ok(_) => Err(format!("{text:?} is not a series selector")),
        // Prometheus's form: `1:4: parse error: …`, after the caller's
        // `invalid parameter "match[]": `.
        Err(e) => Err(e.to_string()),
    }
}

/// Converts a parsed vector selector into store matchers. `or` alternatives
/// (Prometheus 3's `{a="1" or b="2"}`) are not supported yet.
pub fn matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, String> {
    if !vs.matchers.or_matchers.is_empty() {
        return Err("`or` inside a selector is not supported yet".to_string());
    }
    let mut out = Vec::new();
    if let Some(name) = &vs.name {
        out.push(store_matcher("__name__", MatchOp::Eq, name)?);
    }
    for m in &vs.matchers.matchers {
        let op = match m.op {
            PMatchOp::Equal => MatchOp::Eq,
            PMatchOp::NotEqual => MatchOp::Ne,
            PMatchOp::Re(_) => MatchOp::Re,
            PMatchOp::NotRe(_) => MatchOp::Nre,
        };
        if m.name == "__name__" && vs.name.is_some() && op == MatchOp::Eq {
            continue;
        }
        out.push(store_matcher(&m.name, op, &m.value)?);
    }
    Ok(out)
}

fn store_matcher(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
    Matcher::new(name, op, value).map_err(|e| format!("invalid regex in matcher {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_selectors() {
        let cases: &[(&str, Option<usize>)] = &[
            ("up", Some(1)),
            (r#"up{job="a"}"#, Some(2)),
            (r#"{__name__!="", job=~"a|b", x!~"y"}"#, Some(3)),
            (r#"{service_name="shop"}"#, Some(1)),
            ("sum(up)", None),
            ("{", None),
            (r#"{a=~"("}"#, None),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).ok().map(|m| m.len()), *want, "{text}");
        }
        assert_eq!(
            parse("up{").expect_err("unclosed"),
            "1:4: parse error: unexpected end of input inside braces"
        );
        let m = parse(r#"{job=~"a|b"}"#).expect("valid");
        assert!(m[0].matches("a") && m[0].matches("b") && !m[0].matches("ab"));
    }
}
