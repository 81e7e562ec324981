//! Adaptive slow-down (AIMD): a host that answers 429 or 503 gets a smaller share — its
//! concurrency and its request rate are halved — and earns it back a little with every good
//! answer.

use std::collections::HashMap;
use std::time::Duration;

use foldhash::fast::RandomState;
use tokio::time::Instant;

use super::hosts::Limits;
use super::rate::Rate;
use super::HostKey;

/// How far one host was slowed during a run (for the summary and `--stats-json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Slowdown {
    /// The host key, `name:port`.
    pub host: HostKey,
    /// How many times the host's share was halved.
    pub reductions: u32,
    /// The smallest share it had, as a fraction of full speed (1.0 = never slowed).
    pub lowest: f64,
    /// Its share when the run ended (or when volley stopped tracking it).
    pub last: f64,
    /// Its smallest concurrency limit.
    pub lowest_concurrency: usize,
    /// Its lowest request rate per second, when a rate applied to it.
    pub lowest_rate: Option<f64>,
}

/// One host's share of full speed, between [`Share::FLOOR`] and 1.
#[derive(Debug, Clone)]
pub struct Share {
    factor: f64,
    /// When the share was last halved: answers to requests started before then were sent
    /// under the old share and do not halve it again (one reduction per round, as in TCP).
    reduced_at: Option<Instant>,
    /// Smoothed time between this host's request starts, the base for an adaptive rate when
    /// no `--host-rate` is set, and how many gaps it is made of.
    gap: Option<Duration>,
    gaps: u32,
    last_start: Option<Instant>,
    /// The interval between starts at full share once the host has been slowed.
    base_interval: Option<Duration>,
}

impl Default for Share {
    fn default() -> Self {
        Share {
            factor: 1.0,
            reduced_at: None,
            gap: None,
            gaps: 0,
            last_start: None,
            base_interval: None,
        }
    }
}

impl Share {
    /// The smallest share: 1/16 of full speed.
    pub const FLOOR: f64 = 1.0 / 16.0;
    /// How much of full speed each good answer gives back (additive increase): from the floor
    /// to full speed takes 19 good answers. A host that answers 429 to every other request
    /// settles near 1/10 of full speed, one that does so to every tenth near full speed.
    pub const STEP: f64 = 0.05;
    /// Gaps between starts needed before the host's pace counts as measured; a host slowed
    /// before that is slowed by concurrency only.
    pub const MEASURED: u32 = 8;
    /// The slowest pace adaptation imposes by itself (one start a second); a configured
    /// `--host-rate` is slowed below it if need be.
    pub const SLOWEST: Duration = Duration::from_secs(1);

    /// The share, 1.0 when the host is not slowed.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// Whether the host runs below full speed.
    pub fn slowed(&self) -> bool {
        self.factor < 1.0
    }

    /// The concurrency limit out of `full`.
    pub fn limit(&self, full: usize) -> usize {
        ((full as f64 * self.factor) as usize).clamp(1, full.max(1))
    }

    /// The interval between starts, given the configured one (`None` = no `--host-rate`);
    /// `None` when starts are not paced.
    pub fn interval(&self, configured: Option<Duration>) -> Option<Duration> {
        if !self.slowed() {
            return configured;
        }
        match configured {
            Some(base) => Some(base.div_f64(self.factor)),
            None => Some(self.base_interval?.div_f64(self.factor).min(Self::SLOWEST)),
        }
    }

    /// Notes a request start (to measure the host's pace).
    pub fn started(&mut self, now: Instant) {
        if let Some(last) = self.last_start {
            let gap = now.duration_since(last);
            self.gap = Some(match self.gap {
                Some(g) => g.mul_f64(0.8) + gap.mul_f64(0.2),
                None => gap,
            });
            self.gaps = self.gaps.saturating_add(1);
        }
        self.last_start = Some(now);
    }

    /// A 429 or 503 to a request started at `started`: halves the share, unless it was halved
    /// after that request started. Returns whether it was halved.
    pub fn overloaded(&mut self, started: Instant, now: Instant) -> bool {
        if self.reduced_at.is_some_and(|at| started <= at) {
            return false;
        }
        if !self.slowed() {
            self.base_interval = self
                .gap
                .filter(|_| self.gaps >= Self::MEASURED)
                .map(|g| g.max(Duration::from_micros(100)));
        }
        self.factor = (self.factor / 2.0).max(Self::FLOOR);
        self.reduced_at = Some(now);
        true
    }

    /// A good answer: gives back [`Share::STEP`]. Returns whether the share changed.
    pub fn good(&mut self) -> bool {
        if !self.slowed() {
            return false;
        }
        self.factor = (self.factor + Self::STEP).min(1.0);
        if !self.slowed() {
            self.base_interval = None;
        }
        true
    }
}

/// The hosts slowed down during the run, for the summary (at most [`Slowed::CAP`]).
#[derive(Default)]
pub(super) struct Slowed {
    pub(super) hosts: HashMap<HostKey, Slowdown, RandomState>,
    pub(super) untracked: u64,
}

impl Slowed {
    const CAP: usize = 1000;

    pub(super) fn note(&mut self, host: &HostKey, share: &Share, limits: &Limits) {
        let factor = share.factor();
        let concurrency = share.limit(limits.per_host);
        let rate = share
            .interval(limits.host_rate.map(Rate::interval))
            .map(|i| 1.0 / i.as_secs_f64());
        if let Some(s) = self.hosts.get_mut(host) {
            if factor < s.last {
                s.reductions += 1;
            }
            s.last = factor;
            s.lowest = s.lowest.min(factor);
            s.lowest_concurrency = s.lowest_concurrency.min(concurrency);
            s.lowest_rate = match (s.lowest_rate, rate) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        } else if factor < 1.0 {
            if self.hosts.len() < Self::CAP {
                self.hosts.insert(
                    host.clone(),
                    Slowdown {
                        host: host.clone(),
                        reductions: 1,
                        lowest: factor,
                        last: factor,
                        lowest_concurrency: concurrency,
                        lowest_rate: rate,
                    },
                );
            } else {
                self.untracked += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn halves_once_per_round_and_recovers_additively() {
        let t0 = Instant::now();
        let mut s = Share::default();
        assert_eq!(s.limit(64), 64);
        assert!(s.overloaded(t0, t0 + Duration::from_millis(1)));
        assert_eq!(s.limit(64), 32);
        // Another 429 from a request that started before the reduction: same round.
        assert!(!s.overloaded(t0, t0 + Duration::from_millis(5)));
        assert_eq!(s.limit(64), 32);
        // One started after it: halve again.
        let later = t0 + Duration::from_millis(10);
        assert!(s.overloaded(later, later));
        assert_eq!(s.limit(64), 16);
        assert!((s.factor() - 0.25).abs() < 1e-12);
        // From 1/4 back to full speed: 0.75 / STEP good answers.
        let mut goods = 0;
        while s.good() {
            goods += 1;
        }
        assert_eq!(goods, 15);
        assert!(!s.slowed(), "{}", s.factor());
    }

    #[tokio::test(start_paused = true)]
    async fn floor_and_limit_of_one() {
        let mut now = Instant::now();
        let mut s = Share::default();
        for _ in 0..20 {
            now += Duration::from_millis(1);
            s.overloaded(now, now);
        }
        assert_eq!(s.factor(), Share::FLOOR);
        assert_eq!(s.limit(4), 1);
        assert_eq!(s.limit(64), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_is_slowed_from_the_measured_pace() {
        let t0 = Instant::now();
        let mut s = Share::default();
        assert_eq!(s.interval(None), None);
        for i in 0..10 {
            s.started(t0 + Duration::from_millis(10) * i);
        }
        s.overloaded(t0, t0 + Duration::from_millis(100));
        assert_eq!(s.interval(None), Some(Duration::from_millis(20)));
        // A configured rate is the base instead.
        assert_eq!(
            s.interval(Some(Duration::from_millis(500))),
            Some(Duration::from_secs(1))
        );
        while s.good() {}
        assert_eq!(s.interval(None), None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unmeasured_host_is_slowed_by_concurrency_only_and_never_below_one_a_second() {
        let t0 = Instant::now();
        let mut s = Share::default();
        s.started(t0);
        s.overloaded(t0, t0 + Duration::from_millis(1));
        assert_eq!(s.limit(64), 32);
        assert_eq!(s.interval(None), None);
        let mut s = Share::default();
        for i in 0..=8 {
            s.started(t0 + Duration::from_millis(100) * i);
        }
        let mut now = t0 + Duration::from_secs(1);
        for _ in 0..10 {
            now += Duration::from_millis(1);
            s.overloaded(now, now);
        }
        assert_eq!(s.factor(), Share::FLOOR);
        assert_eq!(s.interval(None), Some(Share::SLOWEST));
        // A configured rate is slowed below it.
        assert_eq!(
            s.interval(Some(Duration::from_millis(100))),
            Some(Duration::from_millis(1600))
        );
    }
}
