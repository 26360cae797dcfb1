//! Human durations in configs (`90s`, `5m`, `15d`, `500ms`), as Prometheus writes them.
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Parses Prometheus's duration grammar (`model.ParseDuration`): `0`, or
/// `<number><unit>` terms with units y, w, d, h, m, s, ms, each at most once
/// and largest first (`1h30m`, `90s`, `500ms`), so rule files and configs
/// copied from Prometheus read the same here.
pub fn parse(text: &str) -> Result<Duration, String> {
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1_000),
    ];
    // Prometheus's order of terms, which differs from UNITS' matching order
    // (`ms` must be tried before `m`).
    const RANK: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err("empty duration (use ms, s, m, h, d, w or y, e.g. 5m)".into());
    }
    let mut rest = text;
    let mut total: u64 = 0;
    let mut last_rank: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("duration {text:?} has no unit (use ms, s, m, h, d, w or y)"))?;
        if digits == 0 {
            return Err(format!("duration {text:?} must start with a whole number"));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("duration {text:?} is too long"))?;
        rest = &rest[digits..];
        let (unit, ms_per) = UNITS
            .iter()
            .find(|(u, _)| rest.starts_with(u))
            .ok_or_else(|| {
                let unit: String = rest.chars().take_while(|c| !c.is_ascii_digit()).collect();
                format!("duration {text:?} has unknown unit {unit:?}")
            })?;
        rest = &rest[unit.len()..];
        let rank = RANK.iter().position(|r| r == unit).unwrap_or(0);
        if last_rank.is_some_and(|last| rank <= last) {
            return Err(format!(
                "duration {text:?} must give each unit once, largest first (e.g. 1h30m)"
            ));
        }
        last_rank = Some(rank);
        total = n
            .checked_mul(*ms_per)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| format!("duration {text:?} is too long"))?;
    }
    Ok(Duration::from_millis(total))
}

/// Serde adapter for `#[serde(with = "duration")]`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// A duration read as [`deserialize`] reads it, for hand-written map
/// visitors (`map.next_value::<duration::Value>()?.0`), where a
/// `#[serde(with)]` attribute has no field to sit on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value(pub Duration);

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d).map(Value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_units() {
        let cases = [
            ("500ms", Some(500)),
            ("90s", Some(90_000)),
            ("5m", Some(300_000)),
            ("2h", Some(7_200_000)),
            ("15d", Some(15 * 86_400_000)),
            ("1w", Some(604_800_000)),
            ("0", Some(0)),
            ("1h30m", Some(5_400_000)),
            ("1m500ms", Some(60_500)),
            ("2d12h", Some(60 * 3_600_000)),
            ("10", None),
            ("s", None),
            ("5x", None),
            ("", None),
            ("30m1h", None),
            ("5m5m", None),
            ("5m ", Some(300_000)),
            ("-5m", None),
            ("1.5h", None),
            ("99999999999999999999s", None),
            ("9999999999999y", None),
        ];
        for (text, want) in cases {
            let got = parse(text).ok().map(|d| d.as_millis() as u64);
            assert_eq!(got, want, "{text:?}");
        }
    }
}
