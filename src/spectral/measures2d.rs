//! The per-epoch 2D spectral monitor: residual ring energies and per-peak frequency measures
//! on an `N x M` grid, computed into a preallocated [`EpochSpectrum`] (the same struct and
//! column names as 1D, so bands.csv keeps its format).
//!
//! Notation: target `y`, prediction `h`, residual `r = h - y` on the grid (row-major
//! `v[i * M + j]`); `Y`, `H`, `R` their unnormalised half-plane DFTs (see [`super::fft2d`]);
//! band energy `E_b(x) = (1/(N M)^2) sum_{k in b} w_k |X_k|^2`, so `sum_b E_b(r) = MSE`.
//! Peaks are the target's half-plane bins `(kx, ky)` (signed kx; `ky > 0`, or `ky = 0` and
//! `kx > 0`) with their plane-wave amplitude `A_p = 2 |Y_clean(k)| / (N M)` (the `A` of
//! `A sin(2 pi (kx x + ky y) + phase)`). Per peak, as in 1D: `fp_rel_error = |R_k| / |Y_k|`,
//! `fp_rel_error_mag = ||H_k| - |Y_k|| / (1e-5 + |Y_k|)`, `rahaman_amplitude =
//! 2 |H_k| / (N M) / A_p`.

use super::bands2d::RingLayout;
use super::fft2d::{col_weight, half_plane_bin, RealFft2d};
use super::measures::{EpochSpectrum, FP_MAG_EPS, TARGET_ROUNDOFF_FLOOR};
use realfft::num_complex::Complex;

/// One target peak: signed frequency and plane-wave amplitude.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Peak2d {
    pub kx: i64,
    pub ky: i64,
    pub amplitude: f64,
}

/// Computes every epoch's 2D measures for one grid without allocating after construction.
#[derive(Debug)]
pub struct SpectralMonitor2d {
    layout: RingLayout,
    peaks: Vec<Peak2d>,
    /// Half-plane index `ky * N + kx` of each peak.
    peak_bins: Vec<usize>,
    target: Vec<f64>,
    fft: RealFft2d,
    target_spectrum: Vec<Complex<f64>>,
    target_energy: Vec<f64>,
    residual: Vec<f64>,
    /// `w_k / (N M)^2` per half-plane bin.
    weight: Vec<f64>,
}

impl SpectralMonitor2d {
    /// Plans the FFT and precomputes `Y` and `E_b(y)` (round-off target bins zeroed as in 1D).
    ///
    /// # Panics
    /// If `target.len() != N * M` or a peak aliases (validate the config first).
    pub fn new(target: &[f64], layout: RingLayout, peaks: &[Peak2d]) -> Self {
        let (n, m) = (layout.n, layout.m);
        assert_eq!(
            target.len(),
            n * m,
            "SpectralMonitor2d::new: target has {} values but the layout is {n} x {m}",
            target.len()
        );
        let half = m / 2 + 1;
        let norm = ((n * m) as f64).powi(2);
        let weight: Vec<f64> = (0..half)
            .flat_map(|ky| std::iter::repeat_n(col_weight(ky, m) / norm, n))
            .collect();
        let mut fft = RealFft2d::new(n, m);
        let mut target_spectrum = fft.forward(target).to_vec();
        let mean_sq = target.iter().map(|y| y * y).sum::<f64>() / (n * m) as f64;
        for (y_k, w) in target_spectrum.iter_mut().zip(&weight) {
            if w * y_k.norm_sqr() <= TARGET_ROUNDOFF_FLOOR * mean_sq {
                *y_k = Complex::new(0.0, 0.0);
            }
        }
        let mut target_energy = vec![0.0; layout.len()];
        for ((y_k, w), &b) in target_spectrum
            .iter()
            .zip(&weight)
            .zip(layout.band_of_bins())
        {
            target_energy[b] += w * y_k.norm_sqr();
        }
        let peak_bins = peaks
            .iter()
            .map(|p| {
                assert!(
                    2 * p.kx.unsigned_abs() < n as u64 && 2 * p.ky.unsigned_abs() < m as u64,
                    "SpectralMonitor2d::new: peak ({}, {}) aliases on a {n} x {m} grid",
                    p.kx,
                    p.ky
                );
                let (kx, ky, _) = half_plane_bin(p.kx, p.ky, n, m);
                ky * n + kx
            })
            .collect();
        Self {
            layout,
            peaks: peaks.to_vec(),
            peak_bins,
            target: target.to_vec(),
            fft,
            target_spectrum,
            target_energy,
            residual: vec![0.0; n * m],
            weight,
        }
    }

    pub fn layout(&self) -> &RingLayout {
        &self.layout
    }

    pub fn peaks(&self) -> &[Peak2d] {
        &self.peaks
    }

    /// The target's half-plane spectrum (`[ky * N + kx]`).
    pub fn target_spectrum(&self) -> &[Complex<f64>] {
        &self.target_spectrum
    }

    /// A correctly sized output for [`Self::analyse`] (per-peak vectors indexed like
    /// [`Self::peaks`]).
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

    /// Fills `out` with the measures of `prediction` (row-major `N x M`). Allocates nothing.
    pub fn analyse(&mut self, prediction: &[f64], out: &mut EpochSpectrum) {
        let nm = self.residual.len();
        assert_eq!(
            prediction.len(),
            nm,
            "SpectralMonitor2d: prediction has {} values but the grid has {nm}",
            prediction.len()
        );
        assert_eq!(out.residual_energy.len(), self.layout.len());
        assert_eq!(out.fp_rel_error.len(), self.peaks.len());
        for ((r, &h), &y) in self.residual.iter_mut().zip(prediction).zip(&self.target) {
            *r = h - y;
        }
        out.mse = self.residual.iter().map(|r| r * r).sum::<f64>() / nm as f64;
        let spectrum = self.fft.forward(&self.residual);
        out.residual_energy.fill(0.0);
        for ((r_k, w), &b) in spectrum
            .iter()
            .zip(&self.weight)
            .zip(self.layout.band_of_bins())
        {
            out.residual_energy[b] += w * r_k.norm_sqr();
        }
        let total: f64 = out.residual_energy.iter().sum();
        out.target_energy.copy_from_slice(&self.target_energy);
        for b in 0..out.residual_energy.len() {
            let (e_r, e_y) = (out.residual_energy[b], self.target_energy[b]);
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
                2.0 * h_k.norm() / nm as f64 / p.amplitude.abs()
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::bands::LayoutSpec;
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
                let mut mon = SpectralMonitor2d::new(&target, layout, &[]);
                let mut out = mon.new_epoch_spectrum();
                for &(kx, ky) in &[(0i64, 1i64), (1, 0), (-3, 2), (2, -3), (3, 3), (-5, -1)] {
                    if 2 * kx.unsigned_abs() >= n as u64 || 2 * ky.unsigned_abs() >= m as u64 {
                        continue;
                    }
                    let res = wave(n, m, kx, ky, 1.3, 0.4);
                    let pred: Vec<f64> = target.iter().zip(&res).map(|(a, b)| a + b).collect();
                    mon.analyse(&pred, &mut out);
                    let expected = 1.3 * 1.3 / 2.0;
                    assert!((out.mse - expected).abs() < 1e-12 * expected);
                    let (bx, by, _) = half_plane_bin(kx, ky, n, m);
                    let home = mon.layout().band_of_bin(bx, by);
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
                    let ring = &mon.layout().rings[home];
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
                let mut mon = SpectralMonitor2d::new(&target, layout, &[]);
                let mut out = mon.new_epoch_spectrum();
                mon.analyse(&pred, &mut out);
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
            let mut mon = SpectralMonitor2d::new(&target, layout, &[]);
            let mut out = mon.new_epoch_spectrum();
            mon.analyse(&pred, &mut out);
            let mut want = vec![0.0; mon.layout().len()];
            for ky in 0..m / 2 + 1 {
                for kx in 0..n {
                    let w = if ky == 0 || 2 * ky == m { 1.0 } else { 2.0 };
                    want[mon.layout().band_of_bin(kx, ky)] +=
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
        let peaks = [Peak2d {
            kx: -3,
            ky: 2,
            amplitude: 0.9,
        }];
        let layout = RingLayout::build(
            &LayoutSpec::Peaks { half_width: 0 },
            n,
            m,
            1,
            &[13f64.sqrt()],
        )
        .unwrap();
        let mut mon = SpectralMonitor2d::new(&y, layout, &peaks);
        let mut out = mon.new_epoch_spectrum();
        let half: Vec<f64> = y.iter().map(|v| 0.5 * v).collect();
        mon.analyse(&half, &mut out);
        assert!((out.rahaman_amplitude[0] - 0.5).abs() < 1e-12);
        assert!((out.fp_rel_error[0] - 0.5).abs() < 1e-12);
        assert!((out.rel_error[0] - 0.25).abs() < 1e-12);
        assert!(out.rel_error[1].is_nan(), "rest holds no target energy");
        let shifted = wave(n, m, 3, -2, 0.9, 0.2 + 2.0 * PI * 0.25);
        mon.analyse(&shifted, &mut out);
        assert!(out.fp_rel_error_mag[0] < 1e-9);
        assert!((out.fp_rel_error[0] - 2.0 * (PI * 0.25).sin()).abs() < 1e-9);
        assert!((out.rahaman_amplitude[0] - 1.0).abs() < 1e-12);
    }
}
