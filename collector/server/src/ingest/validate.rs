//! Per-item validation before the store sees a request: label counts and
//! lengths (Mimir's `max_label_names_per_series`, `max_label_name_length`,
//! `max_label_value_length`) and time bounds (Mimir's and Loki's
//! `creation_grace_period` ahead, and the retention window behind).
//!
//! An item that fails is refused alone with an [`Invalid`] that names it
//! ([`describe`], bounded) and the limit; the rest of its request goes on.
//! A sample from the future would otherwise refuse every current sample of
//! its series as out of order, and one older than retention would be
//! dropped at the next maintenance after being acknowledged.
//!
//! **Invariant:** every reason is bounded in size, whatever the item holds.

use std::time::Duration;

use sextant_model::Labels;

use crate::config::Limits;

/// Longest label name or value quoted in a reason, in characters.
const QUOTE_CHARS: usize = 40;
/// Labels quoted when naming a series, after its metric name.
const QUOTE_LABELS: usize = 3;

/// The checks, made once from the collector's limits and retention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    max_labels: usize,
    max_name_len: usize,
    max_value_len: usize,
    grace_ms: i64,
    retention_ms: i64,
}

/// Why an item was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// More labels than `max_label_names_per_series`.
    #[error("has {count} labels, limit max_label_names_per_series={max}")]
    TooManyLabels {
        /// Labels it has.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A label name longer than `max_label_name_length`.
    #[error("label name {name:?} is {len} bytes, limit max_label_name_length={max}")]
    NameTooLong {
        /// The name, truncated.
        name: String,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A label value longer than `max_label_value_length`.
    #[error("value of label {name:?} is {len} bytes, limit max_label_value_length={max}")]
    ValueTooLong {
        /// The label's name, truncated.
        name: String,
        /// The value's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Later than now + `creation_grace_period`.
    #[error(
        "timestamp {t_ms} ms is too far in the future (after {max_ms} ms: now + creation_grace_period)"
    )]
    TooNew {
        /// The item's time.
        t_ms: i64,
        /// The latest accepted.
        max_ms: i64,
    },
    /// Older than now − `retention`.
    #[error("timestamp {t_ms} ms is too old (before {min_ms} ms: now - retention)")]
    TooOld {
        /// The item's time.
        t_ms: i64,
        /// The earliest accepted.
        min_ms: i64,
    },
}

impl Rules {
    /// The rules of `limits`, with samples older than `retention` refused.
    pub fn new(limits: &Limits, retention: Duration) -> Rules {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Rules {
            max_labels: limits.max_label_names_per_series,
            max_name_len: limits.max_label_name_length,
            max_value_len: limits.max_label_value_length,
            grace_ms: ms(limits.creation_grace_period),
            retention_ms: ms(retention),
        }
    }

    /// Checks a series' or stream's labels.
    pub fn labels(&self, labels: &Labels) -> Result<(), Invalid> {
        let pairs = labels.pairs();
        if pairs.len() > self.max_labels {
            return Err(Invalid::TooManyLabels {
                count: pairs.len(),
                max: self.max_labels,
            });
        }
        for (k, v) in pairs {
            if k.len() > self.max_name_len {
                return Err(Invalid::NameTooLong {
                    name: truncate(k),
                    len: k.len(),
                    max: self.max_name_len,
                });
            }
            if v.len() > self.max_value_len {
                return Err(Invalid::ValueTooLong {
                    name: truncate(k),
                    len: v.len(),
                    max: self.max_value_len,
                });
            }
        }
        Ok(())
    }

    /// Checks a timestamp (ms since the epoch) against `now_ms`.
    pub fn time(&self, t_ms: i64, now_ms: i64) -> Result<(), Invalid> {
        let max_ms = now_ms.saturating_add(self.grace_ms);
        if t_ms > max_ms {
            return Err(Invalid::TooNew { t_ms, max_ms });
        }
        let min_ms = now_ms.saturating_sub(self.retention_ms);
        if t_ms < min_ms {
            return Err(Invalid::TooOld { t_ms, min_ms });
        }
        Ok(())
    }
}

/// Names a series or stream in a bounded way: the metric name and the first
/// few labels, each truncated, and how many more there are.
pub fn describe(labels: &Labels) -> String {
    let name = labels.get("__name__").unwrap_or("");
    let rest: Vec<&(String, String)> = labels
        .pairs()
        .iter()
        .filter(|(k, _)| k != "__name__")
        .collect();
    let mut out = truncate(name);
    out.push('{');
    for (i, (k, v)) in rest.iter().take(QUOTE_LABELS).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!("{}={:?}", truncate(k), truncate(v)));
    }
    if rest.len() > QUOTE_LABELS {
        out.push_str(&format!(", … {} more", rest.len() - QUOTE_LABELS));
    }
    out.push('}');
    out
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::labels;

    fn rules() -> Rules {
        Rules::new(
            &Limits {
                max_label_names_per_series: 3,
                max_label_name_length: 8,
                max_label_value_length: 10,
                creation_grace_period: Duration::from_secs(600),
                ..Limits::default()
            },
            Duration::from_secs(3600),
        )
    }

    #[test]
    fn label_table() {
        let long_name = "n".repeat(9);
        let long_value = "v".repeat(11);
        let table: Vec<(Labels, Result<(), Invalid>)> = vec![
            (labels(&[("__name__", "up"), ("job", "a")]), Ok(())),
            (
                labels(&[("__name__", "up"), ("a", "1"), ("b", "2")]),
                Ok(()),
            ),
            (
                labels(&[("__name__", "up"), ("a", "1"), ("b", "2"), ("c", "3")]),
                Err(Invalid::TooManyLabels { count: 4, max: 3 }),
            ),
            (labels(&[("__name__", "up"), ("nnnnnnnn", "1")]), Ok(())),
            (
                labels(&[("__name__", "up"), (&long_name, "1")]),
                Err(Invalid::NameTooLong {
                    name: long_name.clone(),
                    len: 9,
                    max: 8,
                }),
            ),
            (
                labels(&[("__name__", "up"), ("a", &"v".repeat(10))]),
                Ok(()),
            ),
            (
                labels(&[("__name__", "up"), ("a", &long_value)]),
                Err(Invalid::ValueTooLong {
                    name: "a".into(),
                    len: 11,
                    max: 10,
                }),
            ),
            (
                labels(&[("__name__", &long_value)]),
                Err(Invalid::ValueTooLong {
                    name: "__name__".into(),
                    len: 11,
                    max: 10,
                }),
            ),
        ];
        for (l, want) in table {
            assert_eq!(rules().labels(&l), want, "{l}");
        }
    }

    #[test]
    fn time_table() {
        let now = 1_000_000_000;
        let r = rules();
        let (grace, retention) = (600_000, 3_600_000);
        let table = [
            (now, Ok(())),
            (now + grace, Ok(())),
            (
                now + grace + 1,
                Err(Invalid::TooNew {
                    t_ms: now + grace + 1,
                    max_ms: now + grace,
                }),
            ),
            (
                i64::MAX,
                Err(Invalid::TooNew {
                    t_ms: i64::MAX,
                    max_ms: now + grace,
                }),
            ),
            (now - retention, Ok(())),
            (
                now - retention - 1,
                Err(Invalid::TooOld {
                    t_ms: now - retention - 1,
                    min_ms: now - retention,
                }),
            ),
            (
                i64::MIN,
                Err(Invalid::TooOld {
                    t_ms: i64::MIN,
                    min_ms: now - retention,
                }),
            ),
        ];
        for (t, want) in table {
            assert_eq!(r.time(t, now), want, "t={t}");
        }
        // Saturating: huge limits never overflow.
        let open = Rules::new(
            &Limits {
                creation_grace_period: Duration::MAX,
                ..Limits::default()
            },
            Duration::MAX,
        );
        assert_eq!(open.time(i64::MAX, now), Ok(()));
        assert_eq!(open.time(-now, now), Ok(()));
    }

    #[test]
    fn reasons_stay_bounded() {
        let huge = "x".repeat(1 << 20);
        let mut pairs = vec![("__name__".to_string(), huge.clone())];
        // Huge values only where the description shows them: 10,000 of them
        // would hold 10 GiB for a test about what is printed.
        pairs.extend((0..10_000).map(|i| {
            let value = if i < 3 { huge.clone() } else { "v".to_string() };
            (format!("l{i:05}"), value)
        }));
        let l = Labels::from_pairs(pairs);
        let d = describe(&l);
        assert!(d.len() < 400, "{} bytes", d.len());
        assert!(d.ends_with(", … 9997 more}"), "{d}");
        let e = rules().labels(&l).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("has 10001 labels, limit max_label_names_per_series=3")
        );
        let name = Labels::from_pairs(vec![(huge.clone(), "1".into())]);
        assert!(rules().labels(&name).err().map(|e| e.to_string().len()) < Some(200));
        assert_eq!(
            describe(&labels(&[("__name__", "up"), ("job", "a")])),
            r#"up{job="a"}"#
        );
    }
}
