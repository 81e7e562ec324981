//! The scheduler: which job may start now. It keeps every limit true at every instant —
//! `concurrency` jobs overall, each host's concurrency (`per_host`, shrunk by the adaptive share
//! or a half-open breaker), `--rate` and `--host-rate` (pacers), `Retry-After` pauses and retry
//! back-offs (not-before times) — and a host that may not start now never blocks the others.
//!
//! Jobs wait in one queue per host. Hosts with a waiting job and a free slot sit in a ring
//! ordered by how many jobs they run ([`Ring`]): a free global slot goes to a host running the
//! fewest, round-robin among equals, so a host whose requests hang cannot collect the slots
//! other hosts free up. A host whose
//! time has not come (paused, paced, or only holding retries that are not yet due) is parked on
//! a timer heap instead, and [`Scheduler::next_wake`] tells the engine when to ask again.
//!
//! Time is passed in, never read, so everything here runs under a test's paused clock. A host's
//! state lives while it has jobs, and a while longer when it remembers something (a pause, a
//! pace, a slow-down, failures): idle hosts are forgotten after [`Scheduler::IDLE_KEEP`], and at
//! most [`Scheduler::IDLE_CAP`] are kept, so memory follows the jobs in the window, not the
//! number of hosts ever seen.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use foldhash::fast::RandomState;
use tokio::time::Instant;

use super::adapt::{Share, Slowdown};
use super::breaker::{Admit, Breaker, Signal};
use super::rate::{Pacer, Rate};
use super::ring::Ring;

/// Identifies a host for limits: the lower-cased host name and the port, e.g. `example.com:443`.
pub type HostKey = Arc<str>;

/// The host key of `url`.
pub fn host_key(url: &url::Url) -> HostKey {
    let host = url.host_str().unwrap_or("");
    match url.port_or_known_default() {
        Some(port) => Arc::from(format!("{host}:{port}")),
        None => Arc::from(host),
    }
}

/// Every limit the scheduler enforces.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Jobs running at once, all hosts together (at least 1).
    pub concurrency: usize,
    /// Jobs running at once on one host (at least 1).
    pub per_host: usize,
    /// Starts per second, all hosts together.
    pub rate: Option<Rate>,
    /// Starts per second on one host.
    pub host_rate: Option<Rate>,
    /// Slow a host down when it answers 429 or 503.
    pub adapt: bool,
    /// Consecutive connection-level failures that open a host's circuit (0: never).
    pub breaker: u32,
    /// How long an opened circuit waits before its probe.
    pub breaker_cooldown: Duration,
}

impl Limits {
    /// `concurrency` and `per_host` only: no rates, no adaptation, no breaker.
    pub fn new(concurrency: usize, per_host: usize) -> Self {
        Limits {
            concurrency,
            per_host,
            rate: None,
            host_rate: None,
            adapt: false,
            breaker: 0,
            breaker_cooldown: Duration::from_secs(10),
        }
    }
}

/// Jobs refused because their host's circuit is open, with the reason for their records.
#[derive(Debug)]
pub struct Shed<J> {
    /// The jobs, in no particular order.
    pub jobs: Vec<J>,
    /// Why (the breaker's message).
    pub reason: Arc<str>,
}

struct Host<J> {
    running: usize,
    waiting: VecDeque<J>,
    /// Retries waiting for their back-off, with the time they are due.
    delayed: Vec<(Instant, J)>,
    /// The level this host is queued at in the ring, if it is.
    in_ring: Option<usize>,
    /// The time of this host's entry on the timer heap, if it has one.
    wake: Option<Instant>,
    /// `Retry-After`: no start before this.
    paused_until: Option<Instant>,
    pacer: Option<Pacer>,
    share: Share,
    breaker: Breaker,
    /// Set while the host is idle and listed for forgetting.
    idle_since: Option<Instant>,
}

impl<J> Host<J> {
    fn new(cooldown: Duration) -> Self {
        Host {
            running: 0,
            waiting: VecDeque::new(),
            delayed: Vec::new(),
            in_ring: None,
            wake: None,
            paused_until: None,
            pacer: None,
            share: Share::default(),
            breaker: Breaker::new(cooldown),
            idle_since: None,
        }
    }

    fn idle(&self) -> bool {
        self.running == 0 && self.waiting.is_empty() && self.delayed.is_empty()
    }

    /// Whether forgetting the host now would lose something that still matters at `now`.
    fn remembers(&self, now: Instant) -> bool {
        self.paused_until.is_some_and(|t| t > now)
            || self.pacer.as_ref().is_some_and(|p| p.busy(now))
            || self.share.slowed()
            || !self.breaker.is_quiet()
    }

    /// Whether the pause, pace or the global limits aside, a job could start (used to keep the
    /// ring to hosts worth asking).
    fn has_room(&mut self, limits: &Limits, now: Instant) -> bool {
        if self.waiting.is_empty() {
            return false;
        }
        let share = if limits.adapt {
            self.share.limit(limits.per_host)
        } else {
            limits.per_host
        };
        self.running < share.min(self.breaker.limit(now))
    }

    /// When this host may start its next job, if not now.
    fn not_before(&self, now: Instant) -> Option<Instant> {
        let pause = self.paused_until.filter(|&t| t > now);
        let pace = self
            .pacer
            .as_ref()
            .map(Pacer::ready_at)
            .filter(|&t| t > now);
        pause.max(pace)
    }

    fn next_due(&self) -> Option<Instant> {
        self.delayed.iter().map(|d| d.0).min()
    }
}

/// How an attempt on a host ended, as [`Scheduler::finish`] needs it.
#[derive(Debug, Clone, Copy)]
pub struct Feedback<'a> {
    /// When the attempt started (answers to requests sent before a slow-down do not slow the
    /// host down again).
    pub started: Instant,
    /// What the attempt says about the host.
    pub signal: Signal<'a>,
    /// `Retry-After`: start nothing on this host before then.
    pub pause_until: Option<Instant>,
}

/// Queues jobs per host and hands out the ones that may start now.
pub struct Scheduler<J> {
    limits: Limits,
    running: usize,
    /// Jobs queued and ready once their host has room.
    queued: usize,
    /// Retries waiting for their back-off.
    delayed: usize,
    hosts: HashMap<HostKey, Host<J>, RandomState>,
    ring: Ring,
    timers: BinaryHeap<Reverse<(Instant, HostKey)>>,
    idle: VecDeque<(Instant, HostKey)>,
    pacer: Option<Pacer>,
    slowed: Slowed,
}

impl<J> Scheduler<J> {
    /// How long an idle host's memory (slow-down, failure count) is kept.
    pub const IDLE_KEEP: Duration = Duration::from_secs(30);
    /// Most idle hosts remembered; beyond it the longest idle are forgotten early.
    pub const IDLE_CAP: usize = 16_384;

    /// A scheduler enforcing `limits` (concurrency and per-host limits of at least 1).
    pub fn new(mut limits: Limits) -> Self {
        limits.concurrency = limits.concurrency.max(1);
        limits.per_host = limits.per_host.max(1);
        Scheduler {
            running: 0,
            queued: 0,
            delayed: 0,
            hosts: HashMap::default(),
            ring: Ring::default(),
            timers: BinaryHeap::new(),
            idle: VecDeque::new(),
            pacer: None,
            slowed: Slowed::default(),
            limits,
        }
    }

    /// Jobs started and not yet finished.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Jobs not yet started: queued, or waiting for a retry's back-off.
    pub fn waiting(&self) -> usize {
        self.queued + self.delayed
    }

    /// Hosts with state: something running or waiting, or remembered while idle.
    pub fn hosts(&self) -> usize {
        self.hosts.len()
    }

    /// Queues `job` for `host`, behind the jobs already waiting there; refused (the job comes
    /// back with the reason) while the host's circuit is open.
    pub fn push(&mut self, host: HostKey, job: J, now: Instant) -> Result<(), (J, Arc<str>)> {
        self.enqueue(host, job, false, now)
    }

    /// Queues `job` for `host` ahead of the jobs waiting there: for a job already under way
    /// (its next redirect hop), which should not wait behind inputs that have not started.
    pub fn push_front(&mut self, host: HostKey, job: J, now: Instant) -> Result<(), (J, Arc<str>)> {
        self.enqueue(host, job, true, now)
    }

    fn enqueue(
        &mut self,
        host: HostKey,
        job: J,
        front: bool,
        now: Instant,
    ) -> Result<(), (J, Arc<str>)> {
        let cooldown = self.limits.breaker_cooldown;
        let h = self
            .hosts
            .entry(host.clone())
            .or_insert_with(|| Host::new(cooldown));
        if let Admit::Open(why) = h.breaker.admit(now) {
            return Err((job, why));
        }
        if front {
            h.waiting.push_front(job);
        } else {
            h.waiting.push_back(job);
        }
        h.idle_since = None;
        self.queued += 1;
        enlist(&mut self.ring, &self.limits, h, &host, now);
        Ok(())
    }

    /// Queues `job` again for `host`, not to start before `at` (a retry's back-off). It holds no
    /// slot meanwhile, and when due it goes ahead of the jobs that have not started. Refused
    /// (the job comes back) while the host's circuit is open.
    pub fn retry_at(&mut self, host: HostKey, job: J, at: Instant, now: Instant) -> Result<(), J> {
        let cooldown = self.limits.breaker_cooldown;
        let h = self
            .hosts
            .entry(host.clone())
            .or_insert_with(|| Host::new(cooldown));
        if h.breaker.is_open(now) {
            return Err(job);
        }
        h.delayed.push((at, job));
        h.idle_since = None;
        self.delayed += 1;
        park(&mut self.timers, h, &host, at);
        Ok(())
    }

    /// The next job that may start at `now`, counted as running from here on; `None` when every
    /// slot is taken, a rate or pause holds, or no host with waiting jobs has room.
    pub fn start_next(&mut self, now: Instant) -> Option<(HostKey, J)> {
        self.wake_due(now);
        self.forget_idle(now);
        if self.running >= self.limits.concurrency
            || self.pacer.as_ref().is_some_and(|p| !p.ready(now))
        {
            return None;
        }
        let host_interval = self.limits.host_rate.map(Rate::interval);
        while let Some((level, key)) = self.ring.pop() {
            let Some(h) = self.hosts.get_mut(&key) else {
                continue; // forgotten since
            };
            if h.in_ring != Some(level) {
                continue; // moved to another level since
            }
            h.in_ring = None;
            if !h.has_room(&self.limits, now) {
                continue;
            }
            if let Some(at) = h.not_before(now) {
                park(&mut self.timers, h, &key, at);
                continue;
            }
            let job = h
                .waiting
                .pop_front()
                .expect("a host with room has a waiting job");
            h.running += 1;
            h.breaker.started();
            h.share.started(now);
            match h.share.interval(host_interval) {
                Some(i) => {
                    let p = h.pacer.get_or_insert_with(|| Pacer::new(i, now));
                    p.set_interval(i);
                    p.take(now);
                }
                None => h.pacer = None,
            }
            if h.has_room(&self.limits, now) {
                h.in_ring = Some(h.running);
                self.ring.push(h.running, key.clone());
            }
            self.running += 1;
            self.queued -= 1;
            if let Some(rate) = self.limits.rate {
                self.pacer
                    .get_or_insert_with(|| Pacer::new(rate.interval(), now))
                    .take(now);
            }
            return Some((key, job));
        }
        None
    }

    /// When something may become startable without any job finishing: a retry falling due, a
    /// pause or pace ending. `None` when only a finishing job can change anything.
    pub fn next_wake(&self) -> Option<Instant> {
        let timer = self.timers.peek().map(|Reverse((at, _))| *at);
        let pace = self
            .pacer
            .as_ref()
            .filter(|_| !self.ring.is_empty() && self.running < self.limits.concurrency)
            .map(Pacer::ready_at);
        match (timer, pace) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Reports that a job started on `host` has ended. When this opens the host's circuit, the
    /// host's waiting jobs come back to be ended as `circuit_open`.
    pub fn finish(&mut self, host: &HostKey, fb: Feedback<'_>, now: Instant) -> Option<Shed<J>> {
        let h = self
            .hosts
            .get_mut(host)
            .expect("finish for a host with a running job");
        debug_assert!(h.running > 0);
        h.running -= 1;
        self.running -= 1;
        if let Some(until) = fb.pause_until.filter(|&t| t > now) {
            h.paused_until = Some(h.paused_until.map_or(until, |p| p.max(until)));
        }
        if self.limits.adapt {
            let changed = match fb.signal {
                Signal::Overloaded => h.share.overloaded(fb.started, now),
                Signal::Good => h.share.good(),
                _ => false,
            };
            if changed {
                self.slowed.note(host, &h.share, &self.limits);
            }
        }
        let mut shed = None;
        if h.breaker.record(fb.signal, self.limits.breaker, host, now) {
            self.queued -= h.waiting.len();
            self.delayed -= h.delayed.len();
            let mut jobs: Vec<J> = h.waiting.drain(..).collect();
            jobs.extend(h.delayed.drain(..).map(|(_, j)| j));
            shed = Some(Shed {
                jobs,
                reason: h.breaker.reason(),
            });
        }
        self.settle(host, now);
        shed
    }

    /// After a change to `host`: back in the ring if it has room, or listed as idle (or
    /// forgotten at once when it remembers nothing).
    fn settle(&mut self, host: &HostKey, now: Instant) {
        let h = self.hosts.get_mut(host).expect("settle for a known host");
        if !h.idle() {
            enlist(&mut self.ring, &self.limits, h, host, now);
            return;
        }
        if !h.remembers(now) {
            self.hosts.remove(host);
        } else if h.idle_since.is_none() {
            h.idle_since = Some(now);
            self.idle.push_back((now, host.clone()));
        }
    }

    /// Handles the timers that are due: retries whose back-off ended go to the front of their
    /// host's queue, and hosts whose pause or pace ended go back in the ring.
    fn wake_due(&mut self, now: Instant) {
        while let Some(Reverse((at, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, key))) = self.timers.pop() else {
                break;
            };
            let Some(h) = self.hosts.get_mut(&key) else {
                continue;
            };
            if h.wake != Some(at) {
                continue; // superseded by an earlier timer
            }
            h.wake = None;
            if !h.delayed.is_empty() {
                let (mut due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut h.delayed)
                    .into_iter()
                    .partition(|d| d.0 <= now);
                h.delayed = later;
                // Latest first onto the front, so the earliest due ends up first in line.
                due.sort_by_key(|d| Reverse(d.0));
                self.delayed -= due.len();
                self.queued += due.len();
                for (_, job) in due {
                    h.waiting.push_front(job);
                }
                if let Some(next) = h.next_due() {
                    park(&mut self.timers, h, &key, next);
                }
            }
            enlist(&mut self.ring, &self.limits, h, &key, now);
        }
    }

    /// Forgets hosts idle for longer than [`Self::IDLE_KEEP`] (or beyond [`Self::IDLE_CAP`]),
    /// unless they are still paused, paced or open.
    fn forget_idle(&mut self, now: Instant) {
        while let Some(&(since, _)) = self.idle.front() {
            let over_cap = self.idle.len() > Self::IDLE_CAP;
            if !over_cap && since + Self::IDLE_KEEP > now {
                break;
            }
            let Some((since, key)) = self.idle.pop_front() else {
                break;
            };
            let Some(h) = self.hosts.get_mut(&key) else {
                continue;
            };
            if h.idle_since != Some(since) {
                continue; // busy again since, or listed again later
            }
            let binding = h.paused_until.is_some_and(|t| t > now)
                || h.pacer.as_ref().is_some_and(|p| p.busy(now))
                || h.breaker.is_open(now);
            if binding && !over_cap {
                h.idle_since = Some(now);
                self.idle.push_back((now, key));
            } else {
                self.hosts.remove(&key);
            }
        }
    }

    /// Removes and returns every job not yet started (when the run stops); running jobs stay
    /// counted until they finish.
    pub fn drain_waiting(&mut self) -> Vec<J> {
        let mut out = Vec::with_capacity(self.waiting());
        self.ring.clear();
        self.hosts.retain(|_, h| {
            out.extend(h.waiting.drain(..));
            out.extend(h.delayed.drain(..).map(|(_, j)| j));
            h.in_ring = None;
            h.running > 0
        });
        self.queued = 0;
        self.delayed = 0;
        out
    }

    /// The hosts that were slowed down, most reductions first, and how many more were slowed
    /// beyond the ones tracked.
    pub fn slowdowns(&self) -> (Vec<Slowdown>, u64) {
        let mut list: Vec<Slowdown> = self.slowed.hosts.values().cloned().collect();
        list.sort_by(|a, b| {
            b.reductions
                .cmp(&a.reductions)
                .then(a.lowest.total_cmp(&b.lowest))
                .then(a.host.cmp(&b.host))
        });
        (list, self.slowed.untracked)
    }
}

/// Puts `host` in the ring at the level of its running jobs, if it has room and is not there
/// already.
fn enlist<J>(ring: &mut Ring, limits: &Limits, h: &mut Host<J>, host: &HostKey, now: Instant) {
    if h.in_ring != Some(h.running) && h.has_room(limits, now) {
        h.in_ring = Some(h.running);
        ring.push(h.running, host.clone());
    }
}

/// Puts `host` on the timer heap for `at`, unless it already has an earlier timer.
fn park<J>(
    timers: &mut BinaryHeap<Reverse<(Instant, HostKey)>>,
    h: &mut Host<J>,
    host: &HostKey,
    at: Instant,
) {
    if h.wake.is_none_or(|w| at < w) {
        h.wake = Some(at);
        timers.push(Reverse((at, host.clone())));
    }
}

/// The hosts slowed down during the run, for the summary (at most [`Slowed::CAP`]).
#[derive(Default)]
struct Slowed {
    hosts: HashMap<HostKey, Slowdown, RandomState>,
    untracked: u64,
}

impl Slowed {
    const CAP: usize = 1000;

    fn note(&mut self, host: &HostKey, share: &Share, limits: &Limits) {
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

    fn key(s: &str) -> HostKey {
        Arc::from(s)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn fb(started: Instant, signal: Signal<'_>) -> Feedback<'_> {
        Feedback {
            started,
            signal,
            pause_until: None,
        }
    }

    /// Starts everything startable at `now`.
    fn start_all<J>(s: &mut Scheduler<J>, now: Instant) -> Vec<(HostKey, J)> {
        std::iter::from_fn(|| s.start_next(now)).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn global_limit_holds() {
        let now = Instant::now();
        let mut s = Scheduler::new(Limits::new(2, 10));
        for i in 0..5 {
            s.push(key("a"), i, now).unwrap();
        }
        assert_eq!(s.start_next(now).map(|j| j.1), Some(0));
        assert_eq!(s.start_next(now).map(|j| j.1), Some(1));
        assert!(s.start_next(now).is_none());
        s.finish(&key("a"), fb(now, Signal::Good), now);
        assert_eq!(s.start_next(now).map(|j| j.1), Some(2));
        assert_eq!((s.running(), s.waiting()), (2, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_at_its_limit_does_not_block_others() {
        let now = Instant::now();
        let mut s = Scheduler::new(Limits::new(10, 1));
        for j in ["s1", "s2", "s3"] {
            s.push(key("slow"), j, now).unwrap();
        }
        for j in ["f1", "f2"] {
            s.push(key("fast"), j, now).unwrap();
        }
        assert_eq!(s.start_next(now).unwrap().1, "s1");
        assert_eq!(s.start_next(now).unwrap().1, "f1");
        assert!(
            s.start_next(now).is_none(),
            "both hosts are at their limit of 1"
        );
        s.finish(&key("fast"), fb(now, Signal::Good), now);
        assert_eq!(s.start_next(now).unwrap().1, "f2");
        assert!(s.start_next(now).is_none());
        s.finish(&key("slow"), fb(now, Signal::Good), now);
        assert_eq!(s.start_next(now).unwrap().1, "s2");
    }

    #[tokio::test(start_paused = true)]
    async fn continuing_jobs_go_first() {
        let now = Instant::now();
        let mut s = Scheduler::new(Limits::new(1, 1));
        s.push(key("a"), "new1", now).unwrap();
        s.push(key("a"), "new2", now).unwrap();
        s.push_front(key("a"), "hop", now).unwrap();
        assert_eq!(s.start_next(now).unwrap().1, "hop");
        s.finish(&key("a"), fb(now, Signal::Good), now);
        assert_eq!(s.start_next(now).unwrap().1, "new1");
    }

    #[tokio::test(start_paused = true)]
    async fn hosts_take_turns() {
        let now = Instant::now();
        let mut s = Scheduler::new(Limits::new(1, 5));
        for j in ["a1", "a2", "a3"] {
            s.push(key("a"), j, now).unwrap();
        }
        for j in ["b1", "b2"] {
            s.push(key("b"), j, now).unwrap();
        }
        let mut order = Vec::new();
        while let Some((h, j)) = s.start_next(now) {
            order.push(j);
            s.finish(&h, fb(now, Signal::Good), now);
        }
        assert_eq!(order, ["a1", "b1", "a2", "b2", "a3"]);
        assert_eq!(
            s.hosts(),
            0,
            "idle hosts with nothing to remember are forgotten"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_host_does_not_collect_the_slots_others_free() {
        let now = Instant::now();
        let mut s = Scheduler::new(Limits::new(8, 8));
        for i in 0..100 {
            s.push(key("hang"), i, now).unwrap();
            s.push(key("fast"), i, now).unwrap();
            s.push(key("quick"), i, now).unwrap();
        }
        let mut hanging = 0;
        for (h, _) in start_all(&mut s, now) {
            hanging += usize::from(&*h == "hang");
        }
        assert_eq!(hanging, 3, "8 slots shared by 3 hosts");
        // The fast hosts finish and start again, over and over; the hanging host never ends.
        for _ in 0..50 {
            s.finish(&key("fast"), fb(now, Signal::Good), now);
            s.finish(&key("quick"), fb(now, Signal::Good), now);
            for (h, _) in start_all(&mut s, now) {
                hanging += usize::from(&*h == "hang");
            }
        }
        assert_eq!(hanging, 3, "slots freed by others went to others");
        assert_eq!(s.running(), 8);
    }

    #[tokio::test(start_paused = true)]
    async fn host_rate_spaces_starts_while_other_hosts_go_on() {
        let t0 = Instant::now();
        let mut limits = Limits::new(10, 10);
        limits.host_rate = Rate::per_second(10.0);
        let mut s = Scheduler::new(limits);
        for i in 0..3 {
            s.push(key("a"), ("a", i), t0).unwrap();
            s.push(key("b"), ("b", i), t0).unwrap();
        }
        let first = start_all(&mut s, t0);
        assert_eq!(first.len(), 2, "one start per host at once");
        assert_eq!(s.next_wake(), Some(t0 + ms(100)));
        assert!(start_all(&mut s, t0 + ms(99)).is_empty());
        let second = start_all(&mut s, t0 + ms(100));
        assert_eq!(
            second.iter().map(|j| j.1).collect::<Vec<_>>(),
            [("a", 1), ("b", 1)]
        );
        // Finishing does not reset the pace.
        for (h, _) in first.iter().chain(&second) {
            s.finish(h, fb(t0, Signal::Good), t0 + ms(150));
        }
        assert!(start_all(&mut s, t0 + ms(150)).is_empty());
        assert_eq!(start_all(&mut s, t0 + ms(200)).len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn global_rate_counts_every_host() {
        let t0 = Instant::now();
        let mut limits = Limits::new(100, 100);
        limits.rate = Rate::per_second(4.0);
        let mut s = Scheduler::new(limits);
        for i in 0..8 {
            s.push(key(["a", "b", "c", "d"][i % 4]), i, t0).unwrap();
        }
        let mut starts = Vec::new();
        let mut now = t0;
        while s.waiting() > 0 {
            for (_, j) in start_all(&mut s, now) {
                starts.push((now, j));
            }
            if s.waiting() > 0 {
                now = s.next_wake().expect("waiting jobs need a wake-up");
            }
        }
        let times: Vec<u64> = starts
            .iter()
            .map(|(t, _)| t.duration_since(t0).as_millis() as u64)
            .collect();
        assert_eq!(times, [0, 250, 500, 750, 1000, 1250, 1500, 1750]);
        assert_eq!(
            starts.iter().map(|s| s.1).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5, 6, 7],
            "hosts take turns"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_holds_no_slot_and_goes_first_when_due() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(Limits::new(1, 1));
        s.push(key("a"), "first", t0).unwrap();
        s.push(key("a"), "second", t0).unwrap();
        s.push(key("a"), "third", t0).unwrap();
        let (h, job) = s.start_next(t0).unwrap();
        assert_eq!(job, "first");
        s.finish(&h, fb(t0, Signal::Answered), t0);
        s.retry_at(h, job, t0 + ms(500), t0).unwrap();
        assert_eq!(s.waiting(), 3);
        // The retry waits; the next job runs meanwhile.
        let (h, job) = s.start_next(t0).unwrap();
        assert_eq!(job, "second");
        assert_eq!(s.next_wake(), Some(t0 + ms(500)));
        s.finish(&h, fb(t0, Signal::Good), t0 + ms(600));
        assert_eq!(s.start_next(t0 + ms(600)).unwrap().1, "first");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_the_whole_host_only() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(Limits::new(10, 10));
        s.push(key("a"), "a1", t0).unwrap();
        let (h, _) = s.start_next(t0).unwrap();
        for j in ["a2", "a3"] {
            s.push(key("a"), j, t0).unwrap();
        }
        let pause = Feedback {
            started: t0,
            signal: Signal::Overloaded,
            pause_until: Some(t0 + Duration::from_secs(2)),
        };
        s.finish(&h, pause, t0 + ms(10));
        s.push(key("b"), "b1", t0).unwrap();
        let now = t0 + ms(10);
        assert_eq!(
            start_all(&mut s, now)
                .iter()
                .map(|j| j.1)
                .collect::<Vec<_>>(),
            ["b1"]
        );
        assert_eq!(s.next_wake(), Some(t0 + Duration::from_secs(2)));
        assert!(start_all(&mut s, t0 + ms(1999)).is_empty());
        let later = start_all(&mut s, t0 + Duration::from_secs(2));
        assert_eq!(later.iter().map(|j| j.1).collect::<Vec<_>>(), ["a2", "a3"]);
    }

    #[tokio::test(start_paused = true)]
    async fn overload_halves_a_hosts_concurrency_and_good_answers_restore_it() {
        let t0 = Instant::now();
        let mut limits = Limits::new(100, 8);
        limits.adapt = true;
        let mut s = Scheduler::new(limits);
        for i in 0..100 {
            s.push(key("a"), i, t0).unwrap();
        }
        let running = start_all(&mut s, t0);
        assert_eq!(running.len(), 8);
        let now = t0 + ms(10);
        // Eight 429s from one round halve the share once.
        for (h, _) in &running {
            s.finish(h, fb(t0, Signal::Overloaded), now);
        }
        let mut started = 0;
        let mut t = now;
        for _ in 0..1000 {
            started += start_all(&mut s, t).len();
            t += ms(1);
        }
        assert_eq!(started, 4);
        let (list, untracked) = s.slowdowns();
        assert_eq!(untracked, 0);
        assert_eq!(list.len(), 1);
        assert_eq!(
            (
                list[0].reductions,
                list[0].lowest,
                list[0].lowest_concurrency
            ),
            (1, 0.5, 4)
        );
        assert_eq!(
            list[0].lowest_rate, None,
            "no pace measured yet: concurrency only"
        );
        let _ = s.next_wake();
        // Disabled: no change.
        let mut s = Scheduler::new(Limits::new(100, 8));
        for i in 0..20 {
            s.push(key("a"), i, t0).unwrap();
        }
        let running = start_all(&mut s, t0);
        for (h, _) in &running {
            s.finish(h, fb(t0, Signal::Overloaded), now);
        }
        assert_eq!(start_all(&mut s, now).len(), 8);
        assert!(s.slowdowns().0.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_circuit_sheds_its_host_and_spares_the_others() {
        let t0 = Instant::now();
        let mut limits = Limits::new(10, 2);
        limits.breaker = 2;
        limits.breaker_cooldown = Duration::from_secs(10);
        let mut s = Scheduler::new(limits);
        for i in 0..6 {
            s.push(key("dead"), i, t0).unwrap();
        }
        s.push(key("ok"), 100, t0).unwrap();
        let started = start_all(&mut s, t0);
        assert_eq!(started.len(), 3);
        let dead = key("dead");
        let refused = Signal::Unreachable("Connection refused");
        assert!(s.finish(&dead, fb(t0, refused), t0).is_none());
        // A retry waiting for its back-off is shed too.
        s.retry_at(dead.clone(), 0, t0 + ms(300), t0).unwrap();
        let shed = s
            .finish(&dead, fb(t0, refused), t0)
            .expect("second failure opens");
        let mut jobs = shed.jobs;
        jobs.sort();
        assert_eq!(jobs, [0, 2, 3, 4, 5]);
        assert!(shed
            .reason
            .starts_with("circuit open: 2 consecutive failures on dead"));
        assert_eq!(s.waiting(), 0);
        let (j, why) = s.push(dead.clone(), 7, t0 + ms(1)).unwrap_err();
        assert_eq!((j, why), (7, shed.reason.clone()));
        assert!(s.retry_at(dead.clone(), 8, t0 + ms(5), t0 + ms(1)).is_err());
        // The other host is unaffected.
        s.finish(&key("ok"), fb(t0, Signal::Good), t0);
        s.push(key("ok"), 101, t0).unwrap();
        assert_eq!(s.start_next(t0).unwrap().1, 101);
        // After the cool-down: one probe at a time; a success closes the circuit.
        let t1 = t0 + Duration::from_secs(10);
        for i in 20..23 {
            s.push(dead.clone(), i, t1).unwrap();
        }
        assert_eq!(
            start_all(&mut s, t1)
                .iter()
                .map(|j| j.1)
                .collect::<Vec<_>>(),
            [20]
        );
        assert!(s.finish(&dead, fb(t1, Signal::Good), t1).is_none());
        assert_eq!(start_all(&mut s, t1).len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_hosts_are_remembered_for_a_while_then_forgotten() {
        let t0 = Instant::now();
        let mut limits = Limits::new(10, 10);
        limits.host_rate = Rate::per_second(1.0);
        let mut s = Scheduler::new(limits);
        s.push(key("a"), 1, t0).unwrap();
        let (h, _) = s.start_next(t0).unwrap();
        s.finish(&h, fb(t0, Signal::Good), t0 + ms(10));
        assert_eq!(s.hosts(), 1, "the pace is remembered");
        // A new job for the idle host still respects the pace.
        s.push(key("a"), 2, t0 + ms(20)).unwrap();
        assert!(s.start_next(t0 + ms(20)).is_none());
        let (h, _) = s.start_next(t0 + Duration::from_secs(1)).unwrap();
        let t1 = t0 + Duration::from_secs(1);
        s.finish(&h, fb(t1, Signal::Good), t1);
        let _ = s.start_next(t1 + Scheduler::<u32>::IDLE_KEEP);
        assert_eq!(s.hosts(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn limits_hold_under_random_operations() {
        // A small deterministic generator keeps this test reproducible without a dependency.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let hosts = ["a", "b", "c", "d", "e"];
        let mut limits = Limits::new(7, 3);
        limits.host_rate = Rate::per_second(50.0);
        limits.adapt = true;
        limits.breaker = 4;
        let mut s = Scheduler::new(limits);
        let t0 = Instant::now();
        let mut now = t0;
        let mut running: Vec<(HostKey, Instant)> = Vec::new();
        let mut last_start: HashMap<HostKey, Instant> = HashMap::new();
        let (mut pushed, mut finished, mut shed_n, mut refused) = (0u64, 0u64, 0u64, 0u64);
        for _ in 0..20_000 {
            now += Duration::from_micros(rnd(3000));
            match rnd(4) {
                0 => {
                    let h = key(hosts[rnd(5) as usize]);
                    match s.push(h, pushed, now) {
                        Ok(()) => {}
                        Err(_) => refused += 1,
                    }
                    pushed += 1;
                }
                1 => {
                    if let Some((h, _)) = s.start_next(now) {
                        if let Some(prev) = last_start.insert(h.clone(), now) {
                            let gap = now.duration_since(prev);
                            assert!(gap + Pacer::SLACK >= ms(20), "gap {gap:?} on {h}");
                        }
                        running.push((h, now));
                    }
                }
                2 => {
                    if !running.is_empty() {
                        let (h, started) = running.swap_remove(rnd(running.len() as u64) as usize);
                        let signal = match rnd(4) {
                            0 => Signal::Overloaded,
                            1 => Signal::Unreachable("x"),
                            _ => Signal::Good,
                        };
                        if let Some(shed) = s.finish(&h, fb(started, signal), now) {
                            shed_n += shed.jobs.len() as u64;
                        }
                        finished += 1;
                        if rnd(3) == 0 {
                            let at = now + Duration::from_millis(rnd(50));
                            if s.retry_at(h, pushed, at, now).is_ok() {
                                pushed += 1;
                            }
                        }
                    }
                }
                _ => {
                    if let Some(w) = s.next_wake() {
                        assert!(w > now - Duration::from_secs(1));
                    }
                }
            }
            assert!(running.len() <= 7);
            for h in hosts {
                assert!(running.iter().filter(|r| &*r.0 == h).count() <= 3);
            }
            assert_eq!(s.running(), running.len());
        }
        assert_eq!(
            pushed,
            finished + refused + shed_n + s.running() as u64 + s.waiting() as u64
        );
    }

    #[tokio::test(start_paused = true)]
    async fn drain_returns_waiting_and_delayed_and_keeps_running_counted() {
        let now = Instant::now();
        let mut s = Scheduler::new(Limits::new(1, 1));
        s.push(key("a"), 1, now).unwrap();
        s.push(key("a"), 2, now).unwrap();
        s.push(key("b"), 3, now).unwrap();
        s.retry_at(key("c"), 4, now + ms(100), now).unwrap();
        let (h, _) = s.start_next(now).unwrap();
        let mut drained = s.drain_waiting();
        drained.sort();
        assert_eq!(drained, [2, 3, 4]);
        assert_eq!((s.running(), s.waiting()), (1, 0));
        s.finish(&h, fb(now, Signal::Good), now);
        assert_eq!(s.hosts(), 0);
        assert!(s.start_next(now).is_none());
    }
}
