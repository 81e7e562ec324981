//! The engine wires the stages: a builder with the command line's knobs and defaults, and
//! [`Volley::run`], which takes a stream of requests and returns a stream of records with
//! backpressure.

mod builder;
mod driver;
mod reorder;

pub use builder::Builder;

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use http::Method;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::fetch::Fetcher;
use crate::input::Request;
use crate::record::Record;
use crate::schedule::{Limits, RetryPolicy, Slowdown};
use crate::status::StatusSet;

/// Run-level settings the driver needs (the fetch stage has its own).
#[derive(Debug, Clone)]
pub(crate) struct RunConfig {
    pub limits: Limits,
    pub retry: RetryPolicy,
    pub deadline: Option<Duration>,
    pub ok_status: StatusSet,
    pub keep_order: bool,
    pub method: Method,
    pub body: bytes::Bytes,
    pub interrupt_grace: Duration,
    pub window: usize,
}

/// A configured fetcher: build one with [`Volley::builder`], then [`run`](Volley::run) it on
/// any number of request streams. Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct Volley {
    run: Arc<RunConfig>,
    fetcher: Arc<Fetcher>,
}

impl Volley {
    /// A builder with the command line's defaults.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Fetches every request and yields exactly one record per request, in completion order
    /// (or input order with `keep_order`). Must be called inside a tokio runtime. Reading from
    /// `requests` slows down when the returned stream is not consumed.
    pub fn run<S>(&self, requests: S) -> Run
    where
        S: Stream<Item = Request> + Send + Unpin + 'static,
    {
        let (tx, rx) = mpsc::channel(1024);
        let stop = CancellationToken::new();
        let report = Arc::new(Mutex::new(Report::default()));
        tokio::spawn(driver::drive(
            self.run.clone(),
            self.fetcher.clone(),
            requests,
            tx,
            stop.clone(),
            report.clone(),
        ));
        Run {
            records: rx,
            stop,
            report,
        }
    }
}

/// What a run learned about its hosts beyond the records: complete once the record stream has
/// ended.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Hosts slowed down after answering 429 or 503, most reductions first.
    pub slowed: Vec<Slowdown>,
    /// Hosts slowed beyond the ones listed.
    pub slowed_untracked: u64,
}

/// The records of one run, as a stream. Dropping it stops the run.
pub struct Run {
    records: mpsc::Receiver<Record>,
    stop: CancellationToken,
    report: Arc<Mutex<Report>>,
}

impl Run {
    /// The run's [`Report`]; call it after the stream has ended.
    pub fn report(&self) -> Report {
        self.report.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// A handle that interrupts the run from elsewhere (e.g. a Ctrl-C handler).
    pub fn interrupter(&self) -> Interrupter {
        Interrupter(self.stop.clone())
    }
}

impl Stream for Run {
    type Item = Record;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Record>> {
        self.records.poll_recv(cx)
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Interrupts a run: no new requests start, requests in flight get a short grace period, and
/// every remaining input still gets a record (`interrupted`).
#[derive(Clone)]
pub struct Interrupter(CancellationToken);

impl Interrupter {
    /// Interrupts the run (idempotent).
    pub fn interrupt(&self) {
        self.0.cancel();
    }

    /// Whether the run was interrupted.
    pub fn is_interrupted(&self) -> bool {
        self.0.is_cancelled()
    }
}
