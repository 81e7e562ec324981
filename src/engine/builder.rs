//! [`Builder`]: every knob of a run, with the command line's defaults, checked in one place.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::Method;

use super::{RunConfig, Volley};
use crate::fetch::{FetchConfig, Fetcher, HttpVersion};

/// Configures a [`Volley`]. Every setter documents its default; [`build`](Builder::build)
/// reports the first invalid setting.
#[must_use]
#[derive(Debug, Clone)]
pub struct Builder {
    run: RunConfig,
    per_host: Option<usize>,
    fetch: FetchConfig,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            run: RunConfig {
                concurrency: 64,
                per_host: 64,
                keep_order: false,
                method: Method::GET,
                body: Bytes::new(),
                interrupt_grace: Duration::from_secs(2),
                window: 0,
            },
            per_host: None,
            fetch: FetchConfig::default(),
        }
    }
}

impl Builder {
    /// Requests in flight, all hosts together. Default 64.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.run.concurrency = n;
        self
    }

    /// Requests in flight to one host (host name and port). Default: the same as
    /// [`concurrency`](Builder::concurrency).
    pub fn per_host(mut self, n: usize) -> Self {
        self.per_host = Some(n);
        self
    }

    /// Emit records in input order instead of completion order. Default off.
    pub fn keep_order(mut self, yes: bool) -> Self {
        self.run.keep_order = yes;
        self
    }

    /// The HTTP method. Default GET.
    pub fn method(mut self, method: Method) -> Self {
        self.run.method = method;
        self
    }

    /// The request body sent with every request. Default empty.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.run.body = body.into();
        self
    }

    /// Adds (or replaces) a header sent with every request. Defaults: `User-Agent:
    /// volley/<version>`, `Accept: */*`, `Accept-Encoding: gzip, deflate, br, zstd`.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.fetch.headers.insert(name, value);
        self
    }

    /// TCP connect timeout. Default 10 s.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.fetch.connect_timeout = d;
        self
    }

    /// Total time for one exchange, body included. Default 30 s.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.fetch.timeout = d;
        self
    }

    /// Largest decoded body read; beyond it the record ends in `body_too_large`. Default 8 MiB.
    pub fn max_body(mut self, bytes: u64) -> Self {
        self.fetch.max_body = bytes;
        self
    }

    /// Follow redirects. Default on.
    pub fn follow_redirects(mut self, yes: bool) -> Self {
        self.fetch.follow = yes;
        self
    }

    /// Most redirects followed for one input. Default 10.
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.fetch.max_redirects = n;
        self
    }

    /// Skip TLS certificate verification. Default off.
    pub fn insecure(mut self, yes: bool) -> Self {
        self.fetch.insecure = yes;
        self
    }

    /// Trust the certificates in this PEM text instead of the system roots (repeatable).
    pub fn add_cacert_pem(mut self, pem: Vec<u8>) -> Self {
        self.fetch.cacert.push(pem);
        self
    }

    /// Connect to `addr` for `host` on `port` (curl's `--resolve`).
    pub fn resolve(mut self, host: &str, port: u16, addr: IpAddr) -> Self {
        self.fetch
            .overrides
            .insert((host.to_ascii_lowercase(), port), addr);
        self
    }

    /// Which HTTP versions to negotiate. Default: ALPN decides.
    pub fn http_version(mut self, v: HttpVersion) -> Self {
        self.fetch.version = v;
        self
    }

    /// How long requests in flight may finish after an interrupt. Default 2 s.
    pub fn interrupt_grace(mut self, d: Duration) -> Self {
        self.run.interrupt_grace = d;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(mut self) -> Result<Volley, String> {
        if self.run.concurrency == 0 {
            return Err("concurrency must be at least 1".to_owned());
        }
        self.run.per_host = self.per_host.unwrap_or(self.run.concurrency);
        if self.run.per_host == 0 {
            return Err("per-host concurrency must be at least 1".to_owned());
        }
        if self.fetch.timeout.is_zero() || self.fetch.connect_timeout.is_zero() {
            return Err("timeouts must be greater than zero".to_owned());
        }
        // Far enough ahead to find work for idle hosts behind a busy one, small enough that
        // memory stays a few MiB whatever the list length.
        self.run.window = (self.run.concurrency * 16).clamp(4096, 65_536);
        self.fetch.pool_max_idle_per_host = self.run.per_host.min(self.run.concurrency);
        let fetcher = Fetcher::new(self.fetch)?;
        Ok(Volley {
            run: Arc::new(self.run),
            fetcher: Arc::new(fetcher),
        })
    }
}
