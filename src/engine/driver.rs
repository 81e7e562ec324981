//! The run loop: admits inputs into a bounded window, asks the scheduler which jobs may start,
//! runs each hop as its own task, and emits one record per input.
//!
//! The window (inputs admitted but not yet emitted) is what keeps memory flat at any list
//! length: input is read only while the window has room. It is larger than the concurrency so
//! that a host at its limit does not stop the loop from finding work for other hosts further down
//! the list.

use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::reorder::Reorder;
use super::RunConfig;
use crate::fetch::{Fetcher, Job};
use crate::input::Request;
use crate::record::{ErrorKind, Record, RecordError};
use crate::schedule::{host_key, Feedback, HostKey, Limits, Scheduler, Signal};

type Done = (HostKey, Job, Option<Record>);

/// Emits records (through the reorder buffer) and counts them for the window.
struct Emitter {
    out: mpsc::Sender<Record>,
    reorder: Reorder,
    ready: Vec<Record>,
    emitted: u64,
}

impl Emitter {
    /// Sends `rec` on (or holds it for ordering). Returns false when the consumer is gone.
    async fn emit(&mut self, rec: Record) -> bool {
        self.reorder.push(rec, &mut self.ready);
        for r in self.ready.drain(..) {
            self.emitted += 1;
            if self.out.send(r).await.is_err() {
                return false;
            }
        }
        true
    }
}

fn interrupted(before_send: bool) -> RecordError {
    RecordError::new(
        ErrorKind::Interrupted,
        if before_send {
            "interrupted before the request was sent"
        } else {
            "interrupted while in flight"
        },
    )
}

pub(crate) async fn drive<S>(
    config: Arc<RunConfig>,
    fetcher: Arc<Fetcher>,
    mut requests: S,
    out: mpsc::Sender<Record>,
    stop: CancellationToken,
) where
    S: Stream<Item = Request> + Send + Unpin + 'static,
{
    let mut sched: Scheduler<Job> =
        Scheduler::new(Limits::new(config.concurrency, config.per_host));
    let mut in_flight = FuturesUnordered::new();
    let abort = CancellationToken::new();
    let mut em = Emitter {
        out,
        reorder: Reorder::new(config.keep_order),
        ready: Vec::new(),
        emitted: 0,
    };
    let mut admitted: u64 = 0;
    let mut input_done = false;
    let mut stopping = false;
    let grace = tokio::time::sleep(Duration::from_secs(86_400 * 365));
    tokio::pin!(grace);
    let mut grace_armed = false;

    loop {
        if !stopping {
            while let Some((host, job)) = sched.start_next(Instant::now()) {
                in_flight.push(hop(fetcher.clone(), abort.clone(), host, job));
            }
        }
        if input_done && sched.running() == 0 && sched.waiting() == 0 {
            break;
        }
        let window_open = admitted - em.emitted < config.window as u64;
        tokio::select! {
            biased;
            _ = stop.cancelled(), if !stopping => {
                stopping = true;
                for job in sched.drain_waiting() {
                    if !em.emit(job.unfinished(interrupted(job.attempts == 0))).await {
                        break;
                    }
                }
                grace.as_mut().reset(Instant::now() + config.interrupt_grace);
                grace_armed = true;
            }
            _ = &mut grace, if grace_armed => {
                abort.cancel();
                grace_armed = false;
            }
            Some((host, job, rec)) = in_flight.next(), if !in_flight.is_empty() => {
                let now = Instant::now();
                sched.finish(&host, Feedback { started: now, signal: Signal::Neutral, pause_until: None }, now);
                let rec = match rec {
                    Some(r) => r,
                    None if stopping => job.unfinished(interrupted(false)),
                    None => {
                        let _ = sched.push_front(host_key(&job.url), job, Instant::now());
                        continue;
                    }
                };
                if !em.emit(rec).await {
                    break;
                }
            }
            next = requests.next(), if !input_done && window_open => {
                let Some(req) = next else {
                    input_done = true;
                    continue;
                };
                let index = admitted;
                admitted += 1;
                let rec = match req.target {
                    Err(message) => Record::unfetched(
                        index,
                        req.input,
                        None,
                        config.method.as_str(),
                        RecordError::new(ErrorKind::InvalidInput, message),
                    ),
                    Ok(url) => {
                        let job = Job::new(index, req.input, url, config.method.clone(), config.body.clone());
                        if !stopping {
                            let _ = sched.push(host_key(&job.url), job, Instant::now());
                            continue;
                        }
                        job.unfinished(interrupted(true))
                    }
                };
                if !em.emit(rec).await {
                    break;
                }
            }
        }
    }
    // Leaving early (the consumer went away) must not leave hops running.
    abort.cancel();
}

/// One hop of one job. Hops run inside the driver's task rather than as tasks of their own:
/// their work between I/O events is small, and hyper already runs each connection as its own
/// task, so a task per hop would only add scheduling and wake-ups.
async fn hop(fetcher: Arc<Fetcher>, abort: CancellationToken, host: HostKey, mut job: Job) -> Done {
    let finished = {
        let hop = fetcher.exchange(&mut job);
        tokio::select! {
            r = hop => Ok(r),
            _ = abort.cancelled() => Err(()),
        }
    };
    let rec = finished.unwrap_or_else(|()| Some(job.unfinished(interrupted(false))));
    (host, job, rec)
}
