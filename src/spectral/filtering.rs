//! The F-Principle filtering method (Xu et al.) for data not on a grid: a Gaussian low-pass
//! over the sample points splits a function into a low- and a high-frequency part, and the
//! relative errors of the network's output in each part play the role of band errors.
//!
//! Definitions, for points x_1..x_n in R^d and a function f on them (n x K values):
//! - G_delta(u) = exp(-|u|^2 / (2 delta^2)) (delta is a length, the kernel's standard
//!   deviation; the F-Principle code writes exp(-|u|^2 / (2 delta')) with delta' = delta^2);
//! - f_low(x_i) = sum_j f(x_j) G(x_i - x_j) / sum_j G(x_i - x_j), f_high = f - f_low;
//! - for a target y and output h: e_low = ||y_low - h_low|| / ||y_low||, e_high likewise with
//!   the high parts, Frobenius norms over all n x K values. The filter is linear, so
//!   y_low - h_low = -(h - y)_low and one product per delta filters both y and the residual.
//!   A ratio whose denominator is 0 (the target has no energy in that part, e.g. the high
//!   part as delta -> 0) is NaN.
//!
//! Limits: delta -> 0 gives f_low = f (e_low = ||h - y|| / ||y||, no high part); delta -> inf
//! gives f_low = the mean of f over the points (delta = f64::INFINITY is accepted). Points that
//! coincide are averaged together at every delta.
//!
//! Cost and memory: [`Filter::new`] computes the n^2 squared distances once, row by row
//! (O(n^2 d), one row of distances in memory), and stores for every delta of the ladder the
//! row-normalised weights as f32: 4 n^2 bytes per delta (64 MB at n = 4000). One evaluation is
//! one f32 matrix product [n, n] x [n, 2K] per delta (O(n^2 K)). Values are rounded to f32
//! before filtering and all norms are summed in f64: the relative errors carry an error of
//! about 1e-6 relative, and the limits above hold exactly (a weight of exactly 0 or 1/n).

use anyhow::{bail, Result};
use ndarray::{concatenate, Array2, ArrayView2, Axis};

/// Precomputed Gaussian filters for one point set and one ladder of deltas.
pub struct Filter {
    n: usize,
    deltas: Vec<f64>,
    /// Per delta: the n x n row-normalised weights W_ij = G(x_i - x_j) / sum_j G(x_i - x_j).
    weights: Vec<Array2<f32>>,
}

/// The relative errors of one delta.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PartErrors {
    pub delta: f64,
    /// ||y_low - h_low|| / ||y_low||.
    pub e_low: f64,
    /// ||y_high - h_high|| / ||y_high||.
    pub e_high: f64,
}

impl Filter {
    /// Filters for the points `x` (n x d, one point per row) and every delta of `deltas`
    /// (each > 0; +inf allowed).
    pub fn new(x: ArrayView2<f64>, deltas: &[f64]) -> Result<Self> {
        let (n, _d) = x.dim();
        if n == 0 {
            bail!("the filtering method needs at least one point (x has 0 rows)");
        }
        if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            bail!("point {i}, coordinate {j} is {v}; the filtering method needs finite points");
        }
        if deltas.is_empty() {
            bail!("the filtering method needs a ladder of at least one delta");
        }
        if let Some(d) = deltas.iter().find(|d| !(**d > 0.0)) {
            bail!("delta = {d}: every delta must be > 0 (a kernel width; +inf gives the mean)");
        }
        let mut weights: Vec<Array2<f32>> = deltas.iter().map(|_| Array2::zeros((n, n))).collect();
        let mut d2 = vec![0.0f64; n];
        let mut g = vec![0.0f64; n];
        for i in 0..n {
            let xi = x.row(i);
            for (j, slot) in d2.iter_mut().enumerate() {
                *slot = xi
                    .iter()
                    .zip(x.row(j))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum();
            }
            for (w, &delta) in weights.iter_mut().zip(deltas) {
                let inv = 1.0 / (2.0 * delta * delta); // 0 for delta = inf
                let mut sum = 0.0f64;
                for (gj, &dj) in g.iter_mut().zip(&d2) {
                    *gj = (-dj * inv).exp();
                    sum += *gj;
                }
                // sum >= 1: the diagonal weight is exp(0) = 1.
                for (wj, &gj) in w.row_mut(i).iter_mut().zip(&g) {
                    *wj = (gj / sum) as f32;
                }
            }
        }
        Ok(Filter {
            n,
            deltas: deltas.to_vec(),
            weights,
        })
    }

    /// The ladder of deltas, in the order given.
    pub fn deltas(&self) -> &[f64] {
        &self.deltas
    }

    /// Bytes held by the weights (4 n^2 per delta).
    pub fn memory_bytes(&self) -> usize {
        4 * self.n * self.n * self.deltas.len()
    }

    fn check(&self, f: &ArrayView2<f64>, what: &str) {
        assert_eq!(
            f.nrows(),
            self.n,
            "{what} has {} rows; the filter was built for {} points",
            f.nrows(),
            self.n
        );
    }

    /// f_low at every point for the delta at `level` of the ladder (f is n x K).
    pub fn low_pass(&self, level: usize, f: ArrayView2<f64>) -> Array2<f64> {
        self.check(&f, "f");
        self.weights[level]
            .dot(&f.mapv(|v| v as f32))
            .mapv(f64::from)
    }

    /// e_low and e_high of the output `h` against the target `y` (both n x K) for every
    /// delta of the ladder.
    pub fn errors(&self, y: ArrayView2<f64>, h: ArrayView2<f64>) -> Vec<PartErrors> {
        self.check(&y, "y");
        assert_eq!(y.dim(), h.dim(), "y and h must have the same shape");
        let k = y.ncols();
        let y32 = y.mapv(|v| v as f32);
        let r32 = (&h - &y).mapv(|v| v as f32);
        let both = concatenate(Axis(1), &[y32.view(), r32.view()]).expect("same rows");
        let sq = |v: f32| (v as f64) * (v as f64);
        self.weights
            .iter()
            .zip(&self.deltas)
            .map(|(w, &delta)| {
                let low = w.dot(&both);
                let (mut y_low, mut y_high, mut r_low, mut r_high) = (0.0, 0.0, 0.0, 0.0);
                for (lo_row, in_row) in low.rows().into_iter().zip(both.rows()) {
                    for c in 0..k {
                        y_low += sq(lo_row[c]);
                        y_high += sq(in_row[c] - lo_row[c]);
                        r_low += sq(lo_row[k + c]);
                        r_high += sq(in_row[k + c] - lo_row[k + c]);
                    }
                }
                let ratio = |num: f64, den: f64| {
                    if den > 0.0 {
                        (num / den).sqrt()
                    } else {
                        f64::NAN
                    }
                };
                PartErrors {
                    delta,
                    e_low: ratio(r_low, y_low),
                    e_high: ratio(r_high, y_high),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn pseudo(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut s = seed;
        Array2::from_shape_fn((n, d), |_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
    }

    /// The definition, literally, in f64: filter y and h separately.
    fn brute(x: &Array2<f64>, f: &Array2<f64>, delta: f64) -> Array2<f64> {
        let n = x.nrows();
        Array2::from_shape_fn(f.dim(), |(i, c)| {
            let (mut num, mut den) = (0.0, 0.0);
            for j in 0..n {
                let d2: f64 = (0..x.ncols())
                    .map(|a| (x[[i, a]] - x[[j, a]]).powi(2))
                    .sum();
                let g = (-d2 / (2.0 * delta * delta)).exp();
                num += f[[j, c]] * g;
                den += g;
            }
            num / den
        })
    }

    fn norm(a: &Array2<f64>) -> f64 {
        a.iter().map(|v| v * v).sum::<f64>().sqrt()
    }

    #[test]
    fn matches_brute_force_on_a_small_set() {
        let x = pseudo(30, 3, 1);
        let y = pseudo(30, 2, 2);
        let h = &y + &(pseudo(30, 2, 3) * 0.3);
        let deltas = [0.1, 0.4, 1.5];
        let filter = Filter::new(x.view(), &deltas).unwrap();
        let errs = filter.errors(y.view(), h.view());
        for (l, &delta) in deltas.iter().enumerate() {
            let (y_low, h_low) = (brute(&x, &y, delta), brute(&x, &h, delta));
            let (y_high, h_high) = (&y - &y_low, &h - &h_low);
            let e_low = norm(&(&y_low - &h_low)) / norm(&y_low);
            let e_high = norm(&(&y_high - &h_high)) / norm(&y_high);
            assert_eq!(errs[l].delta, delta);
            assert!(
                (errs[l].e_low / e_low - 1.0).abs() < 1e-5,
                "{errs:?} {e_low}"
            );
            assert!(
                (errs[l].e_high / e_high - 1.0).abs() < 1e-5,
                "{errs:?} {e_high}"
            );
            let low = filter.low_pass(l, y.view());
            assert!(low.iter().zip(&y_low).all(|(a, b)| (a - b).abs() < 1e-6));
        }
    }

    #[test]
    fn limits_of_tiny_and_infinite_delta() {
        let x = pseudo(25, 2, 4);
        let y = pseudo(25, 3, 5) + 0.5;
        let h = &y + &(pseudo(25, 3, 6) * 0.2);
        let filter = Filter::new(x.view(), &[1e-9, f64::INFINITY, 1e12]).unwrap();
        // delta -> 0: f_low = f (as rounded to f32), so e_low is the total relative error and
        // the high part is empty (NaN: no target energy there).
        let y32 = y.mapv(|v| v as f32 as f64);
        assert_eq!(filter.low_pass(0, y.view()), y32);
        let errs = filter.errors(y.view(), h.view());
        let total = norm(&(&h - &y)) / norm(&y);
        assert!(
            (errs[0].e_low / total - 1.0).abs() < 1e-6,
            "{errs:?} {total}"
        );
        assert!(errs[0].e_high.is_nan());
        // delta -> inf: f_low = the mean over the points of each output column.
        let mean = y.mean_axis(Axis(0)).unwrap();
        for level in [1, 2] {
            let low = filter.low_pass(level, y.view());
            for row in low.rows() {
                assert!(row.iter().zip(&mean).all(|(a, b)| (a - b).abs() < 1e-6));
            }
            let r = &h - &y;
            let r_mean = r.mean_axis(Axis(0)).unwrap();
            let e_high = norm(&(&r - &r_mean)) / norm(&(&y - &mean));
            assert!((errs[level].e_high / e_high - 1.0).abs() < 1e-5);
            let e_low = r_mean.iter().map(|v| v * v).sum::<f64>().sqrt()
                / mean.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!((errs[level].e_low / e_low - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn bad_inputs_are_refused() {
        let x = pseudo(4, 2, 7);
        assert!(Filter::new(x.view(), &[0.0]).is_err());
        assert!(Filter::new(x.view(), &[f64::NAN]).is_err());
        assert!(Filter::new(x.view(), &[]).is_err());
        assert!(Filter::new(Array2::zeros((0, 2)).view(), &[1.0]).is_err());
        let mut bad = x.clone();
        bad[[1, 1]] = f64::INFINITY;
        let e = Filter::new(bad.view(), &[1.0]).err().unwrap().to_string();
        assert!(e.contains("point 1, coordinate 1"), "{e}");
    }

    /// The cost at MNIST-1D size (n = 4000, d = 40, K = 10), one delta; printed with
    /// `cargo test --lib filtering -- --nocapture` (timings of the test build).
    #[test]
    fn cost_at_mnist1d_size() {
        let (n, d, k) = (4000, 40, 10);
        let x = pseudo(n, d, 8);
        let y = pseudo(n, k, 9);
        let h = &y * 0.9;
        let t0 = Instant::now();
        let filter = Filter::new(x.view(), &[3.0]).unwrap();
        let build = t0.elapsed();
        let t1 = Instant::now();
        let errs = filter.errors(y.view(), h.view());
        let eval = t1.elapsed();
        println!(
            "filtering n={n} d={d} K={k}, 1 delta: build {:.3} s, one evaluation {:.1} ms, weights {} MB",
            build.as_secs_f64(),
            eval.as_secs_f64() * 1e3,
            filter.memory_bytes() >> 20
        );
        // h = 0.9 y: both parts are off by exactly 10%.
        assert!((errs[0].e_low - 0.1).abs() < 1e-5 && (errs[0].e_high - 0.1).abs() < 1e-5);
    }
}
