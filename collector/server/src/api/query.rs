//! PromQL over HTTP: `/api/v1/query` and `/api/v1/query_range` on the
//! engine, bounded by a concurrency limit and the query timeout, answered in
//! Prometheus's JSON shape with its `errorType`s and status codes.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use sextant_promql::{Engine, EngineConfig, QueryError, QueryResult, Queryable};
use sextant_store::Store;
use tokio::sync::Semaphore;

use super::error::{ApiError, ErrorType};
use super::params::Params;
use super::prom::{now_ms, time_param};
use super::query_pool::QueryPool;
use super::time::parse_duration_ms;
use crate::queryable::StoreReader;
use crate::{Collector, QueryConfig};

/// Runs queries: the engine's limits plus a bound on queries in flight, so
/// a burst of heavy dashboards queues instead of exhausting the machine.
#[derive(Clone)]
pub struct QueryRunner {
    cfg: QueryConfig,
    slots: Arc<Semaphore>,
    pool: QueryPool,
}

impl QueryRunner {
    /// A runner with `cfg`'s limits.
    pub fn new(cfg: QueryConfig) -> QueryRunner {
        QueryRunner {
            cfg,
            slots: Arc::new(Semaphore::new(cfg.max_concurrency.max(1))),
            pool: QueryPool::new(cfg.max_concurrency),
        }
    }

    /// Waits for a slot (within the timeout), then evaluates and encodes the
    /// answer on a query thread ([`QueryPool`]), holding the slot throughout;
    /// a client's `timeout` can only shorten the configured one.
    ///
    /// **Invariant:** no query work — evaluation, encoding, or dropping a
    /// result of millions of points — runs on an async worker, so probes and
    /// ingest on the same runtime answer while queries run.
    async fn run(
        &self,
        store: &Arc<Store>,
        timeout: Option<Duration>,
        eval: impl FnOnce(&Engine, &dyn Queryable) -> Result<QueryResult, QueryError> + Send + 'static,
    ) -> Result<Vec<u8>, ApiError> {
        let timeout = timeout.map_or(self.cfg.timeout, |t| t.min(self.cfg.timeout));
        let permit = tokio::time::timeout(timeout, Arc::clone(&self.slots).acquire_owned())
            .await
            .map_err(|_| ApiError::new(ErrorType::Timeout, "query timed out in query queue"))?
            .map_err(|_| ApiError::internal("query queue closed"))?;
        let engine = Engine::new(EngineConfig {
            lookback_ms: self.cfg.lookback_delta.as_millis() as i64,
            max_samples: self.cfg.max_samples,
            timeout,
        });
        let store = Arc::clone(store);
        let max_bytes = self.cfg.max_response_bytes;
        self.pool.run(move || {
            let _permit = permit;
            let result = eval(&engine, &StoreReader(&store)).map_err(ApiError::from)?;
            super::result_json::encode(&result, max_bytes).map_err(|_| {
                ApiError::new(
                    ErrorType::Execution,
                    format!(
                        "the answer would be over the {max_bytes} byte limit (query.max_response_bytes); select fewer series or a shorter range"
                    ),
                )
            })
        })
        .await
        .map_err(|e| ApiError::internal(format!("query failed: {e}")))?
    }
}

fn timeout_param(p: &Params) -> Result<Option<Duration>, ApiError> {
    match p.get("timeout") {
        None | Some("") => Ok(None),
        Some(t) => parse_duration_ms(t)
            .map(|ms| Some(Duration::from_millis(ms.max(0) as u64)))
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"timeout\": {e}"))),
    }
}

/// The expression; a missing one is parsed as empty, as Prometheus does, so
/// the answer carries the parser's own "1:1: … no expression found" error.
fn query_param(p: &Params) -> String {
    p.get("query").unwrap_or_default().to_string()
}

/// `GET|POST /api/v1/query`.
pub async fn instant(State(c): State<Collector>, p: Params) -> Response {
    let run = async {
        let expr = query_param(&p);
        let t = time_param(&p, "time", now_ms())?;
        let body = c
            .query
            .run(&c.store, timeout_param(&p)?, move |e, s| {
                e.instant(s, &expr, t)
            })
            .await?;
        Ok::<_, ApiError>(json(body))
    };
    run.await.unwrap_or_else(ApiError::prometheus)
}

/// `GET|POST /api/v1/query_range`.
pub async fn range(State(c): State<Collector>, p: Params) -> Response {
    let run = async {
        let expr = query_param(&p);
        let required = |key: &str| {
            p.get(key)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| ApiError::bad_data(format!("invalid parameter \"{key}\": missing")))
        };
        let start = time_param(&p, "start", 0).and_then(|t| required("start").map(|_| t))?;
        let end = time_param(&p, "end", 0).and_then(|t| required("end").map(|_| t))?;
        if end < start {
            return Err(ApiError::bad_data(
                "end timestamp must not be before start time",
            ));
        }
        let step = parse_duration_ms(required("step")?)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"step\": {e}")))?;
        if step <= 0 {
            return Err(ApiError::bad_data(
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        if (end - start) / step > sextant_promql::MAX_STEPS as i64 {
            return Err(ApiError::bad_data(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            ));
        }
        let body = c
            .query
            .run(&c.store, timeout_param(&p)?, move |e, s| {
                e.range(s, &expr, start, end, step)
            })
            .await?;
        Ok(json(body))
    };
    run.await.unwrap_or_else(ApiError::prometheus)
}

/// The success answer, already encoded by [`QueryRunner::run`].
fn json(body: Vec<u8>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
