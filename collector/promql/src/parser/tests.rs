//! Equivalence with promql-parser 0.11, the oracle: for every input both
//! accept or both refuse, and where both accept the ASTs are equal. Inputs:
//! the compatibility corpus, the hand-written cases, and generated
//! combinations of every operator, aggregation and function.
//!
//! Deliberate differences (see [`DIFFERENT`]): promql-parser panics on
//! durations `Duration` cannot hold (`offset 1e400`, `offset inf`); we
//! refuse them with an error. The oracle's panics count as refusals. And
//! where Prometheus 3 parses differently from promql-parser we follow
//! Prometheus (see [`PROMETHEUS_3`]).

use promql_parser::parser::{Expr, VectorSelector};
use promql_parser::util::{ExprVisitor, walk_expr};

use super::oracle_cases::CASES;
use super::{functions, parse};

/// What promql-parser makes of `q`: `None` when it refuses (or panics).
pub(super) fn oracle(q: &str) -> Option<Expr> {
    quiet_oracle_panics();
    std::panic::catch_unwind(|| promql_parser::parser::parse(q))
        .ok()
        .and_then(Result::ok)
}

/// Keeps promql-parser's expected panics out of the test output; any
/// other panic is still reported by the default hook.
fn quiet_oracle_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let theirs = info.location().is_some_and(|l| {
                l.file().contains("promql-parser") || l.file().contains("/time.rs")
            });
            if !theirs {
                default(info);
            }
        }));
    });
}

/// Inputs where promql-parser panics and we answer an error.
const DIFFERENT: &[&str] = &["x offset 1e400", "x offset inf", "x offset nan", "x[1e400]"];

/// Inputs where we follow Prometheus 3 rather than promql-parser, with what
/// we make of them (`None`: refused). `info()`'s second argument is label
/// selectors only (no metric name), whose matchers may all accept "". `\x`
/// and octal escapes are bytes, as in Go; a string whose bytes are not
/// UTF-8 is refused (no label could equal it).
const PROMETHEUS_3: &[(&str, Option<&str>)] = &[
    ("info(a, a)", None),
    ("info(a, b{c=\"d\"})", None),
    ("info(a, {b=\"\"})", Some("info(a, {b=\"\"})")),
    (
        "info(a, {b=~\".*\", c!=\"x\"})",
        Some("info(a, {b=~\".*\",c!=\"x\"})"),
    ),
    ("\"\\xc3\\xa9\"", Some("\"é\"")),
    ("a{b=\"\\303\\251\"}", Some("a{b=\"é\"}")),
    ("\"\\xff\"", None),
    ("\"\\377\"", None),
];

#[test]
fn prometheus_3_wins_over_the_oracle() {
    for &(q, ours) in PROMETHEUS_3 {
        assert_eq!(
            parse(q).ok().map(|e| e.to_string()).as_deref(),
            ours,
            "{q:?}"
        );
        let theirs = oracle(q).map(|e| e.to_string());
        assert_ne!(theirs.as_deref(), ours, "{q:?} no longer differs");
    }
}

/// Spellings of the `info()` difference that generated inputs found; any
/// other disagreement inside `info()` must still be reported.
#[test]
fn info_difference_is_recognised_by_shape() {
    for q in [
        "info(x, {a=\"\"})",
        "info(x, x{a=\"b\"})",
        "sum(info(x, {a=~\"b|\"}))",
    ] {
        assert_eq!(disagreement(q), None, "{q:?}");
    }
    assert!(info_selectors(
        &oracle("info(x, {a=\"b\"})").expect("the oracle parses it"),
        |vs| vs.name.is_none()
    ));
    assert!(!accepts_empty(
        match &oracle("{a=\"b\"}").expect("the oracle parses it") {
            Expr::VectorSelector(vs) => vs,
            _ => unreachable!(),
        }
    ));
}

/// Whether `q` may hold a `\x` or octal escape of a byte over 0x7F, where
/// we follow Go (a byte) and promql-parser does not (a code point); such
/// inputs are compared in [`PROMETHEUS_3`] instead. Errs towards yes.
fn high_byte_escape(q: &str) -> bool {
    let b = q.as_bytes();
    b.windows(3).any(|w| {
        w[0] == b'\\'
            && ((w[1] == b'x' && matches!(w[2], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F'))
                || matches!(w[1], b'2'..=b'3'))
    })
}

/// Whether `e` calls `info()` with a second argument that `pick` selects:
/// generated inputs reach the [`PROMETHEUS_3`] difference in many
/// spellings (`info(x, {a=""})`, `info(x, x{a="b"})`), so it is recognised
/// by shape rather than listed.
fn info_selectors(e: &Expr, pick: impl Fn(&VectorSelector) -> bool) -> bool {
    struct Find<F>(F, bool);
    impl<F: Fn(&VectorSelector) -> bool> ExprVisitor for Find<F> {
        type Error = std::convert::Infallible;
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, Self::Error> {
            if let Expr::Call(c) = e
                && let (true, Some(Expr::VectorSelector(vs))) =
                    (c.func.name == "info", c.args.args.get(1).map(|a| &**a))
            {
                self.1 |= (self.0)(vs);
            }
            Ok(!self.1)
        }
    }
    let mut find = Find(pick, false);
    let _ = walk_expr(&mut find, e);
    find.1
}

/// Whether some alternative of the selector's matchers all accept "",
/// which promql-parser refuses and Prometheus 3 allows in `info()`.
fn accepts_empty(vs: &VectorSelector) -> bool {
    let all = |ms: &[promql_parser::label::Matcher]| ms.iter().all(|m| m.is_match(""));
    if vs.matchers.or_matchers.is_empty() {
        all(&vs.matchers.matchers)
    } else {
        vs.matchers.or_matchers.iter().any(|ms| all(ms))
    }
}

/// Compares us with the oracle on `q`; returns a description if we differ.
pub(super) fn disagreement(q: &str) -> Option<String> {
    let ours = parse(q);
    if high_byte_escape(q) {
        return None;
    }
    let theirs = oracle(q);
    match (&ours, &theirs) {
        (Ok(a), Some(b)) if a == b => None,
        (Err(_), None) => None,
        (Ok(a), None) if info_selectors(a, |vs| vs.name.is_none() && accepts_empty(vs)) => None,
        (Err(_), Some(b)) if info_selectors(b, |vs| vs.name.is_some()) => None,
        _ => Some(format!(
            "{q:?}:\n  ours:   {:?}\n  theirs: {:?}",
            ours.as_ref().map(ToString::to_string),
            theirs.as_ref().map(ToString::to_string)
        )),
    }
}

fn check_all<'a>(inputs: impl IntoIterator<Item = &'a str>) -> (usize, usize) {
    let mut failures = Vec::new();
    let (mut total, mut accepted) = (0, 0);
    for q in inputs {
        total += 1;
        if DIFFERENT.contains(&q) {
            assert!(parse(q).is_err(), "{q:?} must be refused");
            continue;
        }
        if PROMETHEUS_3.iter().any(|(p, _)| *p == q) {
            continue; // checked by prometheus_3_wins_over_the_oracle
        }
        if parse(q).is_ok() {
            accepted += 1;
        }
        if let Some(d) = disagreement(q) {
            failures.push(d);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} inputs differ from promql-parser:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (total, accepted)
}

fn corpus(file: &str) -> Vec<String> {
    let path = format!("{}/../../tests/promql/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').next().unwrap_or(l).to_string())
        .collect()
}

#[test]
fn corpus_parses_as_promql_parser_parses_it() {
    let mut lines = corpus("corpus.txt");
    lines.extend(corpus("v3_only.txt"));
    let (total, accepted) = check_all(lines.iter().map(String::as_str));
    assert!(total > 340, "corpus too small: {total}");
    // The corpus holds valid expressions only.
    assert_eq!(accepted, total);
}

#[test]
fn hand_written_cases_agree() {
    let (total, accepted) = check_all(CASES.iter().copied());
    // Both outcomes must be well represented for the test to mean anything.
    assert!(
        accepted > 150 && total - accepted > 150,
        "{accepted} of {total}"
    );
}

const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless", "atan2",
];
const OPERANDS: &[&str] = &["a", "1", "\"s\"", "a[5m]", "(1)", "-a", "sum(a)", "a[5m:]"];
const MODIFIERS: &[&str] = &[
    "",
    "bool",
    "on(x)",
    "ignoring(x)",
    "on(x) group_left",
    "on(x) group_left(y)",
    "ignoring(x) group_right(y)",
    "on(x) group_right(x)",
    "bool on(x)",
    "bool ignoring() group_left",
    "fill(0)",
    "on(x) fill_left(1) fill_right(-2)",
];

#[test]
fn every_operator_operand_and_modifier_agrees() {
    let mut inputs = Vec::new();
    for op in OPERATORS {
        for m in MODIFIERS {
            for l in OPERANDS {
                for r in OPERANDS {
                    inputs.push(format!("{l} {op} {m} {r}"));
                }
            }
        }
        for op2 in OPERATORS {
            inputs.push(format!("a {op} b {op2} c"));
            inputs.push(format!("-a {op} b {op2} -c ^ d"));
        }
    }
    check_all(inputs.iter().map(String::as_str));
}

#[test]
fn every_aggregation_agrees() {
    let ops = [
        "sum",
        "avg",
        "count",
        "min",
        "max",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "count_values",
        "quantile",
        "limitk",
        "limit_ratio",
    ];
    let args = [
        "",
        "a",
        "5, a",
        "\"l\", a",
        "a, a",
        "1",
        "a[5m]",
        "0.5, a, b",
    ];
    let mut inputs = Vec::new();
    for op in ops {
        for a in args {
            for g in ["", "by (x)", "without (x, y)", "by ()"] {
                inputs.push(format!("{op} {g} ({a})"));
                inputs.push(format!("{op}({a}) {g}"));
            }
        }
    }
    check_all(inputs.iter().map(String::as_str));
}

#[test]
fn every_function_agrees() {
    let args = [
        "",
        "a",
        "a[5m]",
        "1",
        "\"s\"",
        "a, 1",
        "a[5m], 1",
        "1, a",
        "a, \"s\"",
        "a, 1, 2",
        "a, \"b\", \"c\", \"d\"",
        "a, \"b\", \"c\", \"d\", \"e\"",
        "0.5, a[5m]",
        "a, a",
        "a, \"b\", \"c\", \"d\", \"e\", \"f\"",
    ];
    let mut inputs = Vec::new();
    for f in functions::names() {
        for a in args {
            inputs.push(format!("{f}({a})"));
        }
    }
    let (total, accepted) = check_all(inputs.iter().map(String::as_str));
    // Every function has at least one accepted form above.
    assert!(
        accepted >= functions::names().count(),
        "{accepted} of {total}"
    );
}

#[test]
fn deep_and_long_inputs_are_bounded() {
    let deep = "(".repeat(5_000) + "1" + &")".repeat(5_000);
    let e = parse(&deep).expect_err("too deep");
    assert!(e.message.contains("nests deeper"), "{e}");
    let neg = "-".repeat(5_000) + "x";
    assert!(parse(&neg).is_err());
    let long = vec!["x"; 20_000].join(" + ");
    let e = parse(&long).expect_err("too deep a tree");
    assert!(e.message.contains("nests deeper"), "{e}");
    let ok = vec!["x"; 900].join(" + ");
    assert!(parse(&ok).is_ok());
    let calls = "abs(".repeat(900) + "x" + &")".repeat(900);
    assert!(parse(&calls).is_ok());
}

/// Texts under the in-place threshold parse on a small stack (a tokio
/// worker has 2 MiB; this thread has 1 MiB), so only deeper texts need the
/// parser's own big-stack thread.
#[test]
fn shallow_texts_parse_on_a_small_stack() {
    let n = super::SHALLOW_NESTERS / 2;
    let shapes = [
        "(".repeat(n * 2) + "x" + &")".repeat(n * 2),
        "-".repeat(n * 2) + "x",
        "abs(".repeat(n * 2) + "x" + &")".repeat(n * 2),
        "sum(".repeat(n * 2) + "x" + &")".repeat(n * 2),
        "x ^ ".repeat(n * 2) + "x",
        "max_over_time(".repeat(n - 1) + "x[5m:]" + &")[5m:]".repeat(n - 1),
    ];
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            for q in &shapes {
                assert!(super::nesters(q) <= super::SHALLOW_NESTERS, "{q}");
                assert!(parse(q).is_ok(), "{q}");
            }
        })
        .expect("thread")
        .join()
        .expect("no stack overflow");
}
