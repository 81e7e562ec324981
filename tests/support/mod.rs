//! Shared helpers for the integration tests: run the real `volley` binary (with a time limit, so
//! no test can hang) and read its JSON Lines.
#![allow(dead_code)]

use std::io::{Read, Write};
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
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        code,
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
    }
}
