//! Go's number and value printing where templates show it: `%v` of a
//! float (`strconv.FormatFloat(v, 'g', -1, 64)`: `1e+06`, `0.0001`,
//! `1.234567e+06`), `%.4g` as Prometheus's `humanize*` use it, and a
//! `printf` covering the verbs alert templates use (`%s %v %d %f %e %g %q
//! %x %t %%` with flags, width and precision).

use super::exec::Value;

/// Decimal digits of `v` (no sign, no leading zeros, trailing zeros
/// trimmed) and the position of the decimal point, as Go's `decimal` has
/// them; `sig` significant digits, or the shortest that round-trips.
fn digits(v: f64, sig: Option<usize>) -> (String, i32) {
    let s = match sig {
        Some(p) => format!("{:.*e}", p.max(1) - 1, v.abs()),
        None => format!("{:e}", v.abs()),
    };
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while d.len() > 1 && d.ends_with('0') {
        d.pop();
    }
    if d == "0" {
        return (String::new(), 0);
    }
    (d, exp + 1)
}

/// Go's `%e` body from digits: `d.ddde±XX` with `prec` decimals.
fn fmt_e(neg: bool, d: &str, dp: i32, prec: usize, upper: bool) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let first = d.chars().next().unwrap_or('0');
    out.push(first);
    if prec > 0 {
        out.push('.');
        let rest: String = d
            .chars()
            .skip(1)
            .chain(std::iter::repeat('0'))
            .take(prec)
            .collect();
        out.push_str(&rest);
    }
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    out.push(if upper { 'E' } else { 'e' });
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exp.abs()));
    out
}

/// Go's `%f` body from digits with `prec` decimals.
fn fmt_f(neg: bool, d: &str, dp: i32, prec: usize) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let digit = |i: i32| -> char {
        if i >= 0 && (i as usize) < d.len() {
            d.as_bytes()[i as usize] as char
        } else {
            '0'
        }
    };
    if dp > 0 {
        for i in 0..dp {
            out.push(digit(i));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec as i32 {
            out.push(digit(dp + i));
        }
    }
    out
}

/// Go prints NaN and the infinities the same under every float verb.
fn special(v: f64) -> Option<String> {
    if v.is_nan() {
        Some("NaN".into())
    } else if v.is_infinite() {
        Some(if v > 0.0 { "+Inf" } else { "-Inf" }.into())
    } else {
        None
    }
}

/// Go's `%g` / `%.Ng` (`prec` significant digits, `None`: shortest).
pub fn format_g(v: f64, prec: Option<usize>) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    let neg = v.is_sign_negative() && v != 0.0;
    let prec = prec.map(|p| p.max(1));
    let (d, dp) = digits(v, prec);
    if d.is_empty() {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let nd = d.len() as i32;
    let mut eprec = prec.map_or(6, |p| p as i32);
    if prec.is_some() && eprec > nd && nd >= dp {
        eprec = nd;
    }
    if prec.is_none() {
        eprec = 6;
    }
    let exp = dp - 1;
    if exp < -4 || exp >= eprec {
        let p = prec.map_or(nd, |p| (p as i32).min(nd));
        return fmt_e(neg, &d, dp, (p - 1).max(0) as usize, false);
    }
    let p = match prec {
        Some(p) if (p as i32) > dp => nd,
        Some(p) => p as i32,
        None => nd,
    };
    fmt_f(neg, &d, dp, (p - dp).max(0) as usize)
}

/// Go's `%.Nf`: both languages round the exact binary value correctly,
/// so Rust's formatting gives Go's digits.
pub fn format_f(v: f64, prec: usize) -> String {
    special(v).unwrap_or_else(|| format!("{:.*}", prec, v))
}

/// Go's `%.Ne`.
pub fn format_e(v: f64, prec: usize, upper: bool) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    let neg = v.is_sign_negative() && v != 0.0;
    let (d, dp) = digits(v, Some(prec + 1));
    if d.is_empty() {
        return fmt_e(neg, "0", 1, prec, upper);
    }
    fmt_e(neg, &d, dp, prec, upper)
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`: the shortest digits that
/// round-trip, in exponent form (`9.9E+01`, `5E+00`), as promtool prints
/// samples.
pub fn format_e_shortest(v: f64) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    let neg = v.is_sign_negative() && v != 0.0;
    let (d, dp) = digits(v, None);
    if d.is_empty() {
        return fmt_e(neg, "0", 1, 0, true);
    }
    fmt_e(neg, &d, dp, d.len() - 1, true)
}

/// How `{{ x }}` and `%v` print a value (Go's `fmt.Print`).
pub fn print(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format_g(*f, None),
        Value::Str(s) => s.clone(),
        Value::Map(m) => {
            let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{}", print(v))).collect();
            format!("map[{}]", inner.join(" "))
        }
        Value::List(l) => {
            let inner: Vec<String> = l.iter().map(print).collect();
            format!("[{}]", inner.join(" "))
        }
    }
}

/// Go's `fmt.Sprintf` for the verbs templates use; an unknown verb or a
/// missing argument prints Go's `%!v(…)` markers.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut minus, mut plus, mut zero, mut space) = (false, false, false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => minus = true,
                '+' => plus = true,
                '0' => zero = true,
                ' ' => space = true,
                '#' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = None;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            width = Some(width.unwrap_or(0) * 10 + d as usize);
            chars.next();
        }
        let mut prec = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = 0;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                p = p * 10 + d as usize;
                chars.next();
            }
            prec = Some(p);
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        let mut body = match (verb, arg) {
            ('v', _) => match (arg, prec) {
                (Value::Float(f), Some(p)) => format_g(*f, Some(p)),
                _ => print(arg),
            },
            ('s', Value::Str(s)) => match prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.clone(),
            },
            ('s', _) => print(arg),
            ('q', Value::Str(s)) => go_quote(s),
            ('d', Value::Int(i)) => i.to_string(),
            ('f' | 'F', Value::Float(f)) => format_f(*f, prec.unwrap_or(6)),
            ('f' | 'F', Value::Int(i)) => format!("%!f(int={i})"),
            ('e' | 'E', Value::Float(f)) => format_e(*f, prec.unwrap_or(6), verb == 'E'),
            ('g' | 'G', Value::Float(f)) => format_g(*f, prec),
            ('x', Value::Int(i)) => format!("{i:x}"),
            ('X', Value::Int(i)) => format!("{i:X}"),
            ('x', Value::Str(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
            ('t', Value::Bool(b)) => b.to_string(),
            (v, a) => format!("%!{v}({}={})", type_name(a), print(a)),
        };
        if plus && matches!(arg, Value::Int(_) | Value::Float(_)) && !body.starts_with('-') {
            body.insert(0, '+');
        } else if space && matches!(arg, Value::Int(_) | Value::Float(_)) && !body.starts_with('-')
        {
            body.insert(0, ' ');
        }
        if let Some(w) = width {
            let len = body.chars().count();
            if len < w {
                let pad = w - len;
                if minus {
                    body.push_str(&" ".repeat(pad));
                } else if zero && matches!(arg, Value::Int(_) | Value::Float(_)) {
                    let sign = body.starts_with(['-', '+', ' ']);
                    let at = usize::from(sign);
                    body.insert_str(at, &"0".repeat(pad));
                } else {
                    body.insert_str(0, &" ".repeat(pad));
                }
            }
        }
        out.push_str(&body);
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| format!("{}={}", type_name(a), print(a)))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

/// Go's type names in `%!v(type=…)` markers.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float64",
        Value::Str(_) => "string",
        Value::Map(_) => "map[string]string",
        Value::List(_) => "[]interface {}",
    }
}

/// Go's `%q` (`strconv.Quote`).
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_prints_them() {
        for (v, want) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (0.0, "0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            assert_eq!(format_g(v, None), want, "{v}");
        }
    }

    #[test]
    fn four_significant_digits_as_humanize_uses_them() {
        for (v, want) in [
            (1.5, "1.5"),
            (1234.5678, "1235"),
            (12345.0, "1.234e+04"),
            (100.0, "100"),
            (1.234567, "1.235"),
            (0.1, "0.1"),
            (999.95, "1000"),
            (0.0, "0"),
        ] {
            assert_eq!(format_g(v, Some(4)), want, "{v}");
        }
    }

    #[test]
    fn shortest_exponent_form_as_promtool_prints_samples() {
        for (v, want) in [
            (99.0, "9.9E+01"),
            (5.0, "5E+00"),
            (0.0015, "1.5E-03"),
            (0.0, "0E+00"),
            (-2.0, "-2E+00"),
        ] {
            assert_eq!(format_e_shortest(v), want, "{v}");
        }
    }

    #[test]
    fn printf_verbs() {
        let f = |s: &str, a: &[Value]| sprintf(s, a);
        assert_eq!(f("%.2f%%", &[Value::Float(12.346)]), "12.35%");
        assert_eq!(
            f("%s is %d", &[Value::Str("x".into()), Value::Int(3)]),
            "x is 3"
        );
        assert_eq!(
            f(
                "%5.1f|%-4d|%04d",
                &[Value::Float(3.16159), Value::Int(7), Value::Int(42)]
            ),
            "  3.2|7   |0042"
        );
        assert_eq!(
            f("%v %v", &[Value::Float(0.5), Value::Bool(true)]),
            "0.5 true"
        );
        assert_eq!(f("%q", &[Value::Str("a\"b".into())]), "\"a\\\"b\"");
        assert_eq!(f("%e", &[Value::Float(1234.5)]), "1.234500e+03");
        assert_eq!(f("%d", &[Value::Str("x".into())]), "%!d(string=x)");
        assert_eq!(f("%s %s", &[Value::Str("a".into())]), "a %!s(MISSING)");
        assert_eq!(
            f("%s", &[Value::Str("a".into()), Value::Int(1)]),
            "a%!(EXTRA int=1)"
        );
    }
}
