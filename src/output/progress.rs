//! The progress line on a terminal's stderr: done / total (when known), rate and failures,
//! redrawn at most ten times a second so it never costs the run anything measurable.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Draws and clears the progress line.
pub struct Progress {
    start: Instant,
    last: Option<Instant>,
    /// Inputs in total; 0 while unknown (filled in by a counting thread).
    total: Arc<AtomicU64>,
    shown: bool,
}

impl Progress {
    /// The shortest time between two redraws.
    pub const INTERVAL: Duration = Duration::from_millis(100);

    /// A progress line whose total is read from `total` (0 = unknown).
    pub fn new(total: Arc<AtomicU64>) -> Self {
        Progress {
            start: Instant::now(),
            last: None,
            total,
            shown: false,
        }
    }

    /// Redraws if the last draw is old enough.
    pub fn tick(&mut self, done: u64, failed: u64) {
        let now = Instant::now();
        if self.last.is_some_and(|t| now - t < Self::INTERVAL) {
            return;
        }
        self.last = Some(now);
        let line = self.render(done, failed, now - self.start);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.shown = true;
    }

    /// Removes the line (before the summary or on exit).
    pub fn clear(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }

    fn render(&self, done: u64, failed: u64, elapsed: Duration) -> String {
        let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
        let total = self.total.load(Ordering::Relaxed);
        let count = if total > 0 {
            let pct = done as f64 * 100.0 / total as f64;
            format!("{done}/{total} ({pct:.1}%)")
        } else {
            format!("{done}")
        };
        format!("volley {count}  {rate:.0}/s  {failed} failed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_known_and_unknown_totals() {
        let total = Arc::new(AtomicU64::new(0));
        let p = Progress::new(total.clone());
        assert_eq!(
            p.render(50, 2, Duration::from_secs(2)),
            "volley 50  25/s  2 failed"
        );
        total.store(200, Ordering::Relaxed);
        assert_eq!(
            p.render(50, 2, Duration::from_secs(2)),
            "volley 50/200 (25.0%)  25/s  2 failed"
        );
    }
}
