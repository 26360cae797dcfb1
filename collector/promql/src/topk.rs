//! `topk`/`bottomk` selection with Prometheus's exact heap discipline. Which
//! of several equal values survives depends on the heap's internal order, so
//! this mirrors Go's `container/heap` (`up`, `down`, `Fix`) and Prometheus's
//! `vectorByValueHeap`/`vectorByReverseValueHeap` orderings rather than
//! sorting, to pick the same series on ties.

use crate::value::Elem;

/// The ordering of the heap: `Less(i, j)` as Prometheus defines it, where a
/// NaN at `i` is always "less" (so NaN sits at the root and is evicted first).
fn less(top: bool, a: f64, b: f64) -> bool {
    if a.is_nan() {
        return true;
    }
    if top { a < b } else { a > b }
}

/// Go's `heap.up`.
fn up(h: &mut [Elem], top: bool, mut j: usize) {
    while j > 0 {
        let i = (j - 1) / 2;
        if !less(top, h[j].v, h[i].v) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

/// Go's `heap.down`; whether the element moved.
fn down(h: &mut [Elem], top: bool, i0: usize) -> bool {
    let n = h.len();
    let mut i = i0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        let j2 = j1 + 1;
        if j2 < n && less(top, h[j2].v, h[j1].v) {
            j = j2;
        }
        if !less(top, h[j].v, h[i].v) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
    i > i0
}

/// The `k` largest (`top`) or smallest elements of one group, in
/// Prometheus's output order: by value, descending for topk and ascending
/// for bottomk, NaN last.
pub(crate) fn select(members: Vec<Elem>, k: usize, top: bool) -> Vec<Elem> {
    if k == 0 {
        return Vec::new();
    }
    let mut heap: Vec<Elem> = Vec::with_capacity(k.min(members.len()));
    for s in members {
        if heap.len() < k {
            heap.push(s);
            let last = heap.len() - 1;
            up(&mut heap, top, last);
            continue;
        }
        let Some(root) = heap.first() else { continue };
        let replace =
            if top { root.v < s.v } else { root.v > s.v } || (root.v.is_nan() && !s.v.is_nan());
        if replace {
            heap[0] = s;
            if k > 1 && !down(&mut heap, top, 0) {
                up(&mut heap, top, 0);
            }
        }
    }
    // `sort.Sort(sort.Reverse(heap))`: the reverse of the heap's order.
    heap.sort_by(|a, b| {
        if less(top, b.v, a.v) {
            std::cmp::Ordering::Less
        } else if less(top, a.v, b.v) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    heap
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::Labels;

    fn elems(values: &[f64]) -> Vec<Elem> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| Elem {
                labels: Labels::from_pairs(vec![("i".into(), i.to_string())]),
                v,
                ts: 0,
            })
            .collect()
    }

    fn ids(v: &[Elem]) -> Vec<&str> {
        v.iter().map(|e| e.labels.get("i").unwrap_or("?")).collect()
    }

    #[test]
    fn ties_follow_the_heap() {
        // Values 2, 2, 1: the root after two pushes is element 0, which the
        // smaller third value replaces for bottomk.
        assert_eq!(ids(&select(elems(&[2.0, 2.0, 1.0]), 2, false)), ["2", "1"]);
        assert_eq!(ids(&select(elems(&[1.0, 2.0, 2.0]), 2, false)), ["0", "1"]);
        assert_eq!(
            ids(&select(elems(&[3.0, 1.0, 2.0, 5.0]), 2, true)),
            ["3", "0"]
        );
        assert_eq!(
            ids(&select(elems(&[f64::NAN, 1.0, 2.0]), 3, true)),
            ["2", "1", "0"]
        );
        assert_eq!(
            ids(&select(elems(&[f64::NAN, 1.0, 2.0]), 2, false)),
            ["1", "2"]
        );
        assert!(select(elems(&[1.0]), 0, true).is_empty());
    }
}
