//! OTLP spans ↔ store entries. Each span is stored with its resource and
//! scope as one self-describing `ResourceSpans` payload, so a trace read back
//! carries everything the client sent.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use prost::Message;
use sextant_model::SpanEntry;

/// Splits a request into one entry per span; returns the entries and how many
/// spans were refused for an invalid trace id.
pub fn to_entries(req: ExportTraceServiceRequest) -> (Vec<SpanEntry>, u64) {
    let mut out = Vec::new();
    let mut invalid = 0u64;
    for rs in req.resource_spans {
        for ss in rs.scope_spans {
            for span in ss.spans {
                let Ok(trace_id) = <[u8; 16]>::try_from(span.trace_id.as_slice()) else {
                    invalid += 1;
                    continue;
                };
                if trace_id == [0; 16] {
                    invalid += 1;
                    continue;
                }
                let t_ns = i64::try_from(span.start_time_unix_nano).unwrap_or(i64::MAX);
                let one = ResourceSpans {
                    resource: rs.resource.clone(),
                    schema_url: rs.schema_url.clone(),
                    scope_spans: vec![ScopeSpans {
                        scope: ss.scope.clone(),
                        schema_url: ss.schema_url.clone(),
                        spans: vec![span],
                    }],
                };
                out.push(SpanEntry {
                    trace_id,
                    t_ns,
                    payload: one.encode_to_vec(),
                });
            }
        }
    }
    (out, invalid)
}

/// Reassembles stored entries into OTLP `ResourceSpans`, merging spans that
/// share a resource and scope, in the order they were written.
pub fn from_entries(entries: &[SpanEntry]) -> Vec<ResourceSpans> {
    let mut out: Vec<ResourceSpans> = Vec::new();
    for e in entries {
        let Ok(rs) = ResourceSpans::decode(e.payload.as_slice()) else {
            tracing::warn!(trace_id = %hex::encode(e.trace_id), "stored span payload does not decode; skipped");
            continue;
        };
        for ss in rs.scope_spans {
            let group = out
                .iter_mut()
                .find(|g| g.resource == rs.resource && g.schema_url == rs.schema_url);
            match group {
                Some(g) => match g.scope_spans.iter_mut().find(|x| x.scope == ss.scope) {
                    Some(existing) => existing.spans.extend(ss.spans),
                    None => g.scope_spans.push(ss),
                },
                None => out.push(ResourceSpans {
                    resource: rs.resource.clone(),
                    schema_url: rs.schema_url.clone(),
                    scope_spans: vec![ss],
                }),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::Span;

    #[test]
    fn splits_and_merges_back() {
        let span = |id: u8, trace: Vec<u8>| Span {
            trace_id: trace,
            span_id: vec![id; 8],
            name: format!("s{id}"),
            ..Default::default()
        };
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![
                        span(1, vec![7; 16]),
                        span(2, vec![7; 16]),
                        span(3, vec![0; 16]),
                        span(4, vec![1; 3]),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let (entries, invalid) = to_entries(req);
        assert_eq!(invalid, 2);
        assert_eq!(entries.len(), 2);
        let back = from_entries(&entries);
        assert_eq!(back.len(), 1);
        let names: Vec<_> = back[0].scope_spans[0]
            .spans
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, ["s1", "s2"]);
    }
}
