//! A tracing layer that turns the process's own log events into OTLP log
//! records, so the agent and collector store their own logs like anyone's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Records dropped because the shipping side fell behind (never blocks logging).
pub static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Where records go: events from the collector's code (by target) or
/// logged inside a [`COLLECTOR_SPAN`] span go to `collector`, the rest to
/// `agent`; a missing side falls back to the other.
pub struct SelfLogs {
    /// Receives the collector's own records.
    pub collector: Option<mpsc::Sender<LogRecord>>,
    /// Receives the agent's (and everything else's) records.
    pub agent: Option<mpsc::Sender<LogRecord>>,
}

const COLLECTOR_TARGETS: &[&str] = &["sextant_collector", "sextant_store", "sextant::collector"];

/// Name of the span the binary starts the collector in, so records from
/// shared code (the listeners' "listening") land in the collector's stream
/// when `sextant up` runs both roles in one process.
pub const COLLECTOR_SPAN: &str = "collector";

impl<S> tracing_subscriber::Layer<S> for SelfLogs
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let target = event.metadata().target();
        let is_collector = COLLECTOR_TARGETS.iter().any(|p| target.starts_with(p))
            || ctx
                .event_scope(event)
                .is_some_and(|mut scope| scope.any(|span| span.name() == COLLECTOR_SPAN));
        let (first, second) = if is_collector {
            (&self.collector, &self.agent)
        } else {
            (&self.agent, &self.collector)
        };
        let Some(tx) = first.as_ref().or(second.as_ref()) else {
            return;
        };
        let mut visitor = Fields::default();
        event.record(&mut visitor);
        let (number, text) = severity(*event.metadata().level());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        visitor
            .attributes
            .push(kv("code.namespace", target.to_string()));
        let record = LogRecord {
            time_unix_nano: now,
            observed_time_unix_nano: now,
            severity_number: number,
            severity_text: text.to_string(),
            body: Some(AnyValue {
                value: Some(Value::StringValue(visitor.message)),
            }),
            attributes: visitor.attributes,
            ..Default::default()
        };
        if tx.try_send(record).is_err() {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// OTel severity numbers for tracing levels (Log Data Model's ranges).
fn severity(level: Level) -> (i32, &'static str) {
    match level {
        Level::TRACE => (1, "TRACE"),
        Level::DEBUG => (5, "DEBUG"),
        Level::INFO => (9, "INFO"),
        Level::WARN => (13, "WARN"),
        Level::ERROR => (17, "ERROR"),
    }
}

use sextant_otlp::string_kv as kv;

/// Collects `message` as the body and every other field as an attribute.
#[derive(Default)]
struct Fields {
    message: String,
    attributes: Vec<KeyValue>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.attributes.push(kv(field.name(), text));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.attributes.push(kv(field.name(), value.to_string()));
        }
    }
}
