//! Politeness and resilience end to end (issue 3): `--rate` and `--host-rate`, retries with full
//! jitter, `Retry-After`, the stale-connection retry, adaptive slow-down, circuit breakers,
//! `--deadline`, `--stats-json` and the usage errors of these flags.
//!
//! Every timing assertion is measured by the testbed ([`testbed::Seen::at`] is when a request
//! head arrived, [`testbed::Seen::concurrent`] how many were in flight on that host then), not
//! by the client. Client wall-clock times are only checked against wide bounds ("ends in
//! seconds, not minutes"), since the machines running these tests are small and noisy.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{json, Value};
use support::{
    assert_code, assert_usage_error, closed_port, run_jsonl_timed, run_with, volley, Output, LIMIT,
};
use testbed::{Seen, Server};

/// How much closer together than the limit two request starts may look from the server. volley
/// promises 2 ms; the testbed's own scheduling on a loaded machine can shift an arrival by a few
/// more.
const SLACK: Duration = Duration::from_millis(10);

/// Runs `volley -j -q FLAGS… URLS…` (killed after [`LIMIT`]); its output and how long it took.
fn volley_jsonl(flags: &[&str], urls: &[String]) -> (Output, Duration) {
    let args: Vec<String> = flags
        .iter()
        .map(|s| s.to_string())
        .chain(urls.iter().cloned())
        .collect();
    run_jsonl_timed(&args)
}

/// The records by index, checking there is exactly one per input.
fn records(out: &Output, n: usize) -> Vec<Value> {
    let recs = out.records_by_index();
    assert_eq!(
        recs.len(),
        n,
        "want {n} records; stderr:\n{}\nstdout:\n{}",
        out.stderr,
        out.stdout
    );
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["index"], i as u64, "{r}");
    }
    recs
}

/// The error kind of a record, or `"ok"` when it completed without error.
fn kind(r: &Value) -> &str {
    r["error"]["kind"].as_str().unwrap_or("ok")
}

/// How many records have each error kind (`"ok"` for none).
fn kinds<'a>(recs: impl IntoIterator<Item = &'a Value>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in recs {
        *m.entry(kind(r).to_string()).or_insert(0) += 1;
    }
    m
}

/// The requests the server saw on plain host `h`, by arrival time.
fn on_host(srv: &Server, h: usize) -> Vec<Seen> {
    let mut v: Vec<Seen> = srv.requests().into_iter().filter(|s| s.host == h).collect();
    v.sort_by_key(|s| s.at);
    v
}

/// The requests the server saw for exactly `path_and_query`, by arrival time.
fn for_path(srv: &Server, path_and_query: &str) -> Vec<Seen> {
    let mut v: Vec<Seen> = srv
        .requests()
        .into_iter()
        .filter(|s| s.path_and_query == path_and_query)
        .collect();
    v.sort_by_key(|s| s.at);
    v
}

/// The smallest gap between consecutive arrivals (`seen` sorted by arrival).
fn min_gap(seen: &[Seen]) -> Duration {
    seen.windows(2)
        .map(|w| w[1].at - w[0].at)
        .min()
        .expect("at least two requests")
}

/// Asserts every record is ok with status 200 after `attempts` attempts.
fn assert_all_ok(recs: &[Value], attempts: u64) {
    for r in recs {
        assert_eq!(r["ok"], true, "{r}");
        assert_eq!(r["status"], 200, "{r}");
        assert!(r["error"].is_null(), "{r}");
        assert_eq!(r["attempts"], attempts, "{r}");
    }
}

// ---------------------------------------------------------------------------------------------
// Rates and per-host limits

#[test]
fn per_host_concurrency_and_host_rate_hold_on_every_host() {
    let srv = Server::builder().hosts(3).start();
    // A start every 50 ms, each request lasting 100 ms: two in flight per host at once.
    let mut urls = Vec::new();
    for i in 0..12 {
        for h in 0..3 {
            urls.push(srv.host_url(h, &format!("/delay/100?i={i}")));
        }
    }
    let flags = ["-c", "10", "--per-host", "2", "--host-rate", "20/s"];
    let (out, _) = volley_jsonl(&flags, &urls);
    assert_all_ok(&records(&out, 36), 1);
    assert_code(&out, 0);
    for h in 0..3 {
        let seen = on_host(&srv, h);
        assert_eq!(seen.len(), 12, "host {h}");
        assert_eq!(srv.max_concurrent_host(h), 2, "host {h}");
        let gap = min_gap(&seen);
        assert!(
            gap + SLACK >= Duration::from_millis(50),
            "host {h}: two starts {gap:?} apart under --host-rate 20/s"
        );
        let span = seen.last().unwrap().at - seen[0].at;
        assert!(
            span + SLACK >= Duration::from_millis(550),
            "host {h}: {span:?}"
        );
    }
}

/// Retries are request starts too: a host's retries keep to its rate (given per minute here).
/// The failures are 500s, which are retried but do not slow the host down (429 and 503 would).
#[test]
fn host_rate_per_minute_also_spaces_retries() {
    let srv = Server::start();
    let urls: Vec<String> = (0..8)
        .map(|i| srv.url(&format!("/flaky?key=r{i}&fails=1&status=500")))
        .collect();
    let flags = ["--host-rate", "600/m", "--retry-base", "10ms"];
    let (out, _) = volley_jsonl(&flags, &urls);
    assert_all_ok(&records(&out, 8), 2);
    let seen = on_host(&srv, 0);
    assert_eq!(seen.len(), 16);
    let gap = min_gap(&seen);
    assert!(
        gap + SLACK >= Duration::from_millis(100),
        "two starts {gap:?} apart under --host-rate 600/m"
    );
}

#[test]
fn global_rate_spaces_starts_across_hosts() {
    let srv = Server::builder().hosts(3).start();
    let mut urls = Vec::new();
    for i in 0..7 {
        for h in 0..3 {
            urls.push(srv.host_url(h, &format!("/page/{i}")));
        }
    }
    let (out, _) = volley_jsonl(&["--rate", "20/s"], &urls);
    assert_all_ok(&records(&out, 21), 1);
    let mut seen = srv.requests();
    seen.sort_by_key(|s| s.at);
    assert_eq!(seen.len(), 21);
    // 21 starts at 20 per second take at least 20 intervals of 50 ms.
    let span = seen.last().unwrap().at - seen[0].at;
    assert!(
        span + SLACK >= Duration::from_millis(1000),
        "21 starts within {span:?} under --rate 20/s"
    );
    for h in 0..3 {
        assert_eq!(on_host(&srv, h).len(), 7, "host {h}");
    }
}

// ---------------------------------------------------------------------------------------------
// Retries: what is retried, how often

#[test]
fn a_503_twice_then_200_ends_ok_after_three_attempts() {
    let srv = Server::start();
    let path = "/flaky?key=a&fails=2&status=503";
    let (out, _) = volley_jsonl(&["--retry-base", "10ms"], &[srv.url(path)]);
    let recs = records(&out, 1);
    assert_all_ok(&recs, 3);
    assert_eq!(recs[0]["url"], srv.url(path).as_str());
    assert_code(&out, 0);
    assert_eq!(for_path(&srv, path).len(), 3);
    assert_eq!(srv.request_count(), 3);
}

#[test]
fn retries_0_keeps_the_503_after_one_attempt() {
    let srv = Server::start();
    let path = "/flaky?key=a&fails=2&status=503";
    let (out, _) = volley_jsonl(&["--retries", "0"], &[srv.url(path)]);
    let r = &records(&out, 1)[0];
    assert_eq!(r["status"], 503, "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert!(r["error"].is_null(), "{r}");
    assert_eq!(r["attempts"], 1, "{r}");
    assert_code(&out, 1);
    assert_eq!(srv.request_count(), 1);
}

#[test]
fn every_retryable_status_is_retried() {
    let srv = Server::start();
    let codes = [408, 429, 500, 502, 503, 504];
    let urls: Vec<String> = codes
        .iter()
        .map(|c| srv.url(&format!("/flaky?key=s{c}&fails=1&status={c}")))
        .collect();
    let (out, _) = volley_jsonl(&["--retry-base", "10ms"], &urls);
    assert_all_ok(&records(&out, codes.len()), 2);
    assert_eq!(srv.request_count(), 2 * codes.len());
}

#[test]
fn other_error_statuses_are_attempted_once() {
    let srv = Server::start();
    let codes = [400, 403, 404, 410, 501];
    let urls: Vec<String> = codes
        .iter()
        .map(|c| srv.url(&format!("/status/{c}")))
        .collect();
    let (out, _) = volley_jsonl(&["--retry-base", "10ms"], &urls);
    let recs = records(&out, codes.len());
    for (r, c) in recs.iter().zip(codes) {
        assert_eq!(r["status"], c, "{r}");
        assert_eq!(r["ok"], false, "{r}");
        assert_eq!(r["attempts"], 1, "{r}");
    }
    assert_code(&out, 1);
    assert_eq!(srv.request_count(), codes.len());
}

#[test]
fn post_is_attempted_once_unless_retry_all_methods() {
    let srv = Server::start();
    let path = "/flaky?key=p&fails=1&status=503";
    let (out, _) = volley_jsonl(&["-X", "POST", "--retry-base", "10ms"], &[srv.url(path)]);
    let r = &records(&out, 1)[0];
    assert_eq!(
        (r["status"].clone(), r["attempts"].clone()),
        (503.into(), 1.into()),
        "{r}"
    );
    assert_eq!(r["method"], "POST", "{r}");
    assert_code(&out, 1);
    assert_eq!(srv.request_count(), 1);

    let path = "/flaky?key=q&fails=1&status=503";
    let flags = ["-X", "POST", "--retry-all-methods", "--retry-base", "10ms"];
    let (out, _) = volley_jsonl(&flags, &[srv.url(path)]);
    assert_all_ok(&records(&out, 1), 2);
    let seen = for_path(&srv, path);
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.method == "POST"), "{seen:?}");
}

#[test]
fn idempotent_methods_are_retried() {
    let srv = Server::start();
    for method in ["PUT", "DELETE", "HEAD", "OPTIONS"] {
        let path = format!("/flaky?key={method}&fails=1&status=503");
        let (out, _) = volley_jsonl(&["-X", method, "--retry-base", "10ms"], &[srv.url(&path)]);
        let r = &records(&out, 1)[0];
        assert_eq!(r["status"], 200, "{method}: {r}");
        assert_eq!(r["attempts"], 2, "{method}: {r}");
        let seen = for_path(&srv, &path);
        assert_eq!(seen.len(), 2, "{method}");
        assert!(seen.iter().all(|s| s.method == method), "{seen:?}");
    }
}

/// A reset before any response byte is retried; one after the head has arrived is not (the
/// server may have acted on the request).
#[test]
fn a_reset_is_retried_only_before_the_first_response_byte() {
    let srv = Server::start();
    let (out, _) = volley_jsonl(&["--retry-base", "10ms"], &[srv.url("/reset")]);
    let r = &records(&out, 1)[0];
    assert_eq!(kind(r), "reset", "{r}");
    assert!(r["status"].is_null(), "{r}");
    assert_eq!(r["attempts"], 3, "{r}");
    assert_eq!(for_path(&srv, "/reset").len(), 3);

    let url = srv.url("/reset-after-head");
    let (out, _) = volley_jsonl(&["--retry-base", "10ms"], &[url]);
    let r = &records(&out, 1)[0];
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["attempts"], 1, "{r}");
    assert_eq!(for_path(&srv, "/reset-after-head").len(), 1);
}

#[test]
fn a_timeout_is_retried() {
    let srv = Server::start();
    let flags = [
        "--timeout",
        "300ms",
        "--retries",
        "1",
        "--retry-base",
        "10ms",
    ];
    let (out, took) = volley_jsonl(&flags, &[srv.url("/hang")]);
    let r = &records(&out, 1)[0];
    assert_eq!(kind(r), "timeout", "{r}");
    assert_eq!(r["attempts"], 2, "{r}");
    assert_eq!(srv.request_count(), 2);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

// ---------------------------------------------------------------------------------------------
// Backoff

/// Twenty URLs fail at the same moment; with full jitter their retries are spread over
/// [0, 400 ms], not fired together. (500s: retried, but no adaptive slow-down to blur the view.)
#[test]
fn retry_delays_are_spread_by_full_jitter() {
    let srv = Server::start();
    let n = 20;
    let paths: Vec<String> = (0..n)
        .map(|i| format!("/flaky?key=j{i}&fails=1&status=500"))
        .collect();
    let urls: Vec<String> = paths.iter().map(|p| srv.url(p)).collect();
    let flags = ["-c", "20", "--retry-base", "400ms"];
    let (out, _) = volley_jsonl(&flags, &urls);
    assert_all_ok(&records(&out, n), 2);
    let delays: Vec<Duration> = paths
        .iter()
        .map(|p| {
            let seen = for_path(&srv, p);
            assert_eq!(seen.len(), 2, "{p}");
            seen[1].at - seen[0].at
        })
        .collect();
    let lo = *delays.iter().min().unwrap();
    let hi = *delays.iter().max().unwrap();
    assert!(
        hi - lo >= Duration::from_millis(100),
        "retries not spread: {delays:?}"
    );
    let distinct: BTreeSet<u128> = delays.iter().map(|d| d.as_millis()).collect();
    assert!(distinct.len() > 1, "{delays:?}");
    // The first retry waits at most --retry-base (plus the noise of a small machine).
    assert!(hi <= Duration::from_millis(700), "{delays:?}");
    assert!(srv.max_concurrent() <= 20);
}

/// Backoff doubles from --retry-base up to --retry-max: five retries from 100 ms would reach
/// 1.6 s uncapped; capped at 150 ms, no retry of four URLs waits much longer than that.
#[test]
fn retry_max_caps_the_backoff() {
    let srv = Server::start();
    let paths: Vec<String> = (0..4)
        .map(|i| format!("/flaky?key=m{i}&fails=5&status=500"))
        .collect();
    let urls: Vec<String> = paths.iter().map(|p| srv.url(p)).collect();
    let flags = [
        "--retries",
        "5",
        "--retry-base",
        "100ms",
        "--retry-max",
        "150ms",
    ];
    let (out, took) = volley_jsonl(&flags, &urls);
    assert_all_ok(&records(&out, 4), 6);
    for p in &paths {
        let seen = for_path(&srv, p);
        assert_eq!(seen.len(), 6, "{p}");
        for w in seen.windows(2) {
            let d = w[1].at - w[0].at;
            assert!(d <= Duration::from_millis(350), "{p}: a retry waited {d:?}");
        }
    }
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

// ---------------------------------------------------------------------------------------------
// Retry-After

/// A 429 with `Retry-After: 2` on host 0 holds back every later request to host 0 for 2 s,
/// while host 1's twenty pages, listed after them, are all fetched meanwhile.
#[test]
fn retry_after_pauses_the_whole_host_while_another_finishes() {
    let srv = Server::builder().hosts(2).start();
    let first = "/flaky?key=ra&fails=1&status=429&retry_after=2";
    let mut urls = vec![srv.host_url(0, first)];
    urls.extend((0..5).map(|i| srv.host_url(0, &format!("/page/{i}"))));
    urls.extend((0..20).map(|i| srv.host_url(1, &format!("/delay/20?i={i}"))));
    let (out, took) = volley_jsonl(&["-c", "4", "--per-host", "1"], &urls);
    let recs = records(&out, 26);
    assert_all_ok(&recs[1..], 1);
    assert_all_ok(&recs[..1], 2);
    let host0 = on_host(&srv, 0);
    assert_eq!(host0.len(), 7);
    assert_eq!(host0[0].path_and_query, first);
    let t429 = host0[0].at;
    for s in &host0[1..] {
        assert!(
            s.at - t429 >= Duration::from_secs(2),
            "{} came {:?} after the 429",
            s.path_and_query,
            s.at - t429
        );
    }
    let host1 = on_host(&srv, 1);
    assert_eq!(host1.len(), 20);
    let last1 = host1.last().unwrap().at;
    assert!(
        last1 < t429 + Duration::from_secs(2),
        "host 1 waited for host 0: its last request came {:?} after the 429",
        last1 - t429
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

/// With one slot in all, a retry waiting out its `Retry-After` does not hold that slot.
#[test]
fn a_waiting_retry_holds_no_slot() {
    let srv = Server::builder().hosts(2).start();
    let first = "/flaky?key=w&fails=1&status=503&retry_after=1";
    let mut urls = vec![srv.host_url(0, first)];
    urls.extend((0..10).map(|i| srv.host_url(1, &format!("/page/{i}"))));
    let (out, _) = volley_jsonl(&["-c", "1"], &urls);
    let recs = records(&out, 11);
    assert_all_ok(&recs[..1], 2);
    assert_all_ok(&recs[1..], 1);
    let retry = for_path(&srv, first)[1].at;
    let host1 = on_host(&srv, 1);
    assert_eq!(host1.len(), 10);
    assert!(
        host1.iter().all(|s| s.at < retry),
        "host 1 waited behind the retry"
    );
    assert_eq!(srv.max_concurrent(), 1);
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let srv = Server::start();
    // The date is 3 s ahead at whole-second precision: the retry comes 2 to 3 s later.
    let path = "/flaky?key=d&fails=1&status=503&retry_after_date=3";
    let (out, _) = volley_jsonl(&[], &[srv.url(path)]);
    assert_all_ok(&records(&out, 1), 2);
    let seen = for_path(&srv, path);
    assert_eq!(seen.len(), 2);
    let d = seen[1].at - seen[0].at;
    assert!(
        d >= Duration::from_millis(1950) && d <= Duration::from_secs(4),
        "the retry came {d:?} later"
    );
}

#[test]
fn retry_after_beyond_the_cap_is_not_waited_for() {
    let srv = Server::start();
    let path = "/status/429?retry_after=5";
    let (out, took) = volley_jsonl(&["--max-retry-after", "1s"], &[srv.url(path)]);
    let r = &records(&out, 1)[0];
    assert_eq!(r["status"], 429, "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["attempts"], 1, "{r}");
    assert_eq!(srv.request_count(), 1);
    assert!(took < Duration::from_secs(4), "took {took:?}");

    // The default cap is 60 s.
    let path = "/status/503?retry_after=3600";
    let (out, took) = volley_jsonl(&[], &[srv.url(path)]);
    let r = &records(&out, 1)[0];
    assert_eq!(
        (r["status"].clone(), r["attempts"].clone()),
        (503.into(), 1.into()),
        "{r}"
    );
    assert_eq!(srv.request_count(), 2);
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

// ---------------------------------------------------------------------------------------------
// The stale pooled connection

#[test]
fn a_stale_pooled_connection_is_retried_on_a_fresh_one() {
    let srv = Server::start();
    let urls: Vec<String> = (1..=2)
        .map(|i| srv.url(&format!("/once-per-conn?i={i}")))
        .collect();
    let (out, _) = volley_jsonl(&["-c", "1"], &urls);
    assert_all_ok(&records(&out, 2), 1);
    assert_code(&out, 0);
    assert_eq!(srv.connections(), 2);
    // The second URL was sent on the first connection (which then closed), then on a new one.
    assert_eq!(srv.request_count(), 3);
}

/// The stale-connection retry is not a retry: it happens even with `--retries 0`.
#[test]
fn the_stale_connection_retry_does_not_count_against_retries() {
    let srv = Server::start();
    let urls: Vec<String> = (1..=3)
        .map(|i| srv.url(&format!("/once-per-conn?i={i}")))
        .collect();
    let (out, _) = volley_jsonl(&["-c", "1", "--retries", "0"], &urls);
    assert_all_ok(&records(&out, 3), 1);
    assert_eq!(srv.connections(), 3);
    assert_eq!(srv.request_count(), 5);
}

/// A POST is not sent twice just because its connection turned out stale: the server may have
/// acted on it.
#[test]
fn a_post_on_a_stale_connection_is_not_sent_again() {
    let srv = Server::start();
    let urls: Vec<String> = (1..=2)
        .map(|i| srv.url(&format!("/once-per-conn?i={i}")))
        .collect();
    let (out, _) = volley_jsonl(&["-c", "1", "--retries", "0", "-X", "POST"], &urls);
    let recs = records(&out, 2);
    assert_eq!(recs[0]["status"], 200);
    assert_eq!(kind(&recs[1]), "reset", "{}", recs[1]);
    assert_eq!(recs[1]["attempts"], 1);
    assert_eq!(srv.connections(), 1);
    assert_eq!(srv.request_count(), 2);
}

// ---------------------------------------------------------------------------------------------
// Adaptive slow-down

/// Runs 32 URLs that each answer 429 once (then 200) after 50 ms, eight slots, summary on; the
/// output and the most requests in flight at once after the first round of 429s came back.
fn alternate_run(extra: &[&str]) -> (Server, Output, usize) {
    let srv = Server::start();
    let mut cmd = volley();
    cmd.args(["-j", "-c", "8", "--retry-base", "20ms"])
        .args(extra);
    for i in 0..32 {
        cmd.arg(srv.url(&format!("/alternate?key=a{i}&ms=50")));
    }
    let out = run_with(cmd, b"", LIMIT);
    assert!(out.code.is_some(), "killed; stderr:\n{}", out.stderr);
    assert_all_ok(&records(&out, 32), 2);
    let seen = on_host(&srv, 0);
    assert_eq!(seen.len(), 64);
    let after = seen[0].at + Duration::from_millis(150);
    let late = seen
        .iter()
        .filter(|s| s.at >= after)
        .map(|s| s.concurrent)
        .max()
        .unwrap_or(0);
    (srv, out, late)
}

#[test]
fn a_host_answering_429_gets_fewer_concurrent_requests() {
    let (_srv, fixed_out, fixed) = alternate_run(&["--no-adapt"]);
    let (srv, adapt_out, adapted) = alternate_run(&[]);
    assert_eq!(fixed, 8, "--no-adapt keeps every slot busy");
    assert!(
        adapted < fixed,
        "after 429s the host still had {adapted} requests in flight at once (no-adapt: {fixed})"
    );
    let host = srv.host_addr(0).to_string();
    let slowed: Vec<&str> = adapt_out
        .stderr
        .lines()
        .filter(|l| l.contains("slowed"))
        .collect();
    assert!(
        slowed.iter().any(|l| l.contains(&host)),
        "no `slowed` line naming {host} in the summary:\n{}",
        adapt_out.stderr
    );
    assert!(
        !fixed_out.stderr.lines().any(|l| l.contains("slowed")),
        "--no-adapt slowed a host:\n{}",
        fixed_out.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Circuit breaker

/// 200 URLs on a closed port among 200 on a healthy host: the dead host's circuit opens after a
/// few refused connections and its other inputs end at once.
#[test]
fn a_dead_host_trips_the_breaker_and_the_healthy_one_is_unaffected() {
    let srv = Server::start();
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let mut urls = Vec::new();
    for i in 0..200 {
        urls.push(format!("{dead}/d{i}"));
        urls.push(srv.url(&format!("/page/{i}")));
    }
    let (out, took) = volley_jsonl(&[], &urls);
    let recs = records(&out, 400);
    let (dead_recs, healthy): (Vec<Value>, Vec<Value>) = recs
        .into_iter()
        .partition(|r| r["url"].as_str().unwrap().starts_with(&dead));
    assert_eq!(healthy.len(), 200);
    assert_all_ok(&healthy, 1);
    assert_eq!(srv.request_count(), 200);
    let k = kinds(&dead_recs);
    let open = k.get("circuit_open").copied().unwrap_or(0);
    let connect = k.get("connect").copied().unwrap_or(0);
    assert_eq!(open + connect, 200, "{k:?}");
    // At most -c (64) dead-host attempts can be under way when the circuit opens.
    assert!(open >= 130, "most should be circuit_open: {k:?}");
    for r in dead_recs.iter().filter(|r| kind(r) == "circuit_open") {
        assert!(r["status"].is_null(), "{r}");
        assert_eq!(r["ok"], false, "{r}");
    }
    assert_code(&out, 1);
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

/// Fifty hanging URLs with a 1 s timeout, two at a time: without the breaker that is 25 s at
/// least (75 s with retries); with `--breaker 3` the circuit opens after three timeouts.
#[test]
fn a_hanging_host_trips_the_breaker_on_timeouts() {
    let srv = Server::builder().hosts(2).start();
    let mut urls: Vec<String> = (0..50)
        .map(|i| srv.host_url(0, &format!("/hang?i={i}")))
        .collect();
    urls.extend((0..20).map(|i| srv.host_url(1, &format!("/page/{i}"))));
    let flags = ["--timeout", "1s", "--breaker", "3", "--per-host", "2"];
    let (out, took) = volley_jsonl(&flags, &urls);
    let recs = records(&out, 70);
    assert_all_ok(&recs[50..], 1);
    let k = kinds(&recs[..50]);
    let open = k.get("circuit_open").copied().unwrap_or(0);
    let timeout = k.get("timeout").copied().unwrap_or(0);
    assert_eq!(open + timeout, 50, "{k:?}");
    assert!(open >= 40, "most should be circuit_open: {k:?}");
    assert!(on_host(&srv, 0).len() <= 10, "{k:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn breaker_0_disables_the_breaker() {
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let urls: Vec<String> = (0..30).map(|i| format!("{dead}/d{i}")).collect();
    let flags = ["--breaker", "0", "--retry-base", "5ms"];
    let (out, took) = volley_jsonl(&flags, &urls);
    let recs = records(&out, 30);
    for r in &recs {
        assert_eq!(kind(r), "connect", "{r}");
        assert_eq!(r["attempts"], 3, "{r}");
    }
    assert_code(&out, 1);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

// ---------------------------------------------------------------------------------------------
// Deadline

#[test]
fn deadline_ends_a_run_of_hanging_urls_in_time() {
    let srv = Server::start();
    let urls: Vec<String> = (0..100).map(|i| srv.url(&format!("/hang?i={i}"))).collect();
    let (out, took) = volley_jsonl(&["--deadline", "2s"], &urls);
    let recs = records(&out, 100);
    for r in &recs {
        assert_eq!(kind(r), "deadline", "{r}");
        assert!(r["status"].is_null(), "{r}");
        assert_eq!(r["ok"], false, "{r}");
    }
    assert_code(&out, 1);
    assert!(took >= Duration::from_millis(1900), "took {took:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Every attempt counted reached the server: nothing was retried or made up.
    let attempts: u64 = recs.iter().map(|r| r["attempts"].as_u64().unwrap()).sum();
    assert_eq!(attempts as usize, srv.request_count());
}

/// Inputs still unread on stdin when the deadline passes get their `deadline` records too
/// (3,000 lines is more than a pipe holds, so most are unread).
#[test]
fn deadline_gives_records_to_inputs_not_yet_read() {
    let srv = Server::start();
    let n = 3000;
    let mut stdin = String::new();
    for i in 0..n {
        stdin.push_str(&srv.url(&format!("/hang?i={i}")));
        stdin.push('\n');
    }
    let mut cmd = volley();
    cmd.args(["-j", "-q", "-c", "2", "--deadline", "1s", "-i", "-"]);
    let t0 = std::time::Instant::now();
    let out = run_with(cmd, stdin.as_bytes(), LIMIT);
    let took = t0.elapsed();
    assert!(out.code.is_some(), "killed; stderr:\n{}", out.stderr);
    let recs = records(&out, n);
    assert_eq!(kinds(&recs), BTreeMap::from([("deadline".to_string(), n)]));
    assert_code(&out, 1);
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert_eq!(srv.request_count(), 2);
}

// ---------------------------------------------------------------------------------------------
// --stats-json

#[test]
fn stats_json_totals_match_the_records() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stats.json");
    let mut urls: Vec<String> = (0..5).map(|i| srv.url(&format!("/page/{i}"))).collect();
    urls.push(srv.url("/status/404"));
    urls.push(srv.url("/status/404?again"));
    let dead = format!("127.0.0.1:{}", closed_port());
    urls.push(format!("http://{dead}/"));
    let stats = file.to_str().unwrap();
    let (out, _) = volley_jsonl(&["--retries", "0", "--stats-json", stats], &urls);
    let recs = records(&out, 8);
    let ok = recs.iter().filter(|r| r["ok"] == true).count();
    assert_eq!(ok, 5);
    let text = std::fs::read_to_string(&file).expect("--stats-json wrote no file");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let totals = &v["totals"];
    assert_eq!(totals["records"], 8, "{v:#}");
    assert_eq!(totals["ok"], 5, "{v:#}");
    assert_eq!(totals["failed"], 3, "{v:#}");
    assert_eq!(totals["sent"], 8, "{v:#}");
    assert_eq!(v["statuses"], json!({"200": 5, "404": 2}), "{v:#}");
    assert_eq!(v["errors"], json!({"connect": 1}), "{v:#}");
    assert_eq!(v["latency_ms"]["count"], 7, "{v:#}");
    assert!(v["latency_ms"]["p50"].is_number(), "{v:#}");
    // The per-host table: the test server with its two 404s, and the dead host.
    let hosts = v["hosts"]["tracked"].as_array().expect("hosts.tracked");
    let host = |name: &str| {
        hosts
            .iter()
            .find(|h| h["host"] == name)
            .unwrap_or_else(|| panic!("{name} not in {v:#}"))
    };
    let live = host(&srv.host_addr(0).to_string());
    assert_eq!(
        (&live["records"], &live["failures"]),
        (&json!(7), &json!(2))
    );
    let gone = host(&dead);
    assert_eq!(
        (&gone["records"], &gone["failures"]),
        (&json!(1), &json!(1))
    );
}

// ---------------------------------------------------------------------------------------------
// Usage errors

#[test]
fn bad_rates_are_usage_errors() {
    for bad in ["0/s", "0/m", "abc", "5/x", "/s"] {
        assert_usage_error(&["--rate", bad], "--rate");
        assert_usage_error(&["--host-rate", bad], "--host-rate");
    }
}

#[test]
fn bad_retry_settings_are_usage_errors() {
    assert_usage_error(&["--retries", "-1"], "--retries");
    assert_usage_error(&["--retries", "many"], "--retries");
    assert_usage_error(&["--retry-base", "soon"], "--retry-base");
    assert_usage_error(&["--retry-max", "10x"], "--retry-max");
    // A base above the cap would make every backoff the cap: a mistake, not a setting.
    assert_usage_error(
        &["--retry-base", "10s", "--retry-max", "100ms"],
        "--retry-base",
    );
    assert_usage_error(&["--max-retry-after", "x"], "--max-retry-after");
}

#[test]
fn bad_breaker_and_deadline_settings_are_usage_errors() {
    assert_usage_error(&["--breaker", "-1"], "--breaker");
    assert_usage_error(&["--breaker", "x"], "--breaker");
    assert_usage_error(&["--breaker-cooldown", "later"], "--breaker-cooldown");
    assert_usage_error(&["--deadline", "0s"], "--deadline");
    assert_usage_error(&["--deadline", "forever"], "--deadline");
}

/// After the cool-down one probe goes to the host; when it answers, the circuit closes and the
/// inputs that arrive later are fetched again. The host comes to life (a server starts on its
/// port) while volley waits for more input on stdin.
#[test]
fn the_circuit_closes_after_a_successful_probe() {
    use std::io::Write as _;
    use std::process::Stdio;
    let port = closed_port();
    let url = |i: usize| format!("http://127.0.0.1:{port}/page/{i}\n");
    let mut cmd = volley();
    cmd.args(["-j", "-q", "-c", "1", "--retries", "0", "--breaker", "2"])
        .args(["--breaker-cooldown", "500ms"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn volley");
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..10 {
        stdin.write_all(url(i).as_bytes()).unwrap();
    }
    stdin.flush().unwrap();
    // Ten refused or shed inputs take milliseconds; then the host comes up.
    std::thread::sleep(Duration::from_millis(700));
    let srv = Server::builder().port(port).start();
    std::thread::sleep(Duration::from_millis(500));
    for i in 10..13 {
        stdin.write_all(url(i).as_bytes()).unwrap();
    }
    drop(stdin);
    let out = support::wait_output(child, LIMIT);
    let recs = records(&out, 13);
    let first: Vec<&str> = recs[..10].iter().map(kind).collect();
    assert_eq!(first[..2], ["connect", "connect"], "{first:?}");
    assert!(first[2..].iter().all(|k| *k == "circuit_open"), "{first:?}");
    for r in &recs[10..] {
        assert_eq!(
            (r["status"].as_u64(), r["ok"].as_bool()),
            (Some(200), Some(true)),
            "{r}"
        );
    }
    assert_eq!(srv.request_count(), 3);
}
