//! Per-signal batcher: merges submitted requests until the item, byte or time
//! limit, then encodes, gzips and hands the batch to delivery.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::ExportError;
use super::delivery::Delivery;
use super::queue::Record;
use super::ticket::Resolver;
use sextant_otlp::SignalRequest;

/// What producers (and `shutdown`) tell a batcher.
pub(crate) enum Command<R> {
    Submit(R, Resolver),
    /// Flush what is pending, answer, and exit.
    Shutdown(oneshot::Sender<()>),
}

/// When a batch is flushed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_items: usize,
    pub(crate) max_bytes: usize,
    pub(crate) timeout: Duration,
}

/// The batch being built. Losing it (task torn down) is counted by the
/// [`Resolver`]s' `Drop`.
struct Pending<R: SignalRequest> {
    request: R,
    items: usize,
    bytes: usize,
    tickets: Vec<Resolver>,
    deadline: Option<Instant>,
}

impl<R: SignalRequest> Pending<R> {
    fn new() -> Self {
        Pending {
            request: R::default(),
            items: 0,
            bytes: 0,
            tickets: Vec::new(),
            deadline: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }

    fn add(&mut self, request: R, items: usize, bytes: usize, ticket: Resolver, timeout: Duration) {
        if self.is_empty() {
            self.deadline = Some(Instant::now() + timeout);
        }
        self.request.append(request);
        self.items += items;
        self.bytes += bytes;
        self.tickets.push(ticket);
    }

    fn take(&mut self) -> (R, usize, Vec<Resolver>) {
        let items = std::mem::take(&mut self.items);
        self.bytes = 0;
        self.deadline = None;
        (
            std::mem::take(&mut self.request),
            items,
            std::mem::take(&mut self.tickets),
        )
    }
}

/// Protobuf-encodes and gzips a merged request.
pub(crate) fn encode_gzip<R: SignalRequest>(request: &R) -> Result<Vec<u8>, ExportError> {
    let plain = request.encode_to_vec();
    let mut gz = GzEncoder::new(
        Vec::with_capacity(plain.len() / 4 + 64),
        Compression::default(),
    );
    gz.write_all(&plain)
        .and_then(|()| gz.finish())
        .map_err(|e| ExportError::Encode {
            signal: R::SIGNAL.as_str(),
            reason: e.to_string(),
        })
}

/// The batcher task of one signal.
pub(crate) async fn run_batcher<R: SignalRequest>(
    mut commands: mpsc::Receiver<Command<R>>,
    limits: Limits,
    delivery: Arc<Delivery>,
) {
    let mut pending = Pending::<R>::new();
    loop {
        let deadline = pending.deadline;
        let command = tokio::select! {
            command = commands.recv() => command,
            () = sleep_until(deadline), if deadline.is_some() => {
                flush(&mut pending, &delivery).await;
                continue;
            }
        };
        match command {
            Some(Command::Submit(request, ticket)) => {
                let items = ticket.items();
                let bytes = request.encoded_len();
                // Flush first if this request would push the batch over a limit,
                // so batches stay within bounds (a single oversized request still
                // travels alone).
                if !pending.is_empty()
                    && (pending.items + items > limits.max_items
                        || pending.bytes + bytes > limits.max_bytes)
                {
                    flush(&mut pending, &delivery).await;
                }
                pending.add(request, items, bytes, ticket, limits.timeout);
                if pending.items >= limits.max_items || pending.bytes >= limits.max_bytes {
                    flush(&mut pending, &delivery).await;
                }
            }
            Some(Command::Shutdown(done)) => {
                flush(&mut pending, &delivery).await;
                let _ = done.send(());
                return;
            }
            None => {
                flush(&mut pending, &delivery).await;
                return;
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline).await;
    }
}

async fn flush<R: SignalRequest>(pending: &mut Pending<R>, delivery: &Arc<Delivery>) {
    if pending.is_empty() {
        return;
    }
    let (request, items, tickets) = pending.take();
    let items = u32::try_from(items).unwrap_or(u32::MAX);
    let signal = R::SIGNAL;
    // gzip of a multi-MiB batch takes tens of ms: keep it off the async workers.
    let encoded = tokio::task::spawn_blocking(move || encode_gzip(&request))
        .await
        .map_err(|e| ExportError::Task(e.to_string()))
        .and_then(|r| r);
    let outcome = match encoded {
        Ok(body) => {
            delivery
                .deliver(Record {
                    signal,
                    items,
                    body,
                })
                .await
        }
        Err(e) => delivery.drop_batch(signal, items, "encode_error", &e.to_string()),
    };
    for ticket in tickets {
        ticket.resolve(outcome.clone());
    }
}
