//! Our own PromQL parser: a hand-written lexer and a recursive-descent,
//! precedence-climbing parser that builds promql-parser's AST
//! ([`promql_parser::parser::Expr`]) so the evaluator, the pretty printer and
//! the AST-to-JSON code keep working, but reports syntax errors the way
//! Prometheus does: `line:col: parse error: message`.
//!
//! promql-parser discards its LR parser's spans and answers every syntax
//! error with "invalid promql query"; Prometheus names the offending token
//! and its position. What is accepted follows promql-parser 0.11 exactly (the
//! engine was built on its acceptance, and the tests hold us to it); the
//! error text and positions follow Prometheus (checked against a real
//! Prometheus in `tests/e2e/bad_queries.rs`).
//!
//! As in Prometheus, errors found while reading the text (bad tokens, bad
//! syntax, unknown functions, misplaced modifiers) win over type errors,
//! which are only reported for a text that parses; among type errors the
//! first in Prometheus's checking order is reported.
//!
//! Files: `lexer` (tokens; `lexer/quoted` for strings), `literals`
//! (values of numbers, durations, strings), `expr` (operators and atoms),
//! `postfix` (ranges, subqueries, `offset`, `@`), `positions` (where
//! sub-expressions start, for annotations), `selector` (label
//! matchers, grouping labels, binary modifiers), `functions` (the function
//! table), `checks` (node construction with the type checks), `describe`
//! (Prometheus's token descriptions). Tests: `tests` and `oracle_cases`
//! (equivalence with promql-parser), `proptests`, `error_tests` (messages).

mod checks;
mod describe;
mod expr;
mod functions;
mod lexer;
mod literals;
mod positions;
mod postfix;
mod selector;

pub(crate) use positions::Positions;

#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod oracle_cases;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use promql_parser::parser::Expr;

/// Deepest expression tree (and deepest recursion) the parser builds. Each
/// level costs stack when parsing, dropping and evaluating the tree, so a
/// hostile `((((…` or `-----…` is refused with a clear error instead.
pub(crate) const MAX_DEPTH: usize = 1_000;

/// Above this many nesting-capable characters (`(`, `[`, `-`, `+`, `^`) the
/// text is parsed on a thread with [`BIG_STACK_BYTES`] of stack: callers
/// such as HTTP handlers run on 2 MiB stacks, and one level of nesting costs
/// about 3.5 KiB of stack in a release build (12 KiB unoptimized), so
/// [`MAX_DEPTH`] levels would not fit. Shallow texts (nearly all) parse in
/// place; spawning a thread for the others costs microseconds.
const SHALLOW_NESTERS: usize = 32;

/// Stack for parsing deep texts (reserved, not committed, up front).
const BIG_STACK_BYTES: usize = 64 << 20;

/// A PromQL syntax or type error with its position, displayed as Prometheus
/// displays it (`1:5: parse error: unexpected end of input`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: parse error: {message}")]
pub struct ParseError {
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column, counted in bytes from the line start as Prometheus
    /// counts it (so a two-byte `é` before the error counts twice).
    pub col: usize,
    /// What is wrong, in Prometheus's words where we know them.
    pub message: String,
}

/// An error at a byte offset, before it is turned into line and column.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SyntaxError {
    pub pos: usize,
    pub msg: String,
}

impl SyntaxError {
    pub(super) fn new(pos: usize, msg: impl Into<String>) -> SyntaxError {
        SyntaxError {
            pos,
            msg: msg.into(),
        }
    }

    /// Line and column of `pos` in `src`, as Prometheus's
    /// `PositionRange.StartPosInput` computes them: lines split at `\n`,
    /// the column is the byte distance from the last line break.
    fn locate(self, src: &str) -> ParseError {
        let (line, col) = line_col(src, self.pos);
        ParseError {
            line,
            col,
            message: self.msg,
        }
    }
}

/// Line and column of byte offset `pos` in `src`, as Prometheus's
/// `PositionRange.StartPosInput` computes them: lines split at `\n`, the
/// column is the byte distance from the last line break.
fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(src.len());
    let before = &src.as_bytes()[..pos];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let col = match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => pos - nl,
        None => pos + 1,
    };
    (line, col)
}

/// Parses a PromQL expression into promql-parser's AST, accepting exactly
/// what promql-parser 0.11 accepts, and reporting errors with Prometheus's
/// position and wording. Never panics; deep texts are parsed on a thread of
/// their own with a big stack.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    if nesters(input) <= SHALLOW_NESTERS {
        return parse_in_place(input);
    }
    let spawned = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("promql-parse".into())
            .stack_size(BIG_STACK_BYTES)
            .spawn_scoped(s, || parse_in_place(input))
            .map(|h| h.join())
    });
    match spawned {
        Ok(Ok(result)) => result,
        // The parser does not panic; if it ever did, say so as an error.
        Ok(Err(_)) => Err(ParseError {
            line: 1,
            col: 1,
            message: "internal error: parser panicked".into(),
        }),
        // No thread to be had (e.g. strict overcommit): parse here; the
        // depth bound still holds recursion to a few megabytes at worst.
        Err(_) => parse_in_place(input),
    }
}

/// [`parse`] on the caller's stack, for callers that already run on a big
/// one (the engine's evaluation thread).
pub(crate) fn parse_in_place(input: &str) -> Result<Expr, ParseError> {
    expr::parse_query(input).map_err(|e| e.locate(input))
}

/// [`parse_in_place`], also noting where each sub-expression starts, for
/// the positions Prometheus puts on warnings and infos.
pub(crate) fn parse_with_positions(input: &str) -> Result<(Expr, Positions), ParseError> {
    let (parsed, positions) = positions::recording(input, || parse_in_place(input));
    parsed.map(|e| (e, positions))
}

/// Counts the characters that can make the parser recurse.
fn nesters(input: &str) -> usize {
    input
        .bytes()
        .filter(|b| matches!(b, b'(' | b'[' | b'-' | b'+' | b'^'))
        .count()
}
