//! `"NaN"`, `"Infinity"` and `"-Infinity"` in OTLP/JSON double fields.
//!
//! The proto3 JSON mapping writes these three doubles as strings, but
//! opentelemetry-proto's serde reads most double fields (`asDouble`, `sum`,
//! `min`, `max`, `explicitBounds`, `doubleValue` …) from JSON numbers only,
//! and JSON has no number for them. So the scan writes each one as a
//! *sentinel*: an integer that no number field of the same request holds,
//! which serde reads exactly; after decoding, [`Restore`] puts the special
//! value back wherever a sentinel landed.
//!
//! **Invariant:** a sentinel is never a value the request itself sent in a
//! double field: candidates taken by the request are skipped, and a request
//! holding every candidate is refused rather than misread.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, exemplar, metric, number_data_point};

/// The special doubles the mapping spells as strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// `"NaN"`.
    NaN,
    /// `"Infinity"`.
    Infinity,
    /// `"-Infinity"`.
    NegInfinity,
}

impl Special {
    /// The special a quoted string body names, if it names one.
    pub fn parse(raw: &[u8]) -> Option<Self> {
        match raw {
            b"NaN" => Some(Self::NaN),
            b"Infinity" => Some(Self::Infinity),
            b"-Infinity" => Some(Self::NegInfinity),
            _ => None,
        }
    }

    fn value(self) -> f64 {
        match self {
            Self::NaN => f64::NAN,
            Self::Infinity => f64::INFINITY,
            Self::NegInfinity => f64::NEG_INFINITY,
        }
    }
}

/// Candidates are `FIRST + k` for `k` in `0..CANDIDATES`: integers every
/// float parser reads exactly (|v| ≤ 2^53) and that real data rarely holds.
const FIRST: f64 = -9_007_199_254_740_992.0;
const CANDIDATES: u32 = 64;

/// The longest text a sentinel takes, for the scan's growth estimate.
pub const MAX_TEXT: usize = "-9007199254740992".len();

/// Which candidate `v` is, if it is one: the scan marks these as taken.
pub fn candidate(v: f64) -> Option<u32> {
    let k = v - FIRST;
    (v >= FIRST && k < f64::from(CANDIDATES) && v.fract() == 0.0).then_some(k as u32)
}

/// The three sentinels one request uses, chosen from the candidates it
/// does not hold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sentinels([f64; 3]);

impl Sentinels {
    /// Picks free candidates; `taken` has bit `k` set for each candidate
    /// the request holds. `None` when fewer than three are free.
    pub fn choose(taken: u64) -> Option<Self> {
        let mut free = (0..CANDIDATES).filter(|k| taken & (1 << k) == 0);
        let mut next = || free.next().map(|k| FIRST + f64::from(k));
        Some(Self([next()?, next()?, next()?]))
    }

    /// The JSON number standing in for `s`.
    pub fn text(&self, s: Special) -> String {
        format!("{}", self.0[s as usize] as i64)
    }

    fn restore(&self, v: &mut f64) {
        if let Some(i) = self.0.iter().position(|s| s == v) {
            *v = [Special::NaN, Special::Infinity, Special::NegInfinity][i].value();
        }
    }

    fn restore_opt(&self, v: &mut Option<f64>) {
        if let Some(v) = v {
            self.restore(v);
        }
    }
}

/// Puts special doubles back where the decoded request holds sentinels,
/// in exactly the fields the scan rewrites.
pub trait Restore {
    /// Replaces each sentinel with the special it stands for.
    fn restore(&mut self, s: &Sentinels);
}

fn any(s: &Sentinels, v: &mut AnyValue) {
    match &mut v.value {
        Some(any_value::Value::DoubleValue(d)) => s.restore(d),
        Some(any_value::Value::ArrayValue(a)) => a.values.iter_mut().for_each(|v| any(s, v)),
        Some(any_value::Value::KvlistValue(l)) => attrs(s, &mut l.values),
        _ => {}
    }
}

fn attrs(s: &Sentinels, kvs: &mut [KeyValue]) {
    for kv in kvs {
        if let Some(v) = &mut kv.value {
            any(s, v);
        }
    }
}

fn exemplars(s: &Sentinels, es: &mut [Exemplar]) {
    for e in es {
        attrs(s, &mut e.filtered_attributes);
        if let Some(exemplar::Value::AsDouble(d)) = &mut e.value {
            s.restore(d);
        }
    }
}

impl Restore for ExportMetricsServiceRequest {
    fn restore(&mut self, s: &Sentinels) {
        for rm in &mut self.resource_metrics {
            if let Some(r) = &mut rm.resource {
                attrs(s, &mut r.attributes);
            }
            for sm in &mut rm.scope_metrics {
                if let Some(scope) = &mut sm.scope {
                    attrs(s, &mut scope.attributes);
                }
                for m in &mut sm.metrics {
                    attrs(s, &mut m.metadata);
                    metric_data(s, m.data.as_mut());
                }
            }
        }
    }
}

fn metric_data(s: &Sentinels, data: Option<&mut metric::Data>) {
    let number = |points: &mut Vec<_>| {
        for p in points {
            let p: &mut opentelemetry_proto::tonic::metrics::v1::NumberDataPoint = p;
            attrs(s, &mut p.attributes);
            exemplars(s, &mut p.exemplars);
            if let Some(number_data_point::Value::AsDouble(d)) = &mut p.value {
                s.restore(d);
            }
        }
    };
    match data {
        Some(metric::Data::Gauge(g)) => number(&mut g.data_points),
        Some(metric::Data::Sum(sum)) => number(&mut sum.data_points),
        Some(metric::Data::Histogram(h)) => {
            for p in &mut h.data_points {
                attrs(s, &mut p.attributes);
                exemplars(s, &mut p.exemplars);
                s.restore_opt(&mut p.sum);
                s.restore_opt(&mut p.min);
                s.restore_opt(&mut p.max);
                p.explicit_bounds.iter_mut().for_each(|b| s.restore(b));
            }
        }
        Some(metric::Data::ExponentialHistogram(h)) => {
            for p in &mut h.data_points {
                attrs(s, &mut p.attributes);
                exemplars(s, &mut p.exemplars);
                s.restore_opt(&mut p.sum);
                s.restore_opt(&mut p.min);
                s.restore_opt(&mut p.max);
                s.restore(&mut p.zero_threshold);
            }
        }
        Some(metric::Data::Summary(sm)) => {
            // quantile values are read from strings by serde already
            for p in &mut sm.data_points {
                attrs(s, &mut p.attributes);
                s.restore(&mut p.sum);
            }
        }
        None => {}
    }
}

impl Restore for ExportLogsServiceRequest {
    fn restore(&mut self, s: &Sentinels) {
        for rl in &mut self.resource_logs {
            if let Some(r) = &mut rl.resource {
                attrs(s, &mut r.attributes);
            }
            for sl in &mut rl.scope_logs {
                if let Some(scope) = &mut sl.scope {
                    attrs(s, &mut scope.attributes);
                }
                for rec in &mut sl.log_records {
                    attrs(s, &mut rec.attributes);
                    if let Some(b) = &mut rec.body {
                        any(s, b);
                    }
                }
            }
        }
    }
}

impl Restore for ExportTraceServiceRequest {
    fn restore(&mut self, s: &Sentinels) {
        for rs in &mut self.resource_spans {
            if let Some(r) = &mut rs.resource {
                attrs(s, &mut r.attributes);
            }
            for ss in &mut rs.scope_spans {
                if let Some(scope) = &mut ss.scope {
                    attrs(s, &mut scope.attributes);
                }
                for span in &mut ss.spans {
                    attrs(s, &mut span.attributes);
                    span.events
                        .iter_mut()
                        .for_each(|e| attrs(s, &mut e.attributes));
                    span.links
                        .iter_mut()
                        .for_each(|l| attrs(s, &mut l.attributes));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinels_skip_taken_candidates_and_run_out() {
        let s = Sentinels::choose(0b101).expect("free");
        assert_eq!(s.text(Special::NaN), "-9007199254740991");
        assert_eq!(s.text(Special::Infinity), "-9007199254740989");
        assert_eq!(s.text(Special::NegInfinity), "-9007199254740988");
        assert!(Sentinels::choose(u64::MAX >> 2).is_none());
        assert!(Sentinels::choose(u64::MAX >> 3).is_some());
    }

    #[test]
    fn candidates_are_exact_integers_only() {
        assert_eq!(candidate(FIRST), Some(0));
        assert_eq!(candidate(FIRST + 63.0), Some(63));
        for v in [
            FIRST + 64.0,
            FIRST - 2.0,
            -1.5,
            0.0,
            f64::NAN,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(candidate(v), None, "{v}");
        }
        let widest = Sentinels::choose(0).expect("free").text(Special::NaN);
        assert_eq!(widest.len(), MAX_TEXT);
    }

    #[test]
    fn restore_replaces_sentinels_only() {
        let s = Sentinels::choose(0).expect("free");
        let (mut a, mut b, mut c, mut d) = (FIRST, FIRST + 1.0, FIRST + 2.0, 1.5);
        for v in [&mut a, &mut b, &mut c, &mut d] {
            s.restore(v);
        }
        assert!(a.is_nan());
        assert_eq!((b, c, d), (f64::INFINITY, f64::NEG_INFINITY, 1.5));
    }
}

#[cfg(test)]
mod decode_tests {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};

    use crate::Limits;
    use crate::decode::{DecodeError, otlp_json};
    use crate::inflight::Budget;

    fn decode<M: crate::decode::OtlpRequest>(body: &str) -> Result<M, DecodeError> {
        let budget = Budget::new(usize::MAX);
        let mut permit = budget.reserve(body.len()).expect("budget");
        otlp_json(body.as_bytes(), &Limits::default(), &mut permit)
    }

    fn gauge(points: &str) -> String {
        format!(
            r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{{"name":"g","gauge":{{"dataPoints":[{points}]}}}},
            {{"name":"h","histogram":{{"dataPoints":[{{"sum":"Infinity","min":"-Infinity","max":1,"explicitBounds":[1,"Infinity"]}}]}}}}]}}]}}]}}"#
        )
    }

    fn values(m: &ExportMetricsServiceRequest) -> Vec<f64> {
        let metrics = &m.resource_metrics[0].scope_metrics[0].metrics;
        let mut out = Vec::new();
        if let Some(metric::Data::Gauge(g)) = &metrics[0].data {
            for p in &g.data_points {
                if let Some(number_data_point::Value::AsDouble(d)) = p.value {
                    out.push(d);
                }
            }
        }
        if let Some(metric::Data::Histogram(h)) = &metrics[1].data {
            let p = &h.data_points[0];
            out.extend([p.sum, p.min, p.max].into_iter().flatten());
            out.extend(&p.explicit_bounds);
        }
        out
    }

    #[test]
    fn special_doubles_decode_to_themselves() {
        let m: ExportMetricsServiceRequest = decode(&gauge(
            r#"{"asDouble":"NaN"},{"asDouble":"-Infinity"},{"asDouble":2.5}"#,
        ))
        .expect("decodes");
        let v = values(&m);
        assert!(v[0].is_nan(), "{v:?}");
        assert_eq!(
            v[1..],
            [
                f64::NEG_INFINITY,
                2.5,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1.0,
                1.0,
                f64::INFINITY
            ]
        );
    }

    #[test]
    fn numbers_that_look_like_sentinels_stay_numbers() {
        let first = -9_007_199_254_740_992.0_f64;
        let points = format!(
            r#"{{"asDouble":{first:.0}}},{{"asDouble":"NaN"}},{{"asDouble":"{}"}}"#,
            first + 1.0
        );
        let m: ExportMetricsServiceRequest = decode(&gauge(&points)).expect("decodes");
        let v = values(&m);
        assert_eq!(v[0], first);
        assert!(v[1].is_nan());
        assert_eq!(v[2], first + 1.0);
    }

    #[test]
    fn a_request_holding_every_candidate_is_refused_not_misread() {
        let first = -9_007_199_254_740_992_i64;
        let mut points: Vec<String> = (0..64)
            .map(|k| format!(r#"{{"asDouble":{}}}"#, first + k))
            .collect();
        points.push(r#"{"asDouble":"NaN"}"#.to_string());
        let err =
            decode::<ExportMetricsServiceRequest>(&gauge(&points.join(","))).expect_err("refused");
        assert!(err.to_string().contains("asDouble at byte"), "{err}");
    }

    #[test]
    fn attribute_doubles_in_logs_are_restored() {
        let body = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"r","value":{"doubleValue":"Infinity"}}]},
            "scopeLogs":[{"logRecords":[{"body":{"arrayValue":{"values":[{"doubleValue":"NaN"}]}},
            "attributes":[{"key":"k","value":{"kvlistValue":{"values":[{"key":"x","value":{"doubleValue":"-Infinity"}}]}}}]}]}]}]}"#;
        let l: ExportLogsServiceRequest = decode(body).expect("decodes");
        let rl = &l.resource_logs[0];
        let double = |v: &Option<Value>| match v {
            Some(Value::DoubleValue(d)) => *d,
            other => panic!("{other:?}"),
        };
        let r = &rl.resource.as_ref().expect("resource").attributes[0];
        assert_eq!(
            double(&r.value.as_ref().expect("value").value),
            f64::INFINITY
        );
        let rec = &rl.scope_logs[0].log_records[0];
        let Some(Value::ArrayValue(a)) = &rec.body.as_ref().expect("body").value else {
            panic!("{:?}", rec.body);
        };
        assert!(double(&a.values[0].value).is_nan());
        let Some(Value::KvlistValue(kv)) = &rec.attributes[0].value.as_ref().expect("v").value
        else {
            panic!("{:?}", rec.attributes);
        };
        let inner = &kv.values[0].value.as_ref().expect("v").value;
        assert_eq!(double(inner), f64::NEG_INFINITY);
    }
}
