//! Inputs: positional URLs, `-i FILE`, `-i -`, piped stdin, skipped lines, CRLF, BOM, invalid
//! lines (one `invalid_input` record each, no network I/O) and streamed input.
mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use support::{assert_code, run, run_with, volley, wait_exit, Output};
use testbed::pages::PLAIN;

/// Runs `volley -j -q ARGS…` with empty stdin.
fn jsonl(args: &[&str]) -> Output {
    let mut c = volley();
    c.args(["-j", "-q"]).args(args);
    run(c)
}

/// Runs `volley -j -q ARGS…` with `stdin` as standard input.
fn jsonl_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut c = volley();
    c.args(["-j", "-q"]).args(args);
    run_with(c, stdin, Duration::from_secs(60))
}

/// A temporary file holding `bytes`.
fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(bytes).expect("write temp file");
    f.flush().expect("flush temp file");
    f
}

fn path_str(f: &tempfile::NamedTempFile) -> &str {
    f.path().to_str().expect("utf-8 temp path")
}

/// The records by index, asserting that indexes are exactly `0..n`, each once.
fn by_index(out: &Output, n: usize) -> Vec<Value> {
    let recs = out.records_by_index();
    let idx: Vec<u64> = recs.iter().map(|r| r["index"].as_u64().unwrap()).collect();
    assert_eq!(
        idx,
        (0..n as u64).collect::<Vec<_>>(),
        "indexes; stdout:\n{}",
        out.stdout
    );
    recs
}

/// Asserts `rec` is a successful fetch of `url` (an input given exactly as `url`) titled `title`.
fn assert_fetched(rec: &Value, url: &str, title: &str) {
    assert_eq!(rec["input"], url, "{rec}");
    assert_eq!(rec["url"], url, "{rec}");
    assert_eq!(rec["final_url"], url, "{rec}");
    assert_eq!(rec["status"], 200, "{rec}");
    assert_eq!(rec["ok"], true, "{rec}");
    assert_eq!(rec["title"], title, "{rec}");
    assert_eq!(rec["attempts"], 1, "{rec}");
    assert_eq!(rec["error"], Value::Null, "{rec}");
}

/// Asserts `rec` is the `invalid_input` record of `input` with `message`, nothing sent.
fn assert_invalid(rec: &Value, index: u64, input: &str, message: &str) {
    assert_invalid_shape(rec, index);
    assert_eq!(rec["input"], input, "{rec}");
    assert_eq!(rec["error"]["message"], message, "{rec}");
}

/// The fields every `invalid_input` record has, whatever its input and message.
fn assert_invalid_shape(rec: &Value, index: u64) {
    assert_eq!(rec["index"], index, "{rec}");
    assert_eq!(rec["error"]["kind"], "invalid_input", "{rec}");
    assert_eq!(rec["status"], Value::Null, "{rec}");
    assert_eq!(rec["ok"], false, "{rec}");
    assert_eq!(rec["attempts"], 0, "{rec}");
    assert_eq!(rec["url"], Value::Null, "{rec}");
    assert_eq!(rec["final_url"], Value::Null, "{rec}");
    assert_eq!(rec["bytes"], 0, "{rec}");
    assert_eq!(rec["redirects"], 0, "{rec}");
    assert_eq!(rec["title"], Value::Null, "{rec}");
}

const NO_SCHEME: &str = "no scheme: write http:// or https:// before the host";

fn unsupported(scheme: &str) -> String {
    format!("unsupported scheme `{scheme}` (only http and https)")
}

// ---------------------------------------------------------------------------------------------
// Sources

#[test]
fn positional_urls_each_get_one_record() {
    let srv = testbed::Server::start();
    let a = srv.url("/title/plain");
    let b = srv.url("/page/1");
    let out = jsonl(&[&a, &b]);
    assert_code(&out, 0);
    let recs = by_index(&out, 2);
    assert_fetched(&recs[0], &a, "Hello testbed");
    assert_fetched(&recs[1], &b, "Page 1");
    assert_eq!(srv.request_count(), 2);
}

#[test]
fn input_file_is_read_line_by_line() {
    let srv = testbed::Server::start();
    let urls: Vec<String> = (0..3).map(|i| srv.url(&format!("/page/{i}"))).collect();
    let f = temp_file(format!("{}\n", urls.join("\n")).as_bytes());
    let out = jsonl(&["-i", path_str(&f)]);
    assert_code(&out, 0);
    let recs = by_index(&out, 3);
    for (i, url) in urls.iter().enumerate() {
        assert_fetched(&recs[i], url, &format!("Page {i}"));
    }
    assert_eq!(srv.request_count(), 3);
}

#[test]
fn input_dash_reads_stdin() {
    let srv = testbed::Server::start();
    let a = srv.url("/page/7");
    let b = srv.url("/title/plain");
    let out = jsonl_stdin(&["-i", "-"], format!("{a}\n{b}\n").as_bytes());
    assert_code(&out, 0);
    let recs = by_index(&out, 2);
    assert_fetched(&recs[0], &a, "Page 7");
    assert_fetched(&recs[1], &b, "Hello testbed");
    assert_eq!(srv.request_count(), 2);
}

#[test]
fn piped_stdin_is_read_when_there_are_no_inputs() {
    let srv = testbed::Server::start();
    let a = srv.url("/page/3");
    let b = srv.url("/page/4");
    let out = jsonl_stdin(&[], format!("{a}\n{b}\n").as_bytes());
    assert_code(&out, 0);
    let recs = by_index(&out, 2);
    assert_fetched(&recs[0], &a, "Page 3");
    assert_fetched(&recs[1], &b, "Page 4");
    assert_eq!(srv.request_count(), 2);
}

#[test]
fn positional_and_input_file_together_all_get_records() {
    let srv = testbed::Server::start();
    let args: Vec<String> = (0..2).map(|i| srv.url(&format!("/page/a{i}"))).collect();
    let lines: Vec<String> = (0..3).map(|i| srv.url(&format!("/page/f{i}"))).collect();
    let f = temp_file(format!("{}\n", lines.join("\n")).as_bytes());
    let out = jsonl(&["-i", path_str(&f), &args[0], &args[1]]);
    assert_code(&out, 0);
    let recs = by_index(&out, 5);
    let mut got: Vec<String> = recs
        .iter()
        .map(|r| r["input"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let mut want: Vec<String> = args.iter().chain(&lines).cloned().collect();
    want.sort();
    assert_eq!(got, want);
    for r in &recs {
        assert_eq!(r["status"], 200, "{r}");
        assert_eq!(r["error"], Value::Null, "{r}");
    }
    assert_eq!(srv.request_count(), 5);
}

// ---------------------------------------------------------------------------------------------
// Line handling

#[test]
fn blank_and_comment_lines_are_skipped_and_take_no_index() {
    let srv = testbed::Server::start();
    let a = srv.url("/page/1");
    let b = srv.url("/page/2");
    let text = format!(
        "\n   \n# a comment\n   # indented comment\n\t# tab-indented\n{a}\n\n\t \n#{b}\n{b}\n# end\n"
    );
    let f = temp_file(text.as_bytes());
    let out = jsonl(&["-i", path_str(&f)]);
    assert_code(&out, 0);
    let recs = by_index(&out, 2);
    assert_fetched(&recs[0], &a, "Page 1");
    assert_fetched(&recs[1], &b, "Page 2");
    assert_eq!(srv.request_count(), 2);
}

#[test]
fn crlf_line_ends_are_stripped() {
    let srv = testbed::Server::start();
    let a = srv.url("/page/1");
    let b = srv.url("/page/2");
    let f = temp_file(format!("{a}\r\n\r\n# c\r\n{b}\r\n").as_bytes());
    let out = jsonl(&["-i", path_str(&f)]);
    assert_code(&out, 0);
    let recs = by_index(&out, 2);
    assert_fetched(&recs[0], &a, "Page 1");
    assert_fetched(&recs[1], &b, "Page 2");
    let mut paths: Vec<String> = srv
        .requests()
        .iter()
        .map(|r| r.path_and_query.clone())
        .collect();
    paths.sort();
    assert_eq!(paths, ["/page/1", "/page/2"]);
}

#[test]
fn utf8_bom_at_start_of_file_is_ignored() {
    let srv = testbed::Server::start();
    let a = srv.url("/page/1");
    let b = srv.url("/page/2");
    let mut data = b"\xEF\xBB\xBF".to_vec();
    data.extend_from_slice(format!("{a}\n{b}\n").as_bytes());
    let f = temp_file(&data);
    let out = jsonl(&["-i", path_str(&f)]);
    assert_code(&out, 0);
    let recs = by_index(&out, 2);
    assert_fetched(&recs[0], &a, "Page 1");
    assert_fetched(&recs[1], &b, "Page 2");
}

#[test]
fn utf8_bom_before_a_comment_line_is_still_a_comment() {
    let srv = testbed::Server::start();
    let a = srv.url("/page/1");
    let mut data = b"\xEF\xBB\xBF# header comment\n".to_vec();
    data.extend_from_slice(format!("{a}\n").as_bytes());
    let f = temp_file(&data);
    let out = jsonl(&["-i", path_str(&f)]);
    assert_code(&out, 0);
    let recs = by_index(&out, 1);
    assert_fetched(&recs[0], &a, "Page 1");
}

#[test]
fn final_line_without_newline_is_read() {
    let srv = testbed::Server::start();
    let a = srv.url("/page/1");
    let b = srv.url("/page/2");
    let f = temp_file(format!("{a}\n{b}").as_bytes());
    let out = jsonl(&["-i", path_str(&f)]);
    assert_code(&out, 0);
    let recs = by_index(&out, 2);
    assert_fetched(&recs[0], &a, "Page 1");
    assert_fetched(&recs[1], &b, "Page 2");
}

#[test]
fn surrounding_blanks_on_a_line_are_trimmed() {
    let srv = testbed::Server::start();
    let a = srv.url("/page/1");
    let f = temp_file(format!("  \t{a} \t\n").as_bytes());
    let out = jsonl(&["-i", path_str(&f)]);
    assert_code(&out, 0);
    let recs = by_index(&out, 1);
    assert_fetched(&recs[0], &a, "Page 1");
}

// ---------------------------------------------------------------------------------------------
// Invalid inputs

#[test]
fn invalid_lines_each_yield_one_invalid_input_record_and_no_request() {
    let srv = testbed::Server::start();
    let host = srv.host_addr(0).to_string();
    let long = format!("http://{host}/{}", "a".repeat(70 * 1024));
    let mut data = Vec::new();
    let lines: Vec<Vec<u8>> = vec![
        format!("{host}/title/plain").into_bytes(),
        b"example.com".to_vec(),
        b"ftp://x/".to_vec(),
        format!("ftp://{host}/").into_bytes(),
        b"file:///etc/passwd".to_vec(),
        b"http://".to_vec(),
        long.clone().into_bytes(),
        [format!("http://{host}/").as_bytes(), b"\xff\xfe"].concat(),
    ];
    for l in &lines {
        data.extend_from_slice(l);
        data.push(b'\n');
    }
    let f = temp_file(&data);
    let out = jsonl(&["-i", path_str(&f)]);
    assert_code(&out, 1);
    let recs = by_index(&out, lines.len());
    assert_invalid(&recs[0], 0, &format!("{host}/title/plain"), NO_SCHEME);
    assert_invalid(&recs[1], 1, "example.com", NO_SCHEME);
    assert_invalid(&recs[2], 2, "ftp://x/", &unsupported("ftp"));
    assert_invalid(&recs[3], 3, &format!("ftp://{host}/"), &unsupported("ftp"));
    assert_invalid(&recs[4], 4, "file:///etc/passwd", &unsupported("file"));
    assert_invalid(&recs[5], 5, "http://", "not a valid URL: empty host");
    // The over-long line: the record echoes (at least) its start.
    assert_invalid_shape(&recs[6], 6);
    assert_eq!(
        recs[6]["error"]["message"], "input line is longer than 64 KiB",
        "{}",
        recs[6]
    );
    let shown = recs[6]["input"].as_str().unwrap();
    assert!(shown.starts_with(&long[..100]), "{shown:?}");
    assert_invalid(
        &recs[7],
        7,
        &format!("http://{host}/\u{fffd}\u{fffd}"),
        "input is not valid UTF-8",
    );
    // Give a stray request every chance to arrive before checking there was none.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(srv.request_count(), 0, "{:?}", srv.requests());
}

#[test]
fn invalid_positional_inputs_yield_invalid_input_records_and_no_request() {
    let srv = testbed::Server::start();
    let host = srv.host_addr(0).to_string();
    let no_scheme = format!("{host}/page/1");
    let ftp = format!("ftp://{host}/page/1");
    let out = jsonl(&[&no_scheme, &ftp, "http://", "file:///etc/passwd"]);
    assert_code(&out, 1);
    let recs = by_index(&out, 4);
    assert_invalid(&recs[0], 0, &no_scheme, NO_SCHEME);
    assert_invalid(&recs[1], 1, &ftp, &unsupported("ftp"));
    assert_invalid(&recs[2], 2, "http://", "not a valid URL: empty host");
    assert_invalid(&recs[3], 3, "file:///etc/passwd", &unsupported("file"));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(srv.request_count(), 0, "{:?}", srv.requests());
}

#[test]
fn mixed_valid_and_invalid_lines_keep_their_indexes() {
    let srv = testbed::Server::start();
    let a = srv.url("/page/0");
    let b = srv.url("/page/2");
    let c = srv.url("/page/5");
    let text =
        format!("# list\n{a}\nexample.com\n\n{b}\nftp://x/\nhttp://\n{c}\nfile:///etc/passwd\n");
    let f = temp_file(text.as_bytes());
    let out = jsonl(&["-i", path_str(&f)]);
    assert_code(&out, 1);
    let recs = by_index(&out, 7);
    assert_fetched(&recs[0], &a, "Page 0");
    assert_invalid(&recs[1], 1, "example.com", NO_SCHEME);
    assert_fetched(&recs[2], &b, "Page 2");
    assert_invalid(&recs[3], 3, "ftp://x/", &unsupported("ftp"));
    assert_invalid(&recs[4], 4, "http://", "not a valid URL: empty host");
    assert_fetched(&recs[5], &c, "Page 5");
    assert_invalid(&recs[6], 6, "file:///etc/passwd", &unsupported("file"));
    assert_eq!(srv.request_count(), 3);
}

// ---------------------------------------------------------------------------------------------
// Streaming

#[test]
fn large_input_file_yields_one_record_per_line() {
    // 200,000 lines take ~30 s in a debug build (~60 s with the machine busy) and 50,000 ~8 s
    // (~20 s busy); 20,000 is still far more than the reader's channel and the output blocks hold,
    // and stays near 3 s.
    const N: usize = 20_000;
    let srv = testbed::Server::start();
    let base = srv.url("/page/");
    let mut data = String::with_capacity(N * (base.len() + 3));
    for i in 0..N {
        data.push_str(&base);
        data.push_str(&(i % 10).to_string());
        data.push('\n');
    }
    let f = temp_file(data.as_bytes());
    let mut c = volley();
    c.args([
        "-q",
        "-c",
        "64",
        "--fields",
        "index,status",
        "-i",
        path_str(&f),
    ]);
    let out = run(c);
    assert_code(&out, 0);
    let mut seen = vec![false; N];
    let mut lines = 0;
    for line in out.stdout.lines() {
        lines += 1;
        let (index, status) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        assert_eq!(status, "200", "{line:?}");
        let i: usize = index
            .parse()
            .unwrap_or_else(|_| panic!("bad line {line:?}"));
        assert!(i < N, "{line:?}");
        assert!(!seen[i], "index {i} reported twice");
        seen[i] = true;
    }
    assert_eq!(lines, N);
    assert_eq!(srv.request_count(), N);
}

#[test]
fn stdin_is_streamed_fetching_and_output_start_before_input_ends() {
    let srv = testbed::Server::start();
    let a = srv.url("/page/1");
    let mut c = volley();
    c.args(["-j", "-q", "-i", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn volley");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // One line, stdin left open: the request and its record must come without waiting for EOF.
    writeln!(stdin, "{a}").unwrap();
    stdin.flush().unwrap();
    let first = rx.recv_timeout(Duration::from_secs(10));
    let requests_before_eof = srv.request_count();
    drop(stdin);
    let status = wait_exit(&mut child, Duration::from_secs(20));
    let rest: Vec<String> = rx.iter().collect();
    let _ = reader.join();
    assert_eq!(requests_before_eof, 1, "no request before the input ended");
    let first = first.expect("no record before the input ended");
    let rec: Value = serde_json::from_str(&first).unwrap();
    assert_fetched(&rec, &a, "Page 1");
    assert_eq!(rec["index"], 0);
    assert!(rest.is_empty(), "extra output: {rest:?}");
    assert_eq!(status, Some(0));
}

#[test]
fn repeated_inputs_each_get_their_own_record() {
    let srv = testbed::Server::start();
    let a = srv.url("/title/plain");
    let out = jsonl(&[&a, &a, &a]);
    assert_code(&out, 0);
    let recs = by_index(&out, 3);
    let mut bytes = BTreeMap::new();
    for r in &recs {
        assert_fetched(r, &a, "Hello testbed");
        *bytes.entry(r["bytes"].as_u64().unwrap()).or_insert(0) += 1;
    }
    assert_eq!(bytes, BTreeMap::from([(PLAIN.len() as u64, 3)]));
    assert_eq!(srv.request_count(), 3);
}
