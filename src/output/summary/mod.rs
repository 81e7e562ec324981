//! The end-of-run summary (DESIGN §2): counts by outcome, request rate, status and error
//! histograms, latency percentiles, bytes received, per-host statistics and the hosts the
//! scheduler slowed down. The writer task feeds every record to [`Summary::add`]; at the end the
//! summary is rendered for people on stderr ([`Summary::render`]) and, with `--stats-json`, as one
//! JSON document ([`Summary::to_json`], shape below).
//!
//! Adding is O(1) amortised and memory is bounded whatever the length of the run or the number
//! of hosts: latencies go into a fixed log-bucket histogram (`latency.rs`, ≤ 2 % relative error)
//! instead of a list of samples, and per-host statistics into a capped heavy-hitters table
//! (`hosts.rs`, 7,168 hosts and about 4.5 MiB at worst, with ~5 % per-host medians from
//! `host_latency.rs`) instead of a map of every host.
//!
//! # JSON (`--stats-json`)
//!
//! One object; keys are written in alphabetical order at every level (shown here by topic).
//! Times are milliseconds rounded to the microsecond; shares are fractions of 1 rounded to 4
//! decimals. For the seven records of this module's tests, after 2 s:
//!
//! ```json
//! {
//!   "totals": {"records": 7, "ok": 3, "failed": 4, "sent": 6, "bytes": 3100,
//!              "elapsed_ms": 2000.0, "rate": 3.0},
//!   "statuses": {"200": 3, "404": 1, "503": 1},
//!   "errors": {"connect": 1, "invalid_input": 1},
//!   "latency_ms": {"count": 5, "min": 10.0, "p50": 29.768, "p90": 98.848, "p99": 98.848,
//!                  "p999": 98.848, "max": 100.0},
//!   "hosts": {"exact": true, "cap": 7168, "max_untracked_failures": 0, "tracked": [
//!     {"host": "b.test", "records": 3, "requests": 3, "failures": 2, "failure_rate": 0.6667,
//!      "retries": 0, "p50_ms": 41.19, "exact": true},
//!     {"host": "c.test:81", "records": 1, "requests": 1, "failures": 1, "failure_rate": 1.0,
//!      "retries": 2, "p50_ms": null, "exact": true},
//!     {"host": "a.test", "records": 2, "requests": 2, "failures": 0, "failure_rate": 0.0,
//!      "retries": 0, "p50_ms": 10.0, "exact": true}]},
//!   "slowed": {"hosts": [{"host": "127.0.0.3:8080", "reductions": 3, "lowest": 0.125,
//!              "last": 0.45, "lowest_concurrency": 8, "lowest_rate": 2.5}], "untracked": 2}
//! }
//! ```
//!
//! - `totals`: `records` counted, `ok` and `failed` (not ok) among them, `sent` (records with at
//!   least one attempt), body `bytes`, the run's `elapsed_ms`, and `rate`, requests sent per
//!   second (null when no time elapsed).
//! - `statuses`: records per final status code; `errors`: records per error kind.
//! - `latency_ms`: over the records that got a status; percentiles are nearest-rank, within 2 %,
//!   `min` and `max` exact; all but `count` are null when `count` is 0.
//! - `hosts.tracked`: every host in the table (by [`Record::host`]), most `failures` first, then
//!   most `requests`, then by name. `records` counts the host's records, `requests` those with
//!   an attempt, `failures` those not ok (so `failure_rate` = `failures / records`), `retries`
//!   the tries beyond the first, `p50_ms` the median latency within ~5 % (null when no record of
//!   the host got a status). `hosts.exact` is true while the run had at most `cap` hosts: every
//!   host is then listed with exact counts. Beyond, rows with `"exact": false` count only since
//!   the host (re-)entered the table, and any host not listed failed at most
//!   `max_untracked_failures` times.
//! - `slowed.hosts`: hosts the adaptive slow-down reduced, most `reductions` first; `lowest` and
//!   `last` are their smallest and final shares of full speed, `lowest_rate` (requests per
//!   second, null when no rate applied) and `lowest_concurrency` their lowest limits.
//!   `slowed.untracked` counts slowed hosts beyond the scheduler's cap.

mod host_latency;
mod hosts;
mod json;
mod latency;
mod text;

use self::hosts::HostTable;
use self::latency::LatencyHistogram;
use crate::record::{ErrorKind, Record};
use crate::schedule::Slowdown;

/// Statistics over all records of a run, rendered for people or as JSON at the end.
#[derive(Debug, Clone)]
pub struct Summary {
    total: u64,
    failed: u64,
    /// Records with at least one attempt: the numerator of the request rate.
    sent: u64,
    bytes: u64,
    /// Count per status code, indexed by code (codes above 999 count as 999; HTTP has none).
    statuses: Box<[u64]>,
    /// Count per error kind, indexed by the kind's position in [`ErrorKind::ALL`].
    errors: [u64; ErrorKind::ALL.len()],
    latency: LatencyHistogram,
    hosts: HostTable,
    /// Hosts the scheduler slowed, most reductions first.
    slowed: Vec<Slowdown>,
    /// Slowed hosts beyond the scheduler's cap, known only by number.
    slowed_untracked: u64,
}

impl Default for Summary {
    fn default() -> Self {
        Self::new()
    }
}

impl Summary {
    /// An empty summary.
    pub fn new() -> Self {
        Summary {
            total: 0,
            failed: 0,
            sent: 0,
            bytes: 0,
            statuses: vec![0; 1000].into_boxed_slice(),
            errors: [0; ErrorKind::ALL.len()],
            latency: LatencyHistogram::new(),
            hosts: HostTable::new(HostTable::CAP),
            slowed: Vec::new(),
            slowed_untracked: 0,
        }
    }

    /// Counts one record. O(1) amortised; memory stays bounded.
    pub fn add(&mut self, rec: &Record) {
        self.total += 1;
        self.bytes = self.bytes.saturating_add(rec.bytes);
        if rec.attempts > 0 {
            self.sent += 1;
        }
        if let Some(status) = rec.status {
            self.statuses[usize::from(status).min(999)] += 1;
            // Latency is measured over exchanges that got a response; failures before one are
            // mostly timeouts, which the error histogram already reports.
            self.latency.add(rec.elapsed_ms);
        }
        if let Some(error) = &rec.error {
            self.errors[error.kind as usize] += 1;
        }
        if !rec.ok {
            self.failed += 1;
        }
        self.hosts.add(rec);
    }

    /// The hosts the scheduler slowed down during the run (adaptive slow-down on 429/503), and
    /// how many more it slowed beyond the ones it kept track of. Replaces any earlier call's.
    pub fn set_slowdowns(&mut self, mut slowed: Vec<Slowdown>, untracked: u64) {
        slowed.sort_by(|a, b| {
            b.reductions
                .cmp(&a.reductions)
                .then(a.lowest.total_cmp(&b.lowest))
                .then(a.host.cmp(&b.host))
        });
        self.slowed = slowed;
        self.slowed_untracked = untracked;
    }

    /// Records counted so far (for the progress bar).
    pub fn done(&self) -> u64 {
        self.total
    }

    /// Records counted so far that are not ok (for the progress bar).
    pub fn failed(&self) -> u64 {
        self.failed
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Records and summaries shared by the tests of the summary's forms.

    use super::*;
    use crate::record::RecordError;

    /// A record that got `status` from `host` after `ms`, with `bytes` of body.
    pub(crate) fn fetched(host: &str, status: u16, ms: f64, bytes: u64) -> Record {
        let url = format!("http://{host}/");
        Record {
            index: 0,
            input: url.clone(),
            url: Some(url.clone()),
            final_url: Some(url),
            method: "GET".into(),
            status: Some(status),
            ok: status < 400,
            title: None,
            server: None,
            content_type: None,
            content_length: None,
            bytes,
            redirects: 0,
            attempts: 1,
            elapsed_ms: ms,
            extract: serde_json::Map::new(),
            headers: None,
            carried: None,
            saved_to: None,
            sha256: None,
            duplicate_of: None,
            error: None,
        }
    }

    /// A record that failed with `kind` after `attempts` tries (3 s), for `url` if it had one.
    pub(crate) fn failed(url: Option<&str>, kind: ErrorKind, attempts: u32) -> Record {
        let mut r = Record::unfetched(
            0,
            url.unwrap_or("nope").into(),
            url.map(String::from),
            "GET",
            RecordError::new(kind, "x"),
        );
        r.attempts = attempts;
        r.elapsed_ms = 3000.0;
        r
    }

    /// Seven records: two good hosts, one that fails by connect, one invalid input.
    pub(crate) fn sample() -> Summary {
        let mut s = Summary::new();
        let records = [
            fetched("a.test", 200, 10.0, 1000),
            fetched("a.test", 200, 20.0, 1000),
            fetched("b.test", 200, 30.0, 1000),
            fetched("b.test", 404, 40.0, 100),
            fetched("b.test", 503, 100.0, 0),
            failed(Some("http://c.test:81/"), ErrorKind::Connect, 3),
            failed(None, ErrorKind::InvalidInput, 0),
        ];
        for r in &records {
            s.add(r);
        }
        s
    }

    /// A slowdown of `host` by `reductions` halvings to `lowest`.
    pub(crate) fn slowdown(
        host: &str,
        reductions: u32,
        lowest: f64,
        conc: usize,
        rate: Option<f64>,
    ) -> Slowdown {
        Slowdown {
            host: host.into(),
            reductions,
            lowest,
            last: 1.0,
            lowest_concurrency: conc,
            lowest_rate: rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn counts() {
        let s = sample();
        assert_eq!((s.done(), s.failed(), s.sent, s.bytes), (7, 4, 6, 3100));
        assert_eq!(
            (s.statuses[200], s.statuses[404], s.statuses[503]),
            (3, 1, 1)
        );
        assert_eq!(s.errors[ErrorKind::Connect as usize], 1);
        assert_eq!(s.errors[ErrorKind::InvalidInput as usize], 1);
        assert_eq!(s.latency.count(), 5);
        assert_eq!(s.hosts.len(), 3);
    }

    #[test]
    fn error_kind_index_is_schema_position() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
    }

    #[test]
    fn slowdowns_sort_by_reductions_then_depth() {
        let mut s = Summary::new();
        s.set_slowdowns(
            vec![
                slowdown("a:80", 1, 0.5, 32, None),
                slowdown("b:80", 3, 0.125, 8, None),
                slowdown("c:80", 3, 0.0625, 4, None),
            ],
            2,
        );
        let order: Vec<&str> = s.slowed.iter().map(|d| &*d.host).collect();
        assert_eq!(order, ["c:80", "b:80", "a:80"]);
        assert_eq!(s.slowed_untracked, 2);
    }
}
