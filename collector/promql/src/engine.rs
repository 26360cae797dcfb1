//! The public entry points: parse, check the expression's type for the
//! query kind, preload series, evaluate at each step, and shape the result
//! the way Prometheus's API returns it.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use promql_parser::parser::Expr;
use promql_parser::parser::token::{T_BOTTOMK, T_LIMIT_RATIO, T_LIMITK, T_TOPK};
use promql_parser::parser::value::ValueType;
use sextant_model::{Labels, Sample};

use crate::Queryable;
use crate::error::QueryError;
use crate::eval::Evaluator;
use crate::guard;
use crate::parser::Positions;
use crate::value::{QueryResult, RangeSeries, Val, Value, VectorSample};

/// Engine limits, with Prometheus's defaults via [`Default`].
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// How far back an instant selector looks for the latest sample
    /// (`--query.lookback-delta`, 5m); zero or negative means the default,
    /// as in Prometheus.
    pub lookback_ms: i64,
    /// Most samples a query may load and hold at once
    /// (`--query.max-samples`, 50M).
    pub max_samples: usize,
    /// Wall-clock budget per query (`--query.timeout`, 2m).
    pub timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            lookback_ms: 300_000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
        }
    }
}

/// Evaluates PromQL against any [`Queryable`]. Stateless apart from its
/// configuration, so one engine serves concurrent queries.
#[derive(Debug, Clone)]
pub struct Engine {
    cfg: EngineConfig,
    /// Off only in tests that check the fast paths against the general path.
    fast_paths: bool,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(EngineConfig::default())
    }
}

impl Engine {
    /// An engine with these limits.
    pub fn new(cfg: EngineConfig) -> Engine {
        Engine {
            cfg,
            fast_paths: true,
        }
    }

    /// The same engine with the fast paths off, so tests can compare.
    #[cfg(test)]
    pub(crate) fn without_fast_paths(mut self) -> Engine {
        self.fast_paths = false;
        self
    }

    /// Evaluates `expr` at `t_ms` (an instant query). Vectors come back
    /// sorted by labels unless the expression orders them itself (`sort*`,
    /// `topk`, `bottomk`, `limitk`, `limit_ratio`).
    pub fn instant(
        &self,
        q: &dyn Queryable,
        expr: &str,
        t_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        on_big_stack(expr, || self.instant_inner(q, expr, t_ms))
    }

    fn instant_inner(
        &self,
        q: &dyn Queryable,
        expr: &str,
        t_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        let deadline = self.deadline();
        let (ast, positions) = parse(expr)?;
        let mut ev = Evaluator::new(t_ms, t_ms, self.lookback(), self.cfg.max_samples, deadline);
        ev.fast_paths = self.fast_paths;
        ev.positions = positions;
        ev.preload(q, &ast, t_ms, t_ms)?;
        let value = match ev.eval(&ast, t_ms)? {
            Val::Scalar(v) => Value::Scalar { t: t_ms, v },
            Val::Str(v) => Value::String { t: t_ms, v },
            Val::Vector(v) => {
                let mut out: Vec<VectorSample> = v
                    .into_iter()
                    .map(|e| VectorSample {
                        labels: e.labels,
                        t: t_ms,
                        v: e.v,
                    })
                    .collect();
                if !keeps_order(&ast) {
                    out.sort_by(|a, b| a.labels.cmp(&b.labels));
                }
                Value::Vector(out)
            }
            Val::Matrix(m) => {
                let mut out: Vec<RangeSeries> = m
                    .series
                    .into_iter()
                    .map(|w| RangeSeries {
                        labels: w.labels,
                        samples: w.samples,
                    })
                    .collect();
                out.sort_by(|a, b| a.labels.cmp(&b.labels));
                Value::Matrix(out)
            }
        };
        Ok(QueryResult {
            value,
            warnings: ev.take_warnings(),
            infos: ev.take_infos(),
        })
    }

    /// Evaluates `expr` at `start_ms`, `start_ms + step_ms`, … up to
    /// `end_ms` (a range query). The result is always a matrix sorted by
    /// labels; the expression must be a scalar or an instant vector.
    pub fn range(
        &self,
        q: &dyn Queryable,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        on_big_stack(expr, || {
            self.range_inner(q, expr, start_ms, end_ms, step_ms)
        })
    }

    fn range_inner(
        &self,
        q: &dyn Queryable,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        let deadline = self.deadline();
        if step_ms <= 0 {
            return Err(QueryError::Parse(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(QueryError::Parse(
                "end timestamp must not be before start time".into(),
            ));
        }
        // Prometheus's API refuses more than 11,000 points per series; doing
        // it here too bounds the step loop whatever the caller checks.
        let steps = (end_ms.abs_diff(start_ms) / step_ms.unsigned_abs()).saturating_add(1);
        if steps > MAX_STEPS {
            return Err(QueryError::Parse(format!(
                "exceeded maximum resolution of {MAX_STEPS} points per timeseries. Try decreasing the query resolution (?step=XX)"
            )));
        }
        let (ast, positions) = parse(expr)?;
        match ast.value_type() {
            ValueType::Scalar | ValueType::Vector => {}
            other => {
                return Err(QueryError::Parse(format!(
                    "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                    type_name(other)
                )));
            }
        }
        let mut ev = Evaluator::new(
            start_ms,
            end_ms,
            self.lookback(),
            self.cfg.max_samples,
            deadline,
        );
        ev.fast_paths = self.fast_paths;
        ev.positions = positions;
        ev.interval = step_ms;
        let min_steps = (slice_ms(&ast, start_ms, end_ms, self.lookback()) / step_ms).max(1);
        let mut steps_per_slice = min_steps;
        let mut series: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
        let mut t = start_ms;
        let mut slice_end = t;
        while t <= end_ms {
            if t > slice_end || t == start_ms {
                slice_end = t
                    .saturating_add((steps_per_slice - 1).saturating_mul(step_ms))
                    .min(end_ms);
                ev.release();
                ev.preload(q, &ast, t, slice_end)?;
                // Size the next slice from this one's density.
                steps_per_slice = match steps_per_slice
                    .saturating_mul(SLICE_SAMPLES as i64)
                    .checked_div(ev.loaded() as i64)
                {
                    Some(n) => n.max(min_steps),
                    None => i64::MAX,
                };
            }
            ev.next_step()?;
            match ev.eval(&ast, t)? {
                Val::Scalar(v) => {
                    series
                        .entry(Labels::default())
                        .or_default()
                        .push(Sample { t, v });
                    ev.output = ev.output.saturating_add(1);
                }
                Val::Vector(v) => {
                    ev.output = ev.output.saturating_add(v.len());
                    for e in v {
                        series
                            .entry(e.labels)
                            .or_default()
                            .push(Sample { t, v: e.v });
                    }
                }
                other => {
                    return Err(QueryError::Parse(format!(
                        "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                        other.type_name()
                    )));
                }
            }
            ev.check_samples()?;
            match t.checked_add(step_ms) {
                Some(n) => t = n,
                None => break,
            }
        }
        Ok(QueryResult {
            value: Value::Matrix(
                series
                    .into_iter()
                    .map(|(labels, samples)| RangeSeries { labels, samples })
                    .collect(),
            ),
            warnings: ev.take_warnings(),
            infos: ev.take_infos(),
        })
    }

    fn lookback(&self) -> i64 {
        if self.cfg.lookback_ms > 0 {
            self.cfg.lookback_ms
        } else {
            EngineConfig::default().lookback_ms
        }
    }

    fn deadline(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(self.cfg.timeout).unwrap_or(now)
    }
}

/// Most steps a range query may have (Prometheus API's limit).
pub const MAX_STEPS: u64 = 11_000;

/// Shortest stretch of steps a range query loads at once. A range query
/// loads and evaluates its steps in time slices so that memory follows the
/// slice, not the whole range (a day of 4,000 series is 90 MB of decoded
/// samples). Each slice repeats the series lookup and decodes again the
/// chunks it shares with the previous one, so slices are kept long: the
/// first covers this much, later ones as much as holds about
/// [`SLICE_SAMPLES`] at the density the previous one loaded.
const MIN_SLICE_MS: i64 = 2 * 3_600_000;

/// Samples a range query aims to load per slice after the first
/// (about 32 MB decoded).
const SLICE_SAMPLES: usize = 2_000_000;

/// How much evaluation time one slice covers: at least [`MIN_SLICE_MS`],
/// and at least four times the widest window a step reads, so the data
/// slices share (each reloads its first window) stays under a quarter.
fn slice_ms(ast: &Expr, start: i64, end: i64, lookback: i64) -> i64 {
    let mut ranges = std::collections::HashMap::new();
    crate::selector::needed_ranges(ast, start, start, lookback, (start, end), &mut ranges);
    let widest = ranges
        .values()
        .map(|(_, lo, hi)| hi.saturating_sub(*lo))
        .max()
        .unwrap_or(0);
    MIN_SLICE_MS.max(widest.saturating_mul(4))
}

/// Stack for parsing and evaluation. Both recurse along the expression
/// tree (the parser when building and dropping it), and a 64 KiB expression
/// can nest tens of thousands of levels: far beyond the 2 MiB a tokio
/// blocking thread has. The memory is reserved, not committed, up front.
const EVAL_STACK_BYTES: usize = 64 << 20;

/// Longest expression evaluated on the caller's own stack. Nesting needs
/// at least one byte per level, so 64 bytes stay within the 2 MiB every
/// thread has even in debug builds; skipping the big-stack thread saves its
/// start-up on the small queries dashboards send most.
const INLINE_EXPR_BYTES: usize = 64;

/// Runs `f` on a scoped thread with [`EVAL_STACK_BYTES`] of stack (inline
/// for expressions of at most [`INLINE_EXPR_BYTES`]); a panic (a bug, never
/// expected) becomes an execution error instead of taking the caller down.
/// If no thread can be started (e.g. strict memory overcommit), runs
/// inline, where the depth limit still bounds recursion.
fn on_big_stack<F>(expr: &str, f: F) -> Result<QueryResult, QueryError>
where
    F: Fn() -> Result<QueryResult, QueryError> + Sync,
{
    let panicked = || QueryError::exec("internal error: query evaluation panicked");
    if expr.len() <= INLINE_EXPR_BYTES {
        return catch_unwind(AssertUnwindSafe(&f)).unwrap_or_else(|_| Err(panicked()));
    }
    let spawned = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("promql-eval".into())
            .stack_size(EVAL_STACK_BYTES)
            .spawn_scoped(s, &f)
            .map(|h| h.join().unwrap_or_else(|_| Err(panicked())))
    });
    spawned.unwrap_or_else(|_| f())
}

/// Parses with our parser (Prometheus's `line:col: parse error: …`),
/// refusing oversized input and over-deep trees. Errors carry Prometheus's
/// `invalid parameter "query": ` prefix, since the HTTP layer passes them
/// on as they are. The parser never panics; were it to, the panic becomes a
/// parse error rather than an evaluation failure.
pub(crate) fn parse(expr: &str) -> Result<(Expr, Positions), QueryError> {
    let query_param = |e: QueryError| match e {
        QueryError::Parse(m) => QueryError::Parse(format!("invalid parameter \"query\": {m}")),
        other => other,
    };
    guard::check_text(expr).map_err(query_param)?;
    // We run on the engine's big stack, or on the caller's for texts too
    // short to nest deeply: parse in place.
    match catch_unwind(AssertUnwindSafe(|| {
        crate::parser::parse_with_positions(expr)
    })) {
        Ok(Ok((ast, positions))) => guard::check_depth(&ast)
            .map(|()| (ast, positions))
            .map_err(query_param),
        Ok(Err(e)) => Err(query_param(QueryError::Parse(e.to_string()))),
        Err(_) => Err(query_param(QueryError::Parse(
            "parse error: internal error: parser panicked".into(),
        ))),
    }
}

fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Scalar => "scalar",
        ValueType::String => "string",
        ValueType::Vector => "instant vector",
        ValueType::Matrix => "range vector",
    }
}

/// Whether the outermost operation decides the output order, which an
/// instant query must then keep instead of sorting by labels.
fn keeps_order(e: &Expr) -> bool {
    match e {
        Expr::Paren(p) => keeps_order(&p.expr),
        Expr::Call(c) => matches!(
            c.func.name,
            "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc"
        ),
        Expr::Aggregate(a) => matches!(a.op.id(), T_TOPK | T_BOTTOMK | T_LIMITK | T_LIMIT_RATIO),
        _ => false,
    }
}
