//! Planned real-to-complex FFT of one fixed length, plus the Parseval bin weights.
//!
//! Conventions (used by the whole `spectral` module):
//!
//! - Grid: `t_n = n / N` for `n = 0..N` on `[0, 1)`, without the endpoint.
//! - Frequencies are in cycles per unit length, so bin `k` is exactly `k` cycles.
//! - DFT, unnormalised (as realfft/rustfft and numpy compute it):
//!   `X_k = sum_n x_n exp(-2 pi i k n / N)`.
//! - One-sided bins `k = 0..=N/2` (`N/2` rounded down): `N/2 + 1` bins. For odd `N` there is
//!   no Nyquist bin.
//! - Parseval weight `w_k`: 1 for `k = 0` and for `k = N/2` when `N` is even, else 2 (an
//!   interior bin stands for itself and its conjugate twin).
//! - Energy of bin `k`: `w_k |X_k|^2 / N^2`; summed over all one-sided bins it equals
//!   `mean(x^2)`.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

pub use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// Forward real FFT planned once for a length `N`, owning all its buffers.
///
/// [`RealFft1d::forward`] copies its input into an owned buffer (realfft destroys its input),
/// so the caller's data is untouched and no call allocates.
pub struct RealFft1d {
    plan: Arc<dyn RealToComplex<f64>>,
    input: Vec<f64>,
    output: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl fmt::Debug for RealFft1d {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RealFft1d").field("n", &self.len()).finish()
    }
}

impl RealFft1d {
    /// Plans the forward transform for `n` real samples.
    ///
    /// # Panics
    /// If `n == 0`.
    pub fn new(n: usize) -> Self {
        assert!(
            n > 0,
            "RealFft1d::new: the transform length must be at least 1"
        );
        let plan = RealFftPlanner::<f64>::new().plan_fft_forward(n);
        let input = plan.make_input_vec();
        let output = plan.make_output_vec();
        let scratch = plan.make_scratch_vec();
        Self {
            plan,
            input,
            output,
            scratch,
        }
    }

    /// The number of real samples `N` this transform was planned for.
    pub fn len(&self) -> usize {
        self.input.len()
    }

    /// Always false: a transform has at least one sample.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// The number of one-sided bins, `N/2 + 1`.
    pub fn num_bins(&self) -> usize {
        self.output.len()
    }

    /// Unnormalised one-sided spectrum `X_k`, `k = 0..=N/2`, of `x`.
    ///
    /// # Panics
    /// If `x.len() != self.len()`.
    pub fn forward(&mut self, x: &[f64]) -> &[Complex<f64>] {
        assert_eq!(
            x.len(),
            self.len(),
            "RealFft1d::forward: input has {} samples but the transform was planned for {}",
            x.len(),
            self.len()
        );
        self.input.copy_from_slice(x);
        self.plan
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .expect("buffer lengths come from the plan itself");
        &self.output
    }
}

/// The real FFT of a grid of any number of dims behind one interface: 1D one-sided bins
/// `k = 0..=N/2`, or the 2D half plane `[ky * N + kx]` (see [`super::fft2d`]).
#[derive(Debug)]
pub enum Transform {
    D1(RealFft1d),
    D2(super::fft2d::RealFft2d),
}

impl Transform {
    /// Plans the transform for a grid `[N]` or `[N, M]`.
    ///
    /// # Panics
    /// If `dims` has another length than 1 or 2, or a zero entry.
    pub fn new(dims: &[usize]) -> Self {
        match *dims {
            [n] => Transform::D1(RealFft1d::new(n)),
            [n, m] => Transform::D2(super::fft2d::RealFft2d::new(n, m)),
            _ => panic!(
                "Transform::new: grids of {} dims are not supported (1 or 2)",
                dims.len()
            ),
        }
    }

    /// The unnormalised spectrum of `x` (row-major values of the grid).
    pub fn forward(&mut self, x: &[f64]) -> &[Complex<f64>] {
        match self {
            Transform::D1(f) => f.forward(x),
            Transform::D2(f) => f.forward(x),
        }
    }
}

/// Number of one-sided bins for `n` samples: `n/2 + 1`.
pub fn num_bins(n: usize) -> usize {
    n / 2 + 1
}

/// Parseval weight of one-sided bin `k` for `n` samples: 1 for DC and for the Nyquist bin
/// `k = n/2` of an even `n`, 2 for every other bin.
pub fn bin_weight(k: usize, n: usize) -> f64 {
    if k == 0 || 2 * k == n {
        1.0
    } else {
        2.0
    }
}

/// Parseval-consistent energy of one bin: `w_k |x_k|^2 / n^2`.
pub fn bin_energy(x_k: Complex<f64>, k: usize, n: usize) -> f64 {
    let n = n as f64;
    bin_weight(k, n as usize) * x_k.norm_sqr() / (n * n)
}

/// Energy `(1/N^2) sum_{k in bins} w_k |X_k|^2` of a contiguous bin range of a one-sided
/// spectrum of `n` samples. Over all bins `0..=n/2` it equals `mean(x^2)`.
///
/// # Panics
/// If `bins` reaches past the end of `spectrum`.
pub fn band_energy_of_spectrum(spectrum: &[Complex<f64>], n: usize, bins: Range<usize>) -> f64 {
    spectrum[bins.clone()]
        .iter()
        .zip(bins)
        .map(|(x_k, k)| bin_energy(*x_k, k, n))
        .sum()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64;
    use std::f64::consts::PI;

    /// Slow O(N^2) one-sided DFT, the reference for the planned transform.
    pub(crate) fn direct_dft(x: &[f64]) -> Vec<Complex<f64>> {
        let n = x.len();
        (0..=n / 2)
            .map(|k| {
                x.iter()
                    .enumerate()
                    .map(|(j, &v)| {
                        let angle = -2.0 * PI * (k * j) as f64 / n as f64;
                        Complex::new(v * angle.cos(), v * angle.sin())
                    })
                    .sum()
            })
            .collect()
    }

    fn random_signal(rng: &mut Pcg64, n: usize) -> Vec<f64> {
        (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    #[test]
    fn forward_matches_direct_dft() {
        let mut rng = Pcg64::seed_from_u64(7);
        for &n in &[1usize, 2, 7, 16, 33, 100] {
            let mut fft = RealFft1d::new(n);
            assert_eq!(fft.len(), n);
            assert_eq!(fft.num_bins(), n / 2 + 1);
            for _ in 0..3 {
                let x = random_signal(&mut rng, n);
                let copy = x.clone();
                let expected = direct_dft(&x);
                let got = fft.forward(&x);
                assert_eq!(got.len(), expected.len());
                for (k, (g, e)) in got.iter().zip(&expected).enumerate() {
                    assert!((g - e).norm() < 1e-10, "n={n} k={k}: {g} vs {e}");
                }
                assert_eq!(x, copy, "forward must not touch the caller's data");
            }
        }
    }

    #[test]
    fn bin_energies_sum_to_mean_square() {
        let mut rng = Pcg64::seed_from_u64(11);
        for &n in &[7usize, 16, 33, 100] {
            let mut fft = RealFft1d::new(n);
            let x = random_signal(&mut rng, n);
            let mean_sq = x.iter().map(|v| v * v).sum::<f64>() / n as f64;
            let fast = band_energy_of_spectrum(fft.forward(&x), n, 0..n / 2 + 1);
            let direct = band_energy_of_spectrum(&direct_dft(&x), n, 0..n / 2 + 1);
            assert!((fast - mean_sq).abs() < 1e-12 * mean_sq, "n={n}");
            assert!((direct - mean_sq).abs() < 1e-12 * mean_sq, "n={n}");
        }
    }

    #[test]
    fn weights_at_dc_interior_and_nyquist() {
        assert_eq!(bin_weight(0, 8), 1.0);
        assert_eq!(bin_weight(1, 8), 2.0);
        assert_eq!(bin_weight(3, 8), 2.0);
        assert_eq!(bin_weight(4, 8), 1.0);
        assert_eq!(bin_weight(0, 7), 1.0);
        assert_eq!(bin_weight(3, 7), 2.0, "odd N has no Nyquist bin");
        assert_eq!(num_bins(8), 5);
        assert_eq!(num_bins(7), 4);
    }

    #[test]
    fn constant_and_alternating_signals() {
        for &n in &[6usize, 9, 64] {
            let mut fft = RealFft1d::new(n);
            let c = -1.7;
            let spec = fft.forward(&vec![c; n]).to_vec();
            assert!((bin_energy(spec[0], 0, n) - c * c).abs() < 1e-12);
            let rest = band_energy_of_spectrum(&spec, n, 1..n / 2 + 1);
            assert!(rest < 1e-24, "n={n}: {rest}");
            if n % 2 == 0 {
                let alt: Vec<f64> = (0..n)
                    .map(|j| if j % 2 == 0 { 1.0 } else { -1.0 })
                    .collect();
                let spec = fft.forward(&alt).to_vec();
                assert!((bin_energy(spec[n / 2], n / 2, n) - 1.0).abs() < 1e-12);
                assert!(band_energy_of_spectrum(&spec, n, 0..n / 2) < 1e-24);
            }
        }
    }
}
