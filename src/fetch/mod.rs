//! The fetch stage: one exchange on the shared client — DNS, TLS, the pool, HTTP/1.1 and 2,
//! the per-attempt timeout, our own redirect loop (each hop returns to the scheduler), capped
//! decompression and body streaming.

mod body;
pub mod client;
pub mod connect;
pub mod decode;
pub mod error;
mod exchange;
pub mod redirect;

pub use client::{FetchConfig, HttpVersion};
pub use exchange::{Fetcher, Job};
