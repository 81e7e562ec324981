//! W8, a mixed list: do bad hosts slow down the good ones?
//!
//! 50 test-server hosts on 127.0.0.1–50: 46 healthy, 2 that never answer (`/hang`) and 2 that
//! answer 429 half of the time (`/alternate`). The list interleaves all hosts, `PER_HOST` URLs
//! each. The figure is the time from the run's first request to the last request for a healthy
//! host, measured by the server, in runs with and without the bad hosts' URLs (alternating, so
//! drift hits both alike). Target: the mixed run's median within 1.2× of the clean run's.
//!
//! Run: `cargo bench --bench resilience` (options after `--`: `--runs N`, `--per-host K`,
//! `--timeout D`, `-c N`). Prints a table and appends one JSON line per batch to
//! `bench/results/resilience.jsonl`.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HOSTS: usize = 50;
const HANGING: [usize; 2] = [46, 47];
const LIMITED: [usize; 2] = [48, 49];

struct Options {
    runs: usize,
    per_host: usize,
    timeout: String,
    concurrency: usize,
}

fn options() -> Options {
    let mut o = Options {
        runs: 3,
        per_host: 400,
        timeout: "5s".into(),
        concurrency: 64,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_default();
        match a.as_str() {
            "--runs" => o.runs = value().parse().expect("--runs N"),
            "--per-host" => o.per_host = value().parse().expect("--per-host K"),
            "--timeout" => o.timeout = value(),
            "-c" => o.concurrency = value().parse().expect("-c N"),
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    o
}

/// The URL list, interleaved across hosts; with `bad`, the bad hosts' URLs too.
fn list(srv: &testbed::Server, per_host: usize, bad: bool) -> String {
    let mut out = String::new();
    for i in 0..per_host {
        for h in 0..HOSTS {
            let path = if HANGING.contains(&h) {
                format!("/hang?i={i}")
            } else if LIMITED.contains(&h) {
                format!("/alternate?key=h{h}&i={i}")
            } else {
                format!("/page/{i}")
            };
            if bad || !(HANGING.contains(&h) || LIMITED.contains(&h)) {
                out.push_str(&srv.host_url(h, &path));
                out.push('\n');
            }
        }
    }
    out
}

struct Outcome {
    healthy_s: f64,
    wall_s: f64,
    records: usize,
    not_ok: usize,
}

fn run(srv: &testbed::Server, list_path: &std::path::Path, o: &Options) -> Outcome {
    srv.reset_stats();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_volley"))
        .args(["-q", "-j", "--timeout", &o.timeout, "-c"])
        .arg(o.concurrency.to_string())
        .arg("-i")
        .arg(list_path)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run volley");
    let wall_s = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    let records = text.lines().count();
    let not_ok = text.lines().filter(|l| l.contains("\"ok\":false")).count();
    let seen = srv.requests();
    let first = seen.iter().map(|s| s.at).min().unwrap_or_default();
    let last_healthy = seen
        .iter()
        .filter(|s| !HANGING.contains(&s.host) && !LIMITED.contains(&s.host))
        .map(|s| s.at)
        .max()
        .unwrap_or_default();
    Outcome {
        healthy_s: (last_healthy - first).as_secs_f64(),
        wall_s,
        records,
        not_ok,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let o = options();
    let srv = testbed::Server::builder().hosts(HOSTS).start();
    let dir = tempfile::tempdir().expect("temp dir");
    let clean_path = dir.path().join("clean.txt");
    let mixed_path = dir.path().join("mixed.txt");
    std::fs::write(&clean_path, list(&srv, o.per_host, false)).expect("write list");
    std::fs::write(&mixed_path, list(&srv, o.per_host, true)).expect("write list");
    let healthy = o.per_host * (HOSTS - HANGING.len() - LIMITED.len());
    println!(
        "W8: {HOSTS} hosts × {} URLs ({healthy} healthy; 2 hosts hang, 2 answer 429 half the time), -c {}, --timeout {}, {} runs each",
        o.per_host, o.concurrency, o.timeout, o.runs
    );
    let (mut clean, mut mixed) = (Vec::new(), Vec::new());
    for i in 0..o.runs {
        let c = run(&srv, &clean_path, &o);
        let m = run(&srv, &mixed_path, &o);
        println!(
            "run {}: clean {:.3} s ({} records, {} not ok)   mixed: healthy done in {:.3} s, whole run {:.2} s ({} records, {} not ok)",
            i + 1,
            c.healthy_s,
            c.records,
            c.not_ok,
            m.healthy_s,
            m.wall_s,
            m.records,
            m.not_ok
        );
        clean.push(c.healthy_s);
        mixed.push(m.healthy_s);
    }
    let (c, m) = (median(clean), median(mixed));
    println!(
        "median healthy completion: clean {c:.3} s, mixed {m:.3} s, ratio {:.2} (target ≤ 1.20)",
        m / c
    );
    let line = format!(
        "{{\"workload\":\"W8\",\"hosts\":{HOSTS},\"per_host\":{},\"concurrency\":{},\"timeout\":\"{}\",\"runs\":{},\"clean_s\":{c:.4},\"mixed_s\":{m:.4},\"ratio\":{:.3},\"unix_time\":{}}}\n",
        o.per_host,
        o.concurrency,
        o.timeout,
        o.runs,
        m / c,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs()
    );
    let results = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/bench/results/resilience.jsonl"
    );
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(results)
    {
        let _ = f.write_all(line.as_bytes());
    }
}
