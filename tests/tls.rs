//! TLS and HTTP versions, end to end against the testbed's HTTPS listener: verification with
//! `--cacert`, failure without it, `-k`, ALPN choosing HTTP/2 (or HTTP/1.1 with `--http1.1`),
//! `--http2` against an HTTP/1.1-only server, verification of the original host name under
//! `--resolve`, and credentials dropped on an http → https redirect.

mod support;

use support::single;
use testbed::{Server, TLS_HOST};

fn tls_server() -> Server {
    Server::builder().tls(true).start()
}

fn cacert(srv: &Server) -> String {
    srv.ca_pem_path().to_str().unwrap().to_owned()
}

/// The HTTP versions of the requests the TLS listener saw.
fn tls_versions(srv: &Server) -> Vec<String> {
    srv.requests()
        .into_iter()
        .filter(|s| s.host == TLS_HOST)
        .map(|s| {
            assert!(s.tls);
            s.version
        })
        .collect()
}

#[test]
fn cacert_verifies_and_alpn_picks_http2() {
    let srv = tls_server();
    let url = srv.https_url("/title/plain");
    let r = single(["--cacert", &cacert(&srv), &url]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["title"], "Hello testbed", "{r}");
    assert_eq!(r["final_url"], url.as_str(), "{r}");
    assert_eq!(tls_versions(&srv), ["HTTP/2.0"]);
}

#[test]
fn unknown_issuer_is_a_tls_error() {
    let srv = tls_server();
    let r = single([srv.https_url("/title/plain")]);
    assert_eq!(r["error"]["kind"], "tls", "{r}");
    assert!(r["status"].is_null(), "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(
        srv.request_count(),
        0,
        "no request is sent over an unverified connection"
    );
}

#[test]
fn insecure_skips_verification() {
    let srv = tls_server();
    let r = single(["-k", &srv.https_url("/title/plain")]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["title"], "Hello testbed", "{r}");
    assert_eq!(srv.request_count(), 1);
}

#[test]
fn http1_1_flag_negotiates_http1_1() {
    let srv = tls_server();
    let r = single([
        "--http1.1",
        "--cacert",
        &cacert(&srv),
        &srv.https_url("/title/plain"),
    ]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(tls_versions(&srv), ["HTTP/1.1"]);
}

#[test]
fn http2_flag_over_tls_uses_http2() {
    let srv = tls_server();
    let r = single([
        "--http2",
        "--cacert",
        &cacert(&srv),
        &srv.https_url("/title/plain"),
    ]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(tls_versions(&srv), ["HTTP/2.0"]);
}

#[test]
fn http2_flag_against_an_http1_only_server_fails() {
    // The plain testbed host speaks HTTP/1.1 only; `--http2` on http:// is prior knowledge.
    let srv = Server::start();
    let r = single(["--http2", &srv.url("/title/plain")]);
    let kind = r["error"]["kind"].as_str().unwrap_or_default();
    assert!(
        kind == "protocol" || kind == "reset",
        "expected protocol or reset: {r}"
    );
    assert_eq!(r["ok"], false, "{r}");
}

#[test]
fn resolve_override_still_verifies_the_original_host_name() {
    // The certificate is for localhost and 127.0.0.1, not other.test.
    let srv = tls_server();
    let port = srv.https_addr().port();
    let resolve = format!("other.test:{port}:127.0.0.1");
    let url = format!("https://other.test:{port}/title/plain");
    let r = single(["--resolve", &resolve, "--cacert", &cacert(&srv), &url]);
    assert_eq!(r["error"]["kind"], "tls", "{r}");
    assert!(r["status"].is_null(), "{r}");
    assert_eq!(srv.request_count(), 0);
}

#[test]
fn resolve_override_for_a_name_in_the_certificate_succeeds() {
    let srv = tls_server();
    let port = srv.https_addr().port();
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = srv.https_url("/echo");
    let r = single(["--resolve", &resolve, "--cacert", &cacert(&srv), &url]);
    assert_eq!(r["ok"], true, "{r}");
    let seen = srv.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].header("host"),
        Some(format!("localhost:{port}").as_str())
    );
}

#[test]
fn redirect_from_http_to_https_drops_credentials() {
    // Same host name, other scheme (and port): another origin.
    let srv = Server::builder().tls(true).start();
    let target = srv.https_url("/echo");
    let enc: String = target
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let port = srv.host_addr(0).port();
    let first = format!("http://localhost:{port}/redirect-to?url={enc}");
    let resolve = format!("localhost:{port}:127.0.0.1");
    let r = single([
        "--resolve",
        &resolve,
        "--cacert",
        &cacert(&srv),
        "-H",
        "Authorization: Bearer secret",
        "-H",
        "X-Other: kept",
        &first,
    ]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["final_url"], target.as_str(), "{r}");
    let seen = srv.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].host, 0);
    assert_eq!(seen[0].header("authorization"), Some("Bearer secret"));
    assert_eq!(seen[1].host, TLS_HOST);
    assert_eq!(
        seen[1].header("authorization"),
        None,
        "{:?}",
        seen[1].headers
    );
    assert_eq!(seen[1].header("x-other"), Some("kept"));
}
