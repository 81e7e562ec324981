//! The journal's side of a resumed run: the input filter that skips what the journal has finished
//! (and refuses an input that changed), and the sink that turns each record of this run into a
//! journal row once its line is in the output file.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::input::{Admit, Filter, Request};
use crate::output::writer::RecordWriter;
use crate::record::{ErrorKind, Record};

use super::{input_hash, Cursor, JournalError, Row, Writer};

/// Skips the inputs the journal has recorded, checking that each is still the line that was
/// fetched; counts what it skipped.
pub struct Resume {
    cursor: Cursor,
    skipped: Arc<AtomicU64>,
}

impl Resume {
    /// A filter over `cursor` that counts its skips in `skipped`.
    pub fn new(cursor: Cursor, skipped: Arc<AtomicU64>) -> Resume {
        Resume { cursor, skipped }
    }
}

impl Filter for Resume {
    fn admit(&mut self, index: u64, req: &mut Request) -> Result<Admit, String> {
        let Some(done) = self.cursor.lookup(index).map_err(|e| e.to_string())? else {
            return Ok(Admit::Pass);
        };
        super::check(&done, input_hash(req.input.as_bytes()), index).map_err(|e| e.to_string())?;
        self.skipped.fetch_add(1, Ordering::Relaxed);
        Ok(Admit::Skip)
    }
}

/// Whether `rec` is a finished input the journal keeps. A record cut short by Ctrl-C or the run's
/// deadline is not: the next run fetches that input again, so it is neither journaled nor written
/// to the output file.
pub fn is_finished(rec: &Record) -> bool {
    !matches!(
        rec.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::Interrupted | ErrorKind::Deadline)
    )
}

/// Collects this run's rows and hands them to the journal's writer in groups, each with the
/// length of the output file that holds their lines.
pub struct Sink {
    writer: Writer,
    pending: Vec<Row>,
    /// When the oldest pending row was added.
    since: Option<Instant>,
}

/// Rows handed over at once while records keep coming…
const GROUP: usize = 512;
/// …or when the oldest has waited this long. Small groups would make small commits, each of
/// which writes whole pages; a crash loses (and the next run repeats) at most this much
/// finished work, plus the writer's batch delay.
const MAX_WAIT: Duration = Duration::from_millis(10);

impl Sink {
    /// A sink feeding `writer`.
    pub fn new(writer: Writer) -> Sink {
        Sink {
            writer,
            pending: Vec::new(),
            since: None,
        }
    }

    /// Keeps `rec` (a finished input, see [`is_finished`]) for the next group; `json` is its
    /// JSON form when the caller has it already (a JSONL line, see
    /// [`Printer::is_whole_json`](crate::output::format::Printer::is_whole_json)).
    pub fn add(&mut self, rec: &Record, json: Option<&[u8]>) {
        let record = match json.map(|j| String::from_utf8(j.to_vec())) {
            Some(Ok(json)) => json,
            _ => serde_json::to_string(rec).expect("a record always serialises"),
        };
        self.since.get_or_insert_with(Instant::now);
        self.pending.push(Row {
            idx: rec.index,
            hash: input_hash(rec.input.as_bytes()),
            ok: rec.ok,
            record,
        });
    }

    /// When the pending rows are due to be handed over at the latest (`None` when none wait).
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|t| t + MAX_WAIT)
    }

    /// Hands over the pending rows once [`GROUP`] of them wait or the oldest has waited
    /// [`MAX_WAIT`], or whatever waits when `force` (the run ends). With `in_step` (an output
    /// file kept in step with the journal), `out` is written out first and the rows go with the
    /// file's length.
    ///
    /// # Errors
    /// Writing `out` out failed.
    pub fn send(
        &mut self,
        out: &mut RecordWriter,
        in_step: bool,
        force: bool,
    ) -> std::io::Result<()> {
        let due =
            self.pending.len() >= GROUP || self.deadline().is_some_and(|d| d <= Instant::now());
        if self.pending.is_empty() || !(force || due) {
            return Ok(());
        }
        let output_len = if in_step {
            out.flush()?;
            Some(out.position())
        } else {
            None
        };
        self.since = None;
        self.writer
            .rows(std::mem::take(&mut self.pending), output_len);
        Ok(())
    }

    /// Waits until everything handed over is committed.
    ///
    /// # Errors
    /// The journal writer's error.
    pub fn flush(&mut self) -> Result<(), JournalError> {
        self.writer.flush()
    }
}
