//! The engine's storage trait for the collector's store: a direct delegation,
//! since `Store::select` already has the contract the engine needs.

use sextant_store::{Matcher, SeriesSamples, Store};

use crate::Queryable;

impl Queryable for Store {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesSamples> {
        Store::select(self, matchers, start_ms, end_ms)
    }
}

#[cfg(test)]
mod tests {
    use sextant_store::{Labels, Sample, SeriesSamples, Store, StoreConfig};

    use crate::{Engine, EngineConfig, Value};

    /// The engine reads through the real store, stale markers included.
    #[test]
    fn engine_queries_the_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), StoreConfig::default()).expect("open store");
        let labels = |job: &str| {
            Labels::from_pairs(vec![
                ("__name__".into(), "requests_total".into()),
                ("job".into(), job.into()),
            ])
        };
        let stale = f64::from_bits(crate::value::STALE_NAN_BITS);
        store
            .append_samples(&[
                SeriesSamples {
                    labels: labels("a"),
                    samples: (0..=10)
                        .map(|i| Sample {
                            t: i * 15_000,
                            v: i as f64 * 3.0,
                        })
                        .collect(),
                },
                SeriesSamples {
                    labels: labels("b"),
                    samples: vec![
                        Sample { t: 0, v: 1.0 },
                        Sample {
                            t: 15_000,
                            v: stale,
                        },
                    ],
                },
            ])
            .expect("append");
        let engine = Engine::new(EngineConfig::default());
        let r = engine
            .instant(&store, "sum by (job) (rate(requests_total[1m]))", 150_000)
            .expect("query");
        let Value::Vector(v) = r.value else {
            panic!("expected a vector, got {:?}", r.value)
        };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].labels.get("job"), Some("a"));
        assert!((v[0].v - 0.2).abs() < 1e-12, "{}", v[0].v);
        let r = engine
            .instant(&store, "count(requests_total)", 20_000)
            .expect("query");
        assert_eq!(
            r.value,
            Value::Vector(vec![crate::VectorSample {
                labels: Labels::default(),
                t: 20_000,
                v: 1.0
            }])
        );
    }
}
