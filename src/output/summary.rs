//! The end-of-run summary printed on stderr (DESIGN §2): counts by outcome, request rate, status
//! and error histograms, latency percentiles, bytes received and the hosts with the most
//! failures. The writer task feeds every record to [`Summary::add`], so adding is O(1) amortised
//! and memory is bounded whatever the length of the run: latencies go into a fixed log-bucket
//! histogram (≤ 2 % relative error) instead of a list of samples, and failing hosts into a
//! capped heavy-hitters counter instead of a map of every host.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::format::write_size;
use super::sanitize::escape_text;
use crate::record::{ErrorKind, Record};

/// Statistics over all records of a run, rendered for people at the end.
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
    failing_hosts: HostCounter,
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
            failing_hosts: HostCounter::new(HostCounter::CAP),
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
            if let Some(host) = rec.host() {
                self.failing_hosts.add(host);
            }
        }
    }

    /// Records counted so far (for the progress bar).
    pub fn done(&self) -> u64 {
        self.total
    }

    /// Records counted so far that are not ok (for the progress bar).
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// The summary for people: a headline, then one indented line per non-empty section
    /// (`rate`, `status`, `codes`, `errors`, `latency`, `received`, `failing`). `elapsed` is the
    /// run's wall time; `color` adds ANSI colours. Every line ends in `\n`.
    pub fn render(&self, elapsed: Duration, color: bool) -> String {
        let mut s = String::new();
        self.render_headline(&mut s, elapsed, color);
        self.render_rate(&mut s, elapsed);
        self.render_statuses(&mut s, color);
        self.render_errors(&mut s, color);
        self.render_latency(&mut s);
        if self.bytes > 0 {
            let mut size = Vec::new();
            write_size(&mut size, self.bytes);
            line(&mut s, "received", &String::from_utf8_lossy(&size));
        }
        self.render_hosts(&mut s);
        s
    }

    fn render_headline(&self, s: &mut String, elapsed: Duration, color: bool) {
        let ok = self.total - self.failed;
        let noun = if self.total == 1 { "record" } else { "records" };
        let _ = write!(
            s,
            "{} {noun} in {}",
            self.total,
            human_ms(elapsed.as_secs_f64() * 1000.0)
        );
        if self.total > 0 {
            let failed = paint(
                color && self.failed > 0,
                RED,
                &format!("{} not ok", self.failed),
            );
            let _ = write!(
                s,
                ": {}, {failed}",
                paint(color, GREEN, &format!("{ok} ok"))
            );
        }
        s.push('\n');
    }

    fn render_rate(&self, s: &mut String, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if self.sent == 0 || secs <= 0.0 {
            return;
        }
        let rate = self.sent as f64 / secs;
        let text = if rate >= 100.0 {
            format!("{rate:.0} req/s")
        } else {
            format!("{rate:.1} req/s")
        };
        line(s, "rate", &text);
    }

    fn render_statuses(&self, s: &mut String, color: bool) {
        let mut classes = [0u64; 10];
        let mut codes: Vec<(u16, u64)> = Vec::new();
        for (code, &n) in self.statuses.iter().enumerate().filter(|(_, &n)| n > 0) {
            classes[code / 100] += n;
            codes.push((code as u16, n));
        }
        if codes.is_empty() {
            return;
        }
        let classes: Vec<String> = (1..10)
            .filter(|&c| classes[c] > 0)
            .map(|c| paint(color, class_color(c), &format!("{c}xx: {}", classes[c])))
            .collect();
        line(s, "status", &classes.join("  "));
        codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        line(
            s,
            "codes",
            &top(&codes, 5, |(code, n)| format!("{code} ×{n}")),
        );
    }

    fn render_errors(&self, s: &mut String, color: bool) {
        let mut kinds: Vec<(ErrorKind, u64)> = ErrorKind::ALL
            .iter()
            .map(|&k| (k, self.errors[k as usize]))
            .filter(|&(_, n)| n > 0)
            .collect();
        if kinds.is_empty() {
            return;
        }
        // Stable sort: equal counts stay in schema order.
        kinds.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        let text = top(&kinds, kinds.len(), |(kind, n)| format!("{kind}: {n}"));
        line(s, "errors", &paint(color, RED, &text));
    }

    fn render_latency(&self, s: &mut String) {
        if self.latency.n == 0 {
            return;
        }
        let q = |q| human_ms(self.latency.quantile(q));
        let text = format!(
            "p50 {}  p90 {}  p99 {}  max {}",
            q(0.5),
            q(0.9),
            q(0.99),
            human_ms(self.latency.max)
        );
        line(s, "latency", &text);
    }

    fn render_hosts(&self, s: &mut String) {
        let hosts = self.failing_hosts.top(5);
        if hosts.is_empty() {
            return;
        }
        let mut text = top(&hosts, hosts.len(), |(host, n)| {
            format!("{} ×{n}", escape_text(host))
        });
        if self.failing_hosts.is_approximate() {
            let _ = write!(
                text,
                "  (at least; over {} failing hosts seen)",
                HostCounter::CAP
            );
        }
        line(s, "failing", &text);
    }
}

/// Appends `  label     text\n`.
fn line(s: &mut String, label: &str, text: &str) {
    let _ = writeln!(s, "  {label:<9} {text}");
}

/// The first `n` items rendered and joined by two spaces, with `…` when some were left out.
fn top<T>(items: &[T], n: usize, render: impl Fn(&T) -> String) -> String {
    let mut parts: Vec<String> = items.iter().take(n).map(render).collect();
    if items.len() > n {
        parts.push("…".to_owned());
    }
    parts.join("  ")
}

const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";

/// The text record colours, by status class (1 for 1xx, …).
fn class_color(class: usize) -> &'static str {
    match class {
        2 => GREEN,
        3 => CYAN,
        4 => YELLOW,
        5.. => RED,
        _ => "",
    }
}

/// `text` wrapped in `sgr` and a reset when colour is on.
fn paint(color: bool, sgr: &str, text: &str) -> String {
    if color && !sgr.is_empty() {
        format!("{sgr}{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// A duration for people with about three significant digits, to match the histogram's
/// precision: `0.42ms`, `12.3ms`, `123ms`, `1.23s`, `2m05s`.
fn human_ms(ms: f64) -> String {
    let ms = if ms.is_finite() && ms > 0.0 { ms } else { 0.0 };
    match ms {
        ms if ms < 10.0 => format!("{ms:.2}ms"),
        ms if ms < 100.0 => format!("{ms:.1}ms"),
        ms if ms < 999.5 => format!("{ms:.0}ms"),
        ms if ms < 59_995.0 => format!("{:.2}s", ms / 1000.0),
        ms => {
            let secs = (ms / 1000.0).round() as u64;
            format!("{}m{:02}s", secs / 60, secs % 60)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Latency histogram

/// Latencies in fixed logarithmic buckets, as in DDSketch: bucket `i ≥ 1` holds values in
/// `(MIN·γ^(i-1), MIN·γ^i]` and is reported as `MIN·2γ^i/(γ+1)`, which is within
/// `α = (γ-1)/(γ+1) = 2 %` of every value in it. 1 µs to ~2.8 h takes under 600 buckets (5 KB);
/// values outside clamp to the end buckets, and reported quantiles are clamped to the exact
/// minimum and maximum, which are also kept.
#[derive(Debug, Clone)]
struct LatencyHistogram {
    counts: Box<[u64]>,
    n: u64,
    min: f64,
    max: f64,
}

impl LatencyHistogram {
    const ALPHA: f64 = 0.02;
    /// Smallest resolved value, in milliseconds (1 µs).
    const MIN_MS: f64 = 0.001;
    /// Largest resolved value, in milliseconds (10,000 s).
    const MAX_MS: f64 = 1e7;

    fn gamma() -> f64 {
        (1.0 + Self::ALPHA) / (1.0 - Self::ALPHA)
    }

    fn new() -> Self {
        let buckets = ((Self::MAX_MS / Self::MIN_MS).ln() / Self::gamma().ln()).ceil() as usize + 1;
        LatencyHistogram {
            counts: vec![0; buckets].into_boxed_slice(),
            n: 0,
            min: f64::INFINITY,
            max: 0.0,
        }
    }

    fn bucket(&self, ms: f64) -> usize {
        if ms <= Self::MIN_MS {
            return 0;
        }
        let i = ((ms / Self::MIN_MS).ln() / Self::gamma().ln()).ceil() as usize;
        i.min(self.counts.len() - 1)
    }

    fn add(&mut self, ms: f64) {
        let ms = if ms.is_finite() && ms > 0.0 { ms } else { 0.0 };
        let i = self.bucket(ms);
        self.counts[i] += 1;
        self.n += 1;
        self.min = self.min.min(ms);
        self.max = self.max.max(ms);
    }

    /// The `q`-quantile (nearest rank), within 2 % of a true sample. Requires `n > 0`.
    fn quantile(&self, q: f64) -> f64 {
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        let mut bucket = self.counts.len() - 1;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                bucket = i;
                break;
            }
        }
        let gamma = Self::gamma();
        let estimate = Self::MIN_MS * 2.0 * gamma.powi(bucket as i32) / (gamma + 1.0);
        estimate.clamp(self.min, self.max)
    }
}

// ---------------------------------------------------------------------------------------------
// Failing hosts

/// Failures per host, in bounded memory: a Space-Saving heavy-hitters counter (Metwally et al.)
/// with batched eviction.
///
/// While fewer than [`HostCounter::CAP`] distinct hosts have failed, counts are exact. When the map
/// is full, the half with the smallest counts is evicted in one pass (so the cost is O(1)
/// amortised per record, not a scan per new host), and `floor` remembers the largest count
/// evicted. A host seen later starts at `floor + 1` with error `floor`, so its estimate never
/// undercounts. We rank and print `count - error`, a guaranteed lower bound: any host that failed
/// more than `floor` times in total is in the map, and a host that took most failures stays on
/// top. Host names are clipped to 255 bytes so the memory bound holds for odd inputs too.
#[derive(Debug, Clone)]
struct HostCounter {
    map: HashMap<Box<str>, HostCount>,
    cap: usize,
    floor: u64,
}

#[derive(Debug, Clone, Copy)]
struct HostCount {
    /// Estimated failures (an upper bound).
    count: u64,
    /// How much of `count` may belong to hosts evicted before this one entered.
    error: u64,
}

impl HostCounter {
    /// Hosts tracked at most.
    const CAP: usize = 10_000;
    /// Longest host key kept (a DNS name is at most 253 bytes, plus a port).
    const MAX_HOST_LEN: usize = 255;

    fn new(cap: usize) -> Self {
        HostCounter {
            map: HashMap::new(),
            cap: cap.max(2),
            floor: 0,
        }
    }

    fn add(&mut self, host: &str) {
        let host = clip(host, Self::MAX_HOST_LEN);
        if let Some(entry) = self.map.get_mut(host) {
            entry.count += 1;
            return;
        }
        if self.map.len() >= self.cap {
            self.evict_half();
        }
        let entry = HostCount {
            count: self.floor + 1,
            error: self.floor,
        };
        self.map.insert(host.into(), entry);
    }

    /// Drops the `len / 2` entries with the smallest counts.
    fn evict_half(&mut self) {
        let mut counts: Vec<u64> = self.map.values().map(|e| e.count).collect();
        let evict = counts.len() / 2;
        let (_, &mut threshold, _) = counts.select_nth_unstable(evict - 1);
        let below = counts.iter().filter(|&&c| c < threshold).count();
        let mut ties = evict - below;
        self.map.retain(|_, e| {
            if e.count < threshold {
                return false;
            }
            if e.count == threshold && ties > 0 {
                ties -= 1;
                return false;
            }
            true
        });
        self.floor = self.floor.max(threshold);
    }

    /// Whether counts are lower bounds rather than exact (some host was ever evicted).
    fn is_approximate(&self) -> bool {
        self.floor > 0
    }

    /// The `n` hosts with the highest guaranteed failure counts; ties by name.
    fn top(&self, n: usize) -> Vec<(&str, u64)> {
        let mut hosts: Vec<(&str, u64)> = self
            .map
            .iter()
            .map(|(h, e)| (&**h, e.count - e.error))
            .collect();
        hosts.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        hosts.truncate(n);
        hosts
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
    use super::*;
    use crate::record::RecordError;

    fn fetched(host: &str, status: u16, ms: f64, bytes: u64) -> Record {
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
            saved_to: None,
            error: None,
        }
    }

    fn failed(url: Option<&str>, kind: ErrorKind, attempts: u32) -> Record {
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

    fn sample() -> Summary {
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

    #[test]
    fn renders_every_section() {
        let s = sample();
        assert_eq!((s.done(), s.failed()), (7, 4));
        assert_eq!(
            s.render(Duration::from_secs(2), false),
            "7 records in 2.00s: 3 ok, 4 not ok\n\
             \x20 rate      3.0 req/s\n\
             \x20 status    2xx: 3  4xx: 1  5xx: 1\n\
             \x20 codes     200 ×3  404 ×1  503 ×1\n\
             \x20 errors    invalid_input: 1  connect: 1\n\
             \x20 latency   p50 29.8ms  p90 98.8ms  p99 98.8ms  max 100ms\n\
             \x20 received  3.0KB\n\
             \x20 failing   b.test ×2  c.test:81 ×1\n"
        );
    }

    #[test]
    fn renders_colour() {
        let text = sample().render(Duration::from_secs(2), true);
        let head = text.lines().next().unwrap();
        assert_eq!(
            head,
            "7 records in 2.00s: \x1b[32m3 ok\x1b[0m, \x1b[31m4 not ok\x1b[0m"
        );
        assert!(text.contains(
            "  status    \x1b[32m2xx: 3\x1b[0m  \x1b[33m4xx: 1\x1b[0m  \x1b[31m5xx: 1\x1b[0m\n"
        ));
        assert!(text.contains("  errors    \x1b[31minvalid_input: 1  connect: 1\x1b[0m\n"));
    }

    #[test]
    fn skips_empty_sections() {
        assert_eq!(
            Summary::new().render(Duration::ZERO, false),
            "0 records in 0.00ms\n"
        );
        let mut s = Summary::new();
        s.add(&fetched("a.test", 204, 0.42, 0));
        assert_eq!(
            s.render(Duration::from_millis(1500), false),
            "1 record in 1.50s: 1 ok, 0 not ok\n\
             \x20 rate      0.7 req/s\n\
             \x20 status    2xx: 1\n\
             \x20 codes     204 ×1\n\
             \x20 latency   p50 0.42ms  p90 0.42ms  p99 0.42ms  max 0.42ms\n"
        );
    }

    #[test]
    fn codes_beyond_five_are_elided_and_hosts_escaped() {
        let mut s = Summary::new();
        for (i, code) in [200, 201, 202, 203, 204, 205, 200].into_iter().enumerate() {
            s.add(&fetched("a.test", code, 1.0 + i as f64, 0));
        }
        s.add(&fetched("evil\x1b[2J.test", 500, 1.0, 0));
        let text = s.render(Duration::from_secs(1), false);
        assert!(
            text.contains("  codes     200 ×2  201 ×1  202 ×1  203 ×1  204 ×1  …\n"),
            "{text}"
        );
        assert!(
            text.contains("  failing   evil\\x1b[2J.test ×1\n"),
            "{text}"
        );
    }

    #[test]
    fn latency_within_two_percent() {
        let mut h = LatencyHistogram::new();
        assert!(h.counts.len() < 600);
        let mut v = 0.0005;
        while v < 2e7 {
            h.add(v);
            let i = h.bucket(v);
            let g = LatencyHistogram::gamma();
            let est = LatencyHistogram::MIN_MS * 2.0 * g.powi(i as i32) / (g + 1.0);
            if v > LatencyHistogram::MIN_MS && v <= LatencyHistogram::MAX_MS {
                assert!((est - v).abs() / v <= 0.0201, "{v} -> {est}");
            }
            v *= 1.013;
        }
        // Quantiles over 1..=1000 ms.
        let mut h = LatencyHistogram::new();
        for ms in 1..=1000 {
            h.add(f64::from(ms));
        }
        for (q, want) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = h.quantile(q);
            assert!((got - want).abs() / want <= 0.02, "q{q}: {got}");
        }
        assert_eq!(h.quantile(1.0), 1000.0);
    }

    #[test]
    fn error_kind_index_is_schema_position() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
    }

    #[test]
    fn host_counter_is_exact_below_cap() {
        let mut c = HostCounter::new(10);
        for h in ["a", "b", "a", "c", "a", "b"] {
            c.add(h);
        }
        assert!(!c.is_approximate());
        assert_eq!(c.top(5), vec![("a", 3), ("b", 2), ("c", 1)]);
    }

    #[test]
    fn host_counter_memory_is_bounded_and_heavy_hitter_stays_on_top() {
        let mut c = HostCounter::new(HostCounter::CAP);
        for i in 0..100_000 {
            c.add(&format!("host-{i}.test"));
            if i % 100 == 0 {
                c.add("heavy.test");
            }
            if i % 1000 == 0 {
                c.add("medium.test");
            }
            assert!(c.map.len() <= HostCounter::CAP);
        }
        assert!(c.is_approximate());
        let top = c.top(3);
        assert_eq!(top[0], ("heavy.test", 1000));
        assert_eq!(top[1], ("medium.test", 100));
        assert!(top[2].1 <= 2, "{top:?}");
        // Long names are clipped, so keys stay small.
        c.add(&"é".repeat(1000));
        assert!(c.map.keys().all(|k| k.len() <= HostCounter::MAX_HOST_LEN));
    }
}
