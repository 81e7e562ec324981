//! `--save` when the disk says no (issue 5, item 7): a full file system gives `io` records, the
//! run starts no further downloads and exits 1, and no half-written file has a final name; a
//! save directory that cannot be created is a usage error before anything is fetched.
//!
//! The full disk is a 1 MiB tmpfs mounted in a private mount namespace (`unshare -m`, which
//! needs root, as CI has), so nothing outside the test sees it.

mod support;

use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{assert_code, wait_output};
use testbed::Server;

#[test]
fn a_full_disk_stops_new_downloads() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let urls: Vec<String> = (0..6)
        .map(|i| srv.url(&format!("/file/f{i}?size=400000&seed={i}")))
        .collect();
    let script = format!(
        "mount -t tmpfs -o size=1m volley-test {d} && exec \"$0\" -j -q -c 1 --keep-order --save {d} {}",
        urls.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(" ")
    );
    let mut c = Command::new("unshare");
    c.args(["-m", "sh", "-c", &script, env!("CARGO_BIN_EXE_volley")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = wait_output(c.spawn().unwrap(), Duration::from_secs(60));
    assert_code(&out, 1);
    let recs = out.records();
    assert_eq!(recs.len(), 6);
    let kinds: Vec<&str> = recs
        .iter()
        .map(|r| r["error"]["kind"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(kinds, ["-", "-", "io", "io", "io", "io"], "{}", out.stdout);
    let full = recs[2]["error"]["message"].as_str().unwrap();
    assert!(full.contains("No space left on device"), "{full}");
    assert_eq!(recs[2]["status"], 200);
    for r in &recs[3..] {
        let m = r["error"]["message"].as_str().unwrap();
        assert!(m.starts_with("not fetched: saving stopped after "), "{m}");
        assert_eq!(r["attempts"], 0);
    }
    // Nothing was asked for once saving stopped.
    assert_eq!(srv.requests().len(), 3);
    // The mount is gone with the namespace: the directory is empty again, and the two whole
    // files were whole.
    for r in &recs[..2] {
        assert_eq!(r["bytes"], 400_000);
    }
    assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn a_save_directory_that_cannot_be_made_is_a_usage_error() {
    let srv = Server::start();
    let file = tempfile::NamedTempFile::new().unwrap();
    let bad = file.path().join("sub");
    let out = support::run_args(&["--save", bad.to_str().unwrap(), &srv.url("/")]);
    assert_code(&out, 2);
    let msg = out.stderr.trim();
    assert!(
        msg.starts_with(&format!(
            "volley: --save: cannot save files in {}: ",
            bad.display()
        )),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1);
    assert!(srv.requests().is_empty());
}
