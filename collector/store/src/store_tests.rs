//! End-to-end tests of the store's appends, queries and retention, plus the
//! helpers shared with `recovery_tests`.

use std::error::Error;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::cardinality::SeriesLimit;
use sextant_model::{MatchOp, Sample};

pub(super) type R = Result<(), Box<dyn Error>>;

pub(super) const STALE: u64 = 0x7ff0000000000002;

pub(super) fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

pub(super) fn m(name: &str, op: MatchOp, value: &str) -> Result<Matcher, regex::Error> {
    Matcher::new(name, op, value)
}

pub(super) fn series(name: &str, job: &str, from: i64, n: i64) -> Series {
    Series {
        labels: l(&[("__name__", name), ("job", job)]),
        samples: (0..n)
            .map(|i| Sample {
                t: from + i * 15_000,
                v: (i * 7) as f64 / 10.0,
            })
            .collect(),
    }
}

pub(super) fn log(t: i64, app: &str, line: &str) -> LogEntry {
    LogEntry {
        t_ns: t,
        stream: l(&[("app", app)]),
        line: line.into(),
        metadata: l(&[("trace_id", "ab")]),
    }
}

pub(super) fn span(id: u8, t: i64, p: u8) -> SpanEntry {
    SpanEntry {
        trace_id: [id; 16],
        t_ns: t,
        payload: vec![p; 10],
    }
}

/// Series rendered as text with (t, value bits) pairs, for exact comparison.
pub(super) type Dump = Vec<(String, Vec<(i64, u64)>)>;

pub(super) fn everything(s: &Store) -> Result<Dump, regex::Error> {
    Ok(
        s.select(&[m("__name__", MatchOp::Re, ".*")?], i64::MIN, i64::MAX)
            .into_iter()
            .map(|ss| {
                (
                    ss.labels.to_string(),
                    ss.samples.iter().map(|x| (x.t, x.v.to_bits())).collect(),
                )
            })
            .collect(),
    )
}

pub(super) fn all_logs(s: &Store) -> Result<Vec<LogEntry>, regex::Error> {
    Ok(s.logs(
        &[m("app", MatchOp::Re, ".+")?],
        i64::MIN,
        i64::MAX,
        usize::MAX,
        false,
    ))
}

pub(super) fn wal_segments(dir: &Path) -> Result<Vec<std::path::PathBuf>, StoreError> {
    Ok(wal::list_segments(&dir.join("wal"))?
        .into_values()
        .collect())
}

pub(super) fn fill(s: &Store, from: i64) -> R {
    let mut stale = series("up", "a", from, 3);
    stale.samples.push(Sample {
        t: from + 45_000,
        v: f64::from_bits(STALE),
    });
    s.append_samples(&[
        series("cpu", "a", from, 300),
        series("cpu", "b", from, 10),
        stale,
    ])?;
    s.append_logs(&[
        log(from + 2, "api", "two"),
        log(from + 1, "api", "one"),
        log(from + 1, "db", "x"),
    ])?;
    s.append_spans(&[span(1, from, 1), span(2, from, 2), span(1, from + 1, 3)])?;
    Ok(())
}

#[test]
fn out_of_order_and_duplicates_are_counted() -> R {
    let dir = tempfile::tempdir()?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    let lab = l(&[("__name__", "x")]);
    let mk = |v: &[(i64, f64)]| Series {
        labels: lab.clone(),
        samples: v.iter().map(|&(t, v)| Sample { t, v }).collect(),
    };
    let r = s.append_samples(&[mk(&[(10, 1.0), (20, 2.0)])])?;
    assert_eq!((r.samples_appended, r.series_created), (2, 1));
    let r = s.append_samples(&[
        mk(&[(20, 2.0), (20, 3.0), (5, 1.0), (30, 3.0)]),
        mk(&[(30, 3.0), (40, 4.0)]),
    ])?;
    assert_eq!(
        (
            r.samples_appended,
            r.samples_duplicate,
            r.samples_out_of_order,
            r.series_created
        ),
        (2, 2, 2, 0)
    );
    assert_eq!(s.select(&[], 0, 100)[0].samples.len(), 4);
    Ok(())
}

#[test]
fn invalid_items_are_refused_alone_and_named() -> R {
    let dir = tempfile::tempdir()?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    let big = "x".repeat(crate::config::MAX_LABEL_BYTES + 1);
    let bad = Series {
        labels: l(&[("__name__", "bad"), ("a", &big)]),
        samples: vec![Sample { t: 1, v: 1.0 }],
    };
    let many: Vec<(String, String)> = (0..=crate::config::MAX_LABEL_PAIRS)
        .map(|i| (format!("l{i}"), "v".to_string()))
        .collect();
    let wide = Series {
        labels: Labels::from_pairs(many),
        samples: vec![Sample { t: 1, v: 1.0 }],
    };
    let r = s.append_samples(&[bad, series("ok", "a", 0, 1), wide])?;
    assert_eq!(r.samples_appended, 1);
    let refused: Vec<usize> = r.refused.iter().map(|x| x.index).collect();
    assert_eq!(refused, [0, 2]);
    assert!(
        matches!(&r.refused[0].reason, Refusal::Invalid(w) if w.contains("exceeds 65536 bytes")),
        "{:?}",
        r.refused
    );
    assert!(
        matches!(&r.refused[1].reason, Refusal::Invalid(w) if w.contains("1025 labels")),
        "{:?}",
        r.refused
    );
    assert_eq!(everything(&s)?.len(), 1);

    let mut e = log(1, "a", "x");
    e.line = "y".repeat(crate::config::MAX_LOG_LINE_BYTES + 1);
    let r = s.append_logs(&[log(2, "a", "kept"), e])?;
    assert_eq!((r.appended, r.refused.len()), (1, 1));
    assert_eq!(r.refused[0].index, 1);
    assert_eq!(all_logs(&s)?.len(), 1);

    let fat = SpanEntry {
        payload: vec![0; crate::config::MAX_SPAN_PAYLOAD_BYTES + 1],
        ..span(9, 1, 1)
    };
    let r = s.append_spans(&[fat, span(1, 1, 1)])?;
    assert_eq!((r.appended, r.refused.len()), (1, 1));
    assert_eq!(s.trace(&[9; 16]).len(), 0);
    assert_eq!(s.trace(&[1; 16]).len(), 1);
    Ok(())
}

fn numbered(job: &str, i: usize, t: i64) -> Series {
    Series {
        labels: l(&[("__name__", "m"), ("job", job), ("i", &i.to_string())]),
        samples: vec![Sample { t, v: 1.0 }],
    }
}

#[test]
fn series_limits_refuse_new_series_only() -> R {
    let dir = tempfile::tempdir()?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    let limits = SeriesLimits {
        max_series: 5,
        max_series_per_source: 3,
    };
    let a: Vec<Series> = (0..4).map(|i| numbered("a", i, 10)).collect();
    let r = s.append_samples_within(&a, limits)?;
    assert_eq!((r.series_created, r.samples_appended), (3, 3));
    assert_eq!(
        r.refused,
        [Refused {
            index: 3,
            reason: Refusal::SeriesLimit {
                limit: SeriesLimit::PerSource,
                source: "a".into(),
                max: 3
            }
        }]
    );
    let b: Vec<Series> = (0..3).map(|i| numbered("b", i, 10)).collect();
    let r = s.append_samples_within(&b, limits)?;
    assert_eq!(r.series_created, 2);
    assert!(matches!(
        r.refused[..],
        [Refused {
            index: 2,
            reason: Refusal::SeriesLimit {
                limit: SeriesLimit::Global,
                ..
            }
        }]
    ));
    // Full, yet every existing series still takes samples.
    let again: Vec<Series> = (0..3)
        .map(|i| numbered("a", i, 20))
        .chain((0..2).map(|i| numbered("b", i, 20)))
        .collect();
    let r = s.append_samples_within(&again, limits)?;
    assert_eq!((r.samples_appended, r.refused.len()), (5, 0));
    Ok(())
}

fn svc_log(t: i64, service: &str, i: usize) -> LogEntry {
    LogEntry {
        t_ns: t,
        stream: l(&[("service_name", service), ("i", &i.to_string())]),
        line: format!("line {i}"),
        metadata: Labels::default(),
    }
}

#[test]
fn stream_limits_refuse_lines_of_new_streams_only_and_survive_restart() -> R {
    let dir = tempfile::tempdir()?;
    let limits = StreamLimits {
        max_streams: 3,
        max_streams_per_source: 2,
    };
    let refusal = |index, limit, source: &str, max| Refused {
        index,
        reason: Refusal::SeriesLimit {
            limit,
            source: source.into(),
            max,
        },
    };
    {
        let s = Store::open(dir.path(), StoreConfig::default())?;
        // Two lines of a new stream are decided together; an invalid line
        // (index 1) keeps its own reason and does not shift the indices.
        let mut bad = svc_log(5, "a", 9);
        bad.line = String::new();
        bad.stream = l(&[("", "x")]);
        let batch = [
            svc_log(1, "a", 0),
            bad,
            svc_log(2, "a", 1),
            svc_log(3, "a", 2),
            svc_log(4, "a", 2),
        ];
        let r = s.append_logs_within(&batch, limits)?;
        assert_eq!(r.appended, 2);
        assert!(matches!(
            r.refused[0],
            Refused {
                index: 1,
                reason: Refusal::Invalid(_)
            }
        ));
        assert_eq!(
            r.refused[1..],
            [
                refusal(3, SeriesLimit::StreamsPerSource, "a", 2),
                refusal(4, SeriesLimit::StreamsPerSource, "a", 2)
            ]
        );
        assert_eq!(
            r.refused[1].reason.to_string(),
            r#"new log stream refused: service_name "a" holds max_log_streams_per_source=2 streams"#
        );
        let r = s.append_logs_within(&[svc_log(5, "b", 0), svc_log(6, "b", 1)], limits)?;
        assert_eq!(r.refused, [refusal(1, SeriesLimit::Streams, "b", 3)]);
    }
    // Reopened from the WAL: still full, yet every existing stream takes lines.
    let s = Store::open(dir.path(), StoreConfig::default())?;
    let r = s.append_logs_within(&[svc_log(7, "c", 0)], limits)?;
    assert_eq!(r.refused, [refusal(0, SeriesLimit::Streams, "c", 3)]);
    let again = [svc_log(8, "a", 0), svc_log(9, "a", 1), svc_log(10, "b", 0)];
    let r = s.append_logs_within(&again, limits)?;
    assert_eq!((r.appended, r.refused.len()), (3, 0));
    let stored = s.logs(
        &[m("service_name", MatchOp::Re, ".+")?],
        i64::MIN,
        i64::MAX,
        usize::MAX,
        false,
    );
    assert_eq!(stored.len(), 6);
    Ok(())
}

#[test]
fn series_counts_survive_restart_and_free_with_retention() -> R {
    let dir = tempfile::tempdir()?;
    let limits = SeriesLimits {
        max_series: 3,
        max_series_per_source: 3,
    };
    let day = 24 * 3600 * 1000;
    let now = 100 * day;
    {
        let s = Store::open(dir.path(), StoreConfig::default())?;
        // One old series, two current ones: the store is full.
        s.append_samples_within(&[numbered("a", 0, now - 20 * day)], limits)?;
        let r = s.append_samples_within(
            &[
                numbered("a", 1, now),
                numbered("a", 2, now),
                numbered("a", 3, now),
            ],
            limits,
        )?;
        assert_eq!(r.refused.len(), 1);
    }
    // Recovered from the WAL, the three series still count.
    let s = Store::open(dir.path(), StoreConfig::default())?;
    let r = s.append_samples_within(&[numbered("a", 3, now)], limits)?;
    assert_eq!((r.series_created, r.refused.len()), (0, 1));
    // Retention drops the old series and frees its slot.
    assert_eq!(s.maintain(now)?.series_dropped, 1);
    let r = s.append_samples_within(&[numbered("a", 3, now)], limits)?;
    assert_eq!((r.series_created, r.refused.len()), (1, 0));
    Ok(())
}

#[test]
fn maintenance_drops_the_future_so_the_series_takes_current_data() -> R {
    let dir = tempfile::tempdir()?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    let now = 1_700_000_000_000;
    let mut ss = series("up", "a", now - 150 * 15_000, 150);
    ss.samples.push(Sample {
        t: i64::MAX,
        v: 9.0,
    });
    s.append_samples(&[ss, numbered("f", 0, now + 365 * 86_400_000)])?;
    // Locked: the current sample is older than the one from the future.
    assert_eq!(
        s.append_samples(&[series("up", "a", now, 1)])?
            .samples_out_of_order,
        1
    );
    let rep = s.maintain(now)?;
    assert_eq!((rep.samples_dropped, rep.series_dropped), (2, 1));
    let r = s.append_samples(&[series("up", "a", now, 1)])?;
    assert_eq!(r.samples_appended, 1);
    let dump = everything(&s)?;
    assert_eq!(dump.len(), 1);
    assert_eq!(dump[0].1.len(), 151);
    // Future log lines go too.
    s.append_logs(&[
        log(ms(now) + 3_600_000_000_000, "api", "later"),
        log(ms(now), "api", "now"),
    ])?;
    assert_eq!(s.maintain(now)?.logs_dropped, 1);
    assert_eq!(all_logs(&s)?.len(), 1);
    Ok(())
}

fn ms(t_ms: i64) -> i64 {
    t_ms * 1_000_000
}

#[test]
fn queries_with_all_matcher_ops() -> R {
    let dir = tempfile::tempdir()?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    s.append_samples(&[
        series("cpu", "api", 0, 10),
        series("cpu", "db", 0, 10),
        series("mem", "api", 1_000_000, 10),
    ])?;
    let names = |v: Vec<Labels>| v.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let cpu = m("__name__", MatchOp::Eq, "cpu")?;
    assert_eq!(
        s.select(&[cpu.clone(), m("job", MatchOp::Ne, "api")?], 0, i64::MAX)
            .len(),
        1
    );
    assert_eq!(
        names(s.series(&[m("job", MatchOp::Re, "a.*")?], 0, i64::MAX)),
        [
            r#"{__name__="cpu", job="api"}"#,
            r#"{__name__="mem", job="api"}"#
        ]
    );
    assert_eq!(
        names(s.series(&[m("__name__", MatchOp::Nre, "c.u")?], 0, i64::MAX)),
        [r#"{__name__="mem", job="api"}"#]
    );
    // Time range: mem starts at 1_000_000, cpu ends at 135_000.
    assert_eq!(s.series(&[], 200_000, 2_000_000).len(), 1);
    assert_eq!(
        s.label_values("job", std::slice::from_ref(&cpu), 0, i64::MAX),
        ["api", "db"]
    );
    assert_eq!(
        s.label_values("__name__", &[], 140_000, 999_999),
        Vec::<String>::new()
    );
    assert_eq!(s.label_values("__name__", &[], 0, i64::MAX), ["cpu", "mem"]);
    assert_eq!(
        s.label_names(&[m("job", MatchOp::Eq, "db")?], 0, i64::MAX),
        ["__name__", "job"]
    );
    let sel = s.select(&[cpu, m("job", MatchOp::Eq, "db")?], 15_000, 45_000);
    assert_eq!(
        sel[0].samples.iter().map(|x| x.t).collect::<Vec<_>>(),
        [15_000, 30_000, 45_000]
    );
    // A missing label matches "": `job=""` selects nothing here, `foo!~".+"` everything.
    assert!(
        s.select(&[m("job", MatchOp::Eq, "")?], 0, i64::MAX)
            .is_empty()
    );
    assert_eq!(
        s.select(&[m("foo", MatchOp::Nre, ".+")?], 0, i64::MAX)
            .len(),
        3
    );
    Ok(())
}

#[test]
fn logs_and_traces_through_the_store() -> R {
    let dir = tempfile::tempdir()?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    s.append_logs(&[
        log(3, "api", "c"),
        log(1, "api", "a"),
        log(2, "db", "b"),
        log(4, "api", "d"),
    ])?;
    let lines = |v: Vec<LogEntry>| v.into_iter().map(|e| e.line).collect::<Vec<_>>();
    let api = [m("app", MatchOp::Eq, "api")?];
    assert_eq!(lines(s.logs(&api, 0, 10, 10, false)), ["a", "c", "d"]);
    assert_eq!(lines(s.logs(&api, 0, 10, 2, true)), ["d", "c"]);
    assert_eq!(lines(s.logs(&api, 2, 3, 10, true)), ["c"]);
    assert_eq!(
        lines(s.logs(&[m("app", MatchOp::Re, ".*")?], 0, 10, 3, false)),
        ["a", "b", "c"]
    );
    s.append_spans(&[span(9, 5, 1), span(8, 5, 2), span(9, 4, 3)])?;
    assert_eq!(s.trace(&[9; 16]), vec![span(9, 5, 1), span(9, 4, 3)]);
    assert_eq!(s.stats().spans, 3);
    Ok(())
}

#[test]
fn retention_by_age() -> R {
    let dir = tempfile::tempdir()?;
    let cfg = StoreConfig {
        retention: Duration::from_secs(3600),
        max_bytes: 0,
        max_future: Duration::MAX,
    };
    let s = Store::open(dir.path(), cfg.clone())?;
    let hour = 3_600_000i64;
    // 240 samples = 2 chunks; the first chunk spans 0..1785 s.
    s.append_samples(&[series("old", "a", 0, 10), series("cpu", "a", 0, 240)])?;
    s.append_logs(&[
        log(0, "api", "old"),
        log(3 * hour * 1_000_000, "api", "new"),
    ])?;
    s.append_spans(&[span(1, 0, 1), span(1, 3 * hour * 1_000_000, 2)])?;
    let rep = s.maintain(hour + 1_800_000)?;
    assert_eq!(
        (
            rep.series_dropped,
            rep.samples_dropped,
            rep.logs_dropped,
            rep.spans_dropped
        ),
        (1, 130, 1, 1)
    );
    assert!(rep.bytes_freed > 0);
    assert_eq!(s.select(&[], 0, i64::MAX).len(), 1);
    drop(s);
    let s = Store::open(dir.path(), cfg)?;
    assert_eq!(s.stats().samples_in_memory, 120);
    assert_eq!(all_logs(&s)?.len(), 1);
    assert_eq!(s.trace(&[1; 16]).len(), 1);
    Ok(())
}

#[test]
fn retention_by_size_drops_oldest_first() -> R {
    let dir = tempfile::tempdir()?;
    let s = Store::open(
        dir.path(),
        StoreConfig {
            retention: Duration::from_secs(1 << 40),
            max_bytes: 0,
            max_future: Duration::MAX,
        },
    )?;
    let line = "z".repeat(1000);
    for i in 0..200i64 {
        let t_ms = i * 60_000;
        s.append_logs(&[LogEntry {
            t_ns: t_ms * 1_000_000,
            stream: l(&[("app", "a")]),
            line: line.clone(),
            metadata: Labels::default(),
        }])?;
    }
    let full = s.maintain(0)?.disk_bytes;
    assert!(full > 200_000);
    drop(s);
    let cfg = StoreConfig {
        retention: Duration::from_secs(1 << 40),
        max_bytes: 100_000,
        max_future: Duration::MAX,
    };
    let s = Store::open(dir.path(), cfg)?;
    let rep = s.maintain(0)?;
    assert!(
        rep.disk_bytes <= 100_000,
        "disk {} over limit",
        rep.disk_bytes
    );
    assert!(
        rep.logs_dropped >= 100 && rep.logs_dropped < 120,
        "dropped {}",
        rep.logs_dropped
    );
    let left = all_logs(&s)?;
    assert_eq!(
        left.last().map(|e| e.t_ns),
        Some(199 * 60_000 * 1_000_000),
        "newest kept"
    );
    assert!(
        left.first()
            .is_some_and(|e| e.t_ns >= rep.size_cutoff_ms.unwrap_or(0) * 1_000_000)
    );
    assert_eq!(s.stats().disk_bytes, rep.disk_bytes);
    Ok(())
}

#[test]
fn store_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Store>();
}
