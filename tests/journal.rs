//! `--journal` (issue 6): a rerun skips what the journal holds; with `-o FILE` the file ends with
//! exactly one record per input whatever happened to earlier runs; a changed input or a second
//! run on the same journal is refused; `--retry-failed`; `volley journal status` and `export`;
//! `--dedupe`. Every run is the real binary against the in-repo test server.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{assert_code, run, volley, wait_exit};
use testbed::Server;

/// A scratch directory with a URL list, a journal and an output file in it.
struct Scratch {
    _dir: tempfile::TempDir,
    list: PathBuf,
    journal: PathBuf,
    out: PathBuf,
}

impl Scratch {
    fn new(urls: &[String]) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("urls.txt");
        fs::write(&list, urls.join("\n") + "\n").unwrap();
        Scratch {
            journal: dir.path().join("run.journal"),
            out: dir.path().join("out.jsonl"),
            list,
            _dir: dir,
        }
    }

    /// `volley -q -j --journal J -o OUT -i LIST ARGS…`.
    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.loud_cmd(args);
        c.arg("-q");
        c
    }

    /// [`cmd`](Self::cmd) without `-q`.
    fn loud_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = volley();
        c.args(["--no-progress", "-j", "--journal"])
            .arg(&self.journal)
            .arg("-o")
            .arg(&self.out)
            .arg("-i")
            .arg(&self.list)
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> support::Output {
        run(self.cmd(args))
    }

    /// The output file's records, each line parsed (a torn line fails the test).
    fn records(&self) -> Vec<Value> {
        read_records(&self.out)
    }
}

fn read_records(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "last line torn");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

/// Record index → how many times it appears.
fn index_counts(records: &[Value]) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for r in records {
        *counts.entry(r["index"].as_u64().unwrap()).or_insert(0) += 1;
    }
    counts
}

/// Asserts `records` hold indexes `0..n`, each exactly once.
fn assert_exactly_once(records: &[Value], n: u64) {
    let counts = index_counts(records);
    let twice: Vec<_> = counts.iter().filter(|(_, &c)| c > 1).collect();
    assert!(twice.is_empty(), "recorded more than once: {twice:?}");
    let missing: Vec<u64> = (0..n).filter(|i| !counts.contains_key(i)).collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert_eq!(records.len() as u64, n);
}

fn pages(srv: &Server, n: usize) -> Vec<String> {
    (0..n).map(|i| srv.url(&format!("/page/{i}"))).collect()
}

fn journal_cmd(args: &[&str], journal: &Path) -> support::Output {
    let mut c = volley();
    c.arg("journal").arg(args[0]).arg(journal).args(&args[1..]);
    run(c)
}

#[test]
fn a_rerun_fetches_nothing_that_is_recorded() {
    let srv = Server::start();
    let s = Scratch::new(&pages(&srv, 30));
    assert_code(&s.run(&["-c", "4"]), 0);
    assert_eq!(srv.request_count(), 30);
    assert_exactly_once(&s.records(), 30);

    // Without -q the rerun says what it skipped.
    let out = run(s.loud_cmd(&["-c", "4"]));
    assert_code(&out, 0);
    assert_eq!(srv.request_count(), 30, "nothing fetched again");
    assert_exactly_once(&s.records(), 30);
    assert!(
        out.stderr
            .contains("volley: journal: 30 inputs already done were skipped; 0 left unfinished"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_torn_last_line_and_lines_not_yet_journaled_are_cut_off() {
    let srv = Server::start();
    let s = Scratch::new(&pages(&srv, 10));
    assert_code(&s.run(&[]), 0);
    let mut text = fs::read(&s.out).unwrap();
    // What a crash can leave after the last commit: a whole line and a torn one.
    text.extend_from_slice(b"{\"index\":3,\"input\":\"x\"}\n{\"index\":4,\"inp");
    fs::write(&s.out, &text).unwrap();
    assert_code(&s.run(&[]), 0);
    assert_exactly_once(&s.records(), 10);
    assert_eq!(srv.request_count(), 10);
}

#[test]
fn another_output_file_is_written_from_the_journal() {
    let srv = Server::start();
    let s = Scratch::new(&pages(&srv, 12));
    assert_code(&s.run(&[]), 0);
    // The file is replaced by another one (or a new -o is given): it gets every record anew.
    fs::remove_file(&s.out).unwrap();
    fs::write(&s.out, "unrelated\n").unwrap();
    assert_code(&s.run(&[]), 0);
    assert_exactly_once(&s.records(), 12);
    assert_eq!(srv.request_count(), 12);
}

#[test]
fn unfinished_inputs_are_left_for_the_next_run() {
    let srv = Server::start();
    let mut urls = pages(&srv, 6);
    urls.extend((0..4).map(|i| srv.url(&format!("/hang?i={i}"))));
    let s = Scratch::new(&urls);
    let out = s.run(&["--deadline", "1s"]);
    assert_code(&out, 1);
    // The deadline's records are neither journaled nor written.
    let recs = s.records();
    assert_exactly_once(&recs, 6);
    let status = journal_cmd(&["status"], &s.journal);
    assert_code(&status, 0);
    assert_eq!(
        status.stdout,
        "done:      6\nok:        6\nfailed:    0\nremaining: 4\ninputs:    10\n"
    );

    // The next run (the hangs replaced by pages at the same lines would be a mismatch, so
    // give them a short timeout instead) fetches exactly the four.
    let before = srv.request_count();
    let out = s.run(&["--timeout", "200ms", "--retries", "0"]);
    assert_code(&out, 1);
    assert_eq!(srv.request_count() - before, 4);
    let recs = s.records();
    assert_exactly_once(&recs, 10);
    let kinds: Vec<&str> = recs
        .iter()
        .filter_map(|r| r["error"]["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["timeout"; 4]);
    let status = journal_cmd(&["status"], &s.journal);
    assert_eq!(
        status.stdout,
        "done:      10\nok:        6\nfailed:    4\nremaining: 0\ninputs:    10\n"
    );
}

#[test]
fn a_changed_input_is_refused_before_anything_is_fetched() {
    let srv = Server::start();
    let urls = pages(&srv, 8);
    let s = Scratch::new(&urls);
    assert_code(&s.run(&[]), 0);
    let mut changed = urls.clone();
    changed[3] = srv.url("/page/changed");
    changed.push(srv.url("/page/new"));
    fs::write(&s.list, changed.join("\n") + "\n").unwrap();
    let out = s.run(&[]);
    assert_code(&out, 2);
    assert_eq!(
        out.stderr.trim_end(),
        "volley: --journal: input line 3 does not match the journal (the input changed since \
         the journal was written): use a new journal or the original input"
    );
    assert_eq!(srv.request_count(), 8, "nothing fetched");
    assert_exactly_once(&s.records(), 8);
}

#[test]
fn a_second_run_on_the_same_journal_is_refused() {
    let srv = Server::start();
    let s = Scratch::new(&[srv.url("/delay/20000")]);
    let mut first = s.cmd(&[]);
    first.stdout(Stdio::null()).stderr(Stdio::null());
    let mut first = first.spawn().unwrap();
    assert!(srv.wait_for_requests(1, Duration::from_secs(10)));
    let mut second = volley();
    second
        .args(["-q", "-j", "--journal"])
        .arg(&s.journal)
        .arg(srv.url("/page/1"));
    let out = run(second);
    let _ = first.kill();
    let _ = first.wait();
    assert_code(&out, 2);
    assert_eq!(
        out.stderr.trim_end(),
        format!(
            "volley: --journal: {} is in use by another volley run",
            s.journal.display()
        )
    );
    assert_eq!(srv.request_count(), 1);
}

#[test]
fn a_file_that_is_not_a_journal_is_refused_and_kept() {
    let srv = Server::start();
    let s = Scratch::new(&pages(&srv, 1));
    fs::write(&s.journal, "my notes\n").unwrap();
    let out = s.run(&[]);
    assert_code(&out, 2);
    assert!(
        out.stderr.starts_with(&format!(
            "volley: --journal: {} is not a volley journal",
            s.journal.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(fs::read_to_string(&s.journal).unwrap(), "my notes\n");
    assert_eq!(srv.request_count(), 0);
}

#[test]
fn retry_failed_fetches_only_the_failures_and_replaces_their_records() {
    let srv = Server::start();
    let mut urls = pages(&srv, 5);
    urls.insert(2, srv.url("/flaky?key=rf&fails=1&status=500"));
    let s = Scratch::new(&urls);
    assert_code(&s.run(&["--retries", "0"]), 1);
    assert_eq!(s.records().iter().filter(|r| r["ok"] == false).count(), 1);

    // A plain rerun skips the failure too…
    assert_code(&s.run(&["--retries", "0"]), 0);
    assert_eq!(srv.request_count(), 6);
    // …--retry-failed fetches it (and only it) again.
    assert_code(&s.run(&["--retries", "0", "--retry-failed"]), 0);
    assert_eq!(srv.request_count(), 7);
    let last = srv.requests().pop().unwrap();
    assert_eq!(last.path_and_query, "/flaky?key=rf&fails=1&status=500");
    let recs = s.records();
    assert_exactly_once(&recs, 6);
    assert!(recs.iter().all(|r| r["ok"] == true), "{recs:?}");
    let status = journal_cmd(&["status"], &s.journal);
    assert_eq!(
        status.stdout,
        "done:      6\nok:        6\nfailed:    0\nremaining: 0\ninputs:    6\n"
    );
}

#[test]
fn export_prints_every_record_in_input_order_in_each_format() {
    let srv = Server::start();
    let mut urls = pages(&srv, 20);
    urls.push("not a url".into());
    let s = Scratch::new(&urls);
    assert_code(&s.run(&["-c", "8"]), 1);

    let jsonl = journal_cmd(&["export"], &s.journal);
    assert_code(&jsonl, 0);
    let recs = jsonl.records();
    let order: Vec<u64> = recs.iter().map(|r| r["index"].as_u64().unwrap()).collect();
    assert_eq!(order, (0..21).collect::<Vec<_>>());
    // The export is the run's records, line for line (the run wrote them in completion order).
    let mut from_run: Vec<String> = fs::read_to_string(&s.out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    from_run.sort_by_key(|l| serde_json::from_str::<Value>(l).unwrap()["index"].as_u64());
    assert_eq!(jsonl.stdout.lines().collect::<Vec<_>>(), from_run);

    let csv = journal_cmd(
        &["export", "--csv", "--fields", "index,status,error_kind"],
        &s.journal,
    );
    assert_code(&csv, 0);
    let mut want = String::from("index,status,error_kind\n");
    for i in 0..20 {
        want.push_str(&format!("{i},200,\n"));
    }
    want.push_str("20,,invalid_input\n");
    assert_eq!(csv.stdout, want);

    let w = journal_cmd(&["export", "-w", "%{index} %{title}"], &s.journal);
    assert_eq!(w.stdout.lines().nth(7), Some("7 Page 7"));

    let missing = journal_cmd(&["status"], &s.journal.with_extension("nope"));
    assert_code(&missing, 2);
    assert!(
        missing.stderr.starts_with("volley: journal: "),
        "{}",
        missing.stderr
    );
}

#[test]
fn csv_output_keeps_one_header_across_runs() {
    let srv = Server::start();
    let mut urls = pages(&srv, 3);
    urls.push(srv.url("/hang"));
    let s = Scratch::new(&urls);
    let csv = |args: &[&str]| {
        let mut c = volley();
        c.args(["-q", "--csv", "--fields", "index,status", "--journal"])
            .arg(&s.journal)
            .arg("-o")
            .arg(&s.out)
            .arg("-i")
            .arg(&s.list)
            .args(args);
        run(c)
    };
    assert_code(&csv(&["--deadline", "1s", "-c", "1", "--keep-order"]), 1);
    assert_code(&csv(&["--timeout", "100ms", "--retries", "0"]), 1);
    let text = fs::read_to_string(&s.out).unwrap();
    assert_eq!(text, "index,status\n0,200\n1,200\n2,200\n3,\n");
}

#[test]
fn without_an_output_file_a_rerun_prints_only_what_it_fetched() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j");
    let run_on = |urls: &[String]| {
        let mut c = volley();
        c.args(["-q", "-j", "--journal"]).arg(&journal).args(urls);
        run(c)
    };
    let urls = pages(&srv, 3);
    assert_eq!(run_on(&urls[..2]).records().len(), 2);
    let out = run_on(&urls);
    assert_code(&out, 0);
    let recs = out.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["index"], 2);
    assert_eq!(srv.request_count(), 3);
}

#[test]
fn dedupe_fetches_each_url_once_and_points_repeats_at_the_first() {
    let srv = Server::start();
    let (a, b, c) = (srv.url("/page/a"), srv.url("/page/b"), srv.url("/page/c"));
    // The same URL once normalised.
    let a_again = a.replacen("http://", "HTTP://", 1);
    let mut cmd = volley();
    cmd.args(["-q", "-j", "--dedupe", "--keep-order"])
        .args([&a, &b, &a_again, &c, &b]);
    let out = run(cmd);
    assert_code(&out, 0);
    let recs = out.records();
    let dups: Vec<&Value> = recs.iter().map(|r| &r["duplicate_of"]).collect();
    assert_eq!(
        dups,
        [
            &Value::Null,
            &Value::Null,
            &Value::from(0),
            &Value::Null,
            &Value::from(1)
        ]
    );
    assert_eq!(recs[2]["status"], Value::Null);
    assert_eq!(recs[2]["attempts"], 0);
    assert_eq!(recs[2]["ok"], true);
    assert_eq!(recs[2]["error"], Value::Null);
    assert_eq!(srv.request_count(), 3);
}

/// Issue 6 item 6: kill -9 at random moments and rerun until done; the output file ends with
/// exactly one whole record per input, and only requests in flight (or finished in the last few
/// milliseconds) at a kill are made again.
#[test]
fn kill_and_resume_loop_records_every_input_exactly_once() {
    const N: usize = 4_000;
    const CONC: usize = 30;
    let srv = Server::start();
    let urls: Vec<String> = (0..N)
        .map(|i| srv.url(&format!("/delay/50?i={i}")))
        .collect();
    let s = Scratch::new(&urls);
    let mut rng = fastrand::Rng::with_seed(0x5eed_0006);
    let started = Instant::now();
    let mut kills = 0;
    let conc = CONC.to_string();
    loop {
        assert!(started.elapsed() < Duration::from_secs(50), "no progress");
        assert!(kills < 40, "too many rounds");
        let mut c = s.cmd(&["-c", &conc, "--retries", "0"]);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let after = Duration::from_millis(rng.u64(200..=2_000));
        match wait_exit(&mut child, after) {
            Some(code) => {
                assert_eq!(code, 0);
                break;
            }
            // wait_exit killed it (SIGKILL).
            None => kills += 1,
        }
    }
    assert!(kills >= 1, "the loop never killed a run");
    assert_exactly_once(&s.records(), N as u64);
    let seen = srv.requests();
    let mut hits = vec![0usize; N];
    for r in &seen {
        let i: usize = r
            .path_and_query
            .rsplit('=')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        hits[i] += 1;
    }
    assert!(hits.iter().all(|&h| h >= 1));
    let repeats = seen.len() - N;
    eprintln!(
        "{kills} kills, {repeats} requests repeated, {:?}",
        started.elapsed()
    );
    // In flight at each kill (≤ CONC), plus what finished in the ~20 ms before it.
    assert!(
        repeats <= kills * 2 * CONC,
        "{repeats} repeats over {kills} kills"
    );
}
