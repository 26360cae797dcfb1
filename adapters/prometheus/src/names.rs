//! Metric and label name translation, OpenTelemetry → Prometheus.
//!
//! Mirrors Prometheus's own OTLP receiver (`prometheus/otlptranslator`,
//! strategy `UnderscoreEscapingWithSuffixes`, the default) so that a metric
//! sent to Sextant over OTLP gets the very name it would get in Prometheus:
//! dashboards and alerts written against one work against the other.

/// What kind of Prometheus metric an OTLP metric becomes; the suffixes a name
/// gets (`_total`, `_ratio`) depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// OTLP Gauge.
    Gauge,
    /// Monotonic cumulative Sum: a Prometheus counter, named `..._total`.
    MonotonicCounter,
    /// Non-monotonic Sum: exposed as a gauge, but does not get `_ratio`.
    NonMonotonicCounter,
    /// Explicit-bucket histogram.
    Histogram,
    /// Exponential histogram (named like any histogram, even though we
    /// cannot map its points).
    ExponentialHistogram,
    /// Summary.
    Summary,
}

/// UCUM unit → Prometheus unit word, as the otlptranslator `unitMap` has it.
fn main_unit(unit: &str) -> &str {
    match unit {
        // Time
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        // Bytes
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        // The spec-correct word; otlptranslator's legacy table says "tibibytes".
        "TiBy" => "tebibytes",
        // UCUM's prefix is `k`; otlptranslator historically matched `KBy`.
        "KBy" | "kBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        // SI
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        // Misc
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

/// The denominator of `x/y` units is singular: `By/s` → `bytes_per_second`.
fn per_unit(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// Characters a legacy Prometheus metric name may hold besides `_`.
fn is_metric_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ':'
}

/// Splits a UCUM unit into its (main, per) suffix words, e.g. `By/s` →
/// (`bytes`, `per_second`). Annotations (`{requests}`) contribute nothing.
fn unit_suffixes(unit: &str) -> (String, String) {
    let mut parts = unit.splitn(2, '/');
    let main = parts.next().unwrap_or("").trim();
    let main = if main.is_empty() || main.contains(['{', '}']) {
        String::new()
    } else {
        main_unit(main).to_string()
    };
    let per = match parts.next() {
        Some(p) if !p.trim().is_empty() && !p.contains(['{', '}']) => {
            format!("per_{}", per_unit(p.trim()))
        }
        _ => String::new(),
    };
    (clean_up_unit(&main), clean_up_unit(&per))
}

/// Makes a unit word name-safe: invalid characters → `_`, runs of `_`
/// collapsed, no leading `_`.
fn clean_up_unit(unit: &str) -> String {
    let mapped: String = unit
        .chars()
        .map(|c| if is_metric_char(c) { c } else { '_' })
        .collect();
    let collapsed = collapse_underscores(&mapped);
    collapsed
        .strip_prefix('_')
        .unwrap_or(&collapsed)
        .to_string()
}

fn collapse_underscores(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    out
}

/// Translates an OTLP metric name + unit into the Prometheus metric family
/// name (before `_bucket`/`_sum`/`_count`), e.g. `http.server.duration` in
/// `s` as a histogram → `http_server_duration_seconds`.
///
/// Errors (with a reason) when nothing valid is left, e.g. for `"@#$"`;
/// Prometheus drops such metrics too.
pub fn metric_name(name: &str, unit: &str, kind: MetricKind) -> Result<String, String> {
    // Splitting on every non-name character also collapses runs of `_`.
    let mut tokens: Vec<String> = name
        .split(|c: char| !is_metric_char(c))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();

    let (mut main, mut per) = unit_suffixes(unit);
    // Already-present unit words are not repeated: `duration_seconds` in `s`.
    if tokens.contains(&main) {
        main.clear();
    }
    if per == "per_" {
        per.clear();
    } else {
        per = per.strip_suffix('_').unwrap_or(&per).to_string();
        if tokens.contains(&per) {
            per.clear();
        }
    }
    if !per.is_empty() {
        main = main.strip_suffix('_').unwrap_or(&main).to_string();
    }
    if !main.is_empty() {
        tokens.push(main);
    }
    if !per.is_empty() {
        tokens.push(per);
    }

    if kind == MetricKind::MonotonicCounter {
        tokens.retain(|t| t != "total");
        tokens.push("total".to_string());
    }
    // Only true gauges in unit `1` are ratios: some receivers misuse `1` for
    // counts of things, so Prometheus does not do this for counters.
    if unit == "1" && kind == MetricKind::Gauge {
        tokens.retain(|t| t != "ratio");
        tokens.push("ratio".to_string());
    }

    let mut out = tokens.join("_");
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if out.is_empty() {
        return Err(format!("metric name {name:?} normalizes to an empty name"));
    }
    if out != name && out.chars().all(|c| c == '_') {
        return Err(format!(
            "metric name {name:?} normalizes to invalid name {out:?}"
        ));
    }
    Ok(out)
}

/// Translates an attribute key into a Prometheus label name: invalid
/// characters → `_`, a leading digit gets `key_`, a single leading `_` gets
/// `key` (a double `__` is left alone: reserved names stay reserved).
///
/// Errors when the key is empty or becomes nothing but underscores.
pub fn label_name(key: &str) -> Result<String, String> {
    if key.is_empty() {
        return Err("empty attribute key".to_string());
    }
    let mut out: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "key_");
    } else if out.starts_with('_') && !out.starts_with("__") {
        out.insert_str(0, "key");
    }
    if out != key && out.chars().all(|c| c == '_') {
        return Err(format!(
            "attribute key {key:?} normalizes to invalid label name {out:?}"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::MetricKind::*;
    use super::*;

    #[test]
    fn metric_names() {
        let cases: &[(&str, &str, MetricKind, &str)] = &[
            (
                "http.server.request.duration",
                "s",
                Histogram,
                "http_server_request_duration_seconds",
            ),
            ("requests", "", MonotonicCounter, "requests_total"),
            ("requests_total", "", MonotonicCounter, "requests_total"),
            (
                "requests.total.count",
                "",
                MonotonicCounter,
                "requests_count_total",
            ),
            ("cpu_usage", "1", Gauge, "cpu_usage_ratio"),
            ("cpu_usage_ratio", "1", Gauge, "cpu_usage_ratio"),
            ("items", "1", MonotonicCounter, "items_total"),
            ("queue.size", "1", NonMonotonicCounter, "queue_size"),
            ("response_time", "ms", Gauge, "response_time_milliseconds"),
            ("memory_usage", "By", Gauge, "memory_usage_bytes"),
            ("heap", "KiBy", Gauge, "heap_kibibytes"),
            ("requests", "1/s", Gauge, "requests_per_second"),
            ("throughput", "By/s", Gauge, "throughput_bytes_per_second"),
            ("rx", "By/s", MonotonicCounter, "rx_bytes_per_second_total"),
            (
                "custom_metric",
                "custom_unit",
                Gauge,
                "custom_metric_custom_unit",
            ),
            ("custom_metric", "{custom}", Gauge, "custom_metric"),
            (
                "http.requests",
                "{request}",
                MonotonicCounter,
                "http_requests_total",
            ),
            ("custom_metric", "By/{custom}", Gauge, "custom_metric_bytes"),
            ("response_time_seconds", "s", Gauge, "response_time_seconds"),
            (
                "cpu_seconds_total",
                "s",
                MonotonicCounter,
                "cpu_seconds_total",
            ),
            ("cpu.time", "s", MonotonicCounter, "cpu_time_seconds_total"),
            (
                "metric@with#special$chars",
                "",
                Gauge,
                "metric_with_special_chars",
            ),
            (
                "metric__with__multiple__underscores",
                "unit__multiple__underscores",
                Gauge,
                "metric_with_multiple_underscores_unit_multiple_underscores",
            ),
            (
                "custom_metric",
                "unit@with#special/chars",
                Gauge,
                "custom_metric_unit_with_special_per_chars",
            ),
            ("123_requests", "", MonotonicCounter, "_123_requests_total"),
            ("uptime", "d", Gauge, "uptime_days"),
            ("temp", "Cel", Gauge, "temp_celsius"),
            ("disk.usage", "%", Gauge, "disk_usage_percent"),
            (
                "system.cpu.utilization",
                "1",
                Gauge,
                "system_cpu_utilization_ratio",
            ),
            ("ns:metric", "", Gauge, "ns:metric"),
            (
                "request_size",
                "By",
                ExponentialHistogram,
                "request_size_bytes",
            ),
            ("rpc.latency", "ms", Summary, "rpc_latency_milliseconds"),
            ("speed", "m/s", Gauge, "speed_meters_per_second"),
            ("weird", " s ", Gauge, "weird_seconds"),
        ];
        for (name, unit, kind, want) in cases {
            assert_eq!(
                metric_name(name, unit, *kind).as_deref(),
                Ok(*want),
                "metric_name({name:?}, {unit:?}, {kind:?})"
            );
        }
    }

    #[test]
    fn metric_names_that_normalize_to_nothing_are_errors() {
        for name in ["", "@#$%", "..."] {
            assert!(metric_name(name, "", Gauge).is_err(), "{name:?}");
        }
    }

    #[test]
    fn label_names() {
        let cases: &[(&str, Result<&str, ()>)] = &[
            ("http.method", Ok("http_method")),
            ("service.name", Ok("service_name")),
            ("valid_name", Ok("valid_name")),
            ("123invalid", Ok("key_123invalid")),
            ("_private", Ok("key_private")),
            ("__reserved__", Ok("__reserved__")),
            ("k8s.pod-name", Ok("k8s_pod_name")),
            // One non-ASCII char is one `_`; a single leading `_` gets `key`.
            ("é", Ok("key_")),
            ("ümlaut", Ok("key_mlaut")),
            ("", Err(())),
            ("...", Err(())),
        ];
        for (key, want) in cases {
            assert_eq!(label_name(key).as_deref().map_err(|_| ()), *want, "{key:?}");
        }
    }
}
