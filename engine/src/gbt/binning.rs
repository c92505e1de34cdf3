//! Quantile binning: each feature's values map to at most `max_bin` value bins (`u8`), plus one
//! bin for missing values (`NaN`), always the last. Bin `b` holds values `v` with
//! `upper[b-1] < v <= upper[b]`; a split "bin ≤ b goes left" is the raw-value test
//! `v <= upper[b]`, so training (on bins) and prediction (on values) agree exactly.
//! Infinities are clamped to `±f64::MAX` so that every threshold is a finite JSON number.

use super::{ColumnMatrix, GbtError};

/// One feature's bin boundaries.
#[derive(Clone, Debug, PartialEq)]
pub struct BinMapper {
    /// Inclusive upper bound of each value bin; the last is `f64::MAX`.
    pub upper: Vec<f64>,
}

impl BinMapper {
    /// Number of value bins; the missing bin has this index.
    pub fn n_value_bins(&self) -> usize {
        self.upper.len()
    }

    pub fn missing_bin(&self) -> u8 {
        self.upper.len() as u8
    }

    /// Total bins including the missing bin.
    pub fn n_bins(&self) -> usize {
        self.upper.len() + 1
    }

    pub fn bin(&self, v: f64) -> u8 {
        if v.is_nan() {
            return self.missing_bin();
        }
        let v = clamp_inf(v);
        // First bin whose upper bound is ≥ v.
        let i = self.upper.partition_point(|&u| u < v);
        i.min(self.upper.len() - 1) as u8
    }

    /// Boundaries from a feature's values, as LightGBM 4 builds them (`BinMapper::FindBin` with
    /// `FindBinWithZeroAsOneBin` and `GreedyFindBin`, `min_data_in_bin` 3): zero gets its own bin
    /// bounded by `±1e-35`; the negative and positive values share the other bins in proportion
    /// to their counts; within each side, few distinct values each get a bin (merging values
    /// until a bin holds at least 3 rows), otherwise greedy equal-count bins in which very
    /// frequent values get bins of their own. When the feature has missing values, the missing
    /// bin counts against `max_bin`. Bounds lie halfway between neighbouring distinct values.
    pub fn fit(values: &[f64], max_bin: usize) -> BinMapper {
        let mut v: Vec<f64> = values.iter().filter(|x| !x.is_nan()).map(|&x| clamp_inf(x)).collect();
        let na_cnt = values.len() - v.len();
        v.sort_by(f64::total_cmp);
        // Distinct values and their counts (−0.0 and 0.0 are one value).
        let mut distinct: Vec<(f64, usize)> = Vec::new();
        // Values within one ulp of the previous one are one distinct value (LightGBM keeps the
        // larger).
        for &x in &v {
            match distinct.last_mut() {
                Some((d, c)) if equal_ordered(*d, x) => {
                    *d = x;
                    *c += 1;
                }
                _ => distinct.push((x, 1)),
            }
        }
        if distinct.len() <= 1 {
            return BinMapper { upper: vec![f64::MAX] };
        }
        let value_bins = if na_cnt > 0 { max_bin - 1 } else { max_bin };
        let mut upper = find_bin_zero_as_one_bin(&distinct, value_bins.max(1), v.len());
        if let Some(last) = upper.last_mut() {
            *last = f64::MAX;
        }
        BinMapper { upper }
    }
}

/// LightGBM's `kZeroThreshold`: values within it of zero are zero.
const ZERO_THRESHOLD: f64 = 1e-35;
/// LightGBM's default `min_data_in_bin`.
const MIN_DATA_IN_BIN: usize = 3;

/// LightGBM's `FindBinWithZeroAsOneBin`; the last bound is `+∞`.
fn find_bin_zero_as_one_bin(distinct: &[(f64, usize)], max_bin: usize, total: usize) -> Vec<f64> {
    let (mut left_data, mut zero_data) = (0usize, 0usize);
    for &(x, c) in distinct {
        if x <= -ZERO_THRESHOLD {
            left_data += c;
        } else if x <= ZERO_THRESHOLD {
            zero_data += c;
        }
    }
    let right_data = total - left_data - zero_data;
    let left_cnt = distinct.iter().position(|&(x, _)| x > -ZERO_THRESHOLD).unwrap_or(distinct.len());
    let mut upper: Vec<f64> = Vec::new();
    if left_cnt > 0 && max_bin > 1 {
        let left_max_bin = ((left_data as f64 / (total - zero_data) as f64 * (max_bin - 1) as f64) as usize).max(1);
        upper = greedy_find_bin(&distinct[..left_cnt], left_max_bin, left_data);
        if let Some(last) = upper.last_mut() {
            *last = -ZERO_THRESHOLD;
        }
    }
    let right_start = distinct[left_cnt..].iter().position(|&(x, _)| x > ZERO_THRESHOLD).map(|i| i + left_cnt);
    let right_max_bin = (max_bin as i64) - 1 - upper.len() as i64;
    match right_start {
        Some(rs) if right_max_bin > 0 => {
            let right = greedy_find_bin(&distinct[rs..], right_max_bin as usize, right_data);
            upper.push(ZERO_THRESHOLD);
            upper.extend(right);
        }
        _ => upper.push(f64::INFINITY),
    }
    upper
}

/// LightGBM's `GreedyFindBin` over sorted distinct values; the last bound is `+∞`.
fn greedy_find_bin(distinct: &[(f64, usize)], max_bin: usize, total: usize) -> Vec<f64> {
    let nd = distinct.len();
    let mut out: Vec<f64> = Vec::new();
    let push = |out: &mut Vec<f64>, val: f64| {
        if out.last().is_none_or(|&b| !equal_ordered(b, val)) {
            out.push(val);
        }
    };
    if nd <= max_bin {
        let mut cur = 0usize;
        for i in 0..nd - 1 {
            cur += distinct[i].1;
            if cur >= MIN_DATA_IN_BIN {
                let val = midpoint(distinct[i].0, distinct[i + 1].0);
                if out.last().is_none_or(|&b| !equal_ordered(b, val)) {
                    out.push(val);
                    cur = 0;
                }
            }
        }
    } else if max_bin > 1 {
        let max_bin = max_bin.min(total / MIN_DATA_IN_BIN).max(1);
        let mut mean_bin_size = total as f64 / max_bin as f64;
        let mut rest_bin_cnt = max_bin as i64;
        let mut rest_sample_cnt = total as i64;
        let big: Vec<bool> = distinct.iter().map(|&(_, c)| c as f64 >= mean_bin_size).collect();
        for (i, &b) in big.iter().enumerate() {
            if b {
                rest_bin_cnt -= 1;
                rest_sample_cnt -= distinct[i].1 as i64;
            }
        }
        mean_bin_size = rest_sample_cnt as f64 / rest_bin_cnt as f64;
        let mut uppers = vec![f64::INFINITY; max_bin + 1];
        let mut lowers = vec![f64::INFINITY; max_bin + 1];
        let mut bin_cnt = 0usize;
        lowers[0] = distinct[0].0;
        let mut cur = 0usize;
        for i in 0..nd - 1 {
            if !big[i] {
                rest_sample_cnt -= distinct[i].1 as i64;
            }
            cur += distinct[i].1;
            if big[i] || cur as f64 >= mean_bin_size || (big[i + 1] && cur as f64 >= (mean_bin_size * 0.5).max(1.0)) {
                uppers[bin_cnt] = distinct[i].0;
                bin_cnt += 1;
                lowers[bin_cnt] = distinct[i + 1].0;
                if bin_cnt + 1 >= max_bin {
                    break;
                }
                cur = 0;
                if !big[i] {
                    rest_bin_cnt -= 1;
                    mean_bin_size = rest_sample_cnt as f64 / rest_bin_cnt as f64;
                }
            }
        }
        bin_cnt += 1;
        for i in 0..bin_cnt - 1 {
            push(&mut out, midpoint(uppers[i], lowers[i + 1]));
        }
    }
    out.push(f64::INFINITY);
    out
}

fn clamp_inf(v: f64) -> f64 {
    v.clamp(f64::MIN, f64::MAX)
}

/// LightGBM's bound between neighbouring distinct values `a < b`: one step above their mean
/// (`GetDoubleUpperBound`), so it can equal `b` when they are a couple of ulps apart (then `b`
/// shares `a`'s bin, as in LightGBM). Always finite and `>= a`.
fn midpoint(a: f64, b: f64) -> f64 {
    let m = (a + b) / 2.0;
    let m = if m.is_finite() { m } else { a / 2.0 + b / 2.0 };
    let u = m.next_up();
    if u.is_finite() && u >= a {
        u
    } else {
        a
    }
}

/// LightGBM's `CheckDoubleEqualOrdered(a, b)` for `a <= b`: equal to within one ulp.
fn equal_ordered(a: f64, b: f64) -> bool {
    b <= a.next_up()
}

/// The training features as bins, row-major: a leaf's histogram, its partition and the trees'
/// walks read a row's bins from one cache line instead of one line per feature (histograms of
/// deep leaves, whose rows are scattered, took half of a sweep's time column-major).
#[derive(Clone, Debug)]
pub struct BinnedDataset {
    pub mappers: Vec<BinMapper>,
    /// `bins[i * features + j]`: bin of feature `j` at row `i`.
    bins: Vec<u8>,
    features: usize,
    /// Offset of each feature's first bin in a flat histogram.
    pub offsets: Vec<usize>,
    pub total_bins: usize,
    pub rows: usize,
}

impl BinnedDataset {
    pub fn fit(x: &ColumnMatrix, max_bin: usize) -> Result<Self, GbtError> {
        x.check()?;
        let mappers: Vec<BinMapper> = x.columns.iter().map(|c| BinMapper::fit(c, max_bin)).collect();
        Ok(Self::with_mappers(x, mappers))
    }

    pub fn with_mappers(x: &ColumnMatrix, mappers: Vec<BinMapper>) -> Self {
        let (rows, features) = (x.rows(), mappers.len());
        let mut bins = vec![0u8; rows * features];
        for (j, (c, m)) in x.columns.iter().zip(&mappers).enumerate() {
            for (row, &v) in bins.chunks_exact_mut(features).zip(c.iter()) {
                row[j] = m.bin(v);
            }
        }
        let mut offsets = Vec::with_capacity(mappers.len());
        let mut total = 0;
        for m in &mappers {
            offsets.push(total);
            total += m.n_bins();
        }
        BinnedDataset { mappers, bins, features, offsets, total_bins: total, rows }
    }

    /// The bins of row `i`, one per feature.
    pub fn row(&self, i: usize) -> &[u8] {
        &self.bins[i * self.features..(i + 1) * self.features]
    }

    /// The bin of feature `j` at row `i`.
    pub fn bin(&self, i: usize, j: usize) -> u8 {
        self.bins[i * self.features + j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_values_get_own_bins() {
        // As LightGBM: zero has its own bin (upper bound 1e-35), each distinct value with at
        // least 3 rows gets a bin, bounds one ulp above the midpoints.
        let m = BinMapper::fit(&[1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, f64::NAN], 255);
        assert_eq!(m.upper, vec![1e-35, 1.5f64.next_up(), 2.5f64.next_up(), f64::MAX]);
        assert_eq!(m.bin(0.0), 0);
        assert_eq!(m.bin(1.0), 1);
        assert_eq!(m.bin(1.5), 1);
        assert_eq!(m.bin(2.0), 2);
        assert_eq!(m.bin(100.0), 3);
        assert_eq!(m.bin(f64::INFINITY), 3);
        assert_eq!(m.bin(f64::NEG_INFINITY), 0);
        assert_eq!(m.bin(f64::NAN), 4);
        // A value with fewer than 3 rows shares the next value's bin (min_data_in_bin).
        let m = BinMapper::fit(&[-1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0], 255);
        assert_eq!(m.upper, vec![-1e-35, 1e-35, 2.5f64.next_up(), f64::MAX]);
    }

    #[test]
    fn quantile_bins_are_balanced() {
        let v: Vec<f64> = (0..10_000).map(|i| ((i * 7919) % 10_000) as f64).collect();
        let m = BinMapper::fit(&v, 100);
        assert!(m.n_value_bins() <= 100 && m.n_value_bins() >= 95, "{}", m.n_value_bins());
        let mut counts = vec![0usize; m.n_bins()];
        for &x in &v {
            counts[m.bin(x) as usize] += 1;
        }
        let max = *counts[..m.n_value_bins()].iter().max().unwrap();
        assert!(max <= 110, "max bin count {max}");
    }

    #[test]
    fn constant_feature_has_one_bin() {
        let m = BinMapper::fit(&[5.0; 10], 255);
        assert_eq!(m.n_value_bins(), 1);
        assert_eq!(m.bin(f64::NAN), 1);
    }
}
