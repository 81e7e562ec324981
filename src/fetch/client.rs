//! The one shared HTTP client: pooled keep-alive connections per host, HTTP/1.1 and HTTP/2 by
//! ALPN, rustls, and the settings every exchange of a run shares.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, USER_AGENT};
use http_body_util::Full;
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::extract::Extractors;
use crate::fetch::connect::{tls_config, Connector, Overrides};
use crate::fetch::proxy::{Proxies, ProxyConfig, ProxyConnector};
use crate::output::save::download::Saving;

/// The hyper client volley uses, with the proxy rules that may add `Proxy-Authorization`.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<hyper_rustls::HttpsConnector<ProxyConnector>, Full<Bytes>>,
    proxies: Proxies,
}

impl HttpClient {
    /// Sends `req` on a pooled or new connection.
    pub fn request(&self, mut req: http::Request<Full<Bytes>>) -> ResponseFuture {
        self.proxies.authorize(&mut req);
        self.inner.request(req)
    }
}

/// Which HTTP versions may be negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpVersion {
    /// HTTP/1.1 for http, ALPN (h2 or http/1.1) for https.
    #[default]
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 only (prior knowledge for http, ALPN h2 for https).
    Http2,
}

/// Everything needed to build the client and run exchanges; the engine's builder fills it.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Total time for one exchange (request, headers and body).
    pub timeout: Duration,
    /// Largest decoded body read; beyond it the record ends in `body_too_large`.
    pub max_body: u64,
    /// Whether redirects are followed.
    pub follow: bool,
    /// How many redirects are followed at most.
    pub max_redirects: u32,
    /// Headers sent with every request (defaults merged with the user's).
    pub headers: HeaderMap,
    /// Skip certificate verification.
    pub insecure: bool,
    /// PEM files' contents whose certificates replace the system roots.
    pub cacert: Vec<Vec<u8>>,
    /// `--resolve` overrides.
    pub overrides: Overrides,
    /// HTTP version policy.
    pub version: HttpVersion,
    /// Idle connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// `-e` extractors run on every final response.
    pub extractors: Option<Arc<Extractors>>,
    /// Keep the final response's header fields in the record (`headers`).
    pub keep_headers: bool,
    /// `--proxy` and `--no-proxy` (or the environment).
    pub proxy: ProxyConfig,
    /// `--save` and its settings: final 2xx bodies go to files.
    pub saving: Option<Arc<Saving>>,
    /// `--hash sha256`: the record gets the body's digest.
    pub hash: bool,
}

/// The request headers volley sends unless told otherwise.
pub fn default_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("volley/", env!("CARGO_PKG_VERSION"))),
    );
    h.insert(ACCEPT, HeaderValue::from_static("*/*"));
    h.insert(
        ACCEPT_ENCODING,
        HeaderValue::from_static("gzip, deflate, br, zstd"),
    );
    h
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body: 8 * 1024 * 1024,
            follow: true,
            max_redirects: 10,
            headers: default_headers(),
            insecure: false,
            cacert: Vec::new(),
            overrides: Overrides::new(),
            version: HttpVersion::Auto,
            pool_max_idle_per_host: 256,
            extractors: None,
            keep_headers: false,
            proxy: ProxyConfig::default(),
            saving: None,
            hash: false,
        }
    }
}

/// Builds the shared client for `config`.
pub fn build_client(config: &FetchConfig) -> Result<HttpClient, String> {
    let tls = tls_config(config.insecure, &config.cacert)?;
    let proxies = Proxies::new(&config.proxy)?;
    // An https:// proxy is verified like the targets (`--cacert`, `-k`).
    let connector = ProxyConnector::new(
        Connector::new(config.connect_timeout, config.overrides.clone()),
        proxies.clone(),
        tls.clone(),
    );
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let https = match config.version {
        HttpVersion::Auto => https
            .enable_http1()
            .enable_http2()
            .wrap_connector(connector),
        HttpVersion::Http1 => https.enable_http1().wrap_connector(connector),
        HttpVersion::Http2 => https.enable_http2().wrap_connector(connector),
    };
    let mut builder = Client::builder(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(config.pool_max_idle_per_host)
        .http1_max_buf_size(256 * 1024)
        .http2_max_header_list_size(256 * 1024)
        .http2_adaptive_window(true);
    if config.version == HttpVersion::Http2 {
        builder.http2_only(true);
    }
    Ok(HttpClient {
        inner: builder.build(https),
        proxies,
    })
}
