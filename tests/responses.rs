//! Responses, end to end against the testbed: content decoding (gzip, deflate, br, zstd,
//! stacked gzip), `--max-body` counted after decoding (and a gzip bomb), bodies cut short by the
//! server, statuses and `ok`, HEAD, titles (entities, charsets, whitespace, decoys, …), the
//! header-derived fields (`server`, `content_type`, `content_length`), and the request headers
//! volley sends (`-A`, `-H`, default User-Agent and Accept-Encoding).

mod support;

use serde_json::Value;
use support::single;
use testbed::pages::{expected_title, PLAIN};
use testbed::Server;

/// Fetches `path` from a fresh server with `args` before the URL.
fn fetch(path: &str, args: &[&str]) -> Value {
    let srv = Server::start();
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.push(srv.url(path));
    single(&all)
}

/// Asserts `r` is a complete 200 exchange.
fn assert_ok(r: &Value) {
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["status"], 200, "{r}");
    assert!(r["error"].is_null(), "{r}");
}

fn assert_decoded_plain_page(path: &str) {
    let r = fetch(path, &[]);
    assert_ok(&r);
    assert_eq!(r["title"], expected_title("plain").unwrap(), "{path}: {r}");
    assert_eq!(
        r["bytes"],
        PLAIN.len(),
        "{path}: bytes are counted after decoding: {r}"
    );
}

#[test]
fn gzip_body_is_decoded() {
    assert_decoded_plain_page("/gzip");
}

#[test]
fn deflate_body_is_decoded() {
    assert_decoded_plain_page("/deflate");
}

#[test]
fn brotli_body_is_decoded() {
    assert_decoded_plain_page("/br");
}

#[test]
fn zstd_body_is_decoded() {
    assert_decoded_plain_page("/zstd");
}

#[test]
fn stacked_gzip_gzip_body_is_decoded() {
    assert_decoded_plain_page("/gzip-double");
}

#[test]
fn max_body_stops_reading_at_the_cap() {
    let r = fetch("/bytes/5000", &["--max-body", "1k"]);
    assert_eq!(r["error"]["kind"], "body_too_large", "{r}");
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["bytes"], 1024, "{r}");
    assert_eq!(r["content_length"], 5000, "{r}");
}

#[test]
fn max_body_equal_to_the_body_is_fine() {
    let r = fetch("/bytes/1024", &["--max-body", "1k"]);
    assert_ok(&r);
    assert_eq!(r["bytes"], 1024, "{r}");
}

#[test]
fn gzip_bomb_is_cut_at_the_default_max_body() {
    let r = fetch("/gzip-bomb?mb=64", &[]);
    assert_eq!(r["error"]["kind"], "body_too_large", "{r}");
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["bytes"], 8 * 1024 * 1024, "{r}");
}

#[test]
fn truncated_body_is_a_reset_after_the_status() {
    let r = fetch("/truncated", &[]);
    assert_eq!(r["error"]["kind"], "reset", "{r}");
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["bytes"], 100, "{r}");
}

#[test]
fn reset_before_any_response_has_no_status() {
    let r = fetch("/reset", &[]);
    assert_eq!(r["error"]["kind"], "reset", "{r}");
    assert!(r["status"].is_null(), "{r}");
    assert!(r["final_url"].is_null(), "{r}");
    assert_eq!(r["ok"], false, "{r}");
}

#[test]
fn reset_after_the_head_keeps_the_status() {
    let r = fetch("/reset-after-head", &[]);
    assert_eq!(r["error"]["kind"], "reset", "{r}");
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["content_length"], 100000, "{r}");
}

#[test]
fn not_found_is_not_ok_but_not_an_error() {
    let r = fetch("/status/404", &[]);
    assert_eq!(r["status"], 404, "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert!(r["error"].is_null(), "{r}");
}

#[test]
fn server_error_is_not_ok() {
    let r = fetch("/status/500", &[]);
    assert_eq!(r["status"], 500, "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert!(r["error"].is_null(), "{r}");
}

#[test]
fn no_content_is_ok_with_no_bytes() {
    let r = fetch("/status/204", &[]);
    assert_eq!(r["status"], 204, "{r}");
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["bytes"], 0, "{r}");
    assert!(r["title"].is_null(), "{r}");
}

#[test]
fn head_request_reads_no_body() {
    let srv = Server::start();
    let r = single(["-I", &srv.url("/title/plain")]);
    assert_ok(&r);
    assert_eq!(r["method"], "HEAD", "{r}");
    assert_eq!(r["bytes"], 0, "{r}");
    assert_eq!(r["content_length"], PLAIN.len(), "{r}");
    let seen = srv.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "HEAD");
}

/// Fetches `/title/<name>` and checks the title against the testbed's expectation.
fn assert_title(name: &str) {
    let r = fetch(&format!("/title/{name}"), &[]);
    assert_ok(&r);
    assert_eq!(
        r["title"].as_str(),
        expected_title(name),
        "/title/{name}: {r}"
    );
}

#[test]
fn title_plain() {
    assert_title("plain");
}

#[test]
fn title_entities_are_decoded() {
    assert_title("entities");
}

#[test]
fn title_latin1_from_the_header_charset() {
    assert_title("latin1");
}

#[test]
fn title_charset_from_meta_charset() {
    assert_title("meta-charset");
}

#[test]
fn title_charset_from_meta_http_equiv() {
    assert_title("meta-http-equiv");
}

#[test]
fn title_whitespace_is_collapsed() {
    assert_title("whitespace");
}

#[test]
fn title_missing_is_null() {
    assert_eq!(expected_title("none"), None);
    assert_title("none");
}

/// testbed documents a present but empty `<title></title>` as `""` (not null); DESIGN §2 says
/// null only "when there is none".
#[test]
fn title_empty_is_an_empty_string() {
    assert_eq!(expected_title("empty"), None);
    assert_title("empty");
}

#[test]
fn title_in_comments_and_scripts_is_ignored() {
    assert_title("decoy");
}

#[test]
fn title_tag_in_upper_case() {
    assert_title("uppercase");
}

#[test]
fn title_tag_with_attributes() {
    assert_title("attrs");
}

#[test]
fn title_after_200_kb_of_script() {
    assert_title("late");
}

#[test]
fn title_of_json_is_null() {
    assert_eq!(expected_title("json"), None);
    let r = fetch("/title/json", &[]);
    assert_ok(&r);
    assert!(r["title"].is_null(), "not HTML: {r}");
    assert_eq!(r["content_type"], "application/json", "{r}");
}

#[test]
fn header_fields_are_filled() {
    let r = fetch("/headers?Server=x-server&X-Extra=1", &[]);
    assert_ok(&r);
    assert_eq!(r["server"], "x-server", "{r}");
    assert_eq!(r["content_type"], "text/plain; charset=utf-8", "{r}");
    assert_eq!(r["content_length"], 3, "body is `ok\\n`: {r}");
    assert_eq!(r["bytes"], 3, "{r}");
}

#[test]
fn content_type_is_reported_as_sent() {
    let r = fetch("/title/latin1", &[]);
    assert_ok(&r);
    assert_eq!(r["content_type"], "text/html; charset=iso-8859-1", "{r}");
}

#[test]
fn chunked_body_has_no_content_length() {
    let r = fetch("/bytes-chunked/5000", &[]);
    assert_ok(&r);
    assert!(r["content_length"].is_null(), "{r}");
    assert_eq!(r["bytes"], 5000, "{r}");
}

#[test]
fn user_agent_and_extra_headers_reach_the_server() {
    let srv = Server::start();
    let r = single(["-A", "my-agent/1", "-H", "X-Test: 1", &srv.url("/echo")]);
    assert_ok(&r);
    let seen = srv.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("user-agent"), Some("my-agent/1"));
    assert_eq!(seen[0].header("x-test"), Some("1"));
    let ua_count = seen[0]
        .headers
        .iter()
        .filter(|(n, _)| n == "user-agent")
        .count();
    assert_eq!(
        ua_count, 1,
        "-A replaces the default: {:?}",
        seen[0].headers
    );
}

#[test]
fn default_request_headers() {
    let srv = Server::start();
    let r = single([&srv.url("/echo")]);
    assert_ok(&r);
    let seen = srv.requests();
    assert_eq!(seen.len(), 1);
    let ua = seen[0].header("user-agent").unwrap_or_default();
    assert!(ua.starts_with("volley/"), "{ua}");
    assert_eq!(ua, concat!("volley/", env!("CARGO_PKG_VERSION")));
    let ae = seen[0].header("accept-encoding").unwrap_or_default();
    let codings: Vec<&str> = ae.split(',').map(str::trim).collect();
    for c in ["gzip", "br", "zstd"] {
        assert!(codings.contains(&c), "Accept-Encoding {ae:?} lacks {c}");
    }
}

#[test]
fn header_flag_overrides_a_default_header() {
    let srv = Server::start();
    let r = single(["-H", "Accept-Encoding: identity", &srv.url("/echo")]);
    assert_ok(&r);
    let seen = srv.requests();
    let values: Vec<&str> = seen[0]
        .headers
        .iter()
        .filter(|(n, _)| n == "accept-encoding")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(values, ["identity"]);
}
