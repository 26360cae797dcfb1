//! `/api/v1/parse_query`: the parsed expression as the JSON tree Prometheus 3
//! answers (its `translateAST`, the shape the Prometheus UI's tree view reads).
//!
//! The fields are those of Prometheus 3.0–3.5: `anchored`, `smoothed` and
//! `fillValues`, newer experimental additions, are not emitted because the
//! parser here has no such syntax. Each vector selector's `matchers` end with
//! the `__name__` matcher when the name was written outside the braces, as
//! Prometheus's parser appends it.

use std::time::{Duration, UNIX_EPOCH};

use promql_parser::label::Matcher;
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{
    AtModifier, Expr, LabelModifier, Offset, VectorMatchCardinality, VectorSelector,
};
use serde_json::{Value, json};

/// The JSON tree of `expr`.
pub fn translate(expr: &Expr) -> Value {
    match expr {
        Expr::Aggregate(a) => {
            let (grouping, without) = match &a.modifier {
                Some(LabelModifier::Include(l)) => (l.labels.clone(), false),
                Some(LabelModifier::Exclude(l)) => (l.labels.clone(), true),
                None => (Vec::new(), false),
            };
            json!({
                "type": "aggregation",
                "op": a.op.to_string(),
                "expr": translate(&a.expr),
                "param": a.param.as_deref().map_or(Value::Null, translate),
                "grouping": grouping,
                "without": without,
            })
        }
        Expr::Binary(b) => {
            let both_vectors =
                b.lhs.value_type() == ValueType::Vector && b.rhs.value_type() == ValueType::Vector;
            let matching = match &b.modifier {
                Some(m) if both_vectors => {
                    let (labels, on) = match &m.matching {
                        Some(LabelModifier::Include(l)) => (l.labels.clone(), true),
                        Some(LabelModifier::Exclude(l)) => (l.labels.clone(), false),
                        None => (Vec::new(), false),
                    };
                    json!({
                        "card": card(&m.card),
                        "labels": labels,
                        "on": on,
                        "include": m.card.labels().map(|l| l.labels.clone()).unwrap_or_default(),
                    })
                }
                None if both_vectors => {
                    json!({"card": "one-to-one", "labels": [], "on": false, "include": []})
                }
                _ => Value::Null,
            };
            json!({
                "type": "binaryExpr",
                "op": b.op.to_string(),
                "lhs": translate(&b.lhs),
                "rhs": translate(&b.rhs),
                "matching": matching,
                "bool": b.modifier.as_ref().is_some_and(|m| m.return_bool),
            })
        }
        Expr::Call(c) => json!({
            "type": "call",
            "func": {
                "name": c.func.name,
                "argTypes": c.func.arg_types.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "variadic": c.func.variadic,
                "returnType": c.func.return_type.to_string(),
            },
            "args": c.args.args.iter().map(|a| translate(a)).collect::<Vec<_>>(),
        }),
        Expr::MatrixSelector(m) => {
            let mut v = selector(&m.vs, "matrixSelector");
            v["range"] = json!(millis(&m.range));
            v
        }
        Expr::Subquery(s) => {
            let (timestamp, start_or_end) = at(&s.at);
            json!({
                "type": "subquery",
                "expr": translate(&s.expr),
                "range": millis(&s.range),
                "offset": offset(&s.offset),
                "step": s.step.as_ref().map_or(0, millis),
                "timestamp": timestamp,
                "startOrEnd": start_or_end,
            })
        }
        Expr::NumberLiteral(n) => json!({"type": "numberLiteral", "val": go_float(n.val)}),
        Expr::StringLiteral(s) => json!({"type": "stringLiteral", "val": s.val}),
        Expr::Paren(p) => json!({"type": "parenExpr", "expr": translate(&p.expr)}),
        Expr::Unary(u) => json!({"type": "unaryExpr", "op": "-", "expr": translate(&u.expr)}),
        Expr::VectorSelector(vs) => selector(vs, "vectorSelector"),
        Expr::Extension(_) => Value::Null,
    }
}

/// A vector selector's fields (a matrix selector adds `range`).
fn selector(vs: &VectorSelector, kind: &str) -> Value {
    let mut matchers: Vec<Value> = vs.matchers.matchers.iter().map(matcher).collect();
    if let Some(name) = &vs.name
        && !vs.matchers.matchers.iter().any(|m| m.name == "__name__")
    {
        matchers.push(json!({"name": "__name__", "value": name, "type": "="}));
    }
    let (timestamp, start_or_end) = at(&vs.at);
    json!({
        "type": kind,
        "name": vs.name.clone().unwrap_or_default(),
        "offset": offset(&vs.offset),
        "matchers": matchers,
        "timestamp": timestamp,
        "startOrEnd": start_or_end,
    })
}

fn matcher(m: &Matcher) -> Value {
    json!({"name": m.name, "value": m.value, "type": m.op.to_string()})
}

fn card(c: &VectorMatchCardinality) -> &'static str {
    match c {
        VectorMatchCardinality::OneToOne => "one-to-one",
        VectorMatchCardinality::ManyToOne(_) => "many-to-one",
        VectorMatchCardinality::OneToMany(_) => "one-to-many",
        VectorMatchCardinality::ManyToMany => "many-to-many",
    }
}

fn millis(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn offset(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => millis(d),
        Some(Offset::Neg(d)) => -millis(d),
    }
}

/// `(timestamp, startOrEnd)`: `@ <t>` in milliseconds, or `start`/`end`.
fn at(a: &Option<AtModifier>) -> (Value, Value) {
    match a {
        None => (Value::Null, Value::Null),
        Some(AtModifier::Start) => (Value::Null, json!("start")),
        Some(AtModifier::End) => (Value::Null, json!("end")),
        Some(AtModifier::At(t)) => {
            let ms = match t.duration_since(UNIX_EPOCH) {
                Ok(d) => millis(&d),
                Err(e) => -millis(&e.duration()),
            };
            (json!(ms), Value::Null)
        }
    }
}

/// A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it.
fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use promql_parser::parser;

    fn tree(q: &str) -> Value {
        translate(&parser::parse(q).expect("valid expression"))
    }

    #[test]
    fn selectors_as_prometheus_3() {
        assert_eq!(
            tree("up{job=\"a\"} offset 5m"),
            json!({
                "type": "vectorSelector", "name": "up", "offset": 300_000,
                "matchers": [
                    {"name": "job", "value": "a", "type": "="},
                    {"name": "__name__", "value": "up", "type": "="},
                ],
                "timestamp": null, "startOrEnd": null,
            })
        );
        let m = tree("rate(x[5m] @ 100)");
        assert_eq!(m["type"], "call");
        assert_eq!(m["func"]["name"], "rate");
        assert_eq!(m["func"]["argTypes"], json!(["matrix"]));
        assert_eq!(m["func"]["returnType"], "vector");
        assert_eq!(m["args"][0]["type"], "matrixSelector");
        assert_eq!(m["args"][0]["range"], 300_000);
        assert_eq!(m["args"][0]["timestamp"], 100_000);
    }

    #[test]
    fn operators_and_literals() {
        let b = tree("sum by (job) (a) / on (job) group_left (x) b");
        assert_eq!(b["type"], "binaryExpr");
        assert_eq!(b["op"], "/");
        assert_eq!(
            b["matching"],
            json!({"card": "many-to-one", "labels": ["job"], "on": true, "include": ["x"]})
        );
        assert_eq!(b["lhs"]["grouping"], json!(["job"]));
        assert_eq!(b["lhs"]["without"], false);
        assert_eq!(tree("1 + 2")["matching"], Value::Null);
        assert_eq!(tree("1e3")["val"], "1000");
        assert_eq!(tree("-1"), json!({"type": "numberLiteral", "val": "-1"}));
        assert_eq!(tree("Inf")["val"], "+Inf");
        assert_eq!(tree("-up")["type"], "unaryExpr");
        assert_eq!(tree("-up")["op"], "-");
        assert_eq!(tree("a > bool 1")["bool"], true);
        assert_eq!(tree("a and b")["matching"]["card"], "many-to-many");
        let s = tree("max_over_time(a[1h:5m])");
        assert_eq!(s["args"][0]["type"], "subquery");
        assert_eq!(s["args"][0]["step"], 300_000);
    }
}
