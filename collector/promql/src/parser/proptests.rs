//! Generated inputs: PromQL-ish token soup, mutated corpus and hand-written
//! expressions, arbitrary bytes, and deep nesting. We must agree with
//! promql-parser (accept/refuse, and the AST) and never panic.

use proptest::prelude::*;

use super::oracle_cases::CASES;
use super::parse;
use super::tests::disagreement;

/// Tokens that exercise every lexer mode and grammar rule.
const VOCABULARY: &[&str] = &[
    "x",
    "foo:bar",
    "sum",
    "avg",
    "topk",
    "count_values",
    "quantile",
    "limitk",
    "rate",
    "abs",
    "vector",
    "time",
    "label_replace",
    "histogram_quantile",
    "ln",
    "exp",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "and",
    "or",
    "unless",
    "atan2",
    "start",
    "end",
    "fill",
    "fill_left",
    "inf",
    "nan",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "=",
    "==",
    "!=",
    "=~",
    "!~",
    "<",
    ">",
    "<=",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "@",
    "1",
    "0.5",
    "0x1f",
    "5m",
    "1h30m",
    "0s",
    "1e3",
    "\"a\"",
    "'b'",
    "`c`",
    "\"a.b\"",
    "job",
    "le",
    "\"(\"",
    "#c\n",
    "é",
    "[5m]",
    "[5m:]",
    "[5m:1m]",
    "{job=\"a\"}",
    "{a=~\".*\"}",
    "or ",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(VOCABULARY),
            prop::sample::select(&["", " ", "\n", "  "][..]),
        ),
        1..14,
    )
    .prop_map(|parts| parts.into_iter().map(|(t, s)| format!("{t}{s}")).collect())
}

fn seeds() -> Vec<String> {
    let path = format!(
        "{}/../../tests/promql/corpus.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut out: Vec<String> = std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    out.extend(CASES.iter().map(|s| s.to_string()));
    out
}

/// A seed expression with one edit: a character deleted, a vocabulary
/// token inserted, or a character replaced.
fn mutated() -> impl Strategy<Value = String> {
    (
        prop::sample::select(seeds()),
        0usize..3,
        any::<prop::sample::Index>(),
        prop::sample::select(VOCABULARY),
        any::<char>(),
    )
        .prop_map(|(seed, edit, at, token, c)| {
            let chars: Vec<char> = seed.chars().collect();
            let i = at.index(chars.len() + 1);
            let (head, tail): (String, String) =
                (chars[..i].iter().collect(), chars[i..].iter().collect());
            match edit {
                0 => format!("{head}{}", tail.chars().skip(1).collect::<String>()),
                1 => format!("{head}{token}{tail}"),
                _ => format!("{head}{c}{}", tail.chars().skip(1).collect::<String>()),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, .. ProptestConfig::default() })]

    #[test]
    fn token_soup_agrees(q in soup()) {
        prop_assert_eq!(disagreement(&q), None);
    }

    #[test]
    fn mutated_expressions_agree(q in mutated()) {
        prop_assert_eq!(disagreement(&q), None);
    }

    #[test]
    fn arbitrary_text_never_panics_and_agrees(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let q = String::from_utf8_lossy(&bytes).into_owned();
        prop_assert_eq!(disagreement(&q), None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Deep nesting of every recursive form is answered (parsed or refused
    /// with an error), never a stack overflow or panic.
    #[test]
    fn deep_nesting_is_bounded(
        depth in 1usize..3_000,
        wrap in prop::sample::select(&["(", "-", "abs(", "sum(", "+", "x ^ ", "x + (", "rate(x[5m:]"][..]),
    ) {
        let close = match wrap {
            "(" | "abs(" | "sum(" | "x + (" => ")",
            "rate(x[5m:]" => "",
            _ => "",
        };
        let q = wrap.repeat(depth) + "x" + &close.repeat(depth);
        let r = parse(&q);
        if depth < 200 && wrap != "rate(x[5m:]" {
            prop_assert!(r.is_ok(), "{}…: {:?}", &q[..20.min(q.len())], r);
        }
        if let Err(e) = r {
            prop_assert!(!e.message.is_empty());
        }
    }
}
/// A longer hunt for differences: `HUNT=300000 cargo test --release -p
/// sextant-promql long_hunt -- --ignored --nocapture`.
#[test]
#[ignore]
fn long_hunt() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut r = TestRunner::deterministic();
    let n: usize = std::env::var("HUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut fails = std::collections::BTreeSet::new();
    for i in 0..n {
        let q = if i % 2 == 0 {
            soup().new_tree(&mut r).map(|t| t.current())
        } else {
            mutated().new_tree(&mut r).map(|t| t.current())
        };
        let Ok(q) = q else { continue };
        if let Some(d) = disagreement(&q)
            && fails.len() < 40
        {
            fails.insert(d);
        }
    }
    for f in &fails {
        println!("{f}");
    }
    assert!(fails.is_empty(), "{} differences", fails.len());
}
