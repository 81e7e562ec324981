//! Proxies: which one a request goes through (`--proxy`, or `HTTP_PROXY`, `HTTPS_PROXY`,
//! `ALL_PROXY` and `NO_PROXY` as curl reads them), and the connector that reaches the origin
//! through it.
//!
//! hyper-util's proxy matcher decides the route and its CONNECT tunnel and SOCKS5 connectors do
//! the handshakes; this file picks one per connection, keeps `--resolve` and the connect timeout
//! working for the hops volley makes itself, and tags every failure of the proxy leg with a
//! [`ProxyError`] so a record says it was the proxy that failed. The proxy's credentials go only
//! to the proxy: on the CONNECT request, in the SOCKS5 handshake, or (plain-http targets through
//! an http(s) proxy, the only case where the proxy reads the request) as `Proxy-Authorization`
//! on the request itself, added by [`Proxies::authorize`].
//!
//! An `https://` proxy is an http proxy reached over TLS, verified with the targets' trust
//! settings (`--cacert`, `-k`) and ALPN `http/1.1` only, since the proxy speaks HTTP/1.1. The
//! CONNECT tunnel then runs inside that TLS session, and an https target's TLS inside the tunnel
//! (TLS in TLS), so the connector hands out a [`ProxyStream`] that may carry the proxy's TLS.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::header::PROXY_AUTHORIZATION;
use http::HeaderValue;
use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use tower_service::Service;

use crate::fetch::connect::{Connector, Resolver};
use crate::fetch::tracked::Tracked;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Where proxy settings come from. Its `Debug` form hides the proxy's credentials.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    /// The proxy for every request (`--proxy`); empty: none at all. Default (`None`): the
    /// environment's `HTTPS_PROXY`, `HTTP_PROXY` and `ALL_PROXY` (and lower-case forms).
    pub proxy: Option<String>,
    /// Hosts reached directly, curl's `NO_PROXY` syntax (`*` for all). Default (`None`): the
    /// environment's `NO_PROXY`/`no_proxy`.
    pub no_proxy: Option<String>,
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("proxy", &self.proxy.as_deref().map(redact))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// Checks a `--proxy` URL: `http://`, `https://`, `socks5://` or `socks5h://`, optional
/// `user:pass@`, a host and a port, nothing after it. The empty string (no proxy) is valid.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Ok(());
    }
    let parsed =
        url::Url::parse(url).map_err(|e| format!("`{}` is not a URL: {e}", redact(url)))?;
    match parsed.scheme() {
        "http" | "https" | "socks5" | "socks5h" => {}
        s => {
            return Err(format!(
                "unsupported proxy scheme `{s}` (use http://, https://, socks5:// or socks5h://)"
            ))
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{}` has no host", redact(url)));
    }
    if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() || parsed.fragment().is_some()
    {
        return Err(format!("`{}` must not have a path or query", redact(url)));
    }
    // hyper-util parses the URL again: it must agree that it is one.
    url.parse::<Uri>()
        .map_err(|e| format!("`{}` is not a valid proxy URL: {e}", redact(url)))?;
    Ok(())
}

/// The URL without its user-info, for messages.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The proxy rules of a run.
#[derive(Clone)]
pub struct Proxies(Option<Arc<Matcher>>);

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Proxies(..)"
        } else {
            "Proxies(none)"
        })
    }
}

fn env(names: [&str; 2]) -> String {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok())
        .unwrap_or_default()
}

impl Proxies {
    /// Builds the rules; an invalid `--proxy` URL is an error.
    pub fn new(config: &ProxyConfig) -> Result<Proxies, String> {
        if let Some(p) = &config.proxy {
            check_url(p).map_err(|e| format!("proxy: {e}"))?;
        }
        let no = match &config.no_proxy {
            Some(no) => no.clone(),
            None => env(["NO_PROXY", "no_proxy"]),
        };
        // hyper-util's `*` matches names only; in curl it also covers addresses.
        if no.trim() == "*" {
            return Ok(Proxies(None));
        }
        let matcher = match (&config.proxy, &config.no_proxy) {
            (Some(p), _) if p.is_empty() => return Ok(Proxies(None)),
            (Some(p), _) => Matcher::builder().all(p.clone()).no(no).build(),
            (None, None) => Matcher::from_env(),
            (None, Some(_)) => Matcher::builder()
                .all(env(["ALL_PROXY", "all_proxy"]))
                .http(env(["HTTP_PROXY", "http_proxy"]))
                .https(env(["HTTPS_PROXY", "https_proxy"]))
                .no(no)
                .build(),
        };
        Ok(Proxies(Some(Arc::new(matcher))))
    }

    fn route(&self, dst: &Uri) -> Option<Intercept> {
        self.0.as_ref()?.intercept(dst)
    }

    /// Adds the proxy's `Proxy-Authorization` to a plain-http request that goes through an http
    /// or https proxy with credentials (the proxy reads that request; no origin does).
    pub fn authorize<B>(&self, req: &mut http::Request<B>) {
        if req.uri().scheme_str() != Some("http") {
            return;
        }
        let Some(route) = self.route(req.uri()) else {
            return;
        };
        if !matches!(route.uri().scheme_str(), Some("http" | "https")) {
            return;
        }
        if let Some(auth) = route.basic_auth() {
            req.headers_mut().insert(PROXY_AUTHORIZATION, auth.clone());
        }
    }
}

/// A failure on the way to or through a proxy; `proxy` is its scheme, host and port only.
#[derive(Debug)]
pub struct ProxyError {
    /// The proxy, without credentials.
    pub proxy: String,
    source: BoxError,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proxy {}: {}", self.proxy, self.source)
    }
}

impl StdError for ProxyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// The connector under TLS: direct, or through the proxy the rules pick for the target.
#[derive(Clone)]
pub struct ProxyConnector {
    tcp: Connector,
    /// TLS to https:// proxies, over `tcp`.
    tls: HttpsConnector<Connector>,
    proxies: Proxies,
}

impl ProxyConnector {
    /// Routes connections made by `tcp` through `proxies`; `tls` (the targets' configuration,
    /// without ALPN) verifies https:// proxies.
    pub fn new(tcp: Connector, proxies: Proxies, mut tls: rustls::ClientConfig) -> Self {
        // The proxy reads HTTP/1.1 (CONNECT or absolute-form), whatever the target speaks.
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tls = HttpsConnector::from((tcp.clone(), tls));
        ProxyConnector { tcp, tls, proxies }
    }
}

/// A connection [`ProxyConnector`] made: TCP to the target or to a proxy, or TLS to an https://
/// proxy (with the CONNECT tunnel inside it when the target is https).
pub struct ProxyStream(Leg);

enum Leg {
    Tcp(Tracked),
    // Boxed: a TLS session is over a kilobyte, a TCP stream a few words.
    Tls {
        io: Box<MaybeHttpsStream<Tracked>>,
        proxied: bool,
    },
}

impl ProxyStream {
    fn tcp(io: Tracked) -> Self {
        ProxyStream(Leg::Tcp(io))
    }

    /// TLS to a proxy; `proxied` when the proxy reads the requests (absolute form).
    fn tls(io: MaybeHttpsStream<Tracked>, proxied: bool) -> Self {
        ProxyStream(Leg::Tls {
            io: Box::new(io),
            proxied,
        })
    }
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        match &self.0 {
            Leg::Tcp(io) => io.connected(),
            // The proxy's ALPN (http/1.1) says nothing about the target: no negotiated_h2 here.
            Leg::Tls { io, proxied } => io.connected().proxy(*proxied),
        }
    }
}

impl Read for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Leg::Tcp(io) => Pin::new(io).poll_read(cx, buf),
            Leg::Tls { io, .. } => Pin::new(&mut **io).poll_read(cx, buf),
        }
    }
}

impl Write for ProxyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.0 {
            Leg::Tcp(io) => Pin::new(io).poll_write(cx, buf),
            Leg::Tls { io, .. } => Pin::new(&mut **io).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Leg::Tcp(io) => Pin::new(io).poll_flush(cx),
            Leg::Tls { io, .. } => Pin::new(&mut **io).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Leg::Tcp(io) => Pin::new(io).poll_shutdown(cx),
            Leg::Tls { io, .. } => Pin::new(&mut **io).poll_shutdown(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.0 {
            Leg::Tcp(io) => io.is_write_vectored(),
            Leg::Tls { io, .. } => io.is_write_vectored(),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.0 {
            Leg::Tcp(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Leg::Tls { io, .. } => Pin::new(&mut **io).poll_write_vectored(cx, bufs),
        }
    }
}

/// Opens a CONNECT tunnel to `target` through the proxy at `proxy_uri`, reached with `leg`.
async fn tunnel<C>(
    leg: C,
    proxy_uri: Uri,
    auth: Option<HeaderValue>,
    target: Uri,
) -> Result<C::Response, BoxError>
where
    C: Service<Uri> + Send,
    C::Future: Send + 'static,
    C::Response: Read + Write + Unpin + Send + 'static,
    C::Error: Into<BoxError>,
{
    let mut tunnel = Tunnel::new(proxy_uri, leg);
    if let Some(auth) = auth {
        tunnel = tunnel.with_auth(auth);
    }
    Ok(tunnel.call(target).await?)
}

/// `uri` with its port written out (hyper-util's connectors assume 443 when it is missing).
fn with_port(uri: Uri) -> Uri {
    if uri.port_u16().is_some() {
        return uri;
    }
    let port = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    let Some(host) = uri.host() else { return uri };
    let authority = format!("{host}:{port}");
    let mut parts = uri.into_parts();
    match authority.parse() {
        Ok(a) => parts.authority = Some(a),
        Err(_) => return Uri::from_parts(parts).expect("unchanged parts"),
    }
    Uri::from_parts(parts).expect("only the authority changed")
}

/// A connector that hands out one connection made beforehand. The SOCKS handshake runs on it,
/// so a failure to reach the proxy keeps its own error (hyper-util's SOCKS errors hide theirs).
#[derive(Clone)]
struct Established(Arc<Mutex<Option<Tracked>>>);

impl Service<Uri> for Established {
    type Response = Tracked;
    type Error = io::Error;
    type Future = std::future::Ready<Result<Tracked, io::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let conn = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        std::future::ready(conn.ok_or_else(|| io::Error::other("proxy connection already used")))
    }
}

impl Service<Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ProxyStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.tcp.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let Some(route) = self.proxies.route(&dst) else {
            let direct = self.tcp.call(dst);
            return Box::pin(async move { direct.await.map(ProxyStream::tcp) });
        };
        let proxy_uri = route.uri().clone();
        let proxy = format!(
            "{}://{}",
            proxy_uri.scheme_str().unwrap_or("http"),
            proxy_uri.authority().map_or("", |a| a.as_str())
        );
        let tagged = move |proxy: String| {
            move |source: BoxError| -> BoxError { Box::new(ProxyError { proxy, source }) }
        };
        // --resolve applies to the hops volley makes: to the proxy, and to the target it names.
        let target = with_port(self.tcp.target(dst.clone()));
        let tcp = self.tcp.clone();
        let auth = route.basic_auth().cloned();
        let to_https = dst.scheme_str() == Some("https");
        match proxy_uri.scheme_str() {
            Some("http") if to_https => Box::pin(async move {
                let conn = tunnel(tcp, proxy_uri, auth, target)
                    .await
                    .map_err(tagged(proxy))?;
                Ok(ProxyStream::tcp(conn))
            }),
            Some("http") => {
                let mut tcp = tcp;
                Box::pin(async move {
                    let conn = tcp.call(proxy_uri).await.map_err(tagged(proxy))?;
                    Ok(ProxyStream::tcp(conn.proxied()))
                })
            }
            Some("https") if to_https => {
                let tls = self.tls.clone();
                Box::pin(async move {
                    let conn = tunnel(tls, proxy_uri, auth, target)
                        .await
                        .map_err(tagged(proxy))?;
                    Ok(ProxyStream::tls(conn, false))
                })
            }
            Some("https") => {
                let mut tls = self.tls.clone();
                Box::pin(async move {
                    let conn = tls.call(proxy_uri).await.map_err(tagged(proxy))?;
                    Ok(ProxyStream::tls(conn, true))
                })
            }
            Some(scheme @ ("socks5" | "socks5h")) => {
                let local_dns = scheme == "socks5";
                let auth = route
                    .raw_auth()
                    .map(|(user, pass)| (user.to_owned(), pass.to_owned()));
                let mut tcp = tcp;
                Box::pin(async move {
                    let target = if local_dns {
                        resolve(target).await?
                    } else {
                        target
                    };
                    let conn = tcp
                        .call(proxy_uri.clone())
                        .await
                        .map_err(tagged(proxy.clone()))?;
                    let leg = Established(Arc::new(Mutex::new(Some(conn))));
                    let mut socks = SocksV5::new(proxy_uri, leg).local_dns(false);
                    if let Some((user, pass)) = auth {
                        socks = socks.with_auth(user, pass);
                    }
                    socks
                        .call(target)
                        .await
                        .map(ProxyStream::tcp)
                        .map_err(|e| tagged(proxy)(Box::new(e)))
                })
            }
            _ => Box::pin(async move {
                Err(tagged(proxy)(
                    "only http://, https:// and socks5:// proxies are supported".into(),
                ))
            }),
        }
    }
}

/// `uri` with its host name replaced by its first address (socks5:// resolves locally).
async fn resolve(uri: Uri) -> Result<Uri, BoxError> {
    let Some(host) = uri.host() else {
        return Ok(uri);
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Ok(uri);
    }
    let name: Name = bare.parse().map_err(|e| Box::new(e) as BoxError)?;
    let mut addrs = Resolver.call(name).await?;
    let addr = addrs
        .next()
        .expect("the resolver returns at least one address");
    let port = uri.port_u16().unwrap_or(80);
    let authority = std::net::SocketAddr::new(addr.ip(), port).to_string();
    let mut parts = uri.into_parts();
    parts.authority = Some(authority.parse().expect("a socket address is an authority"));
    Ok(Uri::from_parts(parts).expect("only the authority changed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_are_checked() {
        assert_eq!(check_url(""), Ok(()));
        assert_eq!(check_url("http://u:p@127.0.0.1:8080"), Ok(()));
        assert_eq!(check_url("socks5h://proxy.test:1080/"), Ok(()));
        assert_eq!(check_url("https://u:p@proxy.test:443"), Ok(()));
        assert_eq!(
            check_url("ftp://p:1").unwrap_err(),
            "unsupported proxy scheme `ftp` (use http://, https://, socks5:// or socks5h://)"
        );
        assert_eq!(
            check_url("https://u:secret@p:1/x").unwrap_err(),
            "`https://***@p:1/x` must not have a path or query"
        );
        assert_eq!(
            check_url("http://u:secret@p:1/x").unwrap_err(),
            "`http://***@p:1/x` must not have a path or query"
        );
        assert!(check_url("not a url").unwrap_err().contains("is not a URL"));
    }

    #[test]
    fn debug_hides_credentials() {
        let c = ProxyConfig {
            proxy: Some("http://user:hunter2@p.test:8080".into()),
            no_proxy: None,
        };
        assert_eq!(
            format!("{c:?}"),
            r#"ProxyConfig { proxy: Some("http://***@p.test:8080"), no_proxy: None }"#
        );
    }

    #[test]
    fn ports_are_written_out() {
        let p = |s: &str| with_port(s.parse().unwrap()).to_string();
        assert_eq!(p("http://a.test/x"), "http://a.test:80/x");
        assert_eq!(p("https://a.test/"), "https://a.test:443/");
        assert_eq!(p("https://[::1]:8443/"), "https://[::1]:8443/");
    }

    #[test]
    fn credentials_go_on_plain_http_through_http_proxies_only() {
        let rules = |p: &str| {
            Proxies::new(&ProxyConfig {
                proxy: Some(p.into()),
                no_proxy: Some("skip.test".into()),
            })
            .unwrap()
        };
        let auth = |p: &Proxies, url: &str| {
            let mut req = http::Request::get(url).body(()).unwrap();
            p.authorize(&mut req);
            req.headers()
                .get(PROXY_AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let http = rules("http://user:pass@127.0.0.1:3128");
        assert_eq!(
            auth(&http, "http://a.test/").as_deref(),
            Some("Basic dXNlcjpwYXNz")
        );
        assert_eq!(auth(&http, "https://a.test/"), None);
        assert_eq!(auth(&http, "http://skip.test/"), None);
        let https = rules("https://user:pass@127.0.0.1:3129");
        assert_eq!(
            auth(&https, "http://a.test/").as_deref(),
            Some("Basic dXNlcjpwYXNz")
        );
        assert_eq!(auth(&https, "https://a.test/"), None);
        assert_eq!(
            auth(
                &rules("socks5://user:pass@127.0.0.1:1080"),
                "http://a.test/"
            ),
            None
        );
        assert_eq!(auth(&rules(""), "http://a.test/"), None);
    }
}
