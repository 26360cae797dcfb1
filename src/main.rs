//! `sextant`: one binary for the collector, the per-node agent, and both at
//! once (`sextant up`). This file only parses flags, loads config and wires
//! the pieces; every capability lives in a library crate.

mod adapt;
mod agent;
mod body_deadline;
mod collector;
mod config;
mod conns;
mod fdlimit;
mod malloc;
mod probes;
mod query;
mod reload;
mod security;
mod selflog;
mod serve;
mod telemetry;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

use crate::config::FileConfig;
use crate::selflog::SelfLogs;
use crate::telemetry::{LogFormat, TraceExport};

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
    malloc::cap_arenas();
    let cli = Cli::parse();
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
            Command::Check { .. } => Ok(()),
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

fn self_traces_endpoint(cfg: &sextant_collector::CollectorConfig) -> String {
    if cfg.self_traces_endpoint.is_empty() {
        format!("http://{}", cfg.otlp_grpc_listen)
    } else {
        cfg.self_traces_endpoint.clone()
    }
}

/// Channel depth for self-log records; past it records are dropped and counted.
const SELF_LOG_QUEUE: usize = 4096;

async fn run_collector(format: LogFormat, args: CollectorArgs) -> Result<()> {
    let file = load(&args.config)?;
    let cfg = collector_config(&args, &file);
    let (logs_tx, logs_rx) = mpsc::channel(SELF_LOG_QUEUE);
    let traces = TraceExport {
        endpoint: self_traces_endpoint(&cfg),
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
    let tasks = collector::start(&cfg, registry, logs_rx, stop_rx).await?;
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
    let traces = (!cfg.traces_endpoint.is_empty()).then(|| TraceExport {
        endpoint: cfg.traces_endpoint.clone(),
        service_name: "sextant-agent",
        instance: sextant_agent::host_name(),
    });
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
    acfg.export.endpoint = format!("http://{}", ccfg.otlp_http_listen);
    acfg.export.queue_dir = ccfg.data_dir.join("agent-queue");
    acfg.traces_endpoint = format!("http://{}", ccfg.otlp_grpc_listen);
    if let Some(a) = &args.agent_listen {
        acfg.http_listen = a.clone();
    }
    let (c_tx, c_rx) = mpsc::channel(SELF_LOG_QUEUE);
    let (a_tx, a_rx) = mpsc::channel(SELF_LOG_QUEUE);
    let traces = TraceExport {
        endpoint: self_traces_endpoint(&ccfg),
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
    let mut tasks = collector::start(&ccfg, prometheus::Registry::new(), c_rx, stop_rx.clone())
        .instrument(tracing::info_span!(selflog::COLLECTOR_SPAN))
        .await?;
    tasks.extend(agent::start(acfg, prometheus::Registry::new(), a_rx, stop_rx).await?);
    tracing::info!(
        query_api = %format!("http://{}", ccfg.http_listen),
        otlp_grpc = %ccfg.otlp_grpc_listen,
        otlp_http = %ccfg.otlp_http_listen,
        data_dir = %ccfg.data_dir.display(),
        "sextant is up"
    );
    serve::wait_for_signal(stop_tx).await;
    join(tasks).await
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
