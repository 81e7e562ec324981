//! The run loop: admits inputs into a bounded window, asks the scheduler which jobs may start,
//! runs each hop, decides what follows an attempt (the next hop, a retry, or the record), and
//! emits one record per input.
//!
//! The window (inputs admitted but not yet emitted) is what keeps memory flat at any list
//! length: input is read only while the window has room. It is larger than the concurrency so
//! that a host at its limit (or paused, or paced) does not stop the loop from finding work for
//! other hosts further down the list.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::reorder::Reorder;
use super::{Report, RunConfig};
use crate::fetch::{humanize, Attempt, Ending, Fetcher, Job};
use crate::input::{Request, Spec};
use crate::record::{ErrorKind, Record, RecordError};
use crate::schedule::{host_key, Ended, Feedback, HostKey, Scheduler, Signal, Verdict};

/// A hop that ended: its host, the job, when it started, and how it went (`None` when it was
/// cancelled because the run stopped).
type Done = (HostKey, Job, Instant, Option<Attempt>);

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

/// Why the run stopped early.
#[derive(Clone, Copy)]
enum Stop {
    Interrupted,
    Deadline(Duration),
}

impl Stop {
    /// The error for a job the stop caught before it was sent or while in flight.
    fn error(self, in_flight: bool) -> RecordError {
        let when = if in_flight {
            "while in flight"
        } else {
            "before the request was sent"
        };
        match self {
            Stop::Interrupted => {
                RecordError::new(ErrorKind::Interrupted, format!("interrupted {when}"))
            }
            Stop::Deadline(d) => RecordError::new(
                ErrorKind::Deadline,
                format!("the run's deadline ({}) passed {when}", humanize(d)),
            ),
        }
    }
}

fn circuit_open(reason: &str) -> RecordError {
    RecordError::new(ErrorKind::CircuitOpen, reason)
}

/// What an attempt says about its host.
fn signal(end: &Ending) -> Signal<'_> {
    let kind = end.error().map(|e| e.kind);
    match (end.status(), kind) {
        (_, Some(ErrorKind::Timeout))
        | (None, Some(ErrorKind::Connect | ErrorKind::Dns | ErrorKind::Reset)) => {
            Signal::Unreachable(end.error().map_or("", |e| e.message.as_str()))
        }
        (Some(429 | 503), _) => Signal::Overloaded,
        (Some(s), None) if s < 500 => Signal::Good,
        (Some(_), _) => Signal::Answered,
        (None, _) => Signal::Neutral,
    }
}

pub(crate) async fn drive<S>(
    config: Arc<RunConfig>,
    fetcher: Arc<Fetcher>,
    mut requests: S,
    out: mpsc::Sender<Record>,
    stop: CancellationToken,
    report: Arc<Mutex<Report>>,
) where
    S: Stream<Item = Request> + Send + Unpin + 'static,
{
    let mut sched: Scheduler<Job> = Scheduler::new(config.limits.clone());
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
    let mut stopped: Option<Stop> = None;
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    let grace = tokio::time::sleep_until(far);
    tokio::pin!(grace);
    let mut grace_armed = false;
    let deadline = tokio::time::sleep_until(config.deadline.map_or(far, |d| Instant::now() + d));
    tokio::pin!(deadline);
    let wake = tokio::time::sleep_until(far);
    tokio::pin!(wake);
    let mut wake_at: Option<Instant> = None;
    // Records produced by one turn of the loop, emitted at its end (kept to reuse its memory).
    let mut records: Vec<Record> = Vec::new();

    'run: loop {
        let now = Instant::now();
        if stopped.is_none() {
            while let Some((host, job)) = sched.start_next(now) {
                in_flight.push(hop(fetcher.clone(), abort.clone(), host, job, now));
            }
            let next = sched.next_wake();
            if next != wake_at {
                wake_at = next;
                wake.as_mut().reset(next.unwrap_or(far));
            }
        }
        if input_done && sched.running() == 0 && sched.waiting() == 0 {
            break;
        }
        let window_open = admitted - em.emitted < config.window as u64;
        tokio::select! {
            biased;
            _ = stop.cancelled(), if stopped.is_none() => {
                stopped = Some(Stop::Interrupted);
                records.extend(sched.drain_waiting().into_iter().map(|job| job.unfinished(Stop::Interrupted.error(false))));
                grace.as_mut().reset(Instant::now() + config.interrupt_grace);
                grace_armed = true;
            }
            _ = &mut deadline, if stopped.is_none() && config.deadline.is_some() => {
                let why = Stop::Deadline(config.deadline.unwrap_or_default());
                stopped = Some(why);
                records.extend(sched.drain_waiting().into_iter().map(|job| job.unfinished(why.error(false))));
                abort.cancel();
            }
            _ = &mut grace, if grace_armed => {
                abort.cancel();
                grace_armed = false;
            }
            _ = &mut wake, if wake_at.is_some() && stopped.is_none() => {
                wake_at = None;
            }
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                ended(&config, &mut sched, stopped, done, &mut records);
            }
            next = requests.next(), if !input_done && window_open => {
                let Some(req) = next else {
                    input_done = true;
                    continue;
                };
                let index = req.index.unwrap_or(admitted);
                admitted += 1;
                em.reorder.admit(index);
                if let Some(first) = req.duplicate_of {
                    let url = req.target.ok().map(String::from);
                    records.push(Record::duplicate(index, req.input, url, config.method.as_str(), first));
                    continue;
                }
                let rec = match req.target {
                    Err(message) => {
                        let mut rec = Record::unfetched(
                            index,
                            req.input,
                            None,
                            config.method.as_str(),
                            RecordError::new(ErrorKind::InvalidInput, message),
                        );
                        // A CSV row whose URL is bad still shows its columns.
                        rec.carried = req
                            .spec
                            .map(|s| Box::new(s.carried))
                            .filter(|c| !c.is_empty());
                        rec
                    }
                    Ok(url) => {
                        let job = new_job(&config, index, req.input, url, req.spec);
                        match stopped {
                            None => match sched.push(host_key(&job.url), job, Instant::now()) {
                                Ok(()) => continue,
                                Err((job, why)) => job.unfinished(circuit_open(&why)),
                            },
                            Some(why) => job.unfinished(why.error(false)),
                        }
                    }
                };
                records.push(rec);
            }
        }
        for rec in records.drain(..) {
            if !em.emit(rec).await {
                break 'run;
            }
        }
    }
    // Leaving early (the consumer went away) must not leave hops running.
    abort.cancel();
    let (slowed, slowed_untracked) = sched.slowdowns();
    if let Ok(mut r) = report.lock() {
        *r = Report {
            slowed,
            slowed_untracked,
        };
    }
}

/// The job for a fetchable input: the run's method and body unless the input has its own (a body
/// of its own makes a GET run's request a POST, as `-d` does).
fn new_job(
    config: &RunConfig,
    index: u64,
    input: String,
    url: url::Url,
    spec: Option<Box<Spec>>,
) -> Job {
    let Some(spec) = spec else {
        let (method, body) = (config.method.clone(), config.body.clone());
        return Job::new(index, input, url, method, body);
    };
    let method = match (&spec.method, &spec.body) {
        (Some(m), _) => m.clone(),
        (None, Some(_)) if config.method == http::Method::GET => http::Method::POST,
        (None, _) => config.method.clone(),
    };
    let body = spec.body.clone().unwrap_or_else(|| config.body.clone());
    let mut job = Job::new(index, input, url, method, body);
    job.spec = Some(spec);
    job
}

/// Decides what follows a hop that ended: the next hop, a retry, or the record (pushed on
/// `records`, with the records of any jobs shed by a circuit that opened).
fn ended(
    config: &RunConfig,
    sched: &mut Scheduler<Job>,
    stopped: Option<Stop>,
    (host, mut job, started, attempt): Done,
    records: &mut Vec<Record>,
) {
    let now = Instant::now();
    let Some(attempt) = attempt else {
        let fb = Feedback {
            started,
            signal: Signal::Neutral,
            pause_until: None,
        };
        sched.finish(&host, fb, now);
        let why = stopped.unwrap_or(Stop::Interrupted);
        records.push(job.unfinished(why.error(true)));
        return;
    };
    let end = match attempt {
        Attempt::Redirected => {
            let fb = Feedback {
                started,
                signal: Signal::Good,
                pause_until: None,
            };
            sched.finish(&host, fb, now);
            match stopped {
                Some(why) => records.push(job.unfinished(why.error(false))),
                None => {
                    if let Err((job, why)) = sched.push_front(host_key(&job.url), job, now) {
                        records.push(job.unfinished(circuit_open(&why)));
                    }
                }
            }
            return;
        }
        Attempt::Ended(end) => end,
    };
    let outcome = Ended {
        status: end.status(),
        error: end.error().map(|e| e.kind),
        retry_after: end.retry_after(),
        resumable: end.resumable(),
    };
    let pause = outcome
        .honoured_retry_after()
        .filter(|&d| d <= config.retry.max_retry_after);
    let fb = Feedback {
        started,
        signal: signal(&end),
        pause_until: pause.map(|d| now + d),
    };
    if let Some(shed) = sched.finish(&host, fb, now) {
        records.extend(
            shed.jobs
                .into_iter()
                .map(|j| j.unfinished(circuit_open(&shed.reason))),
        );
    }
    let verdict = match stopped {
        Some(_) => Verdict::Final,
        None => config
            .retry
            .decide(&job.method, job.attempts, &outcome, fastrand::f64()),
    };
    if let Verdict::Retry(delay) = verdict {
        job.retrying = true;
        match sched.retry_at(host, job, now + delay, now) {
            Ok(()) => return,
            Err(j) => {
                job = j;
                job.retrying = false;
            }
        }
    }
    records.push(end.into_record(job, &config.ok_status));
}

/// One hop of one job. Hops run inside the driver's task rather than as tasks of their own:
/// their work between I/O events is small, and hyper already runs each connection as its own
/// task, so a task per hop would only add scheduling and wake-ups.
async fn hop(
    fetcher: Arc<Fetcher>,
    abort: CancellationToken,
    host: HostKey,
    mut job: Job,
    started: Instant,
) -> Done {
    let attempt = {
        let hop = fetcher.exchange(&mut job);
        tokio::select! {
            a = hop => Some(a),
            _ = abort.cancelled() => None,
        }
    };
    (host, job, started, attempt)
}
