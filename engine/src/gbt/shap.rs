//! TreeSHAP (Lundberg et al., Algorithm 2, as in XGBoost/LightGBM) over row counts as cover:
//! exact Shapley values of one tree's output for one row, adding to `phi` (bias last).

use super::tree::Tree;

#[derive(Clone, Copy)]
struct PathElem {
    feature: i64,
    zero: f64,
    one: f64,
    pweight: f64,
}

fn extend(path: &mut [PathElem], d: usize, zero: f64, one: f64, feature: i64) {
    path[d] = PathElem { feature, zero, one, pweight: if d == 0 { 1.0 } else { 0.0 } };
    for i in (0..d).rev() {
        path[i + 1].pweight += one * path[i].pweight * (i + 1) as f64 / (d + 1) as f64;
        path[i].pweight = zero * path[i].pweight * (d - i) as f64 / (d + 1) as f64;
    }
}

fn unwind(path: &mut [PathElem], d: usize, idx: usize) {
    let (one, zero) = (path[idx].one, path[idx].zero);
    let mut next = path[d].pweight;
    for i in (0..d).rev() {
        if one != 0.0 {
            let tmp = path[i].pweight;
            path[i].pweight = next * (d + 1) as f64 / ((i + 1) as f64 * one);
            next = tmp - path[i].pweight * zero * (d - i) as f64 / (d + 1) as f64;
        } else {
            path[i].pweight = path[i].pweight * (d + 1) as f64 / (zero * (d - i) as f64);
        }
    }
    for i in idx..d {
        path[i].feature = path[i + 1].feature;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

fn unwound_sum(path: &[PathElem], d: usize, idx: usize) -> f64 {
    let (one, zero) = (path[idx].one, path[idx].zero);
    let mut next = path[d].pweight;
    let mut total = 0.0;
    for i in (0..d).rev() {
        if one != 0.0 {
            let tmp = next * (d + 1) as f64 / ((i + 1) as f64 * one);
            total += tmp;
            next = path[i].pweight - tmp * zero * (d - i) as f64 / (d + 1) as f64;
        } else if zero != 0.0 {
            total += path[i].pweight / zero / ((d - i) as f64 / (d + 1) as f64);
        }
    }
    total
}

#[allow(clippy::too_many_arguments)]
fn recurse(
    t: &Tree,
    row: &[f64],
    phi: &mut [f64],
    node: usize,
    parent: &[PathElem],
    mut d: usize,
    zero: f64,
    one: f64,
    feature: i64,
) {
    let mut path = Vec::with_capacity(d + 2);
    path.extend_from_slice(&parent[..d]);
    path.push(PathElem { feature: 0, zero: 0.0, one: 0.0, pweight: 0.0 });
    extend(&mut path, d, zero, one, feature);
    let n = &t.nodes[node];
    if n.is_leaf() {
        for i in 1..=d {
            let w = unwound_sum(&path, d, i);
            let e = path[i];
            if let Some(p) = usize::try_from(e.feature).ok().and_then(|f| phi.get_mut(f)) {
                *p += w * (e.one - e.zero) * n.value;
            }
        }
        return;
    }
    let f = n.feature as usize;
    let (hot, cold) =
        if n.goes_left(row.get(f).copied().unwrap_or(f64::NAN)) { (n.left, n.right) } else { (n.right, n.left) };
    let (hot, cold) = (hot as usize, cold as usize);
    let w = n.count as f64;
    let hot_zero = t.nodes[hot].count as f64 / w;
    let cold_zero = t.nodes[cold].count as f64 / w;
    let (mut in_zero, mut in_one) = (1.0, 1.0);
    if let Some(k) = (0..=d).find(|&k| path[k].feature == f as i64) {
        in_zero = path[k].zero;
        in_one = path[k].one;
        unwind(&mut path, d, k);
        d -= 1;
    }
    recurse(t, row, phi, hot, &path, d + 1, hot_zero * in_zero, in_one, f as i64);
    recurse(t, row, phi, cold, &path, d + 1, cold_zero * in_zero, 0.0, f as i64);
}

/// Adds one tree's contributions for `row` to `phi` (`phi.len() == features + 1`, bias last).
pub(crate) fn tree_shap(t: &Tree, row: &[f64], phi: &mut [f64]) {
    let root = t.nodes[0].count as f64;
    let bias = phi.len() - 1;
    if t.nodes.len() == 1 || root <= 0.0 {
        phi[bias] += t.nodes[0].value;
        return;
    }
    let mut expected = 0.0;
    for n in t.nodes.iter().filter(|n| n.is_leaf()) {
        expected += n.value * n.count as f64 / root;
    }
    phi[bias] += expected;
    recurse(t, row, phi, 0, &[], 0, 1.0, 1.0, -1);
}
