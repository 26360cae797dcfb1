//! `info(v [, {selector}])`: Prometheus 3's join of a vector with the data
//! labels of its info metrics — by default `target_info`, where the
//! OpenTelemetry mapping puts resource attributes — so a query can say
//! `info(rate(x[5m]), {k8s_cluster_name=~".+"})` instead of a hand-written
//! `* on (job, instance) group_left (…) target_info`.
//!
//! The rules are Prometheus's (`promql/info.go`): series join on `job` and
//! `instance`; the selector's `__name__` matchers choose the info metrics
//! and its other matchers both filter the info series and name the data
//! labels to add (all of them when there are none); labels the series has
//! already win; two info metrics offering different values for one label
//! are an error; a series no info series joins is kept only when every data
//! matcher accepts an empty value; input series that are themselves info
//! metrics pass through untouched. Of two info series for one target, the
//! one with the newer sample wins; a tie is an error.
//!
//! One simplification: Prometheus narrows the info series to the `job` and
//! `instance` values of the input over the whole query range, this per step;
//! the two differ only when inputs gain or lose those labels mid-range.

use std::collections::{BTreeMap, HashSet};

use promql_parser::parser::{Call, Expr};
use sextant_model::{Labels, MatchOp, Matcher};

use super::{arg, unparen};
use crate::error::QueryError;
use crate::eval::{Evaluator, check_unique};
use crate::labels::NAME;
use crate::selector;
use crate::value::{Elem, Val};

/// The labels an info series is joined on.
const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// Evaluates `info(...)` at `t`.
pub(crate) fn info(
    ev: &mut Evaluator,
    c: &Call,
    args: &[&Expr],
    t: i64,
) -> Result<Val, QueryError> {
    let base = ev.eval_vector(arg(args, 0)?, t)?;
    // Input series of the chosen info metrics are not enriched. Without a
    // selector that means target_info; a selector that names no metric
    // spares none, as in Prometheus.
    let (name_matchers, data_matchers): (Vec<Matcher>, Vec<Matcher>) =
        match args.get(1).map(|a| unparen(a)) {
            Some(Expr::VectorSelector(vs)) => crate::matchers::matcher_sets(vs)?
                .into_iter()
                .next()
                .unwrap_or_default()
                .into_iter()
                .partition(|m| m.name == NAME),
            Some(_) => {
                return Err(QueryError::exec(
                    "info(): the second argument must be a label selector",
                ));
            }
            None => {
                let target_info = Matcher::new(NAME, MatchOp::Eq, selector::TARGET_INFO)
                    .map_err(|e| QueryError::exec(e.to_string()))?;
                (vec![target_info], Vec::new())
            }
        };
    let is_info = |l: &Labels| {
        let name = l.get(NAME).unwrap_or("");
        !name_matchers.is_empty() && name_matchers.iter().all(|m| m.matches(name))
    };
    let infos = targets(ev, c, &base, &is_info, t)?;
    let mut names: Vec<&str> = infos.keys().map(|(n, _)| n.as_str()).collect();
    names.dedup();
    let out = base
        .into_iter()
        .map(|b| {
            if is_info(&b.labels) {
                return Ok(Some(b));
            }
            enrich(b, &infos, &names, &data_matchers, t)
        })
        .filter_map(Result::transpose)
        .collect::<Result<Vec<Elem>, QueryError>>()?;
    check_unique(out)
}

/// An info series for one target: its metric name and identifying labels.
type Signature = (String, Vec<(&'static str, String)>);

/// `labels`' identifying labels, as a join key for info metric `name`.
fn signature(name: &str, labels: &Labels) -> Signature {
    let ids = IDENTIFYING
        .iter()
        .filter_map(|&k| labels.get(k).map(|v| (k, v.to_string())))
        .collect();
    (name.to_string(), ids)
}

/// The info series at `t` that can join `base`, one per target: those
/// carrying, for each identifying label some input series has, one of the
/// input's values; of several for one target the newest sample wins.
fn targets(
    ev: &Evaluator,
    c: &Call,
    base: &[Elem],
    is_info: &dyn Fn(&Labels) -> bool,
    t: i64,
) -> Result<BTreeMap<Signature, Elem>, QueryError> {
    let mut wanted: Vec<(&str, HashSet<&str>)> = Vec::new();
    for b in base.iter().filter(|b| !is_info(&b.labels)) {
        for k in IDENTIFYING {
            if let Some(v) = b.labels.get(k) {
                match wanted.iter_mut().find(|(name, _)| *name == k) {
                    Some((_, vals)) => {
                        vals.insert(v);
                    }
                    None => wanted.push((k, HashSet::from([v]))),
                }
            }
        }
    }
    let mut out: BTreeMap<Signature, Elem> = BTreeMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let series = selector::instant(ev.info_series(c), t, ev.lookback);
    for s in series {
        let joins = wanted
            .iter()
            .all(|(k, vals)| s.labels.get(k).is_some_and(|v| vals.contains(v)));
        if !joins {
            continue;
        }
        let sig = signature(s.labels.get(NAME).unwrap_or(""), &s.labels);
        match out.get(&sig) {
            Some(old) if old.ts > s.ts => {}
            Some(old) if old.ts == s.ts => {
                return Err(QueryError::exec(format!(
                    "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                    old.labels, old.ts, s.labels, s.ts
                )));
            }
            _ => {
                out.insert(sig, s);
            }
        }
    }
    Ok(out)
}

/// `b` with the data labels of the info series that join it (`names` are
/// the info metrics among `infos`), or `None` when none joins and some data
/// matcher refuses an empty value.
fn enrich(
    b: Elem,
    infos: &BTreeMap<Signature, Elem>,
    names: &[&str],
    data_matchers: &[Matcher],
    t: i64,
) -> Result<Option<Elem>, QueryError> {
    let mut added: Vec<(String, String)> = Vec::new();
    let mut joined = false;
    for &name in names {
        let Some(info) = infos.get(&signature(name, &b.labels)) else {
            continue;
        };
        joined = true;
        for (k, v) in info.labels.pairs() {
            if k == NAME
                || !(data_matchers.is_empty() || data_matchers.iter().any(|m| &m.name == k))
            {
                continue;
            }
            if added.iter().any(|(ak, av)| ak == k && av != v) {
                return Err(QueryError::exec(format!("conflicting label: {k}")));
            }
            if b.labels.get(k).is_none() && !added.iter().any(|(ak, _)| ak == k) {
                added.push((k.clone(), v.clone()));
            }
        }
    }
    if !joined && !data_matchers.iter().all(|m| m.matches("")) {
        return Ok(None);
    }
    if added.is_empty() {
        return Ok(Some(Elem { ts: t, ..b }));
    }
    let mut pairs = b.labels.pairs().to_vec();
    pairs.extend(added);
    Ok(Some(Elem {
        labels: Labels::from_pairs(pairs),
        v: b.v,
        ts: t,
    }))
}
