//! The parser proper: precedence climbing over binary operators, unary
//! signs, and the atoms (literals, selectors, calls, aggregations,
//! parentheses).
//!
//! Precedence follows promql-parser's (and Prometheus's) grammar, lowest
//! first: `or`; `and`/`unless`; comparisons; `+ -`; `* / % atan2`; `^`
//! (right-associative). A unary sign binds like `*`, so `-a^b` is `-(a^b)`
//! and `-a*b` is `(-a)*b`; ranges, subqueries, `offset` and `@` bind
//! tighter than anything (see `postfix`).

use promql_parser::parser::Expr;
use promql_parser::parser::token::*;
use promql_parser::parser::value::ValueType;

use super::checks::{self, Node};
use super::lexer::{Lexer, Token};
use super::{MAX_DEPTH, SyntaxError, describe, functions, literals};

/// The parser's state: the lexer, one token of lookahead, and what error
/// messages need to know about where we are.
pub(super) struct Parser<'a> {
    lx: Lexer<'a>,
    peeked: Option<Token>,
    /// Inside an aggregation's argument list (or between its operator and
    /// the list): Prometheus then says "… in aggregation".
    pub(super) in_aggregation: usize,
    /// Current recursion depth, bounded by [`MAX_DEPTH`].
    nesting: usize,
}

/// Parses a whole query.
pub(super) fn parse_query(src: &str) -> Result<Expr, SyntaxError> {
    let mut p = Parser {
        lx: Lexer::new(src),
        peeked: None,
        in_aggregation: 0,
        nesting: 0,
    };
    if p.peek()?.id == T_EOF {
        return Err(SyntaxError::new(0, "no expression found in input"));
    }
    let node = p.expr(0)?;
    let t = p.peek()?;
    if t.id != T_EOF {
        return Err(p.unexpected_here(t));
    }
    match node.err {
        Some(e) => Err(e),
        None => Ok(node.expr),
    }
}

/// Binding power of a binary operator token.
fn precedence(id: TokenId) -> Option<u8> {
    Some(match id {
        T_LOR => 1,
        T_LAND | T_LUNLESS => 2,
        T_EQLC | T_NEQ | T_LTE | T_LSS | T_GTE | T_GTR => 3,
        T_ADD | T_SUB => 4,
        T_MUL | T_DIV | T_MOD | T_ATAN2 => 5,
        T_POW => 6,
        _ => return None,
    })
}

const POW: u8 = 6;

fn is_aggregator(id: TokenId) -> bool {
    id > T_AGGREGATORS_START && id < T_AGGREGATORS_END
}

impl<'a> Parser<'a> {
    /// The next token, without consuming it.
    pub(super) fn peek(&mut self) -> Result<Token, SyntaxError> {
        if let Some(t) = self.peeked {
            return Ok(t);
        }
        let t = self.lx.next()?;
        self.peeked = Some(t);
        Ok(t)
    }

    /// The next token, consumed.
    pub(super) fn bump(&mut self) -> Result<Token, SyntaxError> {
        let t = self.peek()?;
        self.peeked = None;
        Ok(t)
    }

    /// Consumes the next token if it is `id`.
    pub(super) fn eat(&mut self, id: TokenId) -> Result<Option<Token>, SyntaxError> {
        let t = self.peek()?;
        Ok((t.id == id).then(|| {
            self.peeked = None;
            t
        }))
    }

    pub(super) fn text(&self, t: Token) -> &'a str {
        self.lx.text(t)
    }

    /// Prometheus's "unexpected <token>[ in <context>][, expected <what>]".
    pub(super) fn unexpected(&self, t: Token, context: &str, expected: &str) -> SyntaxError {
        let mut msg = format!("unexpected {}", describe::token(t.id, self.text(t)));
        if !context.is_empty() {
            msg.push_str(" in ");
            msg.push_str(context);
        }
        if !expected.is_empty() {
            msg.push_str(", expected ");
            msg.push_str(expected);
        }
        SyntaxError::new(t.start, msg)
    }

    /// A token no rule takes here: Prometheus names the innermost
    /// aggregation if there is one.
    pub(super) fn unexpected_here(&self, t: Token) -> SyntaxError {
        let context = if self.in_aggregation > 0 {
            "aggregation"
        } else {
            ""
        };
        self.unexpected(t, context, "")
    }

    /// Consumes `id` or reports the token found instead.
    pub(super) fn expect(&mut self, id: TokenId) -> Result<Token, SyntaxError> {
        let t = self.bump()?;
        if t.id == id {
            Ok(t)
        } else {
            Err(self.unexpected_here(t))
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), SyntaxError> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(SyntaxError::new(
                at,
                format!("expression nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    /// An expression whose binary operators bind at least as tightly as
    /// `min`.
    pub(super) fn expr(&mut self, min: u8) -> Result<Node, SyntaxError> {
        let at = self.peek()?.start;
        self.enter(at)?;
        let mut lhs = self.unary()?;
        loop {
            let op = self.peek()?;
            let Some(prec) = precedence(op.id).filter(|p| *p >= min) else {
                break;
            };
            self.bump()?;
            let modifier = self.bin_modifier()?;
            // `^` is right-associative; the others are left-associative.
            let next = if op.id == T_POW { prec } else { prec + 1 };
            let rhs = self.expr(next)?;
            lhs = checks::binary(lhs, op.id, op.start, modifier, rhs)?;
        }
        self.nesting -= 1;
        Ok(lhs)
    }

    /// A signed operand, or an atom with its postfix modifiers.
    fn unary(&mut self) -> Result<Node, SyntaxError> {
        let t = self.peek()?;
        if t.id == T_ADD || t.id == T_SUB {
            self.bump()?;
            let operand = self.expr(POW)?;
            return checks::unary(t.id, t.start, operand);
        }
        let atom = self.atom()?;
        self.postfix(atom)
    }

    fn atom(&mut self) -> Result<Node, SyntaxError> {
        let t = self.bump()?;
        let text = self.text(t);
        match t.id {
            T_NUMBER => {
                let v = literals::number(text).map_err(|m| SyntaxError::new(t.start, m))?;
                Ok(checks::leaf(Expr::from(v), t.start, ValueType::Scalar))
            }
            T_DURATION => {
                let d = literals::duration(text).map_err(|m| SyntaxError::new(t.start, m))?;
                Ok(checks::leaf(
                    Expr::from(d.as_secs_f64()),
                    t.start,
                    ValueType::Scalar,
                ))
            }
            T_STRING => {
                let s = literals::unquote(text).map_err(|m| SyntaxError::new(t.start, m))?;
                Ok(checks::leaf(Expr::from(s), t.start, ValueType::String))
            }
            T_LEFT_PAREN => {
                let inner = self.expr(0)?;
                self.expect(T_RIGHT_PAREN)?;
                checks::paren(t.start, inner)
            }
            T_LEFT_BRACE => {
                let matchers = self.label_matchers()?;
                Ok(checks::selector(None, matchers, t.start))
            }
            T_IDENTIFIER | T_START | T_END if self.peek()?.id == T_LEFT_PAREN => self.call(t),
            id if is_aggregator(id)
                && matches!(self.peek()?.id, T_LEFT_PAREN | T_BY | T_WITHOUT) =>
            {
                self.aggregation(t)
            }
            id if is_aggregator(id)
                || matches!(
                    id,
                    T_IDENTIFIER
                        | T_METRIC_IDENTIFIER
                        | T_START
                        | T_END
                        | T_BY
                        | T_WITHOUT
                        | T_LAND
                        | T_LOR
                        | T_LUNLESS
                        | T_OFFSET
                        | T_FILL
                        | T_FILL_LEFT
                        | T_FILL_RIGHT
                ) =>
            {
                let matchers = match self.eat(T_LEFT_BRACE)? {
                    Some(_) => self.label_matchers()?,
                    None => promql_parser::label::Matchers::empty(),
                };
                Ok(checks::selector(Some(text.to_string()), matchers, t.start))
            }
            _ => Err(self.unexpected_here(t)),
        }
    }

    /// `(` then comma-separated expressions then `)`; the `(` is next.
    fn arguments(&mut self) -> Result<Vec<Node>, SyntaxError> {
        self.expect(T_LEFT_PAREN)?;
        let mut args = Vec::new();
        if self.eat(T_RIGHT_PAREN)?.is_some() {
            return Ok(args);
        }
        loop {
            args.push(self.expr(0)?);
            let t = self.bump()?;
            match t.id {
                T_RIGHT_PAREN => return Ok(args),
                T_COMMA if matches!(self.peek()?.id, T_RIGHT_PAREN | T_COMMA) => {
                    return Err(SyntaxError::new(
                        t.start,
                        "trailing commas not allowed in function call args",
                    ));
                }
                T_COMMA => {}
                _ => return Err(self.unexpected_here(t)),
            }
        }
    }

    /// A function call; the name is consumed, `(` is next.
    fn call(&mut self, name: Token) -> Result<Node, SyntaxError> {
        let args = self.arguments()?;
        let text = self.text(name);
        let func = functions::lookup(text).ok_or_else(|| {
            SyntaxError::new(
                name.start,
                format!("unknown function with name {}", describe::quote(text)),
            )
        })?;
        checks::call(func, name.start, args)
    }

    /// An aggregation, its `by`/`without` clause before or after the
    /// arguments; the operator is consumed.
    fn aggregation(&mut self, op: Token) -> Result<Node, SyntaxError> {
        self.in_aggregation += 1;
        let mut modifier = self.aggregation_modifier()?;
        let args = self.arguments()?;
        self.in_aggregation -= 1;
        if modifier.is_none() {
            modifier = self.aggregation_modifier()?;
        }
        checks::aggregate(op.id, op.start, modifier, args)
    }
}
