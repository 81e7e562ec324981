//! Global and per-host concurrency: never more than `concurrency` jobs running, never more than
//! `per_host` on one host, and a host at its limit never blocks jobs for other hosts.
//!
//! Jobs wait in one queue per host. Hosts that have waiting jobs and a free slot sit in a
//! round-robin ring; a free global slot goes to the host at the front of the ring. A host's
//! state is dropped as soon as it has nothing running and nothing waiting, so memory follows the
//! jobs in the window, not the number of hosts ever seen.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

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

struct Host<J> {
    running: usize,
    waiting: VecDeque<J>,
    in_ring: bool,
}

/// Queues jobs per host and hands out the ones that may start now.
pub struct Scheduler<J> {
    concurrency: usize,
    per_host: usize,
    running: usize,
    waiting: usize,
    hosts: HashMap<HostKey, Host<J>>,
    ring: VecDeque<HostKey>,
}

impl<J> Scheduler<J> {
    /// A scheduler allowing `concurrency` jobs at once overall and `per_host` per host (both at
    /// least 1).
    pub fn new(concurrency: usize, per_host: usize) -> Self {
        Scheduler {
            concurrency: concurrency.max(1),
            per_host: per_host.max(1),
            running: 0,
            waiting: 0,
            hosts: HashMap::new(),
            ring: VecDeque::new(),
        }
    }

    /// Jobs started and not yet finished.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Jobs queued and not yet started.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// Hosts with something running or waiting.
    pub fn hosts(&self) -> usize {
        self.hosts.len()
    }

    /// Queues `job` for `host`, behind the jobs already waiting there.
    pub fn push(&mut self, host: HostKey, job: J) {
        self.enqueue(host, job, false);
    }

    /// Queues `job` for `host` ahead of the jobs waiting there: for a job already under way
    /// (its next redirect hop), which should not wait behind inputs that have not started.
    pub fn push_front(&mut self, host: HostKey, job: J) {
        self.enqueue(host, job, true);
    }

    fn enqueue(&mut self, host: HostKey, job: J, front: bool) {
        let h = self.hosts.entry(host.clone()).or_insert_with(|| Host {
            running: 0,
            waiting: VecDeque::new(),
            in_ring: false,
        });
        if front {
            h.waiting.push_front(job);
        } else {
            h.waiting.push_back(job);
        }
        self.waiting += 1;
        if !h.in_ring && h.running < self.per_host {
            h.in_ring = true;
            self.ring.push_back(host);
        }
    }

    /// The next job that may start now, counted as running from here on; `None` when every slot
    /// is taken or every waiting job's host is at its limit.
    pub fn start_next(&mut self) -> Option<(HostKey, J)> {
        if self.running >= self.concurrency {
            return None;
        }
        let host = self.ring.pop_front()?;
        let h = self
            .hosts
            .get_mut(&host)
            .expect("a host in the ring has state");
        let job = h
            .waiting
            .pop_front()
            .expect("a host in the ring has a waiting job");
        h.running += 1;
        self.running += 1;
        self.waiting -= 1;
        if !h.waiting.is_empty() && h.running < self.per_host {
            self.ring.push_back(host.clone());
        } else {
            h.in_ring = false;
        }
        Some((host, job))
    }

    /// Reports that a job started on `host` has ended, freeing its slots.
    pub fn finish(&mut self, host: &HostKey) {
        let h = self
            .hosts
            .get_mut(host)
            .expect("finish for a host with a running job");
        debug_assert!(h.running > 0);
        h.running -= 1;
        self.running -= 1;
        if h.running == 0 && h.waiting.is_empty() {
            self.hosts.remove(host);
        } else if !h.in_ring && !h.waiting.is_empty() {
            h.in_ring = true;
            self.ring.push_back(host.clone());
        }
    }

    /// Removes and returns every waiting job (used when the run is interrupted); running jobs
    /// stay counted until they finish.
    pub fn drain_waiting(&mut self) -> Vec<J> {
        let mut out = Vec::with_capacity(self.waiting);
        self.ring.clear();
        self.hosts.retain(|_, h| {
            out.extend(h.waiting.drain(..));
            h.in_ring = false;
            h.running > 0
        });
        self.waiting = 0;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> HostKey {
        Arc::from(s)
    }

    #[test]
    fn global_limit_holds() {
        let mut s = Scheduler::new(2, 10);
        for i in 0..5 {
            s.push(key("a"), i);
        }
        assert_eq!(s.start_next().map(|j| j.1), Some(0));
        assert_eq!(s.start_next().map(|j| j.1), Some(1));
        assert!(s.start_next().is_none());
        s.finish(&key("a"));
        assert_eq!(s.start_next().map(|j| j.1), Some(2));
        assert_eq!((s.running(), s.waiting()), (2, 2));
    }

    #[test]
    fn a_host_at_its_limit_does_not_block_others() {
        let mut s = Scheduler::new(10, 1);
        s.push(key("slow"), "s1");
        s.push(key("slow"), "s2");
        s.push(key("slow"), "s3");
        s.push(key("fast"), "f1");
        s.push(key("fast"), "f2");
        assert_eq!(s.start_next().unwrap().1, "s1");
        assert_eq!(s.start_next().unwrap().1, "f1");
        assert!(
            s.start_next().is_none(),
            "both hosts are at their limit of 1"
        );
        s.finish(&key("fast"));
        assert_eq!(s.start_next().unwrap().1, "f2");
        assert!(s.start_next().is_none());
        s.finish(&key("slow"));
        assert_eq!(s.start_next().unwrap().1, "s2");
    }

    #[test]
    fn continuing_jobs_go_first() {
        let mut s = Scheduler::new(1, 1);
        s.push(key("a"), "new1");
        s.push(key("a"), "new2");
        s.push_front(key("a"), "hop");
        assert_eq!(s.start_next().unwrap().1, "hop");
        s.finish(&key("a"));
        assert_eq!(s.start_next().unwrap().1, "new1");
    }

    #[test]
    fn hosts_take_turns() {
        let mut s = Scheduler::new(1, 5);
        for j in ["a1", "a2", "a3"] {
            s.push(key("a"), j);
        }
        for j in ["b1", "b2"] {
            s.push(key("b"), j);
        }
        let mut order = Vec::new();
        while let Some((h, j)) = s.start_next() {
            order.push(j);
            s.finish(&h);
        }
        assert_eq!(order, ["a1", "b1", "a2", "b2", "a3"]);
        assert_eq!(s.hosts(), 0, "idle hosts are forgotten");
    }

    #[test]
    fn limits_hold_under_random_operations() {
        // A small deterministic generator keeps this test reproducible without a dependency.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut s = Scheduler::new(7, 3);
        let mut running: Vec<HostKey> = Vec::new();
        let mut pushed = 0;
        let mut finished = 0;
        for _ in 0..20_000 {
            match rnd(3) {
                0 => {
                    s.push(key(["a", "b", "c", "d", "e"][rnd(5) as usize]), pushed);
                    pushed += 1;
                }
                1 => {
                    if let Some((h, _)) = s.start_next() {
                        running.push(h);
                    }
                }
                _ => {
                    if !running.is_empty() {
                        let h = running.swap_remove(rnd(running.len() as u64) as usize);
                        s.finish(&h);
                        finished += 1;
                    }
                }
            }
            assert!(running.len() <= 7);
            for h in ["a", "b", "c", "d", "e"] {
                assert!(running.iter().filter(|r| &***r == h).count() <= 3);
            }
            assert_eq!(s.running(), running.len());
        }
        assert_eq!(pushed, finished + s.running() + s.waiting());
    }

    #[test]
    fn drain_returns_waiting_and_keeps_running_counted() {
        let mut s = Scheduler::new(1, 1);
        s.push(key("a"), 1);
        s.push(key("a"), 2);
        s.push(key("b"), 3);
        let (h, _) = s.start_next().unwrap();
        let mut drained = s.drain_waiting();
        drained.sort();
        assert_eq!(drained, [2, 3]);
        assert_eq!((s.running(), s.waiting()), (1, 0));
        s.finish(&h);
        assert_eq!(s.hosts(), 0);
        assert!(s.start_next().is_none());
    }
}
