//! The schedule stage: when each job may run.
//!
//! No sockets and no tasks here — only the bookkeeping that keeps the limits true (concurrency,
//! rates, retries' back-offs, `Retry-After` pauses, adaptive slow-down, circuit breakers), so it
//! can be tested exhaustively under a paused clock. The engine asks for the next job that may
//! start, starts it, and reports back how it ended.

mod adapt;
mod breaker;
mod hosts;
mod rate;
mod retry;
mod ring;

pub use adapt::Slowdown;
pub use breaker::Signal;
pub use hosts::{host_key, Feedback, HostKey, Limits, Scheduler, Shed};
pub use rate::Rate;
pub use retry::{idempotent, Ended, RetryPolicy, Verdict};
