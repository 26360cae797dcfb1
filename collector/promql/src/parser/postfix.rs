//! What may follow an atom and binds tighter than any operator: a range
//! `[5m]`, a subquery `[1h:1m]` or `[1h:]`, `offset [+|-]d` and
//! `@ t` / `@ start()` / `@ end()`, in any order and repeated (a repeated
//! modifier is then refused by the checks, as promql-parser refuses it).

use std::time::Duration;

use promql_parser::parser::token::*;
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{AtModifier, Expr, MatrixSelector, Offset, SubqueryExpr};

use super::SyntaxError;
use super::checks::{Node, first, over, take, type_err};
use super::expr::Parser;
use super::lexer::Token;
use super::literals;
use super::positions::boxed;

const SUBQUERY: &str = "subquery selector";

impl Parser<'_> {
    /// Applies the postfix modifiers that follow `node`.
    pub(super) fn postfix(&mut self, mut node: Node) -> Result<Node, SyntaxError> {
        loop {
            let t = self.peek()?;
            node = match t.id {
                T_LEFT_BRACKET => {
                    self.bump()?;
                    self.range(node, t)?
                }
                T_OFFSET => {
                    self.bump()?;
                    self.offset(node)?
                }
                T_AT => {
                    self.bump()?;
                    self.at(node)?
                }
                _ => return Ok(node),
            }
        }
    }

    /// A duration inside brackets: a duration token, or a number of seconds
    /// written with a leading digit (promql-parser's bracket lexer takes no
    /// `.5`).
    fn bracket_duration(&self, t: Token) -> Option<Result<Duration, SyntaxError>> {
        let text = self.text(t);
        let ok = t.id == T_DURATION
            || (t.id == T_NUMBER && text.as_bytes().first().is_some_and(u8::is_ascii_digit));
        ok.then(|| {
            literals::duration_or_seconds(text, t.id == T_DURATION)
                .map_err(|m| SyntaxError::new(t.start, m))
        })
    }

    /// `[range]` or `[range:step]` / `[range:]`; `[` is consumed.
    fn range(&mut self, node: Node, bracket: Token) -> Result<Node, SyntaxError> {
        let t = self.bump()?;
        if t.id == T_RIGHT_BRACKET {
            return Err(SyntaxError::new(
                t.start,
                "missing unit character in duration",
            ));
        }
        let range = match self.bracket_duration(t) {
            Some(d) => d?,
            None => return Err(self.unexpected(t, SUBQUERY, "duration")),
        };
        let t = self.bump()?;
        match t.id {
            T_RIGHT_BRACKET => matrix(node, range, bracket.start),
            T_COLON => {
                let t = self.bump()?;
                let step = if t.id == T_RIGHT_BRACKET {
                    None
                } else {
                    let Some(step) = self.bracket_duration(t) else {
                        return Err(self.unexpected(t, SUBQUERY, "duration or \"]\""));
                    };
                    let step = step?;
                    let close = self.bump()?;
                    if close.id != T_RIGHT_BRACKET {
                        return Err(self.unexpected(close, SUBQUERY, "\"]\""));
                    }
                    Some(step)
                };
                subquery(node, range, step)
            }
            _ => Err(self.unexpected(t, "subquery or range", "\":\" or \"]\"")),
        }
    }

    /// `offset d`, `offset +d`, `offset -d`; `offset` is consumed.
    fn offset(&mut self, node: Node) -> Result<Node, SyntaxError> {
        let mut t = self.bump()?;
        let negative = t.id == T_SUB;
        if t.id == T_ADD || t.id == T_SUB {
            t = self.bump()?;
        }
        if t.id != T_DURATION && t.id != T_NUMBER {
            return Err(self.unexpected(t, "offset", "duration"));
        }
        let d = literals::duration_or_seconds(self.text(t), t.id == T_DURATION)
            .map_err(|m| SyntaxError::new(t.start, m))?;
        let offset = if negative {
            Offset::Neg(d)
        } else {
            Offset::Pos(d)
        };
        set_offset(node, offset)
    }

    /// `@ t`, `@ +t`, `@ -t`, `@ start()`, `@ end()`; `@` is consumed.
    fn at(&mut self, node: Node) -> Result<Node, SyntaxError> {
        const AT: &str = "@";
        const TIMESTAMP: &str = "timestamp";
        let mut t = self.bump()?;
        if t.id == T_START || t.id == T_END {
            for want in [T_LEFT_PAREN, T_RIGHT_PAREN] {
                let p = self.bump()?;
                if p.id != want {
                    return Err(self.unexpected(p, AT, TIMESTAMP));
                }
            }
            let at = if t.id == T_START {
                AtModifier::Start
            } else {
                AtModifier::End
            };
            return set_at(node, at);
        }
        let negative = t.id == T_SUB;
        if t.id == T_ADD || t.id == T_SUB {
            t = self.bump()?;
        }
        let text = self.text(t);
        let secs = match t.id {
            T_NUMBER => literals::number(text),
            T_DURATION => literals::duration(text).map(|d| d.as_secs_f64()),
            _ => return Err(self.unexpected(t, AT, TIMESTAMP)),
        }
        .map_err(|m| SyntaxError::new(t.start, m))?;
        let secs = if negative { -secs } else { secs };
        let at = AtModifier::try_from(secs).map_err(|_| {
            SyntaxError::new(
                node.start,
                format!("timestamp out of bounds for @ modifier: {}", go_float(secs)),
            )
        })?;
        set_at(node, at)
    }
}

/// Go's `%f` of a float: six decimals, `+Inf`, `-Inf`, `NaN`.
fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v:.6}")
    }
}

/// `expr[range]`: only a plain vector selector takes a range.
fn matrix(mut node: Node, range: Duration, bracket: usize) -> Result<Node, SyntaxError> {
    let vs = match take(&mut node) {
        Expr::VectorSelector(vs) => vs,
        _ => {
            return Err(SyntaxError::new(
                bracket,
                "ranges only allowed for vector selectors",
            ));
        }
    };
    if vs.offset.is_some() {
        return Err(SyntaxError::new(
            bracket,
            "no offset modifiers allowed before range",
        ));
    }
    if vs.at.is_some() {
        return Err(SyntaxError::new(
            bracket,
            "no @ modifiers allowed before range",
        ));
    }
    Ok(Node {
        expr: Expr::MatrixSelector(MatrixSelector { vs, range }),
        typ: ValueType::Matrix,
        ..node
    })
}

/// `expr[range:step]`.
fn subquery(mut node: Node, range: Duration, step: Option<Duration>) -> Result<Node, SyntaxError> {
    let t = node.typ;
    let err = first([
        node.err.clone(),
        type_err(t != ValueType::Vector, node.start, || {
            format!("subquery is only allowed on instant vector, got {t} instead")
        }),
    ]);
    let expr = Expr::Subquery(SubqueryExpr {
        expr: boxed(&mut node),
        offset: None,
        at: None,
        range,
        step,
    });
    over(expr, node.start, ValueType::Matrix, &[&node], err)
}

/// `expr offset d`: only on selectors and subqueries, and only once.
fn set_offset(mut node: Node, offset: Offset) -> Result<Node, SyntaxError> {
    let slot = match &mut node.expr {
        Expr::VectorSelector(vs) => &mut vs.offset,
        Expr::MatrixSelector(ms) => &mut ms.vs.offset,
        Expr::Subquery(s) => &mut s.offset,
        _ => {
            return Err(SyntaxError::new(
                node.start,
                "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
            ));
        }
    };
    if slot.is_some() {
        return Err(SyntaxError::new(
            node.start,
            "offset may not be set multiple times",
        ));
    }
    *slot = Some(offset);
    Ok(node)
}

/// `expr @ t`: only on selectors and subqueries, and only once.
fn set_at(mut node: Node, at: AtModifier) -> Result<Node, SyntaxError> {
    let slot = match &mut node.expr {
        Expr::VectorSelector(vs) => &mut vs.at,
        Expr::MatrixSelector(ms) => &mut ms.vs.at,
        Expr::Subquery(s) => &mut s.at,
        _ => {
            return Err(SyntaxError::new(
                node.start,
                "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
            ));
        }
    };
    if slot.is_some() {
        return Err(SyntaxError::new(
            node.start,
            "@ <timestamp> may not be set multiple times",
        ));
    }
    *slot = Some(at);
    Ok(node)
}
