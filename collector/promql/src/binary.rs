//! Binary operators: arithmetic, comparison (filtering or `bool`), the set
//! operators, and vector matching with `on`/`ignoring`/`group_left`/`group_right`,
//! following Prometheus's `VectorBinop`, `VectorscalarBinop` and `resultMetric`.

use std::collections::{HashMap, HashSet};

use promql_parser::label::Labels as PLabels;
use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB, TokenId,
};
use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};
use sextant_model::Labels;

use crate::error::QueryError;
use crate::eval::{Evaluator, check_unique};
use crate::labels;
use crate::value::{Elem, Val};

/// How two vectors are matched: by `on` labels or by all but `ignoring` ones.
struct Matching {
    on: bool,
    names: Vec<String>,
}

impl Matching {
    fn sig(&self, l: &Labels) -> Vec<(String, String)> {
        labels::signature(l, self.on, &self.names)
    }
}

fn names(l: &PLabels) -> Vec<String> {
    l.labels.clone()
}

/// Evaluates a binary expression at `t`.
pub(crate) fn eval(ev: &mut Evaluator, b: &BinaryExpr, t: i64) -> Result<Val, QueryError> {
    let op = b.op.id();
    let modifier = b.modifier.as_ref();
    if modifier.is_some_and(|m| m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some()) {
        return Err(QueryError::exec("fill modifiers are not supported"));
    }
    let return_bool = modifier.is_some_and(|m| m.return_bool);
    let lhs = ev.eval(&b.lhs, t)?;
    let rhs = ev.eval(&b.rhs, t)?;
    match (lhs, rhs) {
        (Val::Scalar(a), Val::Scalar(c)) => {
            let (v, keep) = elem_op(op, a, c)?;
            Ok(Val::Scalar(if is_comparison(op) {
                if keep { 1.0 } else { 0.0 }
            } else {
                v
            }))
        }
        (Val::Vector(v), Val::Scalar(s)) => vector_scalar(op, v, s, false, return_bool, t),
        (Val::Scalar(s), Val::Vector(v)) => vector_scalar(op, v, s, true, return_bool, t),
        (Val::Vector(l), Val::Vector(r)) => {
            let matching = match modifier.and_then(|m| m.matching.as_ref()) {
                Some(LabelModifier::Include(ls)) => Matching {
                    on: true,
                    names: names(ls),
                },
                Some(LabelModifier::Exclude(ls)) => Matching {
                    on: false,
                    names: names(ls),
                },
                None => Matching {
                    on: false,
                    names: Vec::new(),
                },
            };
            match op {
                T_LAND => Ok(Val::Vector(and(l, &r, &matching))),
                T_LOR => Ok(Val::Vector(or(l, r, &matching))),
                T_LUNLESS => Ok(Val::Vector(unless(l, &r, &matching))),
                _ => {
                    let card = modifier
                        .map(|m| m.card.clone())
                        .unwrap_or(VectorMatchCardinality::OneToOne);
                    let out = vector_vector(op, l, r, &matching, &card, return_bool, t)?;
                    check_unique(out)
                }
            }
        }
        (l, r) => Err(QueryError::exec(format!(
            "binary expression must contain only scalar and instant vector types, got {} and {}",
            l.type_name(),
            r.type_name()
        ))),
    }
}

fn is_comparison(op: TokenId) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Whether the operator drops `__name__` (arithmetic does, comparison filters do not).
fn drops_name(op: TokenId) -> bool {
    matches!(op, T_ADD | T_SUB | T_MUL | T_DIV | T_MOD | T_POW | T_ATAN2)
}

/// Applies an operator to two floats: the value and, for comparisons,
/// whether the pair passes (comparisons yield the left value).
pub(crate) fn elem_op(op: TokenId, l: f64, r: f64) -> Result<(f64, bool), QueryError> {
    Ok(match op {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_MOD => (l % r, true),
        T_POW => (l.powf(r), true),
        T_ATAN2 => (l.atan2(r), true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => return Err(QueryError::exec(format!("operator {op} not allowed here"))),
    })
}

fn vector_scalar(
    op: TokenId,
    v: Vec<Elem>,
    s: f64,
    scalar_left: bool,
    return_bool: bool,
    t: i64,
) -> Result<Val, QueryError> {
    let drop = drops_name(op) || return_bool;
    let mut out = Vec::with_capacity(v.len());
    for e in v {
        let (l, r) = if scalar_left { (s, e.v) } else { (e.v, s) };
        let (mut value, mut keep) = elem_op(op, l, r)?;
        // A comparison always yields the vector's value, even on the right.
        if is_comparison(op) && scalar_left {
            value = r;
        }
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        if keep {
            out.push(Elem {
                labels: if drop {
                    labels::drop_name(&e.labels)
                } else {
                    e.labels
                },
                v: value,
                ts: t,
            });
        }
    }
    check_unique(out)
}

fn vector_vector(
    op: TokenId,
    lhs: Vec<Elem>,
    rhs: Vec<Elem>,
    matching: &Matching,
    card: &VectorMatchCardinality,
    return_bool: bool,
    t: i64,
) -> Result<Vec<Elem>, QueryError> {
    if lhs.is_empty() || rhs.is_empty() {
        return Ok(Vec::new());
    }
    let one_to_many = matches!(card, VectorMatchCardinality::OneToMany(_));
    let include: Vec<String> = card.labels().map(names).unwrap_or_default();
    // For one-to-many, swap sides so the right is always the "one" side.
    let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let mut one_by_sig: HashMap<Vec<(String, String)>, Elem> = HashMap::new();
    for e in one {
        let sig = matching.sig(&e.labels);
        if let Some(dup) = one_by_sig.get(&sig) {
            let side = if one_to_many { "left" } else { "right" };
            return Err(QueryError::exec(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                Labels::from_pairs(sig),
                e.labels,
                dup.labels
            )));
        }
        one_by_sig.insert(sig, e);
    }
    let one_to_one = matches!(card, VectorMatchCardinality::OneToOne);
    let mut matched: HashMap<Vec<(String, String)>, HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for m in many {
        let sig = matching.sig(&m.labels);
        let Some(o) = one_by_sig.get(&sig) else {
            continue;
        };
        let (fl, fr) = if one_to_many { (o.v, m.v) } else { (m.v, o.v) };
        let (mut value, keep) = elem_op(op, fl, fr)?;
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        let mut metric = result_metric(&m.labels, &o.labels, op, matching, one_to_one, &include);
        if return_bool {
            metric = labels::drop_name(&metric);
        }
        match matched.get_mut(&sig) {
            Some(_) if one_to_one => {
                return Err(QueryError::exec(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
            Some(set) => {
                if !set.insert(metric.clone()) {
                    return Err(QueryError::exec(
                        "multiple matches for labels: grouping labels must ensure unique matches",
                    ));
                }
            }
            None => {
                matched.insert(sig, HashSet::from([metric.clone()]));
            }
        }
        out.push(Elem {
            labels: metric,
            v: value,
            ts: t,
        });
    }
    Ok(out)
}

/// The labels of a matched pair's result: the "many" side's labels, minus
/// the name for arithmetic, reduced to the matching labels for one-to-one
/// `on` (or minus the `ignoring` ones), plus `group_x` labels from the "one" side.
fn result_metric(
    many: &Labels,
    one: &Labels,
    op: TokenId,
    matching: &Matching,
    one_to_one: bool,
    include: &[String],
) -> Labels {
    let mut l = if drops_name(op) {
        labels::drop_name(many)
    } else {
        many.clone()
    };
    if one_to_one {
        l = if matching.on {
            labels::keep(&l, &matching.names)
        } else {
            labels::without(&l, &matching.names)
        };
    }
    for name in include {
        l = labels::set(&l, name, one.get(name).unwrap_or(""));
    }
    l
}

fn and(lhs: Vec<Elem>, rhs: &[Elem], m: &Matching) -> Vec<Elem> {
    let sigs: HashSet<_> = rhs.iter().map(|e| m.sig(&e.labels)).collect();
    lhs.into_iter()
        .filter(|e| sigs.contains(&m.sig(&e.labels)))
        .collect()
}

fn or(lhs: Vec<Elem>, rhs: Vec<Elem>, m: &Matching) -> Vec<Elem> {
    let sigs: HashSet<_> = lhs.iter().map(|e| m.sig(&e.labels)).collect();
    let mut out = lhs;
    out.extend(
        rhs.into_iter()
            .filter(|e| !sigs.contains(&m.sig(&e.labels))),
    );
    out
}

fn unless(lhs: Vec<Elem>, rhs: &[Elem], m: &Matching) -> Vec<Elem> {
    let sigs: HashSet<_> = rhs.iter().map(|e| m.sig(&e.labels)).collect();
    lhs.into_iter()
        .filter(|e| !sigs.contains(&m.sig(&e.labels)))
        .collect()
}
