//! Unit tests of the on-disk queue format and bookkeeping.

use super::*;

fn record(n: u32) -> Record {
    Record {
        signal: Signal::Logs,
        items: n,
        body: vec![u8::try_from(n % 251).unwrap_or(0); 100],
    }
}

fn head(q: &DiskQueue) -> Option<Record> {
    match q.peek().expect("peek") {
        Some(Peeked::Record(r)) => Some(r),
        Some(Peeked::Corrupt { .. }) => panic!("unexpected corrupt head"),
        None => None,
    }
}

#[test]
fn records_come_back_in_order_and_the_cursor_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut q, report) = DiskQueue::open(dir.path(), 1 << 20).expect("open");
    assert_eq!(report, OpenReport::default());
    for n in 0..5 {
        assert!(matches!(q.push(record(n)).expect("push"), Push::Appended));
    }
    assert_eq!(head(&q), Some(record(0)));
    q.ack().expect("ack");
    q.ack().expect("ack");
    assert_eq!(q.len(), 3);
    drop(q);

    let (mut q, report) = DiskQueue::open(dir.path(), 1 << 20).expect("reopen");
    assert_eq!(report, OpenReport::default());
    assert_eq!(q.len(), 3);
    for n in 2..5 {
        assert_eq!(head(&q), Some(record(n)));
        q.ack().expect("ack");
    }
    assert!(q.is_empty() && q.used_bytes() == 0);
    assert_eq!(head(&q), None);
}

#[test]
fn bound_is_enforced_and_oversized_records_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let frame = (FRAME_HEADER + PAYLOAD_HEADER + 100) as u64;
    let (mut q, _) = DiskQueue::open(dir.path(), frame * 2).expect("open");
    assert!(matches!(q.push(record(1)).expect("push"), Push::Appended));
    assert!(matches!(q.push(record(2)).expect("push"), Push::Appended));
    assert!(matches!(q.push(record(3)).expect("push"), Push::Full(r) if r == record(3)));
    q.ack().expect("ack");
    assert!(matches!(q.push(record(3)).expect("push"), Push::Appended));
    let huge = Record {
        body: vec![0; 1000],
        ..record(4)
    };
    assert!(matches!(q.push(huge).expect("push"), Push::TooLarge));
}

#[test]
fn delivered_segments_are_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 64 KiB segments (the minimum); ~1 KiB records → several segments.
    let (mut q, _) = DiskQueue::open(dir.path(), 1 << 20).expect("open");
    let big = |n| Record {
        body: vec![1; 1000],
        ..record(n)
    };
    for n in 0..200 {
        assert!(matches!(q.push(big(n)).expect("push"), Push::Appended));
    }
    let segments = |d: &Path| {
        fs::read_dir(d)
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(SEGMENT_SUFFIX))
            .count()
    };
    assert!(segments(dir.path()) >= 3);
    for _ in 0..200 {
        q.ack().expect("ack");
    }
    assert_eq!(
        segments(dir.path()),
        1,
        "only the segment being written remains"
    );
}

#[test]
fn a_queue_directory_is_exclusive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_q, _) = DiskQueue::open(dir.path(), 1 << 20).expect("open");
    assert!(matches!(
        DiskQueue::open(dir.path(), 1 << 20),
        Err(ExportError::QueueLocked { .. })
    ));
}

#[test]
fn a_truncated_record_is_reported_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut q, _) = DiskQueue::open(dir.path(), 1 << 20).expect("open");
    for n in 0..3 {
        assert!(matches!(q.push(record(n)).expect("push"), Push::Appended));
    }
    drop(q);
    let path = segment_path(dir.path(), 1);
    let bytes = fs::read(&path).expect("segment");
    fs::write(&path, &bytes[..bytes.len() - 10]).expect("truncate");
    let (q, report) = DiskQueue::open(dir.path(), 1 << 20).expect("reopen");
    assert_eq!(report.corrupt_records, 1);
    assert_eq!(q.len(), 2);
    assert_eq!(head(&q), Some(record(0)));
}
