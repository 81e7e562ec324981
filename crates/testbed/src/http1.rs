//! The plain HTTP/1.1 server: raw tokio sockets and `httparse`, so plans control every byte.
//!
//! One task per connection; keep-alive and pipelining, `Connection: close`, HTTP/1.0,
//! `Expect: 100-continue`, request bodies by `Content-Length` or chunked. Heads are capped at
//! [`MAX_HEAD`] (431 beyond), bodies at [`MAX_BODY`] (413 beyond). Every wait is bounded by
//! [`MAX_WAIT`].

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout, Instant};

use crate::plan::{reason, Body, Ending, Plan, Reply, Request, MAX_WAIT};
use crate::server::Shared;
use crate::stats::Seen;

/// Largest request head accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// Bytes per chunk for filled and endless bodies.
const PIECE: usize = 64 * 1024;
/// Total bound for `/chunked-endless`.
const ENDLESS_MAX: u64 = 10 << 30;

/// Accepts connections on `listener` (plain host `slot`) forever.
pub(crate) async fn serve(listener: TcpListener, slot: usize, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let conn_id = shared.stats.accepted(slot);
        let _ = stream.set_nodelay(true);
        let sh = Arc::clone(&shared);
        tokio::spawn(shared.catch(connection(stream, slot, conn_id, sh)));
    }
}

/// How a connection continues after a response.
enum Next {
    KeepAlive,
    Close,
    Reset,
}

/// Why reading a request failed.
enum ReadError {
    /// The peer closed or the socket failed: just drop the connection.
    Gone,
    /// Answer with this status and close.
    Reply(u16, &'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Gone
    }
}

struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

async fn connection(stream: TcpStream, slot: usize, conn_id: u64, shared: Arc<Shared>) {
    let mut conn = Conn {
        stream,
        buf: BytesMut::with_capacity(8 * 1024),
    };
    let mut conn_seq = 0;
    loop {
        let head = match conn.read_head().await {
            Ok(Some(h)) => h,
            Ok(None) | Err(ReadError::Gone) => return,
            Err(ReadError::Reply(code, why)) => {
                let _ = conn.reject(code, why).await;
                return;
            }
        };
        let at = shared.stats.elapsed();
        let in_flight = shared.stats.begin(slot);
        conn_seq += 1;
        let body = match conn.read_body(&head).await {
            Ok(b) => b,
            Err(ReadError::Gone) => return,
            Err(ReadError::Reply(code, why)) => {
                let _ = conn.reject(code, why).await;
                return;
            }
        };
        let req = Request {
            method: head.method,
            target: head.target,
            version: format!("HTTP/1.{}", head.minor),
            headers: head.headers,
            body,
            conn_seq,
        };
        shared.stats.record(Seen {
            host: slot,
            tls: false,
            method: req.method.clone(),
            path_and_query: req.target.clone(),
            headers: req.headers.clone(),
            version: req.version.clone(),
            conn_id,
            body: req.body.to_vec(),
            at,
            concurrent: in_flight.concurrent(),
        });
        let plan = crate::routes::route(&req, &shared.routes);
        let ctx = Ctx {
            keep_alive: head.keep_alive,
            head_only: req.method == "HEAD",
            http10: head.minor == 0,
        };
        match conn.carry_out(plan, ctx).await {
            Ok(Next::KeepAlive) => {}
            Ok(Next::Close) | Err(_) => return,
            Ok(Next::Reset) => {
                let _ = conn.stream.set_zero_linger();
                return;
            }
        }
    }
}

struct Head {
    method: String,
    target: String,
    minor: u8,
    headers: Vec<(String, String)>,
    keep_alive: bool,
    content_length: Option<usize>,
    chunked: bool,
    expect_continue: bool,
}

#[derive(Clone, Copy)]
struct Ctx {
    keep_alive: bool,
    head_only: bool,
    http10: bool,
}

impl Conn {
    /// Reads more bytes into the buffer; `Ok(0)` at EOF.
    async fn fill(&mut self) -> Result<usize, ReadError> {
        match timeout(MAX_WAIT, self.stream.read_buf(&mut self.buf)).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(ReadError::Gone),
        }
    }

    /// Reads one request head; `Ok(None)` on a clean EOF between requests.
    async fn read_head(&mut self) -> Result<Option<Head>, ReadError> {
        loop {
            // Tolerate stray CRLFs between pipelined requests (RFC 9112 §2.2).
            while self.buf.starts_with(b"\r\n") {
                self.buf.advance(2);
            }
            if !self.buf.is_empty() {
                let mut slots = [httparse::EMPTY_HEADER; 128];
                let mut req = httparse::Request::new(&mut slots);
                match req.parse(&self.buf) {
                    Ok(httparse::Status::Complete(len)) if len > MAX_HEAD => {
                        return Err(ReadError::Reply(431, "request head too large"))
                    }
                    Ok(httparse::Status::Complete(len)) => {
                        let head = parse_head(&req)?;
                        self.buf.advance(len);
                        return Ok(Some(head));
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(httparse::Error::TooManyHeaders) => {
                        return Err(ReadError::Reply(431, "too many header fields"))
                    }
                    Err(_) => return Err(ReadError::Reply(400, "malformed request head")),
                }
                if self.buf.len() > MAX_HEAD {
                    return Err(ReadError::Reply(431, "request head too large"));
                }
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(ReadError::Gone)
                };
            }
        }
    }

    async fn read_body(&mut self, head: &Head) -> Result<Bytes, ReadError> {
        if head.expect_continue && (head.chunked || head.content_length.unwrap_or(0) > 0) {
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        if head.chunked {
            return self.read_chunked().await;
        }
        let len = head.content_length.unwrap_or(0);
        while self.buf.len() < len {
            if self.fill().await? == 0 {
                return Err(ReadError::Gone);
            }
        }
        Ok(self.buf.split_to(len).freeze())
    }

    async fn read_chunked(&mut self) -> Result<Bytes, ReadError> {
        let mut body = BytesMut::new();
        loop {
            let line = self.read_line().await?;
            let size = line.split(|&b| b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size)
                .ok()
                .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
                .ok_or(ReadError::Reply(400, "bad chunk size"))?;
            if size == 0 {
                // Trailer fields, up to the empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(body.freeze());
            }
            if body.len() + size > MAX_BODY {
                return Err(ReadError::Reply(413, "request body too large"));
            }
            while self.buf.len() < size + 2 {
                if self.fill().await? == 0 {
                    return Err(ReadError::Gone);
                }
            }
            body.extend_from_slice(&self.buf[..size]);
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(ReadError::Reply(400, "chunk not followed by CRLF"));
            }
            self.buf.advance(size + 2);
        }
    }

    /// One CRLF-terminated line, without the CRLF.
    async fn read_line(&mut self) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf.split_to(i).to_vec();
                self.buf.advance(2);
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Reply(400, "line too long"));
            }
            if self.fill().await? == 0 {
                return Err(ReadError::Gone);
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        bounded(self.stream.write_all(bytes)).await
    }

    async fn reject(&mut self, status: u16, why: &str) -> io::Result<()> {
        let reply = Reply::new(status, format!("{why}\n"))
            .header("Content-Type", "text/plain; charset=utf-8");
        let ctx = Ctx {
            keep_alive: false,
            head_only: false,
            http10: false,
        };
        self.send(&reply, ctx, false).await
    }

    /// Carries out `plan`; says how the connection goes on.
    async fn carry_out(&mut self, mut plan: Plan, ctx: Ctx) -> io::Result<Next> {
        loop {
            plan = match plan {
                Plan::Delay(d, next) => {
                    tokio::time::sleep(d.min(MAX_WAIT)).await;
                    *next
                }
                Plan::Blocking(f) => match tokio::task::spawn_blocking(f).await {
                    Ok(p) => p,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(e) => return Err(io::Error::other(e)),
                },
                Plan::Reply(reply) => {
                    let chunked_ok = !ctx.http10;
                    let keep = ctx.keep_alive && (chunked_ok || !reply.chunked);
                    let ctx = Ctx {
                        keep_alive: keep,
                        ..ctx
                    };
                    self.send(&reply, ctx, chunked_ok).await?;
                    return Ok(if keep { Next::KeepAlive } else { Next::Close });
                }
                Plan::Reset => return Ok(Next::Reset),
                Plan::Close => {
                    let _ = self.stream.shutdown().await;
                    return Ok(Next::Close);
                }
                Plan::Hang => {
                    self.wait_for_close().await;
                    return Ok(Next::Close);
                }
                Plan::Partial { head, then } => {
                    self.write(&head_bytes(&head, false, false)).await?;
                    match &head.body {
                        Body::Full(b) => self.write(b).await?,
                        &Body::Generated { seed, offset, len } => {
                            self.write_generated(seed, offset, len, false).await?
                        }
                        Body::Fill { .. } => {}
                    }
                    return Ok(match then {
                        Ending::Fin => {
                            let _ = self.stream.shutdown().await;
                            Next::Close
                        }
                        Ending::Rst => Next::Reset,
                        Ending::Hang => {
                            self.wait_for_close().await;
                            Next::Close
                        }
                    });
                }
                Plan::Drip {
                    head,
                    bytes,
                    interval,
                } => {
                    self.write(&head_bytes(&head, false, ctx.keep_alive))
                        .await?;
                    let deadline = Instant::now() + MAX_WAIT;
                    for _ in 0..bytes {
                        if Instant::now() + interval > deadline {
                            return Ok(Next::Close);
                        }
                        tokio::time::sleep(interval).await;
                        self.write(b"x").await?;
                    }
                    return Ok(if ctx.keep_alive {
                        Next::KeepAlive
                    } else {
                        Next::Close
                    });
                }
                Plan::Endless { head } => {
                    self.write(&head_bytes(&head, true, false)).await?;
                    let chunk = chunk_frame(&[b'x'; PIECE]);
                    let deadline = Instant::now() + MAX_WAIT;
                    let mut sent = 0u64;
                    while sent < ENDLESS_MAX && Instant::now() < deadline {
                        self.write(&chunk).await?;
                        sent += PIECE as u64;
                    }
                    return Ok(Next::Close);
                }
                Plan::Raw(bytes) => {
                    self.write(&bytes).await?;
                    let _ = self.stream.shutdown().await;
                    return Ok(Next::Close);
                }
            };
        }
    }

    /// Sends a complete response (head and body as framed by `reply`).
    async fn send(&mut self, reply: &Reply, ctx: Ctx, chunked_ok: bool) -> io::Result<()> {
        let chunked = reply.chunked && chunked_ok;
        let mut out = head_bytes(reply, chunked, ctx.keep_alive);
        let body_allowed = !ctx.head_only && !reply.bodiless_status();
        if !body_allowed {
            return self.write(&out).await;
        }
        match &reply.body {
            Body::Full(b) if chunked => {
                if !b.is_empty() {
                    out.extend_from_slice(&chunk_frame(b));
                }
                out.extend_from_slice(b"0\r\n\r\n");
                self.write(&out).await
            }
            Body::Full(b) => {
                out.extend_from_slice(b);
                self.write(&out).await
            }
            Body::Fill { byte, len } => {
                self.write(&out).await?;
                let piece = vec![*byte; PIECE];
                let mut left = *len;
                while left > 0 {
                    let n = left.min(PIECE as u64) as usize;
                    if chunked {
                        self.write(&chunk_frame(&piece[..n])).await?;
                    } else {
                        self.write(&piece[..n]).await?;
                    }
                    left -= n as u64;
                }
                if chunked {
                    self.write(b"0\r\n\r\n").await?;
                }
                Ok(())
            }
            &Body::Generated { seed, offset, len } => {
                self.write(&out).await?;
                self.write_generated(seed, offset, len, chunked).await?;
                if chunked {
                    self.write(b"0\r\n\r\n").await?;
                }
                Ok(())
            }
        }
    }

    /// Writes bytes `offset .. offset + len` of the stream of [`crate::files::fill`] for `seed`,
    /// one [`PIECE`] at a time (chunk-framed if `chunked`, without the last chunk).
    async fn write_generated(
        &mut self,
        seed: u64,
        offset: u64,
        len: u64,
        chunked: bool,
    ) -> io::Result<()> {
        let mut piece = vec![0u8; PIECE];
        let (mut pos, end) = (offset, offset.saturating_add(len));
        while pos < end {
            let n = (end - pos).min(PIECE as u64) as usize;
            crate::files::fill(seed, pos, &mut piece[..n]);
            if chunked {
                self.write(&chunk_frame(&piece[..n])).await?;
            } else {
                self.write(&piece[..n]).await?;
            }
            pos += n as u64;
        }
        Ok(())
    }

    /// Reads and discards until the peer closes, an error, or [`MAX_WAIT`].
    async fn wait_for_close(&mut self) {
        let drain = async {
            let mut sink = [0u8; 4096];
            while let Ok(n) = self.stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        };
        let _ = timeout(MAX_WAIT, drain).await;
    }
}

/// Runs a write with the [`MAX_WAIT`] bound (a client that stops reading cannot pin us).
async fn bounded(fut: impl Future<Output = io::Result<()>>) -> io::Result<()> {
    match timeout(MAX_WAIT, fut).await {
        Ok(r) => r,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

fn parse_head(req: &httparse::Request<'_, '_>) -> Result<Head, ReadError> {
    let minor = req.version.unwrap_or(1);
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let has_token = |name: &str, token: &str| {
        headers
            .iter()
            .any(|(n, v)| n == name && v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    let keep_alive = if minor == 0 {
        has_token("connection", "keep-alive")
    } else {
        !has_token("connection", "close")
    };
    let chunked = has_token("transfer-encoding", "chunked");
    if !chunked && headers.iter().any(|(n, _)| n == "transfer-encoding") {
        return Err(ReadError::Reply(501, "unsupported transfer-encoding"));
    }
    let mut content_length = None;
    for (n, v) in &headers {
        if n == "content-length" {
            let len: usize = v
                .trim()
                .parse()
                .map_err(|_| ReadError::Reply(400, "bad content-length"))?;
            if content_length.is_some_and(|old| old != len) {
                return Err(ReadError::Reply(400, "conflicting content-length"));
            }
            content_length = Some(len);
        }
    }
    if content_length.unwrap_or(0) > MAX_BODY {
        return Err(ReadError::Reply(413, "request body too large"));
    }
    Ok(Head {
        method: req.method.unwrap_or("GET").to_string(),
        target: req.path.unwrap_or("/").to_string(),
        minor,
        expect_continue: has_token("expect", "100-continue"),
        headers,
        keep_alive,
        content_length,
        chunked,
    })
}

/// Status line and headers, with `Server`, framing and `Connection: close` added as needed.
fn head_bytes(reply: &Reply, chunked: bool, keep_alive: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(
        format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status)).as_bytes(),
    );
    let mut add = |name: &str, value: &[u8]| {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    };
    if !reply.has_header("server") {
        add("Server", b"testbed");
    }
    for (n, v) in &reply.headers {
        add(n, v);
    }
    if chunked {
        if !reply.has_header("transfer-encoding") {
            add("Transfer-Encoding", b"chunked");
        }
    } else if !reply.has_header("content-length")
        && !reply.has_header("transfer-encoding")
        && !reply.bodiless_status()
    {
        add("Content-Length", reply.body.len().to_string().as_bytes());
    }
    if !keep_alive && !reply.has_header("connection") {
        add("Connection", b"close");
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn chunk_frame(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}
