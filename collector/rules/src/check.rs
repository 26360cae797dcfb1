//! promtool's checks of a rule file (`rulefmt.Validate`), producing the
//! typed groups or every error at once, each in promtool's words and shape:
//! `L:C: group "g", rule N, "name": message` (two positions when both
//! `record` and `alert` are set, none for labels and annotations).
//!
//! **Invariant:** a file that checks clean yields groups whose every rule
//! has one kind, a parsing expression and valid names; a file with any
//! error yields no groups at all, so a reload is all-or-nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::file::{self, Pos, RawGroup, RawRule, pos};
use crate::model::{AlertingRule, Group, RecordingRule, Rule};

/// Longest name or value an error message repeats; rule files are input
/// and an error line must stay a line.
const MAX_SHOWN: usize = 256;

/// A checked rule file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleFile {
    /// In file order.
    pub groups: Vec<Group>,
}

impl RuleFile {
    /// Rules in all groups (promtool's "N rules found").
    pub fn rule_count(&self) -> usize {
        self.groups.iter().map(|g| g.rules.len()).sum()
    }
}

/// One problem in a rule file, printed as promtool prints it (without the
/// file name, which the caller prefixes).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct CheckError {
    /// Zero, one or two positions, printed first.
    pub at: Vec<Pos>,
    /// `group "g", rule N, "name"` for a rule's errors.
    pub context: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl CheckError {
    fn render(&self) -> String {
        let mut out = String::new();
        for p in &self.at {
            out.push_str(&format!("{p}: "));
        }
        if let Some(c) = &self.context {
            out.push_str(c);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        out
    }
}

/// Reads and checks rule-file text.
pub fn check(text: &str) -> Result<RuleFile, Vec<CheckError>> {
    let raw = file::read(text).map_err(|message| {
        vec![CheckError {
            at: Vec::new(),
            context: None,
            message,
        }]
    })?;
    let mut errors = Vec::new();
    let mut groups = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for spanned in &raw.groups {
        let g = &spanned.value;
        let at = pos(Some(spanned));
        if g.name.is_empty() {
            errors.push(CheckError {
                at: vec![at],
                context: None,
                message: "Groupname must not be empty".into(),
            });
        }
        if !seen.insert(g.name.as_str()) {
            errors.push(CheckError {
                at: vec![at],
                context: None,
                message: format!(
                    "groupname: \"{}\" is repeated in the same file",
                    shown(&g.name)
                ),
            });
        }
        if let Some(group) = check_group(g, &mut errors) {
            groups.push(group);
        }
    }
    if errors.is_empty() {
        Ok(RuleFile { groups })
    } else {
        Err(errors)
    }
}

fn check_group(g: &RawGroup, errors: &mut Vec<CheckError>) -> Option<Group> {
    let before = errors.len();
    for k in g.labels.keys() {
        if !is_label_name(k) || k == "__name__" {
            errors.push(plain(format!("invalid label name: {}", shown(k))));
        }
    }
    let rules: Vec<Rule> = g
        .rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| check_rule(&g.name, i + 1, r, errors))
        .collect();
    (errors.len() == before).then(|| Group {
        name: g.name.clone(),
        interval: g.interval.map(|d| d.0),
        query_offset: g.query_offset.map(|d| d.0),
        limit: usize::try_from(g.limit).unwrap_or(0),
        labels: g.labels.clone(),
        rules,
    })
}

fn check_rule(
    group: &str,
    index: usize,
    r: &RawRule,
    errors: &mut Vec<CheckError>,
) -> Option<Rule> {
    let record = r.record.as_ref().map(|s| s.value.as_str()).unwrap_or("");
    let alert = r.alert.as_ref().map(|s| s.value.as_str()).unwrap_or("");
    let expr = r.expr.as_ref().map(|s| s.value.as_str()).unwrap_or("");
    let name = if alert.is_empty() { record } else { alert };
    let context = format!(
        "group \"{}\", rule {index}, \"{}\"",
        shown(group),
        shown(name)
    );
    let mut problems: Vec<(Vec<Pos>, String)> = Vec::new();
    let (at_record, at_alert, at_expr) = (
        pos(r.record.as_ref()),
        pos(r.alert.as_ref()),
        pos(r.expr.as_ref()),
    );
    if !record.is_empty() && !alert.is_empty() {
        problems.push((
            vec![at_record, at_alert],
            "only one of 'record' and 'alert' must be set".into(),
        ));
    }
    if record.is_empty() && alert.is_empty() {
        problems.push((
            vec![at_record],
            "one of 'record' or 'alert' must be set".into(),
        ));
    }
    if expr.is_empty() {
        problems.push((vec![at_expr], "field 'expr' must be set in rule".into()));
    } else if let Err(e) = sextant_promql::parse(expr) {
        problems.push((vec![at_expr], format!("could not parse expression: {e}")));
    }
    let nonzero =
        |d: Option<sextant_config::duration::Value>| d.is_some_and(|d| d.0 > Duration::ZERO);
    if !record.is_empty() {
        if !r.annotations.is_empty() {
            problems.push((
                vec![at_record],
                "invalid field 'annotations' in recording rule".into(),
            ));
        }
        if nonzero(r.for_) {
            problems.push((
                vec![at_record],
                "invalid field 'for' in recording rule".into(),
            ));
        }
        if nonzero(r.keep_firing_for) {
            problems.push((
                vec![at_record],
                "invalid field 'keep_firing_for' in recording rule".into(),
            ));
        }
        if !is_metric_name(record) {
            problems.push((
                vec![at_record],
                format!("invalid recording rule name: {}", shown(record)),
            ));
        }
    }
    for k in r.labels.keys() {
        if !is_label_name(k) || k == "__name__" {
            problems.push((Vec::new(), format!("invalid label name: {}", shown(k))));
        }
    }
    for k in r.annotations.keys() {
        if !is_label_name(k) {
            problems.push((Vec::new(), format!("invalid annotation name: {}", shown(k))));
        }
    }
    if !alert.is_empty() {
        // Prometheus parses an alert's templates when it checks the file.
        let templates = r
            .labels
            .iter()
            .map(|kv| ("label", kv))
            .chain(r.annotations.iter().map(|kv| ("annotation", kv)));
        for (what, (k, v)) in templates {
            if let Err(e) = crate::template::parse_alert(alert, v) {
                problems.push((Vec::new(), format!("{what} {:?}: {e}", shown(k))));
            }
        }
    }
    if !problems.is_empty() {
        errors.extend(problems.into_iter().map(|(at, message)| CheckError {
            at,
            context: Some(context.clone()),
            message,
        }));
        return None;
    }
    Some(if record.is_empty() {
        Rule::Alert(AlertingRule {
            alert: alert.to_owned(),
            expr: expr.to_owned(),
            for_: r.for_.map_or(Duration::ZERO, |d| d.0),
            keep_firing_for: r.keep_firing_for.map_or(Duration::ZERO, |d| d.0),
            labels: r.labels.clone(),
            annotations: r.annotations.clone(),
        })
    } else {
        Rule::Record(RecordingRule {
            record: record.to_owned(),
            expr: expr.to_owned(),
            labels: r.labels.clone(),
        })
    })
}

fn plain(message: String) -> CheckError {
    CheckError {
        at: Vec::new(),
        context: None,
        message,
    }
}

/// Prometheus's classic metric-name rule, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Prometheus's classic label-name rule, `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Cuts an input string for an error line.
fn shown(s: &str) -> String {
    if s.len() <= MAX_SHOWN {
        return s.to_owned();
    }
    let mut end = MAX_SHOWN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Rules of a file that share a name and labels: promtool's default lint
/// (`--lint=duplicate-rules`), a warning that does not fail the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// The record or alert name.
    pub name: String,
    /// The rules' labels.
    pub labels: BTreeMap<String, String>,
}

/// Each name-and-labels pair held by more than one rule, once, sorted.
pub fn duplicates(file: &RuleFile) -> Vec<Duplicate> {
    let mut count: BTreeMap<(&str, &BTreeMap<String, String>), usize> = BTreeMap::new();
    for rule in file.groups.iter().flat_map(|g| &g.rules) {
        *count.entry((rule.name(), rule.labels())).or_default() += 1;
    }
    count
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((name, labels), _)| Duplicate {
            name: name.to_owned(),
            labels: labels.clone(),
        })
        .collect()
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
