//! Training throughput: 200 trees (31 leaves, 255 bins, lr 0.1) on 50k × 40 synthetic rows with
//! ~5% missing values, as `tests/gbt/compare_lightgbm.py` runs LightGBM.
//!
//! Prediction throughput: `predict_proba` of the trained 200-tree model on the 50k × 40 training
//! rows and on the 10k × 40 holdout (one thread, best of 5 passes, rows/s). The Python script
//! times LightGBM's `Booster.predict` on the same shapes.
//!
//! ```text
//! cargo bench -p engine --bench gbt
//! ```

use std::hint::black_box;
use std::time::Instant;

use engine::gbt::{auc, train, ColumnMatrix, TrainParams};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// 40 Gaussian features; the label is a noisy nonlinear function of the first 10.
fn data(n: usize, seed: u64) -> (Vec<String>, Vec<Vec<f64>>, Vec<f64>) {
    let mut r = Lcg(seed);
    let k = 40;
    let mut cols: Vec<Vec<f64>> = (0..k).map(|_| Vec::with_capacity(n)).collect();
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let x: Vec<f64> = (0..k).map(|_| r.normal()).collect();
        let s = x[0] + 0.8 * x[1] * x[2] - 0.6 * x[3].abs() + (2.0 * x[4]).sin() + 0.5 * x[5] * x[5] - 0.5 + 0.4 * x[6]
            - 0.3 * x[7] * x[8]
            + 0.2 * x[9];
        y.push((r.next() < 1.0 / (1.0 + (-s).exp())) as u8 as f64);
        for (c, v) in cols.iter_mut().zip(x) {
            c.push(if r.next() < 0.05 { f64::NAN } else { v });
        }
    }
    ((0..k).map(|j| format!("f{j}")).collect(), cols, y)
}

fn main() {
    let (names, cols, y) = data(60_000, 42);
    let tr: Vec<Vec<f64>> = cols.iter().map(|c| c[..50_000].to_vec()).collect();
    let te: Vec<Vec<f64>> = cols.iter().map(|c| c[50_000..].to_vec()).collect();
    let x = ColumnMatrix::new(&names, &tr).expect("shape");
    let xt = ColumnMatrix::new(&names, &te).expect("shape");
    let p = TrainParams { num_trees: 200, ..Default::default() };
    let mut best = f64::INFINITY;
    let mut sha = String::new();
    let mut model = None;
    for _ in 0..3 {
        let t = Instant::now();
        let b = train(&x, &y[..50_000], None, &p, &mut |_| {}).expect("train");
        best = best.min(t.elapsed().as_secs_f64());
        let probs = b.predict_proba(&xt).expect("predict");
        sha = b.model_sha();
        black_box(auc(&probs, &y[50_000..]));
        println!("holdout AUC {:.5}", auc(&probs, &y[50_000..]));
        model = Some(b);
    }
    println!("gbt train 50000 x 40, 200 trees: best {best:.3} s  (model {})", &sha[..12]);

    let b = model.expect("trained");
    for (what, m) in [("train rows", &x), ("holdout", &xt)] {
        let rows = m.rows();
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            let probs = b.predict_proba(black_box(m)).expect("predict");
            best = best.min(t.elapsed().as_secs_f64());
            black_box(probs);
        }
        println!(
            "gbt predict_proba {rows} x 40 ({what}), {} trees: best {:.4} s = {:.0} rows/s",
            b.trees.len(),
            best,
            rows as f64 / best
        );
    }
}
