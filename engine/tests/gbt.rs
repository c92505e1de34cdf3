//! Gradient-boosted trees: learning, determinism, missing values, monotone constraints, early
//! stopping, the model file and calibration.

use engine::gbt::{auc, brier, logloss, reliability, train, Booster, Calibrator, ColumnMatrix, TrainParams};

/// 64-bit LCG → uniform [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn names(k: usize) -> Vec<String> {
    (0..k).map(|j| format!("f{j}")).collect()
}

/// y = 1 when (x0 > 0.5) XOR (x1 > 0.5), with 5% label noise; x2, x3 noise features.
fn xor(n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut r = Lcg(seed);
    let mut cols: Vec<Vec<f64>> = (0..4).map(|_| Vec::with_capacity(n)).collect();
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let v: Vec<f64> = (0..4).map(|_| r.next()).collect();
        let mut label = ((v[0] > 0.5) != (v[1] > 0.5)) as u8 as f64;
        if r.next() < 0.05 {
            label = 1.0 - label;
        }
        for (c, x) in cols.iter_mut().zip(v) {
            c.push(x);
        }
        y.push(label);
    }
    (cols, y)
}

fn fit(cols: &[Vec<f64>], y: &[f64], p: &TrainParams) -> Booster {
    let n = names(cols.len());
    let x = ColumnMatrix::new(&n, cols).unwrap();
    train(&x, y, None, p, &mut |_| {}).unwrap()
}

#[test]
fn learns_xor() {
    let (cols, y) = xor(4000, 1);
    let (tc, ty) = xor(2000, 2);
    let p = TrainParams { num_trees: 60, ..Default::default() };
    let b = fit(&cols, &y, &p);
    let n = names(4);
    let probs = b.predict_proba(&ColumnMatrix::new(&n, &tc).unwrap()).unwrap();
    let a = auc(&probs, &ty);
    assert!(a > 0.9, "holdout AUC {a}");
    assert!(b.train_loss.windows(2).all(|w| w[1] <= w[0] + 1e-12), "train loss decreases");
    let imp = b.importance();
    assert!(imp[0].gain > imp[2].gain * 5.0 && imp[1].gain > imp[3].gain * 5.0, "{imp:?}");
    // Row-major and column-major predictions agree exactly.
    let rows: Vec<Vec<f64>> = (0..50).map(|i| tc.iter().map(|c| c[i]).collect()).collect();
    let rp = b.predict_proba_rows(&rows).unwrap();
    assert_eq!(&rp[..], &probs[..50]);
}

#[test]
fn deterministic_for_a_seed() {
    let (cols, y) = xor(3000, 3);
    let p = TrainParams {
        num_trees: 20,
        bagging_fraction: 0.7,
        bagging_freq: 1,
        feature_fraction: 0.75,
        seed: 11,
        ..Default::default()
    };
    let a = fit(&cols, &y, &p);
    let b = fit(&cols, &y, &p);
    assert_eq!(a.model_sha(), b.model_sha());
    assert_eq!(a, b);
    let c = fit(&cols, &y, &TrainParams { seed: 12, ..p.clone() });
    assert_ne!(a.model_sha(), c.model_sha());
}

#[test]
fn missing_values_learn_a_default_direction() {
    // Missing x0 behaves like a high x0 (label 1); a tree must route NaN right.
    let mut r = Lcg(5);
    let n = 3000;
    let (mut x0, mut x1, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let v = r.next();
        let missing = i % 4 == 0;
        x0.push(if missing { f64::NAN } else { v });
        x1.push(r.next());
        y.push(if missing || v > 0.6 { 1.0 } else { 0.0 });
    }
    let cols = vec![x0, x1];
    let b = fit(&cols, &y, &TrainParams { num_trees: 20, ..Default::default() });
    let root = &b.trees[0].nodes[0];
    assert_eq!(root.feature, 0);
    assert!(!root.default_left, "missing goes with the high values");
    let p_nan = b.predict_proba_rows(&[vec![f64::NAN, 0.5]]).unwrap()[0];
    let p_low = b.predict_proba_rows(&[vec![0.1, 0.5]]).unwrap()[0];
    assert!(p_nan > 0.9 && p_low < 0.1, "{p_nan} {p_low}");
    // Mirror: missing behaves like low values → default left.
    let y2: Vec<f64> = cols[0].iter().map(|v| if !v.is_nan() && *v > 0.6 { 1.0 } else { 0.0 }).collect();
    let b2 = fit(&cols, &y2, &TrainParams { num_trees: 5, ..Default::default() });
    assert!(b2.trees[0].nodes[0].default_left);
}

#[test]
fn monotone_constraint_respected() {
    // y depends non-monotonically on x0 (a bump), monotone on x1; constrain x0 to +1.
    let mut r = Lcg(9);
    let n = 4000;
    let mut cols = vec![Vec::new(), Vec::new()];
    let mut y = Vec::new();
    for _ in 0..n {
        let (a, b) = (r.next(), r.next());
        let s = (6.0 * a).sin() + 2.0 * b - 1.0;
        y.push(if r.next() < 1.0 / (1.0 + (-3.0 * s).exp()) { 1.0 } else { 0.0 });
        cols[0].push(a);
        cols[1].push(b);
    }
    let p = TrainParams { num_trees: 50, monotone_constraints: vec![1, 0], ..Default::default() };
    let b = fit(&cols, &y, &p);
    for k in 0..=10 {
        let x1 = k as f64 / 10.0;
        let grid: Vec<Vec<f64>> = (0..=200).map(|i| vec![i as f64 / 200.0, x1]).collect();
        let raw = b.predict_raw_rows(&grid).unwrap();
        assert!(raw.windows(2).all(|w| w[1] >= w[0]), "not monotone at x1={x1}");
    }
    // Unconstrained, the bump shows (sanity check that the test can fail).
    let free = fit(&cols, &y, &TrainParams { monotone_constraints: vec![], ..p });
    let grid: Vec<Vec<f64>> = (0..=200).map(|i| vec![i as f64 / 200.0, 0.5]).collect();
    let raw = free.predict_raw_rows(&grid).unwrap();
    assert!(raw.windows(2).any(|w| w[1] < w[0]));
}

#[test]
fn early_stopping_stops() {
    // Pure noise labels: validation loss stops improving quickly.
    let mut r = Lcg(13);
    let n = 2000;
    let cols: Vec<Vec<f64>> = (0..3).map(|_| (0..n).map(|_| r.next()).collect()).collect();
    let y: Vec<f64> = (0..n).map(|_| (r.next() < 0.3) as u8 as f64).collect();
    let nm = names(3);
    let (tr, va): (Vec<Vec<f64>>, Vec<Vec<f64>>) =
        (cols.iter().map(|c| c[..1500].to_vec()).collect(), cols.iter().map(|c| c[1500..].to_vec()).collect());
    let x = ColumnMatrix::new(&nm, &tr).unwrap();
    let v = ColumnMatrix::new(&nm, &va).unwrap();
    let p = TrainParams { num_trees: 500, early_stopping_rounds: 10, ..Default::default() };
    let mut calls = 0;
    let b = train(&x, &y[..1500], Some((&v, &y[1500..])), &p, &mut |_| calls += 1).unwrap();
    assert!(calls < 100, "stopped after {calls} trees");
    assert_eq!(b.valid_loss.len(), calls);
    assert_eq!(b.trees.len(), b.best_iteration);
    assert_eq!(calls, b.best_iteration + 10);
    let best = b.valid_loss.iter().cloned().fold(f64::INFINITY, f64::min);
    assert_eq!(b.valid_loss[b.best_iteration - 1], best);
}

#[test]
fn model_file_round_trip_is_bit_identical() {
    let (mut cols, y) = xor(3000, 21);
    for i in (0..3000).step_by(7) {
        cols[2][i] = f64::NAN;
    }
    let mut b = fit(&cols, &y, &TrainParams { num_trees: 30, lambda_l2: 0.3, ..Default::default() });
    let probs = b.predict_proba_uncalibrated(&ColumnMatrix::new(&names(4), &cols).unwrap()).unwrap();
    b.calibration = Some(Calibrator::fit_isotonic(&probs, &y).unwrap());
    let text = b.to_model_json().unwrap();
    let back = Booster::from_model_json(&text).unwrap();
    assert_eq!(back, b);
    assert_eq!(back.to_model_json().unwrap(), text);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["format"], "btb-gbt");
    assert_eq!(v["version"], 1);
    assert_eq!(v["model_sha"], b.model_sha());
    let nm = names(4);
    let x = ColumnMatrix::new(&nm, &cols).unwrap();
    let (p1, p2) = (b.predict_proba(&x).unwrap(), back.predict_proba(&x).unwrap());
    assert!(p1.iter().zip(&p2).all(|(a, c)| a.to_bits() == c.to_bits()));
    // Tampering is caught.
    let tampered = text.replacen("\"init_score\":", "\"init_score\":1", 1);
    assert!(Booster::from_model_json(&tampered).is_err());
    assert!(Booster::from_model_json("{}").is_err());
    assert!(Booster::from_model_json("not json").is_err());
}

#[test]
fn contributions_sum_to_raw_score() {
    let (mut cols, y) = xor(2000, 31);
    for i in (0..2000).step_by(5) {
        cols[1][i] = f64::NAN;
    }
    let b = fit(&cols, &y, &TrainParams { num_trees: 20, ..Default::default() });
    let mut mean_abs = [0.0; 5];
    for i in 0..50 {
        let row: Vec<f64> = cols.iter().map(|c| c[i]).collect();
        let phi = b.contributions(&row).unwrap();
        let raw = b.predict_row_raw(&row).unwrap();
        let s: f64 = phi.iter().sum();
        assert!((s - raw).abs() < 1e-9, "{s} vs {raw}");
        for (m, p) in mean_abs.iter_mut().zip(&phi) {
            *m += p.abs() / 50.0;
        }
    }
    // The noise features matter far less than the XOR pair.
    assert!(mean_abs[0] + mean_abs[1] > 3.0 * (mean_abs[2] + mean_abs[3]), "{mean_abs:?}");
}

#[test]
fn rejects_bad_input() {
    let n = names(1);
    let cols = vec![vec![1.0, 2.0, 3.0]];
    let x = ColumnMatrix::new(&n, &cols).unwrap();
    let p = TrainParams::default();
    assert!(train(&x, &[0.0, 1.0, 2.0], None, &p, &mut |_| {}).is_err());
    assert!(train(&x, &[1.0, 1.0, 1.0], None, &p, &mut |_| {}).is_err());
    assert!(train(&x, &[0.0, 1.0], None, &p, &mut |_| {}).is_err());
    assert!(
        train(&x, &[0.0, 1.0, 0.0], None, &TrainParams { max_bin: 300, ..Default::default() }, &mut |_| {}).is_err()
    );
    assert!(ColumnMatrix::new(&n, &[vec![1.0], vec![2.0]]).is_err());
}

#[test]
fn calibration() {
    // Scores that are overconfident: true p = 0.25 + 0.5·s but reported as s.
    let mut r = Lcg(41);
    let n = 5000;
    let s: Vec<f64> = (0..n).map(|_| r.next()).collect();
    let y: Vec<f64> = s.iter().map(|&v| (r.next() < 0.25 + 0.5 * v) as u8 as f64).collect();
    let before = logloss(&s, &y);
    let sig = Calibrator::fit_sigmoid(&s, &y).unwrap();
    let cs: Vec<f64> = s.iter().map(|&v| sig.apply(v)).collect();
    assert!(logloss(&cs, &y) < before - 0.05, "{} vs {before}", logloss(&cs, &y));
    assert!(brier(&cs, &y) < brier(&s, &y));
    let iso = Calibrator::fit_isotonic(&s, &y).unwrap();
    let grid: Vec<f64> = (0..=1000).map(|i| i as f64 / 1000.0).collect();
    let g: Vec<f64> = grid.iter().map(|&v| iso.apply(v)).collect();
    assert!(g.windows(2).all(|w| w[1] >= w[0]), "isotonic is monotone");
    assert!(g.iter().all(|v| (0.0..=1.0).contains(v)));
    let ci: Vec<f64> = s.iter().map(|&v| iso.apply(v)).collect();
    assert!(logloss(&ci, &y) < before - 0.05);
    let rel = reliability(&ci, &y, 10);
    assert_eq!(rel.iter().map(|b| b.count).sum::<usize>(), n);
    for b in &rel {
        assert!((b.mean_pred - b.frac_pos).abs() < 0.1, "{b:?}");
    }
    assert!(Calibrator::fit_sigmoid(&[0.5], &[2.0]).is_err());
    assert!(Calibrator::fit_isotonic(&[], &[]).is_err());
}
