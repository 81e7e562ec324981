//! The HTTPS server: tokio-rustls plus hyper's auto connection (HTTP/2 or HTTP/1.1 by ALPN).
//!
//! It runs the same routes as the plain server. Plans that need raw socket control are mapped to
//! what hyper can do: `Reset`, `Close` and `Raw` fail the request (hyper closes the HTTP/1.1
//! connection or resets the HTTP/2 stream), `Hang` waits up to [`MAX_WAIT`] before that,
//! `Partial` sends its head and bytes and then fails the body, drips and endless bodies are
//! streamed.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use tokio_rustls::TlsAcceptor;

use crate::http1::MAX_BODY;
use crate::plan::{Body, Ending, Plan, Reply, Request, MAX_WAIT};
use crate::server::Shared;
use crate::stats::{InFlight, Seen};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const PIECE: usize = 64 * 1024;
const ENDLESS_MAX: u64 = 10 << 30;

/// Accepts TLS connections on `listener` (stats slot `slot`) forever.
pub(crate) async fn serve(
    listener: TcpListener,
    slot: usize,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let conn_id = shared.stats.accepted(slot);
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let sh = Arc::clone(&shared);
        tokio::spawn(shared.catch(async move {
            let Ok(Ok(tls)) = timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
                return;
            };
            let seq = AtomicU64::new(0);
            let svc = service_fn(move |req| {
                let conn = Conn {
                    slot,
                    id: conn_id,
                    seq: seq.fetch_add(1, Ordering::SeqCst) + 1,
                };
                let fut = sh.catch(handle(req, conn, Arc::clone(&sh)));
                async move {
                    fut.await
                        .unwrap_or_else(|| Err(io::Error::other("handler panicked")))
                }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(MAX_WAIT);
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(Duration::from_secs(30));
            let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
        }));
    }
}

/// Where a request came from: the stats slot, the connection and its position on it.
#[derive(Clone, Copy)]
struct Conn {
    slot: usize,
    id: u64,
    seq: u64,
}

async fn handle(
    req: hyper::Request<Incoming>,
    conn: Conn,
    shared: Arc<Shared>,
) -> io::Result<Response<TlsBody>> {
    // hyper hands the request over once its head is parsed: that is its arrival.
    let at = shared.stats.elapsed();
    let guard = shared.stats.begin(conn.slot);
    let (parts, body) = req.into_parts();
    let body = match timeout(MAX_WAIT, Limited::new(body, MAX_BODY).collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        _ => {
            let reply = Reply::new(400, "bad or oversized request body\n");
            return Ok(response(&reply, TlsBody::full(Bytes::new(), guard)));
        }
    };
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if !parts.headers.contains_key(http::header::HOST) {
        if let Some(authority) = parts.uri.authority() {
            headers.insert(0, ("host".to_string(), authority.to_string()));
        }
    }
    let req = Request {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string(),
        version: format!("{:?}", parts.version),
        headers,
        body,
        conn_seq: conn.seq,
    };
    shared.stats.record(Seen {
        host: crate::TLS_HOST,
        tls: true,
        method: req.method.clone(),
        path_and_query: req.target.clone(),
        headers: req.headers.clone(),
        version: req.version.clone(),
        conn_id: conn.id,
        body: req.body.to_vec(),
        at,
        concurrent: guard.concurrent(),
    });
    let plan = crate::routes::route(&req, &shared.routes);
    carry_out(plan, guard).await
}

async fn carry_out(mut plan: Plan, guard: InFlight) -> io::Result<Response<TlsBody>> {
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
                let body = if reply.bodiless_status() {
                    TlsBody::full(Bytes::new(), guard)
                } else {
                    match &reply.body {
                        Body::Full(b) if reply.chunked => {
                            let (tx, body) = TlsBody::stream(None, guard);
                            let b = b.clone();
                            tokio::spawn(async move { tx.send(Ok(b)).await });
                            body
                        }
                        Body::Full(b) => TlsBody::full(b.clone(), guard),
                        &Body::Fill { byte, len } => {
                            let hint = (!reply.chunked).then_some(len);
                            let (tx, body) = TlsBody::stream(hint, guard);
                            tokio::spawn(fill(tx, byte, len));
                            body
                        }
                        &Body::Generated { seed, offset, len } => {
                            let hint = (!reply.chunked).then_some(len);
                            let (tx, body) = TlsBody::stream(hint, guard);
                            tokio::spawn(async move {
                                let _ = generated(&tx, seed, offset, len).await;
                            });
                            body
                        }
                    }
                };
                return Ok(response(&reply, body));
            }
            Plan::Reset | Plan::Close | Plan::Raw(_) => {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
            }
            Plan::Hang => {
                tokio::time::sleep(MAX_WAIT).await;
                return Err(io::Error::new(io::ErrorKind::TimedOut, "hang over"));
            }
            Plan::Partial { head, then } => {
                let (tx, mut body) = TlsBody::stream(None, guard);
                if let Body::Full(b) = &head.body {
                    body.first = (!b.is_empty()).then(|| b.clone());
                }
                let gen = match head.body {
                    Body::Generated { seed, offset, len } => Some((seed, offset, len)),
                    _ => None,
                };
                tokio::spawn(async move {
                    if let Some((seed, offset, len)) = gen {
                        if generated(&tx, seed, offset, len).await.is_err() {
                            return Ok(());
                        }
                    }
                    if then == Ending::Hang {
                        tokio::time::sleep(MAX_WAIT).await;
                    }
                    tx.send(Err(io::Error::other("truncated"))).await
                });
                return Ok(response(&head, body));
            }
            Plan::Drip {
                head,
                bytes,
                interval,
            } => {
                let (tx, body) = TlsBody::stream(Some(bytes), guard);
                tokio::spawn(drip(tx, bytes, interval));
                return Ok(response(&head, body));
            }
            Plan::Endless { head } => {
                let (tx, body) = TlsBody::stream(None, guard);
                tokio::spawn(endless(tx));
                return Ok(response(&head, body));
            }
        };
    }
}

type Sender = mpsc::Sender<io::Result<Bytes>>;

async fn fill(tx: Sender, byte: u8, len: u64) {
    let piece = Bytes::from(vec![byte; PIECE]);
    let mut left = len;
    while left > 0 {
        let n = left.min(PIECE as u64) as usize;
        if tx.send(Ok(piece.slice(..n))).await.is_err() {
            return;
        }
        left -= n as u64;
    }
}

/// Sends bytes `offset .. offset + len` of [`crate::files::fill`]'s stream for `seed` in
/// pieces; `Err` when the receiver is gone.
async fn generated(tx: &Sender, seed: u64, offset: u64, len: u64) -> Result<(), ()> {
    let (mut pos, end) = (offset, offset.saturating_add(len));
    while pos < end {
        let n = (end - pos).min(PIECE as u64) as usize;
        let mut piece = vec![0u8; n];
        crate::files::fill(seed, pos, &mut piece);
        tx.send(Ok(Bytes::from(piece))).await.map_err(drop)?;
        pos += n as u64;
    }
    Ok(())
}

async fn drip(tx: Sender, bytes: u64, interval: Duration) {
    let deadline = Instant::now() + MAX_WAIT;
    for _ in 0..bytes {
        if Instant::now() + interval > deadline {
            let _ = tx.send(Err(io::Error::other("drip bound reached"))).await;
            return;
        }
        tokio::time::sleep(interval).await;
        if tx.send(Ok(Bytes::from_static(b"x"))).await.is_err() {
            return;
        }
    }
}

async fn endless(tx: Sender) {
    let piece = Bytes::from(vec![b'x'; PIECE]);
    let deadline = Instant::now() + MAX_WAIT;
    let mut sent = 0u64;
    while sent < ENDLESS_MAX && Instant::now() < deadline {
        if tx.send(Ok(piece.clone())).await.is_err() {
            return;
        }
        sent += PIECE as u64;
    }
    let _ = tx
        .send(Err(io::Error::other("endless bound reached")))
        .await;
}

/// The response head for `reply`; headers hyper cannot represent are dropped.
fn response(reply: &Reply, body: TlsBody) -> Response<TlsBody> {
    let mut res = Response::new(body);
    *res.status_mut() = StatusCode::from_u16(reply.status)
        .ok()
        .filter(|s| !s.is_informational())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = res.headers_mut();
    for (n, v) in &reply.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(n.as_bytes()),
            HeaderValue::from_bytes(v),
        ) {
            headers.append(n, v);
        }
    }
    if !headers.contains_key(http::header::SERVER) {
        headers.insert(http::header::SERVER, HeaderValue::from_static("testbed"));
    }
    res
}

/// A response body that holds the request's in-flight guard until hyper drops it.
pub(crate) struct TlsBody {
    first: Option<Bytes>,
    rx: Option<mpsc::Receiver<io::Result<Bytes>>>,
    hint: Option<u64>,
    _guard: InFlight,
}

impl TlsBody {
    fn full(bytes: Bytes, guard: InFlight) -> Self {
        TlsBody {
            hint: Some(bytes.len() as u64),
            first: (!bytes.is_empty()).then_some(bytes),
            rx: None,
            _guard: guard,
        }
    }

    fn stream(hint: Option<u64>, guard: InFlight) -> (Sender, Self) {
        let (tx, rx) = mpsc::channel(2);
        let body = TlsBody {
            first: None,
            rx: Some(rx),
            hint,
            _guard: guard,
        };
        (tx, body)
    }
}

impl hyper::body::Body for TlsBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if let Some(b) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        let Some(rx) = &mut this.rx else {
            return Poll::Ready(None);
        };
        match rx.poll_recv(cx) {
            Poll::Ready(Some(r)) => Poll::Ready(Some(r.map(Frame::data))),
            Poll::Ready(None) => {
                this.rx = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.first.is_none() && self.rx.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        self.hint
            .map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}
