//! OTLP export client (being written).
