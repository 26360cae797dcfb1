//! Building AST nodes with promql-parser's shapes and checks, reported with
//! Prometheus's messages and positions.
//!
//! Two kinds of error, as in Prometheus: construction errors (an `offset`
//! after an aggregation, a range after a parenthesis, too many aggregation
//! arguments) stop the parse at once, like syntax errors; type errors are
//! carried up the tree in [`Node::err`] as the first one in Prometheus's
//! checking order (`checkAST`), and reported only if the whole text parses.
//! The set of checks is promql-parser's, so both accept the same queries.

use promql_parser::label::{METRIC_NAME, Matchers};
use promql_parser::parser::token::*;
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{
    AggregateExpr, BinModifier, BinaryExpr, Call, Expr, Function, FunctionArgs, LabelModifier,
    ParenExpr, UnaryExpr, VectorMatchCardinality, VectorSelector,
};

use super::describe::quote;
use super::positions::boxed;
use super::{MAX_DEPTH, SyntaxError};

/// A parsed expression with what the checks above it need to know.
pub(super) struct Node {
    pub expr: Expr,
    /// Byte offset where Prometheus's node starts (its error position).
    pub start: usize,
    /// promql-parser's `value_type()`, kept here so it is not recomputed
    /// recursively for every parent.
    pub typ: ValueType,
    /// Height of the tree, bounded by [`MAX_DEPTH`].
    pub depth: usize,
    /// The first type error in this subtree, in Prometheus's order.
    pub err: Option<SyntaxError>,
}

/// Prometheus's names for value types in messages.
pub(super) fn documented(t: ValueType) -> &'static str {
    match t {
        ValueType::Vector => "instant vector",
        ValueType::Matrix => "range vector",
        ValueType::Scalar => "scalar",
        ValueType::String => "string",
    }
}

pub(super) fn first(errs: impl IntoIterator<Item = Option<SyntaxError>>) -> Option<SyntaxError> {
    errs.into_iter().flatten().next()
}

pub(super) fn type_err(
    cond: bool,
    pos: usize,
    msg: impl FnOnce() -> String,
) -> Option<SyntaxError> {
    cond.then(|| SyntaxError::new(pos, msg()))
}

/// A leaf node.
pub(super) fn leaf(expr: Expr, start: usize, typ: ValueType) -> Node {
    Node {
        expr,
        start,
        typ,
        depth: 1,
        err: None,
    }
}

/// A node over `children`, refused when the tree gets too deep.
pub(super) fn over(
    expr: Expr,
    start: usize,
    typ: ValueType,
    children: &[&Node],
    err: Option<SyntaxError>,
) -> Result<Node, SyntaxError> {
    let depth = 1 + children.iter().map(|c| c.depth).max().unwrap_or(0);
    if depth > MAX_DEPTH {
        return Err(SyntaxError::new(
            start,
            format!("expression nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    Ok(Node {
        expr,
        start,
        typ,
        depth,
        err,
    })
}

/// A vector selector, with the checks on its matchers.
pub(super) fn selector(name: Option<String>, matchers: Matchers, start: usize) -> Node {
    let err = match &name {
        Some(name) => matchers
            .matchers
            .iter()
            .chain(matchers.or_matchers.iter().flatten())
            .find(|m| m.name == METRIC_NAME)
            .map(|m| {
                SyntaxError::new(
                    start,
                    format!(
                        "metric name must not be set twice: {} or {}",
                        quote(name),
                        quote(&m.value)
                    ),
                )
            }),
        None => type_err(matchers.is_empty_matchers(), start, || {
            "vector selector must contain at least one non-empty matcher".into()
        }),
    };
    Node {
        err,
        ..leaf(
            Expr::VectorSelector(VectorSelector::new(name, matchers)),
            start,
            ValueType::Vector,
        )
    }
}

pub(super) fn paren(open: usize, mut inner: Node) -> Result<Node, SyntaxError> {
    let typ = inner.typ;
    let err = inner.err.take();
    let expr = Expr::Paren(ParenExpr {
        expr: boxed(&mut inner),
    });
    over(expr, open, typ, &[&inner], err)
}

/// Moves the expression out of a node, leaving a cheap placeholder.
pub(super) fn take(node: &mut Node) -> Expr {
    std::mem::replace(&mut node.expr, Expr::from(0.0))
}

/// Unary `-` (or `+`, which promql-parser drops): folds into a number
/// literal, otherwise wraps the operand.
pub(super) fn unary(op: TokenId, start: usize, mut operand: Node) -> Result<Node, SyntaxError> {
    if op == T_ADD {
        operand.start = start;
        return Ok(operand);
    }
    if let Expr::NumberLiteral(n) = &operand.expr {
        let val = -n.val;
        return Ok(Node {
            expr: Expr::from(val),
            start,
            ..operand
        });
    }
    let typ = operand.typ;
    let err = first([
        operand.err.clone(),
        type_err(!is_scalar_or_vector(typ), start, || {
            format!(
                "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                quote(documented(typ))
            )
        }),
    ]);
    let expr = Expr::Unary(UnaryExpr {
        expr: boxed(&mut operand),
    });
    over(expr, start, typ, &[&operand], err)
}

fn is_scalar_or_vector(t: ValueType) -> bool {
    matches!(t, ValueType::Scalar | ValueType::Vector)
}

/// A binary operation; `op_pos` is the operator's offset (Prometheus's
/// "operator range" for the modifier errors).
pub(super) fn binary(
    mut lhs: Node,
    op: TokenId,
    op_pos: usize,
    modifier: Option<BinModifier>,
    mut rhs: Node,
) -> Result<Node, SyntaxError> {
    let op_type = TokenType::new(op);
    let (lt, rt) = (lhs.typ, rhs.typ);
    let scalar = |t| t == ValueType::Scalar;
    let vector = |t| t == ValueType::Vector;
    let comparison = op_type.is_comparison_operator();
    let set = op_type.is_set_operator();
    let bool_mod = modifier.as_ref().is_some_and(|m| m.return_bool);
    let matching = modifier.as_ref().and_then(|m| m.matching.as_ref());
    let card_labels = modifier.as_ref().and_then(|m| m.card.labels());
    let on_group_clash = match (matching, card_labels) {
        (Some(LabelModifier::Include(on)), Some(group)) => {
            on.labels.iter().find(|l| group.labels.contains(l)).cloned()
        }
        _ => None,
    };
    let matching_labels = matching.is_some_and(|m| !m.labels().is_empty());
    let grouped = modifier.as_ref().is_some_and(|m| {
        matches!(
            m.card,
            VectorMatchCardinality::ManyToOne(_) | VectorMatchCardinality::OneToMany(_)
        )
    });
    let whole = lhs.start;
    let err = first([
        lhs.err.clone(),
        rhs.err.clone(),
        type_err(bool_mod && !comparison, op_pos, || {
            "bool modifier can only be used on comparison operators".into()
        }),
        type_err(
            comparison && scalar(lt) && scalar(rt) && !bool_mod,
            op_pos,
            || "comparisons between scalars must use BOOL modifier".into(),
        ),
        on_group_clash.map(|l| {
            SyntaxError::new(
                op_pos,
                format!(
                    "label {} must not occur in ON and GROUP clause at once",
                    quote(&l)
                ),
            )
        }),
        type_err(!is_scalar_or_vector(lt), lhs.start, || {
            "binary expression must contain only scalar and instant vector types".into()
        }),
        type_err(!is_scalar_or_vector(rt), rhs.start, || {
            "binary expression must contain only scalar and instant vector types".into()
        }),
        type_err(
            (!vector(lt) || !vector(rt)) && matching_labels,
            whole,
            || "vector matching only allowed between instant vectors".into(),
        ),
        type_err(set && vector(lt) && vector(rt) && grouped, whole, || {
            format!(
                "no grouping allowed for {} operation",
                quote(&op_type.to_string())
            )
        }),
        type_err(set && (scalar(lt) || scalar(rt)), whole, || {
            format!(
                "set operator {} not allowed in binary scalar expression",
                quote(&op_type.to_string())
            )
        }),
    ]);
    // promql-parser marks set operations many-to-many.
    let modifier = if set {
        let m = modifier.unwrap_or_default();
        Some(if m.card == VectorMatchCardinality::OneToOne {
            m.with_card(VectorMatchCardinality::ManyToMany)
        } else {
            m
        })
    } else {
        modifier
    };
    let typ = if scalar(lt) && scalar(rt) {
        ValueType::Scalar
    } else {
        ValueType::Vector
    };
    let expr = Expr::Binary(BinaryExpr {
        op: op_type,
        lhs: boxed(&mut lhs),
        rhs: boxed(&mut rhs),
        modifier,
    });
    over(expr, whole, typ, &[&lhs, &rhs], err)
}

/// A function call (the function already looked up), with promql-parser's
/// arity and argument type checks.
pub(super) fn call(func: Function, start: usize, mut args: Vec<Node>) -> Result<Node, SyntaxError> {
    let name = func.name;
    let types = &func.arg_types;
    let n = args.len();
    let arity = if func.variadic == 0 {
        type_err(types.len() != n, start, || {
            format!(
                "expected {} argument(s) in call to {}, got {n}",
                types.len(),
                quote(name)
            )
        })
    } else {
        let least = types.len().saturating_sub(1);
        let most = least + func.variadic.max(0) as usize;
        if least > n {
            Some(SyntaxError::new(
                start,
                format!(
                    "expected at least {least} argument(s) in call to {}, got {n}",
                    quote(name)
                ),
            ))
        } else {
            type_err(func.variadic > 0 && most < n, start, || {
                format!(
                    "expected at most {most} argument(s) in call to {}, got {n}",
                    quote(name)
                )
            })
        }
    };
    // promql-parser skips the type checks of exp/ln/log2/log10 of a literal
    // whose result is special (NaN, ±Inf): it accepts `ln(0)`.
    let special = args.first().and_then(|a| match a.expr {
        Expr::NumberLiteral(ref l) => Some(l.val),
        _ => None,
    });
    let skip_types = arity.is_none()
        && match (name, special) {
            ("exp", Some(v)) => v.is_nan() || v.is_infinite(),
            ("ln" | "log2" | "log10", Some(v)) => v.is_nan() || v.is_infinite() || v <= 0.0,
            _ => false,
        };
    if name == "info" {
        info_label_selector(&mut args);
    }
    let mut errs = vec![arity];
    for (i, a) in args.iter().enumerate() {
        errs.push(a.err.clone());
        if skip_types || types.is_empty() {
            continue;
        }
        let want = types[i.min(types.len() - 1)];
        errs.push(type_err(a.typ != want, a.start, || {
            format!(
                "expected type {} in call to function {}, got {}",
                documented(want),
                quote(name),
                documented(a.typ)
            )
        }));
    }
    let err = first(errs);
    let typ = func.return_type;
    let exprs = args.iter_mut().map(boxed).collect();
    let expr = Expr::Call(Call {
        func,
        args: FunctionArgs { args: exprs },
    });
    let refs: Vec<&Node> = args.iter().collect();
    over(expr, start, typ, &refs, err)
}

/// Prometheus 3 reads `info()`'s second argument as label selectors, not
/// series to select: no metric name before the braces, and its matchers
/// may all accept the empty value (`{k8s_cluster_name=~"east|"}`).
/// promql-parser checks it as any selector; here Prometheus wins.
fn info_label_selector(args: &mut [Node]) {
    let Some(a) = args.get_mut(1) else { return };
    let Expr::VectorSelector(vs) = &a.expr else {
        return;
    };
    if vs.name.is_some() {
        if a.err.is_none() {
            a.err = Some(SyntaxError::new(
                a.start,
                "expected label selectors only, got vector selector instead",
            ));
        }
    } else {
        // A leaf selector without a name has no other error to carry.
        a.err = None;
    }
}

/// An aggregation: argument count checked now (as Prometheus does while
/// parsing), types carried as type errors.
pub(super) fn aggregate(
    op: TokenId,
    start: usize,
    modifier: Option<LabelModifier>,
    mut args: Vec<Node>,
) -> Result<Node, SyntaxError> {
    let op_type = TokenType::new(op);
    if args.is_empty() {
        return Err(SyntaxError::new(
            start,
            "no arguments for aggregate expression provided",
        ));
    }
    let want = if op_type.is_aggregator_with_param() {
        2
    } else {
        1
    };
    if args.len() != want {
        return Err(SyntaxError::new(
            start,
            format!(
                "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                args.len()
            ),
        ));
    }
    let mut expr_node = args
        .pop()
        .ok_or_else(|| SyntaxError::new(start, "missing argument"))?;
    let mut param = args.pop();
    let param_want = match op {
        T_TOPK | T_BOTTOMK | T_QUANTILE => Some(ValueType::Scalar),
        T_COUNT_VALUES => Some(ValueType::String),
        _ => None,
    };
    let et = expr_node.typ;
    let err = first([
        expr_node.err.clone(),
        type_err(et != ValueType::Vector, expr_node.start, || {
            format!(
                "expected type instant vector in aggregation expression, got {}",
                documented(et)
            )
        }),
        param.as_ref().and_then(|p| p.err.clone()),
        match (&param, param_want) {
            (Some(p), Some(w)) => type_err(p.typ != w, p.start, || {
                format!(
                    "expected type {} in aggregation parameter, got {}",
                    documented(w),
                    documented(p.typ)
                )
            }),
            _ => None,
        },
    ]);
    let expr = Expr::Aggregate(AggregateExpr {
        op: op_type,
        expr: boxed(&mut expr_node),
        param: param.as_mut().map(boxed),
        modifier,
    });
    let mut children = vec![&expr_node];
    children.extend(param.as_ref());
    over(expr, start, ValueType::Vector, &children, err)
}
