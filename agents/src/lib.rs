//! Sextant's per-node agent.
//!
//! The agent gathers telemetry on one node — its own metrics registry and
//! log records, the host's CPU, memory and load, and the health checks it is
//! configured with — turns it into OTLP with the adapters, and hands it to
//! the export path
//! (`sextant-export`), which batches, compresses, retries and
//! queues on disk. The agent owns no socket but the exporter's client; the
//! binary starts it inside its runtime.

pub mod checks;
pub mod config;
mod host;
mod resource;
mod selfmetrics;

use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use sextant_export::{ExportError, Exporter};
use tokio::sync::{mpsc, watch};

pub use config::AgentConfig;
pub use resource::{agent_resource, host_name};

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The export path could not be set up (queue directory, client).
    #[error("export path: {0}")]
    Export(#[from] ExportError),
    /// A configured health check could not be set up.
    #[error(transparent)]
    Check(#[from] checks::CheckError),
}

/// Inputs the binary provides: where the agent's own log records arrive and
/// the registry its self-metrics live in.
pub struct AgentInputs {
    /// The process's own log records (from the tracing layer), already OTLP.
    pub logs: mpsc::Receiver<LogRecord>,
    /// The registry whose metrics the agent ships as its own.
    pub registry: prometheus::Registry,
    /// Flips to `true` when the process shuts down.
    pub shutdown: watch::Receiver<bool>,
}

/// Runs the agent until `inputs.shutdown` flips; then flushes the export path.
pub async fn run(
    cfg: AgentConfig,
    exporter: Exporter,
    inputs: AgentInputs,
) -> Result<(), AgentError> {
    let resource = agent_resource(&cfg);
    let AgentInputs {
        logs,
        registry,
        shutdown,
    } = inputs;
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(selfmetrics::run(
        exporter.clone(),
        registry,
        resource.clone(),
        cfg.self_metrics_interval,
        shutdown.clone(),
    ));
    if cfg.host_metrics {
        tasks.spawn(host::run(
            exporter.clone(),
            resource.clone(),
            cfg.host_metrics_interval,
            shutdown.clone(),
        ));
    }
    checks::start(&cfg.checks, &exporter, &resource, &shutdown, &mut tasks)?;
    tasks.spawn(ship_logs(exporter.clone(), logs, resource, shutdown));
    while tasks.join_next().await.is_some() {}
    exporter.shutdown().await?;
    Ok(())
}

/// Forwards the process's own log records in batches of what has arrived.
async fn ship_logs(
    exporter: Exporter,
    mut rx: mpsc::Receiver<LogRecord>,
    resource: opentelemetry_proto::tonic::resource::v1::Resource,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut buf = Vec::new();
    loop {
        tokio::select! {
            n = rx.recv_many(&mut buf, 512) => if n == 0 { break },
            _ = shutdown.changed() => {
                // Take what is already queued, then stop.
                while let Ok(r) = rx.try_recv() { buf.push(r) }
                if !buf.is_empty() { submit(&exporter, &resource, std::mem::take(&mut buf)).await }
                break;
            }
        }
        submit(&exporter, &resource, std::mem::take(&mut buf)).await;
        // Small pause so a burst becomes one request, not hundreds.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn submit(
    exporter: &Exporter,
    resource: &opentelemetry_proto::tonic::resource::v1::Resource,
    records: Vec<LogRecord>,
) {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource.clone()),
            scope_logs: vec![ScopeLogs {
                scope: Some(
                    opentelemetry_proto::tonic::common::v1::InstrumentationScope {
                        name: "sextant".to_string(),
                        version: env!("CARGO_PKG_VERSION").to_string(),
                        ..Default::default()
                    },
                ),
                log_records: records,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    // A log about failing to ship logs would loop back here; the exporter
    // already counts drops in its metrics.
    let _ = exporter.submit_logs(req).await;
}
