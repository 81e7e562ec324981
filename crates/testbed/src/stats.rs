//! What the server saw: the request log, in-flight and connection counters, and handler panics.
//!
//! One [`Stats`] is shared by every listener of a [`crate::Server`]. Listener `i` (plain host `i`)
//! has slot `i`; the TLS listener, if any, has the last slot and is reported with
//! [`crate::TLS_HOST`] as its host index.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Index of the plain host that received it, or [`crate::TLS_HOST`] for the TLS listener.
    pub host: usize,
    /// True when it came through the TLS listener.
    pub tls: bool,
    /// Request method, e.g. `GET`.
    pub method: String,
    /// Path and query exactly as sent in the request line (or the `:path` of HTTP/2).
    pub path_and_query: String,
    /// Header fields in arrival order, names lower-cased, values decoded lossily as UTF-8.
    /// For HTTP/2 the `:authority` pseudo-header is reported as `host` when no `host` field was sent.
    pub headers: Vec<(String, String)>,
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    /// Identifies the TCP connection (unique within one server, counting from 1).
    pub conn_id: u64,
    /// The request body (de-chunked).
    pub body: Vec<u8>,
    /// When the request arrived: the time since the server started at the moment its head was
    /// fully parsed (before its body was read). The same clock as [`crate::Server::elapsed`], so
    /// tests can measure the gaps between request starts.
    pub at: Duration,
    /// Requests in flight on the same listener when this one arrived, itself included (so at
    /// least 1): the concurrency the client had reached with that host at that moment.
    pub concurrent: usize,
}

impl Seen {
    /// Value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Slot {
    in_flight: AtomicUsize,
    max: AtomicUsize,
    connections: AtomicUsize,
}

/// Counters and logs shared by all listeners of one server.
pub(crate) struct Stats {
    started: Instant,
    slots: Vec<Slot>,
    all: Slot,
    next_conn: AtomicU64,
    requests: Mutex<Vec<Seen>>,
    panics: Mutex<Vec<String>>,
}

impl Stats {
    /// Stats for `slots` listeners.
    pub(crate) fn new(slots: usize) -> Arc<Self> {
        Arc::new(Stats {
            started: Instant::now(),
            slots: (0..slots).map(|_| Slot::default()).collect(),
            all: Slot::default(),
            next_conn: AtomicU64::new(1),
            requests: Mutex::new(Vec::new()),
            panics: Mutex::new(Vec::new()),
        })
    }

    /// Counts an accepted TCP connection on `slot` and returns its id.
    pub(crate) fn accepted(&self, slot: usize) -> u64 {
        self.all.connections.fetch_add(1, Ordering::SeqCst);
        self.slots[slot].connections.fetch_add(1, Ordering::SeqCst);
        self.next_conn.fetch_add(1, Ordering::SeqCst)
    }

    /// Time since the server started (the clock of [`Seen::at`]).
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Marks a request in flight on `slot` until the returned guard is dropped.
    pub(crate) fn begin(self: &Arc<Self>, slot: usize) -> InFlight {
        let all = self.all.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.all.max.fetch_max(all, Ordering::SeqCst);
        let here = self.slots[slot].in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.slots[slot].max.fetch_max(here, Ordering::SeqCst);
        InFlight {
            stats: Arc::clone(self),
            slot,
            concurrent: here,
        }
    }

    pub(crate) fn record(&self, seen: Seen) {
        lock(&self.requests).push(seen);
    }

    pub(crate) fn record_panic(&self, message: String) {
        lock(&self.panics).push(message);
    }

    pub(crate) fn requests(&self) -> Vec<Seen> {
        lock(&self.requests).clone()
    }

    pub(crate) fn request_count(&self) -> usize {
        lock(&self.requests).len()
    }

    pub(crate) fn panics(&self) -> Vec<String> {
        lock(&self.panics).clone()
    }

    pub(crate) fn max_concurrent(&self, slot: Option<usize>) -> usize {
        self.slot(slot).max.load(Ordering::SeqCst)
    }

    pub(crate) fn in_flight(&self, slot: Option<usize>) -> usize {
        self.slot(slot).in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn connections(&self, slot: Option<usize>) -> usize {
        self.slot(slot).connections.load(Ordering::SeqCst)
    }

    /// Clears the log and connection counts; maxima restart from what is in flight now. The clock
    /// keeps running from the server's start.
    pub(crate) fn reset(&self) {
        lock(&self.requests).clear();
        for s in self.slots.iter().chain([&self.all]) {
            s.connections.store(0, Ordering::SeqCst);
            s.max
                .store(s.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
        }
    }

    fn slot(&self, slot: Option<usize>) -> &Slot {
        match slot {
            Some(i) => &self.slots[i],
            None => &self.all,
        }
    }
}

/// A request in flight; dropping it ends the request.
pub(crate) struct InFlight {
    stats: Arc<Stats>,
    slot: usize,
    concurrent: usize,
}

impl InFlight {
    /// Requests in flight on this one's listener when it began, itself included.
    pub(crate) fn concurrent(&self) -> usize {
        self.concurrent
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.stats.all.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.stats.slots[self.slot]
            .in_flight
            .fetch_sub(1, Ordering::SeqCst);
    }
}

/// Locks even if a panicking thread poisoned the mutex (the data stays usable).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_reports_the_concurrency_of_its_own_slot() {
        let stats = Stats::new(2);
        let a = stats.begin(0);
        let b = stats.begin(1);
        let c = stats.begin(0);
        assert_eq!((a.concurrent(), b.concurrent(), c.concurrent()), (1, 1, 2));
        drop(a);
        let d = stats.begin(0);
        assert_eq!(d.concurrent(), 2);
        assert_eq!(stats.max_concurrent(Some(0)), 2);
        assert_eq!(stats.max_concurrent(None), 3);
        drop((b, c, d));
        assert_eq!(stats.in_flight(None), 0);
    }

    #[test]
    fn the_clock_runs_from_the_start_and_survives_a_reset() {
        let stats = Stats::new(1);
        let t1 = stats.elapsed();
        std::thread::sleep(Duration::from_millis(20));
        stats.reset();
        let t2 = stats.elapsed();
        assert!(t2 >= t1 + Duration::from_millis(20), "{t1:?} then {t2:?}");
    }
}
