//! The schedule stage: when each job may run.
//!
//! No sockets and no tasks here — only the bookkeeping that keeps the limits true, so it can be
//! tested exhaustively. The engine asks for the next job that may start, starts it, and reports
//! back when it ends.

mod hosts;

pub use hosts::{host_key, HostKey, Scheduler};
