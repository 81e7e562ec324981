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

use super::adapt::{Share, Slowdown, Slowed};
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

#[cfg(test)]
mod tests;
