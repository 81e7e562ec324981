//! The circuit breaker: after `--breaker N` consecutive connection-level failures a host's
//! circuit opens, and its queued inputs end at once (`circuit_open`) instead of each waiting for
//! its own timeout. After a cool-down one probe goes through; a response closes the circuit, a
//! failure opens it again for twice as long.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// How an attempt on a host ended, for the breaker and the adaptive share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal<'a> {
    /// A response that shows the host is healthy (not 429, not 5xx).
    Good,
    /// 429 or 503: the host asks for less.
    Overloaded,
    /// Some other response (e.g. 500): the host is reachable, neither good nor overloaded.
    Answered,
    /// No response: connection refused, timeout, reset, DNS. Carries the error message.
    Unreachable(&'a str),
    /// Failed in a way that says nothing about the host (e.g. TLS, a protocol error after the
    /// head, a cancelled attempt).
    Neutral,
}

#[derive(Debug, Clone)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// One host's breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    state: State,
    cooldown: Duration,
    reason: Option<Arc<str>>,
}

/// What the breaker allows for a new request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit {
    /// Queue it as usual.
    Yes,
    /// Refuse it: the circuit is open (the reason for the record).
    Open(Arc<str>),
}

impl Breaker {
    /// The longest cool-down reached by doubling.
    pub const MAX_COOLDOWN: Duration = Duration::from_secs(300);

    /// A closed breaker whose first cool-down is `cooldown`.
    pub fn new(cooldown: Duration) -> Self {
        Breaker {
            state: State::Closed { failures: 0 },
            cooldown,
            reason: None,
        }
    }

    /// Whether the breaker holds nothing worth remembering (closed, no failures counted).
    pub fn is_quiet(&self) -> bool {
        matches!(self.state, State::Closed { failures: 0 })
    }

    /// Whether the circuit refuses requests at `now` (open and cooling down).
    pub fn is_open(&self, now: Instant) -> bool {
        matches!(self.state, State::Open { until } if until > now)
    }

    /// When the cool-down ends, while open.
    #[cfg(test)]
    fn opens_until(&self) -> Option<Instant> {
        match self.state {
            State::Open { until } => Some(until),
            _ => None,
        }
    }

    /// Why the circuit last opened (empty if it never did).
    pub fn reason(&self) -> Arc<str> {
        self.reason.clone().unwrap_or_else(|| "".into())
    }

    /// Whether a new request may be queued at `now`.
    pub fn admit(&mut self, now: Instant) -> Admit {
        self.settle(now);
        match self.state {
            State::Open { .. } => Admit::Open(self.reason()),
            _ => Admit::Yes,
        }
    }

    /// At most this many requests may run at `now` (`usize::MAX` when the breaker does not
    /// limit them): one probe while half-open, none while open.
    pub fn limit(&mut self, now: Instant) -> usize {
        self.settle(now);
        match self.state {
            State::Closed { .. } => usize::MAX,
            State::Open { .. } => 0,
            State::HalfOpen { probing } => usize::from(!probing),
        }
    }

    /// Notes that a request started (the probe, when half-open).
    pub fn started(&mut self) {
        if let State::HalfOpen { probing } = &mut self.state {
            *probing = true;
        }
    }

    fn settle(&mut self, now: Instant) {
        if let State::Open { until } = self.state {
            if until <= now {
                self.state = State::HalfOpen { probing: false };
            }
        }
    }

    /// Feeds the end of an attempt. Returns true when this opened the circuit.
    pub fn record(&mut self, signal: Signal<'_>, threshold: u32, host: &str, now: Instant) -> bool {
        if threshold == 0 {
            return false;
        }
        match (&mut self.state, signal) {
            (_, Signal::Neutral) => false,
            (State::Closed { failures }, Signal::Unreachable(why)) => {
                *failures += 1;
                if *failures < threshold {
                    return false;
                }
                let n = *failures;
                self.open(
                    now,
                    format!("{n} consecutive failures on {host} (last: {why})"),
                );
                true
            }
            (State::HalfOpen { .. }, Signal::Unreachable(why)) => {
                self.cooldown = (self.cooldown * 2).min(Self::MAX_COOLDOWN);
                self.open(
                    now,
                    format!("{host} still failing after a cool-down (last: {why})"),
                );
                true
            }
            // Late answers from requests started before the circuit opened change nothing.
            (State::Open { .. }, _) => false,
            (_, _) => {
                self.state = State::Closed { failures: 0 };
                false
            }
        }
    }

    fn open(&mut self, now: Instant, why: String) {
        let secs = self.cooldown.as_secs_f64();
        self.reason = Some(format!("circuit open: {why}; next probe in {secs:.0}s").into());
        self.state = State::Open {
            until: now + self.cooldown,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFUSED: Signal<'static> = Signal::Unreachable("connect: Connection refused");

    #[tokio::test(start_paused = true)]
    async fn opens_after_n_consecutive_failures() {
        let now = Instant::now();
        let mut b = Breaker::new(Duration::from_secs(10));
        assert!(!b.record(REFUSED, 3, "h:80", now));
        assert!(!b.record(REFUSED, 3, "h:80", now));
        // A response in between resets the count.
        assert!(!b.record(Signal::Answered, 3, "h:80", now));
        assert!(!b.record(REFUSED, 3, "h:80", now));
        assert!(!b.record(REFUSED, 3, "h:80", now));
        assert!(b.record(REFUSED, 3, "h:80", now));
        assert!(b.is_open(now));
        assert_eq!(b.limit(now), 0);
        let Admit::Open(why) = b.admit(now) else {
            panic!("open")
        };
        assert_eq!(
            &*why,
            "circuit open: 3 consecutive failures on h:80 (last: connect: Connection refused); \
             next probe in 10s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_probe_after_the_cooldown_then_closed_or_open_for_longer() {
        let t0 = Instant::now();
        let mut b = Breaker::new(Duration::from_secs(10));
        assert!(b.record(REFUSED, 1, "h:80", t0));
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(b.admit(t1), Admit::Yes);
        assert_eq!(b.limit(t1), 1);
        b.started();
        assert_eq!(b.limit(t1), 0, "one probe at a time");
        assert!(b.record(REFUSED, 1, "h:80", t1));
        assert_eq!(b.opens_until(), Some(t1 + Duration::from_secs(20)));
        let t2 = t1 + Duration::from_secs(20);
        assert_eq!(b.limit(t2), 1);
        b.started();
        assert!(!b.record(Signal::Good, 1, "h:80", t2));
        assert!(b.is_quiet());
        assert_eq!(b.limit(t2), usize::MAX);
    }

    #[tokio::test(start_paused = true)]
    async fn disabled_and_neutral() {
        let now = Instant::now();
        let mut b = Breaker::new(Duration::from_secs(10));
        for _ in 0..100 {
            assert!(!b.record(REFUSED, 0, "h:80", now));
        }
        assert!(b.is_quiet());
        assert!(!b.record(REFUSED, 2, "h:80", now));
        assert!(!b.record(Signal::Neutral, 2, "h:80", now));
        assert!(
            b.record(REFUSED, 2, "h:80", now),
            "neutral did not reset the count"
        );
    }
}
