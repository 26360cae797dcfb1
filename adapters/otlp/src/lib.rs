//! OTLP vocabulary every component shares: the three signals and what each
//! signal's export request carries ([`signal`]), and constructors for OTLP
//! values ([`kv`]), so producers build attributes the same way and a request
//! is counted the same way by the exporter that batches it and by the
//! collector that accepts it.

pub mod kv;
pub mod signal;

pub use kv::string_kv;
pub use signal::{Signal, SignalRequest};
