//! `--match-status`, `--filter-status` and `--ok-status` (issue 4, item 6): which records are
//! printed, and what counts as ok for the record and the exit status. Every input still counts
//! in the summary.

mod support;

use support::{assert_code, assert_usage_error, closed_port, run, volley};
use testbed::Server;

/// Runs volley with `flags` over `/status/CODE` for each code (and a dead URL when `dead`),
/// `--retries 0`, JSON Lines with the summary on stderr.
fn statuses(srv: &Server, flags: &[&str], codes: &[u16], dead: bool) -> support::Output {
    let mut c = volley();
    c.args(["-j", "--no-progress", "--keep-order", "--retries", "0"])
        .args(flags);
    for code in codes {
        c.arg(srv.url(&format!("/status/{code}")));
    }
    if dead {
        c.arg(format!("http://127.0.0.1:{}/", closed_port()));
    }
    run(c)
}

fn printed(out: &support::Output) -> Vec<(Option<u64>, bool)> {
    out.records()
        .iter()
        .map(|r| (r["status"].as_u64(), r["ok"].as_bool().unwrap()))
        .collect()
}

#[test]
fn match_status_prints_only_those_and_the_summary_counts_all() {
    let srv = Server::start();
    let out = statuses(
        &srv,
        &["--match-status", "2xx,404"],
        &[200, 204, 301, 404, 500],
        true,
    );
    assert_eq!(
        printed(&out),
        [(Some(200), true), (Some(204), true), (Some(404), false)]
    );
    assert!(out.stderr.starts_with("6 records in "), "{}", out.stderr);
    assert_code(&out, 1);
}

#[test]
fn filter_status_drops_those_and_keeps_failures_without_a_status() {
    let srv = Server::start();
    let out = statuses(
        &srv,
        &["--filter-status", "404,5xx"],
        &[200, 404, 503],
        true,
    );
    let recs = out.records();
    assert_eq!(recs.len(), 2, "{}", out.stdout);
    assert_eq!(recs[0]["status"], 200);
    assert_eq!(recs[1]["error"]["kind"], "connect");
    assert!(out.stderr.starts_with("4 records in "), "{}", out.stderr);
}

#[test]
fn ok_status_decides_ok_and_the_exit_status() {
    let srv = Server::start();
    let out = statuses(
        &srv,
        &["--ok-status", "200-299,404"],
        &[200, 404, 301],
        false,
    );
    assert_eq!(
        printed(&out),
        [(Some(200), true), (Some(404), true), (Some(301), false)]
    );
    assert_code(&out, 1);
    let out = statuses(&srv, &["--ok-status", "2xx,404"], &[200, 404], false);
    assert_eq!(printed(&out), [(Some(200), true), (Some(404), true)]);
    assert_code(&out, 0);
}

#[test]
fn match_and_filter_together() {
    let srv = Server::start();
    let flags = [
        "--match-status",
        "4xx",
        "--filter-status",
        "404",
        "--ok-status",
        "4xx",
    ];
    let out = statuses(&srv, &flags, &[200, 403, 404, 410], false);
    assert_eq!(printed(&out), [(Some(403), true), (Some(410), true)]);
    // The hidden 200 is not ok under --ok-status 4xx: exit 1 although every printed record is ok.
    assert_code(&out, 1);
}

#[test]
fn bad_status_lists_are_usage_errors() {
    for flag in ["--match-status", "--filter-status", "--ok-status"] {
        for bad in ["", "20", "abc", "5xxx", "600-500", "200,,300"] {
            assert_usage_error(&[flag, bad], flag);
        }
    }
}
