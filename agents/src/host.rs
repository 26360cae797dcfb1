//! Host metrics from `/proc`, named as the OpenTelemetry Collector's
//! hostmetrics receiver names them (`system.cpu.time`,
//! `system.memory.usage`, `system.cpu.load_average.1m`), so dashboards built
//! for it work unchanged.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use sextant_export::Exporter;
use sextant_otlp::string_kv;
use tokio::sync::watch;

/// Clock ticks per second of `/proc/stat` (USER_HZ, 100 on every Linux ABI we run on).
const USER_HZ: f64 = 100.0;

/// Reads host metrics every `interval` and submits them until shutdown.
pub async fn run(
    exporter: Exporter,
    resource: Resource,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let start_ns = now_ns();
    let mut tick = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => break,
        }
        let metrics = read(start_ns, now_ns());
        if metrics.is_empty() {
            continue;
        }
        let req = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(resource.clone()),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "sextant/hostmetrics".to_string(),
                        ..Default::default()
                    }),
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        };
        if let Err(e) = exporter.submit_metrics(req).await {
            tracing::warn!(error = %e, "could not submit host metrics");
        }
    }
}

/// Reads every source that exists on this host; a missing file just omits its metrics.
fn read(start_ns: u64, now: u64) -> Vec<Metric> {
    let mut out = Vec::new();
    if let Ok(text) = std::fs::read_to_string("/proc/stat") {
        out.extend(cpu_time(&text, start_ns, now));
    }
    if let Ok(text) = std::fs::read_to_string("/proc/meminfo") {
        out.extend(memory_usage(&text, now));
    }
    if let Ok(text) = std::fs::read_to_string("/proc/loadavg") {
        out.extend(load_average(&text, now));
    }
    out
}

/// `system.cpu.time{state}` in seconds, summed over CPUs, from the `cpu ` line of `/proc/stat`.
fn cpu_time(stat: &str, start_ns: u64, now: u64) -> Option<Metric> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let states = [
        "user",
        "nice",
        "system",
        "idle",
        "wait",
        "interrupt",
        "softirq",
        "steal",
    ];
    let points = states
        .iter()
        .zip(&fields)
        .map(|(state, ticks)| {
            point(
                vec![string_kv("state", *state)],
                ticks / USER_HZ,
                start_ns,
                now,
            )
        })
        .collect();
    Some(Metric {
        name: "system.cpu.time".to_string(),
        description: "Seconds each logical CPU spent on each mode.".to_string(),
        unit: "s".to_string(),
        data: Some(metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        })),
        ..Default::default()
    })
}

/// `system.memory.usage{state}` in bytes from `/proc/meminfo`.
fn memory_usage(meminfo: &str, now: u64) -> Option<Metric> {
    let kib = |key: &str| -> Option<f64> {
        meminfo
            .lines()
            .find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|v| v * 1024.0)
    };
    let total = kib("MemTotal")?;
    let free = kib("MemFree")?;
    let buffers = kib("Buffers").unwrap_or(0.0);
    let cached = kib("Cached").unwrap_or(0.0);
    let used = (total - free - buffers - cached).max(0.0);
    let points = [
        ("used", used),
        ("free", free),
        ("buffered", buffers),
        ("cached", cached),
    ]
    .into_iter()
    .map(|(state, v)| point(vec![string_kv("state", state)], v, 0, now))
    .collect();
    Some(Metric {
        name: "system.memory.usage".to_string(),
        description: "Bytes of memory in use, by state.".to_string(),
        unit: "By".to_string(),
        data: Some(metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: false,
        })),
        ..Default::default()
    })
}

/// `system.cpu.load_average.{1m,5m,15m}` from `/proc/loadavg`.
fn load_average(loadavg: &str, now: u64) -> Vec<Metric> {
    let values: Vec<f64> = loadavg
        .split_whitespace()
        .take(3)
        .filter_map(|v| v.parse().ok())
        .collect();
    ["1m", "5m", "15m"]
        .iter()
        .zip(values)
        .map(|(window, v)| Metric {
            name: format!("system.cpu.load_average.{window}"),
            description: format!("Average CPU load over {window}."),
            unit: "{thread}".to_string(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![point(Vec::new(), v, 0, now)],
            })),
            ..Default::default()
        })
        .collect()
}

fn point(attributes: Vec<KeyValue>, v: f64, start_ns: u64, now: u64) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: start_ns,
        time_unix_nano: now,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let stat = "cpu  100 0 50 1000 5 0 1 0 0 0\ncpu0 100 0 50 1000 5 0 1 0 0 0\n";
        let m = cpu_time(stat, 1, 2).expect("cpu line");
        let Some(metric::Data::Sum(sum)) = m.data else {
            panic!("sum expected")
        };
        assert_eq!(sum.data_points.len(), 8);
        assert_eq!(
            sum.data_points[0].value,
            Some(number_data_point::Value::AsDouble(1.0))
        );

        let meminfo = "MemTotal:       1000 kB\nMemFree:         100 kB\nBuffers:          50 kB\nCached:          250 kB\n";
        let m = memory_usage(meminfo, 2).expect("meminfo");
        let Some(metric::Data::Sum(sum)) = m.data else {
            panic!("sum expected")
        };
        assert_eq!(
            sum.data_points[0].value,
            Some(number_data_point::Value::AsDouble(600.0 * 1024.0))
        );

        let l = load_average("0.50 0.25 0.10 1/100 42", 2);
        assert_eq!(l.len(), 3);
        assert_eq!(l[2].name, "system.cpu.load_average.15m");
        assert!(memory_usage("garbage", 1).is_none());
    }
}
