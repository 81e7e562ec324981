//! Which failures are tried again, and after how long: exponential backoff with full jitter,
//! or the server's `Retry-After` when it gave one.

use std::time::Duration;

use http::Method;

use crate::record::ErrorKind;

/// `--retries`, `--retry-base`, `--retry-max`, `--max-retry-after`, `--retry-all-methods`.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Extra attempts after the first (0 turns retries off).
    pub retries: u32,
    /// Backoff before the first retry is random in `[0, base]`, doubling per retry.
    pub base: Duration,
    /// The doubling stops here.
    pub max: Duration,
    /// Longest `Retry-After` honoured; a longer one ends the input with its status.
    pub max_retry_after: Duration,
    /// Retry non-idempotent methods (POST, PATCH, …) too.
    pub all_methods: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 2,
            base: Duration::from_millis(250),
            max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            all_methods: false,
        }
    }
}

/// What an attempt ended with, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ended {
    /// The response status, if a response came.
    pub status: Option<u16>,
    /// The error, if the attempt failed.
    pub error: Option<ErrorKind>,
    /// The server's `Retry-After`, already converted to a delay from now.
    pub retry_after: Option<Duration>,
    /// A saved body was cut off and its part kept: another attempt continues it with a range
    /// request instead of starting over.
    pub resumable: bool,
}

impl Ended {
    /// Whether this outcome is worth another attempt at all (method aside).
    pub fn retryable(&self) -> bool {
        if self.resumable {
            return matches!(self.error, Some(ErrorKind::Timeout | ErrorKind::Reset));
        }
        match self.status {
            Some(status) => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            // Failures before any response: the connection, the attempt's timeout, a reset.
            // DNS and TLS failures repeat themselves; protocol errors are the server's.
            None => matches!(
                self.error,
                Some(ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Reset)
            ),
        }
    }

    /// The server's `Retry-After` when its status gives it meaning (429 and 503).
    pub fn honoured_retry_after(&self) -> Option<Duration> {
        match self.status {
            Some(429 | 503) => self.retry_after,
            _ => None,
        }
    }
}

/// The decision after an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// The attempt's result is final.
    Final,
    /// Try again after this delay.
    Retry(Duration),
}

/// Whether `method` may be sent twice without changing its meaning (RFC 9110 §9.2.2).
pub fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

impl RetryPolicy {
    /// Decides what follows an attempt that ended as `ended`, after `attempts` attempts of a
    /// request with `method`. `random` is uniform in `[0, 1)` (full jitter).
    pub fn decide(&self, method: &Method, attempts: u32, ended: &Ended, random: f64) -> Verdict {
        if attempts > self.retries
            || !ended.retryable()
            || !(self.all_methods || idempotent(method))
        {
            return Verdict::Final;
        }
        if let Some(wait) = ended.honoured_retry_after() {
            return if wait <= self.max_retry_after {
                Verdict::Retry(wait)
            } else {
                Verdict::Final
            };
        }
        Verdict::Retry(self.backoff(attempts, random))
    }

    /// Full jitter: uniform in `[0, min(max, base · 2^(attempts-1))]`.
    pub fn backoff(&self, attempts: u32, random: f64) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let cap = self.base.saturating_mul(1 << doublings).min(self.max);
        cap.mul_f64(random.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(s: u16) -> Ended {
        Ended {
            status: Some(s),
            error: None,
            retry_after: None,
            resumable: false,
        }
    }

    fn failed(kind: ErrorKind) -> Ended {
        Ended {
            status: None,
            error: Some(kind),
            retry_after: None,
            resumable: false,
        }
    }

    #[test]
    fn a_cut_download_with_a_kept_part_is_retried() {
        let cut = |kind| Ended {
            status: Some(200),
            error: Some(kind),
            retry_after: None,
            resumable: true,
        };
        assert!(cut(ErrorKind::Reset).retryable());
        assert!(cut(ErrorKind::Timeout).retryable());
        assert!(!cut(ErrorKind::Io).retryable());
        assert!(!Ended {
            resumable: false,
            ..cut(ErrorKind::Reset)
        }
        .retryable());
    }

    #[test]
    fn retryable_outcomes() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(status(s).retryable(), "{s}");
        }
        for s in [200, 301, 400, 401, 403, 404, 501, 505] {
            assert!(!status(s).retryable(), "{s}");
        }
        for k in [ErrorKind::Connect, ErrorKind::Timeout, ErrorKind::Reset] {
            assert!(failed(k).retryable(), "{k}");
        }
        for k in [
            ErrorKind::Dns,
            ErrorKind::Tls,
            ErrorKind::Protocol,
            ErrorKind::BodyTooLarge,
            ErrorKind::TooManyRedirects,
        ] {
            assert!(!failed(k).retryable(), "{k}");
        }
        // A body cut off after the status line is not retried: a response had come.
        let mut partial = status(200);
        partial.error = Some(ErrorKind::Reset);
        assert!(!partial.retryable());
    }

    #[test]
    fn only_idempotent_methods_unless_told() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.decide(&Method::POST, 1, &status(503), 0.5),
            Verdict::Final
        );
        assert_eq!(
            p.decide(&Method::PATCH, 1, &status(503), 0.5),
            Verdict::Final
        );
        for m in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            assert!(matches!(
                p.decide(&m, 1, &status(503), 0.5),
                Verdict::Retry(_)
            ));
        }
        let all = RetryPolicy {
            all_methods: true,
            ..p
        };
        assert!(matches!(
            all.decide(&Method::POST, 1, &status(503), 0.5),
            Verdict::Retry(_)
        ));
    }

    #[test]
    fn attempts_are_bounded_by_retries() {
        let p = RetryPolicy::default();
        assert!(matches!(
            p.decide(&Method::GET, 2, &status(500), 0.0),
            Verdict::Retry(_)
        ));
        assert_eq!(p.decide(&Method::GET, 3, &status(500), 0.0), Verdict::Final);
        let none = RetryPolicy { retries: 0, ..p };
        assert_eq!(
            none.decide(&Method::GET, 1, &status(500), 0.0),
            Verdict::Final
        );
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_cap() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            max: Duration::from_millis(500),
            ..RetryPolicy::default()
        };
        assert_eq!(p.backoff(1, 0.0), Duration::ZERO);
        assert_eq!(p.backoff(1, 0.5), Duration::from_millis(50));
        assert_eq!(p.backoff(2, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(3, 1.0), Duration::from_millis(400));
        assert_eq!(p.backoff(4, 1.0), Duration::from_millis(500));
        assert_eq!(p.backoff(40, 1.0), Duration::from_millis(500));
    }

    #[test]
    fn retry_after_is_honoured_on_429_and_503_up_to_the_cap() {
        let p = RetryPolicy::default();
        let mut e = status(429);
        e.retry_after = Some(Duration::from_secs(2));
        assert_eq!(
            p.decide(&Method::GET, 1, &e, 0.9),
            Verdict::Retry(Duration::from_secs(2))
        );
        e.retry_after = Some(Duration::from_secs(61));
        assert_eq!(p.decide(&Method::GET, 1, &e, 0.9), Verdict::Final);
        // On a 500 the header means nothing: ordinary backoff.
        let mut e = status(500);
        e.retry_after = Some(Duration::from_secs(61));
        assert_eq!(
            p.decide(&Method::GET, 1, &e, 1.0),
            Verdict::Retry(Duration::from_millis(250))
        );
    }
}
