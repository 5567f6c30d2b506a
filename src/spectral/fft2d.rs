//! Planned real 2D FFT of one fixed grid size, plus the Parseval weights of the half plane.
//!
//! Conventions (the 2D counterpart of [`super::fft`]):
//!
//! - Grid: `N x M` points `(x_i, y_j) = (i/N, j/M)`, `i = 0..N`, `j = 0..M`, on `[0, 1)^2`
//!   without the endpoints. Values are stored row-major with `j` fastest: `v[i * M + j]`
//!   (numpy: `V[i, j]` with `indexing="ij"`).
//! - DFT, unnormalised: `X(kx, ky) = sum_{i,j} v_ij exp(-2 pi i (kx i / N + ky j / M))`.
//! - The input is real, so `X(-k) = conj(X(k))`: only the half plane `ky = 0..=M/2`
//!   (`M/2` rounded down), `kx = 0..N` is computed (a real FFT along `y`, then a complex FFT
//!   along `x`). Bin `kx` stands for the signed frequency `kx` if `kx <= N/2`, else `kx - N`.
//! - Parseval weight `w(ky)`: 1 for the `ky = 0` column and for the Nyquist column
//!   `ky = M/2` when `M` is even (those columns hold both members of each conjugate pair),
//!   else 2. The energy of a bin is `w |X|^2 / (N M)^2`; over the half plane it sums to
//!   `mean(v^2)`.
//! - The spectrum is stored column-major in `kx`: `spectrum[ky * N + kx]`, so each column
//!   transform runs on a contiguous slice.

use std::fmt;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};

/// Forward real 2D FFT planned once for an `N x M` grid, owning all its buffers: no call
/// allocates, and the caller's data is never touched.
pub struct RealFft2d {
    n: usize,
    m: usize,
    row_plan: Arc<dyn RealToComplex<f64>>,
    col_plan: Arc<dyn Fft<f64>>,
    row_in: Vec<f64>,
    row_out: Vec<Complex<f64>>,
    row_scratch: Vec<Complex<f64>>,
    col_scratch: Vec<Complex<f64>>,
    spectrum: Vec<Complex<f64>>,
}

impl fmt::Debug for RealFft2d {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RealFft2d")
            .field("n", &self.n)
            .field("m", &self.m)
            .finish()
    }
}

impl RealFft2d {
    /// Plans the transform for an `n x m` grid (`n` points along x, `m` along y).
    ///
    /// # Panics
    /// If `n == 0` or `m == 0`.
    pub fn new(n: usize, m: usize) -> Self {
        assert!(
            n > 0 && m > 0,
            "RealFft2d::new: both grid sizes must be at least 1 (got {n} x {m})"
        );
        let row_plan = RealFftPlanner::<f64>::new().plan_fft_forward(m);
        let col_plan = FftPlanner::<f64>::new().plan_fft_forward(n);
        let half = m / 2 + 1;
        Self {
            n,
            m,
            row_in: row_plan.make_input_vec(),
            row_out: row_plan.make_output_vec(),
            row_scratch: row_plan.make_scratch_vec(),
            col_scratch: vec![Complex::new(0.0, 0.0); col_plan.get_inplace_scratch_len()],
            spectrum: vec![Complex::new(0.0, 0.0); half * n],
            row_plan,
            col_plan,
        }
    }

    /// Grid size `(N, M)`.
    pub fn dims(&self) -> (usize, usize) {
        (self.n, self.m)
    }

    /// Number of half-plane columns `M/2 + 1`.
    pub fn num_cols(&self) -> usize {
        self.m / 2 + 1
    }

    /// Unnormalised half-plane spectrum of `v` (row-major `v[i * M + j]`), stored as
    /// `out[ky * N + kx]`, `ky = 0..=M/2`, `kx = 0..N`.
    ///
    /// # Panics
    /// If `v.len() != N * M`.
    pub fn forward(&mut self, v: &[f64]) -> &[Complex<f64>] {
        let (n, m) = (self.n, self.m);
        assert_eq!(
            v.len(),
            n * m,
            "RealFft2d::forward: input has {} values but the grid is {n} x {m}",
            v.len()
        );
        for (i, row) in v.chunks_exact(m).enumerate() {
            self.row_in.copy_from_slice(row);
            self.row_plan
                .process_with_scratch(&mut self.row_in, &mut self.row_out, &mut self.row_scratch)
                .expect("buffer lengths come from the plan itself");
            for (ky, &c) in self.row_out.iter().enumerate() {
                self.spectrum[ky * n + i] = c;
            }
        }
        // rustfft transforms every consecutive length-N chunk: one call for all columns.
        self.col_plan
            .process_with_scratch(&mut self.spectrum, &mut self.col_scratch);
        &self.spectrum
    }
}

/// Parseval weight of half-plane column `ky` of an `m`-point y axis: 1 for `ky = 0` and for
/// `ky = m/2` when `m` is even, else 2.
pub fn col_weight(ky: usize, m: usize) -> f64 {
    if ky == 0 || 2 * ky == m {
        1.0
    } else {
        2.0
    }
}

/// The signed frequency of FFT index `k` on an `n`-point axis: `k` if `k <= n/2`, else
/// `k - n`.
pub fn signed_freq(k: usize, n: usize) -> i64 {
    if 2 * k <= n {
        k as i64
    } else {
        k as i64 - n as i64
    }
}

/// The FFT index of signed frequency `f` on an `n`-point axis (`f mod n`).
pub fn fft_index(f: i64, n: usize) -> usize {
    f.rem_euclid(n as i64) as usize
}

/// The half-plane bin `(kx index, ky)` holding frequency `(fx, fy)` and whether the stored
/// value is the conjugate of `X(fx, fy)` (true when `fy < 0`, or for `fy = 0`, never: the
/// `ky = 0` column stores both signs).
pub fn half_plane_bin(fx: i64, fy: i64, n: usize, m: usize) -> (usize, usize, bool) {
    let ky = fft_index(fy, m);
    if 2 * ky <= m {
        (fft_index(fx, n), ky, false)
    } else {
        (fft_index(-fx, n), fft_index(-fy, m), true)
    }
}

/// The full two-sided power spectrum `|X(kx, ky)|^2 / (N M)^2` of a half-plane spectrum
/// (as [`RealFft2d::forward`] returns it), fftshifted so the zero frequency sits at
/// `(N/2, M/2)`, row-major `out[a * M + b]` with `a` the shifted `kx` (signed frequency
/// `a - N/2`) and `b` the shifted `ky`. Every entry sums to `mean(v^2)`.
pub fn shifted_power(spectrum: &[Complex<f64>], n: usize, m: usize) -> Vec<f64> {
    assert_eq!(spectrum.len(), n * (m / 2 + 1), "shifted_power: wrong size");
    let norm = ((n * m) as f64).powi(2);
    let mut out = vec![0.0; n * m];
    for a in 0..n {
        let fx = a as i64 - (n / 2) as i64;
        for b in 0..m {
            let fy = b as i64 - (m / 2) as i64;
            let (kx, ky, _) = half_plane_bin(fx, fy, n, m);
            out[a * m + b] = spectrum[ky * n + kx].norm_sqr() / norm;
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64;
    use std::f64::consts::PI;

    /// Direct O(N^2 M^2) 2D DFT over the half plane, stored like [`RealFft2d::forward`].
    pub(crate) fn direct_dft2(v: &[f64], n: usize, m: usize) -> Vec<Complex<f64>> {
        let half = m / 2 + 1;
        let mut out = vec![Complex::new(0.0, 0.0); half * n];
        for ky in 0..half {
            for kx in 0..n {
                let mut s = Complex::new(0.0, 0.0);
                for i in 0..n {
                    for j in 0..m {
                        let angle = -2.0
                            * PI
                            * ((kx * i % n) as f64 / n as f64 + (ky * j % m) as f64 / m as f64);
                        s += Complex::from_polar(v[i * m + j], angle);
                    }
                }
                out[ky * n + kx] = s;
            }
        }
        out
    }

    #[test]
    fn forward_matches_direct_dft_on_small_grids() {
        let mut rng = Pcg64::seed_from_u64(3);
        for &(n, m) in &[
            (1, 1),
            (1, 5),
            (4, 1),
            (3, 4),
            (4, 6),
            (5, 7),
            (8, 8),
            (6, 9),
        ] {
            let mut fft = RealFft2d::new(n, m);
            let v: Vec<f64> = (0..n * m).map(|_| rng.random_range(-1.0..1.0)).collect();
            let copy = v.clone();
            let want = direct_dft2(&v, n, m);
            let got = fft.forward(&v);
            for (idx, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).norm() < 1e-10, "{n}x{m} bin {idx}: {g} vs {w}");
            }
            assert_eq!(v, copy);
        }
    }

    #[test]
    fn weighted_half_plane_energy_is_mean_square() {
        let mut rng = Pcg64::seed_from_u64(17);
        for _ in 0..40 {
            let n = rng.random_range(1..24usize);
            let m = rng.random_range(1..24usize);
            let v: Vec<f64> = (0..n * m).map(|_| rng.random_range(-2.0..2.0)).collect();
            let mean_sq = v.iter().map(|x| x * x).sum::<f64>() / (n * m) as f64;
            let mut fft = RealFft2d::new(n, m);
            let spec = fft.forward(&v).to_vec();
            let norm = ((n * m) as f64).powi(2);
            let e: f64 = (0..m / 2 + 1)
                .flat_map(|ky| (0..n).map(move |kx| (kx, ky)))
                .map(|(kx, ky)| col_weight(ky, m) * spec[ky * n + kx].norm_sqr() / norm)
                .sum();
            assert!((e - mean_sq).abs() < 1e-12 * mean_sq, "{n}x{m}");
            let full: f64 = shifted_power(&spec, n, m).iter().sum();
            assert!((full - mean_sq).abs() < 1e-12 * mean_sq, "{n}x{m} shifted");
        }
    }

    #[test]
    fn half_plane_bins_and_signed_frequencies() {
        assert_eq!(signed_freq(0, 8), 0);
        assert_eq!(signed_freq(4, 8), 4);
        assert_eq!(signed_freq(5, 8), -3);
        assert_eq!(signed_freq(3, 7), 3);
        assert_eq!(signed_freq(4, 7), -3);
        assert_eq!(half_plane_bin(2, 3, 8, 8), (2, 3, false));
        assert_eq!(half_plane_bin(2, -3, 8, 8), (6, 3, true));
        assert_eq!(half_plane_bin(-2, 0, 8, 8), (6, 0, false));
    }
}
