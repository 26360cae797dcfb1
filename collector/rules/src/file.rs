//! A rule file as written, before any semantic check: the shapes of
//! Prometheus's `rulefmt`, with the line and column of every field an
//! error may point at (`record`, `alert`, `expr` and each group), since
//! promtool's errors point there.
//!
//! **Invariant:** unknown keys, wrong types and malformed durations are
//! refused here, by the YAML reader, with their line and column; nothing
//! past this module sees YAML.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;
use sextant_config::duration;

/// A line and column in the file (1-based); `0:0` stands for a field that
/// is absent, as promtool prints it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line, 0 when absent.
    pub line: u64,
    /// 1-based column, 0 when absent.
    pub column: u64,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Where a spanned value sits; absent values sit at `0:0`.
pub(crate) fn pos<T>(v: Option<&Spanned<T>>) -> Pos {
    v.map_or(Pos::default(), |s| Pos {
        line: s.referenced.line(),
        column: s.referenced.column(),
    })
}

/// The whole file: only `groups`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    /// Each group with the position of its mapping.
    #[serde(default)]
    pub groups: Vec<Spanned<RawGroup>>,
}

/// One group as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// Required and unique in the file (checked later, as promtool does).
    #[serde(default)]
    pub name: String,
    /// `None`: the global evaluation interval.
    #[serde(default)]
    pub interval: Option<duration::Value>,
    /// Prometheus 3's per-group query offset.
    #[serde(default)]
    pub query_offset: Option<duration::Value>,
    /// Zero or negative: no limit (Prometheus compares `limit > 0`).
    #[serde(default)]
    pub limit: i64,
    /// Prometheus 3's group labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The rules in order.
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

/// One rule as written: `record` or `alert` (checked later), and the rest.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// The recording rule's metric name.
    #[serde(default)]
    pub record: Option<Spanned<String>>,
    /// The alerting rule's name.
    #[serde(default)]
    pub alert: Option<Spanned<String>>,
    /// PromQL.
    #[serde(default)]
    pub expr: Option<Spanned<String>>,
    /// Alerts only.
    #[serde(default, rename = "for")]
    pub for_: Option<duration::Value>,
    /// Alerts only.
    #[serde(default)]
    pub keep_firing_for: Option<duration::Value>,
    /// Added to the rule's output.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Alerts only.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// Reads the YAML; an empty document is a file with no groups, as for
/// promtool. The error is the reader's, with line and column.
pub fn read(text: &str) -> Result<RawFile, String> {
    if text.trim().is_empty() {
        return Ok(RawFile::default());
    }
    serde_saphyr::from_str(text).map_err(|e| e.to_string())
}
