//! Rolling-window helpers shared by the features: each is one forward pass, O(1) amortised per
//! bar, and depends on the current and earlier values only.

use std::collections::VecDeque;

/// Rolling mean and population variance over the last `n` values, updated in O(1) per value
/// (Welford's update for adding one value and removing the oldest). A window holding a `NaN`
/// has no value; once the `NaN` leaves, the moments are rebuilt from the window.
pub(crate) struct RollingMoments {
    n: usize,
    buf: VecDeque<f64>,
    nans: usize,
    mean: f64,
    m2: f64,
}

impl RollingMoments {
    pub(crate) fn new(n: usize) -> Self {
        RollingMoments { n: n.max(1), buf: VecDeque::with_capacity(n.max(1) + 1), nans: 0, mean: 0.0, m2: 0.0 }
    }

    fn rebuild(&mut self) {
        let mut mean = 0.0;
        let mut m2 = 0.0;
        for (i, &x) in self.buf.iter().enumerate() {
            let k = (i + 1) as f64;
            let d = x - mean;
            mean += d / k;
            m2 += d * (x - mean);
        }
        self.mean = mean;
        self.m2 = m2;
    }

    /// Push a value; returns `(mean, population variance)` once the window is full and finite.
    pub(crate) fn push(&mut self, x: f64) -> Option<(f64, f64)> {
        let x_nan = !x.is_finite();
        let old = if self.buf.len() == self.n { self.buf.pop_front() } else { None };
        self.buf.push_back(x);
        let old_nan = old.is_some_and(|o| !o.is_finite());
        if x_nan {
            self.nans += 1;
        }
        if old_nan {
            self.nans -= 1;
        }
        if self.nans > 0 {
            return None;
        }
        if x_nan || old_nan || old.is_none() {
            // Window changed shape (filling up, or a NaN just left): recompute exactly.
            self.rebuild();
        } else if let Some(y) = old {
            // Replace y by x in a full window.
            let k = self.n as f64;
            let mean_old = self.mean;
            let mean_new = mean_old + (x - y) / k;
            self.m2 += (x - y) * (x - mean_new + y - mean_old);
            self.mean = mean_new;
        }
        if self.buf.len() < self.n {
            return None;
        }
        let var = (self.m2 / self.n as f64).max(0.0);
        Some((self.mean, var))
    }
}

/// Sliding maximum (or minimum) of the last `n` values with a monotonic deque. `NaN` values are
/// skipped (they never become the extreme); a window with no number gives `NaN`.
pub(crate) struct RollingExtreme {
    n: usize,
    max: bool,
    dq: VecDeque<(usize, f64)>,
    i: usize,
}

impl RollingExtreme {
    pub(crate) fn new(n: usize, max: bool) -> Self {
        RollingExtreme { n: n.max(1), max, dq: VecDeque::new(), i: 0 }
    }

    /// Push the next value; returns the extreme of the last `n` values once `n` have been seen.
    pub(crate) fn push(&mut self, x: f64) -> Option<f64> {
        let i = self.i;
        self.i += 1;
        if !x.is_nan() {
            while let Some(&(_, v)) = self.dq.back() {
                let dominated = if self.max { v <= x } else { v >= x };
                if dominated {
                    self.dq.pop_back();
                } else {
                    break;
                }
            }
            self.dq.push_back((i, x));
        }
        while let Some(&(j, _)) = self.dq.front() {
            if j + self.n <= i {
                self.dq.pop_front();
            } else {
                break;
            }
        }
        if self.i < self.n {
            return None;
        }
        Some(self.dq.front().map_or(f64::NAN, |&(_, v)| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_direct() {
        let xs: Vec<f64> = (0..200).map(|i| ((i * 37 % 101) as f64).sin() * 10.0 + 100.0).collect();
        let mut r = RollingMoments::new(20);
        for (t, &x) in xs.iter().enumerate() {
            let got = r.push(x);
            if t < 19 {
                assert!(got.is_none());
                continue;
            }
            let w = &xs[t - 19..=t];
            let m = w.iter().sum::<f64>() / 20.0;
            let v = w.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 20.0;
            let (gm, gv) = got.unwrap();
            assert!((gm - m).abs() < 1e-9 && (gv - v).abs() < 1e-9, "{t}: {gm} {m} {gv} {v}");
        }
    }

    #[test]
    fn moments_nan_window() {
        let mut r = RollingMoments::new(3);
        let xs = [1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0, 7.0];
        let got: Vec<Option<(f64, f64)>> = xs.iter().map(|&x| r.push(x)).collect();
        assert!(got[..5].iter().all(Option::is_none));
        assert_eq!(got[5].unwrap().0, 5.0);
        assert_eq!(got[6].unwrap().0, 6.0);
    }

    #[test]
    fn extremes() {
        let xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0];
        let mut hi = RollingExtreme::new(3, true);
        let mut lo = RollingExtreme::new(3, false);
        for (t, &x) in xs.iter().enumerate() {
            let (h, l) = (hi.push(x), lo.push(x));
            if t < 2 {
                assert!(h.is_none() && l.is_none());
            } else {
                let w = &xs[t - 2..=t];
                assert_eq!(h, Some(w.iter().cloned().fold(f64::MIN, f64::max)));
                assert_eq!(l, Some(w.iter().cloned().fold(f64::MAX, f64::min)));
            }
        }
    }
}
