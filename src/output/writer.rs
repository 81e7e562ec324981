//! The record writer: formats records into one buffer and writes it out — at once on a terminal
//! (line-buffered), in large blocks in a pipe or file, and never later than a short interval after
//! the last record, so a slow run still shows its records as they come.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::output::format::Printer;
use crate::record::Record;

/// Block-buffered output flushes when this much is waiting.
const BLOCK: usize = 64 * 1024;
/// …or when the oldest waiting byte is this old and no record is ready.
pub const MAX_DELAY: Duration = Duration::from_millis(200);

/// Writes formatted records to one destination.
pub struct RecordWriter {
    out: Box<dyn Write + Send>,
    printer: Printer,
    buf: Vec<u8>,
    line_buffered: bool,
    since: Option<Instant>,
    /// Bytes written out to `out` so far, counting from where it was when the writer was made.
    position: u64,
}

impl RecordWriter {
    /// A writer to `out`; `line_buffered` when `out` is a terminal. Writes the format's header
    /// (CSV) at once.
    pub fn new(out: Box<dyn Write + Send>, printer: Printer, line_buffered: bool) -> Self {
        let mut w = RecordWriter {
            out,
            printer,
            buf: Vec::with_capacity(BLOCK + 4096),
            line_buffered,
            since: None,
            position: 0,
        };
        w.printer.header(&mut w.buf);
        w
    }

    /// A writer that goes on at byte `at` of a file that already has its header (a resumed run):
    /// writes no header, and counts [`position`](Self::position) from `at`.
    pub fn resume(out: Box<dyn Write + Send>, printer: Printer, at: u64) -> Self {
        let mut w = RecordWriter::new(out, printer, false);
        w.buf.clear();
        w.position = at;
        w
    }

    /// Whether each line is the record's whole JSON form (see [`Printer::is_whole_json`]).
    pub fn is_whole_json(&self) -> bool {
        self.printer.is_whole_json()
    }

    /// Where the bytes written out so far end.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Whether every formatted record has been written out.
    pub fn is_drained(&self) -> bool {
        self.buf.is_empty()
    }

    /// Formats `rec`; writes out if the buffer policy says so.
    pub fn write(&mut self, rec: &Record) -> io::Result<()> {
        self.write_then(rec, |_| {})
    }

    /// [`write`](Self::write), handing `line` the formatted line (without its `\n`) before
    /// anything is written out.
    pub fn write_then(&mut self, rec: &Record, line: impl FnOnce(&[u8])) -> io::Result<()> {
        let start = self.buf.len();
        self.printer.write(rec, &mut self.buf);
        line(&self.buf[start..self.buf.len() - 1]);
        self.since.get_or_insert_with(Instant::now);
        if self.line_buffered || self.buf.len() >= BLOCK {
            self.flush()?;
        }
        Ok(())
    }

    /// When the waiting bytes must be written at the latest (None when nothing waits).
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|t| t + MAX_DELAY)
    }

    /// Writes out everything waiting.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.position += self.buf.len() as u64;
            self.buf.clear();
        }
        self.since = None;
        self.out.flush()
    }
}
