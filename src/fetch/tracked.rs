//! Connections that count their requests, so an exchange can tell a reused keep-alive
//! connection from a fresh one (only a reused one can be stale).
//!
//! The count rides on hyper-util's connection metadata (`Connected::extra`), which an exchange
//! captures with `capture_connection` even when the request fails.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{CaptureConnection, Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The number of exchanges that ended on one connection.
#[derive(Debug, Clone, Default)]
pub struct Uses(Arc<AtomicU32>);

impl Uses {
    /// The counter of the connection `captured` was sent on, if it got one.
    pub fn of(captured: &CaptureConnection) -> Option<Uses> {
        let meta = captured.connection_metadata();
        let mut ext = http::Extensions::new();
        meta.as_ref()?.get_extras(&mut ext);
        ext.remove::<Uses>()
    }

    /// Counts one more exchange; returns how many ended before it.
    pub fn bump(&self) -> u32 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

/// A TCP stream with its [`Uses`].
pub struct Tracked {
    io: TokioIo<TcpStream>,
    uses: Uses,
    proxied: bool,
}

impl Tracked {
    /// Wraps a new connection (no uses yet).
    pub fn new(io: TokioIo<TcpStream>) -> Self {
        Tracked {
            io,
            uses: Uses::default(),
            proxied: false,
        }
    }

    /// Marks a connection to an http proxy that forwards plain-http requests, so hyper-util
    /// sends them in absolute form.
    pub fn proxied(mut self) -> Self {
        self.proxied = true;
        self
    }
}

impl Connection for Tracked {
    fn connected(&self) -> Connected {
        self.io
            .connected()
            .proxy(self.proxied)
            .extra(self.uses.clone())
    }
}

impl Read for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}
