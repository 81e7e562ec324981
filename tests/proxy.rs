//! `--proxy`, `--no-proxy` and the proxy environment variables, against testbed's forward proxy
//! (plain, over TLS, or SOCKS5): what the proxy saw (request form, CONNECT target, credentials)
//! and what the origin saw.

mod support;

use std::io::Write;
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
    assert_one_connect_with_credentials(&proxy, &srv);
}

/// The proxy saw one CONNECT to the server's TLS port carrying the proxy's credentials (`u:p`)
/// and not the origin's; the origin got its own credentials and not the proxy's.
fn assert_one_connect_with_credentials(proxy: &Proxy, srv: &Server) {
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].kind, "connect");
    assert_eq!(
        seen[0].target,
        format!("localhost:{}", srv.https_addr().port())
    );
    assert_eq!(seen[0].proxy_authorization.as_deref(), Some("Basic dTpw"));
    assert!(
        !seen[0]
            .head
            .to_ascii_lowercase()
            .contains("\r\nauthorization:"),
        "{}",
        seen[0].head
    );
    assert!(has_header(srv, "authorization"));
    assert!(!has_header(srv, "proxy-authorization"));
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

/// A PEM file trusting both the test server's CA and the https proxy's.
fn both_cas(srv: &Server, proxy: &Proxy) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    write!(f, "{}\n{}", srv.ca_pem(), proxy.ca_pem()).unwrap();
    f.flush().unwrap();
    f
}

#[test]
fn https_proxy_forwards_http_targets_over_tls_with_its_credentials() {
    let srv = Server::start();
    let proxy = Proxy::https();
    let url = srv.url("/title/plain");
    let mut c = volley();
    c.args(["--proxy", &format!("https://user:pass@{}", proxy.addr())])
        .arg("--cacert")
        .arg(proxy.ca_pem_path())
        .arg(&url);
    let r = single(c);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["title"], "Hello testbed", "{r}");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].kind, "forward");
    assert_eq!(seen[0].target, url);
    assert_eq!(
        seen[0].proxy_authorization.as_deref(),
        Some("Basic dXNlcjpwYXNz")
    );
    assert_eq!(srv.request_count(), 1);
    assert_eq!(srv.requests()[0].path_and_query, "/title/plain");
    assert!(!has_header(&srv, "proxy-authorization"));
}

#[test]
fn https_target_through_an_https_proxy_is_tls_inside_the_proxy_tls() {
    let srv = Server::builder().tls(true).start();
    let proxy = Proxy::https();
    let cas = both_cas(&srv, &proxy);
    let mut c = volley();
    c.args(["--proxy", &format!("https://u:p@{}", proxy.addr())])
        .arg("--cacert")
        .arg(cas.path())
        .args(["-u", "alice:secret"])
        .arg(srv.https_url("/title/plain"));
    let r = single(c);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["title"], "Hello testbed", "{r}");
    assert_one_connect_with_credentials(&proxy, &srv);
    // The proxy's ALPN (http/1.1) does not decide the target's: h2 inside the tunnel.
    let got = srv.requests();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls);
    assert_eq!(got[0].version, "HTTP/2.0");
}

#[test]
fn trusting_the_https_proxy_does_not_trust_the_target() {
    let srv = Server::builder().tls(true).start();
    let proxy = Proxy::https();
    let mut c = volley();
    c.args(["--proxy", &proxy.url()])
        .arg("--cacert")
        .arg(proxy.ca_pem_path())
        .arg(srv.https_url("/title/plain"));
    let r = single(c);
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"]["kind"], "tls", "{r}");
    // The target failed, not the proxy: the message does not blame it.
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(!msg.starts_with("proxy "), "{msg}");
    assert_eq!(proxy.seen().len(), 1);
    assert_eq!(proxy.seen()[0].kind, "connect");
    assert_eq!(srv.request_count(), 0);
}

#[test]
fn an_untrusted_https_proxy_is_a_tls_error_naming_the_proxy() {
    let srv = Server::builder().tls(true).start();
    let proxy = Proxy::https();
    let prefix = format!("proxy https://{}: ", proxy.addr());
    // No --cacert: the system roots do not know the proxy's CA. An http target (the proxy
    // would forward it) and an https target (the proxy would tunnel) fail alike.
    // With the target's CA as --cacert the proxy stays untrusted; both testbed CAs are named
    // "testbed CA", so rustls reports a bad signature rather than an unknown issuer.
    let cases: [(String, Option<&std::path::Path>, &str); 3] = [
        (srv.url("/title/plain"), None, "UnknownIssuer"),
        (srv.https_url("/title/plain"), None, "UnknownIssuer"),
        (
            srv.https_url("/title/plain"),
            Some(srv.ca_pem_path()),
            "BadSignature",
        ),
    ];
    for (url, cacert, why) in cases {
        let mut c = volley();
        c.args(["--proxy", &format!("https://user:hunter2@{}", proxy.addr())]);
        if let Some(path) = cacert {
            c.arg("--cacert").arg(path);
        }
        c.arg(&url);
        let out = run_with(c, b"", LIMIT);
        assert_eq!(out.code, Some(1), "{url}: {}", out.stderr);
        let r = support::only_record(&out);
        assert_eq!(r["ok"], false, "{r}");
        assert_eq!(r["error"]["kind"], "tls", "{r}");
        assert_eq!(
            r["error"]["message"],
            format!("{prefix}invalid peer certificate: {why}"),
            "{r}"
        );
        assert!(!r.to_string().contains("hunter2"), "{r}");
    }
    assert_eq!(proxy.seen(), []);
    assert_eq!(srv.request_count(), 0);
}

#[test]
fn insecure_covers_the_https_proxy_from_the_environment() {
    let srv = Server::builder().tls(true).start();
    let proxy = Proxy::https();
    let url = srv.url("/title/plain");
    let mut c = volley();
    c.env("HTTP_PROXY", format!("https://env:pw@{}", proxy.addr()))
        .env("HTTPS_PROXY", proxy.url())
        .arg("-k")
        .arg(&url)
        .arg(srv.https_url("/page/1"));
    let out = run_with(c, b"", LIMIT);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let recs = out.records_by_index();
    assert_eq!(recs.len(), 2, "{}", out.stdout);
    assert_eq!(recs[0]["title"], "Hello testbed", "{}", recs[0]);
    assert_eq!(recs[1]["title"], "Page 1", "{}", recs[1]);
    let mut seen = proxy.seen();
    seen.sort_by_key(|s| s.kind);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].kind, "connect");
    assert_eq!(seen[0].proxy_authorization, None);
    assert_eq!(seen[1].kind, "forward");
    assert_eq!(seen[1].target, url);
    assert_eq!(
        seen[1].proxy_authorization.as_deref(),
        Some("Basic ZW52OnB3")
    );
}

#[test]
fn a_bad_proxy_url_is_a_usage_error() {
    for bad in [
        "ftp://127.0.0.1:21",
        "https://127.0.0.1:3128/path",
        "not a url",
        "http://127.0.0.1:3128/path",
        "socks4://127.0.0.1:1080",
    ] {
        assert_usage_error(&["--proxy", bad], "--proxy");
    }
}
