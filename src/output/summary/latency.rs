//! The run's latency distribution in fixed memory: one histogram for every response of the run,
//! from which the summary reads its percentiles. A list of samples would grow with the run; this
//! stays at about 5 KB whatever the number of records.

/// Latencies in fixed logarithmic buckets, as in DDSketch: bucket `i ≥ 1` holds values in
/// `(MIN·γ^(i-1), MIN·γ^i]` and is reported as `MIN·2γ^i/(γ+1)`, which is within
/// `α = (γ-1)/(γ+1) = 2 %` of every value in it. 1 µs to ~2.8 h takes under 600 buckets (5 KB);
/// values outside clamp to the end buckets, and reported quantiles are clamped to the exact
/// minimum and maximum, which are also kept.
#[derive(Debug, Clone)]
pub(super) struct LatencyHistogram {
    counts: Box<[u64]>,
    n: u64,
    min: f64,
    max: f64,
}

impl LatencyHistogram {
    const ALPHA: f64 = 0.02;
    /// Smallest resolved value, in milliseconds (1 µs).
    const MIN_MS: f64 = 0.001;
    /// Largest resolved value, in milliseconds (10,000 s).
    const MAX_MS: f64 = 1e7;

    fn gamma() -> f64 {
        (1.0 + Self::ALPHA) / (1.0 - Self::ALPHA)
    }

    pub(super) fn new() -> Self {
        let buckets = ((Self::MAX_MS / Self::MIN_MS).ln() / Self::gamma().ln()).ceil() as usize + 1;
        LatencyHistogram {
            counts: vec![0; buckets].into_boxed_slice(),
            n: 0,
            min: f64::INFINITY,
            max: 0.0,
        }
    }

    fn bucket(&self, ms: f64) -> usize {
        if ms <= Self::MIN_MS {
            return 0;
        }
        let i = ((ms / Self::MIN_MS).ln() / Self::gamma().ln()).ceil() as usize;
        i.min(self.counts.len() - 1)
    }

    /// Counts one latency; negative, NaN and infinite values count as 0.
    pub(super) fn add(&mut self, ms: f64) {
        let ms = if ms.is_finite() && ms > 0.0 { ms } else { 0.0 };
        let i = self.bucket(ms);
        self.counts[i] += 1;
        self.n += 1;
        self.min = self.min.min(ms);
        self.max = self.max.max(ms);
    }

    /// Latencies counted.
    pub(super) fn count(&self) -> u64 {
        self.n
    }

    /// The smallest latency counted (exact). Requires `count() > 0`.
    pub(super) fn min(&self) -> f64 {
        self.min
    }

    /// The largest latency counted (exact). Requires `count() > 0`.
    pub(super) fn max(&self) -> f64 {
        self.max
    }

    /// The `q`-quantile (nearest rank), within 2 % of a true sample. Requires `count() > 0`.
    pub(super) fn quantile(&self, q: f64) -> f64 {
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        let mut bucket = self.counts.len() - 1;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                bucket = i;
                break;
            }
        }
        let gamma = Self::gamma();
        let estimate = Self::MIN_MS * 2.0 * gamma.powi(bucket as i32) / (gamma + 1.0);
        estimate.clamp(self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_within_two_percent() {
        let mut h = LatencyHistogram::new();
        assert!(h.counts.len() < 600);
        let mut v = 0.0005;
        while v < 2e7 {
            h.add(v);
            let i = h.bucket(v);
            let g = LatencyHistogram::gamma();
            let est = LatencyHistogram::MIN_MS * 2.0 * g.powi(i as i32) / (g + 1.0);
            if v > LatencyHistogram::MIN_MS && v <= LatencyHistogram::MAX_MS {
                assert!((est - v).abs() / v <= 0.0201, "{v} -> {est}");
            }
            v *= 1.013;
        }
        // Quantiles over 1..=1000 ms.
        let mut h = LatencyHistogram::new();
        for ms in 1..=1000 {
            h.add(f64::from(ms));
        }
        for (q, want) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = h.quantile(q);
            assert!((got - want).abs() / want <= 0.02, "q{q}: {got}");
        }
        assert_eq!(h.quantile(1.0), 1000.0);
        assert_eq!((h.count(), h.min(), h.max()), (1000, 1.0, 1000.0));
    }

    #[test]
    fn odd_values_count_as_zero() {
        let mut h = LatencyHistogram::new();
        for v in [f64::NAN, -1.0, f64::INFINITY] {
            h.add(v);
        }
        assert_eq!((h.count(), h.min(), h.max()), (3, 0.0, 0.0));
        assert_eq!(h.quantile(0.5), 0.0);
    }
}
