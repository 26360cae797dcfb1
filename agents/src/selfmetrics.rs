//! Ships the agent's own metrics registry as OTLP on a fixed interval, the
//! way Prometheus scrapes itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::resource::v1::Resource;
use sextant_export::Exporter;
use sextant_prometheus::registry_to_otlp;
use tokio::sync::watch;

/// Gathers `registry` every `interval` and submits it until shutdown.
pub async fn run(
    exporter: Exporter,
    registry: prometheus::Registry,
    resource: Resource,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => break,
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let req = registry_to_otlp(
            &registry.gather(),
            resource.attributes.clone(),
            "sextant",
            now,
        );
        if let Err(e) = exporter.submit_metrics(req).await {
            tracing::warn!(error = %e, "could not submit self-metrics");
        }
    }
}
