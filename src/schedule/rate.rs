//! Request-start pacing for `--rate` and `--host-rate`: a GCRA (virtual scheduling) limiter.
//!
//! A pacer remembers the theoretical time of the next allowed start (`tat`). A start is allowed
//! once `tat` has come; each start moves `tat` one interval on. A start that comes a little late
//! (timers fire up to a millisecond or so late) may be made up for by up to [`Pacer::SLACK`], so
//! high rates are reached despite coarse timers. The guarantee: two consecutive starts are at
//! least `interval − SLACK` apart, and over any span `t` there are at most `1 + (t + SLACK) /
//! interval` starts.

use std::time::Duration;

use tokio::time::Instant;

/// A rate in starts per second, as given on the command line (`10/s`, `600/m`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(f64);

impl Rate {
    /// Fewest starts per second accepted (one a day).
    pub const MIN: f64 = 1.0 / 86_400.0;
    /// Most starts per second accepted.
    pub const MAX: f64 = 1e7;

    /// A rate of `per_second` starts per second; `None` when it is not finite or outside
    /// [`Rate::MIN`]..=[`Rate::MAX`].
    pub fn per_second(per_second: f64) -> Option<Rate> {
        (per_second.is_finite() && (Self::MIN..=Self::MAX).contains(&per_second))
            .then_some(Rate(per_second))
    }

    /// Starts per second.
    pub fn get(self) -> f64 {
        self.0
    }

    /// The time between two starts.
    pub fn interval(self) -> Duration {
        Duration::from_secs_f64(1.0 / self.0)
    }
}

/// Spaces starts at least one interval apart (see the module docs).
#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    tat: Instant,
}

impl Pacer {
    /// How much lateness a start may make up for.
    pub const SLACK: Duration = Duration::from_millis(2);

    /// A pacer that allows its first start at once.
    pub fn new(interval: Duration, now: Instant) -> Self {
        Pacer { interval, tat: now }
    }

    /// Changes the time between starts from the next start on.
    pub fn set_interval(&mut self, interval: Duration) {
        self.interval = interval;
    }

    /// When the next start is allowed (now or in the past when it is allowed already).
    pub fn ready_at(&self) -> Instant {
        self.tat
    }

    /// Whether a start is allowed at `now`.
    pub fn ready(&self, now: Instant) -> bool {
        self.tat <= now
    }

    /// Counts a start at `now` (which must be allowed).
    pub fn take(&mut self, now: Instant) {
        debug_assert!(self.ready(now));
        let base = self.tat.max(now.checked_sub(Self::SLACK).unwrap_or(now));
        self.tat = base + self.interval;
    }

    /// Whether the pacer still constrains a start at `now` (false once it is idle long enough
    /// that a fresh pacer would behave the same).
    pub fn busy(&self, now: Instant) -> bool {
        self.tat > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_into_intervals() {
        assert_eq!(
            Rate::per_second(4.0).unwrap().interval(),
            Duration::from_millis(250)
        );
        assert!(Rate::per_second(0.0).is_none());
        assert!(Rate::per_second(f64::NAN).is_none());
        assert!(Rate::per_second(1e9).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_by_the_interval() {
        let t0 = Instant::now();
        let mut p = Pacer::new(Duration::from_millis(100), t0);
        assert!(p.ready(t0));
        p.take(t0);
        assert!(!p.ready(t0));
        assert_eq!(p.ready_at(), t0 + Duration::from_millis(100));
        tokio::time::advance(Duration::from_millis(99)).await;
        assert!(!p.ready(Instant::now()));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(p.ready(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_start_is_made_up_for_by_at_most_the_slack() {
        let t0 = Instant::now();
        let mut p = Pacer::new(Duration::from_millis(10), t0);
        p.take(t0);
        // The timer fired 1.5 ms late: the next start is still due 10 ms after the first.
        let late = t0 + Duration::from_micros(11_500);
        p.take(late);
        assert_eq!(p.ready_at(), t0 + Duration::from_millis(20));
        // Idle for a long time: no credit beyond the slack accumulates.
        let much_later = t0 + Duration::from_secs(10);
        p.take(much_later);
        assert_eq!(
            p.ready_at(),
            much_later - Pacer::SLACK + Duration::from_millis(10)
        );
        assert!(!p.ready(much_later));
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_starts_than_the_rate_allows_over_any_span() {
        // Poll every 3 ms (coarser than the interval) for 1 s at 1000/s.
        let t0 = Instant::now();
        let interval = Duration::from_millis(1);
        let mut p = Pacer::new(interval, t0);
        let mut starts = Vec::new();
        for step in 0..=333u32 {
            let now = t0 + Duration::from_millis(3) * step;
            while p.ready(now) {
                p.take(now);
                starts.push(now);
            }
        }
        let span = starts.last().unwrap().duration_since(starts[0]);
        let bound = 1 + ((span + Pacer::SLACK).as_micros() / interval.as_micros()) as usize;
        assert!(starts.len() <= bound, "{} > {bound}", starts.len());
        // ... and the rate is reached despite the coarse polling.
        assert!(starts.len() >= 999, "{}", starts.len());
    }
}
