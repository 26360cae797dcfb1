//! Getting encoded batches to the collector: direct send when nothing is queued,
//! otherwise (or on a retryable failure) the disk queue, which a background
//! sender drains in order with backoff.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Notify, watch};

use super::ExportError;
use super::client::{OtlpClient, SendResult};
use super::config::WhenFull;
use super::metrics::ExportMetrics;
use super::queue::{DiskQueue, Peeked, Push, Record};
use super::retry::Backoff;
use super::ticket::Outcome;
use sextant_otlp::Signal;

/// State shared by the batchers (producing) and the background sender (draining).
pub(crate) struct Delivery {
    queue: Arc<Mutex<DiskQueue>>,
    /// Mirror of the queue length, readable without taking the (fsync-holding) lock.
    queued_batches: AtomicUsize,
    /// Wakes the sender when a record is appended.
    data: Notify,
    /// Wakes blocked appenders when a record is acknowledged.
    space: Notify,
    /// Set by `shutdown`: a full queue then drops instead of blocking forever.
    shutting_down: AtomicBool,
    client: OtlpClient,
    metrics: ExportMetrics,
    backoff: Backoff,
    when_full: WhenFull,
}

impl Delivery {
    pub(crate) fn new(
        queue: DiskQueue,
        client: OtlpClient,
        metrics: ExportMetrics,
        backoff: Backoff,
        when_full: WhenFull,
    ) -> Self {
        let delivery = Delivery {
            queued_batches: AtomicUsize::new(queue.len()),
            queue: Arc::new(Mutex::new(queue)),
            data: Notify::new(),
            space: Notify::new(),
            shutting_down: AtomicBool::new(false),
            client,
            metrics,
            backoff,
            when_full,
        };
        if let Ok(q) = delivery.queue.lock() {
            delivery.update_gauges(&q);
        }
        delivery
    }

    fn update_gauges(&self, q: &DiskQueue) {
        self.queued_batches.store(q.len(), Ordering::SeqCst);
        self.metrics
            .queue_size_bytes
            .set(i64::try_from(q.used_bytes()).unwrap_or(i64::MAX));
        self.metrics
            .queue_batches
            .set(i64::try_from(q.len()).unwrap_or(i64::MAX));
    }

    /// Runs blocking queue I/O off the async workers, keeping gauges current.
    async fn with_queue<T: Send + 'static>(
        self: &Arc<Self>,
        op: impl FnOnce(&mut DiskQueue) -> Result<T, ExportError> + Send + 'static,
    ) -> Result<T, ExportError> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            // A panic elsewhere cannot leave the index half-updated (ops are
            // update-after-I/O), so a poisoned lock is safe to reuse.
            let mut q = this.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let result = op(&mut q);
            this.update_gauges(&q);
            result
        })
        .await
        .map_err(|e| ExportError::Task(format!("disk queue task: {e}")))?
    }

    /// Makes a full queue drop instead of block and wakes any blocked appender.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.space.notify_waiters();
    }

    /// Delivers or durably queues one batch; the returned outcome resolves its tickets.
    pub(crate) async fn deliver(self: &Arc<Self>, record: Record) -> Outcome {
        // Only go direct when nothing older is waiting, so per-signal order holds.
        if self.queued_batches.load(Ordering::SeqCst) == 0 {
            match self.client.send(record.signal, record.body.clone()).await {
                SendResult::Accepted { rejected } => {
                    self.accepted(record.signal, record.items, rejected);
                    return Outcome::Delivered;
                }
                SendResult::Permanent { status, body } => {
                    return self.permanent(record.signal, record.items, status, &body);
                }
                SendResult::Retryable { reason, .. } => {
                    tracing::warn!(signal = record.signal.as_str(), %reason, "export failed, queueing batch on disk for retry");
                }
            }
        }
        self.enqueue(record).await
    }

    async fn enqueue(self: &Arc<Self>, mut record: Record) -> Outcome {
        let (signal, items) = (record.signal, record.items);
        let mut logged_full = false;
        loop {
            // Register for wake-ups before looking, so an ack in between is not missed.
            let space = self.space.notified();
            tokio::pin!(space);
            space.as_mut().enable();
            match self.with_queue(move |q| q.push(record)).await {
                Ok(Push::Appended) => {
                    self.metrics.enqueued(signal, u64::from(items));
                    self.data.notify_one();
                    return Outcome::Queued;
                }
                Ok(Push::TooLarge) => {
                    return self.drop_batch(
                        signal,
                        items,
                        "too_large",
                        "batch is larger than max_queue_bytes",
                    );
                }
                Ok(Push::Full(back)) => {
                    if self.when_full == WhenFull::DropNewest {
                        return self.drop_batch(
                            signal,
                            items,
                            "queue_full",
                            "disk queue full (when_full: drop_newest)",
                        );
                    }
                    if self.shutting_down.load(Ordering::SeqCst) {
                        return self.drop_batch(
                            signal,
                            items,
                            "queue_full",
                            "disk queue full during shutdown",
                        );
                    }
                    if !logged_full {
                        tracing::warn!(
                            signal = signal.as_str(),
                            "disk queue full, producers wait for the collector"
                        );
                        logged_full = true;
                    }
                    record = back;
                    space.await;
                }
                Err(e) => {
                    return self.drop_batch(
                        signal,
                        items,
                        "queue_io",
                        &format!("cannot queue batch: {e}"),
                    );
                }
            }
        }
    }

    /// Counts and logs a lost batch; returns the outcome its tickets get.
    pub(crate) fn drop_batch(
        &self,
        signal: Signal,
        items: u32,
        reason: &str,
        why: &str,
    ) -> Outcome {
        self.metrics.dropped(signal, reason, u64::from(items));
        tracing::error!(
            signal = signal.as_str(),
            items,
            reason,
            "dropping batch: {why}"
        );
        Outcome::Dropped {
            reason: reason.to_string(),
        }
    }

    fn accepted(&self, signal: Signal, items: u32, rejected: Option<(i64, String)>) {
        let items = u64::from(items);
        let Some((count, message)) = rejected else {
            self.metrics.sent(signal, items);
            return;
        };
        let count = u64::try_from(count).unwrap_or(0).min(items);
        self.metrics.sent(signal, items - count);
        self.metrics.dropped(signal, "rejected", count);
        tracing::warn!(signal = signal.as_str(), rejected = count, %message, "collector partially rejected a batch");
    }

    fn permanent(&self, signal: Signal, items: u32, status: u16, body: &str) -> Outcome {
        tracing::error!(signal = signal.as_str(), status, %body, "collector refused a batch; not retrying");
        self.metrics
            .dropped(signal, "permanent_error", u64::from(items));
        Outcome::Dropped {
            reason: "permanent_error".to_string(),
        }
    }

    async fn ack(self: &Arc<Self>) -> Result<(), ExportError> {
        let result = self.with_queue(|q| q.ack()).await;
        self.space.notify_waiters();
        result
    }

    /// Background task: drains the disk queue in order until `stop` turns true.
    /// Retryable failures are retried forever with backoff: the point of the
    /// queue is to outlast a collector outage.
    pub(crate) async fn run_sender(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            let data = self.data.notified();
            tokio::pin!(data);
            data.as_mut().enable();
            let head = match self.with_queue(|q| q.peek()).await {
                Ok(head) => head,
                Err(e) => {
                    tracing::error!("cannot read disk queue: {e}");
                    if self.pause(self.backoff.max, &mut stop).await {
                        return;
                    }
                    continue;
                }
            };
            let record = match head {
                None => {
                    tokio::select! {
                        _ = &mut data => continue,
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
                Some(Peeked::Corrupt { bytes }) => {
                    self.metrics.queue_corrupt_records.inc();
                    self.metrics.queue_corrupt_bytes.inc_by(bytes);
                    tracing::error!(
                        bytes,
                        "skipping corrupt batch in disk queue; its items are lost"
                    );
                    if self.ack_or_pause(&mut stop).await {
                        return;
                    }
                    continue;
                }
                Some(Peeked::Record(record)) => record,
            };
            if self.send_until_done(record, &mut stop).await {
                return;
            }
            if self.ack_or_pause(&mut stop).await {
                return;
            }
        }
    }

    /// Sends one queued record until it is accepted or permanently refused.
    /// Returns true if stopped first (the record stays queued).
    async fn send_until_done(&self, record: Record, stop: &mut watch::Receiver<bool>) -> bool {
        let mut attempt = 0u32;
        loop {
            let result = tokio::select! {
                r = self.client.send(record.signal, record.body.clone()) => r,
                _ = stop.wait_for(|s| *s) => return true,
            };
            match result {
                SendResult::Accepted { rejected } => {
                    self.accepted(record.signal, record.items, rejected);
                    return false;
                }
                SendResult::Permanent { status, body } => {
                    self.permanent(record.signal, record.items, status, &body);
                    return false;
                }
                SendResult::Retryable {
                    reason,
                    retry_after,
                } => {
                    let wait = self.backoff.next_wait(attempt, retry_after);
                    attempt = attempt.saturating_add(1);
                    self.metrics.retried(record.signal);
                    tracing::warn!(signal = record.signal.as_str(), %reason, attempt, ?wait, "queued export failed, retrying");
                    if self.pause(wait, stop).await {
                        return true;
                    }
                }
            }
        }
    }

    /// Acks the head; on failure waits (the head will be re-sent: a duplicate,
    /// never a loss). Returns true if stopped.
    async fn ack_or_pause(self: &Arc<Self>, stop: &mut watch::Receiver<bool>) -> bool {
        match self.ack().await {
            Ok(()) => false,
            Err(e) => {
                tracing::error!("cannot advance disk queue cursor: {e}");
                self.pause(self.backoff.max, stop).await
            }
        }
    }

    /// Sleeps unless stopped first; returns true if stopped.
    async fn pause(&self, wait: std::time::Duration, stop: &mut watch::Receiver<bool>) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(wait) => false,
            _ = stop.wait_for(|s| *s) => true,
        }
    }
}
