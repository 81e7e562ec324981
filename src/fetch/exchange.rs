//! One exchange: send a request for a job's current hop, read the response within the
//! per-attempt `--timeout`, and either finish the job's record or move the job to its next hop.

use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http::header::{
    HeaderValue, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LANGUAGE,
    CONTENT_LENGTH, CONTENT_LOCATION, CONTENT_TYPE, COOKIE, IF_RANGE, LOCATION,
    PROXY_AUTHORIZATION, RANGE, RETRY_AFTER, SERVER,
};
use http::{HeaderMap, Method, StatusCode, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::connect::capture_connection;
use url::Url;

use crate::extract::Extraction;
use crate::fetch::body::{discard_body, read_body, BodyPlan, BodyProgress};
use crate::fetch::client::{build_client, FetchConfig, HttpClient};
use crate::fetch::error::classify;
use crate::fetch::headers::keep_headers;
use crate::fetch::redirect::{is_redirect, next_hop, NextHop};
use crate::fetch::retry_after::parse_retry_after;
use crate::fetch::tracked::Uses;
use crate::input::Spec;
use crate::output::save::download::{Resume, Saving};
use crate::record::{Carried, ErrorKind, Headers, Record, RecordError};
use crate::schedule::idempotent;
use crate::status::StatusSet;

/// The request headers that describe its body, removed when a redirect drops the body (the
/// Fetch standard's "request-body-header names").
const BODY_HEADERS: [http::header::HeaderName; 4] = [
    CONTENT_ENCODING,
    CONTENT_LANGUAGE,
    CONTENT_LOCATION,
    CONTENT_TYPE,
];

/// A redirect's body is read (to keep the connection) only up to this size.
const REDIRECT_BODY_LIMIT: usize = 64 * 1024;

/// One input on its way through the fetch stage: where it is now and what happened so far.
#[derive(Debug, Clone)]
pub struct Job {
    /// 0-based input index.
    pub index: u64,
    /// The input as given.
    pub input: String,
    /// The URL first requested (the record's `url`).
    pub first_url: Url,
    /// The method of the first request (the record's `method`).
    pub first_method: Method,
    /// The URL of the next request.
    pub url: Url,
    /// The method of the next request.
    pub method: Method,
    /// The request body of the next request.
    pub body: Bytes,
    /// Redirects followed so far.
    pub redirects: u32,
    /// Tries of this input: 1 once its first request is sent, more only when a failure is
    /// retried. Redirect hops are counted in `redirects`, not here.
    pub attempts: u32,
    /// When the first request started.
    pub started: Option<Instant>,
    /// Whether credentials may still be sent (false once the chain left its first origin).
    pub credentials: bool,
    /// Set when the job is queued again after a failure: its next exchange is a new attempt.
    pub retrying: bool,
    /// Set once a redirect dropped the body (303, or 301/302 after POST): the headers that
    /// describe it (`Content-Type` and kin) are no longer sent, as the Fetch standard says.
    pub body_dropped: bool,
    /// The input's own headers and carried values (`--input-format csv` / `jsonl`); its method
    /// and body are already in `method` and `body`.
    pub spec: Option<Box<Spec>>,
}

impl Job {
    /// A job for input `index` that will request `url` with `method` and `body`.
    pub fn new(index: u64, input: String, url: Url, method: Method, body: Bytes) -> Self {
        Job {
            index,
            input,
            first_url: url.clone(),
            first_method: method.clone(),
            url,
            method,
            body,
            redirects: 0,
            attempts: 0,
            started: None,
            credentials: true,
            retrying: false,
            body_dropped: false,
            spec: None,
        }
    }

    /// The carried values for this job's record, if the input had any.
    fn carried(&self) -> Option<Box<Carried>> {
        let carried = &self.spec.as_ref()?.carried;
        (!carried.is_empty()).then(|| Box::new(carried.clone()))
    }

    /// The record for this job when it ends without a (final) response, e.g. interrupted.
    pub fn unfinished(&self, error: RecordError) -> Record {
        let mut r = Record::unfetched(
            self.index,
            self.input.clone(),
            Some(self.first_url.as_str().to_owned()),
            self.first_method.as_str(),
            error,
        );
        r.redirects = self.redirects;
        r.attempts = self.attempts;
        r.elapsed_ms = self.started.map_or(0.0, elapsed_ms);
        r.carried = self.carried();
        r
    }

    fn follow(&mut self, hop: NextHop) {
        self.redirects += 1;
        self.credentials &= !hop.cross_origin;
        if !hop.keep_body {
            self.body = Bytes::new();
            self.body_dropped = true;
        }
        self.url = hop.url;
        self.method = hop.method;
    }
}

/// Milliseconds since `since`, to the microsecond (more digits would only be noise).
fn elapsed_ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// What the response said, kept outside the exchange's future (see [`BodyProgress`]).
#[derive(Default)]
struct Progress {
    status: Option<StatusCode>,
    server: Option<String>,
    content_type: Option<String>,
    content_length: Option<u64>,
    retry_after: Option<Duration>,
    /// Only with [`FetchConfig::keep_headers`].
    headers: Option<Headers>,
    body: BodyProgress,
    /// Where the body was saved.
    saved_to: Option<String>,
    /// The saved body was cut off and its part kept for another attempt.
    part_kept: bool,
}

impl Progress {
    /// Gives a saved body its final name when the exchange ended well; otherwise keeps its part
    /// for another attempt when it can be continued, or drops it. Returns the record's error.
    fn settle_download(
        &mut self,
        saving: &Saving,
        error: Option<RecordError>,
    ) -> Option<RecordError> {
        let Some(download) = self.body.download.take() else {
            return error;
        };
        let Some(e) = error else {
            return match download.finish(saving) {
                Ok(path) => {
                    self.saved_to = Some(path);
                    None
                }
                Err(e) => Some(e),
            };
        };
        if e.kind == ErrorKind::BodyTooLarge {
            // A body over --max-filesize would be over it again.
            download.discard();
        } else {
            self.part_kept = download.abandon();
        }
        Some(e)
    }
}

enum Outcome {
    Done,
    Redirect(NextHop),
    Failed(RecordError),
}

/// The shared client and the settings all exchanges of a run use.
pub struct Fetcher {
    client: HttpClient,
    config: FetchConfig,
}

impl Fetcher {
    /// Builds the client for `config`.
    pub fn new(config: FetchConfig) -> Result<Fetcher, String> {
        Ok(Fetcher {
            client: build_client(&config)?,
            config,
        })
    }

    /// Runs one hop of `job`: [`Attempt::Redirected`] when the job now points at its next hop
    /// (and must be scheduled again), or what the exchange ended with.
    pub async fn exchange(&self, job: &mut Job) -> Attempt {
        job.started.get_or_insert_with(Instant::now);
        if let (Some(s), 0) = (&self.config.saving, job.attempts) {
            // Nothing is fetched for a file that would not be saved.
            if let Err(error) = s.check(&job.first_url, job.index) {
                let p = Progress::default();
                return Attempt::Ended(Box::new(Ending {
                    p,
                    error: Some(error),
                }));
            }
        }
        if job.attempts == 0 || job.retrying {
            job.attempts += 1;
            job.retrying = false;
        }
        let mut p = Progress::default();
        let outcome = match tokio::time::timeout(self.config.timeout, self.send(job, &mut p)).await
        {
            Ok(o) => o,
            Err(_) => Outcome::Failed(RecordError::new(
                ErrorKind::Timeout,
                format!(
                    "no complete response within {} (--timeout)",
                    humanize(self.config.timeout)
                ),
            )),
        };
        let error = match outcome {
            Outcome::Redirect(hop) => {
                job.follow(hop);
                return Attempt::Redirected;
            }
            Outcome::Done => None,
            Outcome::Failed(e) => Some(e),
        };
        let error = match &self.config.saving {
            Some(saving) => p.settle_download(saving, error),
            None => error,
        };
        Attempt::Ended(Box::new(Ending { p, error }))
    }

    fn request(
        &self,
        job: &Job,
        resume: Option<&Resume>,
    ) -> Result<http::Request<Full<Bytes>>, RecordError> {
        let uri = request_uri(&job.url)?;
        let mut req = http::Request::new(Full::new(job.body.clone()));
        *req.method_mut() = job.method.clone();
        *req.uri_mut() = uri;
        let headers = req.headers_mut();
        *headers = self.config.headers.clone();
        if let Some(spec) = &job.spec {
            // The input's headers replace the run's of the same name.
            for name in spec.headers.keys() {
                headers.remove(name);
            }
            for (name, value) in &spec.headers {
                headers.append(name, value.clone());
            }
        }
        if job.credentials {
            if !job.url.username().is_empty() && !headers.contains_key(AUTHORIZATION) {
                headers.insert(AUTHORIZATION, basic_auth(&job.url)?);
            }
        } else {
            strip_credentials(headers);
        }
        if job.body_dropped {
            for name in BODY_HEADERS {
                headers.remove(name);
            }
        }
        if let Some(r) = resume {
            // The part holds identity bytes; ranges of an encoded body would not continue it.
            headers.insert(RANGE, r.range.clone());
            headers.insert(IF_RANGE, r.if_range.clone());
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        }
        Ok(req)
    }

    async fn send(&self, job: &Job, p: &mut Progress) -> Outcome {
        let saving = self.config.saving.as_deref();
        let mut resume = saving.and_then(|s| s.resume(&job.first_url));
        let mut fresh_tries = 0;
        let resp = loop {
            let mut req = match self.request(job, resume.as_ref()) {
                Ok(r) => r,
                Err(e) => return Outcome::Failed(e),
            };
            let conn = capture_connection(&mut req);
            match self.client.request(req).await {
                Ok(r) => {
                    // hyper-util hands the connection's counter over with the response.
                    if let Some(uses) = r.extensions().get::<Uses>() {
                        uses.bump();
                    }
                    // The saved part is longer than the server's file: start it over.
                    if let (Some(s), Some(_), StatusCode::RANGE_NOT_SATISFIABLE) =
                        (saving, &resume, r.status())
                    {
                        s.drop_part(&job.first_url);
                        resume = None;
                        discard_body(r.into_body(), REDIRECT_BODY_LIMIT).await;
                        continue;
                    }
                    break r;
                }
                Err(e) => {
                    let reused = Uses::of(&conn).is_some_and(|u| u.bump() > 0);
                    let error = classify(&e);
                    // A pooled keep-alive connection the server had already closed fails before
                    // any byte of the response: that says nothing about the server, so an
                    // idempotent request goes once more, on another connection, as the same
                    // attempt.
                    if reused
                        && error.kind == ErrorKind::Reset
                        && fresh_tries == 0
                        && idempotent(&job.method)
                    {
                        fresh_tries += 1;
                        continue;
                    }
                    return Outcome::Failed(error);
                }
            }
        };
        let (parts, body) = resp.into_parts();
        p.status = Some(parts.status);
        p.server = header_text(&parts.headers, SERVER);
        p.content_type = header_text(&parts.headers, CONTENT_TYPE);
        p.content_length = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.trim().parse().ok());
        p.retry_after = parts
            .headers
            .get(RETRY_AFTER)
            .and_then(|v| parse_retry_after(v.as_bytes(), SystemTime::now()));
        if self.config.keep_headers {
            // Kept for a redirect too: its Progress is dropped when the hop is followed, and it
            // is the final response when following fails.
            p.headers = Some(keep_headers(&parts.headers));
        }
        if self.config.follow && is_redirect(parts.status) {
            if let Some(location) = parts.headers.get(LOCATION) {
                return match next_hop(
                    &job.url,
                    &job.method,
                    parts.status,
                    location.as_bytes(),
                    job.redirects,
                    self.config.max_redirects,
                ) {
                    Ok(hop) => {
                        discard_body(body, REDIRECT_BODY_LIMIT).await;
                        Outcome::Redirect(hop)
                    }
                    Err(e) => Outcome::Failed(e),
                };
            }
        }
        if let Some(set) = &self.config.extractors {
            p.body.extraction = Some(Box::new(Extraction::new(set.clone(), &parts.headers)));
        }
        if self.config.hash {
            p.body.digest = Some(Box::default());
        }
        let saving = saving.filter(|_| saves(&job.method, parts.status));
        if let Some(s) = saving {
            match s.start(
                &job.first_url,
                job.index,
                parts.status,
                &parts.headers,
                resume,
            ) {
                Ok(d) => p.body.download = Some(Box::new(d)),
                Err(e) => return Outcome::Failed(e),
            }
        }
        let encoding = header_text(&parts.headers, CONTENT_ENCODING);
        let plan = BodyPlan {
            content_encoding: encoding.as_deref(),
            content_type: p.content_type.as_deref(),
            max_body: self.config.max_body,
            saving,
        };
        if let Err(e) = p.body.replay_prefix(&plan) {
            return Outcome::Failed(e);
        }
        match read_body(body, &plan, &mut p.body).await {
            Ok(()) => Outcome::Done,
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// Whether a final response's body is saved: a 2xx with a body (not `204`/`205`, not `HEAD`).
fn saves(method: &Method, status: StatusCode) -> bool {
    status.is_success()
        && status != StatusCode::NO_CONTENT
        && status != StatusCode::RESET_CONTENT
        && method != Method::HEAD
}

/// How an exchange ended (with a response or without), before it becomes a record: the engine
/// first decides whether to try again.
pub struct Ending {
    p: Progress,
    error: Option<RecordError>,
}

/// The result of [`Fetcher::exchange`].
pub enum Attempt {
    /// The job was redirected and now points at its next hop.
    Redirected,
    /// The exchange ended; the job's record follows unless it is tried again.
    Ended(Box<Ending>),
}

impl Ending {
    /// The response status, if one came.
    pub fn status(&self) -> Option<u16> {
        self.p.status.map(|s| s.as_u16())
    }

    /// The error, if the exchange failed.
    pub fn error(&self) -> Option<&RecordError> {
        self.error.as_ref()
    }

    /// Whether a saved body was cut off and its part kept, so another attempt continues it.
    pub fn resumable(&self) -> bool {
        self.p.part_kept
    }

    /// The response's `Retry-After`, as a delay from when it came.
    pub fn retry_after(&self) -> Option<Duration> {
        self.p.retry_after
    }

    /// The record of `job` ending like this; `ok` when there was no error and the status is in
    /// `ok_status`.
    pub fn into_record(self, mut job: Job, ok_status: &StatusSet) -> Record {
        let Ending { mut p, error } = self;
        let status = p.status.map(|s| s.as_u16());
        let carried = job.carried();
        Record {
            index: job.index,
            input: std::mem::take(&mut job.input),
            final_url: p.status.map(|_| String::from(job.url)),
            url: Some(String::from(job.first_url)),
            method: job.first_method.as_str().to_owned(),
            status,
            ok: error.is_none() && status.is_some_and(|s| ok_status.contains(s)),
            title: p.body.take_title(),
            server: p.server,
            content_type: p.content_type,
            content_length: p.content_length,
            bytes: p.body.bytes,
            redirects: job.redirects,
            attempts: job.attempts,
            elapsed_ms: job.started.map_or(0.0, elapsed_ms),
            extract: p.body.take_extract(),
            headers: p.headers,
            carried,
            saved_to: p.saved_to,
            sha256: p.body.take_digest(),
            duplicate_of: None,
            error,
        }
    }
}

/// The request target for `url`: no fragment and no user-info (credentials go in a header).
fn request_uri(url: &Url) -> Result<Uri, RecordError> {
    let text = if url.username().is_empty() && url.password().is_none() && url.fragment().is_none()
    {
        url.as_str().to_owned()
    } else {
        let mut u = url.clone();
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u.set_fragment(None);
        String::from(u)
    };
    // Handing over the String's buffer saves the copy that `str::parse` would make.
    Uri::from_maybe_shared(Bytes::from(text)).map_err(|e| {
        RecordError::new(
            ErrorKind::InvalidInput,
            format!("URL cannot be sent as a request target: {e}"),
        )
    })
}

fn basic_auth(url: &Url) -> Result<HeaderValue, RecordError> {
    let decode = |s: &str| percent_encoding::percent_decode_str(s).collect::<Vec<u8>>();
    let mut plain = decode(url.username());
    plain.push(b':');
    plain.extend(decode(url.password().unwrap_or("")));
    let value = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(plain)
    );
    let mut v = HeaderValue::from_str(&value).map_err(|_| {
        RecordError::new(ErrorKind::InvalidInput, "URL credentials cannot be encoded")
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Removes every header that carries credentials (before a request to another origin).
fn strip_credentials(headers: &mut HeaderMap) {
    headers.remove(AUTHORIZATION);
    headers.remove(COOKIE);
    headers.remove(PROXY_AUTHORIZATION);
}

fn header_text(headers: &HeaderMap, name: http::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// `30s`, `1.5s`, `250ms`: durations as people write them.
pub(crate) fn humanize(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 1000 && ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_uri_drops_credentials_and_fragment() {
        let u = Url::parse("http://us%20er:p%40ss@a.test:8080/p?q=1#frag").unwrap();
        assert_eq!(
            request_uri(&u).unwrap().to_string(),
            "http://a.test:8080/p?q=1"
        );
        assert_eq!(
            basic_auth(&u).unwrap().to_str().unwrap(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("us er:p@ss")
            )
        );
    }

    #[test]
    fn durations_read_naturally() {
        use std::time::Duration;
        assert_eq!(humanize(Duration::from_secs(30)), "30s");
        assert_eq!(humanize(Duration::from_millis(1500)), "1.5s");
        assert_eq!(humanize(Duration::from_millis(250)), "250ms");
    }
}
