//! The vocabulary shared by both servers: a parsed [`Request`] and the [`Plan`] a route returns.
//!
//! A plan says what to do with the socket, not how: the raw HTTP/1.1 server (`http1`) carries
//! out every plan byte for byte; the TLS server (`tls`) maps the plans that need raw socket
//! control to the nearest thing hyper can do (usually aborting the connection or stream).

use std::time::Duration;

use bytes::Bytes;

/// Upper bound for every wait a plan can ask for (hangs, drips, endless bodies, delays).
pub const MAX_WAIT: Duration = Duration::from_secs(120);

/// A request as the routing function sees it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Method, e.g. `GET`.
    pub method: String,
    /// Path and query, e.g. `/echo?x=1`.
    pub target: String,
    /// `HTTP/1.1`, `HTTP/2.0`, ...
    pub version: String,
    /// Header fields, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The whole request body.
    pub body: Bytes,
    /// Position of this request on its connection, counting from 1 (for HTTP/2, the order in
    /// which the connection's streams arrived).
    pub conn_seq: u64,
}

impl Request {
    /// The path part of the target (before `?`).
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The raw query (after `?`), or `""`.
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The first query parameter named `name`, percent-decoded (`+` is kept as is).
    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// All query parameters in order, percent-decoded.
    pub fn params(&self) -> Vec<(String, String)> {
        self.param_bytes()
            .into_iter()
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(&k).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect()
    }

    /// All query parameters in order, percent-decoded to raw bytes.
    pub fn param_bytes(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let dec = |s: &str| percent_encoding::percent_decode_str(s).collect::<Vec<u8>>();
        self.query()
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (dec(k), dec(v))
            })
            .collect()
    }

    /// The first header named `name` (give it lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response body.
#[derive(Clone, Debug)]
pub enum Body {
    /// These bytes.
    Full(Bytes),
    /// `len` copies of `byte`, produced in pieces (for large bodies).
    Fill {
        /// The byte repeated.
        byte: u8,
        /// How many.
        len: u64,
    },
    /// Bytes `offset .. offset + len` of the pseudo-random stream for `seed` (see
    /// [`crate::files::fill`]), generated in pieces as they are sent (never held whole).
    Generated {
        /// Seed of the stream.
        seed: u64,
        /// Position in the stream of the first byte sent.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
}

impl Body {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Body::Full(b) => b.len() as u64,
            Body::Fill { len, .. } | Body::Generated { len, .. } => *len,
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Status, headers and body of a response.
///
/// Unless the headers already hold them, servers add `Server: testbed` and, for length-framed
/// bodies of statuses that have one, `Content-Length`.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Status code (any 100..=999; the raw server sends it as is).
    pub status: u16,
    /// Header fields; values are bytes so routes can send non-UTF-8 or control characters.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Body,
    /// Send the body with `Transfer-Encoding: chunked` instead of `Content-Length`.
    pub chunked: bool,
}

impl Reply {
    /// A reply with a full body and no headers.
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Full(body.into()),
            chunked: false,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_string(), value.as_ref().to_vec()));
        self
    }

    /// True if a header named `name` (case-insensitive) is set.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// True when this status never carries a body (1xx, 204, 304).
    pub fn bodiless_status(&self) -> bool {
        self.status < 200 || self.status == 204 || self.status == 304
    }
}

/// What happens on the socket after a [`Plan::Partial`] response has been sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Close normally (FIN).
    Fin,
    /// Reset (RST, via `SO_LINGER` 0).
    Rst,
    /// Keep the socket open, sending nothing, until the client closes (at most [`MAX_WAIT`]).
    Hang,
}

/// A blocking computation that yields the real plan (run on a blocking thread).
pub type Deferred = Box<dyn FnOnce() -> Plan + Send>;

/// What a server does in answer to one request.
pub enum Plan {
    /// A normal response.
    Reply(Reply),
    /// Wait, then carry out the inner plan (the request stays in flight meanwhile).
    Delay(Duration, Box<Plan>),
    /// Compute the plan on a blocking thread first (e.g. a large cached bomb).
    Blocking(Deferred),
    /// Reset the connection without sending anything.
    Reset,
    /// Close the connection normally (FIN) without sending anything, as a server does with an
    /// idle keep-alive connection it has given up on. TLS: abort, like [`Plan::Reset`].
    Close,
    /// Send nothing and keep the socket open until the client closes (at most [`MAX_WAIT`]).
    Hang,
    /// Send the head (its headers give the framing, e.g. a `Content-Length` larger than the body)
    /// and the body bytes of `head`, then end as `then` says.
    Partial {
        /// Status, headers and the body bytes actually sent (any [`Body`]; large ones are
        /// streamed).
        head: Reply,
        /// What to do afterwards.
        then: Ending,
    },
    /// Send the head (with the given headers, which should declare `Content-Length: bytes`),
    /// then one `x` every `interval`, `bytes` times (for at most [`MAX_WAIT`]).
    Drip {
        /// Status and headers; the body is ignored.
        head: Reply,
        /// How many bytes to drip.
        bytes: u64,
        /// Pause before each byte.
        interval: Duration,
    },
    /// Send the head with chunked framing, then 64 KiB chunks until the client goes away,
    /// [`MAX_WAIT`] passes or 10 GiB have been sent.
    Endless {
        /// Status and headers; the body is ignored.
        head: Reply,
    },
    /// Write these bytes verbatim (a malformed response), then close. TLS: abort.
    Raw(Bytes),
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Plan::Reply(r) => f.debug_tuple("Reply").field(r).finish(),
            Plan::Delay(d, p) => f.debug_tuple("Delay").field(d).field(p).finish(),
            Plan::Blocking(_) => f.write_str("Blocking(..)"),
            Plan::Reset => f.write_str("Reset"),
            Plan::Close => f.write_str("Close"),
            Plan::Hang => f.write_str("Hang"),
            Plan::Partial { head, then } => f
                .debug_struct("Partial")
                .field("head", head)
                .field("then", then)
                .finish(),
            Plan::Drip {
                head,
                bytes,
                interval,
            } => f
                .debug_struct("Drip")
                .field("head", head)
                .field("bytes", bytes)
                .field("interval", interval)
                .finish(),
            Plan::Endless { head } => f.debug_struct("Endless").field("head", head).finish(),
            Plan::Raw(b) => f.debug_tuple("Raw").field(b).finish(),
        }
    }
}

impl From<Reply> for Plan {
    fn from(r: Reply) -> Self {
        Plan::Reply(r)
    }
}

/// The reason phrase for `status`, or `Unknown`.
pub fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}
