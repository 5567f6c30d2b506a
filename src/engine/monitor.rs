//! The per-run observer: at each analysed epoch it runs the spectral monitor on each requested
//! grid and keeps the band and per-component rows, plus the predictions at snapshot epochs.

use crate::engine::train::{Evaluation, Observer};
use crate::experiment::config::{Experiment, GridName};
use crate::spectral::{BandLayout, BandTable, EpochSpectrum, Layout, SpectralMonitor};
use crate::task::target::Target;
use anyhow::Result;

/// One row of bands.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct BandRow {
    pub grid: GridName,
    pub epoch: u64,
    pub band: usize,
    pub residual_energy: f64,
    pub target_energy: f64,
    pub rel_error: f64,
    pub share: f64,
}

/// One row of peaks.csv (1D, `k = [k]`) or peaks2d.csv (2D, `k = [kx, ky]`): the per-peak
/// measures at target frequency `k`.
#[derive(Debug, Clone, PartialEq)]
pub struct PeakRow {
    pub grid: GridName,
    pub epoch: u64,
    pub k: Vec<i64>,
    pub amplitude: f64,
    pub fp_rel_error: f64,
    pub fp_rel_error_mag: f64,
    pub rahaman_amplitude: f64,
}

/// One row of snapshots.csv (1D) or snapshots2d.csv (2D): the prediction at one
/// training-grid point at a snapshot epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow {
    pub epoch: u64,
    /// Grid index per dim (`[n]` or `[i, j]`).
    pub index: Vec<usize>,
    /// Coordinate per dim in `[0, 1)` (`[t]` or `[x, y]`).
    pub coords: Vec<f64>,
    pub target: f64,
    pub prediction: f64,
}

struct GridMonitor {
    grid: GridName,
    monitor: SpectralMonitor,
    scratch: EpochSpectrum,
}

/// Collects the spectral record of one run, for a grid of any dims.
pub struct Recorder {
    monitors: Vec<GridMonitor>,
    /// The training grid `[N]` or `[N, M]`.
    dims: Vec<usize>,
    snapshot_epochs: Vec<u64>,
    train_t: Vec<f64>,
    train_y: Vec<f64>,
    pub bands: Vec<BandRow>,
    pub peaks: Vec<PeakRow>,
    pub snapshots: Vec<SnapshotRow>,
}

/// The band layout of a grid of `points` points of the experiment's target (1D bands or 2D
/// rings), as the monitor uses it.
pub fn grid_layout(exp: &Experiment, target: &Target, points: usize) -> Result<Layout> {
    Ok(match &exp.target.waves2d {
        Some(w) => crate::task::targets::waves2d::ring_layout(
            &exp.spectral.layout,
            exp.spectral.sectors,
            &exp.target,
            w,
        )?
        .into(),
        None => {
            let freqs: Vec<usize> = target.components().iter().map(|c| c.k).collect();
            BandLayout::build(&exp.spectral.layout, points, &freqs)?.into()
        }
    })
}

/// Default snapshot epochs: 0, four roughly log-spaced epochs, and the last.
pub fn default_snapshots(epochs: u64) -> Vec<u64> {
    let mut s = vec![0];
    for frac in [0.01, 0.05, 0.2, 0.5] {
        s.push(((epochs as f64) * frac).round() as u64);
    }
    s.push(epochs);
    s.sort_unstable();
    s.dedup();
    s
}

impl Recorder {
    /// Build the monitors for the experiment's grids (layouts validated beforehand).
    pub fn new(exp: &Experiment, target: &Target) -> Result<Recorder> {
        let (dims, peaks) = (target.dims(), target.peaks());
        let mut monitors = Vec::new();
        if exp.spectral.enabled {
            for &grid in &exp.spectral.grids {
                let data = match grid {
                    GridName::Train => &target.train,
                    GridName::Test => &target.test,
                };
                let layout = grid_layout(exp, target, data.len())?;
                let monitor = SpectralMonitor::new(&data.y, layout, &peaks);
                let scratch = monitor.new_epoch_spectrum();
                monitors.push(GridMonitor {
                    grid,
                    monitor,
                    scratch,
                });
            }
        }
        let evals = (exp.train.epochs / exp.spectral_every() + 2) as usize;
        let n_bands: usize = monitors.iter().map(|m| m.monitor.layout().len()).sum();
        Ok(Recorder {
            monitors,
            dims,
            snapshot_epochs: exp
                .record
                .snapshots
                .clone()
                .unwrap_or_else(|| default_snapshots(exp.train.epochs)),
            train_t: target.train.t.clone(),
            train_y: target.train.y.clone(),
            bands: Vec::with_capacity(evals * n_bands),
            peaks: Vec::with_capacity(evals * peaks.len() * exp.spectral.grids.len()),
            snapshots: Vec::new(),
        })
    }

    /// The grids analysed, with their band layouts.
    pub fn band_tables(&self) -> Vec<(GridName, &dyn BandTable)> {
        self.monitors
            .iter()
            .map(|m| (m.grid, m.monitor.layout().table()))
            .collect()
    }

    /// The training grid `[N]` or `[N, M]`.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }
}

/// The evaluation's predictions on `grid`.
fn prediction<'a>(grid: GridName, ev: &Evaluation<'a>) -> &'a [f64] {
    match grid {
        GridName::Train => ev.train_pred,
        GridName::Test => ev.test_pred,
    }
}

/// Append one epoch's band rows from the monitor's per-band vectors:
/// residual energy, target energy, relative error, share.
fn push_bands(
    out: &mut Vec<BandRow>,
    grid: GridName,
    epoch: u64,
    [residual, target, rel, share]: [&[f64]; 4],
) {
    for b in 0..residual.len() {
        out.push(BandRow {
            grid,
            epoch,
            band: b,
            residual_energy: residual[b],
            target_energy: target[b],
            rel_error: rel[b],
            share: share[b],
        });
    }
}

impl Observer for Recorder {
    fn observe(&mut self, ev: &Evaluation) -> Result<()> {
        for m in &mut self.monitors {
            m.monitor.analyze(prediction(m.grid, ev), &mut m.scratch);
            let s = &m.scratch;
            push_bands(
                &mut self.bands,
                m.grid,
                ev.epoch,
                [&s.residual_energy, &s.target_energy, &s.rel_error, &s.share],
            );
            for (i, p) in m.monitor.peaks().iter().enumerate() {
                self.peaks.push(PeakRow {
                    grid: m.grid,
                    epoch: ev.epoch,
                    k: p.k.clone(),
                    amplitude: p.amplitude,
                    fp_rel_error: s.fp_rel_error[i],
                    fp_rel_error_mag: s.fp_rel_error_mag[i],
                    rahaman_amplitude: s.rahaman_amplitude[i],
                });
            }
        }
        if self.snapshot_epochs.contains(&ev.epoch) {
            let d = self.dims.len();
            for (p, (&y, &h)) in self.train_y.iter().zip(ev.train_pred).enumerate() {
                // Row-major point index -> per-dim index (last dim fastest).
                let mut index = vec![0; d];
                let mut rest = p;
                for (slot, &len) in index.iter_mut().zip(&self.dims).rev() {
                    *slot = rest % len;
                    rest /= len;
                }
                self.snapshots.push(SnapshotRow {
                    epoch: ev.epoch,
                    index,
                    coords: self.train_t[d * p..d * (p + 1)].to_vec(),
                    target: y,
                    prediction: h,
                });
            }
        }
        Ok(())
    }
}
