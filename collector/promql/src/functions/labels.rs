//! Label functions (`label_replace`, `label_join`) and the sort functions,
//! which keep `__name__` and are the only ones whose output order matters.

use promql_parser::parser::Expr;
use regex::Regex;

use super::arg;
use crate::error::QueryError;
use crate::eval::{Evaluator, check_unique};
use crate::labels as lbl;
use crate::value::{Elem, Val};

/// `label_replace(v, dst, replacement, src, regex)`: where the fully
/// anchored regex matches `src`'s value, set `dst` to the expanded
/// replacement (an empty result removes `dst`).
pub(crate) fn label_replace(ev: &mut Evaluator, args: &[&Expr], t: i64) -> Result<Val, QueryError> {
    let v = ev.eval_vector(arg(args, 0)?, t)?;
    let dst = ev.eval_string(arg(args, 1)?, t)?;
    let repl = ev.eval_string(arg(args, 2)?, t)?;
    let src = ev.eval_string(arg(args, 3)?, t)?;
    let re_src = ev.eval_string(arg(args, 4)?, t)?;
    let re = Regex::new(&format!("^(?s:{re_src})$")).map_err(|_| {
        QueryError::exec(format!(
            "invalid regular expression in label_replace(): {re_src}"
        ))
    })?;
    if !lbl::is_valid_name(&dst) {
        return Err(QueryError::exec(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let out: Vec<Elem> = v
        .into_iter()
        .map(|e| {
            let value = e.labels.get(&src).unwrap_or("");
            let labels = match re.captures(value) {
                Some(caps) => {
                    let mut res = String::new();
                    caps.expand(&repl, &mut res);
                    lbl::set(&e.labels, &dst, &res)
                }
                None => e.labels,
            };
            Elem { labels, ts: t, ..e }
        })
        .collect();
    check_unique(out)
}

/// `label_join(v, dst, sep, src...)`: `dst` becomes the source labels'
/// values joined by `sep` (empty removes it).
pub(crate) fn label_join(ev: &mut Evaluator, args: &[&Expr], t: i64) -> Result<Val, QueryError> {
    let v = ev.eval_vector(arg(args, 0)?, t)?;
    let dst = ev.eval_string(arg(args, 1)?, t)?;
    let sep = ev.eval_string(arg(args, 2)?, t)?;
    let mut srcs = Vec::new();
    for a in args.iter().skip(3) {
        srcs.push(ev.eval_string(a, t)?);
    }
    if !lbl::is_valid_name(&dst) {
        return Err(QueryError::exec(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let out: Vec<Elem> = v
        .into_iter()
        .map(|e| {
            let joined = srcs
                .iter()
                .map(|s| e.labels.get(s).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(&sep);
            Elem {
                labels: lbl::set(&e.labels, &dst, &joined),
                ts: t,
                ..e
            }
        })
        .collect();
    check_unique(out)
}

/// `sort`, `sort_desc` (by value, NaN last either way) and
/// `sort_by_label[_desc]` (natural order of the named labels' values, then
/// the whole label set).
pub(crate) fn sort(
    ev: &mut Evaluator,
    name: &str,
    args: &[&Expr],
    t: i64,
) -> Result<Val, QueryError> {
    use std::cmp::Ordering;
    let mut v = ev.eval_vector(arg(args, 0)?, t)?;
    match name {
        "sort" | "sort_desc" => {
            let desc = name == "sort_desc";
            v.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ if desc => b.v.partial_cmp(&a.v).unwrap_or(Ordering::Equal),
                _ => a.v.partial_cmp(&b.v).unwrap_or(Ordering::Equal),
            });
        }
        _ => {
            let mut names = Vec::new();
            for a in args.iter().skip(1) {
                names.push(ev.eval_string(a, t)?);
            }
            let desc = name == "sort_by_label_desc";
            v.sort_by(|a, b| {
                let ord = names
                    .iter()
                    .map(|n| {
                        lbl::natural_cmp(
                            a.labels.get(n).unwrap_or(""),
                            b.labels.get(n).unwrap_or(""),
                        )
                    })
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or_else(|| a.labels.cmp(&b.labels));
                if desc { ord.reverse() } else { ord }
            });
        }
    }
    Ok(Val::Vector(
        v.into_iter().map(|e| Elem { ts: t, ..e }).collect(),
    ))
}
