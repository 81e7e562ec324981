//! volley: fetch many HTTP(S) URLs concurrently and report, extract or save what comes back.
//!
//! The library mirrors the command line. Data flows one way through stages named after the
//! modules: [`input`] (lines → numbered jobs) → [`schedule`] (when each job may run) → [`fetch`]
//! (one exchange on the shared client) → [`extract`] (title and friends) → [`output`] (records,
//! summary, progress).
#![deny(missing_docs)]

pub mod extract;
pub mod fetch;
pub mod input;
pub mod output;
pub mod record;
pub mod schedule;
pub mod status;

mod engine;

pub use engine::{Builder, Interrupter, Report, Run, Volley};
pub use input::Request;
pub use record::{ErrorKind, Record, RecordError};
