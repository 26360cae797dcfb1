//! OTLP log records → Loki-style stream entries, as Loki's own OTLP endpoint
//! maps them: a few well-known resource attributes become stream labels
//! (low cardinality, indexed); everything else is structured metadata.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use sextant_model::{Labels, LogEntry};

/// Resource attributes Loki indexes as stream labels by default.
const STREAM_ATTRIBUTES: &[&str] = &[
    "service.name",
    "service.namespace",
    "service.instance.id",
    "deployment.environment",
    "deployment.environment.name",
    "cloud.region",
    "cloud.availability_zone",
    "k8s.cluster.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.container.name",
    "container.name",
    "k8s.deployment.name",
    "k8s.daemonset.name",
    "k8s.statefulset.name",
    "k8s.replicaset.name",
    "k8s.job.name",
    "k8s.cronjob.name",
];

/// Maps every log record of `req` to an entry; `now_ns` stands in for
/// records that carry neither a time nor an observed time.
pub fn to_entries(
    req: &ExportLogsServiceRequest,
    max_string_bytes: usize,
    now_ns: i64,
) -> Vec<LogEntry> {
    let mut out = Vec::new();
    for rl in &req.resource_logs {
        let resource_attrs: &[KeyValue] = rl
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[]);
        let mut stream = Vec::new();
        let mut resource_meta = Vec::new();
        for kv in resource_attrs {
            let pair = (
                sanitize(&kv.key),
                bounded(value_text(kv.value.as_ref()), max_string_bytes),
            );
            if STREAM_ATTRIBUTES.contains(&kv.key.as_str()) {
                stream.push(pair);
            } else {
                resource_meta.push(pair);
            }
        }
        if !stream.iter().any(|(k, _)| k == "service_name") {
            stream.push(("service_name".to_string(), "unknown_service".to_string()));
        }
        let stream = Labels::from_pairs(stream);
        for sl in &rl.scope_logs {
            let scope = sl.scope.as_ref();
            for rec in &sl.log_records {
                let mut meta = resource_meta.clone();
                if let Some(scope) = scope.filter(|s| !s.name.is_empty()) {
                    meta.push((
                        "scope_name".to_string(),
                        bounded(scope.name.clone(), max_string_bytes),
                    ));
                }
                for kv in &rec.attributes {
                    meta.push((
                        sanitize(&kv.key),
                        bounded(value_text(kv.value.as_ref()), max_string_bytes),
                    ));
                }
                if !rec.severity_text.is_empty() {
                    meta.push((
                        "severity_text".to_string(),
                        bounded(rec.severity_text.clone(), 64),
                    ));
                }
                if rec.severity_number != 0 {
                    meta.push((
                        "severity_number".to_string(),
                        rec.severity_number.to_string(),
                    ));
                }
                if rec.trace_id.len() == 16 {
                    meta.push(("trace_id".to_string(), hex::encode(&rec.trace_id)));
                }
                if rec.span_id.len() == 8 {
                    meta.push(("span_id".to_string(), hex::encode(&rec.span_id)));
                }
                if !rec.event_name.is_empty() {
                    meta.push((
                        "event_name".to_string(),
                        bounded(rec.event_name.clone(), max_string_bytes),
                    ));
                }
                let t = if rec.time_unix_nano != 0 {
                    rec.time_unix_nano
                } else {
                    rec.observed_time_unix_nano
                };
                let t_ns = if t == 0 {
                    now_ns
                } else {
                    i64::try_from(t).unwrap_or(i64::MAX)
                };
                out.push(LogEntry {
                    t_ns,
                    stream: stream.clone(),
                    line: bounded(value_text(rec.body.as_ref()), max_string_bytes),
                    metadata: Labels::from_pairs(meta),
                });
            }
        }
    }
    out
}

/// Loki's label-name rule: anything outside `[a-zA-Z0-9_]` becomes `_`, and a
/// leading digit gets a `_` prefix.
fn sanitize(key: &str) -> String {
    let mut out: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Cuts `text` to at most `max` bytes on a character boundary, so one huge
/// attribute cannot blow up the store.
fn bounded(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Renders an OTLP value as Loki does: strings verbatim, scalars in their
/// usual text form, arrays and maps as JSON.
fn value_text(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(other) => match value_json(other) {
            serde_json::Value::String(s) => s,
            json => json.to_string(),
        },
    }
}

fn value_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::StringValue(s) => J::String(s.clone()),
        Value::BoolValue(b) => J::Bool(*b),
        Value::IntValue(i) => J::from(*i),
        Value::DoubleValue(d) => serde_json::Number::from_f64(*d)
            .map(J::Number)
            .unwrap_or(J::String(d.to_string())),
        Value::BytesValue(b) => J::String(hex::encode(b)),
        Value::ArrayValue(a) => J::Array(
            a.values
                .iter()
                .map(|x| x.value.as_ref().map(value_json).unwrap_or(J::Null))
                .collect(),
        ),
        Value::KvlistValue(kv) => J::Object(
            kv.values
                .iter()
                .map(|p| {
                    (
                        p.key.clone(),
                        p.value
                            .as_ref()
                            .and_then(|x| x.value.as_ref())
                            .map(value_json)
                            .unwrap_or(J::Null),
                    )
                })
                .collect(),
        ),
        Value::StringValueStrindex(i) => J::from(*i),
    }
}

/// The severity a stored record is counted under in
/// `sextant_log_records_total`: its OTel severity text, lowercased; the
/// short name of its severity number when it has no text (`error` for
/// 17–20, as the OpenTelemetry log data model names the ranges); and
/// `unspecified` when it has neither.
pub fn severity(metadata: &sextant_model::Labels) -> String {
    if let Some(text) = metadata.get("severity_text").filter(|t| !t.is_empty()) {
        return text.to_lowercase();
    }
    let number: i32 = metadata
        .get("severity_number")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    match number {
        1..=4 => "trace",
        5..=8 => "debug",
        9..=12 => "info",
        13..=16 => "warn",
        17..=20 => "error",
        21..=24 => "fatal",
        _ => "unspecified",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;

    fn kv(k: &str, v: Value) -> KeyValue {
        KeyValue {
            key: k.to_string(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    #[test]
    fn maps_resource_to_stream_and_attributes_to_metadata() {
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", Value::StringValue("shop".into())),
                        kv("host.name", Value::StringValue("n1".into())),
                    ],
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        time_unix_nano: 5,
                        severity_text: "WARN".into(),
                        severity_number: 13,
                        body: Some(AnyValue {
                            value: Some(Value::StringValue("disk almost full".into())),
                        }),
                        attributes: vec![kv("http.status_code", Value::IntValue(503))],
                        trace_id: vec![1; 16],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let entries = to_entries(&req, 1024, 99);
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.t_ns, 5);
        assert_eq!(e.line, "disk almost full");
        assert_eq!(
            e.stream.pairs(),
            &[("service_name".to_string(), "shop".to_string())]
        );
        assert_eq!(e.metadata.get("host_name"), Some("n1"));
        assert_eq!(e.metadata.get("http_status_code"), Some("503"));
        assert_eq!(e.metadata.get("severity_text"), Some("WARN"));
        assert_eq!(
            e.metadata.get("trace_id"),
            Some("01010101010101010101010101010101")
        );
    }

    #[test]
    fn bounds_strings_on_char_boundaries() {
        assert_eq!(bounded("héllo".to_string(), 2), "h");
        assert_eq!(bounded("abc".to_string(), 3), "abc");
    }

    #[test]
    fn renders_structured_bodies_as_json() {
        let body = AnyValue {
            value: Some(Value::KvlistValue(
                opentelemetry_proto::tonic::common::v1::KeyValueList {
                    values: vec![kv("a", Value::IntValue(1))],
                },
            )),
        };
        assert_eq!(value_text(Some(&body)), r#"{"a":1}"#);
    }

    #[test]
    fn severity_is_the_text_then_the_number_then_unspecified() {
        let meta = |pairs: &[(&str, &str)]| {
            sextant_model::Labels::from_pairs(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        for (pairs, want) in [
            (
                &[("severity_text", "ERROR"), ("severity_number", "9")][..],
                "error",
            ),
            (&[("severity_text", "Warning")][..], "warning"),
            (&[("severity_number", "17")][..], "error"),
            (&[("severity_number", "21")][..], "fatal"),
            (&[("severity_number", "13")][..], "warn"),
            (&[("severity_number", "1")][..], "trace"),
            (&[("severity_number", "0")][..], "unspecified"),
            (&[("severity_number", "99")][..], "unspecified"),
            (&[][..], "unspecified"),
        ] {
            assert_eq!(severity(&meta(pairs)), want, "{pairs:?}");
        }
    }
}
