//! Per-band convergence metrics of one run: epochs to each threshold, half-life, final relative
//! error, coverage score, plateau, and decay rate, plus the run's preference index.
//!
//! Definitions (per band, on the chosen grid, over the analysed epochs of the record):
//! - epochs to threshold: first analysed epoch with `rel_error < threshold` (strict, as in
//!   convergence.csv); `None` = never within the budget;
//! - half-life: first analysed epoch with `rel_error <= rel_error(e0) / 2`;
//! - final relative error: `rel_error` at the last analysed epoch;
//! - coverage score: mean over analysed epochs of `log10(max(rel_error, 1e-6))` (the area
//!   under the log relative-error curve divided by the budget; lower = covered earlier);
//! - plateau: `log10(rel(e_last) / rel(e_tail))` with `e_tail` the first analysed epoch in the
//!   last 10% of the budget; "converged" if the final error is below the smallest threshold,
//!   else "stalled" if the change is under 0.05 decades (12%) in magnitude, else "improving" /
//!   "worsening";
//! - decay rate: see [`super::index`].
//!
//! Bands take part in the index (and the configuration's coverage score) when their target
//! energy is > 0 (relative error defined) and they are not the catch-all `rest` band.

use super::guards::{lr_info, Guards, LrInfo};
use super::index::{band_centre, decay_rate, log_rel, preference_index, time_spearman, IndexValue};
use super::matched::{matched_points, MatchedPoint};
use crate::base::stats::config_key;
use crate::record::load::RunData;
use crate::spectral::convergence::first_crossing;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

/// Fraction of the budget that makes up the plateau tail.
pub const PLATEAU_FRACTION: f64 = 0.1;
/// |log10 change| over the tail below which a band counts as stalled (decades).
pub const PLATEAU_TOL: f64 = 0.05;

/// Options shared by every report computation.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// "train" or "test".
    pub grid: String,
    /// The decay-rate window as a fraction of the budget (1.0 = whole budget, 0.5 = first half).
    pub window_fraction: f64,
    /// Validity guards applied before any verdict.
    pub guards: Guards,
    /// Also read the lr-search runs of sweep directories (default: evaluation runs only).
    pub include_lr_search: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            grid: "train".into(),
            window_fraction: 1.0,
            guards: Guards::default(),
            include_lr_search: false,
        }
    }
}

/// Whether a band kept improving at the end of the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Plateau {
    Converged,
    Stalled,
    Improving,
    Worsening,
    Undefined,
}

impl Plateau {
    pub fn as_str(self) -> &'static str {
        match self {
            Plateau::Converged => "converged",
            Plateau::Stalled => "stalled",
            Plateau::Improving => "improving",
            Plateau::Worsening => "worsening",
            Plateau::Undefined => "undefined",
        }
    }
}

/// Convergence of one relative-error series of one run: a band's `rel_error`, or a
/// filtering level's `e_low` / `e_high` (definitions in the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesMetrics {
    /// Epochs to each threshold of [`RunMetrics::thresholds`], in that order.
    pub to_threshold: Vec<Option<u64>>,
    pub half_life: Option<u64>,
    pub final_rel: f64,
    pub coverage: f64,
    /// log10 change over the plateau tail (decades).
    pub plateau_change: f64,
    pub plateau: Plateau,
    /// Decades per epoch over the index window.
    pub decay_rate: f64,
}

/// What the convergence of a series is read against: the thresholds (largest first), the
/// budget in epochs and the decay window as a fraction of it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesWindow {
    pub thresholds: Vec<f64>,
    pub budget: u64,
    pub window_fraction: f64,
}

/// The convergence metrics of `rel` at the analysed `epochs`; `defined` = the series has a
/// relative error at all (else coverage and decay rate are NaN).
pub fn series_metrics(
    epochs: &[u64],
    rel: &[f64],
    defined: bool,
    w: &SeriesWindow,
) -> SeriesMetrics {
    let budget = w.budget as f64;
    let tail_start = epochs
        .last()
        .map_or(0.0, |&l| l as f64 - PLATEAU_FRACTION * budget);
    let min_threshold = w.thresholds.last().copied().unwrap_or(0.0);
    let first = rel.first().copied().unwrap_or(f64::NAN);
    let half_life = epochs
        .iter()
        .zip(rel)
        .find(|(_, &r)| r <= first / 2.0)
        .map(|(&e, _)| e);
    let final_rel = rel.last().copied().unwrap_or(f64::NAN);
    let logs: Vec<f64> = rel.iter().map(|&r| log_rel(r)).collect();
    let coverage = if defined {
        logs.iter().sum::<f64>() / logs.len() as f64
    } else {
        f64::NAN
    };
    let tail = epochs
        .iter()
        .position(|&e| e as f64 >= tail_start)
        .unwrap_or(0);
    let plateau_change =
        logs.last().copied().unwrap_or(f64::NAN) - logs.get(tail).copied().unwrap_or(f64::NAN);
    let plateau = if !plateau_change.is_finite() {
        Plateau::Undefined
    } else if final_rel < min_threshold {
        Plateau::Converged
    } else if plateau_change.abs() < PLATEAU_TOL {
        Plateau::Stalled
    } else if plateau_change < 0.0 {
        Plateau::Improving
    } else {
        Plateau::Worsening
    };
    SeriesMetrics {
        to_threshold: w
            .thresholds
            .iter()
            .map(|&t| first_crossing(epochs, rel, t))
            .collect(),
        half_life,
        final_rel,
        coverage,
        plateau_change,
        plateau,
        decay_rate: if defined {
            decay_rate(epochs, rel, w.window_fraction * budget)
        } else {
            f64::NAN
        },
    }
}

/// Metrics of one band of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct BandMetrics {
    pub label: String,
    pub f_lo: f64,
    pub f_hi: f64,
    /// See [`band_centre`].
    pub centre: f64,
    /// Takes part in the index and the coverage score.
    pub in_index: bool,
    pub series: SeriesMetrics,
}

/// The kernel's predicted convergence epochs of one run (its kernel.json, first checkpoint).
#[derive(Debug, Clone, PartialEq)]
pub struct KernelCrossings {
    /// Epoch of the checkpoint the prediction starts from.
    pub checkpoint: u64,
    /// Last epoch the prediction was evaluated at (the run's last analysed epoch).
    pub window_end: u64,
    /// `to_threshold[b][t]`: first predicted epoch below threshold t of
    /// [`RunMetrics::thresholds`] (largest first); None = not within the window.
    pub to_threshold: Vec<Vec<Option<u64>>>,
}

/// What `predicted` means in the report tables.
pub const PREDICTED_DEFINITION: &str = "predicted: first epoch with predicted rel_error < threshold of the linearised kernel prediction r <- (I - lr_eff K_P) r from the run's first checkpoint (kernel.json `prediction.to_threshold_budget`, `bandwise kernel`), at the run's analysed epochs up to the end of the budget (the kernel held fixed: beyond the lazy regime this is an extrapolation); `> W` = not by epoch W, the last analysed epoch; median and range over seeds as for the measured epochs";

/// The predicted crossings of the run at `dir` from its kernel.json (None without one).
/// `thresholds` are the report's (largest first), `config_thresholds` the config's order,
/// which kernel.json follows.
fn kernel_crossings(
    dir: &std::path::Path,
    thresholds: &[f64],
    config_thresholds: &[f64],
    n_bands: usize,
) -> Result<Option<KernelCrossings>> {
    if !dir
        .join(crate::analysis::kernel::run_dir::KERNEL_JSON)
        .is_file()
    {
        return Ok(None);
    }
    let k = crate::analysis::kernel::run_dir::read_kernel_json(dir)?;
    let path = dir.join(crate::analysis::kernel::run_dir::KERNEL_JSON);
    let Some(first) = k["checkpoints"].as_array().and_then(|c| {
        c.iter()
            .min_by_key(|c| c["epoch"].as_u64().unwrap_or(u64::MAX))
    }) else {
        return Ok(None);
    };
    let table = first["prediction"]["to_threshold_budget"]
        .as_array()
        .with_context(|| {
            format!(
                "{}: checkpoint has no `prediction.to_threshold_budget`; rerun `bandwise kernel` with this version",
                path.display()
            )
        })?;
    if table.len() != n_bands {
        bail!(
            "{}: {} bands in `prediction.to_threshold` but bands.csv has {}; rerun `bandwise kernel`",
            path.display(),
            table.len(),
            n_bands
        );
    }
    let to_threshold = table
        .iter()
        .map(|row| {
            thresholds
                .iter()
                .map(|t| {
                    config_thresholds
                        .iter()
                        .position(|c| c == t)
                        .and_then(|i| row.get(i))
                        .and_then(Value::as_u64)
                })
                .collect()
        })
        .collect();
    Ok(Some(KernelCrossings {
        checkpoint: first["epoch"].as_u64().unwrap_or(0),
        window_end: first["prediction"]["budget_end"].as_u64().unwrap_or(0),
        to_threshold,
    }))
}

/// Everything the report needs from one run.
#[derive(Debug, Clone)]
pub struct RunMetrics {
    pub dir: PathBuf,
    pub seed: u64,
    pub diverged: bool,
    /// Canonical JSON of run.json `config` without `seed` and `name`.
    pub config_key: String,
    /// Canonical JSON of `config` without `seed`, `name` and `optimizer`: the task.
    pub task_key: String,
    pub optimizer: Value,
    pub label: String,
    /// config.train.epochs (the last recorded epoch if absent).
    pub budget: u64,
    /// config.spectral.thresholds, largest first.
    pub thresholds: Vec<f64>,
    pub epochs: Vec<u64>,
    pub test_loss: Vec<f64>,
    pub final_test_loss: f64,
    /// Empty for a diverged run.
    pub bands: Vec<BandMetrics>,
    pub index: IndexValue,
    /// Spearman(frequency, epochs to the largest threshold) among bands that reach it.
    pub time_spearman: f64,
    /// Mean coverage score over the index bands.
    pub coverage: f64,
    /// The index with the decay window fixed to the first half of the budget.
    pub index_half: f64,
    /// Test loss at the first recorded epoch (epoch 0 = before training).
    pub initial_test_loss: f64,
    /// At least one index band ends below the largest threshold.
    pub band_below_threshold: bool,
    /// Band profile slopes at the loss levels of [`super::matched::MATCHED_LEVELS`].
    pub matched: Vec<MatchedPoint>,
    /// The sweep's lr search for this run's configuration, if any.
    pub lr: Option<LrInfo>,
    /// The kernel's predicted crossings (train grid, runs with kernel.json only).
    pub kernel: Option<KernelCrossings>,
}

/// The fixed p of a padam optimizer table (a number, or a constant schedule).
pub fn fixed_p(opt: &Value) -> Option<f64> {
    if opt["name"].as_str() != Some("padam") {
        return None;
    }
    match &opt["p"] {
        Value::Number(n) => n.as_f64(),
        Value::Object(o) if o.get("kind").and_then(Value::as_str) == Some("constant") => {
            o.get("value").and_then(Value::as_f64)
        }
        _ => None,
    }
}

/// True for a padam optimizer whose p follows a non-constant schedule.
pub fn is_cyclic(opt: &Value) -> bool {
    opt["name"].as_str() == Some("padam")
        && matches!(&opt["p"], Value::Object(o) if o.get("kind").and_then(Value::as_str) != Some("constant"))
}

/// A run's budget: config.train.epochs (the last recorded epoch if absent).
pub fn budget_of(run: &RunData) -> u64 {
    run.meta["config"]["train"]["epochs"]
        .as_u64()
        .or_else(|| run.epochs.epoch.last().copied())
        .unwrap_or(0)
}

/// config.spectral.thresholds of a run in the config's order (default 0.1, 0.01).
pub fn config_thresholds(run: &RunData) -> Vec<f64> {
    run.meta["config"]["spectral"]["thresholds"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_else(|| vec![0.1, 0.01])
}

/// Compute the metrics of one loaded run.
pub fn run_metrics(run: &RunData, opts: &ReportOptions) -> Result<RunMetrics> {
    let meta = &run.meta;
    let diverged = run.status() == "diverged";
    let budget = budget_of(run);
    let config_thresholds = config_thresholds(run);
    let mut thresholds = config_thresholds.clone();
    thresholds.sort_by(|a, b| b.total_cmp(a));
    let final_test_loss = run.epochs.test_loss.last().copied().unwrap_or(f64::NAN);
    let mut m = RunMetrics {
        dir: run.dir.clone(),
        seed: run.seed(),
        diverged,
        config_key: config_key(meta, &["seed", "name"]),
        task_key: config_key(meta, &["seed", "name", "optimizer"]),
        optimizer: run.optimizer().clone(),
        label: run.optimizer_label(),
        budget,
        thresholds,
        epochs: run.epochs.epoch.clone(),
        test_loss: run.epochs.test_loss.clone(),
        final_test_loss,
        bands: Vec::new(),
        index: preference_index(&[], &[]),
        time_spearman: f64::NAN,
        coverage: f64::NAN,
        index_half: f64::NAN,
        initial_test_loss: run.epochs.test_loss.first().copied().unwrap_or(f64::NAN),
        band_below_threshold: false,
        matched: Vec::new(),
        lr: lr_info(&run.dir),
        kernel: None,
    };
    if diverged {
        return Ok(m);
    }
    let Some(g) = run.grid_bands(&opts.grid) else {
        if run.bands.is_empty() && run.dir.join("filtering.csv").exists() {
            bail!(
                "{}: a classification run on scattered data (target.kind = \"dataset\") has no band record: its frequency measure is filtering.csv (the filtering method), summarised per delta in the classification section of `bandwise report` and drawn by `bandwise plot --kind filtering`",
                run.dir.display()
            );
        }
        let have: Vec<&str> = run.bands.iter().map(|b| b.grid.as_str()).collect();
        bail!(
            "{}: no band record for grid `{}` (it has: {}); choose another --grid or enable spectral.grids = [\"{}\"]",
            run.dir.display(),
            opts.grid,
            if have.is_empty() { "none".to_string() } else { have.join(", ") },
            opts.grid
        );
    };
    let rest_flags: Vec<bool> = meta["bands"][&opts.grid]["bands"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|b| b["rest"].as_bool().unwrap_or(false))
                .collect()
        })
        .unwrap_or_default();
    let window = SeriesWindow {
        thresholds: m.thresholds.clone(),
        budget,
        window_fraction: opts.window_fraction,
    };
    for b in 0..g.labels.len() {
        let rel = &g.rel_error[b];
        let is_rest = rest_flags.get(b).copied().unwrap_or(g.labels[b] == "rest");
        let defined =
            rel.iter().any(|r| r.is_finite()) && g.target_energy[b].iter().all(|&t| t > 0.0);
        let centre = band_centre(g.f_lo[b], g.f_hi[b]);
        m.bands.push(BandMetrics {
            label: g.labels[b].clone(),
            f_lo: g.f_lo[b],
            f_hi: g.f_hi[b],
            centre,
            in_index: defined && !is_rest && centre > 0.0,
            series: series_metrics(&g.epochs, rel, defined, &window),
        });
    }
    if opts.grid == "train" {
        m.kernel = kernel_crossings(&run.dir, &m.thresholds, &config_thresholds, m.bands.len())?;
    }
    let used: Vec<&BandMetrics> = m.bands.iter().filter(|b| b.in_index).collect();
    let centres: Vec<f64> = used.iter().map(|b| b.centre).collect();
    let rates: Vec<f64> = used.iter().map(|b| b.series.decay_rate).collect();
    m.index = preference_index(&centres, &rates);
    let half_end = 0.5 * budget as f64;
    let rates_half: Vec<f64> = m
        .bands
        .iter()
        .enumerate()
        .filter(|(_, b)| b.in_index)
        .map(|(i, _)| decay_rate(&g.epochs, &g.rel_error[i], half_end))
        .collect();
    m.index_half = preference_index(&centres, &rates_half).index;
    let largest = m.thresholds.first().copied().unwrap_or(0.1);
    m.band_below_threshold = used.iter().any(|b| b.series.final_rel < largest);
    let rel: Vec<&[f64]> = m
        .bands
        .iter()
        .enumerate()
        .filter(|(_, b)| b.in_index)
        .map(|(i, _)| g.rel_error[i].as_slice())
        .collect();
    m.matched = matched_points(
        &run.epochs.epoch,
        &run.epochs.train_loss,
        &g.epochs,
        &centres,
        &rel,
    );
    let times: Vec<Option<u64>> = used
        .iter()
        .map(|b| b.series.to_threshold.first().copied().flatten())
        .collect();
    m.time_spearman = time_spearman(&centres, &times);
    m.coverage = if used.is_empty() {
        f64::NAN
    } else {
        used.iter().map(|b| b.series.coverage).sum::<f64>() / used.len() as f64
    };
    Ok(m)
}
