//! Request bodies and cookies, end to end against the testbed: `-d/--data` (text, `@FILE`, `@-`,
//! repeated), `--json`, `-b/--cookie`, what the server received (method, body bytes,
//! `Content-Type`, `Accept`, `Cookie`), `-H` replacing the defaults, bodies across redirects,
//! cookies dropped on the way to another origin, POST not retried, and the usage errors.

mod support;

use std::io::Write;
use std::time::Duration;

use serde_json::Value;
use support::{assert_code, assert_usage_error, redirect_to, run_with, single, volley, LIMIT};
use testbed::{Seen, Server};

const FORM: &str = "application/x-www-form-urlencoded";

/// Runs `volley -j -q ARGS… <srv>/echo`, expects one ok record, and returns it with the only
/// request the server saw.
fn echo(srv: &Server, args: &[&str]) -> (Value, Seen) {
    let url = srv.url("/echo");
    let mut all = args.to_vec();
    all.push(&url);
    let r = single(&all);
    assert_eq!(r["ok"], true, "{r}");
    let seen = srv.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    (r, seen.into_iter().next().unwrap())
}

fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f
}

fn at(f: &tempfile::NamedTempFile) -> String {
    format!("@{}", f.path().display())
}

#[test]
fn data_is_posted_form_encoded() {
    let srv = Server::start();
    let (r, s) = echo(&srv, &["-d", "name=volley&x=1"]);
    assert_eq!(r["method"], "POST", "{r}");
    assert_eq!(s.method, "POST");
    assert_eq!(s.body, b"name=volley&x=1");
    assert_eq!(s.header("content-type"), Some(FORM));
    assert_eq!(s.header("content-length"), Some("15"));
}

#[test]
fn repeated_data_joins_with_ampersand() {
    let srv = Server::start();
    let (_, s) = echo(&srv, &["-d", "a=1", "--data", "b=2", "-d", "c"]);
    assert_eq!(s.body, b"a=1&b=2&c");
}

#[test]
fn data_from_a_file_is_sent_without_its_newlines() {
    let srv = Server::start();
    let f = temp_file(b"x=1\r\ny=2\n");
    let (_, s) = echo(&srv, &["-d", "a=0", "-d", &at(&f)]);
    assert_eq!(s.body, b"a=0&x=1y=2");
    assert_eq!(s.header("content-type"), Some(FORM));
}

#[test]
fn data_from_stdin_when_inputs_are_arguments() {
    let srv = Server::start();
    let mut cmd = volley();
    cmd.args(["-j", "-q", "-d", "@-", &srv.url("/echo")]);
    let out = run_with(cmd, b"from=stdin\n", LIMIT);
    assert_code(&out, 0);
    let seen = srv.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body, b"from=stdin");
}

#[test]
fn data_with_a_method_keeps_the_method() {
    let srv = Server::start();
    let (r, s) = echo(&srv, &["-X", "PUT", "-d", "v=1"]);
    assert_eq!(r["method"], "PUT", "{r}");
    assert_eq!((s.method.as_str(), s.body.as_slice()), ("PUT", &b"v=1"[..]));
}

#[test]
fn a_content_type_header_replaces_the_default() {
    let srv = Server::start();
    let (_, s) = echo(&srv, &["-d", "<a/>", "-H", "Content-Type: text/xml"]);
    assert_eq!(s.header("content-type"), Some("text/xml"));
    let n = s
        .headers
        .iter()
        .filter(|(n, _)| n == "content-type")
        .count();
    assert_eq!(n, 1, "{:?}", s.headers);
    assert_eq!(s.body, b"<a/>");
}

#[test]
fn json_is_posted_as_given_with_json_headers() {
    let srv = Server::start();
    let body = r#"{"q": "volley", "n": [1, 2]}"#;
    let (r, s) = echo(&srv, &["--json", body]);
    assert_eq!(r["method"], "POST", "{r}");
    assert_eq!(s.method, "POST");
    assert_eq!(s.body, body.as_bytes());
    assert_eq!(s.header("content-type"), Some("application/json"));
    assert_eq!(s.header("accept"), Some("application/json"));
}

#[test]
fn json_from_a_file_is_sent_byte_for_byte() {
    let srv = Server::start();
    let f = temp_file(b"{\n  \"k\": \"v\"\n}\n");
    let (_, s) = echo(&srv, &["--json", &at(&f), "-X", "PATCH"]);
    assert_eq!(s.method, "PATCH");
    assert_eq!(s.body, b"{\n  \"k\": \"v\"\n}\n");
}

#[test]
fn json_headers_give_way_to_the_users() {
    let srv = Server::start();
    let (_, s) = echo(
        &srv,
        &[
            "--json",
            "[]",
            "-H",
            "Accept: text/plain",
            "-H",
            "Content-Type: application/vnd.api+json",
        ],
    );
    assert_eq!(s.header("accept"), Some("text/plain"));
    assert_eq!(s.header("content-type"), Some("application/vnd.api+json"));
    assert_eq!(s.body, b"[]");
}

#[test]
fn cookies_are_sent_in_one_header() {
    let srv = Server::start();
    let (r, s) = echo(&srv, &["-b", "a=1; b=2", "--cookie", "c=3"]);
    assert_eq!(r["method"], "GET", "cookies alone do not make a POST: {r}");
    assert_eq!(s.header("cookie"), Some("a=1; b=2; c=3"));
    let n = s.headers.iter().filter(|(n, _)| n == "cookie").count();
    assert_eq!(n, 1, "{:?}", s.headers);
}

#[test]
fn cookies_are_dropped_when_a_redirect_leaves_the_origin() {
    let srv = Server::builder().hosts(2).start();
    let first = srv.host_url(0, &redirect_to(&srv.host_url(1, "/echo"), 302));
    let r = single(["-b", "session=s3cret", &first]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["redirects"], 1, "{r}");
    let seen = srv.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!((seen[0].host, seen[1].host), (0, 1));
    assert_eq!(seen[0].header("cookie"), Some("session=s3cret"));
    assert_eq!(seen[1].header("cookie"), None, "{:?}", seen[1].headers);
}

#[test]
fn cookies_are_kept_on_a_same_origin_redirect() {
    let srv = Server::start();
    let r = single(["-b", "session=s3cret", &srv.url(&redirect_to("/echo", 302))]);
    assert_eq!(r["ok"], true, "{r}");
    let seen = srv.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for s in &seen {
        assert_eq!(s.header("cookie"), Some("session=s3cret"), "{s:?}");
    }
}

/// Posts `-d a=1` to a `status` redirect to `/echo` and returns what the server saw.
fn post_through_redirect(status: u16) -> Vec<Seen> {
    let srv = Server::start();
    let r = single(["-d", "a=1", &srv.url(&redirect_to("/echo", status))]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["redirects"], 1, "{r}");
    assert_eq!(
        r["method"], "POST",
        "the record keeps the first method: {r}"
    );
    let seen = srv.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].body, b"a=1");
    assert_eq!(seen[0].header("content-type"), Some(FORM));
    seen
}

#[test]
fn a_307_keeps_the_method_and_the_body() {
    let seen = post_through_redirect(307);
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].body, b"a=1");
    assert_eq!(seen[1].header("content-type"), Some(FORM));
}

#[test]
fn a_308_keeps_the_method_and_the_body() {
    let seen = post_through_redirect(308);
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].body, b"a=1");
}

/// After a redirect that turns a POST into a GET, the body and the headers describing it are
/// gone.
fn assert_body_dropped(status: u16) {
    let seen = post_through_redirect(status);
    assert_eq!(seen[1].method, "GET");
    assert_eq!(seen[1].body, b"");
    for name in ["content-type", "content-length"] {
        assert_eq!(seen[1].header(name), None, "{name}: {:?}", seen[1].headers);
    }
}

#[test]
fn a_302_continues_with_get_and_no_body() {
    assert_body_dropped(302);
}

#[test]
fn a_303_continues_with_get_and_no_body() {
    assert_body_dropped(303);
}

#[test]
fn a_post_is_not_retried() {
    let srv = Server::start();
    let r = single(["-d", "a=1", "--retries", "3", &srv.url("/status/503")]);
    assert_eq!(r["status"], 503, "{r}");
    assert_eq!(r["attempts"], 1, "{r}");
    assert_eq!(srv.request_count(), 1);
}

#[test]
fn usage_errors_name_the_flag() {
    let missing = "@/no/such/volley-body";
    assert_usage_error(&["-d", missing], "-d/--data");
    assert_usage_error(&["--json", missing], "--json");
    assert_usage_error(&["--json", "{not json}"], "--json");
    assert_usage_error(&["--json", "[]", "-d", "a=1"], "--json");
    assert_usage_error(&["-d", "a=1", "-I"], "--data");
    assert_usage_error(&["--json", "[]", "-I"], "--json");
    assert_usage_error(&["-d", "@-", "-i", "-"], "-d/--data");
    assert_usage_error(&["--json", "@-", "-i", "-"], "--json");
    assert_usage_error(&["-b", "a=1\r\nX-Evil: 1"], "-b/--cookie");
    assert_usage_error(&["-b", "a=1\nb=2"], "-b/--cookie");
    assert_usage_error(&["-b", "cookies.txt"], "-b/--cookie");
    let dir = tempfile::tempdir().unwrap();
    assert_usage_error(&["-d", &format!("@{}", dir.path().display())], "-d/--data");
}

#[test]
fn a_body_over_64_mib_is_a_usage_error() {
    let f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().set_len((64 << 20) + 1).unwrap();
    assert_usage_error(&["-d", &at(&f)], "-d/--data");
    assert_usage_error(&["--json", &at(&f)], "--json");
}

#[test]
fn stdin_body_is_refused_when_inputs_are_piped() {
    let srv = Server::start();
    let mut cmd = volley();
    cmd.args(["-j", "-q", "-d", "@-"]);
    let out = run_with(cmd, srv.url("/echo").as_bytes(), LIMIT);
    assert_code(&out, 2);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("-d/--data"), "{}", out.stderr);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(srv.request_count(), 0);
}
