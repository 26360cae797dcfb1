//! `sextant`: one binary for the collector, the per-node agent, and both at
//! once (`sextant up`). This file only parses flags, loads config and wires
//! the pieces; every capability lives in a library crate.

mod adapt;
mod agent;
mod allocator;
mod body_deadline;
mod collector;
mod config;
mod conns;
mod fdlimit;
mod listener_metrics;
mod probes;
mod query;
mod reload;
mod rules;
mod security;
mod selflog;
mod selftrace;
mod serve;
mod telemetry;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

use crate::config::FileConfig;
use crate::selflog::SelfLogs;
use crate::telemetry::{LogFormat, RemoteTraces, TraceExport, TraceSink};

/// Sextant: adapters that make every application observable, and a collector
/// that stores and answers for what they send.
#[derive(Parser)]
#[command(name = "sextant", version, about)]
struct Cli {
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the collector: OTLP and remote-write in, store, query APIs out.
    Collector(CollectorArgs),
    /// Run the per-node agent: gather telemetry and ship it to a collector.
    Agent(AgentArgs),
    /// Run a collector and an agent for this machine in one process.
    Up(CollectorArgs),
    /// Run one health check as a sidecar serving probes and /metrics.
    Adapt(adapt::AdaptArgs),
    /// Run a PromQL query against a collector and print the result.
    Query(query::QueryArgs),
    /// Check rule files (`rules check`), as promtool does.
    Rules(rules::RulesArgs),
    /// Validate a config file; errors point at the bad key with line and column.
    Check {
        /// The YAML file to check.
        file: PathBuf,
    },
}

#[derive(Args)]
struct CollectorArgs {
    /// YAML config file (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where the store keeps its data.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Query API, remote-write and UI listener.
    #[arg(long)]
    http_listen: Option<String>,
    /// OTLP/gRPC listener.
    #[arg(long)]
    otlp_grpc_listen: Option<String>,
    /// OTLP/HTTP listener.
    #[arg(long)]
    otlp_http_listen: Option<String>,
    /// Listener for the agent's own /metrics and probes (`up` only).
    #[arg(long)]
    agent_listen: Option<String>,
}

#[derive(Args)]
struct AgentArgs {
    /// YAML config file (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Collector OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318.
    #[arg(long)]
    endpoint: Option<String>,
    /// Directory of the on-disk export queue.
    #[arg(long)]
    queue_dir: Option<PathBuf>,
    /// Listener for the agent's own /metrics and probes.
    #[arg(long)]
    http_listen: Option<String>,
    /// OTLP/gRPC endpoint for the agent's own spans ("" turns them off).
    #[arg(long)]
    traces_endpoint: Option<String>,
}

fn main() -> std::process::ExitCode {
    allocator::purge_promptly();
    let cli = Cli::parse();
    // Its own exit codes (promtool's), and no runtime to start.
    if let Command::Rules(args) = cli.command {
        return rules::run(args);
    }
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sextant: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    if let Command::Check { file } = &cli.command {
        config::load(file)?;
        println!("{}: ok", file.display());
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Collector(args) => run_collector(cli.log_format, args).await,
            Command::Agent(args) => run_agent(cli.log_format, args).await,
            Command::Up(args) => run_up(cli.log_format, args).await,
            Command::Query(args) => query::run(args).await,
            Command::Adapt(args) => run_adapt(cli.log_format, args).await,
            Command::Check { .. } | Command::Rules(_) => Ok(()),
        }
    })
}

fn load(path: &Option<PathBuf>) -> Result<FileConfig> {
    path.as_deref()
        .map(config::load)
        .transpose()
        .map(Option::unwrap_or_default)
}

/// Applies collector flags over the file's values.
fn collector_config(args: &CollectorArgs, file: &FileConfig) -> sextant_collector::CollectorConfig {
    let mut cfg = file.collector.clone();
    if let Some(d) = &args.data_dir {
        cfg.data_dir = d.clone();
    }
    if let Some(a) = &args.http_listen {
        cfg.http_listen = a.clone();
    }
    if let Some(a) = &args.otlp_grpc_listen {
        cfg.otlp_grpc_listen = a.clone();
    }
    if let Some(a) = &args.otlp_http_listen {
        cfg.otlp_http_listen = a.clone();
    }
    cfg
}

/// Where the collector's own spans go: by default into its own store
/// in-process (its receiver may demand TLS and a token it has no business
/// presenting to itself), else to the remote collector it names, with the
/// token and CA configured for that.
fn collector_trace_sink(
    cfg: &sextant_collector::CollectorConfig,
    local: mpsc::Sender<ExportTraceServiceRequest>,
) -> Result<TraceSink> {
    if cfg.self_traces_endpoint.is_empty() {
        return Ok(TraceSink::InProcess(local));
    }
    let token = cfg
        .self_traces_bearer_token_file
        .as_deref()
        .map(sextant_export::read_token)
        .transpose()
        .context("collector.self_traces_bearer_token_file")?;
    Ok(TraceSink::Remote(RemoteTraces {
        endpoint: cfg.self_traces_endpoint.clone(),
        token,
        ca_file: cfg.self_traces_ca_file.clone(),
    }))
}

/// The agent's own spans carry the credentials of its export path: the
/// collector that takes its metrics and logs is the one that takes its spans.
fn agent_trace_sink(cfg: &sextant_agent::AgentConfig) -> Result<TraceSink> {
    let token = match &cfg.export.bearer_token_file {
        Some(path) => {
            Some(sextant_export::read_token(path).context("agent.export.bearer_token_file")?)
        }
        None => cfg.export.bearer_token.clone(),
    };
    Ok(TraceSink::Remote(RemoteTraces {
        endpoint: cfg.traces_endpoint.clone(),
        token,
        ca_file: cfg.export.ca_file.clone(),
    }))
}

/// Channel depth for self-log records; past it records are dropped and counted.
const SELF_LOG_QUEUE: usize = 4096;
/// Channel depth for self-trace batches (each up to 512 spans, the SDK's
/// batch size); past it batches are dropped and counted.
const SELF_TRACE_QUEUE: usize = 64;

async fn run_collector(format: LogFormat, args: CollectorArgs) -> Result<()> {
    let file = load(&args.config)?;
    let cfg = collector_config(&args, &file);
    let (logs_tx, logs_rx) = mpsc::channel(SELF_LOG_QUEUE);
    let (traces_tx, traces_rx) = mpsc::channel(SELF_TRACE_QUEUE);
    let traces = TraceExport {
        sink: collector_trace_sink(&cfg, traces_tx)?,
        service_name: "sextant-collector",
        instance: cfg.http_listen.clone(),
    };
    let _telemetry = telemetry::init(
        format,
        SelfLogs {
            collector: Some(logs_tx),
            agent: None,
        },
        Some(traces),
    )?;
    serving(3)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let registry = prometheus::Registry::new();
    let tasks = collector::start(&cfg, registry, logs_rx, traces_rx, stop_rx).await?;
    serve::wait_for_signal(stop_tx).await;
    join(tasks).await
}

async fn run_agent(format: LogFormat, args: AgentArgs) -> Result<()> {
    let file = load(&args.config)?;
    let mut cfg = file.agent;
    if let Some(e) = args.endpoint {
        cfg.export.endpoint = e;
    }
    if let Some(q) = args.queue_dir {
        cfg.export.queue_dir = q;
    }
    if let Some(a) = args.http_listen {
        cfg.http_listen = a;
    }
    if let Some(t) = args.traces_endpoint {
        cfg.traces_endpoint = t;
    }
    let (logs_tx, logs_rx) = mpsc::channel(SELF_LOG_QUEUE);
    let traces = if cfg.traces_endpoint.is_empty() {
        None
    } else {
        Some(TraceExport {
            sink: agent_trace_sink(&cfg)?,
            service_name: "sextant-agent",
            instance: sextant_agent::host_name(),
        })
    };
    let _telemetry = telemetry::init(
        format,
        SelfLogs {
            collector: None,
            agent: Some(logs_tx),
        },
        traces,
    )?;
    serving(1)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let tasks = agent::start(cfg, prometheus::Registry::new(), logs_rx, stop_rx).await?;
    serve::wait_for_signal(stop_tx).await;
    join(tasks).await
}

async fn run_up(format: LogFormat, args: CollectorArgs) -> Result<()> {
    let file = load(&args.config)?;
    let ccfg = collector_config(&args, &file);
    let mut acfg = file.agent.clone();
    // The local agent ships to the local collector and queues beside its data.
    local_export(&mut acfg.export, &ccfg.security, &ccfg.otlp_http_listen);
    acfg.export.queue_dir = ccfg.data_dir.join("agent-queue");
    if let Some(a) = &args.agent_listen {
        acfg.http_listen = a.clone();
    }
    let (c_tx, c_rx) = mpsc::channel(SELF_LOG_QUEUE);
    let (a_tx, a_rx) = mpsc::channel(SELF_LOG_QUEUE);
    // One process, one tracer: its spans go straight into its collector,
    // whatever `self_traces_endpoint` says.
    let (traces_tx, traces_rx) = mpsc::channel(SELF_TRACE_QUEUE);
    let traces = TraceExport {
        sink: TraceSink::InProcess(traces_tx),
        service_name: "sextant",
        instance: sextant_agent::host_name(),
    };
    let _telemetry = telemetry::init(
        format,
        SelfLogs {
            collector: Some(c_tx),
            agent: Some(a_tx),
        },
        Some(traces),
    )?;
    // The collector's three listeners and the agent's.
    serving(4)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = collector::start(
        &ccfg,
        prometheus::Registry::new(),
        c_rx,
        traces_rx,
        stop_rx.clone(),
    )
    .instrument(tracing::info_span!(selflog::COLLECTOR_SPAN))
    .await?;
    tasks.extend(agent::start(acfg, prometheus::Registry::new(), a_rx, stop_rx).await?);
    tracing::info!(
        query_api = %format!("{}://{}", scheme(&ccfg.security), ccfg.http_listen),
        otlp_grpc = %ccfg.otlp_grpc_listen,
        otlp_http = %ccfg.otlp_http_listen,
        data_dir = %ccfg.data_dir.display(),
        "sextant is up"
    );
    serve::wait_for_signal(stop_tx).await;
    join(tasks).await
}

/// `up`'s agent ships to its collector's OTLP/HTTP listener with what that
/// listener demands, or every export would be refused: `https://` when it
/// speaks TLS, verified against `agent.export.ca_file` if set, else pinned
/// to the collector's own certificate file (self-signed or naming another
/// host, it is still the one this process serves), and the collector's
/// token unless the agent names one of its own.
fn local_export(
    export: &mut sextant_export::ExporterConfig,
    security: &sextant_config::listener::ListenerSecurity,
    listen: &str,
) {
    export.endpoint = format!("{}://{listen}", scheme(security));
    if export.ca_file.is_none() {
        export.pinned_cert_file = security.tls_cert_file.clone();
    }
    if export.bearer_token.is_none() && export.bearer_token_file.is_none() {
        export.bearer_token_file = security.bearer_token_file.clone();
    }
}

/// The URL scheme of a listener with `security`.
fn scheme(security: &sextant_config::listener::ListenerSecurity) -> &'static str {
    if security.tls_cert_file.is_some() {
        "https"
    } else {
        "http"
    }
}

async fn run_adapt(format: LogFormat, args: adapt::AdaptArgs) -> Result<()> {
    let file = load(&args.config_path().cloned())?;
    let _telemetry = telemetry::init(
        format,
        SelfLogs {
            collector: None,
            agent: None,
        },
        None,
    )?;
    serving(1)?;
    adapt::run(args, file.adapt).await
}

/// What every serving role does before it binds: raise the open-file limit
/// (sharing it among its `listeners`) and take SIGHUP as "reload
/// certificates and tokens" rather than "terminate".
fn serving(listeners: usize) -> Result<()> {
    fdlimit::raise(listeners);
    reload::catch_sighup()
}

/// Waits for every task; the first error wins, the rest are logged.
async fn join(tasks: Vec<tokio::task::JoinHandle<Result<()>>>) -> Result<()> {
    let mut first = None;
    for t in tasks {
        let outcome = t.await.context("task panicked").and_then(|r| r);
        if let Err(e) = outcome {
            tracing::error!(error = %format!("{e:#}"), "task failed");
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}
