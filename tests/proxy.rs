//! `--proxy`, `--no-proxy` and the proxy environment variables, against testbed's forward proxy:
//! what the proxy saw (request form, CONNECT target, credentials) and what the origin saw.

mod support;

use std::process::Command;

use serde_json::Value;
use support::{assert_usage_error, closed_port, run_with, LIMIT};
use testbed::proxy::Proxy;
use testbed::Server;

const PROXY_VARS: [&str; 9] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// `volley -j -q --retries 0` with no proxy settings inherited from the test's environment.
fn volley() -> Command {
    let mut c = support::volley();
    for v in PROXY_VARS {
        c.env_remove(v);
    }
    c.args(["-j", "-q", "--retries", "0"]);
    c
}

/// Runs `cmd` on one input and returns its only record.
fn single(cmd: Command) -> Value {
    support::only_record(&run_with(cmd, b"", LIMIT))
}

fn has_header(srv: &Server, name: &str) -> bool {
    srv.requests()
        .iter()
        .any(|r| r.headers.iter().any(|(n, _)| n == name))
}

#[test]
fn http_target_goes_in_absolute_form_with_credentials_for_the_proxy_only() {
    let srv = Server::start();
    let proxy = Proxy::http();
    let url = srv.url("/title/plain");
    let mut c = volley();
    c.args(["--proxy", &format!("http://user:pass@{}", proxy.addr())])
        .arg(&url);
    let r = single(c);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["status"], 200, "{r}");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].kind, "forward");
    assert_eq!(seen[0].target, url);
    assert_eq!(
        seen[0].proxy_authorization.as_deref(),
        Some("Basic dXNlcjpwYXNz")
    );
    // The test proxy strips it when forwarding; the origin must not see it either way.
    assert_eq!(srv.requests()[0].path_and_query, "/title/plain");
    assert!(!has_header(&srv, "proxy-authorization"));
}

#[test]
fn https_target_goes_through_connect_and_tls_checks_the_origin() {
    let srv = Server::builder().tls(true).start();
    let proxy = Proxy::http();
    let mut c = volley();
    c.args(["--proxy", &format!("http://u:p@{}", proxy.addr())])
        .arg("--cacert")
        .arg(srv.ca_pem_path())
        .args(["-u", "alice:secret"])
        .arg(srv.https_url("/title/plain"));
    let r = single(c);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["status"], 200, "{r}");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].kind, "connect");
    assert_eq!(
        seen[0].target,
        format!("localhost:{}", srv.https_addr().port())
    );
    assert_eq!(seen[0].proxy_authorization.as_deref(), Some("Basic dTpw"));
    // Origin credentials are not on the CONNECT; proxy credentials not at the origin.
    assert!(
        !seen[0]
            .head
            .to_ascii_lowercase()
            .contains("\r\nauthorization:"),
        "{}",
        seen[0].head
    );
    assert!(has_header(&srv, "authorization"));
    assert!(!has_header(&srv, "proxy-authorization"));
}

#[test]
fn resolve_applies_to_the_connect_target_and_tls_still_checks_the_name() {
    let srv = Server::builder().tls(true).start();
    let proxy = Proxy::http();
    let port = srv.https_addr().port();
    let mut c = volley();
    c.args(["--proxy", &proxy.url()])
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .arg("--cacert")
        .arg(srv.ca_pem_path())
        .arg(srv.https_url("/title/plain"));
    let r = single(c);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(proxy.seen()[0].target, format!("127.0.0.1:{port}"));

    // -k with a name the certificate does not cover.
    let mut c = volley();
    c.args(["--proxy", &proxy.url()])
        .args(["--resolve", &format!("origin.test:{port}:127.0.0.1"), "-k"])
        .arg(format!("https://origin.test:{port}/title/plain"));
    let r = single(c);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(proxy.seen()[1].target, format!("127.0.0.1:{port}"));
}

#[test]
fn socks5_resolves_locally_and_sends_its_credentials() {
    let srv = Server::start();
    let proxy = Proxy::socks5_auth("sock", "s3cret");
    let port = srv.host_addr(0).port();
    let mut c = volley();
    c.args(["--proxy", &format!("socks5://sock:s3cret@{}", proxy.addr())])
        .arg(format!("http://localhost:{port}/title/plain"));
    let r = single(c);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].kind, "socks5");
    assert!(!seen[0].socks_domain, "socks5:// sends an address");
    assert_eq!(seen[0].socks_auth, Some(("sock".into(), "s3cret".into())));
    if seen[0].target == format!("127.0.0.1:{port}") {
        assert_eq!(r["ok"], true, "{r}");
        assert_eq!(srv.requests()[0].path_and_query, "/title/plain");
    } else {
        // localhost resolved to ::1 first, where the test server does not listen.
        assert_eq!(seen[0].target, format!("[::1]:{port}"));
    }
}

#[test]
fn socks5h_lets_the_proxy_resolve_names() {
    let srv = Server::builder().tls(true).start();
    let proxy = Proxy::socks5();
    let mut c = volley();
    c.args(["--proxy", &proxy.url().replace("socks5://", "socks5h://")])
        .arg("--cacert")
        .arg(srv.ca_pem_path())
        .arg(srv.https_url("/title/plain"));
    let r = single(c);
    assert_eq!(r["ok"], true, "{r}");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].socks_domain);
    assert_eq!(seen[0].socks_auth, None);
    assert_eq!(
        seen[0].target,
        format!("localhost:{}", srv.https_addr().port())
    );
}

#[test]
fn environment_proxy_is_honoured_and_no_proxy_respected() {
    let srv = Server::start();
    let proxy = Proxy::http();
    let url = srv.url("/title/plain");

    let mut c = volley();
    c.env("HTTP_PROXY", proxy.url()).arg(&url);
    assert_eq!(single(c)["ok"], true);
    assert_eq!(proxy.seen().len(), 1);
    assert_eq!(proxy.seen()[0].target, url);

    // Each of these reaches the origin directly.
    let direct: [&[&str]; 3] = [&[], &["--no-proxy", "*"], &["--proxy", ""]];
    for (i, extra) in direct.iter().enumerate() {
        let mut c = volley();
        c.env("HTTP_PROXY", proxy.url()).args(*extra).arg(&url);
        if extra.is_empty() {
            c.env("NO_PROXY", "example.com, 127.0.0.1");
        }
        assert_eq!(single(c)["ok"], true, "{extra:?}");
        assert_eq!(proxy.seen().len(), 1, "{extra:?} went through the proxy");
        assert_eq!(srv.request_count(), i + 2);
    }
}

#[test]
fn a_refused_proxy_is_a_connect_error_naming_the_proxy() {
    let srv = Server::start();
    let port = closed_port();
    let mut c = volley();
    c.args(["--proxy", &format!("http://user:hunter2@127.0.0.1:{port}")])
        .arg(srv.url("/title/plain"));
    let r = single(c);
    assert_eq!(r["ok"], false);
    assert_eq!(r["error"]["kind"], "connect", "{r}");
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("proxy http://127.0.0.1:{port}: ")),
        "{msg}"
    );
    assert!(!r.to_string().contains("hunter2"), "{r}");
    assert_eq!(srv.request_count(), 0);
}

#[test]
fn a_bad_proxy_url_is_a_usage_error() {
    for bad in [
        "ftp://127.0.0.1:21",
        "https://127.0.0.1:3128",
        "not a url",
        "http://127.0.0.1:3128/path",
        "socks4://127.0.0.1:1080",
    ] {
        assert_usage_error(&["--proxy", bad], "--proxy");
    }
}
