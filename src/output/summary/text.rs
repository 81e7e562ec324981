//! The summary for people, printed on stderr at the end of a run: a headline, then one labelled
//! section per kind of statistic, skipping the empty ones. Host names come from the network's
//! side of things (the inputs, redirects), so they are escaped and clipped before printing.

use std::fmt::Write as _;
use std::time::Duration;

use super::hosts::HostTable;
use super::Summary;
use crate::output::format::write_size;
use crate::output::sanitize::escape_text;
use crate::record::ErrorKind;
use crate::schedule::Slowdown;

/// Rows of the `failing` table and hosts of the `slowed` list shown at most.
const SHOWN_HOSTS: usize = 5;
/// Longest host name printed, in characters (longer ones end in `…`).
const HOST_WIDTH: usize = 40;

impl Summary {
    /// The summary for people: a headline, then one indented line per non-empty section
    /// (`rate`, `status`, `codes`, `errors`, `latency`, `received`), the `failing` table of the
    /// hosts with the most failures and the `slowed` hosts. `elapsed` is the run's wall time;
    /// `color` adds ANSI colours. Every line ends in `\n`.
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
        self.render_failing(&mut s);
        self.render_slowed(&mut s);
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
        if self.latency.count() == 0 {
            return;
        }
        let q = |q| human_ms(self.latency.quantile(q));
        let text = format!(
            "p50 {}  p90 {}  p99 {}  max {}",
            q(0.5),
            q(0.9),
            q(0.99),
            human_ms(self.latency.max())
        );
        line(s, "latency", &text);
    }

    /// The hosts with the most failures, as a small table; nothing when no host failed.
    fn render_failing(&self, s: &mut String) {
        let rows = self.hosts.top_failing(SHOWN_HOSTS);
        if rows.is_empty() {
            return;
        }
        let mut table = vec![["host", "reqs", "fail", "rate", "retries", "p50"].map(String::from)];
        for r in &rows {
            table.push([
                host_text(r.host),
                r.requests.to_string(),
                r.failures.to_string(),
                percent(r.failures, r.records),
                r.retries.to_string(),
                r.p50_ms.map_or_else(|| "-".to_owned(), human_ms),
            ]);
        }
        let mut lines = columns(&table);
        if !self.hosts.is_exact() {
            let untracked = match self.hosts.floor() {
                0 => "never failed".to_owned(),
                1 => "failed at most once each".to_owned(),
                n => format!("failed at most {n} times each"),
            };
            lines.push(format!(
                "(over {} hosts: counts start when a host was last tracked; \
                 hosts not tracked {untracked})",
                HostTable::CAP,
            ));
        }
        block(s, "failing", &lines);
    }

    /// The hosts the scheduler slowed, deepest first; nothing when none was.
    fn render_slowed(&self, s: &mut String) {
        let mut lines: Vec<String> = self
            .slowed
            .iter()
            .take(SHOWN_HOSTS)
            .map(slowdown_text)
            .collect();
        let more = self.slowed.len().saturating_sub(SHOWN_HOSTS) as u64 + self.slowed_untracked;
        if more > 0 {
            let noun = if more == 1 { "host" } else { "hosts" };
            lines.push(if lines.is_empty() {
                format!("{more} {noun}")
            } else {
                format!("and {more} more")
            });
        }
        block(s, "slowed", &lines);
    }
}

/// `127.0.0.3:8080 to 1/8 (3×, conc 8, 2.5/s)`: the host, its lowest share, how many times it
/// was halved and its lowest limits.
fn slowdown_text(d: &Slowdown) -> String {
    let mut text = format!(
        "{} to {} ({}×, conc {}",
        host_text(&d.host),
        share(d.lowest),
        d.reductions,
        d.lowest_concurrency
    );
    if let Some(rate) = d.lowest_rate {
        let _ = write!(text, ", {}", per_second(rate));
    }
    text.push(')');
    text
}

/// A share of full speed: `1/8` when it is a power-of-two fraction (what halving alone gives),
/// else a percentage (`30%`, `4.5%`).
fn share(f: f64) -> String {
    for k in 0..=10 {
        let p = 1u32 << k;
        if (f * f64::from(p) - 1.0).abs() < 1e-9 {
            return if p == 1 {
                "100%".to_owned()
            } else {
                format!("1/{p}")
            };
        }
    }
    let pct = f * 100.0;
    if pct >= 10.0 {
        format!("{pct:.0}%")
    } else {
        format!("{pct:.1}%")
    }
}

/// A rate for people: `120/s`, `2.5/s`, `0.25/s`.
fn per_second(rate: f64) -> String {
    if rate >= 100.0 {
        format!("{rate:.0}/s")
    } else if rate >= 1.0 {
        format!("{rate:.1}/s")
    } else {
        format!("{rate:.2}/s")
    }
}

/// `part` of `whole` as a percentage that says `100%` and `0%` only when it is exactly so.
fn percent(part: u64, whole: u64) -> String {
    if part == 0 || whole == 0 {
        return "0%".to_owned();
    }
    if part >= whole {
        return "100%".to_owned();
    }
    let pct = part as f64 * 100.0 / whole as f64;
    if pct < 1.0 {
        format!("{:.1}%", pct.max(0.1))
    } else {
        format!("{:.0}%", pct.min(99.0))
    }
}

/// A host name made safe for a terminal and clipped to [`HOST_WIDTH`] characters.
fn host_text(host: &str) -> String {
    let text = escape_text(host);
    if text.chars().count() <= HOST_WIDTH {
        return text.into_owned();
    }
    let mut clipped: String = text.chars().take(HOST_WIDTH - 1).collect();
    clipped.push('…');
    clipped
}

/// Cells aligned in columns two spaces apart: the first left-aligned, the others right-aligned.
fn columns<const N: usize>(rows: &[[String; N]]) -> Vec<String> {
    let mut widths = [0; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let mut text = String::new();
            for (i, (cell, &w)) in row.iter().zip(&widths).enumerate() {
                let _ = match i {
                    0 => write!(text, "{cell:<w$}"),
                    _ => write!(text, "  {cell:>w$}"),
                };
            }
            text
        })
        .collect()
}

/// Appends `  label     text\n`.
fn line(s: &mut String, label: &str, text: &str) {
    let _ = writeln!(s, "  {label:<9} {text}");
}

/// Appends `lines` under one label: the first beside it, the others indented to match.
fn block(s: &mut String, label: &str, lines: &[String]) {
    for (i, text) in lines.iter().enumerate() {
        line(s, if i == 0 { label } else { "" }, text);
    }
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn renders_every_section() {
        let s = sample();
        assert_eq!(
            s.render(Duration::from_secs(2), false),
            "7 records in 2.00s: 3 ok, 4 not ok\n\
             \x20 rate      3.0 req/s\n\
             \x20 status    2xx: 3  4xx: 1  5xx: 1\n\
             \x20 codes     200 ×3  404 ×1  503 ×1\n\
             \x20 errors    invalid_input: 1  connect: 1\n\
             \x20 latency   p50 29.8ms  p90 98.8ms  p99 98.8ms  max 100ms\n\
             \x20 received  3.0KB\n\
             \x20 failing   host       reqs  fail  rate  retries     p50\n\
             \x20           b.test        3     2   67%        0  41.2ms\n\
             \x20           c.test:81     1     1  100%        2       -\n"
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
            text.contains(
                "  failing   host              reqs  fail  rate  retries     p50\n\
                 \x20           evil\\x1b[2J.test     1     1  100%        0  1.00ms\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn failing_table_shows_five_hosts_clipped() {
        let mut s = Summary::new();
        let long = format!("{}.test:8080", "x".repeat(60));
        for (host, n) in [
            ("127.0.0.2:8080", 200),
            (long.as_str(), 3),
            ("a.test", 2),
            ("b.test", 2),
            ("c.test", 1),
            ("d.test", 1),
        ] {
            for _ in 0..n {
                let mut r = failed(Some(&format!("http://{host}/")), ErrorKind::Timeout, 3);
                if host.starts_with("127") {
                    r = fetched(host, 503, 1.2, 0);
                    r.attempts = 3;
                }
                s.add(&r);
            }
        }
        for _ in 0..198 {
            s.add(&fetched("c.test", 200, 5.0, 0));
        }
        let text = s.render(Duration::from_secs(1), false);
        let failing: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.contains("failing"))
            .collect();
        assert_eq!(
            failing,
            [
                "  failing   host                                      reqs  fail  rate  retries     p50",
                "            127.0.0.2:8080                             200   200  100%      400  1.20ms",
                "            xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…     3     3  100%        6       -",
                "            a.test                                       2     2  100%        4       -",
                "            b.test                                       2     2  100%        4       -",
                "            c.test                                     199     1  0.5%        2  5.00ms",
            ]
        );
    }

    #[test]
    fn failing_table_says_when_it_is_approximate() {
        let mut s = Summary::new();
        s.add(&failed(Some("http://bad.test/"), ErrorKind::Dns, 1));
        for i in 0..HostTable::CAP {
            s.add(&fetched(&format!("h{i}.test"), 200, 1.0, 0));
        }
        let text = s.render(Duration::from_secs(1), false);
        assert!(
            text.ends_with(
                "  failing   host      reqs  fail  rate  retries  p50\n\
                 \x20           bad.test     1     1  100%        0    -\n\
                 \x20           (over 7168 hosts: counts start when a host was last tracked; \
                 hosts not tracked never failed)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn slowed_hosts() {
        let mut s = Summary::new();
        let mut slowed: Vec<Slowdown> = (0..6)
            .map(|i| slowdown(&format!("h{i}.test:443"), 1, 0.5, 32, None))
            .collect();
        slowed.push(slowdown("127.0.0.3:8080", 3, 0.125, 8, Some(2.5)));
        slowed.push(slowdown("x.test:80", 2, 0.3, 19, Some(0.25)));
        s.set_slowdowns(slowed, 4);
        let text = s.render(Duration::ZERO, false);
        assert_eq!(
            text,
            "0 records in 0.00ms\n\
             \x20 slowed    127.0.0.3:8080 to 1/8 (3×, conc 8, 2.5/s)\n\
             \x20           x.test:80 to 30% (2×, conc 19, 0.25/s)\n\
             \x20           h0.test:443 to 1/2 (1×, conc 32)\n\
             \x20           h1.test:443 to 1/2 (1×, conc 32)\n\
             \x20           h2.test:443 to 1/2 (1×, conc 32)\n\
             \x20           and 7 more\n"
        );
        s.set_slowdowns(Vec::new(), 1);
        assert!(s
            .render(Duration::ZERO, false)
            .ends_with("  slowed    1 host\n"));
        s.set_slowdowns(Vec::new(), 0);
        assert!(!s.render(Duration::ZERO, false).contains("slowed"));
    }

    #[test]
    fn shares_and_percentages() {
        assert_eq!(share(1.0 / 64.0), "1/64");
        assert_eq!(share(0.5), "1/2");
        assert_eq!(share(1.0), "100%");
        assert_eq!(share(0.3), "30%");
        assert_eq!(share(0.045), "4.5%");
        assert_eq!(percent(0, 5), "0%");
        assert_eq!(percent(1, 3), "33%");
        assert_eq!(percent(999, 1000), "99%");
        assert_eq!(percent(1, 100_000), "0.1%");
        assert_eq!(percent(7, 7), "100%");
        assert_eq!(per_second(120.4), "120/s");
    }
}
