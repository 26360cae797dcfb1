//! A span exporter that hands the process's own spans to its collector
//! in-process, so the collector stores its own traces like anyone's without
//! a network hop: no socket to its own (possibly TLS- and token-guarded)
//! receiver, no credentials to hold for talking to itself. The traces
//! counterpart of [`crate::selflog`].

use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tokio::sync::mpsc;

/// Spans dropped because the storing side fell behind (never blocks tracing).
pub static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Turns each batch the SDK's batch processor hands over into one OTLP
/// request on a channel the collector drains into its store.
#[derive(Debug)]
pub struct SelfTraces {
    tx: mpsc::Sender<ExportTraceServiceRequest>,
    /// The tracer provider's resource (`service.name` and the rest), set by
    /// the SDK through [`SpanExporter::set_resource`] when the provider is built.
    resource: ResourceAttributesWithSchema,
}

impl SelfTraces {
    /// An exporter sending to `tx`; a full channel drops the batch.
    pub fn new(tx: mpsc::Sender<ExportTraceServiceRequest>) -> SelfTraces {
        SelfTraces {
            tx,
            resource: ResourceAttributesWithSchema::default(),
        }
    }
}

impl SpanExporter for SelfTraces {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if batch.is_empty() {
            return Ok(());
        }
        let spans = batch.len() as u64;
        let req = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(batch, &self.resource),
        };
        // try_send, never send().await: the SDK's export thread must not wait
        // on the store, and an error here would only be logged by the SDK
        // every batch. A closed channel (the collector stopped) drops too.
        if self.tx.try_send(req).is_err() {
            DROPPED.fetch_add(spans, Ordering::Relaxed);
        }
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = ResourceAttributesWithSchema::from(resource);
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::{Duration, SystemTime};

    use opentelemetry::trace::{
        SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span(id: u64, name: &'static str) -> SpanData {
        let now = SystemTime::now();
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(7u128),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Server,
            name: Cow::Borrowed(name),
            start_time: now,
            end_time: now,
            attributes: vec![KeyValue::new("http.route", "/api/search")],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("sextant").build(),
        }
    }

    fn exporter(tx: mpsc::Sender<ExportTraceServiceRequest>) -> SelfTraces {
        let mut e = SelfTraces::new(tx);
        e.set_resource(
            &Resource::builder()
                .with_service_name("sextant-collector")
                .build(),
        );
        e
    }

    fn export(e: &SelfTraces, batch: Vec<SpanData>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        // A full channel must not make export wait: a second is forever here.
        let outcome = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(1), e.export(batch)).await
        });
        assert!(matches!(outcome, Ok(Ok(()))), "{outcome:?}");
    }

    #[test]
    fn a_batch_becomes_one_request_with_the_resource() {
        let (tx, mut rx) = mpsc::channel(4);
        let e = exporter(tx);
        export(&e, vec![span(1, "GET /a"), span(2, "GET /b")]);
        let req = rx.try_recv().expect("one request");
        assert!(rx.try_recv().is_err(), "exactly one request per batch");
        assert_eq!(req.resource_spans.len(), 1);
        let rs = &req.resource_spans[0];
        let service = rs
            .resource
            .as_ref()
            .expect("resource")
            .attributes
            .iter()
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| kv.value.as_ref()?.value.clone());
        assert_eq!(
            service,
            Some(Value::StringValue("sextant-collector".to_string()))
        );
        let names: Vec<&str> = rs
            .scope_spans
            .iter()
            .flat_map(|ss| &ss.spans)
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, ["GET /a", "GET /b"]);
    }

    #[test]
    fn a_full_channel_drops_and_counts_without_blocking() {
        let (tx, mut rx) = mpsc::channel(1);
        let e = exporter(tx);
        export(&e, vec![span(1, "first")]);
        let before = DROPPED.load(Ordering::Relaxed);
        export(&e, vec![span(2, "dropped"), span(3, "dropped too")]);
        assert!(DROPPED.load(Ordering::Relaxed) >= before + 2);
        let kept = rx.try_recv().expect("the first batch stays queued");
        assert_eq!(kept.resource_spans[0].scope_spans[0].spans[0].name, "first");
        assert!(rx.try_recv().is_err(), "the second batch was dropped");
    }
}
