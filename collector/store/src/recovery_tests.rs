//! Durability and recovery tests: reopen, checkpoints, crash points, torn
//! and corrupt WAL records, damaged snapshots, concurrent maintenance.

use std::fs;
use std::sync::Arc;

use super::tests::*;
use super::*;
use sextant_model::MatchOp;

#[test]
fn reopen_without_maintain_keeps_everything() -> R {
    let dir = tempfile::tempdir()?;
    let (samples, logs, spans) = {
        let s = Store::open(dir.path(), StoreConfig::default())?;
        fill(&s, 1_000_000)?;
        (everything(&s)?, all_logs(&s)?, s.trace(&[1; 16]))
    };
    let s = Store::open(dir.path(), StoreConfig::default())?;
    assert_eq!(everything(&s)?, samples);
    assert_eq!(all_logs(&s)?, logs);
    assert_eq!(s.trace(&[1; 16]), spans);
    let stale = s.select(&[m("__name__", MatchOp::Eq, "up")?], 0, i64::MAX);
    assert_eq!(
        stale[0].samples[3].v.to_bits(),
        STALE,
        "stale marker must survive the WAL bit-exact"
    );
    assert_eq!(s.stats().samples_in_memory, 314);
    Ok(())
}

#[test]
fn checkpoint_then_appends_then_reopen_has_everything_once() -> R {
    let dir = tempfile::tempdir()?;
    let want = {
        let s = Store::open(dir.path(), StoreConfig::default())?;
        fill(&s, 1_000_000)?;
        s.maintain(1_000_000)?;
        fill(&s, 10_000_000)?;
        s.maintain(10_000_000)?;
        fill(&s, 20_000_000)?;
        (everything(&s)?, all_logs(&s)?, s.trace(&[1; 16]), s.stats())
    };
    assert_eq!(want.1.len(), 9);
    assert_eq!(want.2.len(), 6);
    let s = Store::open(dir.path(), StoreConfig::default())?;
    assert_eq!(everything(&s)?, want.0);
    assert_eq!(all_logs(&s)?, want.1);
    assert_eq!(s.trace(&[1; 16]), want.2);
    assert_eq!(s.stats().samples_in_memory, want.3.samples_in_memory);
    assert_eq!(s.stats().corrupt_records, 0);
    // New series after reopen must not collide with refs still in the WAL.
    s.append_samples(&[series("new", "z", 30_000_000, 2)])?;
    drop(s);
    let s = Store::open(dir.path(), StoreConfig::default())?;
    assert_eq!(everything(&s)?.len(), want.0.len() + 1);
    Ok(())
}

#[test]
fn crash_between_snapshot_rename_and_wal_cleanup_does_not_double_apply() -> R {
    let dir = tempfile::tempdir()?;
    let saved = dir.path().join("saved");
    fs::create_dir(&saved)?;
    let want = {
        let s = Store::open(dir.path(), StoreConfig::default())?;
        fill(&s, 1_000_000)?;
        for p in wal_segments(dir.path())? {
            fs::copy(&p, saved.join(p.file_name().ok_or("name")?))?;
        }
        s.maintain(1_000_000)?;
        fill(&s, 5_000_000)?;
        (everything(&s)?, all_logs(&s)?, s.trace(&[2; 16]))
    };
    // Put the deleted segments back, as if the crash hit before the delete.
    for e in fs::read_dir(&saved)? {
        let e = e?;
        fs::copy(e.path(), dir.path().join("wal").join(e.file_name()))?;
    }
    let s = Store::open(dir.path(), StoreConfig::default())?;
    assert_eq!(everything(&s)?, want.0);
    assert_eq!(all_logs(&s)?, want.1);
    assert_eq!(s.trace(&[2; 16]), want.2);
    Ok(())
}

#[test]
fn torn_tail_is_truncated_and_earlier_data_kept() -> R {
    let dir = tempfile::tempdir()?;
    {
        let s = Store::open(dir.path(), StoreConfig::default())?;
        s.append_samples(&[series("cpu", "a", 0, 5)])?;
        s.append_samples(&[series("cpu", "a", 75_000, 5)])?;
    }
    let seg = wal_segments(dir.path())?.pop().ok_or("no segment")?;
    let len = fs::metadata(&seg)?.len();
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)?
        .set_len(len - 3)?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    let got = s.select(&[], 0, i64::MAX);
    assert_eq!(
        got[0].samples.len(),
        5,
        "the torn second append is gone, the first stays"
    );
    assert_eq!(s.stats().corrupt_records, 1);
    // Appends after recovery survive another reopen, and garbage at the end is handled too.
    s.append_samples(&[series("cpu", "a", 75_000, 5)])?;
    drop(s);
    let seg = wal_segments(dir.path())?.pop().ok_or("no segment")?;
    fs::OpenOptions::new()
        .append(true)
        .open(&seg)?
        .write_all_garbage()?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    assert_eq!(s.select(&[], 0, i64::MAX)[0].samples.len(), 10);
    Ok(())
}

trait Garbage {
    fn write_all_garbage(self) -> std::io::Result<()>;
}
impl Garbage for fs::File {
    fn write_all_garbage(mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.write_all(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    }
}

#[test]
fn corrupt_record_mid_wal_skips_rest_of_segment_only() -> R {
    let dir = tempfile::tempdir()?;
    for (i, job) in ["a", "b", "c"].iter().enumerate() {
        // Each open starts a new segment, so this makes three segments.
        let s = Store::open(dir.path(), StoreConfig::default())?;
        s.append_samples(&[series("cpu", job, 0, 5)])?;
        s.append_logs(&[log(i as i64, "api", job)])?;
    }
    let segs = wal_segments(dir.path())?;
    let first = segs
        .iter()
        .find(|p| fs::metadata(p).is_ok_and(|m| m.len() > 0))
        .ok_or("no data")?;
    let mut bytes = fs::read(first)?;
    bytes[12] ^= 0x55; // inside the first record's payload
    fs::write(first, &bytes)?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    let jobs: Vec<String> = s
        .series(&[], 0, i64::MAX)
        .iter()
        .filter_map(|l| l.get("job").map(str::to_string))
        .collect();
    assert_eq!(jobs, ["b", "c"]);
    assert_eq!(all_logs(&s)?.len(), 2);
    assert_eq!(s.stats().corrupt_records, 1);
    Ok(())
}

#[test]
fn garbage_snapshot_does_not_panic() -> R {
    let dir = tempfile::tempdir()?;
    {
        let s = Store::open(dir.path(), StoreConfig::default())?;
        fill(&s, 1_000_000)?;
        s.maintain(1_000_000)?;
    }
    let (snaps, _) = checkpoint::list_snapshots(dir.path())?;
    let path = &snaps.last().ok_or("no snapshot")?.1;
    let mut bytes = fs::read(path)?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::write(path, &bytes)?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    assert!(s.stats().corrupt_records >= 1);
    Ok(())
}

#[test]
fn concurrent_appends_during_maintain_are_all_recovered() -> R {
    let dir = tempfile::tempdir()?;
    // Maintenance at t = 0 while samples run to 50,000 s: nothing is "future" here.
    let cfg = StoreConfig {
        max_future: std::time::Duration::MAX,
        ..StoreConfig::default()
    };
    let s = Arc::new(Store::open(dir.path(), cfg)?);
    let mut handles = Vec::new();
    for w in 0..4i64 {
        let s = Arc::clone(&s);
        handles.push(std::thread::spawn(move || -> Result<(), StoreError> {
            for i in 0..50i64 {
                s.append_samples(&[series("c", &w.to_string(), i * 1_000_000, 3)])?;
                s.append_logs(&[log(i, &w.to_string(), "l")])?;
                s.append_spans(&[span(w as u8, i, 0)])?;
            }
            Ok(())
        }));
    }
    for _ in 0..5 {
        s.maintain(0)?;
    }
    for h in handles {
        h.join().map_err(|_| "writer panicked")??;
    }
    let want = (everything(&s)?, all_logs(&s)?.len(), s.stats());
    assert_eq!(want.1, 200);
    drop(s);
    let s = Store::open(dir.path(), StoreConfig::default())?;
    assert_eq!(everything(&s)?, want.0);
    assert_eq!(all_logs(&s)?.len(), 200);
    assert_eq!(s.stats().spans, 200);
    assert_eq!(s.stats().samples_in_memory, 600);
    Ok(())
}

#[test]
fn replay_skips_records_already_in_the_snapshot() -> R {
    let dir = tempfile::tempdir()?;
    let want = {
        let s = Store::open(dir.path(), StoreConfig::default())?;
        fill(&s, 1_000_000)?;
        // Appends between the WAL cut and the snapshot land in segment N but
        // are also in the snapshot: replay must skip them by position.
        let n = s.wal.cut()?;
        fill(&s, 2_000_000)?;
        checkpoint::write(&s.dir, n, &s.head, &s.logs, &s.spans, &s.wal)?;
        s.wal.remove_before(n)?;
        fill(&s, 3_000_000)?;
        (everything(&s)?, all_logs(&s)?, s.trace(&[1; 16]))
    };
    assert_eq!((want.1.len(), want.2.len()), (9, 6));
    let s = Store::open(dir.path(), StoreConfig::default())?;
    assert_eq!(everything(&s)?, want.0);
    assert_eq!(all_logs(&s)?, want.1);
    assert_eq!(s.trace(&[1; 16]), want.2);
    Ok(())
}

#[test]
fn second_open_of_the_same_dir_is_refused() -> R {
    let dir = tempfile::tempdir()?;
    let s = Store::open(dir.path(), StoreConfig::default())?;
    assert!(matches!(
        Store::open(dir.path(), StoreConfig::default()),
        Err(StoreError::Locked { .. })
    ));
    drop(s);
    Store::open(dir.path(), StoreConfig::default())?;
    Ok(())
}
