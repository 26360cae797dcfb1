//! The small static schema the wire pre-scan walks: for each message of the
//! OTLP export requests and of remote-write's `WriteRequest`, which field
//! numbers hold what the decoder would allocate for — nested messages,
//! strings and bytes, packed repeated scalars — and which of them are the
//! items a request is limited by. Scalar fields are absent: prost stores
//! them inline, so they cost nothing beyond their message's size.
//!
//! **Invariant:** every allocating field of the messages prost decodes is
//! listed here, so the pre-scan's estimate is never below what decoding
//! allocates for the structs themselves (`schema_tests` checks the sizes).

use std::mem::size_of;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::logs::v1 as logs;
use opentelemetry_proto::tonic::metrics::v1 as metrics;
use opentelemetry_proto::tonic::resource::v1 as resource;
use opentelemetry_proto::tonic::trace::v1 as trace;

/// What a request is limited by: one counter per kind of item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// `resource_metrics`, `resource_logs`, `resource_spans` elements.
    Resources,
    /// Data points of every metric type.
    Points,
    /// Log records.
    LogRecords,
    /// Spans.
    Spans,
    /// Remote-write time series.
    Series,
}

impl Item {
    /// Every item, in the order of [`Item::index`].
    pub const ALL: [Item; 5] = [
        Item::Resources,
        Item::Points,
        Item::LogRecords,
        Item::Spans,
        Item::Series,
    ];

    /// The slot of this item in a tally.
    pub fn index(self) -> usize {
        self as usize
    }

    /// How errors name the item.
    pub fn plural(self) -> &'static str {
        match self {
            Item::Resources => "resources",
            Item::Points => "data points",
            Item::LogRecords => "log records",
            Item::Spans => "spans",
            Item::Series => "time series",
        }
    }
}

/// One message type: its name for errors, the bytes its struct takes, and
/// its allocating fields.
#[derive(Debug)]
pub struct Message {
    /// The protobuf name, for errors.
    pub name: &'static str,
    /// `size_of` the struct prost decodes it into.
    pub size: usize,
    /// The fields the scan looks into; any other field is skipped.
    pub fields: &'static [Field],
}

impl Message {
    /// Whether decoding it allocates only its singular strings and bytes,
    /// which together take no more than the message's own bytes: the scan
    /// charges such a message its length instead of walking it.
    pub fn is_leaf(&self) -> bool {
        self.fields
            .iter()
            .all(|f| matches!(f.kind, Kind::Bytes { repeated: false }))
    }
}

/// One allocating field of a message.
#[derive(Debug)]
pub struct Field {
    /// The field number on the wire.
    pub number: u32,
    /// The field name, for errors.
    pub name: &'static str,
    /// What the field holds.
    pub kind: Kind,
}

/// What an allocating field holds.
#[derive(Debug)]
pub enum Kind {
    /// A nested message: repeated (a `Vec` element each) or singular
    /// (inline in its parent, merged on repetition), perhaps counted.
    Message {
        /// Its type.
        of: &'static Message,
        /// Whether each occurrence is a new `Vec` element.
        repeated: bool,
        /// The limited item each occurrence is, if any.
        counts: Option<Item>,
    },
    /// A string or bytes; repeated ones are `Vec` elements too.
    Bytes {
        /// Whether each occurrence is a new `Vec<String>` element.
        repeated: bool,
    },
    /// A repeated scalar of 8 bytes in memory, packed or not; `min_wire` is
    /// the fewest bytes one element takes packed (1 for varints).
    Packed {
        /// The fewest bytes one packed element takes.
        min_wire: usize,
    },
}

const fn msg(of: &'static Message, number: u32, name: &'static str) -> Field {
    Field {
        number,
        name,
        kind: Kind::Message {
            of,
            repeated: false,
            counts: None,
        },
    }
}

const fn rep(of: &'static Message, number: u32, name: &'static str) -> Field {
    Field {
        number,
        name,
        kind: Kind::Message {
            of,
            repeated: true,
            counts: None,
        },
    }
}

const fn counted(of: &'static Message, number: u32, name: &'static str, item: Item) -> Field {
    Field {
        number,
        name,
        kind: Kind::Message {
            of,
            repeated: true,
            counts: Some(item),
        },
    }
}

const fn bytes(number: u32, name: &'static str) -> Field {
    Field {
        number,
        name,
        kind: Kind::Bytes { repeated: false },
    }
}

const fn strings(number: u32, name: &'static str) -> Field {
    Field {
        number,
        name,
        kind: Kind::Bytes { repeated: true },
    }
}

const fn packed(number: u32, name: &'static str, min_wire: usize) -> Field {
    Field {
        number,
        name,
        kind: Kind::Packed { min_wire },
    }
}

// --- common, resource -------------------------------------------------------

/// `opentelemetry.proto.common.v1.AnyValue`.
pub static ANY_VALUE: Message = Message {
    name: "AnyValue",
    size: size_of::<common::AnyValue>(),
    fields: &[
        bytes(1, "string_value"),
        msg(&ARRAY_VALUE, 5, "array_value"),
        msg(&KEY_VALUE_LIST, 6, "kvlist_value"),
        bytes(7, "bytes_value"),
    ],
};

static ARRAY_VALUE: Message = Message {
    name: "ArrayValue",
    size: size_of::<common::ArrayValue>(),
    fields: &[rep(&ANY_VALUE, 1, "values")],
};

static KEY_VALUE_LIST: Message = Message {
    name: "KeyValueList",
    size: size_of::<common::KeyValueList>(),
    fields: &[rep(&KEY_VALUE, 1, "values")],
};

static KEY_VALUE: Message = Message {
    name: "KeyValue",
    size: size_of::<common::KeyValue>(),
    fields: &[bytes(1, "key"), msg(&ANY_VALUE, 2, "value")],
};

static SCOPE: Message = Message {
    name: "InstrumentationScope",
    size: size_of::<common::InstrumentationScope>(),
    fields: &[
        bytes(1, "name"),
        bytes(2, "version"),
        rep(&KEY_VALUE, 3, "attributes"),
    ],
};

static ENTITY_REF: Message = Message {
    name: "EntityRef",
    size: size_of::<common::EntityRef>(),
    fields: &[
        bytes(1, "schema_url"),
        bytes(2, "type"),
        strings(3, "id_keys"),
        strings(4, "description_keys"),
    ],
};

static RESOURCE: Message = Message {
    name: "Resource",
    size: size_of::<resource::Resource>(),
    fields: &[
        rep(&KEY_VALUE, 1, "attributes"),
        rep(&ENTITY_REF, 3, "entity_refs"),
    ],
};

// --- metrics ----------------------------------------------------------------

/// `ExportMetricsServiceRequest`.
pub static METRICS_REQUEST: Message = Message {
    name: "ExportMetricsServiceRequest",
    size: size_of::<ExportMetricsServiceRequest>(),
    fields: &[counted(
        &RESOURCE_METRICS,
        1,
        "resource_metrics",
        Item::Resources,
    )],
};

static RESOURCE_METRICS: Message = Message {
    name: "ResourceMetrics",
    size: size_of::<metrics::ResourceMetrics>(),
    fields: &[
        msg(&RESOURCE, 1, "resource"),
        rep(&SCOPE_METRICS, 2, "scope_metrics"),
        bytes(3, "schema_url"),
    ],
};

static SCOPE_METRICS: Message = Message {
    name: "ScopeMetrics",
    size: size_of::<metrics::ScopeMetrics>(),
    fields: &[
        msg(&SCOPE, 1, "scope"),
        rep(&METRIC, 2, "metrics"),
        bytes(3, "schema_url"),
    ],
};

static METRIC: Message = Message {
    name: "Metric",
    size: size_of::<metrics::Metric>(),
    fields: &[
        bytes(1, "name"),
        bytes(2, "description"),
        bytes(3, "unit"),
        msg(&GAUGE, 5, "gauge"),
        msg(&SUM, 7, "sum"),
        msg(&HISTOGRAM, 9, "histogram"),
        msg(&EXP_HISTOGRAM, 10, "exponential_histogram"),
        msg(&SUMMARY, 11, "summary"),
        rep(&KEY_VALUE, 12, "metadata"),
    ],
};

static GAUGE: Message = Message {
    name: "Gauge",
    size: size_of::<metrics::Gauge>(),
    fields: &[counted(&NUMBER_POINT, 1, "data_points", Item::Points)],
};

static SUM: Message = Message {
    name: "Sum",
    size: size_of::<metrics::Sum>(),
    fields: &[counted(&NUMBER_POINT, 1, "data_points", Item::Points)],
};

static HISTOGRAM: Message = Message {
    name: "Histogram",
    size: size_of::<metrics::Histogram>(),
    fields: &[counted(&HISTOGRAM_POINT, 1, "data_points", Item::Points)],
};

static EXP_HISTOGRAM: Message = Message {
    name: "ExponentialHistogram",
    size: size_of::<metrics::ExponentialHistogram>(),
    fields: &[counted(
        &EXP_HISTOGRAM_POINT,
        1,
        "data_points",
        Item::Points,
    )],
};

static SUMMARY: Message = Message {
    name: "Summary",
    size: size_of::<metrics::Summary>(),
    fields: &[counted(&SUMMARY_POINT, 1, "data_points", Item::Points)],
};

static NUMBER_POINT: Message = Message {
    name: "NumberDataPoint",
    size: size_of::<metrics::NumberDataPoint>(),
    fields: &[
        rep(&KEY_VALUE, 7, "attributes"),
        rep(&EXEMPLAR, 5, "exemplars"),
    ],
};

static HISTOGRAM_POINT: Message = Message {
    name: "HistogramDataPoint",
    size: size_of::<metrics::HistogramDataPoint>(),
    fields: &[
        rep(&KEY_VALUE, 9, "attributes"),
        packed(6, "bucket_counts", 8),
        packed(7, "explicit_bounds", 8),
        rep(&EXEMPLAR, 8, "exemplars"),
    ],
};

static EXP_HISTOGRAM_POINT: Message = Message {
    name: "ExponentialHistogramDataPoint",
    size: size_of::<metrics::ExponentialHistogramDataPoint>(),
    fields: &[
        rep(&KEY_VALUE, 1, "attributes"),
        msg(&BUCKETS, 8, "positive"),
        msg(&BUCKETS, 9, "negative"),
        rep(&EXEMPLAR, 11, "exemplars"),
    ],
};

static BUCKETS: Message = Message {
    name: "Buckets",
    size: size_of::<metrics::exponential_histogram_data_point::Buckets>(),
    fields: &[packed(2, "bucket_counts", 1)],
};

static SUMMARY_POINT: Message = Message {
    name: "SummaryDataPoint",
    size: size_of::<metrics::SummaryDataPoint>(),
    fields: &[
        rep(&KEY_VALUE, 7, "attributes"),
        rep(&QUANTILE, 6, "quantile_values"),
    ],
};

static QUANTILE: Message = Message {
    name: "ValueAtQuantile",
    size: size_of::<metrics::summary_data_point::ValueAtQuantile>(),
    fields: &[],
};

static EXEMPLAR: Message = Message {
    name: "Exemplar",
    size: size_of::<metrics::Exemplar>(),
    fields: &[
        rep(&KEY_VALUE, 7, "filtered_attributes"),
        bytes(4, "span_id"),
        bytes(5, "trace_id"),
    ],
};

// --- logs -------------------------------------------------------------------

/// `ExportLogsServiceRequest`.
pub static LOGS_REQUEST: Message = Message {
    name: "ExportLogsServiceRequest",
    size: size_of::<ExportLogsServiceRequest>(),
    fields: &[counted(&RESOURCE_LOGS, 1, "resource_logs", Item::Resources)],
};

static RESOURCE_LOGS: Message = Message {
    name: "ResourceLogs",
    size: size_of::<logs::ResourceLogs>(),
    fields: &[
        msg(&RESOURCE, 1, "resource"),
        rep(&SCOPE_LOGS, 2, "scope_logs"),
        bytes(3, "schema_url"),
    ],
};

static SCOPE_LOGS: Message = Message {
    name: "ScopeLogs",
    size: size_of::<logs::ScopeLogs>(),
    fields: &[
        msg(&SCOPE, 1, "scope"),
        counted(&LOG_RECORD, 2, "log_records", Item::LogRecords),
        bytes(3, "schema_url"),
    ],
};

static LOG_RECORD: Message = Message {
    name: "LogRecord",
    size: size_of::<logs::LogRecord>(),
    fields: &[
        bytes(3, "severity_text"),
        msg(&ANY_VALUE, 5, "body"),
        rep(&KEY_VALUE, 6, "attributes"),
        bytes(9, "trace_id"),
        bytes(10, "span_id"),
        bytes(12, "event_name"),
    ],
};

// --- traces -----------------------------------------------------------------

/// `ExportTraceServiceRequest`.
pub static TRACES_REQUEST: Message = Message {
    name: "ExportTraceServiceRequest",
    size: size_of::<ExportTraceServiceRequest>(),
    fields: &[counted(
        &RESOURCE_SPANS,
        1,
        "resource_spans",
        Item::Resources,
    )],
};

static RESOURCE_SPANS: Message = Message {
    name: "ResourceSpans",
    size: size_of::<trace::ResourceSpans>(),
    fields: &[
        msg(&RESOURCE, 1, "resource"),
        rep(&SCOPE_SPANS, 2, "scope_spans"),
        bytes(3, "schema_url"),
    ],
};

static SCOPE_SPANS: Message = Message {
    name: "ScopeSpans",
    size: size_of::<trace::ScopeSpans>(),
    fields: &[
        msg(&SCOPE, 1, "scope"),
        counted(&SPAN, 2, "spans", Item::Spans),
        bytes(3, "schema_url"),
    ],
};

static SPAN: Message = Message {
    name: "Span",
    size: size_of::<trace::Span>(),
    fields: &[
        bytes(1, "trace_id"),
        bytes(2, "span_id"),
        bytes(3, "trace_state"),
        bytes(4, "parent_span_id"),
        bytes(5, "name"),
        rep(&KEY_VALUE, 9, "attributes"),
        rep(&EVENT, 11, "events"),
        rep(&LINK, 13, "links"),
        msg(&STATUS, 15, "status"),
    ],
};

static EVENT: Message = Message {
    name: "Span.Event",
    size: size_of::<trace::span::Event>(),
    fields: &[bytes(2, "name"), rep(&KEY_VALUE, 3, "attributes")],
};

static LINK: Message = Message {
    name: "Span.Link",
    size: size_of::<trace::span::Link>(),
    fields: &[
        bytes(1, "trace_id"),
        bytes(2, "span_id"),
        bytes(3, "trace_state"),
        rep(&KEY_VALUE, 4, "attributes"),
    ],
};

static STATUS: Message = Message {
    name: "Status",
    size: size_of::<trace::Status>(),
    fields: &[bytes(2, "message")],
};

// --- remote-write -----------------------------------------------------------
//
// sextant-prometheus keeps its prost structs private, so their sizes are
// written out: `Vec`s and `String`s are 24 bytes. Each series and label is
// also charged for what the decoder builds from it (a `Series` with shared
// `Labels`, the label pair copied, each sample copied), so the estimate
// covers the mapped form as well as the wire structs.

/// `prometheus.WriteRequest` (remote-write 1.0).
pub static WRITE_REQUEST: Message = Message {
    name: "WriteRequest",
    size: 48,
    fields: &[
        counted(&TIME_SERIES, 1, "timeseries", Item::Series),
        rep(&METRIC_METADATA, 3, "metadata"),
    ],
};

static TIME_SERIES: Message = Message {
    // four Vecs, plus the Series (labels Arc, samples Vec) built from it
    name: "TimeSeries",
    size: 96 + 64,
    fields: &[
        rep(&LABEL, 1, "labels"),
        rep(&SAMPLE, 2, "samples"),
        rep(&RW_EXEMPLAR, 3, "exemplars"),
        rep(&RW_HISTOGRAM, 4, "histograms"),
    ],
};

static LABEL: Message = Message {
    // two Strings, plus the pair the Labels copy holds
    name: "Label",
    size: 48 + 48,
    fields: &[bytes(1, "name"), bytes(2, "value")],
};

static SAMPLE: Message = Message {
    // value and timestamp, plus the model's Sample copied from it
    name: "Sample",
    size: 16 + 16,
    fields: &[],
};

static RW_EXEMPLAR: Message = Message {
    name: "Exemplar",
    size: 40,
    fields: &[rep(&LABEL, 1, "labels")],
};

static RW_HISTOGRAM: Message = Message {
    // decoded as an empty struct: its fields are skipped
    name: "Histogram",
    size: 0,
    fields: &[],
};

static METRIC_METADATA: Message = Message {
    name: "MetricMetadata",
    size: 80,
    fields: &[
        bytes(2, "metric_family_name"),
        bytes(4, "help"),
        bytes(5, "unit"),
    ],
};

/// `Buckets`, for the scanner's packed-field tests.
#[cfg(test)]
pub static BUCKETS_FOR_TESTS: &Message = &BUCKETS;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every counted item is reachable from a request schema.
    #[test]
    fn requests_count_their_items() {
        fn items(m: &'static Message, depth: usize, out: &mut Vec<Item>) {
            if depth > 8 {
                return;
            }
            for f in m.fields {
                if let Kind::Message { of, counts, .. } = f.kind {
                    out.extend(counts);
                    items(of, depth + 1, out);
                }
            }
        }
        let of = |m| {
            let mut out = Vec::new();
            items(m, 0, &mut out);
            out.sort_by_key(|i: &Item| i.index());
            out.dedup();
            out
        };
        assert_eq!(of(&METRICS_REQUEST), [Item::Resources, Item::Points]);
        assert_eq!(of(&LOGS_REQUEST), [Item::Resources, Item::LogRecords]);
        assert_eq!(of(&TRACES_REQUEST), [Item::Resources, Item::Spans]);
        assert_eq!(of(&WRITE_REQUEST), [Item::Series]);
    }
}
