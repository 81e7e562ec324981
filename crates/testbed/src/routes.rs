//! The routing function shared by both servers: request in, [`Plan`] out.
//!
//! Every route is listed in [`route`]'s documentation. Routes never touch sockets; the only state
//! they keep is the per-server [`RouteState`] (counters for `/flaky` and `/alternate`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::encode::{self, Coding};
use crate::files;
use crate::pages::{self, HTML_UTF8};
use crate::plan::{Body, Ending, Plan, Reply, Request, MAX_WAIT};

/// State that routes keep between requests (one per server).
#[derive(Default)]
pub struct RouteState {
    flaky: Mutex<HashMap<String, u64>>,
    alternate: Mutex<HashMap<String, u64>>,
    files: Mutex<HashMap<String, u64>>,
}

/// Decides what to do with `req`.
///
/// | route | behaviour |
/// |---|---|
/// | `/`, `/title/plain` | [`pages::PLAIN`], title `Hello testbed` |
/// | `/page/<n>` | ~1 KB page titled `Page <n>` |
/// | `/title/<name>` | title fixtures, see [`pages::expected_title`] |
/// | `/status/<code>[?retry_after=V]` | that status, body `status <code>` (none for 1xx/204/304); optional `Retry-After: V`, or with `retry_after_date=N` an HTTP-date `N` seconds ahead (see [`crate::http_date`]) |
/// | `/delay/<ms>` | small page titled `Delayed` after `<ms>` ms (capped at 120 s) |
/// | `/redirect/<n>` | 302 to `/redirect/<n-1>`; `/redirect/0` is the plain page |
/// | `/redirect-to?url=U&status=S` | `S` (default 302) with `Location: U` exactly as decoded |
/// | `/loop`, `/loop-a`, `/loop-b` | 302 to `/loop`; `/loop-a` ↔ `/loop-b` |
/// | `/echo` | JSON `{"method","path","version","headers":{..},"body_len"}` |
/// | `/headers?Name=value&..` | 200 `ok` with those response headers |
/// | `/flaky?key=K&fails=N&status=S&retry_after=V` | the first `N` (default 1) requests per key get `S` (default 503), later ones the plain page; `retry_after`/`retry_after_date` as for `/status` |
/// | `/alternate?key=K&status=S&retry_after=V&ms=M` | per key, odd-numbered requests (1st, 3rd, …) get `S` (default 429), even ones the plain page: failing half of the time, deterministically; both after `M` ms (default 0, capped at 120 s); `retry_after`/`retry_after_date` as for `/status` |
/// | `/once-per-conn` | the plain page (keep-alive) to the first request on a connection; a later request on the same connection is read, then the connection is closed (FIN) without a byte of response, like a stale pooled keep-alive connection (TLS: aborted) |
/// | `/reset` | RST without sending anything |
/// | `/reset-after-head` | head with `Content-Length: 100000`, 10 bytes, then RST |
/// | `/hang` | nothing, socket kept open until the client closes (≤ 120 s) |
/// | `/hang-body` | head with `Content-Length: 1000`, 10 bytes, then nothing (≤ 120 s) |
/// | `/drip?bytes=N&interval_ms=M` | `Content-Length: N` (default 10), one `x` every `M` ms (default 100) |
/// | `/truncated` | `Content-Length: 1000`, 100 bytes, then FIN |
/// | `/chunked-endless` | 64 KiB chunks forever (≤ 120 s, ≤ 10 GiB, or until the client leaves) |
/// | `/bytes/<n>`, `/bytes-chunked/<n>` | `n` bytes of `a`, with length or chunked |
/// | `/file/<name>?size=N&seed=S&…` | a download of `N` (default 1024) deterministic pseudo-random bytes ([`files::fill`]), streamed 64 KiB at a time (fine for GiBs), `application/octet-stream` (`type=T` overrides); `ETag: "S-N"` (`etag=none`, `weak=1`), a fixed `Last-Modified` from `S` (`lm=none`); `Range: bytes=A-`/`A-B`/`-S` → 206 with `Content-Range`, start ≥ `N` → 416 `bytes */N`, several or invalid ranges → 200 whole, non-matching `If-Range` → 200 whole, `ranges=0` ignores ranges (no `Accept-Ranges`); `disposition=V` sets `Content-Disposition: V` verbatim; `gzip=1` gzip-encodes (ranges over the encoded bytes, `ETag: "S-N-gz"`); `chunked=1`; `cut=K` sends the full-length head, `K` body bytes, then FIN (`cut_rst=1`: RST); with `key=K` only the first request of that key is cut and later ones take `then_size`/`then_seed`/`then_ranges`. Details: [`files::serve`] |
/// | `/gzip`, `/deflate`, `/br`, `/zstd` | the plain page in that `Content-Encoding` (always, whatever `Accept-Encoding` says) |
/// | `/gzip-double` | gzip twice, `Content-Encoding: gzip, gzip` |
/// | `/gzip-bomb?mb=N`, `/bomb-gzip`, `/bomb-deflate`, `/bomb-br`, `/bomb-zstd` | `N` MiB (default 1024) of zeros, compressed, `text/html`; brotli is slow to build the first time, see [`encode::bomb`] |
/// | `/chart/<ticker>` | Yahoo-like JSON, price = (sum of the upper-cased ticker's bytes) / 7, 2 decimals |
/// | `/json/<n>` | `{"id":<n>,"name":"item <n>"}` |
/// | `/html?body=B` | 200 `text/html; charset=utf-8` with the (percent-decoded) body `B` |
/// | `/header/control` | a page whose `Server` header holds ESC (`evil\x1b[2J`), which strict parsers reject (raw server only; TLS aborts) |
/// | `/malformed/status`, `/malformed/header`, `/malformed/chunked`, `/malformed/content-length` | broken responses (raw server only; TLS aborts) |
/// | `/panic` | the handler panics (to test panic reporting: the `Server` handle then fails on drop) |
/// | anything else | 404 page titled `Not Found` |
pub fn route(req: &Request, state: &RouteState) -> Plan {
    let path = req.path();
    let (first, rest) = match path.trim_start_matches('/').split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (path.trim_start_matches('/'), None),
    };
    match (first, rest) {
        ("", None) => html(200, pages::PLAIN),
        ("page", Some(n)) => html(200, pages::numbered(&escape_html(n))),
        ("title", Some(name)) => match pages::title_fixture(name) {
            Some(f) => {
                let mut r = Reply::new(200, f.body).header("Content-Type", f.content_type);
                for (n, v) in f.headers {
                    r = r.header(n, v);
                }
                r.into()
            }
            None => not_found(),
        },
        ("status", Some(code)) => status(req, code),
        ("delay", Some(ms)) => match ms.parse::<u64>() {
            Ok(ms) => Plan::Delay(
                Duration::from_millis(ms).min(MAX_WAIT),
                Box::new(html(200, pages::small("Delayed", &format!("{ms} ms")))),
            ),
            Err(_) => bad_request("delay wants milliseconds"),
        },
        ("redirect", Some(n)) => match n.parse::<u64>() {
            Ok(0) => html(200, pages::PLAIN),
            Ok(n) => redirect(302, format!("/redirect/{}", n - 1)),
            Err(_) => bad_request("redirect wants a count"),
        },
        ("redirect-to", None) => {
            let params = req.param_bytes();
            let url = params
                .iter()
                .find(|(k, _)| k == b"url")
                .map(|(_, v)| v.clone());
            let code = req
                .param("status")
                .and_then(|s| s.parse().ok())
                .unwrap_or(302);
            match url {
                Some(url) => redirect(code, url),
                None => bad_request("redirect-to wants url="),
            }
        }
        ("loop", None) => redirect(302, "/loop"),
        ("loop-a", None) => redirect(302, "/loop-b"),
        ("loop-b", None) => redirect(302, "/loop-a"),
        ("echo", None) => echo(req),
        ("headers", None) => {
            let mut r = text(200, "ok\n");
            for (k, v) in req.param_bytes() {
                if !k.is_empty() {
                    r.headers
                        .push((String::from_utf8_lossy(&k).into_owned(), v));
                }
            }
            r.into()
        }
        ("flaky", None) => flaky(req, state),
        ("alternate", None) => alternate(req, state),
        ("once-per-conn", None) if req.conn_seq <= 1 => html(200, pages::PLAIN),
        ("once-per-conn", None) => Plan::Close,
        ("reset", None) => Plan::Reset,
        ("reset-after-head", None) => Plan::Partial {
            head: text(200, "xxxxxxxxxx").header("Content-Length", "100000"),
            then: Ending::Rst,
        },
        ("hang", None) => Plan::Hang,
        ("hang-body", None) => Plan::Partial {
            head: text(200, "xxxxxxxxxx").header("Content-Length", "1000"),
            then: Ending::Hang,
        },
        ("drip", None) => {
            let bytes = req
                .param("bytes")
                .and_then(|s| s.parse().ok())
                .unwrap_or(10);
            let ms = req
                .param("interval_ms")
                .and_then(|s| s.parse().ok())
                .unwrap_or(100);
            Plan::Drip {
                head: text(200, "").header("Content-Length", bytes.to_string()),
                bytes,
                interval: Duration::from_millis(ms).min(MAX_WAIT),
            }
        }
        ("truncated", None) => Plan::Partial {
            head: text(200, "x".repeat(100)).header("Content-Length", "1000"),
            then: Ending::Fin,
        },
        ("chunked-endless", None) => Plan::Endless {
            head: text(200, ""),
        },
        ("bytes", Some(n)) | ("bytes-chunked", Some(n)) => match n.parse::<u64>() {
            Ok(len) => Reply {
                status: 200,
                headers: vec![("Content-Type".into(), b"application/octet-stream".to_vec())],
                body: Body::Fill { byte: b'a', len },
                chunked: first == "bytes-chunked",
            }
            .into(),
            Err(_) => bad_request("bytes wants a length"),
        },
        ("file", Some(_)) => {
            let later = req.param("key").is_some_and(|key| {
                let mut map = state.files.lock().unwrap_or_else(|e| e.into_inner());
                let n = map.entry(key).or_insert(0);
                *n += 1;
                *n > 1
            });
            files::serve(req, later)
        }
        ("gzip", None) => encoded(&[Coding::Gzip]),
        ("deflate", None) => encoded(&[Coding::Deflate]),
        ("br", None) => encoded(&[Coding::Brotli]),
        ("zstd", None) => encoded(&[Coding::Zstd]),
        ("gzip-double", None) => encoded(&[Coding::Gzip, Coding::Gzip]),
        ("gzip-bomb", None) | ("bomb-gzip", None) => bomb(req, Coding::Gzip),
        ("bomb-deflate", None) => bomb(req, Coding::Deflate),
        ("bomb-br", None) => bomb(req, Coding::Brotli),
        ("bomb-zstd", None) => bomb(req, Coding::Zstd),
        ("chart", Some(ticker)) => json(chart(ticker)),
        ("html", None) => html(200, req.param("body").unwrap_or_default()),
        ("json", Some(n)) => match n.parse::<i64>() {
            Ok(n) => json(format!("{{\"id\":{n},\"name\":\"item {n}\"}}")),
            Err(_) => bad_request("json wants a number"),
        },
        ("header", Some("control")) => Plan::Raw(Bytes::from_static(
            b"HTTP/1.1 200 OK\r\nServer: evil\x1b[2J\r\nContent-Type: text/html\r\n\
              Content-Length: 44\r\nConnection: close\r\n\r\n\
              <html><head><title>ctl</title></head></html>",
        )),
        ("malformed", Some(kind)) => match malformed(kind) {
            Some(bytes) => Plan::Raw(Bytes::from_static(bytes)),
            None => not_found(),
        },
        ("panic", None) => panic!("testbed: /panic requested"),
        _ => not_found(),
    }
}

/// The `regularMarketPrice` that `/chart/<ticker>` reports, as printed (two decimals).
pub fn chart_price(ticker: &str) -> String {
    let sum: u64 = ticker.to_ascii_uppercase().bytes().map(u64::from).sum();
    format!("{:.2}", sum as f64 / 7.0)
}

fn chart(ticker: &str) -> String {
    let symbol = json_str(&ticker.to_ascii_uppercase());
    let price = chart_price(ticker);
    format!(
        "{{\"chart\":{{\"result\":[{{\"meta\":{{\"symbol\":{symbol},\"currency\":\"USD\",\
         \"regularMarketPrice\":{price}}}}}],\"error\":null}}}}"
    )
}

fn status(req: &Request, code: &str) -> Plan {
    let Ok(code) = code.parse::<u16>() else {
        return bad_request("status wants a code");
    };
    if !(100..=999).contains(&code) {
        return bad_request("status must be 100..=999");
    }
    let mut r = text(code, format!("status {code}\n"));
    if r.bodiless_status() {
        r.body = Body::Full(Bytes::new());
    }
    retry_after(req, r).into()
}

fn flaky(req: &Request, state: &RouteState) -> Plan {
    let key = req.param("key").unwrap_or_default();
    let fails: u64 = req.param("fails").and_then(|s| s.parse().ok()).unwrap_or(1);
    let seen = {
        let mut map = state.flaky.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(key).or_insert(0);
        *n += 1;
        *n
    };
    if seen > fails {
        return html(200, pages::PLAIN);
    }
    let code = req
        .param("status")
        .and_then(|s| s.parse().ok())
        .filter(|c| (100..=999).contains(c))
        .unwrap_or(503);
    retry_after(req, text(code, format!("flaky {seen}/{fails}\n"))).into()
}

fn alternate(req: &Request, state: &RouteState) -> Plan {
    let key = req.param("key").unwrap_or_default();
    let seen = {
        let mut map = state.alternate.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(key).or_insert(0);
        *n += 1;
        *n
    };
    let plan = if seen % 2 == 0 {
        html(200, pages::PLAIN)
    } else {
        let code = req
            .param("status")
            .and_then(|s| s.parse().ok())
            .filter(|c| (100..=999).contains(c))
            .unwrap_or(429);
        retry_after(req, text(code, format!("alternate {seen}\n"))).into()
    };
    match req.param("ms").and_then(|s| s.parse::<u64>().ok()) {
        Some(ms) if ms > 0 => Plan::Delay(Duration::from_millis(ms).min(MAX_WAIT), Box::new(plan)),
        _ => plan,
    }
}

/// Adds `Retry-After` as the query asks: `retry_after=V` verbatim, or `retry_after_date=N` as
/// the HTTP-date `N` seconds from now.
fn retry_after(req: &Request, mut r: Reply) -> Reply {
    if let Some(v) = req.param("retry_after") {
        r = r.header("Retry-After", v);
    } else if let Some(n) = req.param("retry_after_date").and_then(|s| s.parse().ok()) {
        let when = SystemTime::now() + Duration::from_secs(n);
        r = r.header("Retry-After", crate::http_date(when));
    }
    r
}

fn echo(req: &Request) -> Plan {
    let mut headers: Vec<(&str, String)> = Vec::new();
    for (n, v) in &req.headers {
        match headers.iter_mut().find(|(k, _)| k == n) {
            Some((_, old)) => {
                old.push_str(", ");
                old.push_str(v);
            }
            None => headers.push((n, v.clone())),
        }
    }
    let headers = headers
        .iter()
        .map(|(n, v)| format!("{}:{}", json_str(n), json_str(v)))
        .collect::<Vec<_>>()
        .join(",");
    json(format!(
        "{{\"method\":{},\"path\":{},\"version\":{},\"headers\":{{{}}},\"body_len\":{}}}",
        json_str(&req.method),
        json_str(&req.target),
        json_str(&req.version),
        headers,
        req.body.len()
    ))
}

fn encoded(codings: &[Coding]) -> Plan {
    let mut body = pages::PLAIN.as_bytes().to_vec();
    for &c in codings {
        body = encode::encode(c, &body);
    }
    let tokens = codings
        .iter()
        .map(|c| c.token())
        .collect::<Vec<_>>()
        .join(", ");
    Reply::new(200, body)
        .header("Content-Type", HTML_UTF8)
        .header("Content-Encoding", tokens)
        .into()
}

fn bomb(req: &Request, coding: Coding) -> Plan {
    let mb: u64 = req.param("mb").and_then(|s| s.parse().ok()).unwrap_or(1024);
    Plan::Blocking(Box::new(move || {
        Reply::new(200, encode::bomb(coding, mb))
            .header("Content-Type", HTML_UTF8)
            .header("Content-Encoding", coding.token())
            .into()
    }))
}

fn malformed(kind: &str) -> Option<&'static [u8]> {
    Some(match kind {
        "status" => b"HTTP/1.1 two hundred OK\r\nContent-Length: 2\r\n\r\nok",
        "header" => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nthis is not a header\r\n\r\nok",
        "chunked" => {
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
        }
        "content-length" => {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nhello"
        }
        _ => return None,
    })
}

fn html(status: u16, body: impl Into<Bytes>) -> Plan {
    Reply::new(status, body)
        .header("Content-Type", HTML_UTF8)
        .into()
}

fn text(status: u16, body: impl Into<Bytes>) -> Reply {
    Reply::new(status, body).header("Content-Type", "text/plain; charset=utf-8")
}

fn json(body: String) -> Plan {
    Reply::new(200, body)
        .header("Content-Type", "application/json")
        .into()
}

fn redirect(status: u16, location: impl AsRef<[u8]>) -> Plan {
    Reply::new(status, "redirecting\n")
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Location", location)
        .into()
}

fn bad_request(why: &str) -> Plan {
    text(400, format!("{why}\n")).into()
}

fn not_found() -> Plan {
    html(404, pages::small("Not Found", "no such route"))
}

/// Escapes `&`, `<`, `>` and `"` for use inside HTML text.
fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `s` as a JSON string literal.
pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(target: &str) -> Request {
        Request {
            method: "GET".into(),
            target: target.into(),
            version: "HTTP/1.1".into(),
            headers: vec![("x-a".into(), "1".into()), ("x-a".into(), "2".into())],
            body: Bytes::from_static(b"abc"),
            conn_seq: 1,
        }
    }

    fn reply(target: &str) -> Reply {
        match route(&req(target), &RouteState::default()) {
            Plan::Reply(r) => r,
            other => panic!("{target}: {other:?}"),
        }
    }

    fn header<'a>(r: &'a Reply, name: &str) -> &'a [u8] {
        &r.headers.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn redirect_to_keeps_the_url_exactly() {
        let r = reply("/redirect-to?url=javascript%3Aalert(1)&status=307");
        assert_eq!(r.status, 307);
        assert_eq!(header(&r, "Location"), b"javascript:alert(1)");
        let r = reply("/redirect/3");
        assert_eq!(header(&r, "Location"), b"/redirect/2");
    }

    #[test]
    fn echo_joins_repeated_headers() {
        let r = reply("/echo?q=1");
        let Body::Full(b) = r.body else { panic!() };
        let s = std::str::from_utf8(&b).unwrap();
        assert!(s.contains(r#""path":"/echo?q=1""#), "{s}");
        assert!(s.contains(r#""x-a":"1, 2""#), "{s}");
        assert!(s.contains(r#""body_len":3"#), "{s}");
    }

    #[test]
    fn chart_price_is_deterministic() {
        // 'A' + 'A' + 'P' + 'L' = 65 + 65 + 80 + 76 = 286; 286 / 7 = 40.857...
        assert_eq!(chart_price("aapl"), "40.86");
        let r = reply("/chart/aapl");
        let Body::Full(b) = r.body else { panic!() };
        assert_eq!(
            std::str::from_utf8(&b).unwrap(),
            r#"{"chart":{"result":[{"meta":{"symbol":"AAPL","currency":"USD","regularMarketPrice":40.86}}],"error":null}}"#
        );
    }

    #[test]
    fn flaky_fails_then_succeeds() {
        let state = RouteState::default();
        let codes: Vec<u16> = (0..3)
            .map(
                |_| match route(&req("/flaky?key=k&fails=2&status=429"), &state) {
                    Plan::Reply(r) => r.status,
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        assert_eq!(codes, [429, 429, 200]);
    }

    fn status_of(plan: Plan) -> u16 {
        match plan {
            Plan::Reply(r) => r.status,
            Plan::Delay(_, next) => status_of(*next),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn alternate_fails_every_other_request_per_key() {
        let state = RouteState::default();
        let get = |target: &str| status_of(route(&req(target), &state));
        let a = "/alternate?key=a";
        let b = "/alternate?key=b&status=503";
        assert_eq!(
            [get(a), get(a), get(b), get(a), get(b), get(b), get(a)],
            [429, 200, 503, 429, 200, 503, 200]
        );
    }

    #[test]
    fn alternate_sets_retry_after_and_delays_both_answers() {
        let state = RouteState::default();
        let target = "/alternate?key=k&retry_after=7&ms=250";
        for want in [429, 200] {
            let Plan::Delay(d, next) = route(&req(target), &state) else {
                panic!("no delay")
            };
            assert_eq!(d, Duration::from_millis(250));
            let Plan::Reply(r) = *next else { panic!() };
            assert_eq!(r.status, want);
            if want == 429 {
                assert_eq!(header(&r, "Retry-After"), b"7");
            } else {
                assert!(!r.has_header("Retry-After"));
            }
        }
    }

    #[test]
    fn once_per_conn_closes_on_a_second_request() {
        let state = RouteState::default();
        let mut r = req("/once-per-conn");
        assert_eq!(status_of(route(&r, &state)), 200);
        r.conn_seq = 2;
        assert!(matches!(route(&r, &state), Plan::Close));
        // Per connection, not per server: a new connection's first request is served again.
        r.conn_seq = 1;
        assert_eq!(status_of(route(&r, &state)), 200);
    }

    #[test]
    fn retry_after_date_is_an_http_date_ahead() {
        let before = SystemTime::now();
        let r = reply("/status/503?retry_after_date=3");
        let after = SystemTime::now();
        let got = std::str::from_utf8(header(&r, "Retry-After")).unwrap();
        let lo = crate::http_date(before + Duration::from_secs(3));
        let hi = crate::http_date(after + Duration::from_secs(3));
        assert!(got == lo || got == hi, "{got} not in {lo} .. {hi}");
        // The verbatim form wins when both are given.
        let r = reply("/flaky?key=x&retry_after=5&retry_after_date=3");
        assert_eq!(header(&r, "Retry-After"), b"5");
    }

    #[test]
    fn file_route_serves_generated_bytes() {
        let r = reply("/file/a/b.bin?size=4096&seed=3");
        assert_eq!(r.status, 200);
        assert!(matches!(
            r.body,
            Body::Generated {
                seed: 3,
                offset: 0,
                len: 4096
            }
        ));
        assert_eq!(header(&r, "ETag"), b"\"3-4096\"");
        assert_eq!(reply("/file/x?size=nope").status, 400);
    }

    #[test]
    fn statuses_without_body() {
        assert!(reply("/status/204").body.is_empty());
        assert!(reply("/status/304").body.is_empty());
        assert_eq!(reply("/status/418").status, 418);
        assert_eq!(reply("/nope").status, 404);
    }
}
