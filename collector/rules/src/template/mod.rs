//! Go's text/template as Prometheus uses it for alert labels and
//! annotations: [`lex`] and [`parse`] follow Go's grammar and its parse-time
//! errors; the names a template may call are Go's builtins and Prometheus's
//! template functions ([`FUNCTIONS`]).
//!
//! An alert's templates are parsed as Prometheus parses them: named
//! `__alert_<alertname>`, after the prefix that binds `$labels`,
//! `$externalLabels`, `$externalURL` and `$value`.

mod lex;
mod parse;

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

#[cfg(test)]
#[path = "parse_tests.rs"]
mod parse_tests;
