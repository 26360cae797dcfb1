//! Where the PromQL engine meets the store: the engine declares the one
//! storage method it needs ([`Queryable`]) and knows nothing of the store;
//! the store knows nothing of PromQL. This newtype is the one place the two
//! are joined (the orphan rule keeps the impl off the foreign `Store`).

use sextant_model::{Matcher, Series};
use sextant_promql::Queryable;
use sextant_store::Store;

/// The store, read by the query engine.
pub struct StoreReader<'a>(pub &'a Store);

impl Queryable for StoreReader<'_> {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<Series> {
        // `Store::select` already has the contract the engine needs.
        self.0.select(matchers, start_ms, end_ms)
    }
}

#[cfg(test)]
mod tests {
    use sextant_model::{Labels, STALE_NAN_BITS, Sample, Series};
    use sextant_promql::{Engine, EngineConfig, Value, VectorSample};
    use sextant_store::{Store, StoreConfig};

    use super::StoreReader;

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
        let stale = f64::from_bits(STALE_NAN_BITS);
        store
            .append_samples(&[
                Series {
                    labels: labels("a"),
                    samples: (0..=10)
                        .map(|i| Sample {
                            t: i * 15_000,
                            v: i as f64 * 3.0,
                        })
                        .collect(),
                },
                Series {
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
            .instant(
                &StoreReader(&store),
                "sum by (job) (rate(requests_total[1m]))",
                150_000,
            )
            .expect("query");
        let Value::Vector(v) = r.value else {
            panic!("expected a vector, got {:?}", r.value)
        };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].labels.get("job"), Some("a"));
        assert!((v[0].v - 0.2).abs() < 1e-12, "{}", v[0].v);
        let r = engine
            .instant(&StoreReader(&store), "count(requests_total)", 20_000)
            .expect("query");
        assert_eq!(
            r.value,
            Value::Vector(vec![VectorSample {
                labels: Labels::default(),
                t: 20_000,
                v: 1.0
            }])
        );
    }
}
