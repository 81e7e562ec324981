//! The journal behind `--journal FILE`: an embedded SQLite database that records every finished
//! input (its index, the hash of its line, whether it succeeded, and its record) so a killed run
//! can resume without losing or repeating an input.
//!
//! It owns the on-disk format and its guarantees, nothing about fetching:
//! - one writer thread commits in batches ([`Writer`]); a flush makes everything sent before it
//!   durable against a crash of the process (WAL with `synchronous=NORMAL`: a commit survives
//!   `kill -9`, though not necessarily a power cut);
//! - readers walk the journal in input order a page at a time ([`Cursor`], [`Records`]), so memory
//!   stays flat at ten million inputs;
//! - one run at a time: an advisory lock on the sidecar `FILE.lock`, held as long as the journal
//!   or any of its readers lives, makes a second run fail at once ([`JournalError::Locked`]).
//!   SQLite's own locks only serialise transactions, which would let two runs interleave.
//!
//! Format (schema version 1): `PRAGMA application_id` marks the file as a volley journal;
//! `meta(key, value)` holds `schema_version` and whatever the run stores with
//! [`Journal::set_meta`]; `inputs(idx, hash, ok, record)` has one row per finished input, keyed by
//! its 0-based index.

mod cursor;
mod error;
mod file;
mod hash;
mod resume;
mod writer;

#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use rustix::fs::{FlockOperation, Mode, OFlags};

pub use cursor::{Cursor, Done, Records};
pub use error::JournalError;
pub use file::resume_output;
pub use hash::input_hash;
pub use resume::{is_finished, Resume, Sink};
pub use writer::{Row, Writer};

use writer::WriterThread;

/// The schema version this volley writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;
/// `PRAGMA application_id` of a volley journal: "VOLY".
const APPLICATION_ID: i32 = 0x564f_4c59;
/// The `meta` key holding the schema version.
const SCHEMA_KEY: &str = "schema_version";
/// The `meta` key holding the length of the output file (`-o`) that the committed rows' lines
/// end at; see [`Writer::rows`].
pub const OUTPUT_LEN: &str = "output_len";
/// The `meta` key naming the output file that [`OUTPUT_LEN`] is about (`device:inode`).
pub const OUTPUT_FILE: &str = "output_file";
/// The `meta` key listing what the run's records carry besides the schema's fields, comma-separated
/// (`row`, `ids`, `headers`, `hash`, `dedupe`), so an export prints them.
pub const LAYOUT: &str = "layout";
/// The `meta` key holding the number of inputs, once a run has read its input to the end.
pub const INPUTS: &str = "inputs";
/// The page size of a new journal. Records are some 400 bytes: 16 KiB pages split and rebalance a
/// quarter as often as SQLite's default 4 KiB, which halves the cost of a row (measured:
/// 0.9 → 0.5 µs a row). Older journals keep the size they were made with.
const PAGE_SIZE: i64 = 16 * 1024;
/// Pages the write-ahead log grows to before it is copied into the database. Each copy ends with
/// an fsync, the only ones a run makes: 32 MiB (some 80,000 records) apart, they cost nothing
/// that shows.
const WAL_PAGES: i64 = 2048;
/// How long a connection waits for another one's transaction (the writer commits in well under).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE inputs (
        idx INTEGER PRIMARY KEY,
        hash INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        record TEXT NOT NULL
    );
";

/// How many inputs a journal has recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Inputs with a record, successful or not.
    pub done: u64,
    /// Of those, inputs whose record was not ok.
    pub failed: u64,
}

/// An open journal, locked for this process until it is dropped or closed.
pub struct Journal {
    path: PathBuf,
    writer: WriterThread,
    /// For meta and counts; the writer thread has its own connection.
    control: Mutex<Connection>,
    /// The locked `FILE.lock`, shared with the readers so the lock outlives them all.
    lock: Arc<File>,
}

impl Journal {
    /// Opens the journal at `path`, creating it (mode 0600) if it does not exist, and starts its
    /// writer thread.
    ///
    /// # Errors
    /// [`JournalError::Locked`] if another run holds it; [`JournalError::NotJournal`] for a file
    /// that is not a volley journal (left untouched); [`JournalError::TooNew`] for a journal of a
    /// newer schema; I/O and SQLite errors otherwise.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let lock = Arc::new(lock(path)?);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(JournalError::io(path, e)),
        }
        let conn = connect(path)?;
        prepare(&conn, path)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let control = connect(path)?;
        let writer = WriterThread::start(conn)?;
        Ok(Journal {
            path: path.to_owned(),
            writer,
            control: Mutex::new(control),
            lock,
        })
    }

    /// The journal file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A handle to the writer thread; see [`Writer::record`] and [`Writer::flush`].
    #[must_use]
    pub fn writer(&self) -> Writer {
        self.writer.writer()
    }

    /// A cursor over the recorded inputs in index order, to merge with the input stream.
    ///
    /// # Errors
    /// SQLite errors opening its read connection.
    pub fn done_cursor(&self) -> Result<Cursor, JournalError> {
        self.cursor_with_page(cursor::PAGE)
    }

    fn cursor_with_page(&self, page: usize) -> Result<Cursor, JournalError> {
        Ok(Cursor::new(self.reader()?, page))
    }

    /// Every recorded `(idx, record JSON)` in index order, fetched a page at a time.
    ///
    /// # Errors
    /// SQLite errors opening its read connection; the iterator yields later ones.
    pub fn records(&self) -> Result<Records, JournalError> {
        self.records_with_page(cursor::PAGE)
    }

    fn records_with_page(&self, page: usize) -> Result<Records, JournalError> {
        Ok(Records::new(self.reader()?, page))
    }

    /// How many inputs are recorded, and how many of them failed. Rows still queued in the writer
    /// are not counted; flush first for an exact figure.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn counts(&self) -> Result<Counts, JournalError> {
        counts(&self.control())
    }

    /// Stores `value` under `key` (replacing it), committed at once — e.g. the number of inputs
    /// once a run has seen the end of its input, or a fingerprint of the command's options. The
    /// key `schema_version` is reserved.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), JournalError> {
        debug_assert_ne!(
            key, SCHEMA_KEY,
            "the schema version is not set through set_meta"
        );
        self.control().execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            [key, value],
        )?;
        Ok(())
    }

    /// The value stored under `key`, if any.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn meta(&self, key: &str) -> Result<Option<String>, JournalError> {
        Ok(meta(&self.control(), key)?)
    }

    /// Names `file` (its `device:inode`) as the journal's output file, whose first `len` bytes
    /// hold the lines of every recorded input, in one transaction.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_output(&self, file: &str, len: u64) -> Result<(), JournalError> {
        let mut conn = self.control();
        let tx = conn.transaction()?;
        let set = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)";
        tx.execute(set, [OUTPUT_FILE, file])?;
        tx.execute(set, [OUTPUT_LEN, &len.to_string()])?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets every input whose record was not ok (`--retry-failed`), so a run fetches them
    /// again, and the output file with them (it holds their old records and must be written anew
    /// from the journal). Returns how many were forgotten.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn forget_failed(&self) -> Result<u64, JournalError> {
        let mut conn = self.control();
        let tx = conn.transaction()?;
        let n = tx.execute("DELETE FROM inputs WHERE ok = 0", [])?;
        tx.execute(
            "DELETE FROM meta WHERE key IN (?1, ?2)",
            [OUTPUT_FILE, OUTPUT_LEN],
        )?;
        tx.commit()?;
        Ok(n as u64)
    }

    /// Commits everything sent to the writer, stops its thread and releases the journal.
    ///
    /// # Errors
    /// The writer thread's SQLite error, if it met one.
    pub fn close(mut self) -> Result<(), JournalError> {
        self.writer.shutdown()
    }

    fn control(&self) -> MutexGuard<'_, Connection> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A read connection that keeps the lock alive as long as it lives.
    fn reader(&self) -> Result<Reader, JournalError> {
        Reader::open(&self.path, Some(Arc::clone(&self.lock)))
    }
}

/// A journal opened only to read it (`volley journal status` and `export`): no lock is taken, so
/// it can watch a run that is going on; it sees what that run has committed.
pub struct Snapshot {
    path: PathBuf,
    conn: Reader,
}

impl Snapshot {
    /// Opens the existing journal at `path` for reading.
    ///
    /// # Errors
    /// [`JournalError::NotJournal`] for a file that is not a volley journal,
    /// [`JournalError::TooNew`] for a newer schema, I/O and SQLite errors otherwise.
    pub fn open(path: &Path) -> Result<Snapshot, JournalError> {
        if let Err(e) = std::fs::metadata(path) {
            return Err(JournalError::io(path, e));
        }
        let conn = Reader::open(path, None)?;
        check_journal(&conn, path)?;
        Ok(Snapshot {
            path: path.to_owned(),
            conn,
        })
    }

    /// How many inputs are recorded, and how many of them failed.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn counts(&self) -> Result<Counts, JournalError> {
        counts(&self.conn)
    }

    /// The value stored under `key`, if any.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn meta(&self, key: &str) -> Result<Option<String>, JournalError> {
        Ok(meta(&self.conn, key)?)
    }

    /// Every recorded `(idx, record JSON)` in index order, a page at a time.
    ///
    /// # Errors
    /// SQLite errors opening its read connection; the iterator yields later ones.
    pub fn records(&self) -> Result<Records, JournalError> {
        Ok(Records::new(Reader::open(&self.path, None)?, cursor::PAGE))
    }
}

fn counts(conn: &Connection) -> Result<Counts, JournalError> {
    let (done, failed) = conn.query_row(
        "SELECT count(*), coalesce(sum(ok = 0), 0) FROM inputs",
        [],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
    )?;
    Ok(Counts {
        done: done as u64,
        failed: failed as u64,
    })
}

impl Drop for Journal {
    /// Commits what is queued, as [`close`](Journal::close) does, but cannot report errors.
    fn drop(&mut self) {
        let _ = self.writer.shutdown();
    }
}

/// A read connection and the lock it needs held (none for a [`Snapshot`]).
pub(crate) struct Reader {
    conn: Connection,
    _lock: Option<Arc<File>>,
}

impl Reader {
    fn open(path: &Path, lock: Option<Arc<File>>) -> Result<Reader, JournalError> {
        let conn = connect(path)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(Reader { conn, _lock: lock })
    }
}

impl std::ops::Deref for Reader {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// Checks the journal's entry for input `idx` against the hash of the line the input has now.
///
/// # Errors
/// [`JournalError::Mismatch`] if they differ: the input changed since the journal was written.
pub fn check(done: &Done, hash: i64, idx: u64) -> Result<(), JournalError> {
    if done.hash == hash {
        Ok(())
    } else {
        Err(JournalError::Mismatch { idx })
    }
}

/// `FILE.lock` beside the journal.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Opens and locks `FILE.lock` without following a symlink planted there.
fn lock(path: &Path) -> Result<File, JournalError> {
    let lock_path = lock_path(path);
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::open(&lock_path, flags, Mode::from_raw_mode(0o600)).map_err(|e| {
        if e == rustix::io::Errno::LOOP {
            let msg = "is a symbolic link; refusing to follow it for the journal lock";
            JournalError::io(&lock_path, io::Error::other(msg))
        } else {
            JournalError::io(&lock_path, e.into())
        }
    })?;
    match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(File::from(fd)),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(JournalError::Locked {
            path: path.to_owned(),
        }),
        Err(e) => Err(JournalError::io(&lock_path, e.into())),
    }
}

/// A connection to an existing file (never creates one).
fn connect(path: &Path) -> Result<Connection, JournalError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Closing leaves the log as it is (the next open reads it): no copy and fsync at the end of
    // every run and every `journal status`.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    // Any connection's commit may copy the log; none does before it is this long.
    conn.pragma_update(None, "wal_autocheckpoint", WAL_PAGES)?;
    Ok(conn)
}

/// Makes sure `path` is a journal this volley can use: creates the schema in an empty database,
/// refuses anything else that is not a volley journal, and switches to WAL.
fn prepare(conn: &Connection, path: &Path) -> Result<(), JournalError> {
    match check_journal(conn, path) {
        Ok(()) => return set_wal(conn, path),
        Err(JournalError::NotJournal { reason, .. }) if reason == EMPTY => {}
        Err(e) => return Err(e),
    }
    // Only an empty database takes a new page size, and only before it leaves rollback mode.
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    set_wal(conn, path)?;
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         {SCHEMA}
         INSERT INTO meta (key, value) VALUES ('{SCHEMA_KEY}', '{SCHEMA_VERSION}');
         PRAGMA application_id = {APPLICATION_ID};
         COMMIT;"
    ))?;
    Ok(())
}

/// The reason [`check_journal`] gives for an empty database, which [`prepare`] makes a journal.
const EMPTY: &str = "an empty SQLite database";

/// Checks that `conn` is a volley journal of a schema this volley reads.
fn check_journal(conn: &Connection, path: &Path) -> Result<(), JournalError> {
    let not_journal = |reason: &str| JournalError::NotJournal {
        path: path.to_owned(),
        reason: reason.into(),
    };
    let app_id = match conn.pragma_query_value(None, "application_id", |r| r.get::<_, i32>(0)) {
        Ok(id) => id,
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Err(not_journal("not an SQLite database"));
        }
        Err(e) => return Err(e.into()),
    };
    if app_id == APPLICATION_ID {
        let version = meta(conn, SCHEMA_KEY)
            .ok()
            .flatten()
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| not_journal("its schema version is missing"))?;
        if version > SCHEMA_VERSION {
            return Err(JournalError::TooNew {
                path: path.to_owned(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        return Ok(());
    }
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    if app_id != 0 || objects != 0 {
        return Err(not_journal("an SQLite database with other contents"));
    }
    Err(not_journal(EMPTY))
}

fn set_wal(conn: &Connection, path: &Path) -> Result<(), JournalError> {
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if mode.eq_ignore_ascii_case("wal") {
        Ok(())
    } else {
        let msg = format!("cannot switch the journal to WAL mode (SQLite kept {mode})");
        Err(JournalError::io(path, io::Error::other(msg)))
    }
}

fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}
