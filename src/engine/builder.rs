//! [`Builder`]: every knob of a run, with the command line's defaults, checked in one place.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::Method;

use super::{RunConfig, Volley};
use crate::extract::Extractors;
use crate::fetch::{FetchConfig, Fetcher, HttpVersion};
use crate::output::save::download::Saving;
use crate::output::save::name::Naming;
use crate::output::save::store::Store;
use crate::schedule::{Limits, Rate, RetryPolicy};
use crate::status::StatusSet;

/// Configures a [`Volley`]. Every setter documents its default; [`build`](Builder::build)
/// reports the first invalid setting.
#[must_use]
#[derive(Debug, Clone)]
pub struct Builder {
    run: RunConfig,
    per_host: Option<usize>,
    fetch: FetchConfig,
    save: Option<SaveSettings>,
}

/// `--save` and its options, until [`Builder::build`] opens the directory.
#[derive(Debug, Clone)]
struct SaveSettings {
    dir: PathBuf,
    naming: Naming,
    content_disposition: bool,
    overwrite: bool,
    raw: bool,
    max_filesize: u64,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            run: RunConfig {
                limits: Limits {
                    adapt: true,
                    breaker: 5,
                    ..Limits::new(64, 64)
                },
                retry: RetryPolicy::default(),
                deadline: None,
                ok_status: StatusSet::below_400(),
                keep_order: false,
                method: Method::GET,
                body: Bytes::new(),
                interrupt_grace: Duration::from_secs(2),
                window: 0,
            },
            per_host: None,
            fetch: FetchConfig::default(),
            save: None,
        }
    }
}

impl Builder {
    /// Requests in flight, all hosts together. Default 64.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.run.limits.concurrency = n;
        self
    }

    /// Requests in flight to one host (host name and port). Default: the same as
    /// [`concurrency`](Builder::concurrency).
    pub fn per_host(mut self, n: usize) -> Self {
        self.per_host = Some(n);
        self
    }

    /// Request starts per second, all hosts together. Default: no limit.
    pub fn rate(mut self, rate: Option<Rate>) -> Self {
        self.run.limits.rate = rate;
        self
    }

    /// Request starts per second to one host. Default: no limit.
    pub fn host_rate(mut self, rate: Option<Rate>) -> Self {
        self.run.limits.host_rate = rate;
        self
    }

    /// Extra attempts after a retryable failure (connection failures before any response,
    /// timeouts, 408, 429, 500, 502, 503, 504; idempotent methods only). Default 2.
    pub fn retries(mut self, n: u32) -> Self {
        self.run.retry.retries = n;
        self
    }

    /// The first retry waits a random time up to `base`; each further retry doubles the
    /// bound, up to `max` (exponential backoff with full jitter). Defaults 250 ms and 30 s.
    pub fn retry_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.run.retry.base = base;
        self.run.retry.max = max;
        self
    }

    /// The longest `Retry-After` honoured; beyond it the record keeps its 429/503. Default 60 s.
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.run.retry.max_retry_after = d;
        self
    }

    /// Retry non-idempotent methods too (POST, PATCH). Default off.
    pub fn retry_all_methods(mut self, yes: bool) -> Self {
        self.run.retry.all_methods = yes;
        self
    }

    /// Slow a host down (halve its concurrency and rate) when it answers 429 or 503, and let it
    /// recover with good answers. Default on.
    pub fn adapt(mut self, yes: bool) -> Self {
        self.run.limits.adapt = yes;
        self
    }

    /// Open a host's circuit after `n` consecutive connection failures or timeouts (0: never),
    /// and probe it again after `cooldown`. Defaults 5 and 10 s.
    pub fn breaker(mut self, n: u32, cooldown: Duration) -> Self {
        self.run.limits.breaker = n;
        self.run.limits.breaker_cooldown = cooldown;
        self
    }

    /// Bound the whole run: at the deadline requests in flight are cancelled and every input
    /// left gets a `deadline` record. Default: none.
    pub fn deadline(mut self, d: Option<Duration>) -> Self {
        self.run.deadline = d;
        self
    }

    /// The final statuses that count as ok (with no error). Default: below 400.
    pub fn ok_status(mut self, set: StatusSet) -> Self {
        self.run.ok_status = set;
        self
    }

    /// Extractors run on every final response; their values go under `extract` in the record.
    /// Default: none.
    pub fn extractors(mut self, set: Extractors) -> Self {
        self.fetch.extractors = (!set.list.is_empty()).then(|| Arc::new(set));
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

    /// The proxy for every request: `http://`, `socks5://` or `socks5h://`, with optional
    /// `user:pass@`; `Some("")` for none. Default (`None`): `HTTPS_PROXY`, `HTTP_PROXY` and
    /// `ALL_PROXY` from the environment, as curl reads them. `no_proxy` lists the hosts reached
    /// directly (curl's `NO_PROXY` syntax); default (`None`): `NO_PROXY` from the environment.
    /// [`build`](Builder::build) rejects a malformed URL or another scheme.
    pub fn proxy(mut self, proxy: Option<String>, no_proxy: Option<String>) -> Self {
        self.fetch.proxy = crate::fetch::proxy::ProxyConfig { proxy, no_proxy };
        self
    }

    /// Which HTTP versions to negotiate. Default: ALPN decides.
    pub fn http_version(mut self, v: HttpVersion) -> Self {
        self.fetch.version = v;
        self
    }

    /// Keep the final response's header fields in each record's
    /// [`headers`](crate::record::Record::headers) (see [`Headers`](crate::record::Headers) for
    /// the form and the size cap). Default off: the headers are not copied.
    pub fn keep_headers(mut self, yes: bool) -> Self {
        self.fetch.keep_headers = yes;
        self
    }

    /// Save every final 2xx body to a file under `dir` (created if missing), named after the
    /// input's URL (`dir/host[_port]/path`, see [`Naming`]); the record's `saved_to` holds the
    /// path. Files are written under a temporary name and renamed when whole; an existing file
    /// is kept (the record's error is `exists`) unless [`overwrite`](Builder::overwrite); a part
    /// left by an interrupted transfer is continued with a range request. Default: nothing is
    /// saved. The options below apply only with a save directory.
    pub fn save(mut self, dir: impl Into<PathBuf>) -> Self {
        self.save = Some(SaveSettings {
            dir: dir.into(),
            naming: Naming::Mirror,
            content_disposition: false,
            overwrite: false,
            raw: false,
            max_filesize: u64::MAX,
        });
        self
    }

    fn save_mut(&mut self) -> Option<&mut SaveSettings> {
        self.save.as_mut()
    }

    /// How saved files are named. Default: [`Naming::Mirror`].
    pub fn save_naming(mut self, naming: Naming) -> Self {
        if let Some(s) = self.save_mut() {
            s.naming = naming;
        }
        self
    }

    /// Name a saved file after the response's `Content-Disposition` file name, when it has a
    /// usable one. Default off.
    pub fn content_disposition(mut self, yes: bool) -> Self {
        if let Some(s) = self.save_mut() {
            s.content_disposition = yes;
        }
        self
    }

    /// Replace files that already exist. Default off.
    pub fn overwrite(mut self, yes: bool) -> Self {
        if let Some(s) = self.save_mut() {
            s.overwrite = yes;
        }
        self
    }

    /// Save bodies as they came, without decoding their `Content-Encoding`. Default off.
    pub fn raw(mut self, yes: bool) -> Self {
        if let Some(s) = self.save_mut() {
            s.raw = yes;
        }
        self
    }

    /// The largest body saved, in bytes (after decoding, unless [`raw`](Builder::raw)); a
    /// larger one ends in `body_too_large` and no file. Default: no limit.
    pub fn max_filesize(mut self, bytes: u64) -> Self {
        if let Some(s) = self.save_mut() {
            s.max_filesize = bytes;
        }
        self
    }

    /// Put the SHA-256 of each final body in the record's `sha256` (of the saved file when
    /// saving, a continued part's earlier bytes included). Default off.
    pub fn hash(mut self, yes: bool) -> Self {
        self.fetch.hash = yes;
        self
    }

    /// How long requests in flight may finish after an interrupt. Default 2 s.
    pub fn interrupt_grace(mut self, d: Duration) -> Self {
        self.run.interrupt_grace = d;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(mut self) -> Result<Volley, String> {
        let limits = &mut self.run.limits;
        if limits.concurrency == 0 {
            return Err("concurrency must be at least 1".to_owned());
        }
        limits.per_host = self.per_host.unwrap_or(limits.concurrency);
        if limits.per_host == 0 {
            return Err("per-host concurrency must be at least 1".to_owned());
        }
        if self.fetch.timeout.is_zero() || self.fetch.connect_timeout.is_zero() {
            return Err("timeouts must be greater than zero".to_owned());
        }
        if self.run.deadline.is_some_and(|d| d.is_zero()) {
            return Err("the deadline must be greater than zero".to_owned());
        }
        if self.run.retry.base > self.run.retry.max {
            return Err("the retry base must not exceed the retry maximum".to_owned());
        }
        // Far enough ahead to find work for idle hosts behind a busy one, small enough that
        // memory stays a few MiB whatever the list length.
        self.run.window = (limits.concurrency * 16).clamp(4096, 65_536);
        self.fetch.pool_max_idle_per_host = limits.per_host.min(limits.concurrency);
        if let Some(s) = self.save {
            let store = Store::open(&s.dir, s.overwrite)
                .map_err(|e| format!("--save: cannot save files in {}: {e}", s.dir.display()))?;
            self.fetch.saving = Some(Arc::new(Saving {
                store,
                naming: s.naming,
                content_disposition: s.content_disposition,
                raw: s.raw,
                max_filesize: s.max_filesize,
                halted: Arc::default(),
            }));
        }
        let fetcher = Fetcher::new(self.fetch)?;
        Ok(Volley {
            run: Arc::new(self.run),
            fetcher: Arc::new(fetcher),
        })
    }
}
