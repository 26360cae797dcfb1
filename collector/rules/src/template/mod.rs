//! Go's text/template as Prometheus uses it for alert labels and
//! annotations: [`lex`] and [`parse`] follow Go's grammar and its parse-time
//! errors; the names a template may call are Go's builtins and Prometheus's
//! template functions ([`FUNCTIONS`]).
//!
//! An alert's templates are parsed as Prometheus parses them: named
//! `__alert_<alertname>`, after the prefix that binds `$labels`,
//! `$externalLabels`, `$externalURL` and `$value`.

mod exec;
mod funcs;
mod gofmt;
mod lex;
mod parse;

use std::collections::BTreeMap;

pub use exec::{ExecError, MAX_OUTPUT, Value, execute};
pub use funcs::{Env, sample};
pub(crate) use gofmt::{format_e_shortest, format_g, go_quote};
pub use parse::{Arg, Command, Control, ControlKind, Node, Number, Pipe, TemplateError, Tree};

/// Go's builtin template functions.
const GO_BUILTINS: [&str; 19] = [
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// Prometheus's template functions (`template/template.go`).
pub const FUNCTIONS: [&str; 25] = [
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "stripPort",
];

/// The variables every alert template starts with, as Prometheus writes them.
const ALERT_PREFIX: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

fn known(name: &str) -> bool {
    GO_BUILTINS.contains(&name) || FUNCTIONS.contains(&name)
}

/// Parses one template with Prometheus's functions.
pub fn parse(name: &str, text: &str) -> Result<Tree, TemplateError> {
    parse::parse(name, text, &known)
}

/// Parses an alert's label or annotation template as Prometheus does.
pub fn parse_alert(alert: &str, text: &str) -> Result<Tree, TemplateError> {
    parse(
        &format!("__alert_{alert}"),
        &format!("{ALERT_PREFIX}{text}"),
    )
}

/// What an alert's templates see: `.Labels` (`$labels`), `.ExternalLabels`,
/// `.ExternalURL` and `.Value` (`$value`).
pub struct AlertData<'a> {
    /// The alert's labels (before its own templated labels are added).
    pub labels: &'a BTreeMap<String, String>,
    /// The configured external labels.
    pub external_labels: &'a BTreeMap<String, String>,
    /// The configured external URL.
    pub external_url: &'a str,
    /// The sample's value.
    pub value: f64,
}

/// Expands one of an alert's templates as Prometheus does: a template
/// that fails to parse or to run becomes `<error expanding template: …>`,
/// never an error of the rule.
pub fn expand_alert(alert: &str, text: &str, data: &AlertData, env: &Env) -> String {
    let name = format!("__alert_{alert}");
    let tree = match parse_alert(alert, text) {
        Ok(t) => t,
        Err(e) => return format!("<error expanding template: {e}>"),
    };
    let dot = Value::Map(BTreeMap::from([
        ("Labels".to_string(), Value::labels(data.labels)),
        (
            "ExternalLabels".to_string(),
            Value::labels(data.external_labels),
        ),
        (
            "ExternalURL".to_string(),
            Value::Str(data.external_url.to_owned()),
        ),
        ("Value".to_string(), Value::Float(data.value)),
    ]));
    match execute(&name, &tree, dot, env) {
        Ok(s) => s,
        Err(e) => format!("<error expanding template: {e}>"),
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod parse_tests;

#[cfg(test)]
#[path = "exec_tests.rs"]
mod exec_tests;
