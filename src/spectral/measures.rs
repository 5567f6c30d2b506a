//! The per-epoch spectral monitor: residual band energies and per-component frequency
//! measures, computed into preallocated buffers, plus their stable names and definitions.
//!
//! Notation: target `y`, prediction `h`, residual `r = h - y`, all on the `N`-point grid;
//! `Y_k`, `H_k`, `R_k = H_k - Y_k` their unnormalised one-sided DFTs (see [`super::fft`]);
//! band energy `E_b(x) = (1/N^2) sum_{k in b} w_k |X_k|^2`. Target components are
//! `(k_i, A_i)`: frequency in cycles (= bin) and amplitude of `A_i sin(2 pi k_i t + phase)`.

use serde::Serialize;
use serde_json::json;

use super::bands::BandLayout;
use super::fft::{bin_energy, Complex, RealFft1d};

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

/// The measures of one epoch. Create it once with [`SpectralMonitor::new_epoch_spectrum`]
/// and refill it with [`SpectralMonitor::analyse`]; band vectors are indexed like
/// [`BandLayout::bands`], component vectors like the monitor's components.
#[derive(Debug, Clone, Serialize)]
pub struct EpochSpectrum {
    /// `mean(r^2)`, computed in the time domain (equals the sum of `residual_energy`).
    pub mse: f64,
    /// `E_b(r)` per band.
    pub residual_energy: Vec<f64>,
    /// `E_b(y)` per band.
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

/// Computes every epoch's spectral measures for one grid, target and band layout, without
/// allocating after construction.
#[derive(Debug)]
pub struct SpectralMonitor {
    layout: BandLayout,
    components: Vec<(usize, f64)>,
    target: Vec<f64>,
    fft: RealFft1d,
    target_spectrum: Vec<Complex<f64>>,
    target_energy: Vec<f64>,
    residual: Vec<f64>,
    amplitude: Vec<f64>,
}

impl SpectralMonitor {
    /// Plans the FFT and precomputes the target spectrum `Y_k` and band energies `E_b(y)`.
    /// `components` lists the target's sine components as `(k_i cycles, A_i)`.
    ///
    /// # Panics
    /// If `target.len() != layout.n`, or a component's frequency exceeds `N/2` (validate the
    /// target config before building the monitor).
    pub fn new(target: &[f64], layout: BandLayout, components: &[(usize, f64)]) -> Self {
        let n = layout.n;
        assert_eq!(
            target.len(),
            n,
            "SpectralMonitor::new: target has {} samples but the band layout was built for N = {n}",
            target.len()
        );
        for &(k, _) in components {
            assert!(
                k <= n / 2,
                "SpectralMonitor::new: component frequency {k} exceeds the top bin N/2 = {} (N = {n})",
                n / 2
            );
        }
        let mut fft = RealFft1d::new(n);
        let target_spectrum = fft.forward(target).to_vec();
        let mut target_energy = vec![0.0; layout.len()];
        for (k, y_k) in target_spectrum.iter().enumerate() {
            target_energy[layout.band_of_bin(k)] += bin_energy(*y_k, k, n);
        }
        let num_bins = fft.num_bins();
        Self {
            layout,
            components: components.to_vec(),
            target: target.to_vec(),
            fft,
            target_spectrum,
            target_energy,
            residual: vec![0.0; n],
            amplitude: vec![0.0; num_bins],
        }
    }

    /// The band layout the monitor reports on.
    pub fn layout(&self) -> &BandLayout {
        &self.layout
    }

    /// The target components `(k_i, A_i)`, in the order of the per-component outputs.
    pub fn components(&self) -> &[(usize, f64)] {
        &self.components
    }

    /// The target values `y` on the grid.
    pub fn target(&self) -> &[f64] {
        &self.target
    }

    /// The target's one-sided spectrum `Y_k`, `k = 0..=N/2`.
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
        let comps = self.components.len();
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
    /// If `prediction.len() != N` or `out` was not made by this monitor's
    /// [`SpectralMonitor::new_epoch_spectrum`].
    pub fn analyse(&mut self, prediction: &[f64], out: &mut EpochSpectrum) {
        let n = self.layout.n;
        assert_eq!(
            out.residual_energy.len(),
            self.layout.len(),
            "EpochSpectrum of another monitor"
        );
        assert_eq!(
            out.fp_rel_error.len(),
            self.components.len(),
            "EpochSpectrum of another monitor"
        );
        self.fill_residual(prediction);
        out.mse = self.residual.iter().map(|r| r * r).sum::<f64>() / n as f64;

        let spectrum = self.fft.forward(&self.residual);
        out.residual_energy.fill(0.0);
        for (k, r_k) in spectrum.iter().enumerate() {
            out.residual_energy[self.layout.band_of_bin(k)] += bin_energy(*r_k, k, n);
        }
        let total: f64 = out.residual_energy.iter().sum();
        out.target_energy.copy_from_slice(&self.target_energy);
        for b in 0..out.residual_energy.len() {
            let e_r = out.residual_energy[b];
            let e_y = self.target_energy[b];
            out.rel_error[b] = if e_y == 0.0 { f64::NAN } else { e_r / e_y };
            out.share[b] = if total == 0.0 { f64::NAN } else { e_r / total };
        }

        for (i, &(k, amp)) in self.components.iter().enumerate() {
            let r_k = spectrum[k];
            let y_k = self.target_spectrum[k];
            let h_k = r_k + y_k;
            let y_abs = y_k.norm();
            out.fp_rel_error[i] = if y_abs == 0.0 {
                f64::NAN
            } else {
                r_k.norm() / y_abs
            };
            out.fp_rel_error_mag[i] = (h_k.norm() - y_abs).abs() / (FP_MAG_EPS + y_abs);
            out.rahaman_amplitude[i] = if amp == 0.0 {
                f64::NAN
            } else {
                2.0 * h_k.norm() / n as f64 / amp.abs()
            };
        }
    }

    /// The residual amplitude spectrum `|R_k|`, `k = 0..=N/2` (unnormalised), of
    /// `prediction`. The slice is overwritten by the next call. Allocates nothing.
    ///
    /// # Panics
    /// If `prediction.len() != N`.
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
            "SpectralMonitor: prediction has {} samples but the grid has N = {}",
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
            "formula": "E_b(y) = (1/N^2) sum_{k in b} w_k |Y_k|^2",
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
            "formula": "|H_k - Y_k| / |Y_k| at the component's bin k",
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
