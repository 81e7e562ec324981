//! The `testbed` binary: prints its listeners, writes URL lists, and exits by itself at the TTL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn prints_urls_writes_list_and_exits_at_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    let ca = dir.path().join("ca.pem");
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_testbed"))
        .args(["--hosts", "2", "--tls", "--ttl", "2", "--count", "5"])
        .arg("--write-urls")
        .arg(&list)
        .arg("--ca-out")
        .arg(&ca)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    let third = lines.next().unwrap().unwrap();
    assert!(first.starts_with("http://127.0.0.1:"), "{first}");
    assert!(second.starts_with("http://127.0.0.2:"), "{second}");
    assert!(third.starts_with("https://localhost:"), "{third}");

    let urls = std::fs::read_to_string(&list).unwrap();
    let urls: Vec<&str> = urls.lines().collect();
    assert_eq!(urls.len(), 5);
    assert_eq!(urls[0], format!("{first}/page/0"));
    assert_eq!(urls[1], format!("{second}/page/1"));
    assert!(std::fs::read_to_string(&ca)
        .unwrap()
        .contains("BEGIN CERTIFICATE"));

    // The server answers while it runs.
    let addr = first.trim_start_matches("http://").parse().unwrap();
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    use std::io::{Read, Write};
    s.write_all(b"GET /page/3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).unwrap();
    assert!(got.contains("<title>Page 3</title>"));

    // And it exits by itself at the TTL.
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        if start.elapsed() > Duration::from_secs(15) {
            child.kill().unwrap();
            panic!("testbed did not exit at its TTL");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_arguments_exit_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_testbed"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: testbed"));
}
