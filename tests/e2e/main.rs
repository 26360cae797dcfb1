//! End-to-end tests: the real `sextant` binary against real peers
//! (Prometheus, MariaDB, PostgreSQL, Redis, the Python OpenTelemetry SDK),
//! and the crate graph against ARCHITECTURE.md's dependency rules.
//!
//! One test binary with a module per area rather than one binary per file:
//! every binary links the whole dependency tree, so a dozen of them cost
//! gigabytes of disk and minutes of linking on a 2-core machine.

mod common;

mod amplification;
mod bad_queries;
mod connections;
mod crate_graph;
mod durability;
mod grafana;
mod health;
mod limits;
mod malformed;
mod mysqld_exporter;
mod otel_sdk;
mod outage;
mod overload;
mod promql_compat;
mod query_load;
mod rules_check;
mod rules_unittest;
mod security;
mod self_traces;
mod up;
