//! The process's own logs and traces: tracing-subscriber for text or JSON
//! logs, the self-log layer for OTLP log records, and OpenTelemetry spans
//! exported over OTLP/gRPC.

use anyhow::{Context, Result};
use clap::ValueEnum;
use opentelemetry::trace::TracerProvider;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::selflog::SelfLogs;

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Keeps the span pipeline alive; flushes it on drop.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

/// Where the process's spans go.
pub struct TraceExport {
    /// OTLP/gRPC endpoint, e.g. `http://127.0.0.1:4317`.
    pub endpoint: String,
    /// `service.name` of the spans.
    pub service_name: &'static str,
    /// `service.instance.id` of the spans.
    pub instance: String,
}

/// Installs the global subscriber. Must run inside the tokio runtime (the
/// span exporter spawns there). `RUST_LOG` overrides the default `info`.
pub fn init(
    format: LogFormat,
    self_logs: SelfLogs,
    traces: Option<TraceExport>,
) -> Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,h2=warn,hyper=warn,tonic=warn,tower=warn,reqwest=warn")
    });
    let fmt = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            // Colour codes only for a person at a terminal, not in log files.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let (otel, provider) = match traces {
        Some(t) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(t.endpoint.clone())
                .build()
                .with_context(|| format!("cannot set up span export to {}", t.endpoint))?;
            let resource = Resource::builder()
                .with_service_name(t.service_name)
                .with_attribute(opentelemetry::KeyValue::new(
                    "service.instance.id",
                    t.instance,
                ))
                .build();
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource)
                .build();
            let tracer = provider.tracer("sextant");
            (
                Some(tracing_opentelemetry::layer().with_tracer(tracer)),
                Some(provider),
            )
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .with(self_logs.with_filter(LevelFilter::INFO))
        .try_init()
        .context("cannot install the log subscriber")?;
    Ok(Telemetry { provider })
}
