//! The per-run observer: at each analysed epoch it runs the spectral monitor on each requested
//! grid and keeps the band and per-component rows, plus the predictions at snapshot epochs.

use crate::engine::train::{Evaluation, Observer};
use crate::experiment::config::{Experiment, GridName};
use crate::spectral::{BandLayout, BandTable, EpochSpectrum, SpectralMonitor, SpectralMonitor2d};
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

/// One row of peaks.csv: the per-component measures at target frequency k.
#[derive(Debug, Clone, PartialEq)]
pub struct PeakRow {
    pub grid: GridName,
    pub epoch: u64,
    pub k: usize,
    pub amplitude: f64,
    pub fp_rel_error: f64,
    pub fp_rel_error_mag: f64,
    pub rahaman_amplitude: f64,
}

/// One row of snapshots.csv: the prediction at one training-grid point at a snapshot epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow {
    pub epoch: u64,
    pub t: f64,
    pub target: f64,
    pub prediction: f64,
}

struct GridMonitor {
    grid: GridName,
    monitor: SpectralMonitor,
    scratch: EpochSpectrum,
}

/// One row of peaks2d.csv: the per-peak measures at target peak (kx, ky) of a 2D target.
#[derive(Debug, Clone, PartialEq)]
pub struct PeakRow2d {
    pub grid: GridName,
    pub epoch: u64,
    pub kx: i64,
    pub ky: i64,
    pub amplitude: f64,
    pub fp_rel_error: f64,
    pub fp_rel_error_mag: f64,
    pub rahaman_amplitude: f64,
}

/// One row of snapshots2d.csv: the prediction at training-grid point (i, j) of a 2D target.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow2d {
    pub epoch: u64,
    pub i: usize,
    pub j: usize,
    pub x: f64,
    pub y: f64,
    pub target: f64,
    pub prediction: f64,
}

struct GridMonitor2d {
    grid: GridName,
    monitor: SpectralMonitor2d,
    scratch: EpochSpectrum,
}

/// Collects the spectral record of one run.
pub struct Recorder {
    monitors: Vec<GridMonitor>,
    monitors2d: Vec<GridMonitor2d>,
    /// `[N, M]` of a 2D target's training grid.
    dims2d: Option<[usize; 2]>,
    pub peaks2d: Vec<PeakRow2d>,
    pub snapshots2d: Vec<SnapshotRow2d>,
    snapshot_epochs: Vec<u64>,
    train_t: Vec<f64>,
    train_y: Vec<f64>,
    pub bands: Vec<BandRow>,
    pub peaks: Vec<PeakRow>,
    pub snapshots: Vec<SnapshotRow>,
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
        let components: Vec<(usize, f64)> = target
            .components
            .iter()
            .map(|c| (c.k, c.amplitude))
            .collect();
        let freqs: Vec<usize> = components.iter().map(|c| c.0).collect();
        let mut monitors = Vec::new();
        let mut monitors2d = Vec::new();
        if exp.spectral.enabled {
            for &grid in &exp.spectral.grids {
                if let (Some(td), Some(w)) = (&target.twod, &exp.target.waves2d) {
                    let data = match grid {
                        GridName::Train => &target.train,
                        GridName::Test => &target.test,
                    };
                    let layout = crate::task::target2d::ring_layout(
                        &exp.spectral.layout,
                        exp.spectral.sectors,
                        &exp.target,
                        w,
                    )?;
                    let monitor = SpectralMonitor2d::new(&data.y, layout, &td.peaks);
                    let scratch = monitor.new_epoch_spectrum();
                    monitors2d.push(GridMonitor2d {
                        grid,
                        monitor,
                        scratch,
                    });
                    continue;
                }
                let data = match grid {
                    GridName::Train => &target.train,
                    GridName::Test => &target.test,
                };
                let layout = BandLayout::build(&exp.spectral.layout, data.len(), &freqs)?;
                let monitor = SpectralMonitor::new(&data.y, layout, &components);
                let scratch = monitor.new_epoch_spectrum();
                monitors.push(GridMonitor {
                    grid,
                    monitor,
                    scratch,
                });
            }
        }
        let evals = (exp.train.epochs / exp.spectral_every() + 2) as usize;
        let n_bands: usize = monitors
            .iter()
            .map(|m| m.monitor.layout().bands.len())
            .sum::<usize>()
            + monitors2d
                .iter()
                .map(|m| m.monitor.layout().len())
                .sum::<usize>();
        Ok(Recorder {
            monitors,
            monitors2d,
            dims2d: target.twod.as_ref().map(|t| t.dims),
            peaks2d: Vec::new(),
            snapshots2d: Vec::new(),
            snapshot_epochs: exp
                .record
                .snapshots
                .clone()
                .unwrap_or_else(|| default_snapshots(exp.train.epochs)),
            train_t: target.train.t.clone(),
            train_y: target.train.y.clone(),
            bands: Vec::with_capacity(evals * n_bands),
            peaks: Vec::with_capacity(evals * components.len() * exp.spectral.grids.len()),
            snapshots: Vec::new(),
        })
    }

    /// The band layout used on `grid`, if that grid is analysed.
    pub fn layout(&self, grid: GridName) -> Option<&BandLayout> {
        self.monitors
            .iter()
            .find(|m| m.grid == grid)
            .map(|m| m.monitor.layout())
    }

    /// The grids analysed, with their band layouts, 1D or 2D.
    pub fn band_tables(&self) -> Vec<(GridName, &dyn BandTable)> {
        let one = self
            .monitors
            .iter()
            .map(|m| (m.grid, m.monitor.layout() as &dyn BandTable));
        let two = self
            .monitors2d
            .iter()
            .map(|m| (m.grid, m.monitor.layout() as &dyn BandTable));
        one.chain(two).collect()
    }

    /// True when the target is 2D (then peaks2d and snapshots2d are filled instead of
    /// peaks and snapshots).
    pub fn is_2d(&self) -> bool {
        self.dims2d.is_some()
    }

    /// The grids analysed (1D targets), with their layouts.
    pub fn layouts(&self) -> Vec<(GridName, &BandLayout)> {
        self.monitors
            .iter()
            .map(|m| (m.grid, m.monitor.layout()))
            .collect()
    }
}

/// The evaluation's predictions on `grid`.
fn prediction<'a>(grid: GridName, ev: &Evaluation<'a>) -> &'a [f64] {
    match grid {
        GridName::Train => ev.train_pred,
        GridName::Test => ev.test_pred,
    }
}

/// Append one epoch's band rows (1D bands or 2D rings) from the monitor's per-band vectors:
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
            m.monitor.analyse(prediction(m.grid, ev), &mut m.scratch);
            let s = &m.scratch;
            push_bands(
                &mut self.bands,
                m.grid,
                ev.epoch,
                [&s.residual_energy, &s.target_energy, &s.rel_error, &s.share],
            );
            for (i, &(k, amplitude)) in m.monitor.components().iter().enumerate() {
                self.peaks.push(PeakRow {
                    grid: m.grid,
                    epoch: ev.epoch,
                    k,
                    amplitude,
                    fp_rel_error: s.fp_rel_error[i],
                    fp_rel_error_mag: s.fp_rel_error_mag[i],
                    rahaman_amplitude: s.rahaman_amplitude[i],
                });
            }
        }
        for m in &mut self.monitors2d {
            m.monitor.analyse(prediction(m.grid, ev), &mut m.scratch);
            let s = &m.scratch;
            push_bands(
                &mut self.bands,
                m.grid,
                ev.epoch,
                [&s.residual_energy, &s.target_energy, &s.rel_error, &s.share],
            );
            for (i, p) in m.monitor.peaks().iter().enumerate() {
                self.peaks2d.push(PeakRow2d {
                    grid: m.grid,
                    epoch: ev.epoch,
                    kx: p.kx,
                    ky: p.ky,
                    amplitude: p.amplitude,
                    fp_rel_error: s.fp_rel_error[i],
                    fp_rel_error_mag: s.fp_rel_error_mag[i],
                    rahaman_amplitude: s.rahaman_amplitude[i],
                });
            }
        }
        if let Some([_, m]) = self.dims2d {
            if self.snapshot_epochs.contains(&ev.epoch) {
                for (p, (&y, &h)) in self.train_y.iter().zip(ev.train_pred).enumerate() {
                    self.snapshots2d.push(SnapshotRow2d {
                        epoch: ev.epoch,
                        i: p / m,
                        j: p % m,
                        x: self.train_t[2 * p],
                        y: self.train_t[2 * p + 1],
                        target: y,
                        prediction: h,
                    });
                }
            }
        } else if self.snapshot_epochs.contains(&ev.epoch) {
            for ((&t, &y), &h) in self.train_t.iter().zip(&self.train_y).zip(ev.train_pred) {
                self.snapshots.push(SnapshotRow {
                    epoch: ev.epoch,
                    t,
                    target: y,
                    prediction: h,
                });
            }
        }
        Ok(())
    }
}
