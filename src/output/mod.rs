//! The output stage, the only writer of stdout and stderr: record formats (text, JSON Lines,
//! CSV), the record writer and its buffering, the progress line and the summary.

pub mod format;
pub mod journal;
pub mod progress;
pub mod sanitize;
pub mod save;
pub mod select;
pub mod summary;
pub mod writer;
