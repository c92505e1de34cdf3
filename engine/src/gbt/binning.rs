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

    /// Boundaries from a feature's values: distinct values each get a bin when there are few
    /// enough, otherwise greedy equal-count (quantile) bins over the distinct values; bounds lie
    /// halfway between neighbouring distinct values, as LightGBM places them.
    pub fn fit(values: &[f64], max_bin: usize) -> BinMapper {
        let mut v: Vec<f64> = values.iter().filter(|x| !x.is_nan()).map(|&x| clamp_inf(x)).collect();
        v.sort_by(f64::total_cmp);
        // Distinct values and their counts (−0.0 and 0.0 are one value).
        let mut distinct: Vec<(f64, usize)> = Vec::new();
        for &x in &v {
            match distinct.last_mut() {
                Some((d, c)) if *d == x => *c += 1,
                _ => distinct.push((x, 1)),
            }
        }
        if distinct.len() <= 1 {
            return BinMapper { upper: vec![f64::MAX] };
        }
        let mut upper = Vec::new();
        if distinct.len() <= max_bin {
            for w in distinct.windows(2) {
                upper.push(midpoint(w[0].0, w[1].0));
            }
        } else {
            // Greedy: close a bin once it holds its share of the remaining rows.
            let mut remaining = v.len();
            let mut bins_left = max_bin;
            let mut acc = 0usize;
            for i in 0..distinct.len() - 1 {
                acc += distinct[i].1;
                let target = remaining as f64 / bins_left as f64;
                let full = acc as f64 >= target;
                if full && bins_left > 1 {
                    upper.push(midpoint(distinct[i].0, distinct[i + 1].0));
                    remaining -= acc;
                    bins_left -= 1;
                    acc = 0;
                }
            }
        }
        upper.push(f64::MAX);
        BinMapper { upper }
    }
}

fn clamp_inf(v: f64) -> f64 {
    v.clamp(f64::MIN, f64::MAX)
}

/// A finite number `m` with `a <= m < b` (for finite `a < b`).
fn midpoint(a: f64, b: f64) -> f64 {
    let m = a / 2.0 + b / 2.0;
    if m >= b || m < a {
        a
    } else {
        m
    }
}

/// The training features as bins, column-major.
#[derive(Clone, Debug)]
pub struct BinnedDataset {
    pub mappers: Vec<BinMapper>,
    /// `bins[j][i]`: bin of feature `j` at row `i`.
    pub bins: Vec<Vec<u8>>,
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
        let bins = x.columns.iter().zip(&mappers).map(|(c, m)| c.iter().map(|&v| m.bin(v)).collect()).collect();
        let mut offsets = Vec::with_capacity(mappers.len());
        let mut total = 0;
        for m in &mappers {
            offsets.push(total);
            total += m.n_bins();
        }
        BinnedDataset { mappers, bins, offsets, total_bins: total, rows: x.rows() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_values_get_own_bins() {
        let m = BinMapper::fit(&[1.0, 2.0, 2.0, 3.0, f64::NAN], 255);
        assert_eq!(m.upper, vec![1.5, 2.5, f64::MAX]);
        assert_eq!(m.bin(1.0), 0);
        assert_eq!(m.bin(1.5), 0);
        assert_eq!(m.bin(2.0), 1);
        assert_eq!(m.bin(100.0), 2);
        assert_eq!(m.bin(f64::INFINITY), 2);
        assert_eq!(m.bin(f64::NEG_INFINITY), 0);
        assert_eq!(m.bin(f64::NAN), 3);
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
