//! The fetch stage: one exchange on the shared client — DNS, TLS, the pool, HTTP/1.1 and 2,
//! the per-attempt timeout, our own redirect loop (each hop returns to the scheduler), capped
//! decompression and body streaming.

mod body;
pub mod client;
pub mod connect;
pub mod decode;
pub mod error;
mod exchange;
mod headers;
pub mod proxy;
pub mod redirect;
mod retry_after;
mod tracked;

pub use client::{FetchConfig, HttpVersion};
pub(crate) use exchange::humanize;
pub use exchange::{Attempt, Ending, Fetcher, Job};
pub use retry_after::parse_retry_after;
