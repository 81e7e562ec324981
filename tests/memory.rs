//! Memory stays bounded whatever the network or the input list does: the peak resident set of
//! the `volley` processes this file starts is read from `getrusage(RUSAGE_CHILDREN)` after they
//! exit. Every test here must stay under the same bound, since the figure is the largest of them.

mod support;

use std::io::Write;
use std::time::Duration;

use nix::sys::resource::{getrusage, UsageWho};
use support::{run_with, volley};

/// Peak RSS of any finished child of this test process, in bytes (Linux reports KiB).
fn children_peak_rss() -> u64 {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    usage.max_rss() as u64 * 1024
}

const BOUND: u64 = 32 * 1024 * 1024;

#[test]
fn decoding_a_gzip_bomb_keeps_memory_flat() {
    let srv = testbed::Server::start();
    let mut c = volley();
    c.args(["-j", "-q", "--max-body", "1GiB", "--timeout", "120s"])
        .arg(srv.url("/gzip-bomb?mb=512"));
    let out = run_with(c, b"", Duration::from_secs(120));
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let rec = &out.records()[0];
    assert_eq!(rec["bytes"], 512 * 1024 * 1024);
    assert_eq!(rec["ok"], true);
    let peak = children_peak_rss();
    eprintln!("peak RSS of volley: {:.1} MiB", peak as f64 / 1048576.0);
    assert!(peak < BOUND, "peak RSS {} MiB", peak >> 20);
}

#[test]
fn a_long_input_list_is_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.txt");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    const N: usize = 300_000;
    for i in 0..N {
        // Invalid lines exercise input, engine and output without network I/O.
        writeln!(f, "not a url {i} {}", "x".repeat(60)).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let out_path = dir.path().join("out.txt");
    let mut c = volley();
    c.args(["-q", "--fields", "index"])
        .arg("-i")
        .arg(&path)
        .arg("-o")
        .arg(&out_path);
    let out = run_with(c, b"", Duration::from_secs(120));
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    let written = std::fs::read_to_string(&out_path).unwrap();
    assert_eq!(written.lines().count(), N);
    let peak = children_peak_rss();
    eprintln!("peak RSS of volley: {:.1} MiB", peak as f64 / 1048576.0);
    assert!(peak < BOUND, "peak RSS {} MiB", peak >> 20);
}

#[test]
fn saving_a_1_gib_body_keeps_memory_flat() {
    let srv = testbed::Server::start();
    let dir = tempfile::tempdir().unwrap();
    let size: u64 = 1 << 30;
    let mut c = volley();
    c.args(["-j", "-q", "--timeout", "300s", "--save"])
        .arg(dir.path())
        .arg(srv.url(&format!("/file/big?size={size}&seed=1")));
    let out = run_with(c, b"", Duration::from_secs(300));
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let rec = &out.records()[0];
    assert_eq!(rec["bytes"], size);
    let saved = rec["saved_to"].as_str().unwrap();
    assert_eq!(std::fs::metadata(saved).unwrap().len(), size);
    // Spot checks of the content (the resume tests compare whole files).
    let mut f = std::fs::File::open(saved).unwrap();
    for at in [0, size / 3, size - 4096] {
        use std::io::{Read, Seek, SeekFrom};
        let mut buf = vec![0; 4096];
        f.seek(SeekFrom::Start(at)).unwrap();
        f.read_exact(&mut buf).unwrap();
        assert_eq!(testbed::files::first_mismatch(1, at, &buf), None, "at {at}");
    }
    let peak = children_peak_rss();
    eprintln!("peak RSS of volley: {:.1} MiB", peak as f64 / 1048576.0);
    assert!(peak < BOUND, "peak RSS {} MiB", peak >> 20);
}
