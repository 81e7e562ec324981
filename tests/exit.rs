//! Exit codes (0 all ok, 1 some record not ok, 2 usage error with nothing fetched, 130
//! interrupted), Ctrl-C handling (grace, `interrupted` records, second Ctrl-C) and a quiet exit
//! on a broken pipe.
mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{
    assert_code, assert_usage_error, closed_port, run, run_args, volley, wait_exit, wait_output,
};

// ---------------------------------------------------------------------------------------------
// 0 and 1

#[test]
fn all_ok_exits_0() {
    let srv = testbed::Server::start();
    let a = srv.url("/title/plain");
    let b = srv.url("/page/1");
    let out = run_args(&["-q", "-j", &a, &b]);
    assert_code(&out, 0);
    assert_eq!(out.records().len(), 2);
}

#[test]
fn redirect_not_followed_is_still_ok_and_exits_0() {
    let srv = testbed::Server::start();
    let url = srv.url("/redirect/1");
    let out = run_args(&["-q", "-j", "--no-follow", &url]);
    assert_code(&out, 0);
    let recs = out.records();
    assert_eq!(recs[0]["status"], 302);
    assert_eq!(recs[0]["ok"], true);
    assert_eq!(recs[0]["error"], Value::Null);
    assert_eq!(srv.request_count(), 1);
}

#[test]
fn a_404_among_ok_pages_exits_1() {
    let srv = testbed::Server::start();
    let ok = srv.url("/title/plain");
    let missing = srv.url("/status/404");
    let out = run_args(&["-q", "-j", &ok, &missing]);
    assert_code(&out, 1);
    let recs = out.records_by_index();
    assert_eq!(recs[0]["ok"], true);
    assert_eq!(recs[1]["status"], 404);
    assert_eq!(recs[1]["ok"], false);
    assert_eq!(recs[1]["error"], Value::Null);
}

#[test]
fn a_500_exits_1() {
    let srv = testbed::Server::start();
    let url = srv.url("/status/500");
    let out = run_args(&["-q", "-j", &url]);
    assert_code(&out, 1);
    let recs = out.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["status"], 500);
    assert_eq!(recs[0]["ok"], false);
}

#[test]
fn connection_refused_exits_1() {
    let srv = testbed::Server::start();
    let ok = srv.url("/title/plain");
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let out = run_args(&["-q", "-j", &ok, &refused]);
    assert_code(&out, 1);
    let recs = out.records_by_index();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["ok"], true);
    assert_eq!(recs[1]["input"], refused.as_str());
    assert_eq!(recs[1]["status"], Value::Null);
    assert_eq!(recs[1]["ok"], false);
    assert_eq!(recs[1]["error"]["kind"], "connect", "{}", recs[1]);
}

#[test]
fn invalid_input_alone_exits_1() {
    let out = run_args(&["-q", "-j", "ftp://x/"]);
    assert_code(&out, 1);
    let recs = out.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["error"]["kind"], "invalid_input");
}

#[test]
fn empty_input_file_exits_0_with_no_records() {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), "# nothing here\n\n").unwrap();
    let out = run_args(&["-q", "-j", "-i", f.path().to_str().unwrap()]);
    assert_code(&out, 0);
    assert_eq!(out.stdout, "");
}

// ---------------------------------------------------------------------------------------------
// 2: usage errors, before any request

#[test]
fn concurrency_zero_is_a_usage_error() {
    assert_usage_error(&["-c", "0"], "-c");
    assert_usage_error(&["--concurrency", "0"], "--concurrency");
}

#[test]
fn per_host_zero_is_a_usage_error() {
    assert_usage_error(&["--per-host", "0"], "--per-host");
}

#[test]
fn zero_threads_is_a_usage_error() {
    assert_usage_error(&["--threads", "0"], "--threads");
}

#[test]
fn several_event_loop_threads_give_the_same_records() {
    let srv = testbed::Server::builder().hosts(2).start();
    let urls: Vec<String> = (0..40)
        .map(|i| srv.host_url(i % 2, &format!("/page/{i}")))
        .collect();
    let mut c = volley();
    c.args(["-j", "-q", "--threads", "3", "-c", "8", "--keep-order"])
        .args(&urls);
    let out = run(c);
    assert_code(&out, 0);
    let recs = out.records();
    assert_eq!(recs.len(), 40);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["index"], i as u64);
        assert_eq!(r["title"], format!("Page {i}"));
    }
    assert_eq!(srv.request_count(), 40);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    assert_usage_error(&["--bogus"], "--bogus");
}

#[test]
fn non_numeric_concurrency_is_a_usage_error() {
    assert_usage_error(&["-c", "many"], "--concurrency");
}

#[test]
fn malformed_resolve_is_a_usage_error() {
    assert_usage_error(&["--resolve", "nope"], "--resolve");
}

#[test]
fn bad_timeout_is_a_usage_error() {
    assert_usage_error(&["--timeout", "5y"], "--timeout");
}

#[test]
fn bad_max_body_is_a_usage_error() {
    assert_usage_error(&["--max-body", "big"], "--max-body");
}

#[test]
fn header_without_colon_is_a_usage_error() {
    assert_usage_error(&["-H", "no colon"], "-H");
}

#[test]
fn missing_input_file_is_a_usage_error() {
    assert_usage_error(&["-i", "/nonexistent/file"], "-i");
}

#[test]
fn missing_cacert_file_is_a_usage_error() {
    assert_usage_error(&["--cacert", "/nonexistent"], "--cacert");
}

// ---------------------------------------------------------------------------------------------
// Broken pipe

#[test]
fn broken_pipe_on_stdout_ends_quietly_with_0() {
    let srv = testbed::Server::start();
    // Long URLs, so the records are far more than a pipe buffer holds and writing must fail.
    let pad = "x".repeat(2000);
    let urls: Vec<String> = (0..200)
        .map(|i| srv.url(&format!("/page/{i}?pad={pad}")))
        .collect();
    let mut c = volley();
    c.arg("-j")
        .args(&urls)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn volley");
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    let code = wait_exit(&mut child, Duration::from_secs(30));
    let stderr = err_reader.join().unwrap();
    let rec: Value = serde_json::from_str(&first).expect("the first line is a record");
    assert_eq!(rec["status"], 200);
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let lower = stderr.to_lowercase();
    assert!(!lower.contains("panic"), "{stderr}");
    assert!(!lower.contains("broken pipe"), "{stderr}");
    assert!(!lower.contains("os error"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Ctrl-C

/// Starts `volley ARGS…` with stdout and stderr piped.
fn spawn(args: &[String]) -> Child {
    let mut c = volley();
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.spawn().expect("spawn volley")
}

/// Sends SIGINT to `child`, as Ctrl-C in a terminal does.
fn sigint(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT failed");
}

fn args_with(flags: &[&str], urls: &[String]) -> Vec<String> {
    flags
        .iter()
        .map(|s| s.to_string())
        .chain(urls.iter().cloned())
        .collect()
}

#[test]
fn ctrl_c_exits_130_with_an_interrupted_record_for_every_input() {
    let srv = testbed::Server::start();
    let mut urls: Vec<String> = (0..5).map(|_| srv.url("/hang")).collect();
    urls.extend((0..20).map(|_| srv.url("/delay/5000")));
    let child = spawn(&args_with(&["-j", "-q", "-c", "2"], &urls));
    assert!(
        srv.wait_for_requests(2, Duration::from_secs(10)),
        "volley did not start two requests"
    );
    sigint(&child);
    let out = wait_output(child, Duration::from_secs(15));
    assert_code(&out, 130);
    let recs = out.records_by_index();
    let idx: Vec<u64> = recs.iter().map(|r| r["index"].as_u64().unwrap()).collect();
    assert_eq!(idx, (0..25).collect::<Vec<u64>>(), "{}", out.stdout);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["input"], urls[i].as_str(), "{r}");
        assert_eq!(r["error"]["kind"], "interrupted", "{r}");
        assert_eq!(r["status"], Value::Null, "{r}");
        assert_eq!(r["ok"], false, "{r}");
    }
    // No new request after Ctrl-C: only the two that were in flight.
    assert_eq!(srv.request_count(), 2, "{:?}", srv.requests());
}

#[test]
fn ctrl_c_lets_requests_in_flight_finish_within_the_grace() {
    let srv = testbed::Server::start();
    // Two in flight that finish well inside the 2 s grace; the rest never start.
    let urls: Vec<String> = (0..8).map(|_| srv.url("/delay/600")).collect();
    let child = spawn(&args_with(&["-j", "-q", "-c", "2"], &urls));
    assert!(
        srv.wait_for_requests(2, Duration::from_secs(10)),
        "volley did not start two requests"
    );
    sigint(&child);
    let out = wait_output(child, Duration::from_secs(15));
    assert_code(&out, 130);
    let recs = out.records_by_index();
    assert_eq!(recs.len(), 8, "{}", out.stdout);
    let mut finished = 0;
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["index"], i as u64, "{r}");
        if r["error"].is_null() {
            assert_eq!(r["status"], 200, "{r}");
            assert_eq!(r["title"], "Delayed", "{r}");
            finished += 1;
        } else {
            assert_eq!(r["error"]["kind"], "interrupted", "{r}");
            assert_eq!(r["attempts"], 0, "{r}");
        }
    }
    assert_eq!(finished, 2, "{}", out.stdout);
    assert_eq!(srv.request_count(), 2);
}

#[test]
fn ctrl_c_prints_the_summary_unless_quiet() {
    let srv = testbed::Server::start();
    let urls: Vec<String> = (0..4).map(|_| srv.url("/hang")).collect();
    let child = spawn(&args_with(&["-j", "-c", "1"], &urls));
    assert!(srv.wait_for_requests(1, Duration::from_secs(10)));
    sigint(&child);
    let out = wait_output(child, Duration::from_secs(15));
    assert_code(&out, 130);
    assert_eq!(out.records().len(), 4);
    assert!(
        out.stderr.contains("4 records in "),
        "summary: {:?}",
        out.stderr
    );
    assert!(out.stderr.contains("interrupted: 4"), "{:?}", out.stderr);
}

#[test]
fn second_ctrl_c_exits_130_at_once() {
    let srv = testbed::Server::start();
    let urls: Vec<String> = (0..4).map(|_| srv.url("/hang")).collect();
    let child = spawn(&args_with(&["-j", "-q", "-c", "2"], &urls));
    assert!(
        srv.wait_for_requests(2, Duration::from_secs(10)),
        "volley did not start two requests"
    );
    let start = Instant::now();
    sigint(&child);
    std::thread::sleep(Duration::from_millis(100));
    sigint(&child);
    let out = wait_output(child, Duration::from_secs(15));
    let took = start.elapsed();
    assert_code(&out, 130);
    // The requests hang, so after one Ctrl-C volley waits out the whole 2 s grace; the second
    // Ctrl-C must cut that short. The margin is wide (1.4 s) for a loaded machine.
    assert!(
        took < Duration::from_millis(1500),
        "took {took:?} after the first Ctrl-C: the second one did not exit at once"
    );
}

#[test]
fn no_input_with_stdin_a_terminal_is_a_usage_error() {
    // `script` (util-linux) runs volley on a fresh pseudo-terminal, so its stdin is a terminal.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` is not installed, stdin cannot be made a terminal");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_volley");
    assert!(!bin.contains('\''), "{bin}");
    let mut c = Command::new("script");
    c.args(["-qec", &format!("'{bin}'"), "/dev/null"]);
    let out = run(c);
    assert_code(&out, 2);
    // Everything volley wrote went to the terminal, which `script` copies to its stdout.
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{:?}", out.stdout);
    assert!(lines[0].contains("no input"), "{:?}", lines[0]);
}
