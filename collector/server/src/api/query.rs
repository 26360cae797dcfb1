//! PromQL over HTTP: `/api/v1/query` and `/api/v1/query_range` on the
//! engine, bounded by a concurrency limit and the query timeout, answered in
//! Prometheus's JSON shape with its `errorType`s and status codes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use sextant_promql::{Engine, EngineConfig, QueryError, QueryResult, Queryable};
use sextant_store::Store;
use tokio::sync::Semaphore;

use super::error::{ApiError, ErrorType, RETRY_AFTER};
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
    /// Queries waiting for a slot now.
    waiting: Arc<AtomicUsize>,
    pool: QueryPool,
}

/// Counts a query as waiting for as long as it is held.
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl QueryRunner {
    /// A runner with `cfg`'s limits.
    pub fn new(cfg: QueryConfig) -> QueryRunner {
        QueryRunner {
            cfg,
            slots: Arc::new(Semaphore::new(cfg.max_concurrency.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
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
        let permit = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let waiting = Waiting(Arc::clone(&self.waiting));
                let ahead = waiting.0.fetch_add(1, Ordering::AcqRel);
                if ahead >= self.cfg.max_queued {
                    return Err(ApiError::new(
                        ErrorType::ResourceExhausted,
                        format!(
                            "too many queries waiting ({ahead} queued behind {} running; query.max_queued): retry later",
                            self.cfg.max_concurrency.max(1)
                        ),
                    )
                    .retry_after(RETRY_AFTER.as_secs()));
                }
                let permit = tokio::time::timeout(timeout, Arc::clone(&self.slots).acquire_owned())
                    .await
                    .map_err(|_| {
                        ApiError::new(ErrorType::Timeout, "query timed out in query queue")
                    })?
                    .map_err(|_| ApiError::internal("query queue closed"))?;
                drop(waiting);
                permit
            }
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn one(e: &Engine, q: &dyn Queryable) -> Result<QueryResult, QueryError> {
        e.instant(q, "1", 0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_max_queued_a_query_is_answered_429_at_once() {
        let (c, _dir) = crate::test_support::collector();
        let runner = QueryRunner::new(QueryConfig {
            max_concurrency: 1,
            max_queued: 1,
            ..QueryConfig::default()
        });
        // One query holds the only slot until released …
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let (r, store) = (runner.clone(), Arc::clone(&c.store));
            tokio::spawn(async move {
                r.run(&store, None, move |e, q| {
                    let _ = started.send(());
                    let _ = held.recv();
                    one(e, q)
                })
                .await
            })
        };
        running.await.expect("first query started");
        // … one waits for it …
        let second = {
            let (r, store) = (runner.clone(), Arc::clone(&c.store));
            tokio::spawn(async move { r.run(&store, None, one).await })
        };
        while runner.waiting.load(Ordering::Acquire) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // … and the next one is refused without waiting.
        let refused = runner
            .run(&c.store, None, one)
            .await
            .expect_err("queue full");
        assert_eq!(refused.kind(), ErrorType::ResourceExhausted, "{refused}");
        assert!(refused.message().contains("query.max_queued"), "{refused}");
        let answer = refused.prometheus();
        assert_eq!(answer.status().as_u16(), 429);
        assert_eq!(answer.headers()["retry-after"], "1");

        release.send(()).expect("release the first query");
        first
            .await
            .expect("first task")
            .expect("first query answered");
        second
            .await
            .expect("second task")
            .expect("the waiting query answered");
        assert_eq!(runner.waiting.load(Ordering::Acquire), 0);
        runner.run(&c.store, None, one).await.expect("room again");
    }
}
