//! Band energies of any grid vector with the spectral monitor's own layout and Parseval
//! convention (1D bands or 2D rings alike), for eigenvectors and predicted residuals.

use crate::analysis::index::band_centre;
use crate::spectral::{EpochSpectrum, Layout, SpectralMonitor};
use serde::Serialize;

/// One band as the kernel analysis uses it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandInfo {
    pub label: String,
    /// Half-open cycle range `[f_lo, f_hi)` (2D: of |k|).
    pub f_lo: f64,
    pub f_hi: f64,
    /// [`band_centre`] of the band's cycle range.
    pub centre: f64,
    /// The catch-all band (never in the index).
    pub rest: bool,
    /// `E_b(y)` as the monitor computes it (round-off bins zeroed).
    pub target_energy: f64,
}

impl BandInfo {
    /// Whether the band takes part in the preference index (the report's rule: target energy
    /// > 0, not `rest`, centre > 0).
    pub fn in_index(&self) -> bool {
        self.target_energy > 0.0 && !self.rest && self.centre > 0.0
    }
}

/// A monitor whose target is zero, so that its "residual" is the vector itself, plus the
/// band facts of the real target.
pub struct BandMeter {
    monitor: SpectralMonitor,
    out: EpochSpectrum,
    bands: Vec<BandInfo>,
}

impl BandMeter {
    /// A meter for `target` on the grid of `layout` (1D bands or 2D rings).
    pub fn new(target: &[f64], layout: impl Into<Layout>) -> Self {
        let layout = layout.into();
        let target_energy = SpectralMonitor::new(target, layout.clone(), &[])
            .target_energy()
            .to_vec();
        let bands = layout
            .table()
            .band_list()
            .iter()
            .zip(&target_energy)
            .map(|(b, &e)| BandInfo {
                label: b.label.clone(),
                f_lo: b.f_lo,
                f_hi: b.f_hi,
                centre: band_centre(b.f_lo, b.f_hi),
                rest: b.rest,
                target_energy: e,
            })
            .collect();
        let monitor = SpectralMonitor::new(&vec![0.0; target.len()], layout, &[]);
        let out = monitor.new_epoch_spectrum();
        BandMeter {
            monitor,
            out,
            bands,
        }
    }

    pub fn bands(&self) -> &[BandInfo] {
        &self.bands
    }

    /// `E_b(x)` per band (they sum to mean(x^2)).
    pub fn energies(&mut self, x: &[f64]) -> &[f64] {
        self.monitor.analyze(x, &mut self.out);
        &self.out.residual_energy
    }

    /// `E_b(r) / E_b(y)` per band, NaN where the target has no energy (the monitor's
    /// `rel_error`).
    pub fn rel_error(&mut self, r: &[f64]) -> Vec<f64> {
        let e = self.energies(r).to_vec();
        e.iter()
            .zip(&self.bands)
            .map(|(&e, b)| {
                if b.target_energy == 0.0 {
                    f64::NAN
                } else {
                    e / b.target_energy
                }
            })
            .collect()
    }
}
