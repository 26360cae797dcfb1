//! OTLP ↔ Prometheus (being written).
