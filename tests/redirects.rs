//! Redirects, end to end against the testbed: chains, `--no-follow`, `--max-redirects`, loops,
//! refused and malformed `Location`s, credentials dropped on the way to another origin (scheme,
//! host or port) and kept on the same origin, method changes (303, 307), and each hop counting
//! against its own host's limit.

mod support;

use serde_json::Value;
use support::{redirect_to, run_jsonl, single};
use testbed::{Seen, Server};

/// The requests the server saw on plain host `host`.
fn seen_on(srv: &Server, host: usize) -> Vec<Seen> {
    srv.requests()
        .into_iter()
        .filter(|s| s.host == host)
        .collect()
}

/// Asserts the redirect response was the last one: the record carries its 3xx status and
/// `kind`, and nothing ok.
fn assert_failed_redirect(r: &Value, kind: &str, status: u64) {
    assert_eq!(r["error"]["kind"], kind, "{r}");
    assert_eq!(r["status"], status, "{r}");
    assert_eq!(r["ok"], false, "{r}");
}

#[test]
fn a_chain_of_three_is_followed_to_the_final_page() {
    let srv = Server::start();
    let url = srv.url("/redirect/3");
    let r = single([&url]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["redirects"], 3, "{r}");
    assert_eq!(r["url"], url.as_str(), "{r}");
    assert_eq!(r["input"], url.as_str(), "{r}");
    assert_eq!(r["final_url"], srv.url("/redirect/0").as_str(), "{r}");
    assert_eq!(r["title"], "Hello testbed", "{r}");
    assert_eq!(r["bytes"], testbed::pages::PLAIN.len(), "{r}");
    let paths: Vec<String> = srv
        .requests()
        .into_iter()
        .map(|s| s.path_and_query)
        .collect();
    assert_eq!(
        paths,
        ["/redirect/3", "/redirect/2", "/redirect/1", "/redirect/0"]
    );
}

#[test]
fn no_follow_reports_the_redirect_itself() {
    let srv = Server::start();
    let url = srv.url("/redirect/3");
    let r = single(["--no-follow", &url]);
    assert_eq!(r["status"], 302, "{r}");
    assert_eq!(r["ok"], true, "a 3xx is below 400: {r}");
    assert!(r["error"].is_null(), "{r}");
    assert_eq!(r["redirects"], 0, "{r}");
    assert_eq!(r["final_url"], url.as_str(), "{r}");
    assert_eq!(r["url"], url.as_str(), "{r}");
    assert_eq!(srv.request_count(), 1);
}

#[test]
fn max_redirects_ends_a_longer_chain() {
    let srv = Server::start();
    let r = single(["--max-redirects", "2", &srv.url("/redirect/3")]);
    assert_failed_redirect(&r, "too_many_redirects", 302);
    assert_eq!(r["redirects"], 2, "{r}");
    assert_eq!(srv.request_count(), 3, "the third redirect is not followed");
}

#[test]
fn a_self_loop_ends_in_too_many_redirects() {
    let srv = Server::start();
    let r = single([srv.url("/loop")]);
    assert_failed_redirect(&r, "too_many_redirects", 302);
    assert_eq!(r["redirects"], 10, "{r}");
    // Hops are redirects, not attempts: the input was tried once.
    assert_eq!(r["attempts"], 1, "{r}");
    assert_eq!(r["final_url"], srv.url("/loop").as_str(), "{r}");
    assert_eq!(srv.request_count(), 11);
}

#[test]
fn a_two_step_loop_ends_in_too_many_redirects() {
    let srv = Server::start();
    let r = single([srv.url("/loop-a")]);
    assert_failed_redirect(&r, "too_many_redirects", 302);
    assert_eq!(r["redirects"], 10, "{r}");
    assert_eq!(r["attempts"], 1, "{r}");
    assert_eq!(srv.request_count(), 11);
}

#[test]
fn redirect_to_ftp_is_refused() {
    let srv = Server::start();
    let r = single([srv.url("/redirect-to?url=ftp%3A%2F%2Fx%2F")]);
    assert_failed_redirect(&r, "redirect_refused", 302);
    assert_eq!(r["redirects"], 0, "{r}");
    assert_eq!(srv.request_count(), 1);
}

#[test]
fn redirect_to_javascript_is_refused() {
    let srv = Server::start();
    let r = single([srv.url(&redirect_to("javascript:alert(1)", 302))]);
    assert_failed_redirect(&r, "redirect_refused", 302);
    assert_eq!(srv.request_count(), 1);
}

#[test]
fn malformed_location_is_a_protocol_error() {
    let srv = Server::start();
    let r = single([srv.url(&redirect_to("http://[::1", 302))]);
    assert_failed_redirect(&r, "protocol", 302);
    assert_eq!(srv.request_count(), 1);
}

/// Runs one input on host 0 of a two-host server that redirects to host 1's `/echo`, and
/// returns (requests on host 0, requests on host 1).
fn cross_host(srv: &Server, first_url: &str, extra: &[&str]) -> (Vec<Seen>, Vec<Seen>) {
    let mut args: Vec<&str> = extra.to_vec();
    args.push(first_url);
    let r = single(&args);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["redirects"], 1, "{r}");
    assert_eq!(r["final_url"], srv.host_url(1, "/echo").as_str(), "{r}");
    let (a, b) = (seen_on(srv, 0), seen_on(srv, 1));
    assert_eq!((a.len(), b.len()), (1, 1), "{:?}", srv.requests());
    (a, b)
}

#[test]
fn cross_origin_redirect_drops_authorization_and_cookie_headers() {
    let srv = Server::builder().hosts(2).start();
    let first = srv.host_url(0, &redirect_to(&srv.host_url(1, "/echo"), 302));
    let (a, b) = cross_host(
        &srv,
        &first,
        &[
            "-H",
            "Authorization: Bearer secret",
            "-H",
            "Cookie: a=b",
            "-H",
            "Proxy-Authorization: Basic cHJveHk6cHc=",
            "-H",
            "X-Other: kept",
        ],
    );
    assert_eq!(a[0].header("authorization"), Some("Bearer secret"));
    assert_eq!(a[0].header("cookie"), Some("a=b"));
    assert_eq!(
        a[0].header("proxy-authorization"),
        Some("Basic cHJveHk6cHc=")
    );
    assert_eq!(a[0].header("x-other"), Some("kept"));
    assert_eq!(b[0].header("authorization"), None, "{:?}", b[0].headers);
    assert_eq!(b[0].header("cookie"), None, "{:?}", b[0].headers);
    assert_eq!(
        b[0].header("proxy-authorization"),
        None,
        "{:?}",
        b[0].headers
    );
    assert_eq!(b[0].header("x-other"), Some("kept"));
}

#[test]
fn cross_origin_redirect_drops_user_credentials() {
    let srv = Server::builder().hosts(2).start();
    let first = srv.host_url(0, &redirect_to(&srv.host_url(1, "/echo"), 302));
    let (a, b) = cross_host(&srv, &first, &["-u", "user:pass"]);
    assert_eq!(a[0].header("authorization"), Some("Basic dXNlcjpwYXNz"));
    assert_eq!(b[0].header("authorization"), None, "{:?}", b[0].headers);
}

#[test]
fn cross_origin_redirect_drops_bearer_token() {
    let srv = Server::builder().hosts(2).start();
    let first = srv.host_url(0, &redirect_to(&srv.host_url(1, "/echo"), 302));
    let (a, b) = cross_host(&srv, &first, &["--bearer", "tok"]);
    assert_eq!(a[0].header("authorization"), Some("Bearer tok"));
    assert_eq!(b[0].header("authorization"), None, "{:?}", b[0].headers);
}

#[test]
fn cross_origin_redirect_drops_url_credentials() {
    let srv = Server::builder().hosts(2).start();
    let path = redirect_to(&srv.host_url(1, "/echo"), 302);
    let first = format!("http://user:pass@{}{path}", srv.host_addr(0));
    let (a, b) = cross_host(&srv, &first, &[]);
    assert_eq!(a[0].header("authorization"), Some("Basic dXNlcjpwYXNz"));
    assert_eq!(b[0].header("authorization"), None, "{:?}", b[0].headers);
    assert_eq!(
        a[0].path_and_query, path,
        "user-info is not in the request target"
    );
}

#[test]
fn same_origin_redirect_keeps_credentials() {
    let srv = Server::start();
    let first = srv.url(&redirect_to("/echo", 302));
    let r = single([
        "-H",
        "Cookie: a=b",
        "-H",
        "X-Other: kept",
        "-u",
        "user:pass",
        &first,
    ]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["redirects"], 1, "{r}");
    let seen = srv.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].path_and_query, "/echo");
    for s in &seen {
        assert_eq!(
            s.header("authorization"),
            Some("Basic dXNlcjpwYXNz"),
            "{s:?}"
        );
        assert_eq!(s.header("cookie"), Some("a=b"), "{s:?}");
        assert_eq!(s.header("x-other"), Some("kept"), "{s:?}");
    }
}

#[test]
fn same_origin_redirect_keeps_url_credentials() {
    let srv = Server::start();
    let first = format!(
        "http://user:pass@{}{}",
        srv.host_addr(0),
        redirect_to("/echo", 302)
    );
    let r = single([&first]);
    assert_eq!(r["ok"], true, "{r}");
    let seen = srv.requests();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!(
            s.header("authorization"),
            Some("Basic dXNlcjpwYXNz"),
            "{s:?}"
        );
    }
}

#[test]
fn another_port_on_the_same_ip_is_another_origin() {
    let a = Server::start();
    let b = Server::start();
    assert_eq!(a.host_addr(0).ip(), b.host_addr(0).ip());
    let first = a.url(&redirect_to(&b.url("/echo"), 302));
    let r = single([
        "-H",
        "Authorization: Bearer secret",
        "-H",
        "Cookie: a=b",
        "-H",
        "X-Other: kept",
        &first,
    ]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["final_url"], b.url("/echo").as_str(), "{r}");
    let (sa, sb) = (a.requests(), b.requests());
    assert_eq!((sa.len(), sb.len()), (1, 1));
    assert_eq!(sa[0].header("authorization"), Some("Bearer secret"));
    assert_eq!(sb[0].header("authorization"), None, "{:?}", sb[0].headers);
    assert_eq!(sb[0].header("cookie"), None, "{:?}", sb[0].headers);
    assert_eq!(sb[0].header("x-other"), Some("kept"));
}

#[test]
fn credentials_stay_dropped_when_the_chain_returns_to_the_first_origin() {
    // host 0 → host 1 → host 0: once the chain has left its origin, nothing is sent again.
    let srv = Server::builder().hosts(2).start();
    let back = srv.host_url(0, "/echo");
    let via = srv.host_url(1, &redirect_to(&back, 302));
    let first = srv.host_url(0, &redirect_to(&via, 302));
    let r = single(["-H", "Authorization: Bearer secret", &first]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["redirects"], 2, "{r}");
    let seen = srv.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].header("authorization"), Some("Bearer secret"));
    assert_eq!(seen[1].header("authorization"), None);
    assert_eq!(seen[2].header("authorization"), None);
}

#[test]
fn see_other_after_post_continues_with_get() {
    let srv = Server::start();
    let first = srv.url(&redirect_to("/echo", 303));
    let r = single(["-X", "POST", &first]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(
        r["method"], "POST",
        "the record keeps the first method: {r}"
    );
    let methods: Vec<String> = srv.requests().into_iter().map(|s| s.method).collect();
    assert_eq!(methods, ["POST", "GET"]);
}

#[test]
fn found_after_post_continues_with_get() {
    let srv = Server::start();
    let r = single(["-X", "POST", &srv.url(&redirect_to("/echo", 302))]);
    assert_eq!(r["ok"], true, "{r}");
    let methods: Vec<String> = srv.requests().into_iter().map(|s| s.method).collect();
    assert_eq!(methods, ["POST", "GET"]);
}

#[test]
fn temporary_redirect_after_post_keeps_post() {
    let srv = Server::start();
    let first = srv.url(&redirect_to("/echo", 307));
    let r = single(["-X", "POST", &first]);
    assert_eq!(r["ok"], true, "{r}");
    let methods: Vec<String> = srv.requests().into_iter().map(|s| s.method).collect();
    assert_eq!(methods, ["POST", "POST"]);
}

#[test]
fn each_hop_counts_against_its_own_hosts_limit() {
    let srv = Server::builder().hosts(2).start();
    let first = srv.host_url(0, &redirect_to(&srv.host_url(1, "/delay/100"), 302));
    let mut args = vec!["--per-host".to_string(), "1".to_string()];
    args.extend((0..10).map(|_| first.clone()));
    let out = run_jsonl(&args);
    let recs = out.records();
    assert_eq!(recs.len(), 10, "stderr:\n{}", out.stderr);
    for r in &recs {
        assert_eq!(r["ok"], true, "{r}");
        assert_eq!(r["redirects"], 1, "{r}");
    }
    assert_eq!(seen_on(&srv, 0).len(), 10);
    assert_eq!(seen_on(&srv, 1).len(), 10);
    assert_eq!(srv.max_concurrent_host(1), 1);
    assert_eq!(srv.max_concurrent_host(0), 1);
}
