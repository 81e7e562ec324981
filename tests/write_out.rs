//! `-w/--write-out TEMPLATE` and `--include-headers` (issue 4, items 2 and 5): one line per
//! record from a template, the response headers in the record, terminal-safe values, and usage
//! errors before anything is fetched.
mod support;

use serde_json::{json, Value};
use support::{assert_code, assert_usage_error, run, run_args, volley};

/// `volley -q ARGS…`, returning stdout after checking the exit code.
fn stdout(args: &[&str], code: i32) -> String {
    let out = run_args(&[&["-q"], args].concat());
    assert_code(&out, code);
    out.stdout
}

/// The record's keys in the order they appear in the line.
fn keys(line: &str) -> Vec<String> {
    // serde_json's Map is sorted, so find each key's position in the text instead.
    let v: Value = serde_json::from_str(line).unwrap();
    let mut keys: Vec<(usize, String)> = v
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (line.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

/// The schema's keys with `headers` after `extract`.
fn keys_with_headers() -> Vec<&'static str> {
    let mut k = volley::record::FIELDS.to_vec();
    let at = k.iter().position(|&f| f == "extract").unwrap() + 1;
    k.insert(at, "headers");
    k
}

#[test]
fn the_seeds_axios_line_works_as_written() {
    let srv = testbed::Server::start();
    let a = srv.url("/headers?Server=axios-demo");
    let b = srv.url("/status/404");
    let dir = tempfile::tempdir().unwrap();
    let urls = dir.path().join("urls.txt");
    std::fs::write(&urls, format!("{a}\n{b}\n")).unwrap();
    let mut c = volley();
    c.args(["-w", "%{url} -> %{header.server}: %{status}", "-i"])
        .arg(&urls);
    let out = run(c);
    assert_code(&out, 1);
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort();
    let mut want = vec![
        format!("{a} -> axios-demo: 200"),
        format!("{b} -> testbed: 404"),
    ];
    want.sort();
    assert_eq!(lines, want, "{:?}", out.stdout);
    assert_eq!(out.stdout.matches('\n').count(), 2);
    // The summary still goes to stderr.
    assert!(out.stderr.contains("2 records"), "{}", out.stderr);
}

#[test]
fn fields_escapes_and_exactly_one_line_end() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let line = "200\t[Hello testbed]\\ 100% ok=true attempts=1";
    for template in [
        r"%{status}\t[%{title}]\\ 100%% ok=%{ok} attempts=%{attempts}",
        r"%{status}\t[%{title}]\\ 100%% ok=%{ok} attempts=%{attempts}\n",
    ] {
        assert_eq!(stdout(&["-w", template, &url], 0), format!("{line}\n"));
    }
    // A newline inside the template is the user's choice; the record still ends in one.
    assert_eq!(
        stdout(&["-w", r"%{status}\n%{host}", &url], 0),
        format!("200\n{}\n", url.split('/').nth(2).unwrap())
    );
    // Null and missing values are empty; an error has its kind and message.
    assert_eq!(
        stdout(
            &[
                "-w",
                "[%{status}|%{title}|%{error_kind}: %{error_message}]",
                "ftp://x/"
            ],
            1
        ),
        "[||invalid_input: unsupported scheme `ftp` (only http and https)]\n"
    );
}

#[test]
fn json_is_the_whole_record_and_parses() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let text = stdout(&["-w", "%{status} %{json}", &url], 0);
    let line = text.strip_suffix('\n').unwrap();
    let json = line.strip_prefix("200 ").unwrap();
    let mut rec: Value = serde_json::from_str(json).unwrap();
    assert_eq!(keys(json), {
        let mut k = keys_with_headers();
        k.retain(|k| *k != "headers");
        k
    });
    assert!(rec["elapsed_ms"].as_f64().unwrap() > 0.0);
    rec["elapsed_ms"] = json!(0);
    assert_eq!(rec["url"], url);
    assert_eq!(rec["title"], "Hello testbed");
    assert_eq!(rec["extract"], json!({}));
    assert_eq!(rec["error"], Value::Null);

    // With --include-headers, `headers` follows `extract`.
    let text = stdout(&["-w", "%{json}", "--include-headers", &url], 0);
    assert_eq!(keys(text.trim_end()), keys_with_headers());
    let rec: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(rec["headers"]["server"], "testbed");
}

#[test]
fn missing_extracted_value_is_empty() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    assert_eq!(
        stdout(&["-w", "[%{extract.x}] %{extract}", &url], 0),
        "[] {}\n"
    );
    // With an extractor: the string as is, the missing one empty.
    assert_eq!(
        stdout(
            &[
                "-e",
                "t=css:title",
                "-w",
                "[%{extract.t}|%{extract.x}] %{extract}",
                &url
            ],
            0
        ),
        "[Hello testbed|] {\"t\":\"Hello testbed\"}\n"
    );
}

#[test]
fn header_names_are_case_insensitive_and_missing_ones_empty() {
    let srv = testbed::Server::start();
    let url = srv.url("/headers?X-Custom=Yes&x-other=a%20b");
    assert_eq!(
        stdout(
            &[
                "-w",
                "%{header.x-custom}|%{header.X-CUSTOM}|%{header.X-Custom}|%{header.X-OTHER}|\
                 %{header.missing}|",
                &url
            ],
            0
        ),
        "Yes|Yes|Yes|a b||\n"
    );
}

#[test]
fn header_values_from_the_network_are_escaped() {
    let srv = testbed::Server::start();
    // C1 CSI (a one-byte ESC [ on many terminals) and a bidi override, sent as UTF-8.
    let url = srv.url("/headers?X-Evil=a%C2%9B2Jb%E2%80%AEc");
    let out = stdout(
        &[
            "-w",
            "%{header.x-evil} %{headers}",
            "--include-headers",
            &url,
        ],
        0,
    );
    assert_eq!(
        out,
        "a\\x9b2Jb\\u{202e}c {\"server\":\"testbed\",\
         \"content-type\":\"text/plain; charset=utf-8\",\"x-evil\":\"a\\u009b2Jb\\u202ec\",\
         \"content-length\":\"3\"}\n"
    );
    // A raw ESC in a header is a protocol error for the HTTP parser: it never reaches the
    // output.
    let url = srv.url("/headers?X-Evil=a%1B%5B2Jb");
    let out = run_args(&[
        "-q",
        "--retries",
        "0",
        "-w",
        "%{status}|%{header.x-evil}|%{error_kind}",
        &url,
    ]);
    assert_code(&out, 1);
    assert_eq!(out.stdout, "||protocol\n");
}

#[test]
fn include_headers_in_jsonl_joins_repeated_fields() {
    let srv = testbed::Server::start();
    let url = srv.url("/headers?X-A=1&X-B=2&x-a=3");
    let out = run_args(&["-j", "-q", "--include-headers", &url]);
    assert_code(&out, 0);
    let line = out.stdout.trim_end();
    assert_eq!(keys(line), keys_with_headers());
    assert!(
        line.contains(
            r#""headers":{"server":"testbed","content-type":"text/plain; charset=utf-8","x-a":"1, 3","x-b":"2","content-length":"3"}"#
        ),
        "{line}"
    );
    // A record without a response has null headers; without the flag there is no key.
    let out = run_args(&["-j", "-q", "--include-headers", "ftp://x/"]);
    assert_eq!(out.records()[0]["headers"], Value::Null);
    assert_eq!(keys(out.stdout.trim_end()), keys_with_headers());
    let out = run_args(&["-j", "-q", &url]);
    assert!(out.records()[0].get("headers").is_none());
    // --fields headers works on its own.
    assert_eq!(
        stdout(&["-j", "--fields", "status,headers", &url], 0),
        "{\"status\":200,\"headers\":{\"server\":\"testbed\",\
         \"content-type\":\"text/plain; charset=utf-8\",\"x-a\":\"1, 3\",\"x-b\":\"2\",\
         \"content-length\":\"3\"}}\n"
    );
}

#[test]
fn include_headers_in_csv_is_a_json_cell_and_text_is_unchanged() {
    let srv = testbed::Server::start();
    let url = srv.url("/headers?X-A=1");
    let out = stdout(
        &[
            "--csv",
            "--include-headers",
            "--fields",
            "status,headers",
            &url,
        ],
        0,
    );
    assert_eq!(
        out,
        "status,headers\n200,\"{\"\"server\"\":\"\"testbed\"\",\
         \"\"content-type\"\":\"\"text/plain; charset=utf-8\"\",\"\"x-a\"\":\"\"1\"\",\
         \"\"content-length\"\":\"\"3\"\"}\"\n"
    );
    let out = stdout(&["--csv", "--include-headers", &url], 0);
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains(",extract,headers,saved_to,"),
        "{out}"
    );
    let with = stdout(
        &["--include-headers", "--fields", "status,url,title", &url],
        0,
    );
    assert_eq!(with, format!("200\t{url}\t-\n"));
    let line = stdout(&["--include-headers", &url], 0);
    assert!(!line.contains("x-a"), "{line}");
}

#[test]
fn headers_are_the_final_responses() {
    let srv = testbed::Server::start();
    let url = srv.url("/redirect/1");
    assert_eq!(
        stdout(
            &["-w", "%{status} [%{header.location}] %{redirects}", &url],
            0
        ),
        "200 [] 1\n"
    );
    assert_eq!(
        stdout(
            &["--no-follow", "-w", "%{status} [%{header.location}]", &url],
            0
        ),
        "302 [/redirect/0]\n"
    );
}

#[test]
fn head_requests_with_headers_are_the_seeds_php_example() {
    let srv = testbed::Server::start();
    let url = srv.url("/headers?X-A=1");
    assert_eq!(
        stdout(&["-I", "-w", "%{method} %{status} %{header.x-a}", &url], 0),
        "HEAD 200 1\n"
    );
}

#[test]
fn usage_errors_name_the_flag_before_any_request() {
    assert_usage_error(&["-w", "%{url} %{bogus}"], "-w/--write-out");
    assert_usage_error(&["-w", "%{bogus}"], "%{bogus}");
    assert_usage_error(&["-w", "%{url"], "-w/--write-out");
    assert_usage_error(&["-w", "%{header.}"], "-w/--write-out");
    assert_usage_error(&["-w", "%{url}", "-j"], "--write-out");
    assert_usage_error(&["-w", "%{url}", "--csv"], "--write-out");
    assert_usage_error(&["--fields", "status", "-w", "%{url}"], "--write-out");
}
