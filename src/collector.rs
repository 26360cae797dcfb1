//! Runs the collector: opens the store, binds its three listeners, and keeps
//! the store maintained and the collector's own telemetry flowing into it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use sextant_collector::{Collector, CollectorConfig, ingest};
use sextant_store::{Store, StoreConfig};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::listener_metrics::ListenerMetrics;
use crate::security::Security;
use crate::serve::{self, serve};

/// How often the collector stores its own metrics (Prometheus's default scrape interval).
const SELF_METRICS_INTERVAL: Duration = Duration::from_secs(15);
/// How often retention and WAL checkpointing run.
const MAINTAIN_INTERVAL: Duration = Duration::from_secs(60);

/// Starts everything; returns the tasks to await after shutdown. The
/// process's own spans arrive on `self_traces` (empty when they go to a
/// remote collector instead: its sender is then dropped).
pub async fn start(
    cfg: &CollectorConfig,
    registry: prometheus::Registry,
    self_logs: mpsc::Receiver<LogRecord>,
    self_traces: mpsc::Receiver<ExportTraceServiceRequest>,
    shutdown: watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<Result<()>>>> {
    let dir = cfg.data_dir.clone();
    let store_cfg = StoreConfig {
        retention: cfg.retention,
        max_bytes: cfg.retention_bytes,
        max_future: cfg.limits.creation_grace_period,
    };
    let store = tokio::task::spawn_blocking(move || Store::open(&dir, store_cfg))
        .await
        .context("store open task failed")?
        .with_context(|| format!("cannot open the store in {}", cfg.data_dir.display()))?;
    let stats = store.stats();
    tracing::info!(
        data_dir = %cfg.data_dir.display(),
        series = stats.series,
        log_entries = stats.log_entries,
        spans = stats.spans,
        disk_bytes = stats.disk_bytes,
        corrupt_records = stats.corrupt_records,
        "store opened"
    );
    let collector = Collector::new(Arc::new(store), cfg.limits, cfg.query, &registry)
        .context("cannot register collector metrics")?;
    let security = Security::load(&cfg.security).context("collector.security")?;
    // The collector's API plus the process's own /metrics, /livez, /readyz.
    let api = collector.app().merge(serve::self_router(registry.clone()));
    let listeners =
        ListenerMetrics::register(&registry).context("cannot register listener metrics")?;
    let mut tasks = vec![
        serve(
            "otlp-grpc",
            &cfg.otlp_grpc_listen,
            collector.otlp_grpc_routes().into_axum_router(),
            &security,
            cfg.limits.connections(),
            &listeners,
            shutdown.clone(),
        )
        .await?,
        serve(
            "otlp-http",
            &cfg.otlp_http_listen,
            collector.otlp_http_router(),
            &security,
            cfg.limits.connections(),
            &listeners,
            shutdown.clone(),
        )
        .await?,
        serve(
            "http",
            &cfg.http_listen,
            api,
            &security,
            cfg.limits.connections(),
            &listeners,
            shutdown.clone(),
        )
        .await?,
    ];
    let instance = cfg.http_listen.clone();
    tasks.push(tokio::spawn(maintain(collector.clone(), shutdown.clone())));
    tasks.push(tokio::spawn(self_metrics(
        collector.clone(),
        registry,
        instance.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(self_traces_loop(
        collector.clone(),
        self_traces,
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(self_logs_loop(
        collector, self_logs, instance, shutdown,
    )));
    Ok(tasks)
}

fn resource(instance: &str) -> Vec<KeyValue> {
    let kv = sextant_otlp::string_kv;
    vec![
        kv("service.name", "sextant-collector"),
        kv("service.version", env!("CARGO_PKG_VERSION")),
        kv("service.instance.id", instance),
    ]
}

/// Retention, WAL checkpoints and the store gauges, once a minute.
async fn maintain(c: Collector, mut shutdown: watch::Receiver<bool>) -> Result<()> {
    let mut tick = tokio::time::interval(MAINTAIN_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return Ok(()),
        }
        let store = Arc::clone(c.store());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        match tokio::task::spawn_blocking(move || store.maintain(now)).await {
            Ok(Ok(report)) => tracing::debug!(?report, "store maintained"),
            Ok(Err(e)) => tracing::error!(error = %e, "store maintenance failed; will retry"),
            Err(e) => tracing::error!(error = %e, "store maintenance task died; will retry"),
        }
        c.refresh_store_metrics();
    }
}

/// Stores the collector's own registry every interval, as if scraped.
async fn self_metrics(
    c: Collector,
    registry: prometheus::Registry,
    instance: String,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let mut tick = tokio::time::interval(SELF_METRICS_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return Ok(()),
        }
        c.refresh_store_metrics();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let req = sextant_prometheus::registry_to_otlp(
            &registry.gather(),
            resource(&instance),
            "sextant",
            now,
        );
        if let Err(e) = ingest::metrics(c.store(), c.policy(), req).await {
            tracing::warn!(error = %e, "could not store self-metrics");
        }
    }
}

/// Stores the collector's own log records as they arrive.
async fn self_logs_loop(
    c: Collector,
    mut rx: mpsc::Receiver<LogRecord>,
    instance: String,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let mut buf = Vec::new();
    loop {
        tokio::select! {
            n = rx.recv_many(&mut buf, 512) => if n == 0 { return Ok(()) },
            _ = shutdown.changed() => return Ok(()),
        }
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                    attributes: resource(&instance),
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: "sextant".to_string(),
                        ..Default::default()
                    }),
                    log_records: std::mem::take(&mut buf),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        };
        // Logging a failure here would feed this loop; the store error is already logged by ingest callers.
        if let Ok(acc) = ingest::logs(c.store(), c.policy(), req, 64 << 10).await {
            c.count_own_logs(&acc);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Stores the process's own spans as the tracer's batches arrive, through
/// the same ingest path as any OTLP client's (no socket, so no TLS or token
/// between the collector and itself).
async fn self_traces_loop(
    c: Collector,
    mut rx: mpsc::Receiver<ExportTraceServiceRequest>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    loop {
        let req = tokio::select! {
            req = rx.recv() => match req {
                Some(req) => req,
                None => return Ok(()),
            },
            _ = shutdown.changed() => return Ok(()),
        };
        // A log line here makes no span, so unlike self-logs it cannot feed
        // this loop; the batch is lost either way, as a full channel's is.
        if let Err(e) = ingest::traces(c.store(), c.policy(), req).await {
            tracing::warn!(error = %e, "could not store self-traces");
        }
    }
}
