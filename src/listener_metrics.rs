//! What each listener's connection cap is doing, as self-metrics: the log
//! says so once a minute at most (`serve`'s notice), but an operator alerts
//! and graphs on counters. Named after Prometheus's own conntrack metrics
//! (`net_conntrack_listener_conn_*`), labelled by listener name.

use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

/// The listener metrics of one registry (one role of the process), shared
/// by every listener of that role.
#[derive(Clone)]
pub struct ListenerMetrics {
    accepted: IntCounterVec,
    evicted: IntCounterVec,
    refused: IntCounterVec,
    accept_errors: IntCounterVec,
    open: IntGaugeVec,
}

/// One listener's handles, resolved once so the accept loop only counts.
#[derive(Clone)]
pub struct Counters {
    /// Connections admitted.
    pub accepted: IntCounter,
    /// Idle connections closed to admit a new one at the cap.
    pub evicted: IntCounter,
    /// New connections closed at once: at the cap with none idle.
    pub refused: IntCounter,
    /// Failed `accept` calls (EMFILE included).
    pub accept_errors: IntCounter,
    /// Connections open now.
    pub open: IntGauge,
}

impl ListenerMetrics {
    /// Registers the five metrics in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<ListenerMetrics> {
        let counter = |name: &str, help: &str| -> prometheus::Result<IntCounterVec> {
            let c = IntCounterVec::new(Opts::new(name, help), &["listener"])?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let open = IntGaugeVec::new(
            Opts::new(
                "sextant_listener_connections_open",
                "Connections a listener holds open now.",
            ),
            &["listener"],
        )?;
        registry.register(Box::new(open.clone()))?;
        Ok(ListenerMetrics {
            accepted: counter(
                "sextant_listener_connections_accepted_total",
                "Connections a listener admitted.",
            )?,
            evicted: counter(
                "sextant_listener_connections_evicted_total",
                "Idle connections a listener closed to admit a new one at its max_connections.",
            )?,
            refused: counter(
                "sextant_listener_connections_refused_total",
                "New connections a listener closed at once: at max_connections with every connection busy.",
            )?,
            accept_errors: counter(
                "sextant_listener_accept_errors_total",
                "Failed accepts on a listener (out of file descriptors included).",
            )?,
            open,
        })
    }

    /// The handles of the listener called `name`.
    pub fn listener(&self, name: &str) -> Counters {
        Counters {
            accepted: self.accepted.with_label_values(&[name]),
            evicted: self.evicted.with_label_values(&[name]),
            refused: self.refused.with_label_values(&[name]),
            accept_errors: self.accept_errors.with_label_values(&[name]),
            open: self.open.with_label_values(&[name]),
        }
    }
}

/// Counts a connection open for as long as it lives (dropped with its task).
pub struct Open(IntGauge);

impl Open {
    /// Counts one more connection open on `gauge`.
    pub fn new(gauge: &IntGauge) -> Open {
        gauge.inc();
        Open(gauge.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.dec();
    }
}
