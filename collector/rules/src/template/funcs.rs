//! The functions a template may call: Go's builtins (`and or not len index
//! print printf println eq ne lt le gt ge html js urlquery slice`) and
//! Prometheus's (`template/template.go`: `humanize*`, `query`, `first`,
//! `label`, `value`, `reReplaceAll`, `title`, `toUpper` …), each with the
//! argument rules and answers of its Go original.

use std::collections::BTreeMap;

use super::exec::Value;
use super::gofmt::{format_g, print, sprintf, type_name};

/// What the functions that reach outside the template need.
pub struct Env<'a> {
    /// Runs PromQL for `query`: samples as `{Labels, Value}` maps.
    pub query: &'a dyn Fn(&str) -> Result<Vec<Value>, String>,
    /// Prometheus's `--web.external-url`, for `externalURL`, `pathPrefix`
    /// and the link functions.
    pub external_url: &'a str,
}

/// Calls `name` with `args` (a pipeline's value is the last).
pub fn call(name: &str, args: Vec<Value>, env: &Env) -> Result<Value, String> {
    let want = |n: usize| -> Result<(), String> {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "wrong number of args for {name}: want {n} got {}",
                args.len()
            ))
        }
    };
    Ok(match name {
        "and" => args
            .iter()
            .find(|a| !a.truth())
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Nil),
        "or" => args
            .iter()
            .find(|a| a.truth())
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Nil),
        "not" => {
            want(1)?;
            Value::Bool(!args[0].truth())
        }
        "len" => {
            want(1)?;
            Value::Int(match &args[0] {
                Value::Str(s) => s.len(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.len(),
                other => return Err(format!("len of type {}", type_name(other))),
            } as i64)
        }
        "index" => {
            let mut it = args.into_iter();
            let mut v = it
                .next()
                .ok_or("wrong number of args for index: want at least 1 got 0")?;
            for key in it {
                v = match (v, key) {
                    (Value::Map(mut m), Value::Str(k)) => {
                        m.remove(&k).unwrap_or(Value::Str(String::new()))
                    }
                    (Value::List(l), Value::Int(i)) => {
                        let len = l.len();
                        l.into_iter()
                            .nth(usize::try_from(i).unwrap_or(usize::MAX))
                            .ok_or_else(|| {
                                format!("error calling index: index out of range: {i} (len {len})")
                            })?
                    }
                    (v, k) => {
                        return Err(format!(
                            "can't index item of type {} with {}",
                            type_name(&v),
                            type_name(&k)
                        ));
                    }
                };
            }
            v
        }
        "print" => Value::Str(go_sprint(&args)),
        "println" => {
            let parts: Vec<String> = args.iter().map(print).collect();
            Value::Str(format!("{}\n", parts.join(" ")))
        }
        "printf" => {
            let mut it = args.into_iter();
            let Some(Value::Str(f)) = it.next() else {
                return Err("printf needs a format string".into());
            };
            Value::Str(sprintf(&f, &it.collect::<Vec<_>>()))
        }
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" => compare(name, &args)?,
        "html" => Value::Str(html_escape(&go_sprint(&args))),
        "js" => Value::Str(js_escape(&go_sprint(&args))),
        "urlquery" => Value::Str(query_escape(&go_sprint(&args))),
        "slice" => slice(args)?,
        "call" => return Err("call is not supported".into()),

        "humanize" => {
            want(1)?;
            Value::Str(humanize(to_float(&args[0])?))
        }
        "humanize1024" => {
            want(1)?;
            Value::Str(humanize1024(to_float(&args[0])?))
        }
        "humanizeDuration" => {
            want(1)?;
            Value::Str(humanize_duration(to_float(&args[0])?))
        }
        "humanizePercentage" => {
            want(1)?;
            Value::Str(format!(
                "{}%",
                format_g(to_float(&args[0])? * 100.0, Some(4))
            ))
        }
        "humanizeTimestamp" => {
            want(1)?;
            let v = to_float(&args[0])?;
            Value::Str(if v.is_finite() {
                go_time((v * 1e9) as i64)
            } else {
                format_g(v, Some(4))
            })
        }
        "toTime" => {
            want(1)?;
            Value::Str(go_time((to_float(&args[0])? * 1e9) as i64))
        }
        "title" => {
            want(1)?;
            Value::Str(title(&string(&args[0])?))
        }
        "toUpper" => {
            want(1)?;
            Value::Str(string(&args[0])?.to_uppercase())
        }
        "toLower" => {
            want(1)?;
            Value::Str(string(&args[0])?.to_lowercase())
        }
        "safeHtml" => {
            want(1)?;
            Value::Str(string(&args[0])?)
        }
        "match" => {
            want(2)?;
            let re = regex(&string(&args[0])?)?;
            Value::Bool(re.is_match(&string(&args[1])?))
        }
        "reReplaceAll" => {
            want(3)?;
            let re = regex(&string(&args[0])?)?;
            Value::Str(
                re.replace_all(&string(&args[2])?, string(&args[1])?.as_str())
                    .into_owned(),
            )
        }
        "stripPort" => {
            want(1)?;
            Value::Str(strip_port(&string(&args[0])?))
        }
        "parseDuration" => {
            want(1)?;
            let s = string(&args[0])?;
            let d = sextant_config::duration::parse(&s)
                .map_err(|_| format!("not a valid duration string: {s:?}"))?;
            Value::Float(d.as_secs_f64())
        }
        "args" => Value::Map(
            args.into_iter()
                .enumerate()
                .map(|(i, v)| (format!("arg{i}"), v))
                .collect(),
        ),
        "query" => {
            want(1)?;
            Value::List((env.query)(&string(&args[0])?)?)
        }
        "first" => {
            want(1)?;
            match &args[0] {
                Value::List(l) => l
                    .first()
                    .cloned()
                    .ok_or("first() called on vector with no elements")?,
                other => return Err(format!("first() called on {}", type_name(other))),
            }
        }
        "label" => {
            want(2)?;
            let name = string(&args[0])?;
            Value::Str(sample_label(&args[1], &name, "label")?)
        }
        "value" => {
            want(1)?;
            match &args[0] {
                Value::Map(s) => s.get("Value").cloned().unwrap_or(Value::Float(0.0)),
                other => return Err(format!("value() called on {}", type_name(other))),
            }
        }
        "strvalue" => {
            want(1)?;
            Value::Str(sample_label(&args[0], "__value__", "strvalue")?)
        }
        "sortByLabel" => {
            want(2)?;
            let label = string(&args[0])?;
            let Value::List(mut l) = args[1].clone() else {
                return Err(format!("sortByLabel() called on {}", type_name(&args[1])));
            };
            l.sort_by_key(|v| sample_label(v, &label, "sortByLabel").unwrap_or_default());
            Value::List(l)
        }
        "externalURL" => Value::Str(env.external_url.to_owned()),
        "pathPrefix" => Value::Str(url_path(env.external_url)),
        "graphLink" => {
            want(1)?;
            Value::Str(format!(
                "{}/graph?g0.expr={}&g0.tab=0",
                url_path(env.external_url),
                query_escape(&string(&args[0])?)
            ))
        }
        "tableLink" => {
            want(1)?;
            Value::Str(format!(
                "{}/graph?g0.expr={}&g0.tab=1",
                url_path(env.external_url),
                query_escape(&string(&args[0])?)
            ))
        }
        _ => return Err(format!("function {name:?} not defined")),
    })
}

/// Label `name` of a query-result sample (`""` when it has none); `func`
/// names the caller in the error for anything else.
fn sample_label(sample: &Value, name: &str, func: &str) -> Result<String, String> {
    match sample {
        Value::Map(s) => Ok(match s.get("Labels") {
            Some(Value::Map(l)) => l.get(name).map(print).unwrap_or_default(),
            _ => String::new(),
        }),
        other => Err(format!("{func}() called on {}", type_name(other))),
    }
}

/// Prometheus's `convertToFloat`: floats, integers and numeric strings.
fn to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Str(s) => s.trim().parse::<f64>().or_else(|_| match s.trim() {
            "+Inf" | "Inf" | "inf" | "+inf" => Ok(f64::INFINITY),
            "-Inf" | "-inf" => Ok(f64::NEG_INFINITY),
            "NaN" | "nan" => Ok(f64::NAN),
            _ => Err(format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
        }),
        other => Err(format!("can't convert {} to float", type_name(other))),
    }
}

fn string(v: &Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            type_name(other)
        )),
    }
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
fn go_sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Value::Str(_)) && !matches!(args[i - 1], Value::Str(_)) {
            out.push(' ');
        }
        out.push_str(&print(a));
    }
    out
}

/// Go's template comparisons: same basic kind on both sides (integers
/// and floats do not mix), `eq` true when the first equals any other.
fn compare(name: &str, args: &[Value]) -> Result<Value, String> {
    let (Some(a), rest) = (args.first(), args.get(1..).unwrap_or_default()) else {
        return Err("missing argument for comparison".into());
    };
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let ord = |b: &Value| -> Result<std::cmp::Ordering, String> {
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
            (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).ok_or_else(|| "NaN".to_string()),
            (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
            (Value::Bool(x), Value::Bool(y)) if name == "eq" || name == "ne" => Ok(x.cmp(y)),
            (Value::Nil, Value::Nil) if name == "eq" || name == "ne" => {
                Ok(std::cmp::Ordering::Equal)
            }
            (Value::Bool(_), Value::Bool(_)) => Err("invalid type for comparison".into()),
            _ => Err("incompatible types for comparison".into()),
        }
    };
    use std::cmp::Ordering::*;
    Ok(Value::Bool(match name {
        "eq" => {
            let mut any = false;
            for b in rest {
                // NaN compares unequal rather than failing.
                if let (Value::Float(x), Value::Float(y)) = (a, b) {
                    any |= x == y;
                    continue;
                }
                any |= ord(b)? == Equal;
            }
            any
        }
        "ne" => match (a, &rest[0]) {
            (Value::Float(x), Value::Float(y)) => x != y,
            (_, b) => ord(b)? != Equal,
        },
        "lt" => ord(&rest[0])? == Less,
        "le" => ord(&rest[0])? != Greater,
        "gt" => ord(&rest[0])? == Greater,
        _ => ord(&rest[0])? != Less,
    }))
}

fn slice(args: Vec<Value>) -> Result<Value, String> {
    let mut it = args.into_iter();
    let v = it
        .next()
        .ok_or("wrong number of args for slice: want at least 1 got 0")?;
    let idx: Vec<i64> = it
        .map(|a| match a {
            Value::Int(i) => Ok(i),
            other => Err(format!(
                "cannot index slice/array with type {}",
                type_name(&other)
            )),
        })
        .collect::<Result<_, _>>()?;
    let len = match &v {
        Value::Str(s) => s.len(),
        Value::List(l) => l.len(),
        other => return Err(format!("can't slice item of type {}", type_name(other))),
    } as i64;
    let lo = idx.first().copied().unwrap_or(0);
    let hi = idx.get(1).copied().unwrap_or(len);
    if lo < 0 || hi < lo || hi > len {
        return Err(format!("index out of range: {lo}:{hi}"));
    }
    Ok(match v {
        Value::Str(s) => Value::Str(
            s.get(lo as usize..hi as usize)
                .ok_or("slice not on a character boundary")?
                .to_owned(),
        ),
        Value::List(l) => Value::List(l[lo as usize..hi as usize].to_vec()),
        _ => Value::Nil,
    })
}

fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("error parsing regexp: {e}"))
}

/// Prometheus's `humanize`: SI prefixes, four significant digits.
pub fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format_g(v, Some(4));
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", format_g(v, Some(4)))
}

/// Prometheus's `humanize1024`: binary prefixes.
pub fn humanize1024(mut v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return format_g(v, Some(4));
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", format_g(v, Some(4)))
}

/// Prometheus's `humanizeDuration`: `1d 2h 3m 4s`, `1.5s`, `10ms`.
pub fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return format_g(v, Some(4));
    }
    if v == 0.0 {
        return "0s".into();
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let total = v.abs() as i64;
        let seconds = total % 60;
        let minutes = (total / 60) % 60;
        let hours = (total / 3600) % 24;
        let days = total / 86_400;
        if days != 0 {
            return format!("{sign}{days}d {hours}h {minutes}m {seconds}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {minutes}m {seconds}s");
        }
        if minutes != 0 {
            return format!("{sign}{minutes}m {seconds}s");
        }
        return format!("{sign}{}s", format_g(v.abs(), Some(4)));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_g(v, Some(4)))
}

/// Go's `time.Time.String()` in UTC: `2015-06-23 13:19:44.128 +0000 UTC`.
pub fn go_time(unix_ns: i64) -> String {
    let secs = unix_ns.div_euclid(1_000_000_000);
    let nanos = unix_ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = sextant_model::civil::civil_from_days(days);
    let mut frac = String::new();
    if nanos != 0 {
        frac = format!(".{nanos:09}");
        while frac.ends_with('0') {
            frac.pop();
        }
    }
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}{frac} +0000 UTC",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Go's deprecated `strings.Title`: the first letter of each word upper case.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        let letter = c.is_alphanumeric() || c == '_' || c == '\'';
        if letter && !prev_letter {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = letter;
    }
    out
}

fn strip_port(s: &str) -> String {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((host, port)) = rest.split_once("]:")
            && !port.is_empty()
        {
            return host.to_owned();
        }
        return s.to_owned();
    }
    match s.rsplit_once(':') {
        Some((host, _)) if !host.contains(':') => host.to_owned(),
        _ => s.to_owned(),
    }
}

fn url_path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    after_scheme
        .find('/')
        .map(|i| after_scheme[i..].trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query result sample as templates see it.
pub fn sample(labels: &BTreeMap<String, String>, value: f64) -> Value {
    Value::Map(BTreeMap::from([
        ("Labels".to_string(), Value::labels(labels)),
        ("Value".to_string(), Value::Float(value)),
    ]))
}

#[cfg(test)]
#[path = "funcs_tests.rs"]
mod tests;
