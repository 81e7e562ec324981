//! `testbed`: a scriptable HTTP(S) server for volley's tests, demos and benchmarks.
//!
//! This file owns the public handle, [`Server`], and its [`Builder`]. The server runs on its own
//! thread with its own tokio runtime, so it is usable from plain `#[test]` functions, and stops
//! when the handle is dropped:
//!
//! ```
//! let srv = testbed::Server::start();
//! let url = srv.url("/title/plain"); // http://127.0.0.1:PORT/title/plain
//! # assert!(url.starts_with("http://127.0.0.1:"));
//! assert_eq!(srv.request_count(), 0);
//! ```
//!
//! Plain hosts are raw HTTP/1.1 servers (`http1`); the optional TLS listener speaks HTTP/2 and
//! HTTP/1.1 by ALPN (`tls`). Both serve the routes documented on [`routes::route`]. If a handler
//! panics, dropping the [`Server`] (or [`Server::assert_no_panics`]) panics too.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bomb;
mod cert;
mod date;
pub mod encode;
pub mod files;
mod http1;
pub mod pages;
pub mod plan;
pub mod proxy;
pub mod routes;
mod server;
mod stats;
mod tls;

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::date::http_date;
pub use crate::http1::{MAX_BODY, MAX_HEAD};
pub use crate::plan::MAX_WAIT;
pub use crate::stats::Seen;

/// The host index that [`Seen::host`] reports for the TLS listener (also accepted by
/// [`Server::max_concurrent_host`] and [`Server::connections_host`]).
pub const TLS_HOST: usize = usize::MAX;

/// Options for [`Server`]; get one from [`Server::builder`].
#[derive(Clone, Debug)]
pub struct Builder {
    hosts: usize,
    tls: bool,
    port: u16,
    tls_port: u16,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            hosts: 1,
            tls: false,
            port: 0,
            tls_port: 0,
        }
    }
}

impl Builder {
    /// Number of plain HTTP hosts, on 127.0.0.1, 127.0.0.2, ... (1 to 254; default 1).
    pub fn hosts(mut self, n: usize) -> Self {
        assert!((1..=254).contains(&n), "hosts must be 1..=254");
        self.hosts = n;
        self
    }

    /// Also start the TLS listener on 127.0.0.1 (default off).
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Port of every plain host (default 0: each gets a free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Port of the TLS listener (default 0: a free port).
    pub fn tls_port(mut self, port: u16) -> Self {
        self.tls_port = port;
        self
    }

    /// Starts the server; panics if it cannot (tests want a loud failure).
    pub fn start(self) -> Server {
        self.try_start()
            .unwrap_or_else(|e| panic!("testbed failed to start: {e}"))
    }

    /// Starts the server.
    pub fn try_start(self) -> io::Result<Server> {
        let mut plain = Vec::with_capacity(self.hosts);
        let mut addrs = Vec::with_capacity(self.hosts);
        for i in 0..self.hosts {
            let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, i as u8 + 1));
            let l = server::bind(SocketAddr::new(ip, self.port))?;
            addrs.push(l.local_addr()?);
            plain.push(l);
        }
        let mut tls_info = None;
        let mut tls_listener = None;
        if self.tls {
            let identity = cert::generate()?;
            let l = server::bind(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), self.tls_port))?;
            let mut pem_file = tempfile::Builder::new()
                .prefix("testbed-ca-")
                .suffix(".pem")
                .tempfile()?;
            pem_file.write_all(identity.ca_pem.as_bytes())?;
            pem_file.flush()?;
            tls_info = Some(TlsInfo {
                addr: l.local_addr()?,
                ca_pem: identity.ca_pem,
                ca_der: identity.ca_der.to_vec(),
                pem_file,
            });
            let acceptor = tokio_rustls::TlsAcceptor::from(identity.config);
            tls_listener = Some((l, acceptor));
        }
        let slots = self.hosts + usize::from(self.tls);
        let shared = Arc::new(server::Shared {
            stats: stats::Stats::new(slots),
            routes: routes::RouteState::default(),
        });
        let running = server::run(
            server::Listeners {
                plain,
                tls: tls_listener,
            },
            Arc::clone(&shared),
        )?;
        Ok(Server {
            shared,
            addrs,
            tls: tls_info,
            running,
        })
    }
}

struct TlsInfo {
    addr: SocketAddr,
    ca_pem: String,
    ca_der: Vec<u8>,
    pem_file: tempfile::NamedTempFile,
}

/// A running test server; dropping it stops the server (and fails if a handler panicked).
pub struct Server {
    shared: Arc<server::Shared>,
    addrs: Vec<SocketAddr>,
    tls: Option<TlsInfo>,
    running: server::Running,
}

impl Server {
    /// One plain HTTP host on 127.0.0.1 and a free port.
    pub fn start() -> Server {
        Builder::default().start()
    }

    /// Options for a server with several hosts or TLS.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `http://127.0.0.1:PORT<path>` on plain host 0 (a missing leading `/` is added).
    pub fn url(&self, path: &str) -> String {
        self.host_url(0, path)
    }

    /// `http://127.0.0.{i+1}:PORT<path>` on plain host `i`.
    pub fn host_url(&self, i: usize, path: &str) -> String {
        format!("http://{}{}", self.host_addr(i), slash(path))
    }

    /// Address of plain host `i`.
    pub fn host_addr(&self, i: usize) -> SocketAddr {
        self.addrs[i]
    }

    /// Number of plain hosts.
    pub fn hosts(&self) -> usize {
        self.addrs.len()
    }

    /// `https://localhost:PORT<path>` on the TLS listener (panics without TLS). The certificate
    /// is valid for `localhost` and `127.0.0.1` and signed by the CA in [`Server::ca_pem_path`].
    pub fn https_url(&self, path: &str) -> String {
        format!(
            "https://localhost:{}{}",
            self.https_addr().port(),
            slash(path)
        )
    }

    /// Address of the TLS listener (panics without TLS).
    pub fn https_addr(&self) -> SocketAddr {
        self.tls_info().addr
    }

    /// Path of a PEM file holding the CA certificate to trust (lives as long as the handle).
    pub fn ca_pem_path(&self) -> &Path {
        self.tls_info().pem_file.path()
    }

    /// The CA certificate as PEM text.
    pub fn ca_pem(&self) -> &str {
        &self.tls_info().ca_pem
    }

    /// The CA certificate as DER bytes.
    pub fn ca_der(&self) -> &[u8] {
        &self.tls_info().ca_der
    }

    /// Every request received so far, in the order their bodies were read ([`Seen::at`] is when
    /// each head was parsed).
    pub fn requests(&self) -> Vec<Seen> {
        self.shared.stats.requests()
    }

    /// Time since the server started: the clock of [`Seen::at`], so a test can place its own
    /// events among the requests' arrivals.
    pub fn elapsed(&self) -> Duration {
        self.shared.stats.elapsed()
    }

    /// How many requests have been received.
    pub fn request_count(&self) -> usize {
        self.shared.stats.request_count()
    }

    /// Waits until at least `n` requests have been received or `limit` passes; true if they were.
    pub fn wait_for_requests(&self, n: usize, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while self.request_count() < n {
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    /// Most requests in flight at once over all listeners. A request is in flight from the
    /// moment its head is parsed until its response is fully written or its connection dies.
    pub fn max_concurrent(&self) -> usize {
        self.shared.stats.max_concurrent(None)
    }

    /// Most requests in flight at once on plain host `i` (or [`TLS_HOST`]).
    pub fn max_concurrent_host(&self, i: usize) -> usize {
        self.shared.stats.max_concurrent(Some(self.slot(i)))
    }

    /// Requests in flight right now over all listeners.
    pub fn in_flight(&self) -> usize {
        self.shared.stats.in_flight(None)
    }

    /// TCP connections accepted in total, over all listeners.
    pub fn connections(&self) -> usize {
        self.shared.stats.connections(None)
    }

    /// TCP connections accepted on plain host `i` (or [`TLS_HOST`]).
    pub fn connections_host(&self, i: usize) -> usize {
        self.shared.stats.connections(Some(self.slot(i)))
    }

    /// Forgets the requests and connections seen so far; maxima restart from the current load.
    pub fn reset_stats(&self) {
        self.shared.stats.reset();
    }

    /// Messages of handler panics so far.
    pub fn panics(&self) -> Vec<String> {
        self.shared.stats.panics()
    }

    /// Panics if any handler panicked.
    pub fn assert_no_panics(&self) {
        let panics = self.panics();
        assert!(panics.is_empty(), "testbed handler panicked: {panics:?}");
    }

    fn slot(&self, i: usize) -> usize {
        if i == TLS_HOST {
            assert!(self.tls.is_some(), "this server has no TLS listener");
            self.addrs.len()
        } else {
            assert!(i < self.addrs.len(), "no plain host {i}");
            i
        }
    }

    fn tls_info(&self) -> &TlsInfo {
        self.tls
            .as_ref()
            .expect("this server has no TLS listener: use Server::builder().tls(true)")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.running.stop();
        if !std::thread::panicking() {
            self.assert_no_panics();
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("hosts", &self.addrs)
            .field("tls", &self.tls.as_ref().map(|t| t.addr))
            .finish()
    }
}

fn slash(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}
