//! Runs the agent: the export path, its own `/metrics` and probes, and the
//! gathering tasks.

use anyhow::{Context, Result};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use sextant_agent::{AgentConfig, AgentInputs};
use sextant_config::listener::ConnectionLimits;
use sextant_export::Exporter;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::listener_metrics::ListenerMetrics;
use crate::security::Security;
use crate::serve::{self, serve};

/// Starts the agent; returns the tasks to await after shutdown.
pub async fn start(
    cfg: AgentConfig,
    registry: prometheus::Registry,
    logs: mpsc::Receiver<LogRecord>,
    shutdown: watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<Result<()>>>> {
    let exporter = Exporter::start(cfg.export.clone(), &registry).with_context(|| {
        format!(
            "cannot start the export path (queue in {})",
            cfg.export.queue_dir.display()
        )
    })?;
    let security = Security::load(&cfg.security).context("agent.security")?;
    let http = serve(
        "agent-http",
        &cfg.http_listen,
        serve::self_router(registry.clone()),
        &security,
        ConnectionLimits::default(),
        &ListenerMetrics::register(&registry).context("cannot register listener metrics")?,
        shutdown.clone(),
    )
    .await?;
    let inputs = AgentInputs {
        logs,
        registry,
        shutdown,
    };
    let agent = tokio::spawn(async move {
        sextant_agent::run(cfg, exporter, inputs)
            .await
            .context("agent failed")
    });
    Ok(vec![http, agent])
}
