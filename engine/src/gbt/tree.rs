//! One regression tree on gradients: its nodes, prediction, and leaf-wise (best-first) growth.
//!
//! Growth follows LightGBM: the leaf whose best split has the largest gain is split next, until
//! `max_leaves` leaves exist or no split gains more than `min_gain_to_split`. A split's gain is
//! `L(left) + L(right) − L(parent)` with `L(G, H) = T(G)² / (H + λ2)`, `T` the L1
//! soft-threshold; with monotone constraints each leaf carries output bounds and the gain is
//! evaluated at the clamped outputs (LightGBM's "basic" method). Each split tries sending the
//! missing-value bin left and right and keeps the better default direction. As in LightGBM,
//! thresholds are scanned from the top bin down (missing left) and then from the bottom up
//! (missing right), equal gains go to the earlier candidate, and the row counts checked against
//! `min_data_in_leaf` are estimated from the bins' hessians (`round(h · n / H)` per bin).

use serde::{Deserialize, Serialize};

use super::binning::BinnedDataset;
use super::histogram::{self, HistBin, Histogram};
use super::TrainParams;

/// A node; a leaf when `feature < 0`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub feature: i32,
    /// Rows with `value <= threshold` go left.
    pub threshold: f64,
    /// The same split in training bins: `bin <= this` goes left.
    pub bin: u8,
    /// Where missing values (`NaN`) go.
    pub default_left: bool,
    pub left: u32,
    pub right: u32,
    /// Output (already multiplied by the learning rate); for internal nodes, what the node
    /// would output as a leaf.
    pub value: f64,
    /// Split gain (0 for leaves).
    pub gain: f64,
    /// Sum of hessians of the training rows that reached the node.
    pub cover: f64,
    pub count: u32,
}

impl Node {
    pub fn is_leaf(&self) -> bool {
        self.feature < 0
    }

    fn leaf(value: f64, cover: f64, count: u32) -> Node {
        Node {
            feature: -1,
            threshold: 0.0,
            bin: 0,
            default_left: false,
            left: 0,
            right: 0,
            value,
            gain: 0.0,
            cover,
            count,
        }
    }

    /// Whether a raw value goes left.
    #[inline]
    pub fn goes_left(&self, v: f64) -> bool {
        if v.is_nan() {
            self.default_left
        } else {
            v.min(f64::MAX) <= self.threshold
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Node 0 is the root.
    pub nodes: Vec<Node>,
}

impl Tree {
    /// Index of the leaf a row reaches; `get(j)` is the row's feature `j`.
    #[inline]
    pub fn leaf_of(&self, get: impl Fn(usize) -> f64) -> usize {
        let mut i = 0usize;
        loop {
            let n = &self.nodes[i];
            if n.is_leaf() {
                return i;
            }
            i = if n.goes_left(get(n.feature as usize)) { n.left } else { n.right } as usize;
        }
    }

    pub fn predict(&self, get: impl Fn(usize) -> f64) -> f64 {
        self.nodes[self.leaf_of(get)].value
    }

    /// The leaf a training row reaches, on bins.
    pub(crate) fn leaf_of_binned(&self, data: &BinnedDataset, row: usize) -> usize {
        let mut i = 0usize;
        loop {
            let n = &self.nodes[i];
            if n.is_leaf() {
                return i;
            }
            let f = n.feature as usize;
            let b = data.bin(row, f);
            let left = if b == data.mappers[f].missing_bin() { n.default_left } else { b <= n.bin };
            i = if left { n.left } else { n.right } as usize;
        }
    }

    pub fn n_leaves(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_leaf()).count()
    }

    pub fn depth(&self) -> usize {
        fn d(t: &Tree, i: usize) -> usize {
            let n = &t.nodes[i];
            if n.is_leaf() {
                0
            } else {
                1 + d(t, n.left as usize).max(d(t, n.right as usize))
            }
        }
        d(self, 0)
    }
}

#[inline]
fn threshold_l1(g: f64, l1: f64) -> f64 {
    if l1 <= 0.0 {
        g
    } else if g > l1 {
        g - l1
    } else if g < -l1 {
        g + l1
    } else {
        0.0
    }
}

/// The unshrunk optimal output of a leaf, clamped to `[lo, hi]`.
#[inline]
pub(crate) fn leaf_output(g: f64, h: f64, p: &TrainParams, lo: f64, hi: f64) -> f64 {
    let o = -threshold_l1(g, p.lambda_l1) / (h + p.lambda_l2);
    o.clamp(lo, hi)
}

#[inline]
fn gain_at(g: f64, h: f64, p: &TrainParams, out: f64) -> f64 {
    let sg = threshold_l1(g, p.lambda_l1);
    -(2.0 * sg * out + (h + p.lambda_l2) * out * out)
}

#[inline]
fn gain_free(g: f64, h: f64, l1: f64, l2: f64) -> f64 {
    let sg = threshold_l1(g, l1);
    sg * sg / (h + l2)
}

#[derive(Clone, Copy, Debug)]
struct Split {
    feature: usize,
    bin: u8,
    default_left: bool,
    gain: f64,
    lg: f64,
    lh: f64,
    rg: f64,
    rh: f64,
    lout: f64,
    rout: f64,
}

struct Leaf {
    node: usize,
    start: usize,
    len: usize,
    g: f64,
    h: f64,
    depth: u32,
    lo: f64,
    hi: f64,
    best: Option<Split>,
    hist: Option<Histogram>,
}

/// Reusable buffers for growing trees over one dataset.
#[derive(Default)]
pub(crate) struct Grower {
    tmp: Vec<u32>,
    pool: Vec<Histogram>,
}

/// A grown tree and, per leaf, its node and its rows' range in the partitioned row buffer.
pub(crate) struct Grown {
    pub tree: Tree,
    pub leaves: Vec<(usize, usize, usize)>,
}

impl Grower {
    /// Grows one tree on the rows in `rows` (reordered in place into per-leaf ranges) using only
    /// the features in `features` (ascending). Leaf values are multiplied by the learning rate.
    pub fn grow(
        &mut self,
        data: &BinnedDataset,
        g: &[f64],
        h: &[f64],
        rows: &mut [u32],
        features: &[usize],
        p: &TrainParams,
    ) -> Grown {
        let constrained = p.monotone_constraints.iter().any(|&c| c != 0);
        let (mut sg, mut sh) = (0.0, 0.0);
        for &r in rows.iter() {
            sg += g[r as usize];
            sh += h[r as usize];
        }
        let n_rows = rows.len();
        let mut hist = self.pool.pop().unwrap_or_default();
        histogram::build(data, rows, g, h, features, &mut hist);
        let root_out = leaf_output(sg, sh, p, f64::NEG_INFINITY, f64::INFINITY);
        let mut nodes = vec![Node::leaf(root_out * p.learning_rate, sh, n_rows as u32)];
        let mut leaves = vec![Leaf {
            node: 0,
            start: 0,
            len: n_rows,
            g: sg,
            h: sh,
            depth: 0,
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
            best: None,
            hist: None,
        }];
        leaves[0].best = best_split(data, &hist, features, &leaves[0], n_rows as u32, p, constrained);
        leaves[0].hist = Some(hist);

        while leaves.len() < p.max_leaves {
            // The leaf with the largest gain; ties go to the lowest index.
            let mut pick: Option<(usize, f64)> = None;
            for (i, l) in leaves.iter().enumerate() {
                if let Some(s) = &l.best {
                    if s.gain > 0.0 && pick.is_none_or(|(_, g)| s.gain > g) {
                        pick = Some((i, s.gain));
                    }
                }
            }
            let Some((li, _)) = pick else { break };
            let Some(s) = leaves[li].best.take() else { break };
            let (start, len, depth, lo, hi, node) = {
                let l = &leaves[li];
                (l.start, l.len, l.depth, l.lo, l.hi, l.node)
            };

            // Stable partition of the leaf's rows: left rows first, then right rows.
            let miss = data.mappers[s.feature].missing_bin();
            let seg = &mut rows[start..start + len];
            self.tmp.clear();
            let mut nl = 0;
            for i in 0..seg.len() {
                let r = seg[i];
                let b = data.bin(r as usize, s.feature);
                let left = if b == miss { s.default_left } else { b <= s.bin };
                if left {
                    seg[nl] = r;
                    nl += 1;
                } else {
                    self.tmp.push(r);
                }
            }
            seg[nl..].copy_from_slice(&self.tmp);

            // Output bounds of the children (basic monotone method).
            let (mut llo, mut lhi, mut rlo, mut rhi) = (lo, hi, lo, hi);
            let mono = p.monotone_constraints.get(s.feature).copied().unwrap_or(0);
            if mono != 0 {
                let mid = (s.lout + s.rout) / 2.0;
                if mono > 0 {
                    lhi = lhi.min(mid);
                    rlo = rlo.max(mid);
                } else {
                    llo = llo.max(mid);
                    rhi = rhi.min(mid);
                }
            }

            let li_node = nodes.len();
            let ri_node = li_node + 1;
            let lval = leaf_output(s.lg, s.lh, p, llo, lhi);
            let rval = leaf_output(s.rg, s.rh, p, rlo, rhi);
            nodes.push(Node::leaf(lval * p.learning_rate, s.lh, nl as u32));
            nodes.push(Node::leaf(rval * p.learning_rate, s.rh, (len - nl) as u32));
            {
                let n = &mut nodes[node];
                n.feature = s.feature as i32;
                n.bin = s.bin;
                n.threshold = data.mappers[s.feature].upper[s.bin as usize];
                n.default_left = s.default_left;
                n.left = li_node as u32;
                n.right = ri_node as u32;
                n.gain = s.gain;
            }

            let mut parent_hist = leaves[li].hist.take().unwrap_or_default();
            let mk = |node, start, len, g, h, lo, hi| Leaf {
                node,
                start,
                len,
                g,
                h,
                depth: depth + 1,
                lo,
                hi,
                best: None,
                hist: None,
            };
            let mut left = mk(li_node, start, nl, s.lg, s.lh, llo, lhi);
            let mut right = mk(ri_node, start + nl, len - nl, s.rg, s.rh, rlo, rhi);
            let can_split = |l: &Leaf| {
                l.len >= 2 * p.min_data_in_leaf.max(1) && (p.max_depth <= 0 || (l.depth as i64) < p.max_depth as i64)
            };
            if can_split(&left) || can_split(&right) {
                let mut small = self.pool.pop().unwrap_or_default();
                let left_smaller = left.len <= right.len;
                let (srange, sleaf_len) = if left_smaller { (left.start, left.len) } else { (right.start, right.len) };
                histogram::build(data, &rows[srange..srange + sleaf_len], g, h, features, &mut small);
                histogram::subtract(&mut parent_hist, &small);
                let (sh_, lh_) = (small, parent_hist);
                let (lhist, rhist) = if left_smaller { (sh_, lh_) } else { (lh_, sh_) };
                for (leaf, hst) in [(&mut left, lhist), (&mut right, rhist)] {
                    if can_split(leaf) {
                        leaf.best = best_split(data, &hst, features, leaf, leaf.len as u32, p, constrained);
                    }
                    if leaf.best.is_some() {
                        leaf.hist = Some(hst);
                    } else {
                        self.pool.push(hst);
                    }
                }
            } else {
                self.pool.push(parent_hist);
            }
            leaves[li] = left;
            leaves.push(right);
        }
        let mut out = Vec::with_capacity(leaves.len());
        for l in leaves {
            if let Some(hs) = l.hist {
                self.pool.push(hs);
            }
            out.push((l.node, l.start, l.len));
        }
        Grown { tree: Tree { nodes }, leaves: out }
    }
}

/// Relative gain difference below which two split candidates count as tied.
const GAIN_TIE_EPS: f64 = 1e-10;

/// The best split of a leaf over `features`, if any gains more than `min_gain_to_split`.
fn best_split(
    data: &BinnedDataset,
    hist: &[HistBin],
    features: &[usize],
    leaf: &Leaf,
    n: u32,
    p: &TrainParams,
    constrained: bool,
) -> Option<Split> {
    let min_n = p.min_data_in_leaf.max(1) as u32;
    let min_h = p.min_sum_hessian_in_leaf;
    if n < 2 * min_n || leaf.h < 2.0 * min_h {
        return None;
    }
    let (l1, l2) = (p.lambda_l1, p.lambda_l2);
    let parent_out = leaf_output(leaf.g, leaf.h, p, leaf.lo, leaf.hi);
    let parent_gain =
        if constrained { gain_at(leaf.g, leaf.h, p, parent_out) } else { gain_free(leaf.g, leaf.h, l1, l2) };
    let shift = parent_gain + p.min_gain_to_split;
    let mut best: Option<Split> = None;
    let mut best_gain = shift;
    for &f in features {
        let nb = data.mappers[f].n_bins();
        let nv = nb - 1;
        if nv < 2 && hist[data.offsets[f] + nv].n == 0 {
            continue;
        }
        let hf = &hist[data.offsets[f]..data.offsets[f] + nb];
        let m = hf[nv];
        let mono = if constrained { p.monotone_constraints.get(f).copied().unwrap_or(0) } else { 0 };
        // LightGBM's scan order: first from the highest bin down with missing values on the
        // left, then (only when the leaf has missing values) from the lowest bin up with them on
        // the right; a candidate replaces the best only with a strictly larger gain, so among
        // equal gains the reverse scan's highest threshold wins (and
        // the lowest feature across features).
        // Row counts on each side are estimated from hessians, bin by bin, as LightGBM does
        // (its histograms hold no counts): `round(h · n / H)`; the other side is `n` minus it.
        let cnt_factor = n as f64 / leaf.h;
        let est = |h: f64| (h * cnt_factor + 0.5) as u32;
        // A macro rather than a closure so that it is always inlined into both scans.
        macro_rules! eval {
            ($t:expr, $miss_left:expr, $lg:expr, $lh:expr, $ln:expr) => {{
                let (t, miss_left, lg, lh, ln): (usize, bool, f64, f64, u32) = ($t, $miss_left, $lg, $lh, $ln);
                // `continue` moves to the scan's next threshold.
                let rn = n.saturating_sub(ln);
                if ln < min_n || rn < min_n {
                    continue;
                }
                let rh = leaf.h - lh;
                if lh < min_h || rh < min_h {
                    continue;
                }
                let rg = leaf.g - lg;
                let (gain, lout, rout) = if constrained {
                    let lo = leaf_output(lg, lh, p, leaf.lo, leaf.hi);
                    let ro = leaf_output(rg, rh, p, leaf.lo, leaf.hi);
                    if (mono > 0 && lo > ro) || (mono < 0 && lo < ro) {
                        continue;
                    }
                    (gain_at(lg, lh, p, lo) + gain_at(rg, rh, p, ro), lo, ro)
                } else {
                    (gain_free(lg, lh, l1, l2) + gain_free(rg, rh, l1, l2), 0.0, 0.0)
                };
                // Gains equal up to rounding (e.g. the same rows split by two features) are a tie,
                // which the earlier candidate wins, as with LightGBM's exact ties.
                if gain > best_gain + GAIN_TIE_EPS * best_gain.abs() {
                    best_gain = gain;
                    let default_left = if m.n > 0 { miss_left } else { true };
                    best = Some(Split { feature: f, bin: t as u8, default_left, gain, lg, lh, rg, rh, lout, rout });
                }
            }};
        }
        // Reverse: the right side accumulates value bins above `t`; the rest (missing included)
        // is the left side.
        let (mut rg_acc, mut rh_acc, mut rn_acc) = (0.0f64, 0.0f64, 0u32);
        for t in (0..nv).rev() {
            if t + 1 < nv {
                let b = hf[t + 1];
                rg_acc += b.g;
                rh_acc += b.h;
                rn_acc += est(b.h);
            }
            if rn_acc < min_n {
                continue;
            }
            if n < rn_acc + min_n {
                break;
            }
            eval!(t, true, leaf.g - rg_acc, leaf.h - rh_acc, n - rn_acc);
        }
        if m.n > 0 {
            let (mut ag, mut ah, mut an) = (0.0f64, 0.0f64, 0u32);
            for (t, b) in hf[..nv].iter().enumerate() {
                ag += b.g;
                ah += b.h;
                an += est(b.h);
                if an < min_n {
                    continue;
                }
                if n < an + min_n {
                    break;
                }
                eval!(t, false, ag, ah, an);
            }
        }
    }
    best.map(|mut s| {
        s.gain -= shift;
        if !constrained {
            s.lout = leaf_output(s.lg, s.lh, p, leaf.lo, leaf.hi);
            s.rout = leaf_output(s.rg, s.rh, p, leaf.lo, leaf.hi);
        }
        s
    })
}
