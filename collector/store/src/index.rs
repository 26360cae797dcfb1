//! Inverted index from label pairs to ids, shared by metric series and log
//! streams: lets an `=` matcher jump to its candidates instead of scanning
//! every series.

use std::collections::HashMap;

use sextant_model::{Labels, MatchOp, Matcher};

/// name → value → ids (ascending, since ids are handed out in increasing order).
#[derive(Debug, Default)]
pub struct LabelIndex {
    postings: HashMap<String, HashMap<String, Vec<u64>>>,
}

impl LabelIndex {
    /// Indexes `id` under each of its label pairs.
    pub fn add(&mut self, id: u64, labels: &Labels) {
        for (k, v) in labels.pairs() {
            let list = self
                .postings
                .entry(k.clone())
                .or_default()
                .entry(v.clone())
                .or_default();
            match list.binary_search(&id) {
                Ok(_) => {}
                Err(i) => list.insert(i, id),
            }
        }
    }

    /// Removes `id` (when its series or stream is dropped by retention).
    pub fn remove(&mut self, id: u64, labels: &Labels) {
        for (k, v) in labels.pairs() {
            let Some(values) = self.postings.get_mut(k) else {
                continue;
            };
            if let Some(list) = values.get_mut(v) {
                if let Ok(i) = list.binary_search(&id) {
                    list.remove(i);
                }
                if list.is_empty() {
                    values.remove(v);
                }
            }
            if values.is_empty() {
                self.postings.remove(k);
            }
        }
    }

    /// A superset of the ids matching `matchers`, taken from the most selective
    /// `name="non-empty"` matcher; `None` means "no shortcut, scan everything".
    /// Callers still check every candidate with [`Labels::matches`].
    pub fn candidates(&self, matchers: &[Matcher]) -> Option<&[u64]> {
        let mut best: Option<&[u64]> = None;
        for m in matchers
            .iter()
            .filter(|m| m.op == MatchOp::Eq && !m.value.is_empty())
        {
            let list = self
                .postings
                .get(&m.name)
                .and_then(|vals| vals.get(&m.value))
                .map_or(&[][..], |l| l.as_slice());
            if best.is_none_or(|b| list.len() < b.len()) {
                best = Some(list);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn picks_smallest_posting_and_forgets_removed() -> Result<(), regex::Error> {
        let mut idx = LabelIndex::default();
        idx.add(1, &l(&[("job", "a"), ("env", "prod")]));
        idx.add(2, &l(&[("job", "a"), ("env", "dev")]));
        idx.add(3, &l(&[("job", "b"), ("env", "prod")]));
        let m = [
            Matcher::new("job", MatchOp::Eq, "a")?,
            Matcher::new("env", MatchOp::Eq, "dev")?,
        ];
        assert_eq!(idx.candidates(&m), Some(&[2u64][..]));
        idx.remove(2, &l(&[("job", "a"), ("env", "dev")]));
        assert_eq!(idx.candidates(&m), Some(&[][..]));
        assert_eq!(
            idx.candidates(&[Matcher::new("job", MatchOp::Re, "a")?]),
            None
        );
        Ok(())
    }
}
