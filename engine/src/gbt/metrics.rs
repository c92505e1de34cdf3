//! Classification metrics on probabilities and 0/1 labels.

/// Mean logloss, probabilities clipped to `[1e-15, 1 − 1e-15]` (as scikit-learn does).
pub fn logloss(probs: &[f64], labels: &[f64]) -> f64 {
    let eps = 1e-15;
    let mut s = 0.0;
    for (&p, &y) in probs.iter().zip(labels) {
        let p = p.clamp(eps, 1.0 - eps);
        s -= if y > 0.5 { libm::log(p) } else { libm::log(1.0 - p) };
    }
    s / probs.len().max(1) as f64
}

/// Area under the ROC curve (Mann–Whitney, ties counted half); `NaN` when one class is absent.
pub fn auc(scores: &[f64], labels: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len().min(labels.len())).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut npos) = (0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let r = (i + j + 2) as f64 / 2.0;
        for &k in &idx[i..=j] {
            if labels[k] > 0.5 {
                rank_sum += r;
                npos += 1.0;
            }
        }
        i = j + 1;
    }
    let nneg = idx.len() as f64 - npos;
    if npos == 0.0 || nneg == 0.0 {
        return f64::NAN;
    }
    (rank_sum - npos * (npos + 1.0) / 2.0) / (npos * nneg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_known_values() {
        assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[0.0, 0.0, 1.0, 1.0]), 0.75);
        assert_eq!(auc(&[0.5, 0.5], &[0.0, 1.0]), 0.5);
        assert!(auc(&[0.5, 0.5], &[1.0, 1.0]).is_nan());
    }

    #[test]
    fn logloss_known_value() {
        let l = logloss(&[0.5, 0.5], &[0.0, 1.0]);
        assert!((l - std::f64::consts::LN_2).abs() < 1e-15);
    }
}
