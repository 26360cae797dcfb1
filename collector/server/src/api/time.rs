//! Time and duration parameters as the Prometheus and Loki APIs take them.

/// Parses a Prometheus API time: float Unix seconds or RFC 3339. Milliseconds.
pub fn parse_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        if !secs.is_finite() || secs.abs() > 9.2e15 {
            return Err(format!("cannot parse {text:?} to a valid timestamp"));
        }
        return Ok((secs * 1000.0).round() as i64);
    }
    rfc3339_ns(text)
        .map(|ns| ns.div_euclid(1_000_000))
        .ok_or_else(|| format!("cannot parse {text:?} to a valid timestamp"))
}

/// Parses a Prometheus API duration (`step`, `timeout`, `lookback_delta`):
/// float seconds or a Prometheus duration such as `1h30m` or `500ms`. Milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        if !secs.is_finite() || secs.abs() > 9.2e12 {
            return Err(format!("cannot parse {text:?} to a valid duration"));
        }
        return Ok((secs * 1000.0).round() as i64);
    }
    let bad = || format!("cannot parse {text:?} to a valid duration");
    let mut total: i64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let ms = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "y" => 31_536_000_000,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Parses a Loki API time: integer nanoseconds, float seconds or RFC 3339. Nanoseconds.
pub fn parse_ns(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if !text.contains('.')
        && !text.contains('-')
        && let Ok(ns) = text.parse::<i64>()
    {
        // Loki treats short integers as seconds, as its own parser does.
        return Ok(if text.len() <= 10 {
            ns.saturating_mul(1_000_000_000)
        } else {
            ns
        });
    }
    if let Ok(secs) = text.parse::<f64>()
        && secs.is_finite()
        && secs.abs() < 9.2e9
    {
        return Ok((secs * 1e9).round() as i64);
    }
    rfc3339_ns(text).ok_or_else(|| format!("cannot parse {text:?} to a valid timestamp"))
}

/// RFC 3339 (`2024-05-01T12:00:00.5Z`, `…+02:00`) to Unix nanoseconds.
fn rfc3339_ns(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, s) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_ns = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = text.get(start..i)?;
        if digits.is_empty() {
            return None;
        }
        let padded: String = digits
            .chars()
            .chain(std::iter::repeat('0'))
            .take(9)
            .collect();
        frac_ns = padded.parse().ok()?;
    }
    let offset_s = match text.get(i..)? {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && &tz[3..4] == ":" => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            sign * (tz[1..3].parse::<i64>().ok()? * 3600 + tz[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    let days = sextant_model::civil::days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_s;
    secs.checked_mul(1_000_000_000)?.checked_add(frac_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_times() {
        let cases = [
            ("1700000000", Some(1_700_000_000_000)),
            ("1700000000.123", Some(1_700_000_000_123)),
            ("2023-11-14T22:13:20Z", Some(1_700_000_000_000)),
            ("2023-11-14T22:13:20.5Z", Some(1_700_000_000_500)),
            ("2023-11-15T00:13:20+02:00", Some(1_700_000_000_000)),
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2023-13-14T22:13:20Z", None),
            ("yesterday", None),
            ("NaN", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_ms(text).ok(), want, "{text}");
        }
    }

    #[test]
    fn parses_prometheus_durations() {
        let cases = [
            ("15", Some(15_000)),
            ("0.5", Some(500)),
            ("15s", Some(15_000)),
            ("1h30m", Some(5_400_000)),
            ("500ms", Some(500)),
            ("1d", Some(86_400_000)),
            ("2w", Some(1_209_600_000)),
            ("", None),
            ("1x", None),
            ("m5", None),
            ("NaN", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration_ms(text).ok(), want, "{text}");
        }
    }

    #[test]
    fn parses_loki_times() {
        assert_eq!(
            parse_ns("1700000000000000000"),
            Ok(1_700_000_000_000_000_000)
        );
        assert_eq!(parse_ns("1700000000"), Ok(1_700_000_000_000_000_000));
        assert_eq!(parse_ns("1700000000.5"), Ok(1_700_000_000_500_000_000));
        assert_eq!(
            parse_ns("2023-11-14T22:13:20Z"),
            Ok(1_700_000_000_000_000_000)
        );
        assert!(parse_ns("soon").is_err());
    }
}
