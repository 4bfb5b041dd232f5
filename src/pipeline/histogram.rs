//! Milliseconds in a fixed-size histogram: a live run of any length keeps the same memory.
//! Buckets grow by 2% from a microsecond to a thousand seconds, so a percentile read from it is
//! within 1% of the exact one; the mean, minimum and maximum are exact.

use super::Percentiles;

const LOWEST_MS: f64 = 0.001;
/// Each bucket is this much wider than the one before.
const GROWTH: f64 = 1.02;
/// Enough buckets to reach 1e6 ms: ln(1e9) / ln(1.02) ≈ 1047.
const BUCKETS: usize = 1048;

/// Counts of samples by logarithmic bucket.
#[derive(Debug, Clone)]
pub struct MillisHistogram {
    counts: Box<[u32; BUCKETS]>,
    total: u64,
    sum: f64,
    min: f32,
    max: f32,
}

impl Default for MillisHistogram {
    fn default() -> Self {
        Self { counts: Box::new([0; BUCKETS]), total: 0, sum: 0.0, min: f32::MAX, max: f32::MIN }
    }
}

fn bucket_of(ms: f32) -> usize {
    let ms = f64::from(ms);
    if ms <= LOWEST_MS || ms.is_nan() {
        return 0;
    }
    (((ms / LOWEST_MS).ln() / GROWTH.ln()).floor() as usize + 1).min(BUCKETS - 1)
}

/// The middle (geometric) of bucket `index`.
fn value_of(index: usize) -> f64 {
    if index == 0 {
        return LOWEST_MS;
    }
    LOWEST_MS * GROWTH.powf(index as f64 - 0.5)
}

impl MillisHistogram {
    /// Adds one sample.
    pub fn record(&mut self, ms: f32) {
        let slot = &mut self.counts[bucket_of(ms)];
        *slot = slot.saturating_add(1);
        self.total += 1;
        self.sum += f64::from(ms);
        self.min = self.min.min(ms);
        self.max = self.max.max(ms);
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Nearest-rank percentiles (within a bucket's width), the exact mean; zeros when empty.
    pub fn percentiles(&self) -> Percentiles {
        if self.total == 0 {
            return Percentiles::default();
        }
        let rank = |p: f64| -> f32 {
            let wanted = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
            let mut seen = 0u64;
            for (index, &count) in self.counts.iter().enumerate() {
                seen += u64::from(count);
                if seen >= wanted {
                    return (value_of(index) as f32).clamp(self.min, self.max);
                }
            }
            self.max
        };
        Percentiles { p50: rank(50.0), p95: rank(95.0), p99: rank(99.0), mean: (self.sum / self.total as f64) as f32 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_a_percent_and_memory_is_fixed() {
        let mut histogram = MillisHistogram::default();
        let mut exact: Vec<f32> = (1..=10_000).map(|i| i as f32 * 0.37).collect();
        for &v in &exact {
            histogram.record(v);
        }
        let (got, want) = (histogram.percentiles(), Percentiles::of(&mut exact));
        for (g, w) in [(got.p50, want.p50), (got.p95, want.p95), (got.p99, want.p99)] {
            assert!((g - w).abs() / w < 0.01, "{g} vs {w}");
        }
        assert!((got.mean - want.mean).abs() / want.mean < 1e-4, "{} vs {}", got.mean, want.mean);
        let size = std::mem::size_of_val(&*histogram.counts);
        for _ in 0..100_000 {
            histogram.record(12.5);
        }
        assert_eq!(std::mem::size_of_val(&*histogram.counts), size);
        assert_eq!(histogram.count(), 110_000);
        assert_eq!(MillisHistogram::default().percentiles(), Percentiles::default());
    }
}
