//! Reading a journal in input order with bounded memory: the resume cursor, merged with the input
//! stream to skip finished inputs, and the record iterator behind `volley journal export`.
//!
//! Both own a read connection of their own and fetch pages by index (`WHERE idx > ? ORDER BY idx
//! LIMIT ?`), so a journal of ten million inputs costs one page of memory, and both can move to
//! another thread than the journal's.

use std::collections::VecDeque;

use super::Reader;

use super::error::JournalError;

/// Rows fetched per page.
pub(super) const PAGE: usize = 4096;

/// What the journal knows about one finished input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    /// The [`input_hash`](super::input_hash) of the line when it was fetched.
    pub hash: i64,
    /// Whether its record was a success (`--retry-failed` fetches the others again).
    pub ok: bool,
}

/// Answers "is input `idx` already in the journal?" for increasing `idx`: a merge-join of the
/// input stream with the journal's rows in index order.
///
/// **Contract:** successive [`lookup`](Self::lookup) calls take strictly increasing `idx` (as the
/// input stream yields them). The cursor only moves forward and never looks back; a smaller or
/// repeated `idx` is a bug (checked in debug builds).
///
/// Rows the running process writes meanwhile are for inputs it has already looked up, so they
/// cannot change a later answer; another process cannot write while the journal is locked.
pub struct Cursor {
    conn: Reader,
    page: usize,
    /// Fetched rows not yet passed, in index order.
    buf: VecDeque<(u64, Done)>,
    /// A page came back short: there is nothing at or past the last fetch position.
    exhausted: bool,
    /// The last looked-up index, for the contract check.
    last: Option<u64>,
}

impl Cursor {
    pub(super) fn new(conn: Reader, page: usize) -> Cursor {
        Cursor {
            conn,
            page: page.max(1),
            buf: VecDeque::new(),
            exhausted: false,
            last: None,
        }
    }

    /// The journal's entry for input `idx`, or `None` if it has not been recorded.
    ///
    /// # Errors
    /// SQLite errors while fetching the next page.
    pub fn lookup(&mut self, idx: u64) -> Result<Option<Done>, JournalError> {
        debug_assert!(
            self.last.is_none_or(|last| idx > last),
            "Cursor::lookup({idx}) after lookup({:?}): indexes must increase",
            self.last
        );
        self.last = Some(idx);
        loop {
            while self.buf.front().is_some_and(|&(i, _)| i < idx) {
                self.buf.pop_front();
            }
            if let Some(&(i, done)) = self.buf.front() {
                return Ok((i == idx).then_some(done));
            }
            if self.exhausted {
                return Ok(None);
            }
            // Start the page at `idx` itself: a long run of unrecorded inputs costs one query.
            self.fetch(idx)?;
        }
    }

    /// Fetches the page of rows with index `from` or more.
    fn fetch(&mut self, from: u64) -> Result<(), JournalError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, hash, ok FROM inputs WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![to_sql_idx(from), self.page as i64], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                Done {
                    hash: r.get(1)?,
                    ok: r.get(2)?,
                },
            ))
        })?;
        for row in rows {
            self.buf.push_back(row?);
        }
        if self.buf.len() < self.page {
            self.exhausted = true;
        }
        Ok(())
    }
}

/// Every record in the journal, in input order, as `(idx, record JSON)`; see
/// [`Journal::records`](super::Journal::records).
pub struct Records {
    conn: Reader,
    page: usize,
    buf: VecDeque<(u64, String)>,
    /// The index to fetch from next; `None` once the end is reached.
    next: Option<u64>,
}

impl Records {
    pub(super) fn new(conn: Reader, page: usize) -> Records {
        Records {
            conn,
            page: page.max(1),
            buf: VecDeque::new(),
            next: Some(0),
        }
    }

    fn fetch(&mut self, from: u64) -> Result<(), JournalError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, record FROM inputs WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![to_sql_idx(from), self.page as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            self.buf.push_back(row?);
        }
        self.next = match self.buf.back() {
            Some(&(last, _)) if self.buf.len() == self.page => last.checked_add(1),
            _ => None,
        };
        Ok(())
    }
}

impl Iterator for Records {
    type Item = Result<(u64, String), JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            let from = self.next?;
            if let Err(e) = self.fetch(from) {
                self.next = None;
                return Some(Err(e));
            }
        }
        self.buf.pop_front().map(Ok)
    }
}

/// Indexes are stored as SQLite's signed integers; anything past `i64::MAX` clamps (no input
/// stream gets there).
fn to_sql_idx(idx: u64) -> i64 {
    i64::try_from(idx).unwrap_or(i64::MAX)
}
