//! Label-set manipulation the operators and functions share. `Labels` is
//! immutable and canonical, so every edit rebuilds through `from_pairs`.

use sextant_model::Labels;

/// The metric name label.
pub(crate) const NAME: &str = "__name__";

/// The labels without `__name__`: what functions and arithmetic return.
pub(crate) fn drop_name(l: &Labels) -> Labels {
    if l.get(NAME).is_none() {
        return l.clone();
    }
    without(l, &[NAME])
}

/// The labels minus the named ones.
pub(crate) fn without<S: AsRef<str>>(l: &Labels, names: &[S]) -> Labels {
    Labels::from_pairs(
        l.pairs()
            .iter()
            .filter(|(k, _)| !names.iter().any(|n| n.as_ref() == k))
            .cloned()
            .collect(),
    )
}

/// Only the named labels.
pub(crate) fn keep<S: AsRef<str>>(l: &Labels, names: &[S]) -> Labels {
    Labels::from_pairs(
        l.pairs()
            .iter()
            .filter(|(k, _)| names.iter().any(|n| n.as_ref() == k))
            .cloned()
            .collect(),
    )
}

/// The labels with `name` set to `value`, or removed when `value` is empty
/// (Prometheus treats an empty value as an absent label).
pub(crate) fn set(l: &Labels, name: &str, value: &str) -> Labels {
    let mut pairs: Vec<(String, String)> = l
        .pairs()
        .iter()
        .filter(|(k, _)| k != name)
        .cloned()
        .collect();
    if !value.is_empty() {
        pairs.push((name.to_string(), value.to_string()));
    }
    Labels::from_pairs(pairs)
}

/// A grouping/matching key: with `on` the listed labels' values, otherwise
/// every label except the listed ones and `__name__`. Values are paired with
/// names so different label sets never collide.
pub(crate) fn signature(l: &Labels, on: bool, names: &[String]) -> Vec<(String, String)> {
    l.pairs()
        .iter()
        .filter(|(k, _)| {
            if on {
                names.iter().any(|n| n == k)
            } else {
                k != NAME && !names.iter().any(|n| n == k)
            }
        })
        .cloned()
        .collect()
}

/// Whether `name` is a valid label name under Prometheus 3's default UTF-8
/// scheme: any non-empty UTF-8 string (Rust strings are always UTF-8).
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
}

/// Whether any two series share a label set, which Prometheus refuses after
/// every function and operator ("vector cannot contain metrics with the same labelset").
pub(crate) fn has_duplicates<'a>(it: impl Iterator<Item = &'a Labels>) -> bool {
    let mut all: Vec<&Labels> = it.collect();
    all.sort();
    all.windows(2).any(|w| w[0] == w[1])
}

/// Natural ("version") ordering used by `sort_by_label`: digit runs compare
/// numerically, everything else bytewise.
pub(crate) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ab.len() && j < bb.len() {
        if ab[i].is_ascii_digit() && bb[j].is_ascii_digit() {
            let si = i;
            while i < ab.len() && ab[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < bb.len() && bb[j].is_ascii_digit() {
                j += 1;
            }
            let na = a[si..i].trim_start_matches('0');
            let nb = b[sj..j].trim_start_matches('0');
            let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            if ab[i] != bb[j] {
                return ab[i].cmp(&bb[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (ab.len() - i).cmp(&(bb.len() - j))
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
    fn edits_and_signatures() {
        let a = l(&[("__name__", "m"), ("a", "1"), ("b", "2")]);
        assert_eq!(drop_name(&a), l(&[("a", "1"), ("b", "2")]));
        assert_eq!(keep(&a, &["b"]), l(&[("b", "2")]));
        assert_eq!(set(&a, "a", ""), l(&[("__name__", "m"), ("b", "2")]));
        assert_eq!(
            signature(&a, false, &["b".into()]),
            vec![("a".into(), "1".into())]
        );
        assert_eq!(signature(&a, true, &["__name__".into()]).len(), 1);
    }

    #[test]
    fn natural_order() {
        use std::cmp::Ordering::*;
        assert_eq!(natural_cmp("a2", "a10"), Less);
        assert_eq!(natural_cmp("a10", "a10"), Equal);
        assert_eq!(natural_cmp("b", "a10"), Greater);
        assert_eq!(natural_cmp("a", "a1"), Less);
    }
}
