//! One host's latency distribution, small enough to keep for thousands of hosts at once: the
//! per-host table needs a median per host, and the run-wide [`LatencyHistogram`] (5 KB, 2 %)
//! would cost tens of megabytes across the table. This one trades precision for size — about
//! 5 % instead of 2 %, at most 256 bytes of buckets — which is plenty for a median in a table.
//!
//! [`LatencyHistogram`]: super::latency::LatencyHistogram

/// Latencies in coarse logarithmic buckets (γ = 1.1), stored sparsely: only occupied buckets are
/// kept, each packed into a `u32` as `index << 24 | count`, sorted by index.
///
/// Precision: base bucket `i ≥ 1` holds values in `(MIN·γ^(i-1), MIN·γ^i]`, and a bucket's
/// estimate is within `α = (γ-1)/(γ+1) ≈ 4.8 %` of every value in it; quantiles are also clamped
/// to the host's minimum and maximum (kept as `f32`), so a host with one sample is exact. 1 µs
/// to 10,000 s is 243 base buckets, so an index fits in 8 bits.
///
/// Bounds: at most [`MAX_BINS`] buckets are kept. When a host's latencies would occupy more, the
/// histogram collapses pairs of neighbours (UDDSketch): each bucket then spans γ² and the bound
/// becomes 9.5 %, after a second collapse γ⁴ and 18.8 % — and no more is ever needed, because
/// 243 base buckets four to a bucket are 61. In practice a host's latencies span far less than
/// the 445× that 64 buckets of γ cover, so the first bound holds. A count that would pass 24
/// bits (16.7 million samples in one bucket) halves every count first, rounding up, which keeps
/// the proportions a quantile needs. Adding is O([`MAX_BINS`]) at worst, a fixed cost.
#[derive(Debug, Clone)]
pub(super) struct HostLatency {
    bins: Vec<u32>,
    /// Times neighbours were merged: bucket `j` covers base buckets `j·2^level ..= (j+1)·2^level - 1`.
    level: u8,
    min: f32,
    max: f32,
}

/// Most buckets one host keeps (256 bytes; `Vec` doubling from 4 reaches exactly 64, so its
/// capacity never exceeds this).
pub(super) const MAX_BINS: usize = 64;

const GAMMA: f64 = 1.1;
/// Smallest resolved value, in milliseconds (1 µs); smaller ones go to base bucket 0.
const MIN_MS: f64 = 0.001;
/// Last base bucket: 10,000 s (1e10 µs) is `ceil(ln(1e10) / ln(1.1)) = 242`; larger values clamp.
const LAST_BUCKET: u32 = 242;
const COUNT_BITS: u32 = 24;
const COUNT_MAX: u32 = (1 << COUNT_BITS) - 1;
// A bucket index must fit in the bits above the count.
const _: () = assert!(LAST_BUCKET < 1 << (32 - COUNT_BITS));

fn index(bin: u32) -> u32 {
    bin >> COUNT_BITS
}

fn count(bin: u32) -> u32 {
    bin & COUNT_MAX
}

fn pack(index: u32, count: u32) -> u32 {
    index << COUNT_BITS | count
}

/// The base bucket of `ms` (already made finite and non-negative).
fn base_bucket(ms: f64) -> u32 {
    if ms <= MIN_MS {
        return 0;
    }
    let i = ((ms / MIN_MS).ln() / GAMMA.ln()).ceil();
    (i as u32).min(LAST_BUCKET)
}

impl Default for HostLatency {
    fn default() -> Self {
        HostLatency {
            bins: Vec::new(),
            level: 0,
            min: f32::INFINITY,
            max: 0.0,
        }
    }
}

impl HostLatency {
    /// Counts one latency; negative, NaN and infinite values count as 0.
    pub(super) fn add(&mut self, ms: f64) {
        let ms = if ms.is_finite() && ms > 0.0 { ms } else { 0.0 };
        self.min = self.min.min(ms as f32);
        self.max = self.max.max(ms as f32);
        let mut j = base_bucket(ms) >> self.level;
        loop {
            match self.bins.binary_search_by_key(&j, |&b| index(b)) {
                Ok(i) => {
                    if count(self.bins[i]) == COUNT_MAX {
                        self.halve();
                    }
                    self.bins[i] += 1;
                    return;
                }
                Err(i) if self.bins.len() < MAX_BINS => {
                    self.bins.insert(i, pack(j, 1));
                    return;
                }
                Err(_) => {
                    self.collapse();
                    j >>= 1;
                }
            }
        }
    }

    /// Halves every count, rounding up so no bucket empties.
    fn halve(&mut self) {
        for b in &mut self.bins {
            *b = pack(index(*b), count(*b).div_ceil(2));
        }
    }

    /// Merges neighbouring buckets pairwise, in place: bucket `j` becomes `j / 2`.
    fn collapse(&mut self) {
        while self.bins.iter().any(|&b| count(b) > COUNT_MAX / 2) {
            self.halve();
        }
        self.level += 1;
        let mut kept = 0;
        for r in 0..self.bins.len() {
            let (j, c) = (index(self.bins[r]) >> 1, count(self.bins[r]));
            if kept > 0 && index(self.bins[kept - 1]) == j {
                self.bins[kept - 1] += c;
            } else {
                self.bins[kept] = pack(j, c);
                kept += 1;
            }
        }
        self.bins.truncate(kept);
    }

    /// The median (nearest rank), or `None` when nothing was counted.
    pub(super) fn median(&self) -> Option<f64> {
        self.quantile(0.5)
    }

    /// The `q`-quantile (nearest rank) within the bound above, or `None` when nothing was counted.
    pub(super) fn quantile(&self, q: f64) -> Option<f64> {
        let n: u64 = self.bins.iter().map(|&b| u64::from(count(b))).sum();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        let mut j = index(self.bins[self.bins.len() - 1]);
        for &b in &self.bins {
            seen += u64::from(count(b));
            if seen >= rank {
                j = index(b);
                break;
            }
        }
        // The bucket spans base buckets first..=last, i.e. values in (MIN·γ^(first-1), MIN·γ^last].
        let width = 1i32 << self.level;
        let first = j as i32 * width;
        let low = MIN_MS * GAMMA.powi(first - 1);
        let high = MIN_MS * GAMMA.powi(first + width - 1);
        let estimate = 2.0 * low * high / (low + high);
        Some(estimate.clamp(f64::from(self.min), f64::from(self.max)))
    }

    /// Heap bytes held (for the memory bound's test).
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.bins.capacity() * std::mem::size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: impl IntoIterator<Item = f64>) -> HostLatency {
        let mut h = HostLatency::default();
        for v in values {
            h.add(v);
        }
        h
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(HostLatency::default().median(), None);
        assert_eq!(of([1.2]).median(), Some(f64::from(1.2f32)));
        assert_eq!(of([f64::NAN, -3.0]).median(), Some(0.0));
    }

    #[test]
    fn buckets_fit_eight_bits() {
        assert_eq!(base_bucket(1e7), LAST_BUCKET);
        assert_eq!(base_bucket(1e7 * 0.95), LAST_BUCKET);
        assert_eq!(base_bucket(1e7 / 1.1 * 0.99), LAST_BUCKET - 1);
        assert_eq!(base_bucket(f64::MAX), LAST_BUCKET);
    }

    #[test]
    fn median_within_five_percent_while_uncollapsed() {
        // 10..1000 ms occupies ~49 buckets: no collapse.
        let mut v = 10.0;
        let mut values = Vec::new();
        while v < 1000.0 {
            values.push(v);
            v *= 1.003;
        }
        let h = of(values.iter().copied());
        assert_eq!(h.level, 0);
        for q in [0.1, 0.5, 0.9, 0.99] {
            let truth = values[((q * values.len() as f64).ceil() as usize).max(1) - 1];
            let got = h.quantile(q).unwrap();
            assert!(
                (got - truth).abs() / truth <= 1.0 / 21.0 + 1e-9,
                "q{q}: {got} vs {truth}"
            );
        }
    }

    #[test]
    fn collapses_at_most_twice_and_stays_small() {
        // Every base bucket, 1 µs to 10,000 s, several times over.
        let mut values = Vec::new();
        let mut v = 0.0005;
        while v < 2e7 {
            values.push(v);
            v *= 1.02;
        }
        let h = of(values.iter().copied().chain(values.iter().copied()));
        assert_eq!(h.level, 2);
        assert!(h.bins.len() <= MAX_BINS);
        assert!(h.heap_bytes() <= MAX_BINS * 4, "{}", h.heap_bytes());
        let n = values.len();
        let truth = values[(n - 1) / 2];
        let got = h.median().unwrap();
        // γ⁴: (1.1⁴-1)/(1.1⁴+1) = 18.8 %.
        assert!((got - truth).abs() / truth <= 0.19, "{got} vs {truth}");
        // Counts survive the merges.
        let total: u32 = h.bins.iter().map(|&b| count(b)).sum();
        assert_eq!(total as usize, 2 * n);
    }

    #[test]
    fn one_collapse_keeps_ten_percent() {
        // 0.1 ms .. 1 s spans ~97 base buckets: one collapse, 9.5 %.
        let mut values = Vec::new();
        let mut v = 0.1;
        while v < 1000.0 {
            values.push(v);
            v *= 1.01;
        }
        let h = of(values.iter().copied());
        assert_eq!(h.level, 1);
        let truth = values[values.len().div_ceil(2) - 1];
        let got = h.median().unwrap();
        assert!((got - truth).abs() / truth <= 0.0953, "{got} vs {truth}");
    }

    #[test]
    fn a_full_count_halves_everything() {
        let mut h = of([1.0, 5.0]);
        let (a, b) = (h.bins[0], h.bins[1]);
        h.bins[0] = pack(index(a), COUNT_MAX);
        h.bins[1] = pack(index(b), 3);
        h.add(1.0);
        assert_eq!(count(h.bins[0]), COUNT_MAX.div_ceil(2) + 1);
        assert_eq!(count(h.bins[1]), 2);
        // Still the first bucket's median.
        assert_eq!(h.median(), of([1.0, 1.0, 5.0]).median());
        assert_eq!(h.median(), Some(1.0010982852381511));
    }
}
