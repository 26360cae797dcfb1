//! Human durations in configs (`90s`, `5m`, `15d`, `500ms`), as Prometheus writes them.
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Parses `<number><unit>` with units ms, s, m, h, d, w, y (Prometheus's set).
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("duration {text:?} has no unit (use ms, s, m, h, d, w or y)"))?;
    let (num, unit) = text.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("duration {text:?} must start with a whole number"))?;
    let ms_per = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        "y" => 365 * 86_400_000,
        _ => return Err(format!("duration {text:?} has unknown unit {unit:?}")),
    };
    n.checked_mul(ms_per)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("duration {text:?} is too long"))
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
            ("10", None),
            ("s", None),
            ("5x", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = parse(text).ok().map(|d| d.as_millis() as u64);
            assert_eq!(got, want, "{text:?}");
        }
    }
}
