//! Config blocks and values that many components' configs share, so each
//! is written once and reads the same everywhere (as the OpenTelemetry
//! Collector's `config/` modules do for its components):
//!
//! * [`duration`] — human durations (`90s`, `5m`, `15d`), Prometheus's units.
//! * [`listener`] — the `security:` block every listener reads (TLS files,
//!   bearer-token file), and the connection limits every listener applies.
//! * [`map`] — for sections read by hand-written map visitors: an own key
//!   read at most once.
//! * [`redact`] — configured secrets scrubbed from any text bound for a
//!   log line, a probe reason or an error answer (any run of 6 or more of
//!   their characters).
//!
//! Parsing only: nothing here opens a file or a socket.

pub mod duration;
pub mod listener;
pub mod map;
pub mod redact;
