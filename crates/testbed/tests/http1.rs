//! The plain HTTP/1.1 server over real sockets: pages, keep-alive, framing, raw misbehaviour
//! (reset, truncation, hangs, drips), redirects, encodings and the stats the handle reports.

mod support;

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use support::{eventually, get, Client};
use testbed::Server;

#[test]
fn plain_page_has_title_and_server_header() {
    let srv = Server::start();
    let res = get(srv.host_addr(0), "/title/plain");
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), testbed::pages::PLAIN);
    assert_eq!(res.header_str("server"), Some("testbed"));
    assert_eq!(
        res.header_str("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(srv.url("/x").starts_with("http://127.0.0.1:"));

    let seen = srv.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path_and_query, "/title/plain");
    assert_eq!(seen[0].version, "HTTP/1.1");
    assert_eq!(seen[0].header("host"), Some("test"));
    assert_eq!(seen[0].host, 0);
    assert!(!seen[0].tls);
}

#[test]
fn keep_alive_serves_two_requests_on_one_connection() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    let a = c.get("/page/1", "").unwrap();
    assert!(a.text().contains("<title>Page 1</title>"));
    let b = c.get("/bytes-chunked/100000", "").unwrap();
    assert_eq!(b.header_str("transfer-encoding"), Some("chunked"));
    assert_eq!(b.body.len(), 100_000);
    assert!(b.body.iter().all(|&x| x == b'a'));
    // Pipelined: two requests in one write.
    c.send(b"GET /json/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /json/2 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(
        c.read_response(false).unwrap().text(),
        r#"{"id":1,"name":"item 1"}"#
    );
    assert_eq!(
        c.read_response(false).unwrap().text(),
        r#"{"id":2,"name":"item 2"}"#
    );

    assert_eq!(srv.connections(), 1);
    let seen = srv.requests();
    assert_eq!(seen.len(), 4);
    assert!(seen.iter().all(|s| s.conn_id == seen[0].conn_id));
}

#[test]
fn connection_close_and_http10_close_after_response() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    let res = c.get("/", "Connection: close\r\n").unwrap();
    assert_eq!(res.header_str("connection"), Some("close"));
    let (rest, err) = c.read_to_end();
    assert!(rest.is_empty() && err.is_none());

    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(c.read_response(false).unwrap().status, 200);
    let (rest, err) = c.read_to_end();
    assert!(rest.is_empty() && err.is_none());
    assert_eq!(srv.requests()[1].version, "HTTP/1.0");
}

#[test]
fn head_and_bodiless_statuses_keep_the_connection_usable() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"HEAD /bytes/5000 HTTP/1.1\r\nHost: t\r\n\r\n");
    let res = c.read_response(true).unwrap();
    assert_eq!(res.header_str("content-length"), Some("5000"));
    for code in [204, 304] {
        let res = c.get(&format!("/status/{code}"), "").unwrap();
        assert_eq!(res.status, code);
        assert!(res.header("content-length").is_none());
    }
    let res = c.get("/status/503?retry_after=2", "").unwrap();
    assert_eq!((res.status, res.text()), (503, "status 503\n"));
    assert_eq!(res.header_str("retry-after"), Some("2"));
    assert_eq!(srv.connections(), 1);
}

#[test]
fn max_concurrent_counts_parallel_delays() {
    let srv = Server::builder().hosts(2).start();
    let start = Instant::now();
    std::thread::scope(|s| {
        for i in 0..5 {
            let addr = srv.host_addr(i % 2);
            s.spawn(move || {
                let res = get(addr, "/delay/600");
                assert!(res.text().contains("<title>Delayed</title>"));
            });
        }
    });
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(srv.max_concurrent(), 5);
    assert_eq!(srv.max_concurrent_host(0), 3);
    assert_eq!(srv.max_concurrent_host(1), 2);
    assert_eq!(srv.connections(), 5);
    assert_eq!(srv.connections_host(1), 2);
    assert!(srv.requests().iter().any(|s| s.host == 1));
    assert!(srv.host_url(1, "/x").starts_with("http://127.0.0.2:"));

    assert!(eventually(|| srv.in_flight() == 0));
    srv.reset_stats();
    assert_eq!(
        (srv.request_count(), srv.max_concurrent(), srv.connections()),
        (0, 0, 0)
    );
}

#[test]
fn arrival_times_and_concurrency_are_recorded() {
    let srv = Server::builder().hosts(2).start();
    let t0 = srv.elapsed();
    get(srv.host_addr(0), "/");
    std::thread::sleep(Duration::from_millis(150));
    std::thread::scope(|s| {
        for i in 0..3 {
            let addr = srv.host_addr(i % 2);
            s.spawn(move || get(addr, "/delay/300"));
            // The next one starts only once this one has arrived, so the order is known however
            // loaded the machine is.
            let until = std::time::Instant::now() + Duration::from_secs(10);
            while srv.request_count() < 2 + i && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    });
    let t1 = srv.elapsed();
    let seen = srv.requests();
    assert_eq!(seen.len(), 4);
    assert!(t0 <= seen[0].at && seen[0].at <= seen[1].at, "{seen:?}");
    assert!(seen[1].at - seen[0].at >= Duration::from_millis(150));
    assert!(seen[3].at <= t1);
    let delayed: Vec<(usize, usize)> = seen[1..].iter().map(|s| (s.host, s.concurrent)).collect();
    // Host 0 had one, then two in flight; host 1 one; the first request was alone.
    assert_eq!(seen[0].concurrent, 1);
    assert_eq!(delayed, [(0, 1), (1, 1), (0, 2)]);
}

#[test]
fn once_per_conn_closes_a_reused_connection_without_a_byte() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    let res = c.get("/once-per-conn", "").unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), testbed::pages::PLAIN);
    assert_eq!(res.header_str("connection"), None, "keep-alive");
    c.send(b"GET /once-per-conn HTTP/1.1\r\nHost: t\r\n\r\n");
    let (got, err) = c.read_to_end();
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    assert!(err.is_none(), "a clean close, not a reset: {err:?}");
    // A fresh connection is served again.
    let res = get(srv.host_addr(0), "/once-per-conn");
    assert_eq!(res.status, 200);
    let seen = srv.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].conn_id, seen[1].conn_id);
    assert_ne!(seen[1].conn_id, seen[2].conn_id);
    assert_eq!(srv.connections(), 2);
}

#[test]
fn alternate_and_retry_after_over_a_socket() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    let path = "/alternate?key=z&retry_after=2";
    let codes: Vec<(u16, Option<String>)> = (0..4)
        .map(|_| {
            let r = c.get(path, "").unwrap();
            (r.status, r.header_str("retry-after").map(String::from))
        })
        .collect();
    let ra = Some("2".to_string());
    assert_eq!(
        codes,
        [(429, ra.clone()), (200, None), (429, ra), (200, None)]
    );
    let r = c.get("/status/429?retry_after_date=60", "").unwrap();
    let date = r.header_str("retry-after").unwrap();
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    assert_eq!(srv.connections(), 1);
}

#[test]
fn reset_sends_rst_without_bytes() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"GET /reset HTTP/1.1\r\nHost: t\r\n\r\n");
    let (got, err) = c.read_to_end();
    assert!(got.is_empty());
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));

    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"GET /reset-after-head HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = c.read_head().unwrap();
    assert_eq!(head.header_str("content-length"), Some("100000"));
    let (_, err) = c.read_to_end();
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
}

#[test]
fn truncated_body_ends_with_fin() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"GET /truncated HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = c.read_head().unwrap();
    assert_eq!(head.header_str("content-length"), Some("1000"));
    let (body, err) = c.read_to_end();
    assert!(err.is_none());
    assert_eq!(body.len(), 100);
}

#[test]
fn hang_stays_in_flight_until_the_client_leaves() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    c.stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    c.send(b"GET /hang HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut buf = [0u8; 16];
    let err = c.stream.read(&mut buf).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    assert_eq!(srv.in_flight(), 1);
    drop(c);
    assert!(eventually(|| srv.in_flight() == 0));
}

#[test]
fn drip_sends_one_byte_per_interval() {
    let srv = Server::start();
    let start = Instant::now();
    let res = get(srv.host_addr(0), "/drip?bytes=4&interval_ms=50");
    assert_eq!(res.text(), "xxxx");
    assert!(start.elapsed() >= Duration::from_millis(200));
}

#[test]
fn endless_chunks_stop_when_the_client_leaves() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"GET /chunked-endless HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = c.read_head().unwrap();
    assert_eq!(head.header_str("transfer-encoding"), Some("chunked"));
    let mut got = 0;
    let mut buf = vec![0u8; 64 * 1024];
    while got < 1 << 20 {
        got += c.stream.read(&mut buf).unwrap();
    }
    drop(c);
    assert!(eventually(|| srv.in_flight() == 0));
}

#[test]
fn redirects_have_the_expected_location() {
    let srv = Server::start();
    let res = get(srv.host_addr(0), "/redirect/2");
    assert_eq!(
        (res.status, res.header_str("location")),
        (302, Some("/redirect/1"))
    );
    let res = get(srv.host_addr(0), "/redirect/0");
    assert_eq!(res.text(), testbed::pages::PLAIN);
    let res = get(
        srv.host_addr(0),
        "/redirect-to?url=ftp%3A%2F%2Fx%2Fy&status=308",
    );
    assert_eq!(
        (res.status, res.header_str("location")),
        (308, Some("ftp://x/y"))
    );
    let res = get(srv.host_addr(0), "/loop-a");
    assert_eq!(res.header_str("location"), Some("/loop-b"));
}

#[test]
fn gzip_round_trips_and_bomb_expands() {
    let srv = Server::start();
    let res = get(srv.host_addr(0), "/gzip");
    assert_eq!(res.header_str("content-encoding"), Some("gzip"));
    let mut out = String::new();
    flate2::read::GzDecoder::new(&res.body[..])
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, testbed::pages::PLAIN);

    let res = get(srv.host_addr(0), "/gzip-double");
    assert_eq!(res.header_str("content-encoding"), Some("gzip, gzip"));

    let res = get(srv.host_addr(0), "/gzip-bomb?mb=8");
    assert!(res.body.len() < 16 * 1024, "{}", res.body.len());
    let mut n = 0u64;
    let mut d = flate2::read::GzDecoder::new(&res.body[..]);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match d.read(&mut buf).unwrap() {
            0 => break,
            k => n += k as u64,
        }
    }
    assert_eq!(n, 8 << 20);
}

#[test]
fn echo_reports_headers_and_bodies() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"POST /echo?a=1 HTTP/1.1\r\nHost: t\r\nX-Thing: One\r\nContent-Length: 5\r\n\r\nhello");
    let res = c.read_response(false).unwrap();
    assert!(res.text().contains(r#""method":"POST""#), "{}", res.text());
    assert!(res.text().contains(r#""x-thing":"One""#));
    assert!(res.text().contains(r#""body_len":5"#));
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n");
    let res = c.read_response(false).unwrap();
    assert!(res.text().contains(r#""body_len":5"#), "{}", res.text());
    assert_eq!(srv.requests()[1].body, b"abcde");
}

#[test]
fn headers_route_sets_response_headers() {
    let srv = Server::start();
    let res = get(srv.host_addr(0), "/headers?X-Custom=a%20b&Set-Cookie=k%3Dv");
    assert_eq!(res.header_str("x-custom"), Some("a b"));
    assert_eq!(res.header_str("set-cookie"), Some("k=v"));
    let res = get(srv.host_addr(0), "/title/control");
    assert_eq!(res.header_str("server"), Some("evil\u{202E}rtl"));
    assert!(res
        .text()
        .contains("<title>a\x1b[31mred\x07bell\u{202E}rtl</title>"));
    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"GET /header/control HTTP/1.1\r\nHost: t\r\n\r\n");
    let (raw, _) = c.read_to_end();
    assert!(raw.windows(14).any(|w| w == b"Server: evil\x1b["));
    assert!(raw.ends_with(b"<title>ctl</title></head></html>"));
    let res = get(srv.host_addr(0), "/title/latin1");
    assert!(res.body.windows(4).any(|w| w == b"Caf\xe9"));
}

#[test]
fn oversized_and_malformed_requests_are_rejected() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    let big = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    c.send(big.as_bytes());
    assert_eq!(c.read_response(false).unwrap().status, 431);

    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"NOT HTTP AT ALL\r\n\r\n");
    assert_eq!(c.read_response(false).unwrap().status, 400);

    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\n\r\n");
    assert_eq!(c.read_response(false).unwrap().status, 413);
}

#[test]
fn unknown_paths_are_404_pages() {
    let srv = Server::start();
    let res = get(srv.host_addr(0), "/no/such/thing");
    assert_eq!(res.status, 404);
    assert!(res.text().contains("<title>Not Found</title>"));
}

#[test]
fn handler_panics_fail_the_handle() {
    let srv = Server::start();
    let mut c = Client::connect(srv.host_addr(0));
    c.send(b"GET /panic HTTP/1.1\r\nHost: t\r\n\r\n");
    let _ = c.read_to_end();
    assert!(eventually(|| !srv.panics().is_empty()));
    assert!(srv.panics()[0].contains("/panic"));
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(srv)));
    assert!(dropped.is_err(), "dropping a server with panics must panic");
}

#[test]
fn server_handle_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Server>();
    check::<testbed::Seen>();
}
