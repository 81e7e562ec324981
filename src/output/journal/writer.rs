//! The journal's writer thread: it owns the write connection and turns a stream of finished
//! inputs into batched transactions, so the fetch pipeline never waits for a disk sync.
//!
//! A batch commits when [`BATCH_ROWS`] rows are pending or [`BATCH_DELAY`] after its first row,
//! whichever comes first, and whenever someone asks for a flush. An SQLite error stops the writing
//! (later rows are dropped) and is reported by every later flush and by close: a run that cannot
//! journal must stop rather than carry on believing its records are safe.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::error::JournalError;

/// Messages (groups of rows, at most a few hundred each from a run) the channel holds before a
/// send blocks: bounds what waits for the disk.
const CHANNEL: usize = 16;
/// A batch commits once this many rows are pending…
const BATCH_ROWS: usize = 1024;
/// …or this long after its first row.
const BATCH_DELAY: Duration = Duration::from_millis(10);

/// What the writer thread is asked to do, in order.
enum Msg {
    /// Rows committed together, with the output file's length once their lines were written.
    Rows(Vec<Row>, Option<u64>),
    Flush(SyncSender<Result<(), JournalError>>),
    Shutdown(SyncSender<Result<(), JournalError>>),
}

/// One finished input as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Its 0-based index among the inputs.
    pub idx: u64,
    /// The [`input_hash`](super::input_hash) of its line.
    pub hash: i64,
    /// Whether its record was ok.
    pub ok: bool,
    /// The record as JSON.
    pub record: String,
}

/// A handle that sends finished inputs to the journal's writer thread. Cheap to clone; every clone
/// feeds the same thread.
#[derive(Clone)]
pub struct Writer {
    tx: SyncSender<Msg>,
}

impl Writer {
    /// Queues the record of input `idx` (its line hash from [`input_hash`](super::input_hash),
    /// whether it succeeded, and its record as JSON). A record already in the journal for `idx` is
    /// replaced, which is how `--retry-failed` overwrites a failure.
    ///
    /// Blocks only while the channel is full (the disk is slower than the fetches). Errors, and
    /// rows sent after the journal was closed, are reported by the next [`flush`](Self::flush).
    pub fn record(&self, idx: u64, hash: i64, ok: bool, record_json: String) {
        let row = Row {
            idx,
            hash,
            ok,
            record: record_json,
        };
        self.rows(vec![row], None);
    }

    /// Queues `rows` to be committed in one transaction, never split across two, together with
    /// `output_len` (kept as the journal's [`OUTPUT_LEN`](super::OUTPUT_LEN)): the length of the
    /// output file once the lines of these rows (and of every row sent before) were written to
    /// it. A resumed run cuts the file back to that length, so the file and the journal always
    /// agree on which inputs are done.
    pub fn rows(&self, rows: Vec<Row>, output_len: Option<u64>) {
        // A send fails only when the thread is gone; `flush` reports that.
        let _ = self.tx.send(Msg::Rows(rows, output_len));
    }

    /// Blocks until every row this handle sent before the call is committed (durable against a
    /// crash of the process, see [`Journal::open`](super::Journal::open)).
    ///
    /// # Errors
    /// The writer thread's SQLite error, if it met one; [`JournalError::Closed`] after close.
    pub fn flush(&self) -> Result<(), JournalError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.tx
            .send(Msg::Flush(tx))
            .map_err(|_| JournalError::Closed)?;
        rx.recv().map_err(|_| JournalError::Closed)?
    }
}

/// The journal's end of the writer: the thread and a way to stop it.
pub(super) struct WriterThread {
    writer: Writer,
    handle: Option<JoinHandle<()>>,
}

impl WriterThread {
    /// Starts the thread that owns `conn`.
    pub(super) fn start(conn: Connection) -> Result<WriterThread, JournalError> {
        let (tx, rx) = mpsc::sync_channel(CHANNEL);
        let handle = std::thread::Builder::new()
            .name("volley-journal".into())
            .spawn(move || {
                Batcher {
                    conn,
                    pending: 0,
                    first_at: None,
                    failed: None,
                }
                .run(rx)
            })
            .map_err(|e| JournalError::io("journal writer thread", e))?;
        Ok(WriterThread {
            writer: Writer { tx },
            handle: Some(handle),
        })
    }

    pub(super) fn writer(&self) -> Writer {
        self.writer.clone()
    }

    /// Commits what is pending, stops the thread and waits for it. Idempotent.
    pub(super) fn shutdown(&mut self) -> Result<(), JournalError> {
        let Some(handle) = self.handle.take() else {
            return Ok(());
        };
        let (tx, rx) = mpsc::sync_channel(1);
        let result = match self.writer.tx.send(Msg::Shutdown(tx)) {
            Ok(()) => rx.recv().unwrap_or(Err(JournalError::Closed)),
            Err(_) => Err(JournalError::Closed),
        };
        if handle.join().is_err() {
            return Err(JournalError::Closed);
        }
        result
    }
}

/// The state of the writer thread.
struct Batcher {
    conn: Connection,
    /// Rows inserted in the open transaction.
    pending: usize,
    /// When the open transaction got its first row.
    first_at: Option<Instant>,
    /// The first error met; once set, nothing more is written.
    failed: Option<JournalError>,
}

impl Batcher {
    fn run(mut self, rx: Receiver<Msg>) {
        loop {
            let msg = match self.first_at {
                None => match rx.recv() {
                    Ok(msg) => msg,
                    Err(_) => break,
                },
                Some(first) => {
                    let wait = (first + BATCH_DELAY).saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok(msg) => msg,
                        Err(RecvTimeoutError::Timeout) => {
                            self.commit();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            match msg {
                Msg::Rows(mut rows, output_len) => {
                    // Records finish nearly in input order; in order, each lands at the end of
                    // the table, which fills pages whole instead of splitting them in the middle
                    // (a third fewer pages written, and less work per row).
                    rows.sort_unstable_by_key(|r| r.idx);
                    for row in &rows {
                        self.insert(row);
                    }
                    if let Some(len) = output_len {
                        self.set_output_len(len);
                    }
                    if self.pending >= BATCH_ROWS {
                        self.commit();
                    }
                }
                Msg::Flush(reply) => {
                    self.commit();
                    let _ = reply.send(self.status());
                }
                Msg::Shutdown(reply) => {
                    self.commit();
                    let _ = reply.send(self.status());
                    return;
                }
            }
        }
        self.commit();
    }

    fn status(&self) -> Result<(), JournalError> {
        match &self.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn insert(&mut self, row: &Row) {
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.try_insert(row) {
            self.fail(e);
        }
    }

    fn begin(&mut self) -> rusqlite::Result<()> {
        if self.first_at.is_none() {
            self.conn.execute_batch("BEGIN")?;
            self.first_at = Some(Instant::now());
        }
        Ok(())
    }

    fn try_insert(&mut self, row: &Row) -> rusqlite::Result<()> {
        self.begin()?;
        let idx = i64::try_from(row.idx)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO inputs (idx, hash, ok, record) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(rusqlite::params![idx, row.hash, row.ok, row.record])?;
        self.pending += 1;
        Ok(())
    }

    fn set_output_len(&mut self, len: u64) {
        if self.failed.is_some() {
            return;
        }
        let set = self.begin().and_then(|()| {
            self.conn
                .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
                .execute(rusqlite::params![super::OUTPUT_LEN, len.to_string()])
                .map(drop)
        });
        if let Err(e) = set {
            self.fail(e);
        }
    }

    fn commit(&mut self) {
        if self.first_at.take().is_none() {
            return;
        }
        self.pending = 0;
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            self.fail(e);
        }
    }

    /// Records the first error and abandons the open transaction.
    fn fail(&mut self, e: rusqlite::Error) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.first_at = None;
        self.pending = 0;
        if self.failed.is_none() {
            self.failed = Some(e.into());
        }
    }
}
