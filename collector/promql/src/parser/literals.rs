//! Values of literal tokens: numbers, durations and quoted strings, decoded
//! exactly as promql-parser 0.11 decodes them (the AST must be identical),
//! with Prometheus's error messages where it has one for the case.

use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;

use super::describe::quote;

/// A number token's value. Like promql-parser (and Go's `ParseInt` with
/// base 0): `0x…` is hex, a leading `0` without `.`, `8` or `9` is octal,
/// anything else a float (`inf`, `nan`, `1e3`, `.5`).
pub(super) fn number(text: &str) -> Result<f64, String> {
    let lower = text.to_ascii_lowercase();
    let bad = || {
        format!(
            "error parsing number: strconv.ParseFloat: parsing {}: invalid syntax",
            quote(text)
        )
    };
    let int = |digits: &str, radix| {
        i64::from_str_radix(digits, radix)
            .map(|v| v as f64)
            .map_err(|_| bad())
    };
    if let Some(hex) = lower.strip_prefix("0x") {
        return int(hex, 16);
    }
    if let Some(octal) = lower.strip_prefix('0')
        && !octal.is_empty()
        && !lower.contains(['.', '8', '9'])
    {
        return int(octal, 8);
    }
    lower.parse().map_err(|_| bad())
}

/// A duration token's value (`1h30m`, `500ms`): units in descending order,
/// each at most once; a component too big for 32 bits counts as zero, as in
/// promql-parser, and a zero total is refused.
pub(super) fn duration(text: &str) -> Result<Duration, String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$",
        )
        .ok()
    });
    let invalid = || format!("not a valid duration string: {}", quote(text));
    let caps = re
        .as_ref()
        .and_then(|re| re.captures(text))
        .ok_or_else(invalid)?;
    const UNITS: [u64; 7] = [
        365 * 86_400_000,
        7 * 86_400_000,
        86_400_000,
        3_600_000,
        60_000,
        1_000,
        1,
    ];
    let mut total = Duration::ZERO;
    for (i, unit_ms) in UNITS.iter().enumerate() {
        let part = caps
            .get(i + 1)
            .and_then(|m| m.as_str().parse::<u32>().ok())
            .and_then(|v| Duration::from_millis(*unit_ms).checked_mul(v))
            .unwrap_or(Duration::ZERO);
        total = total
            .checked_add(part)
            .ok_or_else(|| "duration out of range".to_string())?;
    }
    if total.is_zero() {
        return Err("duration must be greater than 0".into());
    }
    Ok(total)
}

/// A duration written as a number of seconds (`[90]`, `offset 1.5`).
/// promql-parser panics on what `Duration` cannot hold; we refuse it.
pub(super) fn seconds(text: &str) -> Result<Duration, String> {
    let secs = number(text)?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("duration out of range: {}", quote(text)))
}

/// The value of a duration-position token: a duration or a number of
/// seconds.
pub(super) fn duration_or_seconds(text: &str, is_duration: bool) -> Result<Duration, String> {
    if is_duration {
        duration(text)
    } else {
        seconds(text)
    }
}

/// A quoted string's value. Raw strings are taken as they are; `"…"` and
/// `'…'` decode Go's escapes. `\x` and octal escapes are bytes, as in Go
/// (`"\xc3\xa9"` is "é"; promql-parser makes each a code point). A value
/// that is then not UTF-8 is refused: Prometheus would keep it, but no label
/// (always UTF-8) could equal it.
pub(super) fn unquote(text: &str) -> Result<String, String> {
    let fail = || format!("error unquoting string {}: invalid syntax", quote(text));
    let bytes = text.as_bytes();
    let (Some(&q), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Err(fail());
    };
    if text.len() < 2 || q != last {
        return Err(fail());
    }
    let inner = &text[1..text.len() - 1];
    if q == b'`' {
        return if inner.contains('`') {
            Err(fail())
        } else {
            Ok(inner.to_string())
        };
    }
    if inner.contains('\n') {
        return Err(fail());
    }
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c as u32 == q as u32 {
            return Err(fail());
        }
        if c != '\\' {
            push_char(&mut out, c);
            continue;
        }
        let Some(e) = rest.chars().next() else {
            return Err(fail());
        };
        rest = &rest[e.len_utf8()..];
        let digits = |rest: &mut &str, n: usize, radix: u32| -> Option<u32> {
            let head = rest.get(..n)?;
            let mut v: u32 = 0;
            for d in head.chars() {
                v = v.checked_mul(radix)?.checked_add(d.to_digit(radix)?)?;
            }
            *rest = &rest[n..];
            Some(v)
        };
        let byte = |v: u32| u8::try_from(v).ok();
        match e {
            'x' => out.push(digits(&mut rest, 2, 16).and_then(byte).ok_or_else(fail)?),
            '0'..='7' => out.push(
                digits(&mut rest, 2, 8)
                    .and_then(|low| byte((e as u32 - '0' as u32) << 6 | low))
                    .ok_or_else(fail)?,
            ),
            _ => {
                let value = match e {
                    'a' => Some('\x07'),
                    'b' => Some('\x08'),
                    'f' => Some('\x0c'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    'v' => Some('\x0b'),
                    '\\' => Some('\\'),
                    '\'' | '"' if e as u32 == q as u32 => Some(e),
                    'u' => digits(&mut rest, 4, 16).and_then(char::from_u32),
                    'U' => digits(&mut rest, 8, 16)
                        .filter(|v| *v <= 0x10FFFF)
                        .and_then(char::from_u32),
                    _ => None,
                };
                push_char(&mut out, value.ok_or_else(fail)?);
            }
        }
    }
    String::from_utf8(out)
        .map_err(|_| format!("error unquoting string {}: not valid UTF-8", quote(text)))
}

fn push_char(out: &mut Vec<u8>, c: char) {
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}
