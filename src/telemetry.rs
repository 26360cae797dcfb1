//! The process's own logs and traces: tracing-subscriber for text or JSON
//! logs, the self-log layer for OTLP log records, and OpenTelemetry spans,
//! handed to the collector in-process or exported over OTLP/gRPC with the
//! configured credentials.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ValueEnum;
use opentelemetry::trace::TracerProvider;
use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tokio::sync::mpsc;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::transport::{Certificate, ClientTlsConfig};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::selflog::SelfLogs;
use crate::selftrace::SelfTraces;

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
    /// The collector in this process, or a remote one.
    pub sink: TraceSink,
    /// `service.name` of the spans.
    pub service_name: &'static str,
    /// `service.instance.id` of the spans.
    pub instance: String,
}

/// The two ways spans leave the tracer.
pub enum TraceSink {
    /// Straight into this process's collector ([`SelfTraces`]): a collector
    /// needs no network, TLS or token to store its own spans.
    InProcess(mpsc::Sender<ExportTraceServiceRequest>),
    /// Over OTLP/gRPC to another collector, which may demand TLS and a token.
    Remote(RemoteTraces),
}

/// A remote OTLP/gRPC receiver and what it takes to be let in.
pub struct RemoteTraces {
    /// e.g. `https://collector.internal:4317`; `https://` turns TLS on.
    pub endpoint: String,
    /// Sent as `Authorization: Bearer <token>`; read once at start, never logged.
    pub token: Option<String>,
    /// CA the endpoint's certificate must chain to; `None`: the system's roots.
    pub ca_file: Option<PathBuf>,
}

impl RemoteTraces {
    /// The tonic exporter, carrying the token and, for `https://`, TLS.
    fn exporter(&self) -> Result<opentelemetry_otlp::SpanExporter> {
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(self.endpoint.clone());
        if let Some(token) = &self.token {
            // The error names neither the token nor its characters.
            let mut value = MetadataValue::try_from(format!("Bearer {token}")).map_err(|_| {
                anyhow::anyhow!("the bearer token contains characters not allowed in a header")
            })?;
            // Hidden from Debug output and kept out of HTTP/2's header table.
            value.set_sensitive(true);
            let mut metadata = MetadataMap::new();
            metadata.insert("authorization", value);
            builder = builder.with_metadata(metadata);
        }
        if self.endpoint.starts_with("https://") {
            // As for the agent's export client: the CA file, when given,
            // replaces the system roots rather than adding to them.
            let tls = match &self.ca_file {
                Some(path) => {
                    let pem = std::fs::read(path)
                        .with_context(|| format!("cannot read CA file {}", path.display()))?;
                    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem))
                }
                None => ClientTlsConfig::new().with_native_roots(),
            };
            builder = builder.with_tls_config(tls);
        }
        builder
            .build()
            .with_context(|| format!("cannot set up span export to {}", self.endpoint))
    }
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
            let resource = Resource::builder()
                .with_service_name(t.service_name)
                .with_attribute(opentelemetry::KeyValue::new(
                    "service.instance.id",
                    t.instance,
                ))
                .build();
            let builder = SdkTracerProvider::builder().with_resource(resource);
            let provider = match &t.sink {
                TraceSink::InProcess(tx) => {
                    builder.with_batch_exporter(SelfTraces::new(tx.clone()))
                }
                TraceSink::Remote(remote) => builder.with_batch_exporter(remote.exporter()?),
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(endpoint: &str, token: Option<&str>, ca_file: Option<PathBuf>) -> RemoteTraces {
        RemoteTraces {
            endpoint: endpoint.to_string(),
            token: token.map(str::to_string),
            ca_file,
        }
    }

    #[tokio::test]
    async fn a_remote_exporter_names_a_missing_ca_file_and_never_the_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("no-such-ca.pem");
        let err = remote("https://127.0.0.1:4317", Some("tok"), Some(missing.clone()))
            .exporter()
            .expect_err("no CA file");
        assert!(
            format!("{err:#}").contains(&missing.display().to_string()),
            "{err:#}"
        );
        let secret = "s3cret\nline";
        let err = remote("http://127.0.0.1:4317", Some(secret), None)
            .exporter()
            .expect_err("a newline in a header");
        assert!(!format!("{err:#}").contains("s3cret"), "{err:#}");
    }

    #[tokio::test]
    async fn a_remote_exporter_builds_with_a_ca_file_and_a_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tls = sextant_testing::tls::tls_files(dir.path());
        remote("https://127.0.0.1:4317", Some("tok"), Some(tls.ca))
            .exporter()
            .expect("https with a CA file and a token");
        remote("http://127.0.0.1:4317", None, None)
            .exporter()
            .expect("plain");
    }
}
