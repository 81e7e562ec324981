//! Shared helpers for the integration tests: run the real `volley` binary (with a time limit, so
//! no test can hang) and read its JSON Lines.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What one run of the binary produced.
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout parsed as JSON Lines (every line must parse).
    pub fn records(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSONL line {l:?}: {e}"))
            })
            .collect()
    }

    /// Records sorted by `index`.
    pub fn records_by_index(&self) -> Vec<Value> {
        let mut r = self.records();
        r.sort_by_key(|v| v["index"].as_u64().unwrap());
        r
    }
}

/// A `volley` command with the environment tests expect (no colour from the environment).
pub fn volley() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_volley"));
    c.env_remove("NO_COLOR");
    // The tests talk to loopback servers: a proxy set for the machine must not come between.
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "REQUEST_METHOD",
    ] {
        c.env_remove(var).env_remove(var.to_ascii_lowercase());
    }
    c
}

/// Runs `cmd` with `stdin` as its standard input, killing it after `limit`.
pub fn run_with(mut cmd: Command, stdin: &[u8], limit: Duration) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn volley");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = wait_output(child, limit);
    let _ = writer.join();
    out
}

/// Runs `cmd` with empty stdin (not a terminal), killing it after 60 s.
pub fn run(cmd: Command) -> Output {
    run_with(cmd, b"", Duration::from_secs(60))
}

/// Runs `volley ARGS…` with empty stdin.
pub fn run_args(args: &[&str]) -> Output {
    let mut c = volley();
    c.args(args);
    run(c)
}

/// Collects a started child's output, killing it after `limit` (the test then fails on the
/// missing exit code).
pub fn wait_output(mut child: Child, limit: Duration) -> Output {
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = so.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = se.read_to_end(&mut s);
        s
    });
    let code = wait_exit(&mut child, limit);
    Output {
        code,
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
    }
}

/// Waits for `child` to exit, killing it after `limit`; its exit code (None if killed).
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let end = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// No run of the binary through [`run_jsonl`] or [`single`] (and their timed forms) may take
/// longer than this (the test then fails).
pub const LIMIT: Duration = Duration::from_secs(30);

/// Runs `volley -j -q ARGS…` with empty stdin, failing if it had to be killed after [`LIMIT`];
/// returns its output and how long it ran.
pub fn run_jsonl_timed<I, S>(args: I) -> (Output, Duration)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = volley();
    cmd.args(["-j", "-q"]).args(args);
    let t0 = Instant::now();
    let out = run_with(cmd, b"", LIMIT);
    let took = t0.elapsed();
    assert!(
        out.code.is_some(),
        "volley was killed after {LIMIT:?}; stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    (out, took)
}

/// Runs `volley -j -q ARGS…` with empty stdin, failing if it had to be killed after [`LIMIT`].
pub fn run_jsonl<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_jsonl_timed(args).0
}

/// The one record of `out` (fails when there is not exactly one).
pub fn only_record(out: &Output) -> Value {
    let recs = out.records();
    assert_eq!(
        recs.len(),
        1,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    recs.into_iter().next().unwrap()
}

/// Runs `volley -j -q ARGS…` on one input and returns its only record and how long the run
/// took, checking the exit code matches `ok` (0 if ok, else 1).
pub fn single_timed<I, S>(args: I) -> (Value, Duration)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let (out, took) = run_jsonl_timed(args);
    let r = only_record(&out);
    let want = if r["ok"] == true { 0 } else { 1 };
    assert_eq!(
        out.code,
        Some(want),
        "exit code for {r}\nstderr:\n{}",
        out.stderr
    );
    (r, took)
}

/// Runs `volley -j -q ARGS…` on one input and returns its only record, checking the exit code
/// matches `ok` (0 if ok, else 1).
pub fn single<I, S>(args: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    single_timed(args).0
}

/// Asserts the run exited with `code`, with its stderr and stdout in the message.
pub fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.code,
        Some(code),
        "exit code; stderr: {}\nstdout: {}",
        out.stderr,
        out.stdout
    );
}

/// A local port that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

/// Runs `volley ARGS… URL` (URL on the test server) and asserts a usage error: exit 2, nothing on
/// stdout, one line on stderr that names `flag`, and no request at the server.
pub fn assert_usage_error(args: &[&str], flag: &str) {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let mut c = volley();
    c.args(args).arg(&url);
    let out = run(c);
    assert_code(&out, 2);
    assert_eq!(out.stdout, "", "{args:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: want one line on stderr, got {:?}",
        out.stderr
    );
    assert!(
        lines[0].contains(flag),
        "{args:?}: {:?} does not name {flag}",
        lines[0]
    );
    // A request already sent would have arrived by now.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(srv.request_count(), 0, "{args:?}: a request was sent");
}

/// The test server's path for a redirect with `status` to `target` exactly:
/// `/redirect-to?url=<target, percent-encoded>&status=<status>`.
pub fn redirect_to(target: &str, status: u16) -> String {
    let enc: String = target
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("/redirect-to?url={enc}&status={status}")
}
