//! Prometheus's wording for tokens and characters in error messages: its
//! `Item.desc()` (`identifier "foo"`, `<op:+>`, `<aggr:sum>`, `<by>`,
//! `end of input`) and Go's `%q` / `%#U` quoting.

use promql_parser::parser::token::*;

/// How Prometheus names token `id` with text `text` after "unexpected ".
pub(super) fn token(id: TokenId, text: &str) -> String {
    match id {
        T_EOF => "end of input".into(),
        T_IDENTIFIER => format!("identifier {}", quote(text)),
        T_METRIC_IDENTIFIER => format!("metric identifier {}", quote(text)),
        T_STRING => format!("string {}", item(text)),
        T_NUMBER => format!("number {}", item(text)),
        T_DURATION => format!("duration {}", item(text)),
        _ if is_keyword(id) => format!("<{text}>"),
        _ if is_operator(id) => format!("<op:{text}>"),
        _ if is_aggregator(id) => format!("<aggr:{text}>"),
        _ => item(text),
    }
}

/// Prometheus's keyword range (`keywordsStart` … `keywordsEnd`).
fn is_keyword(id: TokenId) -> bool {
    matches!(
        id,
        T_BOOL
            | T_BY
            | T_GROUP_LEFT
            | T_GROUP_RIGHT
            | T_IGNORING
            | T_OFFSET
            | T_ON
            | T_WITHOUT
            | T_FILL
            | T_FILL_LEFT
            | T_FILL_RIGHT
            | T_SMOOTHED
            | T_ANCHORED
    )
}

/// Prometheus's operator range, which includes the set operators, `@`,
/// `atan2` and the regex match operators.
fn is_operator(id: TokenId) -> bool {
    id > T_OPERATORS_START && id < T_OPERATORS_END
}

fn is_aggregator(id: TokenId) -> bool {
    id > T_AGGREGATORS_START && id < T_AGGREGATORS_END
}

/// Go's `Item.String()` fallback: `%q`, or the first ten runes quoted and
/// `...` for longer values.
fn item(text: &str) -> String {
    if text.chars().count() > 10 {
        let head: String = text.chars().take(10).collect();
        format!("{}...", quote(&head))
    } else {
        quote(text)
    }
}

/// Go's `%q` of a string.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        escape_into(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `%q` of a rune (`'a'`, `'\n'`, `'é'`).
pub(super) fn quote_rune(c: char) -> String {
    let mut out = String::from("'");
    escape_into(&mut out, c, '\'');
    out.push('\'');
    out
}

/// Go's `%#U` of a rune: `U+0071 'q'`, or just `U+000A` when unprintable.
pub(super) fn unicode(c: char) -> String {
    if is_printable(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

fn escape_into(out: &mut String, c: char, quote: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if is_printable(c) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// An approximation of Go's `unicode.IsPrint`: not a control character and
/// not a non-space separator.
fn is_printable(c: char) -> bool {
    !c.is_control() && (c == ' ' || !c.is_whitespace())
}
