//! Unit tests for the journal: creation, locking, batched writes, paged reads, crash safety and
//! refusing files that are not journals.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use super::*;

fn json(idx: u64) -> String {
    format!(r#"{{"idx":{idx},"url":"http://127.0.0.1/{idx}","status":200}}"#)
}

fn line(idx: u64) -> String {
    format!("http://127.0.0.1/{idx}")
}

/// Writes rows `idxs` with the test's line hashes and JSON, then flushes.
fn write(journal: &Journal, idxs: impl IntoIterator<Item = u64>, ok: bool) {
    let w = journal.writer();
    for idx in idxs {
        w.record(idx, input_hash(line(idx).as_bytes()), ok, json(idx));
    }
    w.flush().unwrap();
}

fn all_records(journal: &Journal) -> Vec<(u64, String)> {
    journal
        .records()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn input_hash_is_stable() {
    // FNV-1a 64 reference values; these are on disk, they must never change.
    assert_eq!(input_hash(b"") as u64, 0xcbf2_9ce4_8422_2325);
    assert_eq!(input_hash(b"a") as u64, 0xaf63_dc4c_8601_ec8c);
    assert_eq!(input_hash(b"foobar") as u64, 0x8594_4171_f739_67e8);
    assert_eq!(
        input_hash(b"https://example.com/"),
        input_hash(b"https://example.com/")
    );
    assert_ne!(
        input_hash(b"https://example.com/"),
        input_hash(b"https://example.com")
    );
}

#[test]
fn a_new_journal_has_large_pages_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    drop(Journal::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    let page: i64 = conn
        .pragma_query_value(None, "page_size", |r| r.get(0))
        .unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!((page, mode.as_str()), (PAGE_SIZE, "wal"));
}

#[test]
fn open_creates_and_reopen_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let journal = Journal::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let lock_mode = std::fs::metadata(lock_path(&path))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(lock_mode & 0o777, 0o600);
    assert_eq!(journal.counts().unwrap(), Counts::default());
    assert_eq!(journal.meta("total").unwrap(), None);
    journal.set_meta("total", "3").unwrap();
    write(&journal, [0, 1, 2], true);
    journal.close().unwrap();

    let journal = Journal::open(&path).unwrap();
    assert_eq!(journal.meta("total").unwrap().as_deref(), Some("3"));
    assert_eq!(journal.meta(SCHEMA_KEY).unwrap().as_deref(), Some("1"));
    assert_eq!(journal.counts().unwrap(), Counts { done: 3, failed: 0 });
    assert_eq!(
        all_records(&journal),
        vec![(0, json(0)), (1, json(1)), (2, json(2))]
    );
}

#[test]
fn second_open_is_locked_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let first = Journal::open(&path).unwrap();
    let err = Journal::open(&path).err().unwrap();
    assert!(matches!(err, JournalError::Locked { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{} is in use by another volley run", path.display())
    );

    // A reader keeps the journal locked too.
    let cursor = first.done_cursor().unwrap();
    drop(first);
    assert!(matches!(
        Journal::open(&path),
        Err(JournalError::Locked { .. })
    ));
    drop(cursor);
    Journal::open(&path).unwrap().close().unwrap();
}

#[test]
fn a_symlink_at_the_lock_path_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let target = dir.path().join("victim");
    std::fs::write(&target, b"precious").unwrap();
    std::os::unix::fs::symlink(&target, lock_path(&path)).unwrap();
    let err = Journal::open(&path).err().unwrap();
    assert!(matches!(err, JournalError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    assert!(
        !path.exists(),
        "the journal is not created when the lock fails"
    );

    // A dangling symlink is not followed into creating its target either.
    let missing = dir.path().join("missing");
    let path2 = dir.path().join("other.journal");
    std::os::unix::fs::symlink(&missing, lock_path(&path2)).unwrap();
    assert!(Journal::open(&path2).is_err());
    assert!(!missing.exists());
}

#[test]
fn ten_thousand_rows_come_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let journal = Journal::open(&path).unwrap();
    let w = journal.writer();
    // Out of order on purpose: the records come back by index.
    for idx in (0..10_000u64).rev() {
        w.record(
            idx,
            input_hash(line(idx).as_bytes()),
            idx % 7 != 0,
            json(idx),
        );
    }
    drop(w);
    journal.close().unwrap();

    let journal = Journal::open(&path).unwrap();
    let failed = (0..10_000u64).filter(|i| i % 7 == 0).count() as u64;
    assert_eq!(
        journal.counts().unwrap(),
        Counts {
            done: 10_000,
            failed
        }
    );
    let records = all_records(&journal);
    assert_eq!(records.len(), 10_000);
    for (i, (idx, record)) in records.into_iter().enumerate() {
        assert_eq!(idx, i as u64);
        assert_eq!(record, json(idx));
    }
    // Paging at a size that does not divide the count.
    let paged: Vec<u64> = journal
        .records_with_page(333)
        .unwrap()
        .map(|r| r.unwrap().0)
        .collect();
    assert_eq!(paged, (0..10_000).collect::<Vec<_>>());
}

#[test]
fn a_record_is_replaced_on_retry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let journal = Journal::open(&path).unwrap();
    let w = journal.writer();
    w.record(0, 11, true, "first-ok".into());
    w.record(1, 22, false, "failed".into());
    w.flush().unwrap();
    assert_eq!(journal.counts().unwrap(), Counts { done: 2, failed: 1 });
    w.record(1, 22, true, "retried".into());
    w.flush().unwrap();
    assert_eq!(journal.counts().unwrap(), Counts { done: 2, failed: 0 });
    assert_eq!(
        all_records(&journal),
        vec![(0, "first-ok".into()), (1, "retried".into())]
    );
    let mut cursor = journal.done_cursor().unwrap();
    assert_eq!(cursor.lookup(1).unwrap(), Some(Done { hash: 22, ok: true }));
}

#[test]
fn cursor_merges_over_gaps_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let journal = Journal::open(&path).unwrap();
    // 0, 1, 5, 6, 10, 11, …: pairs every 5, a few failed.
    let present: Vec<u64> = (0..200u64).flat_map(|k| [5 * k, 5 * k + 1]).collect();
    let w = journal.writer();
    for &idx in &present {
        w.record(
            idx,
            input_hash(line(idx).as_bytes()),
            idx % 3 != 0,
            json(idx),
        );
    }
    w.flush().unwrap();

    for page in [1, 2, 3, 7, 4096] {
        let mut cursor = journal.cursor_with_page(page).unwrap();
        for idx in 0..1_100u64 {
            let got = cursor.lookup(idx).unwrap();
            if present.contains(&idx) {
                let want = Done {
                    hash: input_hash(line(idx).as_bytes()),
                    ok: idx % 3 != 0,
                };
                assert_eq!(got, Some(want), "page {page}, idx {idx}");
                check(&want, input_hash(line(idx).as_bytes()), idx).unwrap();
            } else {
                assert_eq!(got, None, "page {page}, idx {idx}");
            }
        }
    }

    // Sparse lookups skip whole pages.
    let mut cursor = journal.cursor_with_page(3).unwrap();
    assert_eq!(cursor.lookup(2).unwrap(), None);
    assert!(cursor.lookup(500).unwrap().is_some());
    assert_eq!(cursor.lookup(502).unwrap(), None);
    assert!(cursor.lookup(996).unwrap().is_some());
    assert_eq!(cursor.lookup(997).unwrap(), None);
    assert_eq!(cursor.lookup(u64::MAX - 1).unwrap(), None);
}

#[test]
fn cursor_on_an_empty_journal_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("run.journal")).unwrap();
    let mut cursor = journal.done_cursor().unwrap();
    assert_eq!(cursor.lookup(0).unwrap(), None);
    assert_eq!(cursor.lookup(1).unwrap(), None);
    assert_eq!(journal.records().unwrap().count(), 0);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "indexes must increase")]
fn cursor_refuses_to_go_back() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("run.journal")).unwrap();
    let mut cursor = journal.done_cursor().unwrap();
    let _ = cursor.lookup(5);
    let _ = cursor.lookup(5);
}

#[test]
fn mismatch_is_reported_with_its_index() {
    let done = Done {
        hash: input_hash(b"http://a/"),
        ok: true,
    };
    check(&done, input_hash(b"http://a/"), 7).unwrap();
    let err = check(&done, input_hash(b"http://b/"), 7).unwrap_err();
    assert!(matches!(err, JournalError::Mismatch { idx: 7 }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "input line 7 does not match the journal (the input changed since the journal was \
         written): use a new journal or the original input"
    );
}

#[test]
fn flushed_rows_survive_a_drop_without_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let journal = Journal::open(&path).unwrap();
    write(&journal, 0..100, true);
    drop(journal);
    let journal = Journal::open(&path).unwrap();
    assert_eq!(journal.counts().unwrap().done, 100);
}

#[test]
fn unflushed_rows_are_committed_within_the_batch_delay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let journal = Journal::open(&path).unwrap();
    let w = journal.writer();
    w.record(0, 1, true, "{}".into());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while journal.counts().unwrap().done == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the batch never committed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn writing_after_close_reports_closed() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("run.journal")).unwrap();
    let w = journal.writer();
    journal.close().unwrap();
    w.record(0, 1, true, "{}".into());
    assert!(matches!(w.flush(), Err(JournalError::Closed)));
}

#[test]
fn a_writer_error_is_reported_by_flush_and_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let journal = Journal::open(&path).unwrap();
    // Break the table under the writer's feet: its inserts fail.
    journal
        .control()
        .execute_batch("DROP TABLE inputs")
        .unwrap();
    let w = journal.writer();
    w.record(0, 1, true, "{}".into());
    assert!(matches!(w.flush(), Err(JournalError::Sqlite(_))));
    w.record(1, 1, true, "{}".into());
    assert!(
        matches!(w.flush(), Err(JournalError::Sqlite(_))),
        "the error sticks"
    );
    assert!(matches!(journal.close(), Err(JournalError::Sqlite(_))));
}

#[test]
fn files_that_are_not_journals_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();

    let junk = dir.path().join("junk");
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&junk, &bytes).unwrap();
    let err = Journal::open(&junk).err().unwrap();
    assert!(matches!(err, JournalError::NotJournal { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{} is not a volley journal (not an SQLite database)",
            junk.display()
        )
    );
    assert_eq!(std::fs::read(&junk).unwrap(), bytes);

    let other = dir.path().join("other.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    let err = Journal::open(&other).err().unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "{} is not a volley journal (an SQLite database with other contents)",
            other.display()
        )
    );
    assert_eq!(std::fs::read(&other).unwrap(), before);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    Journal::open(&path).unwrap().close().unwrap();
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE meta SET value = '2' WHERE key = ?1", [SCHEMA_KEY])
        .unwrap();
    let err = Journal::open(&path).err().unwrap();
    assert!(
        matches!(
            err,
            JournalError::TooNew {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("written by a newer volley"),
        "{err}"
    );
}

/// Set for the child process of [`rows_flushed_before_a_crash_survive_it`].
const CRASH_CHILD: &str = "VOLLEY_JOURNAL_CRASH_CHILD";
/// Rows the child flushes before it aborts.
const CRASH_FLUSHED: u64 = 3_000;

/// The child of the crash test: does nothing unless [`CRASH_CHILD`] names a journal; then writes
/// and flushes [`CRASH_FLUSHED`] rows, queues more, and aborts.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(CRASH_CHILD) else {
        return;
    };
    let journal = Journal::open(Path::new(&path)).unwrap();
    journal.set_meta("total", "5000").unwrap();
    write(&journal, 0..CRASH_FLUSHED, true);
    let w = journal.writer();
    for idx in CRASH_FLUSHED..5_000 {
        w.record(idx, input_hash(line(idx).as_bytes()), true, json(idx));
    }
    std::process::abort();
}

#[test]
fn rows_flushed_before_a_crash_survive_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "output::journal::tests::crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_CHILD, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(
        status.signal(),
        Some(6),
        "the child must have aborted: {status}"
    );

    let journal = Journal::open(&path).unwrap();
    assert_eq!(journal.meta("total").unwrap().as_deref(), Some("5000"));
    let counts = journal.counts().unwrap();
    assert!((CRASH_FLUSHED..=5_000).contains(&counts.done), "{counts:?}");
    let records = all_records(&journal);
    // Whatever committed is a prefix here (the rows were sent in order, batches commit in order).
    for (i, (idx, record)) in records.iter().enumerate() {
        assert_eq!(*idx, i as u64);
        assert_eq!(*record, json(*idx));
    }
    let integrity: String = journal
        .control()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    // And it resumes: the writer appends after the crash.
    write(&journal, 0..5_000, true);
    assert_eq!(journal.counts().unwrap().done, 5_000);
}
