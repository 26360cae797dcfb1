//! OTLP/HTTP export client: how the agent ships logs, metrics and traces to the
//! collector without losing them while the collector is away.
//!
//! Producers [`Exporter::submit_logs`] (etc.) and get a [`Ticket`]. Per signal a
//! batcher merges requests up to `max_batch_items` / `max_batch_bytes` /
//! `batch_timeout`, then gzips the protobuf and either POSTs it directly (when
//! nothing is queued) or appends it, fsynced, to a bounded on-disk queue that a
//! background sender drains in order with exponential backoff and full jitter.
//! A ticket resolves [`Outcome::Delivered`] or [`Outcome::Queued`] only once the
//! data is safe, so a log tailer can advance its checkpoint then. When the
//! queue is full, `submit_*` waits (backpressure) or, with
//! [`WhenFull::DropNewest`], drops; every loss is counted and logged.
//!
//! An `https://` endpoint is reached with the one client TLS of every
//! outbound connection ([`sextant_tls`]): its roots and verifier, handed to
//! reqwest as a rustls config.

mod batch;
mod client;
mod config;
mod delivery;
mod error;
mod metrics;
mod private;
mod queue;
mod retry;
mod ticket;

use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use config::{ExporterConfig, WhenFull};
pub use error::ExportError;
pub use ticket::{Outcome, Ticket};

use batch::{Command, Limits, run_batcher};
use client::OtlpClient;
use delivery::Delivery;
use metrics::ExportMetrics;
use queue::DiskQueue;
use retry::Backoff;
use sextant_otlp::SignalRequest;
use sextant_tls::{Connector, TlsSettings, TlsSetupError};

/// Requests buffered per signal while its batcher is busy flushing; beyond
/// this `submit_*` waits, which is how backpressure reaches producers.
const COMMAND_BUFFER: usize = 16;

/// Handle on a running export pipeline. Cheap to clone; all clones feed the
/// same batchers and queue.
#[derive(Clone)]
pub struct Exporter {
    inner: Arc<Inner>,
}

struct Tasks {
    batchers: Vec<JoinHandle<()>>,
    sender: JoinHandle<()>,
}

struct Inner {
    logs: mpsc::Sender<Command<ExportLogsServiceRequest>>,
    metrics: mpsc::Sender<Command<ExportMetricsServiceRequest>>,
    traces: mpsc::Sender<Command<ExportTraceServiceRequest>>,
    delivery: Arc<Delivery>,
    /// The exporter's own metrics (the field `metrics` is the metrics signal's channel).
    telemetry: ExportMetrics,
    stop: watch::Sender<bool>,
    /// `None` once shut down.
    tasks: Mutex<Option<Tasks>>,
}

impl Drop for Inner {
    // The last handle went away without `shutdown`: behave like a crash (what
    // is fsynced survives, in-memory batches are counted as lost) and make sure
    // no task keeps the queue directory locked.
    fn drop(&mut self) {
        let tasks = self
            .tasks
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(tasks) = tasks {
            tracing::warn!("exporter dropped without shutdown; unflushed batches are lost");
            for task in tasks.batchers.iter().chain(std::iter::once(&tasks.sender)) {
                task.abort();
            }
        }
    }
}

impl Exporter {
    /// Opens the disk queue (re-sending whatever it holds), registers metrics on
    /// `registry` and spawns the batchers and the queue sender on the current
    /// tokio runtime.
    pub fn start(
        cfg: ExporterConfig,
        registry: &prometheus::Registry,
    ) -> Result<Exporter, ExportError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ExportError::NoRuntime)?;
        cfg.validate()?;
        let (queue, report) = DiskQueue::open(&cfg.queue_dir, cfg.max_queue_bytes)?;
        let metrics = ExportMetrics::register(registry)?;
        metrics
            .queue_capacity_bytes
            .set(i64::try_from(cfg.max_queue_bytes).unwrap_or(i64::MAX));
        if report.corrupt_records > 0 {
            metrics.queue_corrupt_records.inc_by(report.corrupt_records);
            metrics.queue_corrupt_bytes.inc_by(report.corrupt_bytes);
            tracing::error!(
                dir = %cfg.queue_dir.display(),
                records = report.corrupt_records,
                bytes = report.corrupt_bytes,
                "skipped corrupt data in the disk queue; those items are lost"
            );
        }
        if !queue.is_empty() {
            tracing::info!(
                batches = queue.len(),
                bytes = queue.used_bytes(),
                "re-sending batches left in the disk queue"
            );
        }
        let token = match &cfg.bearer_token_file {
            Some(path) => Some(read_token(path)?),
            None => cfg.bearer_token.clone(),
        };
        let tls = if cfg.endpoint.starts_with("https://") {
            Some(tls_client(&cfg)?)
        } else {
            None
        };
        let client = OtlpClient::new(
            &cfg.endpoint,
            cfg.request_timeout,
            token.as_deref(),
            tls,
            metrics.clone(),
        )?;
        let backoff = Backoff {
            initial: cfg.initial_backoff,
            max: cfg.max_backoff,
        };
        let delivery = Arc::new(Delivery::new(
            queue,
            client,
            metrics.clone(),
            backoff,
            cfg.when_full,
        ));
        let limits = Limits {
            max_items: cfg.max_batch_items,
            max_bytes: cfg.max_batch_bytes,
            timeout: cfg.batch_timeout,
        };
        let (stop, stop_rx) = watch::channel(false);
        let (logs, logs_task) = spawn_batcher(&runtime, limits, &delivery);
        let (metrics_tx, metrics_task) = spawn_batcher(&runtime, limits, &delivery);
        let (traces, traces_task) = spawn_batcher(&runtime, limits, &delivery);
        let sender = runtime.spawn(Arc::clone(&delivery).run_sender(stop_rx));
        Ok(Exporter {
            inner: Arc::new(Inner {
                logs,
                metrics: metrics_tx,
                traces,
                delivery,
                telemetry: metrics,
                stop,
                tasks: Mutex::new(Some(Tasks {
                    batchers: vec![logs_task, metrics_task, traces_task],
                    sender,
                })),
            }),
        })
    }

    /// Hands logs to the batcher; waits while the pipeline is backed up.
    pub async fn submit_logs(&self, req: ExportLogsServiceRequest) -> Result<Ticket, ExportError> {
        submit(&self.inner.logs, req, &self.inner.telemetry).await
    }

    /// Hands metrics to the batcher; waits while the pipeline is backed up.
    pub async fn submit_metrics(
        &self,
        req: ExportMetricsServiceRequest,
    ) -> Result<Ticket, ExportError> {
        submit(&self.inner.metrics, req, &self.inner.telemetry).await
    }

    /// Hands spans to the batcher; waits while the pipeline is backed up.
    pub async fn submit_traces(
        &self,
        req: ExportTraceServiceRequest,
    ) -> Result<Ticket, ExportError> {
        submit(&self.inner.traces, req, &self.inner.telemetry).await
    }

    /// Flushes pending batches (to the collector or the disk queue) and stops
    /// all tasks; queued data stays on disk for the next start. A full queue
    /// drops (counted) rather than blocking shutdown forever. Other clones of
    /// this handle get [`ExportError::Shutdown`] afterwards.
    pub async fn shutdown(self) -> Result<(), ExportError> {
        let tasks = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(tasks) = tasks else {
            return Ok(());
        };
        self.inner.delivery.begin_shutdown();
        let done = [
            request_shutdown(&self.inner.logs).await,
            request_shutdown(&self.inner.metrics).await,
            request_shutdown(&self.inner.traces).await,
        ];
        for rx in done.into_iter().flatten() {
            let _ = rx.await;
        }
        let mut failure = None;
        for task in tasks.batchers {
            if let Err(e) = task.await {
                failure = Some(ExportError::Task(format!("batcher: {e}")));
            }
        }
        let _ = self.inner.stop.send(true);
        if let Err(e) = tasks.sender.await {
            failure = Some(ExportError::Task(format!("queue sender: {e}")));
        }
        failure.map_or(Ok(()), Err)
    }
}

fn spawn_batcher<R: SignalRequest>(
    runtime: &tokio::runtime::Handle,
    limits: Limits,
    delivery: &Arc<Delivery>,
) -> (mpsc::Sender<Command<R>>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(COMMAND_BUFFER);
    let task = runtime.spawn(run_batcher(rx, limits, Arc::clone(delivery)));
    (tx, task)
}

async fn submit<R: SignalRequest>(
    tx: &mpsc::Sender<Command<R>>,
    req: R,
    metrics: &ExportMetrics,
) -> Result<Ticket, ExportError> {
    let (outcome, ticket) = ticket::ticket(R::SIGNAL, req.item_count(), metrics.clone());
    tx.send(Command::Submit(req, outcome))
        .await
        .map_err(|_| ExportError::Shutdown)?;
    Ok(ticket)
}

async fn request_shutdown<R>(tx: &mpsc::Sender<Command<R>>) -> Option<oneshot::Receiver<()>> {
    let (done, rx) = oneshot::channel();
    tx.send(Command::Shutdown(done)).await.ok().map(|()| rx)
}

/// The `https://` endpoint's TLS: the one client TLS of every outbound
/// connection ([`sextant_tls::Connector`]), trusting `ca_file` or the
/// system's roots, neither dangerous switch (or, for `up`'s agent, exactly
/// its collector's certificate); reqwest drives the handshake
/// with its rustls config. Errors name the CA file and why.
fn tls_client(cfg: &ExporterConfig) -> Result<rustls::ClientConfig, ExportError> {
    if let Some(file) = &cfg.pinned_cert_file {
        return sextant_tls::pinned_client_config(file)
            .map_err(|e| ExportError::Config(e.to_string()));
    }
    let settings = TlsSettings {
        ca_file: cfg.ca_file.clone(),
        ..TlsSettings::default()
    };
    let connector = Connector::new(&settings).map_err(|e| match e {
        TlsSetupError::NoSystemRoots => ExportError::Config(format!("https endpoint: {e}")),
        other => ExportError::Config(other.to_string()),
    })?;
    Ok(rustls::ClientConfig::clone(&connector.config()))
}

/// Longest bearer-token file read; a token is never megabytes.
const MAX_TOKEN_BYTES: u64 = 4096;

/// Reads a bearer token from a file (trimmed); the error names the file,
/// never the token. Public so the process can add the token to the
/// redactor of its log output.
pub fn read_token(path: &std::path::Path) -> Result<String, ExportError> {
    let bad =
        |why: String| ExportError::Config(format!("bearer_token_file {}: {why}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.len() > MAX_TOKEN_BYTES {
        return Err(bad(format!("over {MAX_TOKEN_BYTES} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(bad("empty".to_string()));
    }
    Ok(token.to_string())
}

#[cfg(test)]
mod tests;
