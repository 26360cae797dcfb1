//! Serde helper for human-readable durations such as `"500ms"`, `"30s"`, `"5m"`.
//!
//! Configuration files are written by people; bare millisecond integers are
//! error-prone, so durations are strings with a unit.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Parses `<integer><unit>` with unit `ms`, `s`, `m` or `h` (e.g. `"1500ms"`, `"2m"`).
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("duration {text:?} needs a unit (ms, s, m, h)"))?;
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("duration {text:?} must start with an integer"))?;
    let millis_per_unit = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        other => return Err(format!("unknown duration unit {other:?} in {text:?} (use ms, s, m, h)")),
    };
    value
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("duration {text:?} is too large"))
}

/// Deserializes a duration string (see [`parse`]).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// Serializes a duration as whole milliseconds with the `ms` unit, so it round-trips.
#[allow(dead_code)] // kept so `#[serde(with = ...)]` works if the config becomes Serialize
pub(crate) fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{}ms", value.as_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_rejects_garbage() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse("500").is_err());
        assert!(parse("s").is_err());
        assert!(parse("5 days").is_err());
        assert!(parse("99999999999999999999h").is_err());
    }
}
