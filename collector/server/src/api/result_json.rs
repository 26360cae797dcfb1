//! The query API's success body, written straight into bytes.
//!
//! A range query answers up to 11,000 points per series for thousands of
//! series; building a `serde_json::Value` tree first costs several
//! allocations per point and was a third of a dashboard query's time. This
//! writes the same JSON Prometheus writes (`status` first, values as
//! Go-formatted strings, times as float seconds) in one pass.

use std::io::Write;

use sextant_model::{Labels, Sample};
use sextant_promql::{QueryResult, Value};

/// Why a body was not written: it passed the response size limit.
#[derive(Debug, PartialEq, Eq)]
pub struct TooLarge;

/// The `{"status":"success","data":…}` body for a finished query, or
/// [`TooLarge`] as soon as it passes `max_bytes` (checked per series, so
/// the body never grows more than one series past the limit).
pub fn encode(result: &QueryResult, max_bytes: usize) -> Result<Vec<u8>, TooLarge> {
    let fits = |out: &Vec<u8>| {
        if out.len() > max_bytes {
            Err(TooLarge)
        } else {
            Ok(())
        }
    };
    let mut out = Vec::with_capacity(estimate(&result.value).min(max_bytes));
    out.extend_from_slice(b"{\"status\":\"success\",\"data\":{\"resultType\":");
    match &result.value {
        Value::Scalar { t, v } => {
            out.extend_from_slice(b"\"scalar\",\"result\":");
            point(&mut out, *t, *v);
        }
        Value::String { t, v } => {
            out.extend_from_slice(b"\"string\",\"result\":[");
            time(&mut out, *t);
            out.push(b',');
            string(&mut out, v);
            out.push(b']');
        }
        Value::Vector(samples) => {
            out.extend_from_slice(b"\"vector\",\"result\":[");
            for (i, s) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"metric\":");
                labels(&mut out, &s.labels);
                out.extend_from_slice(b",\"value\":");
                point(&mut out, s.t, s.v);
                out.push(b'}');
                fits(&out)?;
            }
            out.push(b']');
        }
        Value::Matrix(series) => {
            out.extend_from_slice(b"\"matrix\",\"result\":[");
            for (i, s) in series.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"metric\":");
                labels(&mut out, &s.labels);
                out.extend_from_slice(b",\"values\":[");
                points(&mut out, &s.samples);
                out.extend_from_slice(b"]}");
                fits(&out)?;
            }
            out.push(b']');
        }
    }
    out.push(b'}');
    // Prometheus 3 adds each list only when it has entries.
    strings(&mut out, "warnings", &result.warnings);
    strings(&mut out, "infos", &result.infos);
    out.push(b'}');
    fits(&out)?;
    Ok(out)
}

/// `,"<key>":["…",…]` unless `items` is empty.
fn strings(out: &mut Vec<u8>, key: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":[");
    for (i, w) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, w);
    }
    out.push(b']');
}

/// A starting capacity that saves most regrowth: about 30 bytes a point
/// and 100 a series.
fn estimate(v: &Value) -> usize {
    match v {
        Value::Matrix(m) => m.iter().map(|s| 100 + 30 * s.samples.len()).sum(),
        Value::Vector(v) => 130 * v.len(),
        _ => 0,
    }
    .saturating_add(128)
    .min(64 << 20)
}

fn points(out: &mut Vec<u8>, samples: &[Sample]) {
    for (i, s) in samples.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        point(out, s.t, s.v);
    }
}

/// `[<seconds>,"<value>"]`.
fn point(out: &mut Vec<u8>, t: i64, v: f64) {
    out.push(b'[');
    time(out, t);
    out.extend_from_slice(b",\"");
    value(out, v);
    out.extend_from_slice(b"\"]");
}

/// Float seconds as Prometheus's JSON has them: `12` on whole seconds, `12.5` otherwise.
fn time(out: &mut Vec<u8>, ms: i64) {
    // Writing into a Vec cannot fail.
    let _ = if ms % 1000 == 0 {
        write!(out, "{}", ms / 1000)
    } else {
        serde_json::to_writer(&mut *out, &(ms as f64 / 1000.0)).map_err(std::io::Error::other)
    };
}

/// A sample value as Go's `strconv.FormatFloat(v, 'f', -1, 64)`, which
/// never needs JSON escaping.
fn value(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v == f64::INFINITY {
        out.extend_from_slice(b"+Inf");
    } else if v == f64::NEG_INFINITY {
        out.extend_from_slice(b"-Inf");
    } else {
        let _ = write!(out, "{v}");
    }
}

fn labels(out: &mut Vec<u8>, l: &Labels) {
    out.push(b'{');
    for (i, (k, v)) in l.pairs().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        string(out, v);
    }
    out.push(b'}');
}

fn string(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes exactly as JSON requires; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sextant_promql::{RangeSeries, VectorSample, format_sample_value};

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn parsed(r: &QueryResult) -> serde_json::Value {
        serde_json::from_slice(&encode(r, usize::MAX).expect("no limit")).expect("valid JSON")
    }

    fn result(value: Value, warnings: &[&str]) -> QueryResult {
        QueryResult {
            value,
            warnings: warnings.iter().map(|w| w.to_string()).collect(),
            infos: Vec::new(),
        }
    }

    #[test]
    fn every_result_type_in_prometheus_shape() {
        let cases = [
            (
                result(Value::Scalar { t: 1_500, v: 2.0 }, &[]),
                json!({"status":"success","data":{"resultType":"scalar","result":[1.5,"2"]}}),
            ),
            (
                result(
                    Value::String {
                        t: 2_000,
                        v: "a\"b\n".into(),
                    },
                    &[],
                ),
                json!({"status":"success","data":{"resultType":"string","result":[2,"a\"b\n"]}}),
            ),
            (
                result(
                    Value::Vector(vec![
                        VectorSample {
                            labels: labels(&[("__name__", "up"), ("job", "é\u{1}")]),
                            t: -500,
                            v: f64::NAN,
                        },
                        VectorSample {
                            labels: Labels::default(),
                            t: 0,
                            v: f64::NEG_INFINITY,
                        },
                    ]),
                    &["w1"],
                ),
                json!({"status":"success","data":{"resultType":"vector","result":[
                    {"metric":{"__name__":"up","job":"é\u{1}"},"value":[-0.5,"NaN"]},
                    {"metric":{},"value":[0,"-Inf"]}]},"warnings":["w1"]}),
            ),
            (
                result(
                    Value::Matrix(vec![RangeSeries {
                        labels: labels(&[("a", "1")]),
                        samples: vec![
                            Sample { t: 1_000, v: 1e21 },
                            Sample {
                                t: 1_001,
                                v: -0.000001,
                            },
                            Sample {
                                t: 2_000,
                                v: f64::INFINITY,
                            },
                        ],
                    }]),
                    &[],
                ),
                json!({"status":"success","data":{"resultType":"matrix","result":[
                    {"metric":{"a":"1"},"values":[[1,"1000000000000000000000"],[1.001,"-0.000001"],[2,"+Inf"]]}]}}),
            ),
            (
                result(Value::Matrix(vec![]), &[]),
                json!({"status":"success","data":{"resultType":"matrix","result":[]}}),
            ),
        ];
        for (r, want) in cases {
            assert_eq!(parsed(&r), want, "{r:?}");
        }
    }

    #[test]
    fn values_match_the_engines_formatter() {
        for v in [0.1, 1.0 / 3.0, 123456789.125, 5e-324, -0.0, 1e300] {
            let r = result(Value::Scalar { t: 0, v }, &[]);
            assert_eq!(
                parsed(&r)["data"]["result"][1],
                json!(format_sample_value(v))
            );
        }
    }

    #[test]
    fn infos_follow_warnings_when_present() {
        let mut r = result(Value::Scalar { t: 0, v: 1.0 }, &["w"]);
        r.infos = vec!["PromQL info: i (1:6)".into()];
        assert_eq!(
            parsed(&r),
            json!({"status":"success","data":{"resultType":"scalar","result":[0,"1"]},
                   "warnings":["w"],"infos":["PromQL info: i (1:6)"]})
        );
        r.warnings.clear();
        assert_eq!(parsed(&r)["infos"], json!(["PromQL info: i (1:6)"]));
        assert!(parsed(&r).get("warnings").is_none());
    }

    #[test]
    fn status_comes_first_as_in_prometheus() {
        let body = encode(&result(Value::Vector(vec![]), &[]), usize::MAX).expect("no limit");
        assert!(body.starts_with(b"{\"status\":\"success\",\"data\":"));
    }

    #[test]
    fn a_body_past_the_limit_is_refused_not_written() {
        let series = |n: usize| RangeSeries {
            labels: labels(&[("i", &n.to_string())]),
            samples: (0..100)
                .map(|k| Sample {
                    t: k * 1000,
                    v: 1.0,
                })
                .collect(),
        };
        let r = result(Value::Matrix((0..10).map(series).collect()), &[]);
        let whole = encode(&r, usize::MAX).expect("no limit").len();
        assert_eq!(encode(&r, whole).map(|b| b.len()), Ok(whole));
        assert_eq!(encode(&r, whole - 1), Err(TooLarge));
        assert_eq!(encode(&r, 10), Err(TooLarge));
        let v = result(Value::Scalar { t: 0, v: 1.0 }, &[]);
        assert_eq!(encode(&v, 5), Err(TooLarge));
    }
}
