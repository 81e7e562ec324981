//! volley's own redirect loop: where the next hop goes, with which method, and whether
//! credentials may still be sent.
//!
//! Each hop goes back through the scheduler, so it counts against its own host's limits. Once a
//! chain leaves the origin it started on (scheme, host or port changed), `Authorization`,
//! `Cookie`, `Proxy-Authorization` and URL credentials are never sent again in that chain — not
//! even if it comes back — which is the safe reading of curl's and browsers' rules.

use http::{Method, StatusCode};
use url::Url;

use crate::record::{ErrorKind, RecordError};

/// Where a redirect response sends the request next.
#[derive(Debug, PartialEq, Eq)]
pub struct NextHop {
    /// The absolute URL of the next request.
    pub url: Url,
    /// The method of the next request (303, and 301/302 after POST, become GET).
    pub method: Method,
    /// Whether the request body is kept (only when the method is kept).
    pub keep_body: bool,
    /// Whether the next URL is on another origin than the current one.
    pub cross_origin: bool,
}

/// Whether `status` is a redirect volley follows.
pub fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Works out the next hop from a redirect response at `current` (with `redirects` already
/// followed), or the error that ends the chain.
pub fn next_hop(
    current: &Url,
    method: &Method,
    status: StatusCode,
    location: &[u8],
    redirects: u32,
    max_redirects: u32,
) -> Result<NextHop, RecordError> {
    let location = std::str::from_utf8(location)
        .map_err(|_| RecordError::new(ErrorKind::Protocol, "redirect Location is not UTF-8"))?;
    let url = current.join(location.trim()).map_err(|e| {
        RecordError::new(
            ErrorKind::Protocol,
            format!("malformed redirect Location `{location}`: {e}"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RecordError::new(
            ErrorKind::RedirectRefused,
            format!("redirect to unsupported scheme `{}:`", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RecordError::new(
            ErrorKind::Protocol,
            format!("redirect Location `{location}` has no host"),
        ));
    }
    if redirects >= max_redirects {
        return Err(RecordError::new(
            ErrorKind::TooManyRedirects,
            format!("more than {max_redirects} redirects (next: {url})"),
        ));
    }
    let to_get = status == StatusCode::SEE_OTHER && *method != Method::HEAD
        || matches!(status.as_u16(), 301 | 302) && *method == Method::POST;
    let cross_origin = url.origin() != current.origin();
    Ok(NextHop {
        url,
        method: if to_get { Method::GET } else { method.clone() },
        keep_body: !to_get,
        cross_origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(
        cur: &str,
        method: Method,
        status: u16,
        loc: &str,
        n: u32,
    ) -> Result<NextHop, RecordError> {
        next_hop(
            &Url::parse(cur).unwrap(),
            &method,
            StatusCode::from_u16(status).unwrap(),
            loc.as_bytes(),
            n,
            10,
        )
    }

    #[test]
    fn relative_and_absolute_locations() {
        let h = hop("http://a.test/x/y", Method::GET, 302, "../z?q=1", 0).unwrap();
        assert_eq!(h.url.as_str(), "http://a.test/z?q=1");
        assert!(!h.cross_origin);
        let h = hop("http://a.test/", Method::GET, 301, "http://b.test:81/", 0).unwrap();
        assert!(h.cross_origin);
        let h = hop("http://a.test/", Method::GET, 301, "//a.test:80/p", 0).unwrap();
        assert!(!h.cross_origin, "explicit default port is the same origin");
        let h = hop("https://a.test/", Method::GET, 301, "http://a.test/", 0).unwrap();
        assert!(h.cross_origin, "https to http is another origin");
    }

    #[test]
    fn methods_change_as_browsers_do() {
        let h = hop("http://a/", Method::POST, 302, "/b", 0).unwrap();
        assert_eq!((h.method, h.keep_body), (Method::GET, false));
        let h = hop("http://a/", Method::POST, 307, "/b", 0).unwrap();
        assert_eq!((h.method, h.keep_body), (Method::POST, true));
        let h = hop("http://a/", Method::PUT, 303, "/b", 0).unwrap();
        assert_eq!(h.method, Method::GET);
        let h = hop("http://a/", Method::HEAD, 303, "/b", 0).unwrap();
        assert_eq!(h.method, Method::HEAD);
        let h = hop("http://a/", Method::PUT, 302, "/b", 0).unwrap();
        assert_eq!(h.method, Method::PUT);
    }

    #[test]
    fn refusals() {
        let e = hop("http://a/", Method::GET, 302, "ftp://a/x", 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::RedirectRefused);
        assert_eq!(e.message, "redirect to unsupported scheme `ftp:`");
        let e = hop("http://a/", Method::GET, 302, "javascript:alert(1)", 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::RedirectRefused);
        let e = hop("http://a/", Method::GET, 302, "http://[::1", 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        let e = hop("http://a/", Method::GET, 302, "/next", 10).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooManyRedirects);
        assert_eq!(e.message, "more than 10 redirects (next: http://a/next)");
    }
}
