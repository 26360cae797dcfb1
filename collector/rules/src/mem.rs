//! A small in-memory series store: what `rules test` loads its input
//! series into and evaluates against, as promtool uses a temporary TSDB.

use sextant_model::{Labels, Matcher, Sample, Series};
use sextant_promql::Queryable;

/// Series kept sorted by labels, samples by time.
#[derive(Clone, Debug, Default)]
pub struct MemStore {
    series: Vec<Series>,
}

impl MemStore {
    /// Adds one sample; a sample at a time the series has replaces it.
    pub fn put(&mut self, labels: &Labels, t: i64, v: f64) {
        let i = match self.series.binary_search_by(|s| s.labels.cmp(labels)) {
            Ok(i) => i,
            Err(i) => {
                self.series.insert(
                    i,
                    Series {
                        labels: labels.clone(),
                        samples: Vec::new(),
                    },
                );
                i
            }
        };
        let samples = &mut self.series[i].samples;
        match samples.binary_search_by_key(&t, |s| s.t) {
            Ok(j) => samples[j].v = v,
            Err(j) => samples.insert(j, Sample { t, v }),
        }
    }

    /// Adds every sample of `series`.
    pub fn append(&mut self, series: &[Series]) {
        for s in series {
            for x in &s.samples {
                self.put(&s.labels, x.t, x.v);
            }
        }
    }
}

impl Queryable for MemStore {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<Series> {
        self.series
            .iter()
            .filter(|s| s.labels.matches(matchers))
            .filter_map(|s| {
                let lo = s.samples.partition_point(|x| x.t < start_ms);
                let hi = s.samples.partition_point(|x| x.t <= end_ms);
                (lo < hi).then(|| Series {
                    labels: s.labels.clone(),
                    samples: s.samples[lo..hi].to_vec(),
                })
            })
            .collect()
    }
}
