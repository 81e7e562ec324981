//! The journal's error type: what can go wrong opening, writing or reading a journal, with the
//! messages the command line shows as they are.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Why a journal operation failed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum JournalError {
    /// Creating or opening the journal or its lock file failed.
    Io {
        /// The file concerned (the journal or its `.lock` sidecar).
        path: PathBuf,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// Another process (or another [`Journal`](super::Journal) in this one) holds the journal.
    Locked {
        /// The journal file.
        path: PathBuf,
    },
    /// The file exists but is not a volley journal; it was left untouched.
    NotJournal {
        /// The file.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },
    /// The journal was written by a newer volley with a schema this one cannot read.
    TooNew {
        /// The journal file.
        path: PathBuf,
        /// The schema version found in the file.
        found: u32,
        /// The newest schema version this volley reads.
        supported: u32,
    },
    /// The input line at `idx` has a different hash from the one the journal recorded.
    Mismatch {
        /// The 0-based index of the input line.
        idx: u64,
    },
    /// SQLite reported an error (on the writer thread, it is reported by the next flush or close).
    Sqlite(Arc<rusqlite::Error>),
    /// The journal was closed (or its writer thread is gone) before the operation.
    Closed,
}

impl JournalError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> JournalError {
        JournalError::Io {
            path: path.into(),
            source: Arc::new(source),
        }
    }
}

impl From<rusqlite::Error> for JournalError {
    fn from(e: rusqlite::Error) -> JournalError {
        JournalError::Sqlite(Arc::new(e))
    }
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            JournalError::Locked { path } => {
                write!(f, "{} is in use by another volley run", path.display())
            }
            JournalError::NotJournal { path, reason } => {
                write!(f, "{} is not a volley journal ({reason})", path.display())
            }
            JournalError::TooNew {
                path,
                found,
                supported,
            } => write!(
                f,
                "{} was written by a newer volley (journal schema {found}, this volley reads up \
                 to {supported}): upgrade volley or use a new journal",
                path.display()
            ),
            JournalError::Mismatch { idx } => write!(
                f,
                "input line {idx} does not match the journal (the input changed since the \
                 journal was written): use a new journal or the original input"
            ),
            JournalError::Sqlite(e) => write!(f, "journal: {e}"),
            JournalError::Closed => f.write_str("journal: already closed"),
        }
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JournalError::Io { source, .. } => Some(&**source),
            JournalError::Sqlite(e) => Some(&**e),
            _ => None,
        }
    }
}
