//! Per-host statistics in bounded memory: records, requests, failures, retries and the median
//! latency of each host, for the summary's `failing` table and the `hosts` of `--stats-json`.
//!
//! A run may touch millions of hosts, so this is not a map of every host: it is a capped table
//! that keeps the hosts with the most failures (then the busiest), exact while the run has few
//! hosts and honestly approximate beyond — see [`HostTable`] for what is exact and what is a
//! bound.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use super::host_latency::HostLatency;
use crate::record::{ErrorKind, Record};

/// Statistics per host, a Space-Saving heavy-hitters table (Metwally et al.) ranked by failures,
/// with batched eviction.
///
/// **Exact** while at most [`HostTable::CAP`] distinct hosts were seen: every row counts every
/// record of its host.
///
/// **Beyond the cap** the table is full and the half with the fewest failures (ties: fewest
/// records) is evicted in one pass, so the cost is O(1) amortised per record, not a scan per new
/// host. `floor` remembers the most failures an evicted host may have had. A host that enters
/// later starts with a failure *estimate* of `floor` (its `error`), because it may be one that
/// was evicted before; so the estimate never undercounts, and any host that failed more than
/// `floor` times in all is in the table (the Space-Saving guarantee). Rows are ranked and
/// reported by `estimate - error`, the failures counted since the host entered: a guaranteed
/// lower bound. Requests, retries and the median of such a row also cover only its time in the
/// table; its `exact` flag is false. Rows of hosts that entered before the first eviction stay
/// exact. When only hosts without failures were ever evicted, `floor` stays 0: failure counts
/// are then still exact, only the other counts of re-entered hosts are partial.
///
/// **Memory**: the map is allocated for [`HostTable::CAP`] entries (8,192 hash slots of 105
/// bytes: 0.86 MB) and never grows; an eviction moves the kept half into a fresh map of the same
/// size. A host name is clipped to [`HostTable::MAX_HOST_LEN`] bytes (≤ 1.9 MB for a full table)
/// and a host's latency buckets take at most 256 bytes (≤ 1.9 MB). Worst case about 4.8 MB
/// (4.5 MiB) whatever the number of hosts, plus, during an eviction, the second map and 16 bytes
/// per entry of sort keys (1 MB, freed at once).
#[derive(Debug, Clone)]
pub(super) struct HostTable {
    map: HashMap<Box<str>, HostStats, RandomState>,
    cap: usize,
    floor: u64,
    evicted: bool,
}

/// One row of the table.
#[derive(Debug, Clone, Default)]
struct HostStats {
    /// Records of the host (counted since it entered).
    records: u64,
    /// Records with at least one attempt.
    requests: u64,
    /// Failures since entry plus `error`: the Space-Saving estimate, an upper bound.
    estimate: u64,
    /// Failures the host may have had before it entered (the floor at its entry).
    error: u64,
    /// Tries beyond the first, summed.
    retries: u64,
    latency: HostLatency,
    /// Entered before any eviction, so every record of the host was counted.
    exact: bool,
}

/// One host's statistics, as reported (see [`HostTable`] for what `exact` promises).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct HostRow<'a> {
    pub(super) host: &'a str,
    /// Records of the host: the denominator of the failure rate.
    pub(super) records: u64,
    /// Records with at least one attempt.
    pub(super) requests: u64,
    /// Records not ok (counted since the host entered the table; all of them when `exact`).
    pub(super) failures: u64,
    /// Tries beyond the first, summed over the host's requests.
    pub(super) retries: u64,
    /// Median latency of the records with a status, within ~5 %.
    pub(super) p50_ms: Option<f64>,
    pub(super) exact: bool,
}

impl HostRow<'_> {
    /// `failures / records`, the share of the host's records that were not ok (a record that
    /// was never sent, such as `circuit_open`, is a failure but not a request).
    pub(super) fn failure_rate(&self) -> f64 {
        if self.records == 0 {
            0.0
        } else {
            self.failures as f64 / self.records as f64
        }
    }
}

impl HostTable {
    /// Hosts tracked at most: the most std's `HashMap` holds in 8,192 slots (7/8 load), so the
    /// table is allocated once and never rehashes.
    pub(super) const CAP: usize = 7_168;
    /// Longest host key kept (a DNS name is at most 253 bytes, plus a port).
    pub(super) const MAX_HOST_LEN: usize = 255;

    pub(super) fn new(cap: usize) -> Self {
        let cap = cap.max(2);
        HostTable {
            map: HashMap::with_capacity_and_hasher(cap, RandomState::default()),
            cap,
            floor: 0,
            evicted: false,
        }
    }

    /// Counts one record against its host ([`Record::host`]); records without a host are not
    /// counted. O(1) amortised.
    pub(super) fn add(&mut self, rec: &Record) {
        let Some(host) = rec.host() else {
            return;
        };
        let host = clip(host, Self::MAX_HOST_LEN);
        if let Some(stats) = self.map.get_mut(host) {
            stats.count(rec);
            return;
        }
        if self.map.len() >= self.cap {
            self.evict_half();
        }
        let mut stats = HostStats {
            estimate: self.floor,
            error: self.floor,
            exact: !self.evicted,
            ..HostStats::default()
        };
        stats.count(rec);
        self.map.insert(host.into(), stats);
    }

    /// Drops the `len / 2` rows with the fewest failures (estimated), ties by fewest records.
    fn evict_half(&mut self) {
        let mut keys: Vec<(u64, u64)> =
            self.map.values().map(|s| (s.estimate, s.records)).collect();
        let evict = keys.len() / 2;
        let (_, &mut threshold, _) = keys.select_nth_unstable(evict - 1);
        let below = keys.iter().filter(|&&k| k < threshold).count();
        let mut ties = evict - below;
        let mut keep = |s: &HostStats| {
            let key = (s.estimate, s.records);
            if key < threshold {
                return false;
            }
            if key == threshold && ties > 0 {
                ties -= 1;
                return false;
            }
            true
        };
        // Into a fresh table rather than `retain`: removals leave tombstones that count against
        // the table's room, and enough of them would make the next insert double it.
        let old = std::mem::replace(
            &mut self.map,
            HashMap::with_capacity_and_hasher(self.cap, RandomState::default()),
        );
        self.map.extend(old.into_iter().filter(|(_, s)| keep(s)));
        // Every evicted row had an estimate of at most threshold.0.
        self.floor = self.floor.max(threshold.0);
        self.evicted = true;
    }

    /// Whether every host seen has a row with exact counts (no host was ever evicted).
    pub(super) fn is_exact(&self) -> bool {
        !self.evicted
    }

    /// The most failures a host may have had while it was not in the table: a host without a
    /// row failed at most this many times, and a row that is not exact may miss this many.
    pub(super) fn floor(&self) -> u64 {
        self.floor
    }

    /// Hosts with a row.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// Every row: most failures first, then most requests, then by name.
    pub(super) fn rows(&self) -> Vec<HostRow<'_>> {
        let mut rows: Vec<HostRow<'_>> = self
            .map
            .iter()
            .map(|(host, s)| HostRow {
                host,
                records: s.records,
                requests: s.requests,
                failures: s.estimate - s.error,
                retries: s.retries,
                p50_ms: s.latency.median(),
                exact: s.exact,
            })
            .collect();
        rows.sort_unstable_by(|a, b| {
            (b.failures, b.requests)
                .cmp(&(a.failures, a.requests))
                .then(a.host.cmp(b.host))
        });
        rows
    }

    /// The first `n` rows with failures.
    pub(super) fn top_failing(&self, n: usize) -> Vec<HostRow<'_>> {
        let mut rows = self.rows();
        rows.retain(|r| r.failures > 0);
        rows.truncate(n);
        rows
    }
}

impl HostStats {
    fn count(&mut self, rec: &Record) {
        self.records += 1;
        if rec.attempts > 0 {
            self.requests += 1;
            self.retries += u64::from(rec.attempts - 1);
        }
        // A file that could not be saved is not the host's failure.
        let local = rec
            .error
            .as_ref()
            .is_some_and(|e| matches!(e.kind, ErrorKind::Io | ErrorKind::Exists));
        if !rec.ok && !local {
            self.estimate += 1;
        }
        if rec.status.is_some() {
            self.latency.add(rec.elapsed_ms);
        }
    }
}

/// `s` cut to at most `max` bytes on a char boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::super::host_latency::MAX_BINS;
    use super::*;
    use crate::record::{ErrorKind, RecordError};
    use std::fmt::Write as _;
    use std::mem::size_of;

    /// A record for `host`: `status` or a connect error, `attempts` tries, `ms` elapsed.
    fn rec(host: &str, status: Option<u16>, attempts: u32, ms: f64) -> Record {
        let mut r = Record::unfetched(
            0,
            String::new(),
            Some(format!("http://{host}/")),
            "GET",
            RecordError::new(ErrorKind::Connect, "x"),
        );
        if let Some(status) = status {
            r.status = Some(status);
            r.ok = status < 400;
            r.error = None;
        }
        r.attempts = attempts;
        r.elapsed_ms = ms;
        r
    }

    #[test]
    fn exact_below_cap() {
        let mut t = HostTable::new(10);
        t.add(&rec("a", Some(200), 1, 10.0));
        t.add(&rec("a", Some(503), 3, 30.0));
        t.add(&rec("a", None, 2, 3000.0));
        t.add(&rec("b", Some(200), 1, 5.0));
        t.add(&rec("c", None, 0, 0.0)); // never sent: a failure, not a request
        let mut none = rec("x", None, 0, 0.0);
        none.url = None;
        t.add(&none);
        assert!(t.is_exact());
        assert_eq!((t.len(), t.floor()), (3, 0));
        let rows = t.rows();
        let p50_a = rows[0].p50_ms.unwrap();
        assert!((p50_a - 10.0).abs() / 10.0 < 0.05, "{p50_a}");
        assert_eq!(
            rows,
            vec![
                HostRow {
                    host: "a",
                    records: 3,
                    requests: 3,
                    failures: 2,
                    retries: 3,
                    p50_ms: Some(p50_a),
                    exact: true,
                },
                HostRow {
                    host: "c",
                    records: 1,
                    requests: 0,
                    failures: 1,
                    retries: 0,
                    p50_ms: None,
                    exact: true,
                },
                HostRow {
                    host: "b",
                    records: 1,
                    requests: 1,
                    failures: 0,
                    retries: 0,
                    p50_ms: Some(5.0),
                    exact: true,
                },
            ]
        );
        assert_eq!(rows[0].failure_rate(), 2.0 / 3.0);
        assert_eq!(rows[1].failure_rate(), 1.0);
        let top: Vec<&str> = t.top_failing(5).iter().map(|r| r.host).collect();
        assert_eq!(top, ["a", "c"]);
    }

    #[test]
    fn files_that_could_not_be_saved_are_not_the_hosts_failures() {
        let mut t = HostTable::new(10);
        for kind in [ErrorKind::Exists, ErrorKind::Io] {
            let mut r = rec("a", Some(200), 1, 1.0);
            (r.ok, r.error) = (false, Some(RecordError::new(kind, "x")));
            t.add(&r);
        }
        assert_eq!(t.rows()[0].failures, 0);
        assert!(t.top_failing(5).is_empty());
    }

    #[test]
    fn ties_rank_by_requests_then_name() {
        let mut t = HostTable::new(10);
        for h in ["b", "a", "c", "c"] {
            t.add(&rec(h, None, 1, 0.0));
        }
        t.add(&rec("a", Some(200), 1, 1.0));
        let order: Vec<&str> = t.rows().iter().map(|r| r.host).collect();
        assert_eq!(order, ["c", "a", "b"]);
    }

    #[test]
    fn eviction_keeps_failing_hosts_and_counts_are_lower_bounds() {
        let mut t = HostTable::new(4);
        for _ in 0..3 {
            t.add(&rec("bad", None, 1, 0.0));
        }
        t.add(&rec("meh", None, 1, 0.0));
        t.add(&rec("ok1", Some(200), 1, 1.0));
        t.add(&rec("ok2", Some(200), 1, 1.0));
        // Full: the fifth host evicts ok1 and ok2 (no failures, one record each).
        t.add(&rec("new", None, 1, 0.0));
        assert_eq!(t.len(), 3);
        assert!(!t.is_exact());
        assert_eq!(t.floor(), 0, "only hosts without failures were evicted");
        // ok1 comes back: its earlier record is lost, and its row says so.
        t.add(&rec("ok1", Some(200), 1, 1.0));
        let ok1 = t.rows().into_iter().find(|r| r.host == "ok1").unwrap();
        assert_eq!((ok1.records, ok1.exact), (1, false));
        // Full again: x evicts ok1 (0 failures) and one of meh, new (1 failure each).
        t.add(&rec("x", None, 1, 0.0));
        assert_eq!((t.len(), t.floor()), (3, 1));
        let rows = t.rows();
        assert_eq!(rows[0].host, "bad");
        assert_eq!((rows[0].failures, rows[0].exact), (3, true));
        // x entered with an estimate of floor + 1 = 2: one failure counted, one possible before.
        let x = rows.iter().find(|r| r.host == "x").unwrap();
        assert_eq!((x.failures, x.records, x.exact), (1, 1, false));
        assert!(rows.iter().all(|r| r.host != "ok1"));
    }

    #[test]
    fn a_million_hosts_stay_within_the_cap() {
        let mut t = HostTable::new(HostTable::CAP);
        let slots = t.map.capacity();
        assert!(slots >= HostTable::CAP);
        // Every other host fails once, so the floor rises. Records are reused: this is a
        // million adds in a debug build.
        let mut good = rec("x", Some(200), 1, 0.0);
        let mut bad = rec("x", None, 1, 0.0);
        let mut heavy = rec("heavy.test", Some(503), 2, 0.0);
        let medium = rec("medium.test", None, 1, 0.0);
        for i in 0..1_000_000u32 {
            let ms = f64::from(i % 5000) + 0.5;
            let r = if i % 2 == 0 { &mut good } else { &mut bad };
            let url = r.url.as_mut().unwrap();
            url.clear();
            let _ = write!(url, "http://host-{i}.test/");
            r.elapsed_ms = ms;
            t.add(r);
            if i % 100 == 0 {
                heavy.elapsed_ms = ms;
                t.add(&heavy);
            }
            if i % 1000 == 0 {
                t.add(&medium);
            }
            assert!(t.len() <= HostTable::CAP);
            assert_eq!(t.map.capacity(), slots, "the table never grows");
        }
        assert!(!t.is_exact());
        // About one more per two evictions: half the newcomers bring a failure.
        assert_eq!(t.floor(), 139);
        let top = t.top_failing(3);
        let heavy = &top[0];
        assert_eq!(
            (
                heavy.host,
                heavy.records,
                heavy.requests,
                heavy.failures,
                heavy.retries,
                heavy.exact
            ),
            ("heavy.test", 10_000, 10_000, 10_000, 10_000, true)
        );
        assert_eq!(
            (top[1].host, top[1].failures, top[1].exact),
            ("medium.test", 1000, true)
        );
        // The rest failed once each (as far as the table knows).
        assert_eq!(top[2].failures, 1);
        // Long names are clipped, so keys stay small.
        t.add(&rec(&"é".repeat(1000), Some(200), 1, 1.0));
        assert!(t.map.keys().all(|k| k.len() <= HostTable::MAX_HOST_LEN));
    }

    #[test]
    fn worst_case_memory_is_under_eight_mib() {
        let t = HostTable::new(HostTable::CAP);
        // std's HashMap (hashbrown): a power-of-two number of slots at 7/8 load, one control
        // byte per slot (plus a group's worth).
        let slots = (t.map.capacity() * 8 / 7).next_power_of_two();
        assert_eq!(slots, 8192);
        let entry = size_of::<(Box<str>, HostStats)>();
        assert!(entry <= 104, "{entry}");
        // Heap blocks, with allocator rounding to 16 bytes and an 8-byte header.
        let block = |n: usize| (n + 8).next_multiple_of(16);
        let per_host = block(HostTable::MAX_HOST_LEN) + block(MAX_BINS * 4);
        let total = slots * (entry + 1) + 16 + HostTable::CAP * per_host;
        assert!(total < 8 << 20, "{total}");
        assert!(total < 4_800_000, "{total}");
    }
}
