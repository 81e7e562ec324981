//! `--save` resume (issue 5, item 4): a body cut off mid-transfer leaves its part, and the next
//! attempt (a retry in the same run, or a rerun after a crash) continues it with `Range` and
//! `If-Range`; when the server's file changed, or it ignores ranges, or the part is longer than
//! the file, the file is fetched whole again. Every file ends byte-identical to the server's
//! (checked against the testbed's generator, without holding the expected bytes).

mod support;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{single, volley, wait_output};
use testbed::files::{etag, first_mismatch};
use testbed::{Seen, Server};

/// Asserts the file at `path` holds exactly bytes `0..size` of the testbed stream `seed`.
fn assert_file(path: &str, seed: u64, size: u64) {
    let mut f = fs::File::open(path).unwrap();
    assert_eq!(f.metadata().unwrap().len(), size, "{path}");
    let mut buf = vec![0; 1 << 20];
    let mut at = 0;
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert_eq!(first_mismatch(seed, at, &buf[..n]), None, "{path} at {at}");
        at += n as u64;
    }
}

/// The requests the server saw for paths starting with `prefix`.
fn seen(srv: &Server, prefix: &str) -> Vec<Seen> {
    srv.requests()
        .into_iter()
        .filter(|s| s.path_and_query.starts_with(prefix))
        .collect()
}

fn parts(dir: &Path) -> usize {
    fs::read_dir(dir.join(".volley-parts")).map_or(0, |d| d.count())
}

#[test]
fn a_cut_transfer_is_continued_by_the_retry() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let url = srv.url("/file/a.bin?size=300000&seed=7&cut=100000&key=a");
    let r = single([
        "--save",
        dir.path().to_str().unwrap(),
        "--retry-base",
        "10ms",
        "--hash",
        "sha256",
        &url,
    ]);
    assert_eq!(
        (&r["ok"], &r["status"], &r["attempts"]),
        (&true.into(), &206.into(), &2.into()),
        "{r}"
    );
    assert_eq!(r["bytes"], 200_000, "only the rest came again");
    assert_file(r["saved_to"].as_str().unwrap(), 7, 300_000);
    let s = seen(&srv, "/file/a.bin");
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].header("range"), None);
    assert_eq!(s[1].header("range"), Some("bytes=100000-"));
    assert_eq!(s[1].header("if-range"), Some(etag(7, 300_000).as_str()));
    assert_eq!(s[1].header("accept-encoding"), Some("identity"));
    // The digest covers the whole file, the earlier part included.
    let mut whole = Vec::new();
    testbed::files::Reader::new(7, 0, 300_000)
        .read_to_end(&mut whole)
        .unwrap();
    use sha2::Digest as _;
    let want: String = sha2::Sha256::digest(&whole)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(r["sha256"], want);
    assert_eq!(parts(dir.path()), 0);
}

/// Runs `volley --save DIR --retries 0 URL` (the first run is cut), then again.
fn twice(srv: &Server, dir: &Path, url: &str) -> (Value, Value) {
    let d = dir.to_str().unwrap();
    let first = single(["--save", d, "--retries", "0", url]);
    assert_eq!(first["error"]["kind"], "reset", "{first}");
    assert_eq!(first["saved_to"], Value::Null);
    assert_eq!(parts(dir), 2, "the part and its metadata stay");
    let second = single(["--save", d, "--retries", "0", url]);
    assert_eq!(second["ok"], true, "{second}");
    let _ = srv;
    (first, second)
}

#[test]
fn a_rerun_continues_the_part_an_interrupted_run_left() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let url = srv.url("/file/b.bin?size=250000&seed=2&cut=60000&key=b&lm=none");
    let (_, r) = twice(&srv, dir.path(), &url);
    assert_eq!((&r["status"], &r["bytes"]), (&206.into(), &190_000.into()));
    assert_file(r["saved_to"].as_str().unwrap(), 2, 250_000);
    let s = seen(&srv, "/file/b.bin");
    assert_eq!(s[1].header("range"), Some("bytes=60000-"));
    assert_eq!(parts(dir.path()), 0);
}

#[test]
fn last_modified_validates_when_there_is_no_etag() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let url = srv.url("/file/c.bin?size=90000&seed=4&cut=1000&key=c&etag=none");
    let (_, r) = twice(&srv, dir.path(), &url);
    assert_eq!(r["status"], 206);
    assert_file(r["saved_to"].as_str().unwrap(), 4, 90_000);
    let s = seen(&srv, "/file/c.bin");
    assert_eq!(
        s[1].header("if-range"),
        Some(testbed::files::last_modified(4).as_str())
    );
}

#[test]
fn a_changed_file_is_fetched_whole_again() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let url = srv.url("/file/d.bin?size=120000&seed=1&cut=50000&key=d&then_seed=9&then_size=80000");
    let (_, r) = twice(&srv, dir.path(), &url);
    assert_eq!((&r["status"], &r["bytes"]), (&200.into(), &80_000.into()));
    assert_file(r["saved_to"].as_str().unwrap(), 9, 80_000);
    assert_eq!(
        seen(&srv, "/file/d.bin")[1].header("range"),
        Some("bytes=50000-")
    );
}

#[test]
fn a_server_that_ignores_ranges_sends_it_whole() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let url = srv.url("/file/e.bin?size=100000&seed=3&cut=30000&key=e&then_ranges=0");
    let (_, r) = twice(&srv, dir.path(), &url);
    assert_eq!((&r["status"], &r["bytes"]), (&200.into(), &100_000.into()));
    assert_file(r["saved_to"].as_str().unwrap(), 3, 100_000);
}

#[test]
fn a_part_longer_than_the_file_is_dropped() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    // The file shrank but its Last-Modified stayed (no ETag to tell): the range is past its
    // end.
    let url = srv.url("/file/f.bin?size=100000&seed=5&cut=80000&key=f&then_size=50000&etag=none");
    let d = dir.path().to_str().unwrap();
    let first = single(["--save", d, "--retries", "0", &url]);
    assert_eq!(first["error"]["kind"], "reset");
    let r = single(["--save", d, "--retries", "0", &url]);
    assert_eq!(
        (&r["status"], &r["bytes"]),
        (&200.into(), &50_000.into()),
        "{r}"
    );
    assert_file(r["saved_to"].as_str().unwrap(), 5, 50_000);
    let s = seen(&srv, "/file/f.bin");
    assert_eq!(s.len(), 3, "416, then the whole file without a range");
    assert_eq!(s[1].header("range"), Some("bytes=80000-"));
    assert_eq!(s[2].header("range"), None);
}

#[test]
fn an_encoded_part_is_not_continued() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let url = srv.url("/file/g.txt?size=200000&seed=6&gzip=1&cut=20000&key=g");
    let first = single(["--save", d, "--retries", "0", &url]);
    assert_eq!(first["ok"], false, "{first}");
    assert_eq!(
        parts(dir.path()),
        0,
        "decoded bytes cannot be continued with a range"
    );
    let r = single(["--save", d, "--retries", "0", &url]);
    assert_eq!(r["status"], 200, "{r}");
    assert_file(r["saved_to"].as_str().unwrap(), 6, 200_000);
    assert_eq!(seen(&srv, "/file/g.txt")[1].header("range"), None);
}

#[test]
fn kill_9_mid_download_then_rerun_gives_the_whole_file() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let size: u64 = 256 << 20;
    let url = srv.url(&format!("/file/big.bin?size={size}&seed=11"));
    let mut child = volley()
        .args(["-q", "-j", "--save", d, &url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let parts_dir = dir.path().join(".volley-parts");
    let t0 = Instant::now();
    let mut got = 0;
    while t0.elapsed() < Duration::from_secs(30) {
        got = fs::read_dir(&parts_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "part"))
            .map(|e| e.metadata().map_or(0, |m| m.len()))
            .sum::<u64>();
        if got >= 4 << 20 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        got >= 4 << 20 && got < size,
        "part had {got} bytes at the kill"
    );

    let mut c = volley();
    c.args(["-q", "-j", "--save", d, "--timeout", "120s", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = wait_output(c.spawn().unwrap(), Duration::from_secs(120));
    let r = &out.records()[0];
    assert_eq!(r["status"], 206, "{r}");
    assert_file(r["saved_to"].as_str().unwrap(), 11, size);
    let s = seen(&srv, "/file/big.bin");
    let range = s[1].header("range").unwrap();
    let from: u64 = range["bytes=".len()..range.len() - 1].parse().unwrap();
    assert!(from >= 4 << 20, "{range}");
    assert_eq!(r["bytes"], size - from);
}
