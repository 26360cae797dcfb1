//! Limits on the query text and tree that keep hostile input from costing
//! more than a bounded amount: parsing, dropping and evaluating the tree all
//! recurse along its depth (the parser refuses trees deeper than
//! [`MAX_DEPTH`] itself; [`check_depth`] holds any tree to it again), and
//! evaluation costs grow with the number of operators.

use promql_parser::parser::Expr;

use crate::error::QueryError;

/// Longest expression text accepted; longer input is refused unparsed.
pub(crate) const MAX_EXPR_BYTES: usize = 64 << 10;

/// Most operators (symbols, `and`/`or`/`unless`/`atan2`, opening
/// brackets) accepted before parsing: far more than any hand-written or
/// generated dashboard query. Our parser takes time linear in the text (the
/// limit was 2,000 while promql-parser, quadratic in operator chains, did
/// the parsing); the bound stays so a query's tree stays small.
pub(crate) const MAX_OPERATORS: usize = 10_000;

/// Deepest expression tree evaluated: the parser's own bound.
pub(crate) const MAX_DEPTH: usize = crate::parser::MAX_DEPTH;

/// Refuses oversized text and text with too many operators, counted
/// outside string literals.
pub(crate) fn check_text(expr: &str) -> Result<(), QueryError> {
    if expr.len() > MAX_EXPR_BYTES {
        return Err(QueryError::Parse(format!(
            "expression is {} bytes; the limit is {MAX_EXPR_BYTES}",
            expr.len()
        )));
    }
    let ops = count_operators(expr);
    if ops > MAX_OPERATORS {
        return Err(QueryError::Parse(format!(
            "expression has {ops} operators; the limit is {MAX_OPERATORS}"
        )));
    }
    Ok(())
}

fn count_operators(expr: &str) -> usize {
    let mut count = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut word = String::new();
    let flush = |word: &mut String, count: &mut usize| {
        if matches!(
            word.to_ascii_lowercase().as_str(),
            "and" | "or" | "unless" | "atan2"
        ) {
            *count += 1;
        }
        word.clear();
    };
    for c in expr.chars() {
        if let Some(q) = quote {
            // Backquoted strings have no escapes.
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut count);
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '+' | '-' | '*' | '/' | '%' | '^' | '=' | '!' | '<' | '>' | '(' | '[' | '{' => {
                count += 1
            }
            _ => {}
        }
    }
    flush(&mut word, &mut count);
    count
}

/// Refuses trees deeper than [`MAX_DEPTH`]; computed without recursion.
pub(crate) fn check_depth(e: &Expr) -> Result<(), QueryError> {
    let mut stack: Vec<(&Expr, usize)> = vec![(e, 1)];
    while let Some((e, d)) = stack.pop() {
        if d > MAX_DEPTH {
            return Err(QueryError::Parse(format!(
                "expression nests deeper than {MAX_DEPTH} levels"
            )));
        }
        match e {
            Expr::Aggregate(a) => {
                stack.push((&a.expr, d + 1));
                if let Some(p) = &a.param {
                    stack.push((p, d + 1));
                }
            }
            Expr::Unary(u) => stack.push((&u.expr, d + 1)),
            Expr::Binary(b) => {
                stack.push((&b.lhs, d + 1));
                stack.push((&b.rhs, d + 1));
            }
            Expr::Paren(p) => stack.push((&p.expr, d + 1)),
            Expr::Subquery(s) => stack.push((&s.expr, d + 1)),
            Expr::Call(c) => stack.extend(c.args.args.iter().map(|a| (a.as_ref(), d + 1))),
            Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector(_)
            | Expr::Extension(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Mem;
    use crate::{Engine, EngineConfig, QueryError};

    #[test]
    fn counts_operators_outside_strings() {
        assert_eq!(count_operators(r#"a + b"#), 1);
        assert_eq!(count_operators(r#"a{x="+-*/"} or b"#), 3);
        assert_eq!(count_operators(r#"a{x="\"+"} AND b"#), 3);
        assert_eq!(count_operators("rate(x[5m])"), 2);
        assert_eq!(count_operators("orx + android"), 1);
    }

    /// Deep and long inputs are refused quickly instead of overflowing the
    /// stack or parsing for seconds.
    #[test]
    fn hostile_shapes_are_refused_or_survive() {
        let engine = Engine::new(EngineConfig::default());
        let mem = Mem::default();
        let cases = [
            "1+".repeat(30_000) + "1",
            "(".repeat(30_000) + "1" + &")".repeat(30_000),
            "-".repeat(60_000) + "1",
            "abs(".repeat(900) + "vector(1)" + &")".repeat(900),
            "a or ".repeat(5_000) + "a",
        ];
        for q in cases {
            let started = std::time::Instant::now();
            let r = engine.instant(&mem, &q, 0);
            assert!(
                matches!(r, Ok(_) | Err(QueryError::Parse(_))),
                "{}…: {r:?}",
                &q[..20]
            );
            assert!(started.elapsed() < std::time::Duration::from_secs(10));
        }
        let deep = "abs(".repeat(1_200) + "vector(1)" + &")".repeat(1_200);
        assert!(matches!(
            engine.instant(&mem, &deep, 0),
            Err(QueryError::Parse(_))
        ));
    }
}
