//! Series selectors as store matchers: the one conversion from a parsed
//! vector selector (`up{job="api"}`, Prometheus 3's `{a="1" or b="2"}`) to
//! the data model's matchers. The evaluator loads selectors through it, and
//! the HTTP layer parses `match[]` and Loki stream selectors with
//! [`parse_selector`], so those endpoints accept exactly what a query of the
//! same selector accepts and refuse it in the same words.

use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{Expr, VectorSelector};
use sextant_model::{MatchOp, Matcher};

use crate::error::QueryError;
use crate::parser::ParseError;

/// Longest selector text [`parse_selector`] parses; longer input is refused
/// unparsed, so a `match[]` parameter cannot make the parser work hard.
pub const MAX_SELECTOR_BYTES: usize = 16 << 10;

/// Why a selector text gives no matchers. The `Display` texts are what the
/// APIs answer after their own prefix (`invalid parameter "match[]": `).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorError {
    /// The text is over [`MAX_SELECTOR_BYTES`].
    #[error("selector is {0} bytes; the limit is {MAX_SELECTOR_BYTES}")]
    TooLong(usize),
    /// The text does not parse; Prometheus's `1:4: parse error: …`.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The text parses, but to an expression other than a vector selector.
    #[error("{0:?} is not a series selector")]
    NotASelector(String),
    /// A regex the parser accepted does not compile as a store matcher.
    #[error("invalid regular expression {value:?}: {reason}")]
    Regex {
        /// The matcher's value as written.
        value: String,
        /// The regex engine's complaint.
        reason: String,
    },
}

impl From<SelectorError> for QueryError {
    /// Inside a query a selector fails as bad input, as any parse error does.
    fn from(e: SelectorError) -> QueryError {
        QueryError::Parse(e.to_string())
    }
}

/// Parses a series selector (what `match[]` and Loki's stream selectors
/// carry) into the matcher sets it stands for: one set, or one per `or`
/// alternative. A series matches the selector when it matches any set, so
/// callers union (and deduplicate) what each set finds.
pub fn parse_selector(text: &str) -> Result<Vec<Vec<Matcher>>, SelectorError> {
    if text.len() > MAX_SELECTOR_BYTES {
        return Err(SelectorError::TooLong(text.len()));
    }
    match crate::parser::parse(text)? {
        Expr::VectorSelector(vs) => matcher_sets(&vs),
        _ => Err(SelectorError::NotASelector(text.to_string())),
    }
}

/// The store matcher sets a parsed selector stands for: one set, or one per
/// `or` alternative, each including the metric name (`up{a="1" or b="2"}` is
/// `{__name__="up", a="1"}` or `{__name__="up", b="2"}`).
pub fn matcher_sets(vs: &VectorSelector) -> Result<Vec<Vec<Matcher>>, SelectorError> {
    let groups: Vec<&Vec<promql_parser::label::Matcher>> = if vs.matchers.or_matchers.is_empty() {
        vec![&vs.matchers.matchers]
    } else {
        let mut g: Vec<_> = vs.matchers.or_matchers.iter().collect();
        if !vs.matchers.matchers.is_empty() {
            g.push(&vs.matchers.matchers);
        }
        g
    };
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let mut set = Vec::with_capacity(group.len() + 1);
        if let Some(name) = &vs.name {
            set.push(store_matcher("__name__", MatchOp::Eq, name)?);
        }
        for m in group {
            let op = match m.op {
                PMatchOp::Equal => MatchOp::Eq,
                PMatchOp::NotEqual => MatchOp::Ne,
                PMatchOp::Re(_) => MatchOp::Re,
                PMatchOp::NotRe(_) => MatchOp::Nre,
            };
            set.push(store_matcher(&m.name, op, &m.value)?);
        }
        out.push(set);
    }
    Ok(out)
}

fn store_matcher(name: &str, op: MatchOp, value: &str) -> Result<Matcher, SelectorError> {
    Matcher::new(name, op, value).map_err(|e| SelectorError::Regex {
        value: value.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each set as `name op value` strings, for readable comparisons.
    fn sets(text: &str) -> Vec<Vec<String>> {
        parse_selector(text)
            .expect("valid selector")
            .iter()
            .map(|set| {
                set.iter()
                    .map(|m| {
                        let op = match m.op {
                            MatchOp::Eq => "=",
                            MatchOp::Ne => "!=",
                            MatchOp::Re => "=~",
                            MatchOp::Nre => "!~",
                        };
                        format!("{}{op}{}", m.name, m.value)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn one_set_without_or() {
        assert_eq!(sets("up"), [["__name__=up"]]);
        assert_eq!(sets(r#"up{job="a"}"#), [["__name__=up", "job=a"]]);
        assert_eq!(
            sets(r#"{__name__!="", job=~"a|b", x!~"y"}"#),
            [["__name__!=", "job=~a|b", "x!~y"]]
        );
        assert_eq!(sets(r#"{service_name="shop"}"#), [["service_name=shop"]]);
    }

    #[test]
    fn metric_name_in_braces_or_quoted() {
        assert_eq!(sets(r#"{__name__="up"}"#), [["__name__=up"]]);
        assert_eq!(sets(r#"{"up", job="a"}"#), [["__name__=up", "job=a"]]);
        assert_eq!(
            parse_selector(r#"up{__name__="down"}"#)
                .expect_err("named twice")
                .to_string(),
            r#"1:1: parse error: metric name must not be set twice: "up" or "down""#
        );
    }

    #[test]
    fn or_gives_one_set_per_alternative_each_with_the_name() {
        assert_eq!(sets(r#"{a="1" or b="2"}"#), [vec!["a=1"], vec!["b=2"]]);
        assert_eq!(
            sets(r#"up{a="1", c="3" or b="2"}"#),
            [
                vec!["__name__=up", "a=1", "c=3"],
                vec!["__name__=up", "b=2"]
            ]
        );
        assert_eq!(
            sets(r#"{__name__="x" or job="y" or job="z"}"#),
            [vec!["__name__=x"], vec!["job=y"], vec!["job=z"]]
        );
    }

    #[test]
    fn regexes_are_anchored() {
        let m = parse_selector(r#"{job=~"a|b"}"#).expect("valid");
        let m = &m[0][0];
        assert!(m.matches("a") && m.matches("b") && !m.matches("ab"));
    }

    #[test]
    fn errors_in_prometheus_words() {
        let err = |text: &str| parse_selector(text).expect_err(text).to_string();
        assert_eq!(
            err("up{"),
            "1:4: parse error: unexpected end of input inside braces"
        );
        assert_eq!(err("sum(up)"), r#""sum(up)" is not a series selector"#);
        assert_eq!(err("up[5m]"), r#""up[5m]" is not a series selector"#);
        assert_eq!(
            err(r#"{a=~"("}"#),
            "1:2: parse error: error parsing regexp: missing closing ): `^(?:()$`"
        );
        let long = format!("{{a=\"{}\"}}", "x".repeat(MAX_SELECTOR_BYTES));
        assert_eq!(
            err(&long),
            format!(
                "selector is {} bytes; the limit is {MAX_SELECTOR_BYTES}",
                long.len()
            )
        );
    }

    #[test]
    fn inside_a_query_a_selector_error_is_bad_data() {
        let e = QueryError::from(SelectorError::NotASelector("1".into()));
        assert_eq!(e.error_type(), "bad_data");
        assert_eq!(e.to_string(), r#""1" is not a series selector"#);
    }
}
