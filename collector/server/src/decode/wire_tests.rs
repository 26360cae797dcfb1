use super::*;
use crate::decode::schema::{self, Item};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1 as m;
use prost::Message as _;

fn number_points(n: usize) -> ExportMetricsServiceRequest {
    let points = (0..n)
        .map(|i| m::NumberDataPoint {
            time_unix_nano: i as u64,
            value: Some(m::number_data_point::Value::AsDouble(1.0)),
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![m::ResourceMetrics {
            scope_metrics: vec![m::ScopeMetrics {
                metrics: vec![m::Metric {
                    name: "up".into(),
                    data: Some(m::metric::Data::Gauge(m::Gauge {
                        data_points: points,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn counts_nested_items_and_estimates_at_least_the_structs() {
    let req = number_points(3);
    let tally = scan(&req.encode_to_vec(), &schema::METRICS_REQUEST).expect("scans");
    assert_eq!(tally.count(Item::Resources), 1);
    assert_eq!(tally.count(Item::Points), 3);
    assert_eq!(tally.count(Item::Spans), 0);
    let floor = 3 * std::mem::size_of::<m::NumberDataPoint>() + "up".len();
    assert!(tally.estimate as usize >= floor, "{tally:?}");
}

#[test]
fn empty_element_bombs_are_counted_without_decoding() {
    // 1,000 empty ResourceMetrics: two bytes each on the wire.
    let bomb = [0x0a, 0x00].repeat(1000);
    let tally = scan(&bomb, &schema::METRICS_REQUEST).expect("scans");
    assert_eq!(tally.count(Item::Resources), 1000);
    assert!(tally.estimate >= 1000 * std::mem::size_of::<m::ResourceMetrics>() as u64);
}

#[test]
fn unknown_fields_are_skipped_and_packed_scalars_charged() {
    // field 99 (varint), field 98 (fixed64), field 97 (fixed32), field 96 (bytes)
    let mut unknown = vec![0x98, 0x06, 0x01];
    unknown.extend([0x91, 0x06, 0, 0, 0, 0, 0, 0, 0, 0]);
    unknown.extend([0x8d, 0x06, 0, 0, 0, 0]);
    unknown.extend([0x82, 0x06, 0x02, 0xff, 0xff]);
    assert_eq!(
        scan(&unknown, &schema::METRICS_REQUEST)
            .expect("scans")
            .count(Item::Resources),
        0
    );
    // Buckets.bucket_counts packed: 4 one-byte varints.
    let packed = [0x12, 0x04, 1, 2, 3, 4];
    let tally = scan(&packed, schema::BUCKETS_FOR_TESTS).expect("scans");
    assert!(tally.estimate >= 4 * 8, "{tally:?}");
}

#[test]
fn malformed_bytes_are_refused_with_where_and_why() {
    let cases: &[(&[u8], &str)] = &[
        (&[0x0a], "truncated length at byte 1"),
        (
            &[0x0a, 0x05, 0x00],
            "truncated length-delimited field at byte 2",
        ),
        (&[0x80], "truncated tag at byte 0"),
        (&[0x09, 1, 2], "truncated fixed64 at byte 1"),
        (&[0x00, 0x00], "field number 0 at byte 0"),
        (
            &[0x0b],
            "group (wire type 3) in field 1 of ExportMetricsServiceRequest at byte 0",
        ),
        (&[0x0c], "group (wire type 4)"),
        (&[0x0e], "invalid wire type 6 at byte 0"),
        (&[0x0f], "invalid wire type 7 at byte 0"),
        (
            &[0x08, 0x01],
            "ExportMetricsServiceRequest.resource_metrics has wire type 0, not length-delimited, at byte 0",
        ),
        (&[0xff; 11], "varint longer than 10 bytes at byte 0"),
        // ResourceMetrics → ScopeMetrics whose body is cut short.
        (
            &[0x0a, 0x03, 0x12, 0x05, 0x00],
            "truncated length-delimited field at byte 4",
        ),
    ];
    for (bytes, want) in cases {
        let err = scan(bytes, &schema::METRICS_REQUEST).expect_err("malformed");
        assert!(err.to_string().contains(want), "{bytes:?}: {err}");
    }
}

#[test]
fn nesting_is_bounded() {
    // AnyValue.array_value → ArrayValue.values → AnyValue … 200 deep.
    let mut inner: Vec<u8> = Vec::new();
    for _ in 0..200 {
        let mut array = vec![0x0a];
        push_len(&mut array, inner.len());
        array.extend(&inner);
        let mut any = vec![0x2a];
        push_len(&mut any, array.len());
        any.extend(&array);
        inner = any;
    }
    let err = scan(&inner, &schema::ANY_VALUE).expect_err("too deep");
    assert!(matches!(err, WireError::TooDeep { .. }), "{err}");
    // and prost agrees the shallow ones are fine
    let shallow = [0x2a, 0x02, 0x0a, 0x00];
    scan(&shallow, &schema::ANY_VALUE).expect("shallow");
}

fn push_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}
