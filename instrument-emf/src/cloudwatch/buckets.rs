//! Value compression: a distribution as distinct values with counts, bucketed when it has more
//! distinct values than one datum carries.
//!
//! PutMetricData takes at most [`MAX_VALUES_PER_DATUM`] distinct values per datum (`Values` with
//! `Counts`). A distribution with at most that many distinct values is sent exactly. One with
//! more is compressed into logarithmic value buckets (as in DDSketch): every value `v` is
//! replaced by its bucket's representative `r` with `|r - v| ≤ RELATIVE_ERROR · |v|`
//! ([`RELATIVE_ERROR`] = 1 %). Counts stay **exact**, so CloudWatch's `SampleCount` is exact and
//! every percentile it computes is within 1 % of the true one; `Minimum` and `Maximum` are kept
//! exact (each sent as a value of its own); `Sum` is within 1 %. Zero is a bucket of its own,
//! negative values mirror positive ones.
//!
//! With 1 % error a bucket spans a factor of 1.0202, so 150 buckets cover a factor of about 20;
//! a wider distribution becomes several datums (same metric, dimensions and timestamp), which
//! CloudWatch aggregates as one.

use std::collections::BTreeMap;

/// The most distinct values (and counts) one PutMetricData datum carries.
pub const MAX_VALUES_PER_DATUM: usize = 150;

/// The largest relative error of a compressed value: 1 %.
pub const RELATIVE_ERROR: f64 = 0.01;

/// A distribution as (value, count) pairs, sorted by value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Compressed {
    pub(crate) entries: Vec<(f64, f64)>,
    /// Whether every value is exact (no bucketing was needed).
    pub(crate) exact: bool,
}

/// Distinct values with their counts (`values` must be finite).
pub(crate) fn distinct(values: &[f64]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut out: Vec<(f64, f64)> = Vec::new();
    for v in sorted {
        // -0.0 and 0.0 are the same value to CloudWatch.
        let v = if v == 0.0 { 0.0 } else { v };
        match out.last_mut() {
            Some((last, count)) if *last == v => *count += 1.0,
            _ => out.push((v, 1.0)),
        }
    }
    out
}

/// `values` (finite) as distinct values with counts, bucketed when there are more than
/// [`MAX_VALUES_PER_DATUM`].
pub(crate) fn compress(values: &[f64]) -> Compressed {
    let exact = distinct(values);
    if exact.len() <= MAX_VALUES_PER_DATUM {
        return Compressed {
            entries: exact,
            exact: true,
        };
    }
    Compressed {
        entries: bucket(&exact),
        exact: false,
    }
}

/// γ = (1 + α) / (1 − α): bucket `i` holds `(γ^(i−1), γ^i]`, its representative `2γ^i / (γ+1)`
/// is within α of every value in it.
fn gamma() -> f64 {
    (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR)
}

/// Buckets sorted distinct (value, count) pairs; min and max stay exact.
fn bucket(exact: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let (Some(&(min, _)), Some(&(max, _))) = (exact.first(), exact.last()) else {
        return Vec::new();
    };
    let ln_gamma = gamma().ln();
    // Key: (sign, index); sign −1, 0, +1. BTreeMap orders negatives wrongly, so sort after.
    let mut buckets: BTreeMap<(i8, i64), f64> = BTreeMap::new();
    for (i, &(v, mut count)) in exact.iter().enumerate() {
        // The extremes are sent exactly, one count each.
        if i == 0 || i == exact.len() - 1 {
            count -= 1.0;
            if count == 0.0 {
                continue;
            }
        }
        let key = if v == 0.0 {
            (0, 0)
        } else {
            let index = (v.abs().ln() / ln_gamma).ceil() as i64;
            (if v > 0.0 { 1 } else { -1 }, index)
        };
        *buckets.entry(key).or_insert(0.0) += count;
    }
    let g = gamma();
    let mut out: Vec<(f64, f64)> = buckets
        .into_iter()
        .map(|((sign, index), count)| {
            let rep = match sign {
                0 => 0.0,
                s => f64::from(s) * 2.0 * g.powi(index as i32) / (g + 1.0),
            };
            // Within [min, max] (closer still to the values it stands for), so the exact
            // extremes stay CloudWatch's Minimum and Maximum.
            (rep.clamp(min, max), count)
        })
        .collect();
    out.push((min, 1.0));
    out.push((max, 1.0));
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Merge representatives that coincide with each other or with an extreme.
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(out.len());
    for (v, c) in out {
        match merged.last_mut() {
            Some((last, count)) if *last == v => *count += c,
            _ => merged.push((v, c)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(entries: &[(f64, f64)]) -> f64 {
        entries.iter().map(|(_, c)| c).sum()
    }

    #[test]
    fn up_to_150_distinct_values_are_exact() {
        for n in [1usize, 149, 150] {
            let values: Vec<f64> = (0..n).flat_map(|i| [i as f64, i as f64]).collect();
            let c = compress(&values);
            assert!(c.exact);
            assert_eq!(c.entries.len(), n);
            assert_eq!(total(&c.entries), 2.0 * n as f64);
            assert!(c.entries.iter().all(|(_, count)| *count == 2.0));
        }
    }

    #[test]
    fn the_151st_distinct_value_triggers_bucketing_with_exact_counts() {
        let values: Vec<f64> = (1..=151).map(f64::from).collect();
        let c = compress(&values);
        assert!(!c.exact);
        assert!(c.entries.len() <= MAX_VALUES_PER_DATUM);
        assert_eq!(total(&c.entries), 151.0);
        assert_eq!(c.entries.first().map(|e| e.0), Some(1.0));
        assert_eq!(c.entries.last().map(|e| e.0), Some(151.0));
    }

    #[test]
    fn extremes_stay_exact_when_their_bucket_has_other_values() {
        let values: Vec<f64> = (0..1_000).map(|i| 0.1 * 1.002_f64.powi(i)).collect();
        let c = compress(&values);
        assert_eq!(c.entries.first().map(|e| e.0), Some(0.1));
        assert_eq!(c.entries.last().map(|e| e.0), values.last().copied());
        assert_eq!(total(&c.entries), 1_000.0);
    }

    #[test]
    fn every_value_is_within_one_percent_of_its_representative() {
        // 10,000 distinct values over nine orders of magnitude, both signs and zero.
        let mut values: Vec<f64> = (0..5_000)
            .map(|i| 1e-3 * 1.004_f64.powi(i))
            .flat_map(|v| [v, -v])
            .collect();
        values.push(0.0);
        let c = compress(&values);
        assert!(!c.exact);
        assert_eq!(total(&c.entries), values.len() as f64);
        let reps: Vec<f64> = c.entries.iter().map(|e| e.0).collect();
        for v in &values {
            let nearest = reps
                .iter()
                .map(|r| (r - v).abs())
                .fold(f64::INFINITY, f64::min);
            assert!(
                nearest <= RELATIVE_ERROR * v.abs() + f64::EPSILON,
                "{v} has no representative within 1 %"
            );
        }
    }

    #[test]
    fn percentiles_from_buckets_stay_within_one_percent() {
        // Latencies: a skewed distribution with 20,000 distinct values.
        let values: Vec<f64> = (1..=20_000)
            .map(|i| 0.5 + (f64::from(i) / 20_000.0).powi(3) * 2_000.0)
            .collect();
        let c = compress(&values);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for p in [0.5, 0.9, 0.99, 0.999] {
            let rank = (p * values.len() as f64).ceil();
            let truth = sorted[rank as usize - 1];
            let mut seen = 0.0;
            let estimate = c
                .entries
                .iter()
                .find(|(_, count)| {
                    seen += count;
                    seen >= rank
                })
                .map(|e| e.0)
                .unwrap_or(f64::NAN);
            assert!(
                (estimate - truth).abs() <= RELATIVE_ERROR * truth,
                "p{p}: {estimate} vs {truth}"
            );
        }
        let sum: f64 = values.iter().sum();
        let estimated: f64 = c.entries.iter().map(|(v, n)| v * n).sum();
        assert!((estimated - sum).abs() <= RELATIVE_ERROR * sum);
    }

    #[test]
    fn negative_zero_is_zero() {
        let c = compress(&[0.0, -0.0, 1.0]);
        assert_eq!(c.entries, vec![(0.0, 2.0), (1.0, 1.0)]);
    }
}
