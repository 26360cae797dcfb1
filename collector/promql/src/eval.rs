//! The evaluator: one expression at one instant. Holds the preloaded series,
//! the query's time frame (for `@ start()`/`end()`), the sample accounting
//! and the deadline, and dispatches each AST node to its module.

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use promql_parser::parser::{Call, Expr, MatrixSelector, VectorSelector};
use sextant_model::Series;

use crate::error::QueryError;
use crate::fastpath::Plan;
use crate::labels;
use crate::parser::Positions;
use crate::selector;
use crate::subquery::SubqueryCache;
use crate::value::{Elem, RangeVec, Val};
use crate::{aggregate, binary, functions, subquery};

/// Prometheus's default subquery resolution when none is written: the
/// global evaluation interval, 1m unless configured.
pub(crate) const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// Evaluation state shared by every node of one query.
pub(crate) struct Evaluator {
    /// Series per selector node, loaded once for the whole query.
    data: HashMap<usize, Vec<Series>>,
    /// Query start and end, for `@ start()` / `@ end()`.
    pub start: i64,
    pub end: i64,
    /// The range query's step, 0 for an instant query: what `step()` reads.
    pub interval: i64,
    pub lookback: i64,
    max_samples: usize,
    deadline: Instant,
    /// Samples loaded from storage (held for the whole query).
    loaded: usize,
    /// Points the query result holds so far (range queries).
    pub output: usize,
    /// Points held by the current step (windows, subquery results).
    step: usize,
    warnings: Vec<String>,
    infos: Vec<String>,
    /// Where the query's sub-expressions start, for annotation positions.
    pub positions: Positions,
    /// Inner subquery results by subquery node and step time.
    subquery_cache: HashMap<usize, SubqueryCache>,
    /// Per fast-path node, its plan (`None`: not applicable).
    pub plans: HashMap<usize, Option<Rc<Plan>>>,
    /// Whether the fast paths may be taken; off only to test them against
    /// the general path.
    pub fast_paths: bool,
}

impl Evaluator {
    pub fn new(
        start: i64,
        end: i64,
        lookback: i64,
        max_samples: usize,
        deadline: Instant,
    ) -> Evaluator {
        Evaluator {
            data: HashMap::new(),
            start,
            end,
            interval: 0,
            lookback,
            max_samples,
            deadline,
            loaded: 0,
            output: 0,
            step: 0,
            warnings: Vec::new(),
            infos: Vec::new(),
            positions: Positions::default(),
            subquery_cache: HashMap::new(),
            plans: HashMap::new(),
            fast_paths: true,
        }
    }

    /// Loads every selector of `expr` for steps in `[start, end]`.
    pub fn preload(
        &mut self,
        q: &dyn crate::Queryable,
        expr: &Expr,
        start: i64,
        end: i64,
    ) -> Result<(), QueryError> {
        let mut ranges = HashMap::new();
        selector::needed_ranges(
            expr,
            start,
            end,
            self.lookback,
            (self.start, self.end),
            &mut ranges,
        );
        for (k, (vs, lo, hi)) in ranges {
            let series = selector::load(q, &vs, lo, hi)?;
            self.loaded = self
                .loaded
                .saturating_add(series.iter().map(|s| s.samples.len()).sum());
            self.check_samples()?;
            self.check_deadline()?;
            self.data.insert(k, series);
        }
        Ok(())
    }

    /// Drops the loaded series and everything planned from them, before a
    /// range query loads its next time slice.
    pub fn release(&mut self) {
        self.data.clear();
        self.plans.clear();
        self.loaded = 0;
    }

    /// Fails once loaded + held points pass the limit.
    pub fn check_samples(&self) -> Result<(), QueryError> {
        let total = self
            .loaded
            .saturating_add(self.output)
            .saturating_add(self.step);
        if total > self.max_samples {
            return Err(QueryError::TooManySamples(self.max_samples));
        }
        Ok(())
    }

    /// Samples loaded for the current slice.
    pub fn loaded(&self) -> usize {
        self.loaded
    }

    /// The configured sample limit.
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }

    /// Counts `n` more points held by the current step.
    pub fn hold(&mut self, n: usize) -> Result<(), QueryError> {
        self.step = self.step.saturating_add(n);
        self.check_samples()
    }

    /// Points the current step holds.
    pub fn step_held(&self) -> usize {
        self.step
    }

    /// Resets the current step's count to `n` once transient points (a
    /// subquery's inner windows) are released, keeping what is still held.
    pub fn set_step_held(&mut self, n: usize) {
        self.step = n;
    }

    /// Starts a new outer step: the previous step's intermediate points are freed.
    pub fn next_step(&mut self) -> Result<(), QueryError> {
        self.step = 0;
        self.check_deadline()
    }

    /// Fails once the deadline has passed.
    pub fn check_deadline(&self) -> Result<(), QueryError> {
        if Instant::now() > self.deadline {
            return Err(QueryError::Timeout);
        }
        Ok(())
    }

    /// Takes a subquery's cached inner results (empty the first time).
    pub fn take_subquery_cache(&mut self, key: usize) -> SubqueryCache {
        self.subquery_cache.remove(&key).unwrap_or_default()
    }

    /// Returns a subquery's cached inner results for later outer steps.
    pub fn put_subquery_cache(&mut self, key: usize, cache: SubqueryCache) {
        self.subquery_cache.insert(key, cache);
    }

    /// Records a warning about node `at` once, ending with where `at`
    /// starts in the query (`… (1:6)`), as Prometheus 3 writes annotations.
    pub fn warn_at(&mut self, w: impl Into<String>, at: &Expr) {
        let w = self.placed(w.into(), at);
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Records an info-level annotation (Prometheus 3's `infos`) about node
    /// `at` once, with its position.
    pub fn info_at(&mut self, i: impl Into<String>, at: &Expr) {
        let i = self.placed(i.into(), at);
        if !self.infos.contains(&i) {
            self.infos.push(i);
        }
    }

    fn placed(&self, msg: String, at: &Expr) -> String {
        match self.positions.of(at) {
            Some(pos) => format!("{msg} ({pos})"),
            None => msg,
        }
    }

    /// The infos raised so far.
    pub fn take_infos(&mut self) -> Vec<String> {
        std::mem::take(&mut self.infos)
    }

    /// The warnings raised so far.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Evaluates `e` at time `t` (ms).
    pub fn eval(&mut self, e: &Expr, t: i64) -> Result<Val, QueryError> {
        match e {
            Expr::NumberLiteral(n) => Ok(Val::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t),
            Expr::Unary(u) => match self.eval(&u.expr, t)? {
                Val::Scalar(v) => Ok(Val::Scalar(-v)),
                Val::Vector(v) => {
                    let out: Vec<Elem> = v
                        .into_iter()
                        .map(|e| Elem {
                            labels: labels::drop_name(&e.labels),
                            v: -e.v,
                            ts: t,
                        })
                        .collect();
                    check_unique(out)
                }
                other => Err(QueryError::exec(format!(
                    "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                    other.type_name()
                ))),
            },
            Expr::VectorSelector(vs) => Ok(Val::Vector(self.instant(vs, t))),
            Expr::MatrixSelector(ms) => {
                let m = self.range(ms, t);
                self.hold(m.series.iter().map(|w| w.samples.len()).sum())?;
                Ok(Val::Matrix(m))
            }
            Expr::Subquery(sq) => subquery::eval(self, sq, t),
            Expr::Binary(b) => binary::eval(self, b, t),
            Expr::Aggregate(a) => aggregate::eval(self, a, t),
            Expr::Call(c) => functions::call(self, c, t),
            Expr::Extension(_) => Err(QueryError::exec("extension expressions are not supported")),
        }
    }

    /// An instant selector at `t`.
    pub fn instant(&self, vs: &VectorSelector, t: i64) -> Vec<Elem> {
        let ref_t = selector::ref_time(&vs.at, &vs.offset, t, self.start, self.end);
        match self.data.get(&selector::key(vs)) {
            Some(series) => selector::instant(series, ref_t, self.lookback),
            None => Vec::new(),
        }
    }

    /// The series loaded for a selector (empty if none).
    pub fn series(&self, vs: &VectorSelector) -> &[Series] {
        self.data
            .get(&selector::key(vs))
            .map_or(&[], |s| s.as_slice())
    }

    /// The info series an `info()` call joins, as loaded for the query.
    pub fn info_series(&self, c: &Call) -> &[Series] {
        self.data
            .get(&selector::info_key(c))
            .map_or(&[], |s| s.as_slice())
    }

    /// A range selector at `t`.
    pub fn range(&self, ms: &MatrixSelector, t: i64) -> RangeVec {
        let ref_t = selector::ref_time(&ms.vs.at, &ms.vs.offset, t, self.start, self.end);
        let range = selector::duration_ms(&ms.range);
        let series = match self.data.get(&selector::key(&ms.vs)) {
            Some(series) => selector::window(series, ref_t, range),
            None => Vec::new(),
        };
        RangeVec {
            series,
            end: ref_t,
            range,
        }
    }

    /// Evaluates `e` and requires an instant vector.
    pub fn eval_vector(&mut self, e: &Expr, t: i64) -> Result<Vec<Elem>, QueryError> {
        match self.eval(e, t)? {
            Val::Vector(v) => Ok(v),
            other => Err(QueryError::exec(format!(
                "expected instant vector, got {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates `e` and requires a scalar.
    pub fn eval_scalar(&mut self, e: &Expr, t: i64) -> Result<f64, QueryError> {
        match self.eval(e, t)? {
            Val::Scalar(v) => Ok(v),
            other => Err(QueryError::exec(format!(
                "expected scalar, got {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates `e` and requires a string.
    pub fn eval_string(&mut self, e: &Expr, t: i64) -> Result<String, QueryError> {
        match self.eval(e, t)? {
            Val::Str(v) => Ok(v),
            other => Err(QueryError::exec(format!(
                "expected string, got {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates `e` and requires a range vector.
    pub fn eval_matrix(&mut self, e: &Expr, t: i64) -> Result<RangeVec, QueryError> {
        match self.eval(e, t)? {
            Val::Matrix(m) => Ok(m),
            other => Err(QueryError::exec(format!(
                "expected range vector, got {}",
                other.type_name()
            ))),
        }
    }
}

/// Returns the vector, or Prometheus's error when two elements ended up with
/// the same label set (e.g. after dropping `__name__`).
pub(crate) fn check_unique(v: Vec<Elem>) -> Result<Val, QueryError> {
    if labels::has_duplicates(v.iter().map(|e| &e.labels)) {
        return Err(QueryError::exec(
            "vector cannot contain metrics with the same labelset",
        ));
    }
    Ok(Val::Vector(v))
}
