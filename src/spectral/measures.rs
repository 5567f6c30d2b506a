//! The per-epoch spectral monitor, one for grids of any dims: residual band energies and
//! per-peak frequency measures, computed into preallocated buffers over the weighted bins of a
//! [`Layout`], plus their stable names and definitions.
//!
//! Notation: target `y`, prediction `h`, residual `r = h - y`, all on the grid of `P` points
//! (`N` in 1D, `N x M` in 2D); `Y_k`, `H_k`, `R_k = H_k - Y_k` their unnormalised DFTs over
//! the one-sided bins (1D) or the half plane (2D, see [`super::fft2d`]); band energy
//! `E_b(x) = (1/P^2) sum_{k in b} w_k |X_k|^2`, so `sum_b E_b(r) = MSE`. Target peaks are
//! `(k_i, A_i)`: signed frequency in cycles per dim and amplitude (1D: `A_i` of
//! `A_i sin(2 pi k_i t + phase)`; 2D: the plane-wave amplitude `2 |Y_clean(k)| / (N M)`).
//! Per peak: `fp_rel_error = |R_k| / |Y_k|`, `fp_rel_error_mag = ||H_k| - |Y_k|| /
//! (1e-5 + |Y_k|)`, `rahaman_amplitude = 2 |H_k| / P / A_i`.

use serde::Serialize;
use serde_json::json;

use super::bands2d::Layout;
use super::fft::{Complex, Transform};

/// Column name: mean squared residual `mean((h - y)^2)`, one value per epoch.
pub const MSE: &str = "mse";
/// Column name: per-band residual energy `E_b(r)`.
pub const RESIDUAL_ENERGY: &str = "residual_energy";
/// Column name: per-band target energy `E_b(y)` (constant over epochs).
pub const TARGET_ENERGY: &str = "target_energy";
/// Column name: per-band relative error `E_b(r) / E_b(y)`.
pub const REL_ERROR: &str = "rel_error";
/// Column name: per-band share of the residual energy `E_b(r) / sum_b E_b(r)`.
pub const SHARE: &str = "share";
/// Column name: per-component F-Principle relative error, phase-aware (documented form).
pub const FP_REL_ERROR: &str = "fp_rel_error";
/// Column name: per-component F-Principle relative error, phase-blind (as their code computes).
pub const FP_REL_ERROR_MAG: &str = "fp_rel_error_mag";
/// Column name: per-component Rahaman et al. normalised prediction amplitude.
pub const RAHAMAN_AMPLITUDE: &str = "rahaman_amplitude";
/// Column name: per-bin residual amplitude `|R_k|` (Tancik et al. style, for figures).
pub const RESIDUAL_AMPLITUDE: &str = "residual_amplitude";

/// Offset in the phase-blind F-Principle denominator, as in the F-Principle code.
pub const FP_MAG_EPS: f64 = 1e-5;

/// Target bins whose energy `w_k |Y_k|^2 / N^2` is at most this fraction of `mean(y^2)` are
/// FFT round-off (a relative amplitude below about 1e-12) and are set to exactly zero, so that
/// bands and components without target content get `E_b(y) = 0` / `Y_k = 0` (hence NaN
/// relative errors) rather than a huge ratio to round-off.
pub const TARGET_ROUNDOFF_FLOOR: f64 = 1e-24;

/// The measures of one epoch. Create it once with [`SpectralMonitor::new_epoch_spectrum`]
/// and refill it with [`SpectralMonitor::analyse`]; band vectors are indexed like
/// the layout's bands, peak vectors like the monitor's peaks.
#[derive(Debug, Clone, Serialize)]
pub struct EpochSpectrum {
    /// `mean(r^2)`, computed in the time domain (equals the sum of `residual_energy`).
    pub mse: f64,
    /// `E_b(r)` per band.
    pub residual_energy: Vec<f64>,
    /// `E_b(y)` per band (exactly 0 where the target has only round-off there).
    pub target_energy: Vec<f64>,
    /// `E_b(r) / E_b(y)` per band; NaN where `E_b(y) == 0` (undefined: no target energy).
    pub rel_error: Vec<f64>,
    /// `E_b(r) / sum_b E_b(r)` per band; NaN when the residual is exactly zero.
    pub share: Vec<f64>,
    /// `|H_k - Y_k| / |Y_k|` per component; NaN where `Y_k == 0`.
    pub fp_rel_error: Vec<f64>,
    /// `||H_k| - |Y_k|| / (1e-5 + |Y_k|)` per component.
    pub fp_rel_error_mag: Vec<f64>,
    /// `2 |H_k / N| / |A_i|` per component; NaN where `A_i == 0`.
    pub rahaman_amplitude: Vec<f64>,
}

/// One target peak: its signed frequency (one entry per grid dim, cycles per unit length)
/// and its amplitude (1D: `A_i` of `A_i sin(2 pi k_i t + phase)`; 2D: the plane-wave
/// amplitude `2 |Y_clean(k)| / (N M)`, `k` in the half plane).
#[derive(Debug, Clone, PartialEq)]
pub struct Peak {
    pub k: Vec<i64>,
    pub amplitude: f64,
}

impl Peak {
    pub fn new(k: &[i64], amplitude: f64) -> Peak {
        Peak {
            k: k.to_vec(),
            amplitude,
        }
    }
}

/// Computes every epoch's spectral measures for one grid (any dims), target and band layout,
/// over weighted bins, without allocating after construction.
#[derive(Debug)]
pub struct SpectralMonitor {
    layout: Layout,
    peaks: Vec<Peak>,
    /// Spectrum index of each peak.
    peak_bins: Vec<usize>,
    target: Vec<f64>,
    fft: Transform,
    target_spectrum: Vec<Complex<f64>>,
    target_energy: Vec<f64>,
    residual: Vec<f64>,
    amplitude: Vec<f64>,
    /// Per-bin factor `c_k` and divisor `d`: bin energy `c_k |X_k|^2 / d`.
    weight: Vec<f64>,
    divisor: f64,
}

impl SpectralMonitor {
    /// Plans the FFT and precomputes the target spectrum `Y_k` and band energies `E_b(y)`.
    /// Target bins at round-off level are zeroed (see [`TARGET_ROUNDOFF_FLOOR`]).
    /// `peaks` lists the target's peaks (per-peak measures are reported in this order).
    ///
    /// # Panics
    /// If `target.len()` is not the layout's number of grid points, or a peak lies off the
    /// grid (validate the target config before building the monitor).
    pub fn new(target: &[f64], layout: impl Into<Layout>, peaks: &[Peak]) -> Self {
        let layout = layout.into();
        let dims = layout.dims();
        let points: usize = dims.iter().product();
        assert_eq!(
            target.len(),
            points,
            "SpectralMonitor::new: target has {} values but the band layout was built for a {dims:?} grid",
            target.len()
        );
        let peak_bins = peaks.iter().map(|p| layout.bin_of(&p.k)).collect();
        let (weight, divisor) = layout.weights();
        let mut fft = Transform::new(&dims);
        let mut target_spectrum = fft.forward(target).to_vec();
        let mean_sq = target.iter().map(|y| y * y).sum::<f64>() / points as f64;
        for (y_k, c) in target_spectrum.iter_mut().zip(&weight) {
            if c * y_k.norm_sqr() / divisor <= TARGET_ROUNDOFF_FLOOR * mean_sq {
                *y_k = Complex::new(0.0, 0.0);
            }
        }
        let mut target_energy = vec![0.0; layout.len()];
        for ((y_k, c), &b) in target_spectrum
            .iter()
            .zip(&weight)
            .zip(layout.band_of_bins())
        {
            target_energy[b] += c * y_k.norm_sqr() / divisor;
        }
        let num_bins = target_spectrum.len();
        Self {
            layout,
            peaks: peaks.to_vec(),
            peak_bins,
            target: target.to_vec(),
            fft,
            target_spectrum,
            target_energy,
            residual: vec![0.0; points],
            amplitude: vec![0.0; num_bins],
            weight,
            divisor,
        }
    }

    /// The band layout the monitor reports on.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The target peaks, in the order of the per-peak outputs.
    pub fn peaks(&self) -> &[Peak] {
        &self.peaks
    }

    /// The target values `y` on the grid.
    pub fn target(&self) -> &[f64] {
        &self.target
    }

    /// The target's spectrum `Y_k` (laid out as [`Transform::forward`] returns it).
    pub fn target_spectrum(&self) -> &[Complex<f64>] {
        &self.target_spectrum
    }

    /// The target's band energies `E_b(y)`.
    pub fn target_energy(&self) -> &[f64] {
        &self.target_energy
    }

    /// A correctly sized output for [`SpectralMonitor::analyse`] (per-epoch values NaN until
    /// filled, `target_energy` already copied in).
    pub fn new_epoch_spectrum(&self) -> EpochSpectrum {
        let bands = self.layout.len();
        let comps = self.peaks.len();
        EpochSpectrum {
            mse: f64::NAN,
            residual_energy: vec![f64::NAN; bands],
            target_energy: self.target_energy.clone(),
            rel_error: vec![f64::NAN; bands],
            share: vec![f64::NAN; bands],
            fp_rel_error: vec![f64::NAN; comps],
            fp_rel_error_mag: vec![f64::NAN; comps],
            rahaman_amplitude: vec![f64::NAN; comps],
        }
    }

    /// Fills `out` with the measures of `prediction` (the network output `h` on the grid).
    /// Allocates nothing.
    ///
    /// # Panics
    /// If `prediction` has the wrong length or `out` was not made by this monitor's
    /// [`SpectralMonitor::new_epoch_spectrum`].
    pub fn analyze(&mut self, prediction: &[f64], out: &mut EpochSpectrum) {
        let n = self.residual.len();
        assert_eq!(
            out.residual_energy.len(),
            self.layout.len(),
            "EpochSpectrum of another monitor"
        );
        assert_eq!(
            out.fp_rel_error.len(),
            self.peaks.len(),
            "EpochSpectrum of another monitor"
        );
        self.fill_residual(prediction);
        out.mse = self.residual.iter().map(|r| r * r).sum::<f64>() / n as f64;

        let spectrum = self.fft.forward(&self.residual);
        out.residual_energy.fill(0.0);
        for ((r_k, c), &b) in spectrum
            .iter()
            .zip(&self.weight)
            .zip(self.layout.band_of_bins())
        {
            out.residual_energy[b] += c * r_k.norm_sqr() / self.divisor;
        }
        let total: f64 = out.residual_energy.iter().sum();
        out.target_energy.copy_from_slice(&self.target_energy);
        for b in 0..out.residual_energy.len() {
            let e_r = out.residual_energy[b];
            let e_y = self.target_energy[b];
            out.rel_error[b] = if e_y == 0.0 { f64::NAN } else { e_r / e_y };
            out.share[b] = if total == 0.0 { f64::NAN } else { e_r / total };
        }

        for (i, (p, &bin)) in self.peaks.iter().zip(&self.peak_bins).enumerate() {
            let r_k = spectrum[bin];
            let y_k = self.target_spectrum[bin];
            let h_k = r_k + y_k;
            let y_abs = y_k.norm();
            out.fp_rel_error[i] = if y_abs == 0.0 {
                f64::NAN
            } else {
                r_k.norm() / y_abs
            };
            out.fp_rel_error_mag[i] = (h_k.norm() - y_abs).abs() / (FP_MAG_EPS + y_abs);
            out.rahaman_amplitude[i] = if p.amplitude == 0.0 {
                f64::NAN
            } else {
                2.0 * h_k.norm() / n as f64 / p.amplitude.abs()
            };
        }
    }

    /// The residual amplitude spectrum `|R_k|` (unnormalised, laid out as
    /// [`Transform::forward`] returns it) of `prediction`. The slice is overwritten by the
    /// next call. Allocates nothing.
    ///
    /// # Panics
    /// If `prediction` has the wrong length.
    pub fn residual_spectrum(&mut self, prediction: &[f64]) -> &[f64] {
        self.fill_residual(prediction);
        let spectrum = self.fft.forward(&self.residual);
        for (a, r_k) in self.amplitude.iter_mut().zip(spectrum) {
            *a = r_k.norm();
        }
        &self.amplitude
    }

    fn fill_residual(&mut self, prediction: &[f64]) {
        assert_eq!(
            prediction.len(),
            self.residual.len(),
            "SpectralMonitor: prediction has {} values but the grid has {}",
            prediction.len(),
            self.residual.len()
        );
        for ((r, &h), &y) in self.residual.iter_mut().zip(prediction).zip(&self.target) {
            *r = h - y;
        }
    }
}

/// Name, formula, source and NaN meaning of every measure the monitor writes, for run.json's
/// conventions block and the README table. Names are the `pub const` column names above.
pub fn measure_definitions() -> serde_json::Value {
    json!([
        {
            "name": MSE,
            "per": "epoch",
            "formula": "mean_n (h_n - y_n)^2 = sum_b E_b(r)",
            "source": "standard; Parseval check of the band energies",
            "nan": "never (unless the prediction is NaN)",
        },
        {
            "name": RESIDUAL_ENERGY,
            "per": "band",
            "formula": "E_b(r) = (1/N^2) sum_{k in b} w_k |R_k|^2, w_k = 1 at k = 0 and k = N/2 (N even), else 2",
            "source": "bandwise (Parseval-consistent band energy; sums to the MSE)",
            "nan": "never (unless the prediction is NaN)",
        },
        {
            "name": TARGET_ENERGY,
            "per": "band",
            "formula": "E_b(y) = (1/N^2) sum_{k in b} w_k |Y_k|^2; bins with w_k |Y_k|^2 / N^2 <= 1e-24 mean(y^2) are FFT round-off and set to 0",
            "source": "bandwise",
            "nan": "never",
        },
        {
            "name": REL_ERROR,
            "per": "band",
            "formula": "E_b(r) / E_b(y)",
            "source": "bandwise (relative band error)",
            "nan": "undefined: the target has no energy in this band (E_b(y) = 0)",
        },
        {
            "name": SHARE,
            "per": "band",
            "formula": "E_b(r) / sum_b E_b(r)",
            "source": "bandwise (where the remaining error lives)",
            "nan": "undefined: the residual is exactly zero (MSE = 0)",
        },
        {
            "name": FP_REL_ERROR,
            "per": "component",
            "phase_aware": true,
            "formula": "|H_k - Y_k| / |Y_k| at the component's bin k (unnormalised DFT; Y_k at round-off level is set to 0)",
            "source": "Xu et al., arXiv:1901.06523 (F-Principle, documented form); xuzhiqin1990/dnn_simple_experiments frequency_principle/fprinciple_brief.ipynb",
            "nan": "undefined: the target has no amplitude at this bin (Y_k = 0)",
        },
        {
            "name": FP_REL_ERROR_MAG,
            "per": "component",
            "phase_aware": false,
            "formula": "||H_k| - |Y_k|| / (1e-5 + |Y_k|) at the component's bin k, unnormalised DFT",
            "source": "xuzhiqin1990/F-Principle main_1d_20190924.py (what the F-Principle code computes); never larger than fp_rel_error up to the 1e-5 offset",
            "nan": "never (unless the prediction is NaN)",
        },
        {
            "name": RAHAMAN_AMPLITUDE,
            "per": "component",
            "phase_aware": false,
            "formula": "2 |H_k / N| / |A_i| (normalised amplitude of the prediction at k_i; 1 = fitted, 0 = absent)",
            "source": "Rahaman et al., arXiv:1806.08734; nasimrahaman/SpectralBias",
            "nan": "undefined: the component's amplitude A_i is 0",
        },
        {
            "name": RESIDUAL_AMPLITUDE,
            "per": "bin",
            "phase_aware": true,
            "formula": "|R_k|, k = 0..=N/2, unnormalised DFT of the residual",
            "source": "Tancik et al., NeurIPS 2020 (Fourier features): raw residual DFT magnitude against iteration, log axis",
            "nan": "never (unless the prediction is NaN)",
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::super::bands::{tests::layouts_for, BandLayout, LayoutSpec};
    use super::super::fft::tests::direct_dft;
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64;
    use std::f64::consts::PI;

    fn grid(n: usize) -> Vec<f64> {
        (0..n).map(|j| j as f64 / n as f64).collect()
    }

    /// `sum_i A_i sin(2 pi k_i t + 2 pi phi_i)` on the grid.
    fn sines(n: usize, parts: &[(usize, f64, f64)]) -> Vec<f64> {
        grid(n)
            .iter()
            .map(|t| {
                parts
                    .iter()
                    .map(|&(k, a, phi)| a * (2.0 * PI * k as f64 * t + 2.0 * PI * phi).sin())
                    .sum()
            })
            .collect()
    }

    fn all_layouts(n: usize) -> Vec<(LayoutSpec, Vec<usize>)> {
        if n >= 8 {
            layouts_for(n)
        } else {
            vec![
                (LayoutSpec::Octave, vec![]),
                (LayoutSpec::Uniform { bands: 2 }, vec![]),
            ]
        }
    }

    fn monitor(target: &[f64], spec: &LayoutSpec, freqs: &[usize]) -> SpectralMonitor {
        let layout = BandLayout::build(spec, target.len(), freqs).unwrap();
        let components: Vec<Peak> = freqs.iter().map(|&k| Peak::new(&[k as i64], 1.0)).collect();
        SpectralMonitor::new(target, layout, &components)
    }

    fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
        a.iter().zip(b).map(|(x, y)| x + y).collect()
    }

    #[test]
    fn pure_sinusoid_lands_in_its_band() {
        for &n in &[8usize, 9, 16, 33, 64, 100, 257] {
            let target = sines(n, &[(1, 0.7, 0.1), (3, 0.2, 0.0)]);
            let ks = [0, 1, 2, 3, n / 4, n / 2 - 1, n / 2];
            for (spec, freqs) in all_layouts(n) {
                let mut mon = monitor(&target, &spec, &freqs);
                let mut out = mon.new_epoch_spectrum();
                for &k in &ks {
                    let residual: Vec<f64> = grid(n)
                        .iter()
                        .map(|t| 1.3 * (2.0 * PI * k as f64 * t + 0.4).cos())
                        .collect();
                    mon.analyze(&add(&target, &residual), &mut out);
                    let on_bin_edge = k == 0 || 2 * k == n;
                    let expected = if on_bin_edge {
                        (1.3 * 0.4f64.cos()).powi(2)
                    } else {
                        1.3 * 1.3 / 2.0
                    };
                    assert!((out.mse - expected).abs() < 1e-12 * expected, "n={n} k={k}");
                    let home = mon.layout().band_of_bins()[k];
                    for (b, &e) in out.residual_energy.iter().enumerate() {
                        if b == home {
                            assert!(
                                (e - expected).abs() < 1e-12 * expected,
                                "n={n} k={k} {spec:?}"
                            );
                            assert!((out.share[b] - 1.0).abs() < 1e-12);
                        } else {
                            assert!(e < 1e-12 * expected, "n={n} k={k} {spec:?} band {b}: {e}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn band_energies_sum_to_mse_for_random_residuals() {
        let mut rng = Pcg64::seed_from_u64(2024);
        for n in 4..=300 {
            let target: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let prediction: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
            let mse = target
                .iter()
                .zip(&prediction)
                .map(|(y, h)| (h - y) * (h - y))
                .sum::<f64>()
                / n as f64;
            let mean_sq_y = target.iter().map(|y| y * y).sum::<f64>() / n as f64;
            for (spec, freqs) in all_layouts(n) {
                let mut mon = monitor(&target, &spec, &freqs);
                let mut out = mon.new_epoch_spectrum();
                mon.analyze(&prediction, &mut out);
                let total: f64 = out.residual_energy.iter().sum();
                let total_y: f64 = out.target_energy.iter().sum();
                let shares: f64 = out.share.iter().sum();
                assert!((out.mse - mse).abs() < 1e-12 * mse, "n={n}");
                assert!((total - mse).abs() < 1e-12 * mse, "n={n} {spec:?}");
                assert!(
                    (total_y - mean_sq_y).abs() < 1e-12 * mean_sq_y,
                    "n={n} {spec:?}"
                );
                assert!((shares - 1.0).abs() < 1e-12, "n={n} {spec:?}");
                assert!(out.residual_energy.iter().all(|&e| e >= 0.0));
            }
        }
    }

    #[test]
    fn band_energies_match_direct_dft() {
        let mut rng = Pcg64::seed_from_u64(99);
        for &n in &[7usize, 16, 33, 100] {
            let target: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let prediction: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let residual: Vec<f64> = prediction.iter().zip(&target).map(|(h, y)| h - y).collect();
            let slow = direct_dft(&residual);
            for (spec, freqs) in all_layouts(n) {
                let mut mon = monitor(&target, &spec, &freqs);
                let mut out = mon.new_epoch_spectrum();
                mon.analyze(&prediction, &mut out);
                let mut expected = vec![0.0; mon.layout().len()];
                for (k, r_k) in slow.iter().enumerate() {
                    let w = if k == 0 || 2 * k == n { 1.0 } else { 2.0 };
                    expected[mon.layout().band_of_bins()[k]] += w * r_k.norm_sqr() / (n * n) as f64;
                }
                for (got, want) in out.residual_energy.iter().zip(&expected) {
                    assert!((got - want).abs() < 1e-12 * out.mse, "n={n} {spec:?}");
                }
                let amplitude = mon.residual_spectrum(&prediction);
                for (a, r_k) in amplitude.iter().zip(&slow) {
                    assert!((a - r_k.norm()).abs() < 1e-10, "n={n}");
                }
            }
        }
    }

    #[test]
    fn dc_and_nyquist_weights() {
        for &n in &[8usize, 9, 16, 33, 64] {
            let target = vec![0.0; n];
            let constant = vec![-0.8; n];
            let alternating: Vec<f64> = (0..n)
                .map(|j| if j % 2 == 0 { 1.0 } else { -1.0 })
                .collect();
            for (spec, freqs) in all_layouts(n) {
                let mut mon = monitor(&target, &spec, &freqs);
                let mut out = mon.new_epoch_spectrum();
                mon.analyze(&constant, &mut out);
                let dc = mon.layout().band_of_bins()[0];
                assert!(
                    (out.residual_energy[dc] - 0.64).abs() < 1e-12,
                    "n={n} {spec:?}"
                );
                assert!((out.mse - 0.64).abs() < 1e-12);
                if n % 2 == 0 {
                    mon.analyze(&alternating, &mut out);
                    let nyq = mon.layout().band_of_bins()[n / 2];
                    assert!(
                        (out.residual_energy[nyq] - 1.0).abs() < 1e-12,
                        "n={n} {spec:?}"
                    );
                    let elsewhere: f64 = out
                        .residual_energy
                        .iter()
                        .enumerate()
                        .filter(|&(b, _)| b != nyq)
                        .map(|(_, e)| e)
                        .sum();
                    assert!(elsewhere < 1e-12, "n={n} {spec:?}");
                }
            }
        }
    }

    #[test]
    fn f_principle_on_phase_shifted_fit() {
        for &n in &[16usize, 33, 200] {
            for &k in &[1usize, 3, (n - 1) / 2] {
                for &phi in &[0.0, 0.01, 0.1, 0.25, 0.5, 0.8] {
                    let amp = 1.7;
                    let y = sines(n, &[(k, amp, 0.0)]);
                    let h = sines(n, &[(k, amp, phi)]);
                    let layout = BandLayout::build(&LayoutSpec::Octave, n, &[]).unwrap();
                    let mut mon = SpectralMonitor::new(&y, layout, &[Peak::new(&[k as i64], amp)]);
                    let mut out = mon.new_epoch_spectrum();
                    mon.analyze(&h, &mut out);
                    let aware = 2.0 * (PI * phi).sin().abs();
                    assert!(out.fp_rel_error_mag[0] < 1e-9, "n={n} k={k} phi={phi}");
                    assert!(
                        (out.fp_rel_error[0] - aware).abs() < 1e-9,
                        "n={n} k={k} phi={phi}: {} vs {aware}",
                        out.fp_rel_error[0]
                    );
                    assert!((out.rahaman_amplitude[0] - 1.0).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn rahaman_amplitude_perfect_partial_and_zero_fit() {
        // Rahaman et al.'s setup: N = 200, k = 5, 10, ..., 50, random phases.
        let n = 200;
        let mut rng = Pcg64::seed_from_u64(5);
        let parts: Vec<(usize, f64, f64)> = (1..=10)
            .map(|i| (5 * i, 0.1 * i as f64, rng.random_range(0.0..1.0)))
            .collect();
        let y = sines(n, &parts);
        let freqs: Vec<usize> = parts.iter().map(|p| p.0).collect();
        let components: Vec<Peak> = parts
            .iter()
            .map(|p| Peak::new(&[p.0 as i64], p.1))
            .collect();
        let layout = BandLayout::build(&LayoutSpec::Peaks { half_width: 1 }, n, &freqs).unwrap();
        let mut mon = SpectralMonitor::new(&y, layout, &components);
        let mut out = mon.new_epoch_spectrum();

        mon.analyze(&y, &mut out);
        assert_eq!(out.mse, 0.0);
        for i in 0..parts.len() {
            assert!(
                (out.rahaman_amplitude[i] - 1.0).abs() < 1e-12,
                "component {i}"
            );
            assert!(out.fp_rel_error[i] < 1e-12);
            assert!(out.fp_rel_error_mag[i] < 1e-12);
        }
        assert!(
            out.share.iter().all(|s| s.is_nan()),
            "share undefined at zero residual"
        );
        assert!(out.rel_error[..10].iter().all(|&e| e == 0.0));

        mon.analyze(&vec![0.0; n], &mut out);
        for i in 0..parts.len() {
            assert!(out.rahaman_amplitude[i].abs() < 1e-12);
            assert!((out.fp_rel_error[i] - 1.0).abs() < 1e-12);
            assert!((out.fp_rel_error_mag[i] - 1.0).abs() < 1e-6);
            assert!((out.rel_error[i] - 1.0).abs() < 1e-12);
        }
        // The rest band holds no target energy: its relative error is undefined.
        assert_eq!(out.target_energy[10], 0.0);
        assert!(out.rel_error[10].is_nan());

        let half: Vec<f64> = y.iter().map(|v| 0.5 * v).collect();
        mon.analyze(&half, &mut out);
        for i in 0..parts.len() {
            assert!((out.rahaman_amplitude[i] - 0.5).abs() < 1e-12);
            assert!((out.rel_error[i] - 0.25).abs() < 1e-12);
        }
    }

    #[test]
    fn analyze_does_not_reallocate() {
        let n = 128;
        let y = sines(n, &[(3, 1.0, 0.0), (20, 0.5, 0.3)]);
        let layout = BandLayout::build(&LayoutSpec::Octave, n, &[]).unwrap();
        let mut mon =
            SpectralMonitor::new(&y, layout, &[Peak::new(&[3], 1.0), Peak::new(&[20], 0.5)]);
        let mut out = mon.new_epoch_spectrum();
        let fingerprint = |o: &EpochSpectrum| {
            [
                &o.residual_energy,
                &o.target_energy,
                &o.rel_error,
                &o.share,
                &o.fp_rel_error,
                &o.fp_rel_error_mag,
                &o.rahaman_amplitude,
            ]
            .map(|v| (v.as_ptr(), v.capacity(), v.len()))
        };
        let before = fingerprint(&out);
        let amp_ptr = mon.residual_spectrum(&y).as_ptr();
        let mut rng = Pcg64::seed_from_u64(1);
        for _ in 0..20 {
            let h: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            mon.analyze(&h, &mut out);
            assert_eq!(fingerprint(&out), before);
            assert_eq!(mon.residual_spectrum(&h).as_ptr(), amp_ptr);
        }
        assert!(out.mse.is_finite());
    }

    #[test]
    fn analyze_leaves_inputs_and_target_untouched() {
        let n = 33;
        let y = sines(n, &[(2, 1.0, 0.2)]);
        let layout = BandLayout::build(&LayoutSpec::Octave, n, &[]).unwrap();
        let mut mon = SpectralMonitor::new(&y, layout, &[Peak::new(&[2], 1.0)]);
        let h = sines(n, &[(2, 0.9, 0.2), (7, 0.1, 0.0)]);
        let h_copy = h.clone();
        let mut first = mon.new_epoch_spectrum();
        let mut second = mon.new_epoch_spectrum();
        mon.analyze(&h, &mut first);
        mon.analyze(&h, &mut second);
        assert_eq!(h, h_copy);
        assert_eq!(mon.target(), &y[..]);
        assert_eq!(first.residual_energy, second.residual_energy);
        assert!((first.mse - (0.01 / 2.0 + 0.01 / 2.0)).abs() < 1e-12);
    }

    #[test]
    fn definitions_cover_every_column() {
        let defs = measure_definitions();
        let defs = defs.as_array().unwrap();
        let names: Vec<&str> = defs.iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                MSE,
                RESIDUAL_ENERGY,
                TARGET_ENERGY,
                REL_ERROR,
                SHARE,
                FP_REL_ERROR,
                FP_REL_ERROR_MAG,
                RAHAMAN_AMPLITUDE,
                RESIDUAL_AMPLITUDE
            ]
        );
        for d in defs {
            for key in ["per", "formula", "source", "nan"] {
                assert!(d[key].is_string(), "{} lacks {key}", d["name"]);
            }
        }
        // Every per-epoch field of EpochSpectrum has a definition of the same name.
        let fields = serde_json::to_value(
            SpectralMonitor::new(
                &[0.0; 4],
                BandLayout::build(&LayoutSpec::Octave, 4, &[]).unwrap(),
                &[],
            )
            .new_epoch_spectrum(),
        )
        .unwrap();
        for field in fields.as_object().unwrap().keys() {
            assert!(names.contains(&field.as_str()), "{field} has no definition");
        }
    }
}

#[cfg(test)]
mod tests2d {
    use super::super::bands::LayoutSpec;
    use super::super::bands2d::RingLayout;
    use super::super::fft2d::half_plane_bin;
    use super::super::fft2d::tests::direct_dft2;
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64;
    use std::f64::consts::PI;

    fn wave(n: usize, m: usize, kx: i64, ky: i64, a: f64, phi: f64) -> Vec<f64> {
        let mut v = vec![0.0; n * m];
        for i in 0..n {
            for j in 0..m {
                let (x, y) = (i as f64 / n as f64, j as f64 / m as f64);
                v[i * m + j] = a * (2.0 * PI * (kx as f64 * x + ky as f64 * y) + phi).sin();
            }
        }
        v
    }

    fn layouts() -> Vec<(LayoutSpec, usize)> {
        vec![
            (LayoutSpec::Octave, 1),
            (LayoutSpec::Octave, 4),
            (LayoutSpec::Uniform { bands: 5 }, 1),
            (
                LayoutSpec::Edges {
                    edges: vec![1.0, 2.5, 5.0],
                },
                2,
            ),
        ]
    }

    #[test]
    fn plane_wave_residual_puts_all_energy_in_its_ring() {
        for &(n, m) in &[(16usize, 16usize), (15, 12), (12, 17), (20, 9)] {
            let target = wave(n, m, 1, 2, 0.8, 0.3);
            for (spec, sectors) in layouts() {
                let layout = RingLayout::build(&spec, n, m, sectors, &[]).unwrap();
                let mut mon = SpectralMonitor::new(&target, layout, &[]);
                let mut out = mon.new_epoch_spectrum();
                for &(kx, ky) in &[(0i64, 1i64), (1, 0), (-3, 2), (2, -3), (3, 3), (-5, -1)] {
                    if 2 * kx.unsigned_abs() >= n as u64 || 2 * ky.unsigned_abs() >= m as u64 {
                        continue;
                    }
                    let res = wave(n, m, kx, ky, 1.3, 0.4);
                    let pred: Vec<f64> = target.iter().zip(&res).map(|(a, b)| a + b).collect();
                    mon.analyze(&pred, &mut out);
                    let expected = 1.3 * 1.3 / 2.0;
                    assert!((out.mse - expected).abs() < 1e-12 * expected);
                    let (bx, by, _) = half_plane_bin(kx, ky, n, m);
                    let home = mon.layout().band_of_bins()[by * n + bx];
                    for (b, &e) in out.residual_energy.iter().enumerate() {
                        if b == home {
                            assert!(
                                (e - expected).abs() < 1e-12 * expected,
                                "{n}x{m} ({kx},{ky}) {spec:?}: {e} vs {expected}"
                            );
                        } else {
                            assert!(e < 1e-12 * expected, "{n}x{m} ({kx},{ky}) band {b}: {e}");
                        }
                    }
                    let r = ((kx * kx + ky * ky) as f64).sqrt();
                    let Layout::Rings(rl) = mon.layout() else {
                        unreachable!()
                    };
                    let ring = &rl.rings[home];
                    assert!(
                        ring.rest || (ring.f_lo <= r && r <= ring.f_hi),
                        "{ring:?} r={r}"
                    );
                }
            }
        }
    }

    #[test]
    fn ring_energies_sum_to_mse_for_random_residuals() {
        let mut rng = Pcg64::seed_from_u64(77);
        for _ in 0..30 {
            let n = rng.random_range(4..30usize);
            let m = rng.random_range(4..30usize);
            let target: Vec<f64> = (0..n * m).map(|_| rng.random_range(-1.0..1.0)).collect();
            let pred: Vec<f64> = (0..n * m).map(|_| rng.random_range(-2.0..2.0)).collect();
            let mse = target
                .iter()
                .zip(&pred)
                .map(|(y, h)| (h - y) * (h - y))
                .sum::<f64>()
                / (n * m) as f64;
            let mean_sq_y = target.iter().map(|y| y * y).sum::<f64>() / (n * m) as f64;
            for (spec, sectors) in [(LayoutSpec::Octave, 1), (LayoutSpec::Octave, 2)] {
                let layout = RingLayout::build(&spec, n, m, sectors, &[]).unwrap();
                let mut mon = SpectralMonitor::new(&target, layout, &[]);
                let mut out = mon.new_epoch_spectrum();
                mon.analyze(&pred, &mut out);
                let total: f64 = out.residual_energy.iter().sum();
                let total_y: f64 = out.target_energy.iter().sum();
                assert!((out.mse - mse).abs() < 1e-12 * mse, "{n}x{m}");
                assert!((total - mse).abs() < 1e-12 * mse, "{n}x{m} {spec:?}");
                assert!((total_y - mean_sq_y).abs() < 1e-12 * mean_sq_y);
                assert!((out.share.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn ring_energies_match_direct_dft() {
        let mut rng = Pcg64::seed_from_u64(5);
        for &(n, m) in &[(6usize, 7usize), (8, 8), (9, 4), (10, 12)] {
            let target: Vec<f64> = (0..n * m).map(|_| rng.random_range(-1.0..1.0)).collect();
            let pred: Vec<f64> = (0..n * m).map(|_| rng.random_range(-1.0..1.0)).collect();
            let res: Vec<f64> = pred.iter().zip(&target).map(|(h, y)| h - y).collect();
            let slow = direct_dft2(&res, n, m);
            let layout = RingLayout::build(&LayoutSpec::Octave, n, m, 2, &[]).unwrap();
            let mut mon = SpectralMonitor::new(&target, layout, &[]);
            let mut out = mon.new_epoch_spectrum();
            mon.analyze(&pred, &mut out);
            let mut want = vec![0.0; mon.layout().len()];
            for ky in 0..m / 2 + 1 {
                for kx in 0..n {
                    let w = if ky == 0 || 2 * ky == m { 1.0 } else { 2.0 };
                    want[mon.layout().band_of_bins()[ky * n + kx]] +=
                        w * slow[ky * n + kx].norm_sqr() / ((n * m) as f64).powi(2);
                }
            }
            for (g, w) in out.residual_energy.iter().zip(&want) {
                assert!((g - w).abs() < 1e-12 * out.mse, "{n}x{m}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn peak_measures_on_partial_and_shifted_fits() {
        let (n, m) = (16, 12);
        let y = wave(n, m, 3, -2, 0.9, 0.2);
        let peaks = [Peak::new(&[-3, 2], 0.9)];
        let layout = RingLayout::build(
            &LayoutSpec::Peaks { half_width: 0 },
            n,
            m,
            1,
            &[13f64.sqrt()],
        )
        .unwrap();
        let mut mon = SpectralMonitor::new(&y, layout, &peaks);
        let mut out = mon.new_epoch_spectrum();
        let half: Vec<f64> = y.iter().map(|v| 0.5 * v).collect();
        mon.analyze(&half, &mut out);
        assert!((out.rahaman_amplitude[0] - 0.5).abs() < 1e-12);
        assert!((out.fp_rel_error[0] - 0.5).abs() < 1e-12);
        assert!((out.rel_error[0] - 0.25).abs() < 1e-12);
        assert!(out.rel_error[1].is_nan(), "rest holds no target energy");
        let shifted = wave(n, m, 3, -2, 0.9, 0.2 + 2.0 * PI * 0.25);
        mon.analyze(&shifted, &mut out);
        assert!(out.fp_rel_error_mag[0] < 1e-9);
        assert!((out.fp_rel_error[0] - 2.0 * (PI * 0.25).sin()).abs() < 1e-9);
        assert!((out.rahaman_amplitude[0] - 1.0).abs() < 1e-12);
    }
}
