//! Series → the Prometheus text exposition format, for `/metrics` endpoints
//! that serve data the process did not record in its own registry (a
//! sidecar serving its latest health report, for one).

use std::fmt::Write as _;

use sextant_model::Series;

use super::values::go_format_f;

/// Renders the newest sample of each series, grouped by metric name, with a
/// `# TYPE` line: `counter` for `_total` names, `gauge` otherwise (classic
/// histogram and summary parts are left untyped, as their family is unknown).
pub fn to_text(series: &[Series]) -> String {
    let mut rows: Vec<(&str, String, f64)> = series
        .iter()
        .filter_map(|s| {
            let name = s.name()?;
            let v = s.samples.last()?.v;
            Some((name, labels_text(s), v))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.cmp(&b.1)));
    let mut out = String::new();
    let mut current = "";
    for (name, labels, v) in rows {
        if name != current {
            current = name;
            let kind = if name.ends_with("_total") {
                Some("counter")
            } else if ["_bucket", "_sum", "_count"]
                .iter()
                .any(|s| name.ends_with(s))
            {
                None
            } else {
                Some("gauge")
            };
            if let Some(kind) = kind {
                let _ = writeln!(out, "# TYPE {name} {kind}");
            }
        }
        let _ = writeln!(out, "{name}{labels} {}", go_format_f(v));
    }
    out
}

/// `{a="x",b="y"}` without `__name__`, values escaped as the format requires.
fn labels_text(s: &Series) -> String {
    let pairs: Vec<&(String, String)> = s
        .labels
        .pairs()
        .iter()
        .filter(|(k, _)| k != "__name__")
        .collect();
    if pairs.is_empty() {
        return String::new();
    }
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let escaped = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::{Labels, Sample};

    fn series(labels: &[(&str, &str)], v: f64) -> Series {
        Series {
            labels: Labels::from_pairs(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            samples: vec![Sample { t: 1, v: 0.0 }, Sample { t: 2, v }],
        }
    }

    #[test]
    fn renders_families_with_types_and_escapes() {
        let text = to_text(&[
            series(&[("__name__", "up")], 1.0),
            series(
                &[("__name__", "mysql_queries_total"), ("db", "a\"b\\c\nd")],
                5.0,
            ),
            series(&[("__name__", "lag_seconds"), ("channel", "x")], f64::NAN),
            series(&[("__name__", "req_bucket"), ("le", "+Inf")], 3.0),
        ]);
        assert_eq!(
            text,
            "# TYPE lag_seconds gauge\nlag_seconds{channel=\"x\"} NaN\n\
             # TYPE mysql_queries_total counter\nmysql_queries_total{db=\"a\\\"b\\\\c\\nd\"} 5\n\
             req_bucket{le=\"+Inf\"} 3\n\
             # TYPE up gauge\nup 1\n"
        );
    }
}
