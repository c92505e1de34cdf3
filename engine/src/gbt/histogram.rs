//! Per-leaf histograms: for every feature and bin, the sums of gradients and hessians and the
//! row count of the leaf's rows that fall in it. Sums are f64 in row order, so a histogram is a
//! pure function of the rows' order.

use super::binning::BinnedDataset;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HistBin {
    pub g: f64,
    pub h: f64,
    pub n: u32,
}

/// A flat histogram over all features' bins (see [`BinnedDataset::offsets`]).
pub type Histogram = Vec<HistBin>;

/// Builds the histogram of `rows` into `out` (cleared first) for the features in `features`;
/// the others' bins are left at zero. `g`/`h` are indexed by row.
pub fn build(data: &BinnedDataset, rows: &[u32], g: &[f64], h: &[f64], features: &[usize], out: &mut Histogram) {
    out.clear();
    out.resize(data.total_bins, HistBin::default());
    let slots: Vec<usize> = features.iter().map(|&f| data.offsets[f]).collect();
    // Row by row: each bin still sums its rows in row order, so the result equals the
    // feature-by-feature loop's, bit for bit.
    for &r in rows {
        let (gi, hi) = (g[r as usize], h[r as usize]);
        let bins = data.row(r as usize);
        for (&f, &at) in features.iter().zip(&slots) {
            let b = &mut out[at + bins[f] as usize];
            b.g += gi;
            b.h += hi;
            b.n += 1;
        }
    }
}

/// `parent -= child`, in place: the parent's buffer becomes the sibling's histogram.
pub fn subtract(parent: &mut Histogram, child: &Histogram) {
    for (p, c) in parent.iter_mut().zip(child) {
        p.g -= c.g;
        p.h -= c.h;
        p.n -= c.n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gbt::ColumnMatrix;

    #[test]
    fn subtraction_equals_direct_build() {
        let n = 500;
        let names: Vec<String> = (0..3).map(|j| format!("f{j}")).collect();
        let cols: Vec<Vec<f64>> = (0..3)
            .map(|j| {
                (0..n)
                    .map(|i| if (i * (j + 3)) % 17 == 0 { f64::NAN } else { ((i * 31 + j * 7) % 97) as f64 })
                    .collect()
            })
            .collect();
        let x = ColumnMatrix::new(&names, &cols).unwrap();
        let data = BinnedDataset::fit(&x, 16).unwrap();
        // Gradients that are exact binary fractions, so both ways sum exactly.
        let g: Vec<f64> = (0..n).map(|i| ((i % 13) as f64 - 6.0) / 8.0).collect();
        let h: Vec<f64> = (0..n).map(|i| ((i % 5) as f64 + 1.0) / 16.0).collect();
        let all: Vec<u32> = (0..n as u32).collect();
        let left: Vec<u32> = all.iter().copied().filter(|r| r % 3 == 0).collect();
        let right: Vec<u32> = all.iter().copied().filter(|r| r % 3 != 0).collect();
        let feats = [0, 1, 2];
        let (mut parent, mut l, mut r) = (Vec::new(), Vec::new(), Vec::new());
        build(&data, &all, &g, &h, &feats, &mut parent);
        build(&data, &left, &g, &h, &feats, &mut l);
        build(&data, &right, &g, &h, &feats, &mut r);
        subtract(&mut parent, &l);
        assert_eq!(parent, r);
        assert_eq!(r.iter().map(|b| b.n as usize).sum::<usize>(), right.len() * 3);
    }
}
