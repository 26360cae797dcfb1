//! Where each sub-expression starts in the query text, for annotations.
//!
//! Prometheus 3 ends every warning and info with the position of the node it
//! is about (`… "http_requests" (1:6)`). promql-parser's AST carries no
//! positions, but every child node sits in a `Box` whose address does not
//! change once the tree is built, so the parser notes each boxed child's
//! start as it boxes it ([`boxed`]) and the engine looks nodes up by address.

use std::cell::RefCell;
use std::collections::HashMap;

use promql_parser::parser::Expr;

use super::checks::{Node, take};

/// Start positions (line, column) of the boxed sub-expressions of one
/// parsed tree, keyed by node address. Valid only while that tree is
/// neither moved out of its boxes nor cloned (the engine holds it still).
#[derive(Debug, Default, Clone)]
pub(crate) struct Positions {
    by_node: HashMap<usize, (usize, usize)>,
}

impl Positions {
    /// `line:col` of `e`'s first byte, if `e` is a boxed node of the tree.
    pub(crate) fn of(&self, e: &Expr) -> Option<String> {
        self.by_node
            .get(&(e as *const Expr as usize))
            .map(|(line, col)| format!("{line}:{col}"))
    }
}

thread_local! {
    /// Byte offsets noted by [`boxed`] during the current parse, if one is
    /// recording. Parsing is single-threaded and not re-entrant, so a
    /// per-thread slot keeps the recording out of every parser signature.
    static NOTED: RefCell<Option<HashMap<usize, usize>>> = const { RefCell::new(None) };
}

/// Puts back whatever recording was in place (normally none) when a
/// recording ends, even by a panic, so no stale recording keeps growing.
struct Restore(Option<HashMap<usize, usize>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let outer = self.0.take();
        NOTED.with(|n| *n.borrow_mut() = outer);
    }
}

/// Moves `node`'s expression into a box (as a parent stores a child) and
/// notes where it starts.
pub(super) fn boxed(node: &mut Node) -> Box<Expr> {
    let b = Box::new(take(node));
    let addr = &*b as *const Expr as usize;
    NOTED.with(|n| {
        if let Some(m) = n.borrow_mut().as_mut() {
            // A later box at a reused address replaces a dropped one's entry.
            m.insert(addr, node.start);
        }
    });
    b
}

/// Runs `parse` while noting positions, then turns the offsets into lines
/// and columns of `src`.
pub(super) fn recording<T>(src: &str, parse: impl FnOnce() -> T) -> (T, Positions) {
    let _restore = Restore(NOTED.with(|n| n.borrow_mut().replace(HashMap::new())));
    let out = parse();
    let noted = NOTED.with(|n| n.borrow_mut().take());
    let by_node = noted
        .unwrap_or_default()
        .into_iter()
        .map(|(addr, pos)| (addr, super::line_col(src, pos)))
        .collect();
    (out, Positions { by_node })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parse that panics mid-recording leaves no recording behind.
    #[test]
    fn a_panic_ends_the_recording() {
        let caught = std::panic::catch_unwind(|| {
            recording("x", || {
                NOTED.with(|n| n.borrow_mut().as_mut().map(|m| m.insert(1, 0)));
                panic!("parser bug");
            })
        });
        assert!(caught.is_err());
        assert!(NOTED.with(|n| n.borrow().is_none()));
        let ((), p) = recording("x", || ());
        assert!(p.by_node.is_empty());
    }
}
