//! Go-compatible text for numbers and attribute values.
//!
//! Label values must be byte-for-byte what Prometheus writes for the same
//! OTLP input, or the same data arriving through Prometheus and through
//! Sextant would land in different series. Prometheus formats `le` and
//! `quantile` with Go's `strconv.FormatFloat(f, 'f', -1, 64)` and stringifies
//! attributes with pdata's `Value.AsString`; this module reproduces both.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits,
/// never an exponent (`1e6` → `1000000`), `+Inf`/`-Inf`/`NaN` spelled as Go does.
pub fn go_format_f(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f == f64::INFINITY {
        "+Inf".to_string()
    } else if f == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        // Rust's Display is also shortest-round-trip and exponent-free.
        f.to_string()
    }
}

/// The ES6 number formatting Go's `encoding/json` (and pdata) use: fixed
/// notation unless |f| < 1e-6 or ≥ 1e21, then `1e-7` / `1e+21` style.
/// `None` for NaN and infinities, which JSON cannot hold.
fn es6_number(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}"); // e.g. "1.5e-7", "1e21"
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        Some(format!("{mantissa}e{sign}{digits}"))
    } else {
        Some(f.to_string())
    }
}

/// pdata's `Value.AsString()`: the label value Prometheus derives from an
/// attribute. Strings as is, bools `true`/`false`, ints in decimal, doubles
/// in ES6 style, bytes in standard base64, arrays and maps as JSON.
pub fn any_value_to_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None | Some(Value::StringValueStrindex(_)) => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        // Go prints this odd text for non-finite doubles; keep it so the
        // series matches what Prometheus stores.
        Some(Value::DoubleValue(d)) => es6_number(*d)
            .unwrap_or_else(|| format!("json: unsupported value: {}", go_format_f(*d))),
        Some(Value::BytesValue(b)) => base64(b),
        // Go's json.Marshal fails on NaN/Inf inside, and pdata then yields "".
        Some(v @ (Value::ArrayValue(_) | Value::KvlistValue(_))) => {
            let mut out = String::new();
            if write_json(&mut out, Some(v)) {
                out
            } else {
                String::new()
            }
        }
    }
}

/// Writes `v` as Go's `json.Marshal` of pdata's `AsRaw()` would; false when
/// the value holds a non-finite double.
fn write_json(out: &mut String, v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::StringValueStrindex(_)) => out.push_str("null"),
        Some(Value::StringValue(s)) => write_json_string(out, s),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(Value::DoubleValue(d)) => match es6_number(*d) {
            Some(s) => out.push_str(&s),
            None => return false,
        },
        Some(Value::BytesValue(b)) => write_json_string(out, &base64(b)),
        Some(Value::ArrayValue(a)) => {
            out.push('[');
            for (i, item) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_json(out, item.value.as_ref()) {
                    return false;
                }
            }
            out.push(']');
        }
        Some(Value::KvlistValue(kv)) => {
            // Go marshals maps with sorted keys; a repeated key keeps its
            // last value, as pdata's AsRaw map would.
            let mut entries: Vec<&KeyValue> = Vec::with_capacity(kv.values.len());
            for e in &kv.values {
                match entries.iter_mut().find(|x| x.key == e.key) {
                    Some(slot) => *slot = e,
                    None => entries.push(e),
                }
            }
            entries.sort_by(|a, b| a.key.cmp(&b.key));
            out.push('{');
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, &e.key);
                out.push(':');
                if !write_json(out, e.value.as_ref().and_then(|v| v.value.as_ref())) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    true
}

/// Go's JSON string escaping, including its HTML-safe escapes of `<`, `>`, `&`.
fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Standard base64 with padding (Go's `base64.StdEncoding`).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn v(value: Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    #[test]
    fn go_f_formatting() {
        let cases = [
            (0.005, "0.005"),
            (1.0, "1"),
            (2.5, "2.5"),
            (1e6, "1000000"),
            (-0.25, "-0.25"),
            (1e-7, "0.0000001"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (f, want) in cases {
            assert_eq!(go_format_f(f), want, "{f}");
        }
    }

    #[test]
    fn attribute_values() {
        let cases = [
            (v(Value::StringValue("x".into())), "x"),
            (v(Value::BoolValue(true)), "true"),
            (v(Value::IntValue(-42)), "-42"),
            (v(Value::DoubleValue(1.5)), "1.5"),
            (v(Value::DoubleValue(1e21)), "1e+21"),
            (v(Value::DoubleValue(1e-7)), "1e-7"),
            (v(Value::DoubleValue(123456789.0)), "123456789"),
            (
                v(Value::DoubleValue(f64::NAN)),
                "json: unsupported value: NaN",
            ),
            (v(Value::BytesValue(b"hello".to_vec())), "aGVsbG8="),
            (v(Value::BytesValue(b"hi".to_vec())), "aGk="),
            (
                v(Value::ArrayValue(ArrayValue {
                    values: vec![
                        v(Value::StringValue("a<b".into())),
                        v(Value::IntValue(1)),
                        v(Value::DoubleValue(0.5)),
                    ],
                })),
                r#"["a\u003cb",1,0.5]"#,
            ),
            (
                v(Value::KvlistValue(KeyValueList {
                    values: vec![
                        KeyValue {
                            key: "z".into(),
                            value: Some(v(Value::BoolValue(false))),
                            ..Default::default()
                        },
                        KeyValue {
                            key: "a".into(),
                            value: None,
                            ..Default::default()
                        },
                    ],
                })),
                r#"{"a":null,"z":false}"#,
            ),
            (
                v(Value::ArrayValue(ArrayValue {
                    values: vec![v(Value::DoubleValue(f64::INFINITY))],
                })),
                "",
            ),
        ];
        for (value, want) in cases {
            assert_eq!(any_value_to_string(Some(&value)), want, "{value:?}");
        }
        assert_eq!(any_value_to_string(None), "");
    }
}
