//! Tickets: how a producer learns the fate of the data it submitted.
//!
//! A log tailer may only advance its checkpoint once its lines are safe, i.e.
//! delivered to the collector or durably written to the disk queue.

use tokio::sync::oneshot;

use super::metrics::ExportMetrics;
use sextant_otlp::Signal;

/// The fate of one submitted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The collector accepted the batch (possibly with a partial rejection, which
    /// is counted and logged but is final: retrying would not help).
    Delivered,
    /// The batch is fsynced in the on-disk queue and will be sent in order,
    /// surviving restarts.
    Queued,
    /// The data was lost; it has been counted in
    /// `sextant_exporter_dropped_items_total` and logged.
    Dropped {
        /// Why, e.g. `queue_full`, `permanent_error`, `exporter_stopped`.
        reason: String,
    },
}

/// A receipt for one submitted request; await [`Ticket::outcome`] to learn its fate.
#[derive(Debug)]
pub struct Ticket(pub(crate) oneshot::Receiver<Outcome>);

impl Ticket {
    /// Waits until the request's batch is delivered, durably queued or dropped.
    pub async fn outcome(self) -> Outcome {
        // The sender side only disappears without answering when the exporter's
        // tasks were torn down (dropped without `shutdown`), which loses the batch.
        self.0.await.unwrap_or(Outcome::Dropped {
            reason: "exporter_stopped".to_string(),
        })
    }
}

/// The exporter's side of a [`Ticket`]. If it is dropped unresolved (the
/// exporter was dropped without `shutdown` while the request sat in a channel
/// or an unflushed batch), the loss is counted and logged instead of vanishing.
pub(crate) struct Resolver {
    tx: Option<oneshot::Sender<Outcome>>,
    signal: Signal,
    items: usize,
    metrics: ExportMetrics,
}

impl Resolver {
    /// Items of the request this ticket stands for.
    pub(crate) fn items(&self) -> usize {
        self.items
    }

    /// Tells the producer what happened.
    pub(crate) fn resolve(mut self, outcome: Outcome) {
        if let Some(tx) = self.tx.take() {
            // A producer that stopped waiting for its ticket is fine.
            let _ = tx.send(outcome);
        }
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        if self.tx.is_some() {
            self.metrics
                .dropped(self.signal, "exporter_stopped", self.items as u64);
            tracing::warn!(
                signal = self.signal.as_str(),
                items = self.items,
                "exporter stopped without shutdown; unflushed items lost"
            );
        }
    }
}

/// Creates a connected ticket and the resolver its batch answers through.
pub(crate) fn ticket(signal: Signal, items: usize, metrics: ExportMetrics) -> (Resolver, Ticket) {
    let (tx, rx) = oneshot::channel();
    let resolver = Resolver {
        tx: Some(tx),
        signal,
        items,
        metrics,
    };
    (resolver, Ticket(rx))
}
