//! The kernel analysis of a run directory: every (or the chosen) checkpoint under
//! `checkpoints/`, the training grid rebuilt from run.json's config, the prediction evaluated
//! at the run's own analysed epochs, and the comparison with the measured band errors of
//! bands.csv (train grid). [`write_kernel_json`] writes `kernel.json` (format
//! [`KERNEL_FORMAT`], conventions inside) and [`write_kernel_csv`] `kernel.csv` (format
//! [`KERNEL_CSV_FORMAT`]: the spectra and band shares per eigen-index, conventions in its
//! header) atomically into the run directory.

use crate::analysis::index::{decay_rate, preference_index};
use crate::analysis::kernel::checkpoint::{analyze_checkpoint, CheckpointKernel};
use crate::analysis::kernel::meter::BandMeter;
use crate::analysis::kernel::predict::Horizon;
use crate::base::linalg::SymEigenSolver;
use crate::base::stats::spearman;
use crate::engine::monitor::grid_layout;
use crate::experiment::config::Experiment;
use crate::nn::features::InputMap;
use crate::record::checkpoint::{list_checkpoints, read_checkpoint};
use crate::record::load::RunData;
use crate::record::write_atomic;
use crate::spectral::first_crossing;
use crate::task::target::Target;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Format tag of kernel.json.
pub const KERNEL_FORMAT: &str = "bandwise-kernel/1";
/// File name of the kernel record in a run directory.
pub const KERNEL_JSON: &str = "kernel.json";
/// Format tag and file name of the per-eigen-index table.
pub const KERNEL_CSV_FORMAT: &str = "bandwise-kernel-csv/1";
pub const KERNEL_CSV: &str = "kernel.csv";

/// What to analyse.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelOptions {
    /// Checkpoint epochs to analyse; empty = every checkpoint of the run.
    pub epochs: Vec<u64>,
    /// Length of the prediction window after a checkpoint, as a fraction of the run's budget
    /// (`train.epochs`); the window is clipped at the last epoch.
    pub horizon_fraction: f64,
}

impl Default for KernelOptions {
    fn default() -> Self {
        KernelOptions {
            epochs: Vec::new(),
            horizon_fraction: 0.1,
        }
    }
}

/// Predicted against measured, for one band at one checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct BandComparison {
    pub label: String,
    pub centre: f64,
    /// Whether the band takes part in the order comparison and the index.
    pub in_index: bool,
    /// `sum_i lambda_i shares[i][b] / sum_i lambda_i` of K_P: the band's part of the trace.
    pub eigen_mass: f64,
    /// The effective rate of K_P in the band (`band_rate`).
    pub rate: f64,
    /// Decay rates (decades per epoch, the report's area rate) over the run's analysed epochs
    /// in the window (both at the same epochs).
    pub predicted_decay: f64,
    pub measured_decay: f64,
    /// First epoch below the first threshold (None: not within the window).
    pub predicted_crossing: Option<u64>,
    pub measured_crossing: Option<u64>,
    /// Rank of the band by decay rate among index bands, 1 = fastest (None outside the index
    /// or for an undefined rate).
    pub predicted_rank: Option<usize>,
    pub measured_rank: Option<usize>,
}

/// The comparison at one checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct OrderComparison {
    /// The window `[epoch, window_end]` of both decay rates.
    pub window_end: u64,
    /// The threshold of the crossing columns.
    pub threshold: f64,
    pub bands: Vec<BandComparison>,
    /// Spearman correlation of predicted and measured decay rates over the index bands with
    /// both rates defined (NaN with fewer than 2).
    pub order_spearman: f64,
    /// Bands in the correlation.
    pub n_bands: usize,
    /// Preference index of the predicted and of the measured decay rates over the window.
    pub predicted_index: f64,
    pub measured_index: f64,
}

/// One analysed checkpoint: the kernel and its comparison with the run.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointReport {
    #[serde(flatten)]
    pub kernel: CheckpointKernel,
    pub comparison: OrderComparison,
    /// Seconds spent on this checkpoint.
    pub seconds: f64,
}

/// The kernel analysis of one run.
#[derive(Debug, Clone)]
pub struct RunKernel {
    pub dir: PathBuf,
    pub name: String,
    /// The run's band-layout conventions (run.json `conventions.bands`, train grid).
    pub band_conventions: Value,
    pub checkpoints: Vec<CheckpointReport>,
}

/// Ranks 1 = largest among the finite values of `x` at `mask`; None elsewhere.
fn ranks_desc(x: &[f64], mask: &[bool]) -> Vec<Option<usize>> {
    let mut idx: Vec<usize> = (0..x.len())
        .filter(|&i| mask[i] && x[i].is_finite())
        .collect();
    idx.sort_by(|&a, &b| x[b].total_cmp(&x[a]));
    let mut out = vec![None; x.len()];
    for (r, i) in idx.into_iter().enumerate() {
        out[i] = Some(r + 1);
    }
    out
}

/// The experiment a run was made with (run.json's `config`).
pub fn run_experiment_config(run: &RunData) -> Result<Experiment> {
    serde_json::from_value(run.meta["config"].clone()).with_context(|| {
        format!(
            "{}: run.json `config` does not read back as a config; was the run written by this version of bandwise?",
            run.dir.join("run.json").display()
        )
    })
}

/// Analyse the checkpoints of the run at `dir` with `solver`.
pub fn analyze_run(
    dir: &Path,
    opts: &KernelOptions,
    solver: &dyn SymEigenSolver,
) -> Result<RunKernel> {
    if !(opts.horizon_fraction > 0.0 && opts.horizon_fraction <= 1.0) {
        bail!(
            "the kernel horizon must be a fraction of the budget in (0, 1], got {}",
            opts.horizon_fraction
        );
    }
    let run = RunData::load(dir).with_context(|| format!("cannot load run {}", dir.display()))?;
    let exp = run_experiment_config(&run)?;
    if exp.target.classes.is_some() || exp.target.dataset.is_some() {
        bail!(
            "{}: the kernel analysis covers regression runs on a grid (MSE); this run fits a dataset or classes",
            dir.display()
        );
    }
    let found = list_checkpoints(dir)?;
    if found.is_empty() {
        bail!(
            "{}: no checkpoints (no checkpoints/epoch_NNNNNN.json); rerun with `record.checkpoints = [0, ...]` in the config",
            dir.display()
        );
    }
    let chosen: Vec<(u64, PathBuf)> = if opts.epochs.is_empty() {
        found
    } else {
        let mut v = Vec::new();
        for &e in &opts.epochs {
            match found.iter().find(|(f, _)| *f == e) {
                Some(x) => v.push(x.clone()),
                None => bail!(
                    "{}: no checkpoint at epoch {e}; checkpoints exist at epochs {}",
                    dir.display(),
                    found
                        .iter()
                        .map(|(e, _)| e.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        v
    };
    let target = Target::build(&exp.target, exp.seed);
    let layout = grid_layout(&exp, &target, target.train.len())?;
    let band_conventions = layout.table().conventions();
    let mut meter = BandMeter::new(&target.train.y, layout);
    let inputs = InputMap::new(&exp.model, target.train.dim(), exp.seed).apply(&target.train.t);
    let measured = run.grid_bands("train").with_context(|| {
        format!(
            "{}: bands.csv has no train-grid rows; the comparison needs spectral.grids to include \"train\"",
            dir.display()
        )
    })?;
    if measured.labels.len() != meter.bands().len() {
        bail!(
            "{}: bands.csv has {} train bands but the config's layout has {}; the run directory does not match its config",
            dir.display(),
            measured.labels.len(),
            meter.bands().len()
        );
    }
    let budget = exp.train.epochs;
    let steps_per_epoch = match exp.train.batch_size {
        0 => 1,
        b => target.train.len().div_ceil(b) as u64,
    };
    let threshold = exp.spectral.thresholds.first().copied().unwrap_or(0.1);
    let mut checkpoints = Vec::new();
    for (epoch, path) in chosen {
        let started = std::time::Instant::now();
        let ckpt = read_checkpoint(&path)?;
        let window_end =
            (epoch + ((opts.horizon_fraction * budget as f64).round() as u64).max(1)).min(budget);
        // The run's analysed epochs in the window (the prediction is evaluated at the same ones).
        let at: Vec<usize> = (0..measured.epochs.len())
            .filter(|&i| measured.epochs[i] >= epoch && measured.epochs[i] <= window_end)
            .collect();
        let mut epochs: Vec<u64> = at.iter().map(|&i| measured.epochs[i]).collect();
        if epochs.first() != Some(&epoch) {
            epochs.insert(0, epoch);
        }
        let horizon = Horizon {
            start_epoch: epoch,
            epochs: epochs.clone(),
            steps_per_epoch,
            thresholds: exp.spectral.thresholds.clone(),
            window_end: window_end as f64,
            beyond: measured
                .epochs
                .iter()
                .copied()
                .filter(|&e| e > window_end)
                .collect(),
        };
        let kernel = analyze_checkpoint(
            &ckpt,
            exp.model.activation,
            &inputs,
            &target.train.y,
            &mut meter,
            solver,
            &horizon,
        )
        .with_context(|| format!("kernel analysis of {}", path.display()))?;
        let comparison = compare(&kernel, measured, &at, threshold, window_end);
        checkpoints.push(CheckpointReport {
            kernel,
            comparison,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(RunKernel {
        dir: dir.to_path_buf(),
        name: run.name().to_string(),
        band_conventions,
        checkpoints,
    })
}

/// Predicted against measured decay rates, crossings and ranks over one window.
fn compare(
    k: &CheckpointKernel,
    measured: &crate::record::load::GridBands,
    at: &[usize],
    threshold: f64,
    window_end: u64,
) -> OrderComparison {
    let m_epochs: Vec<u64> = at.iter().map(|&i| measured.epochs[i]).collect();
    let trace: f64 = k.preconditioned.eigenvalues.iter().sum();
    let n_bands = k.bands.len();
    let mask: Vec<bool> = k.bands.iter().map(|b| b.in_index()).collect();
    let measured_decay: Vec<f64> = (0..n_bands)
        .map(|b| {
            if !k.bands[b].in_index() {
                return f64::NAN;
            }
            let s: Vec<f64> = at.iter().map(|&i| measured.rel_error[b][i]).collect();
            decay_rate(&m_epochs, &s, window_end as f64)
        })
        .collect();
    // The predicted rates over exactly the measured epochs (the prediction may start one
    // epoch earlier, at a checkpoint that is not an analysed epoch).
    let offset = k.prediction.epochs.len() - m_epochs.len();
    let predicted_decay: Vec<f64> = (0..n_bands)
        .map(|b| {
            if !k.bands[b].in_index() {
                return f64::NAN;
            }
            let s: Vec<f64> = k.prediction.rel_error[offset..]
                .iter()
                .map(|row| row[b])
                .collect();
            decay_rate(&m_epochs, &s, window_end as f64)
        })
        .collect();
    let (pr, mr) = (
        ranks_desc(&predicted_decay, &mask),
        ranks_desc(&measured_decay, &mask),
    );
    let bands: Vec<BandComparison> = (0..n_bands)
        .map(|b| {
            let mass: f64 = k
                .preconditioned
                .shares
                .iter()
                .zip(&k.preconditioned.eigenvalues)
                .map(|(row, l)| l * row[b])
                .sum();
            let s: Vec<f64> = at.iter().map(|&i| measured.rel_error[b][i]).collect();
            BandComparison {
                label: k.bands[b].label.clone(),
                centre: k.bands[b].centre,
                in_index: k.bands[b].in_index(),
                eigen_mass: mass / trace,
                rate: k.preconditioned.band_rate[b],
                predicted_decay: predicted_decay[b],
                measured_decay: measured_decay[b],
                predicted_crossing: k.prediction.to_threshold[b].first().copied().flatten(),
                measured_crossing: first_crossing(&m_epochs, &s, threshold),
                predicted_rank: pr[b],
                measured_rank: mr[b],
            }
        })
        .collect();
    let (x, y): (Vec<f64>, Vec<f64>) = (0..n_bands)
        .filter(|&b| mask[b] && predicted_decay[b].is_finite() && measured_decay[b].is_finite())
        .map(|b| (predicted_decay[b], measured_decay[b]))
        .unzip();
    let index_of = |rates: &[f64]| {
        let (c, r): (Vec<f64>, Vec<f64>) = (0..n_bands)
            .filter(|&b| mask[b])
            .map(|b| (k.bands[b].centre, rates[b]))
            .unzip();
        preference_index(&c, &r).index
    };
    OrderComparison {
        window_end,
        threshold,
        order_spearman: spearman(&x, &y),
        n_bands: x.len(),
        predicted_index: index_of(&predicted_decay),
        measured_index: index_of(&measured_decay),
        bands,
    }
}

/// The conventions block of kernel.json.
pub fn kernel_conventions(band_conventions: &Value) -> Value {
    json!({
        "kernel": "K_P = J P J^T / N on the training grid: J[i][j] = d h(x_i) / d theta_j (f64, from the stored parameters, also for f32-trained runs), N = grid points, P = the optimizer's diagonal preconditioner at the checkpoint; K is the same with P = I",
        "p_form": "padam: P_jj = 1/(vh_j^p + eps), vh = v/(1-beta2^t) (floored at v_floor for p < 0); adam: P_jj = 1/(sqrt(vh_j) + eps), i.e. p = 0.5; sgd: P = I; rmsprop: 1/(sqrt(v_j) + eps); at step 0 the first update's moments (vh = g^2) are used",
        "update_map": "linearised residual map per update r <- (I - lr_eff K_P) r, lr_eff = 2 lr c (2 from the MSE gradient, c the steady-state momentum factor: 1 for adam/padam, 1/(1-momentum) for sgd/rmsprop); weight decay left out",
        "dft": "unnormalised DFT X_k = sum_n x_n exp(-2 pi i k n / N), one-sided bins with Parseval weights; band energy E_b(x) = (1/N^2) sum_{k in b} w_k |X_k|^2, so sum_b E_b(x) = mean(x^2) (2D: the monitor's half-plane rings, same normalisation)",
        "bands": band_conventions,
        "eigenvalues": "of K_P (`preconditioned`) and K (`plain`), largest first; eigenvectors are not stored",
        "shares": "shares[i][b] = E_b(u_i) / sum_b E_b(u_i) for the unit eigenvector u_i; each row sums to 1; dominant_band[i] = argmax_b shares[i][b]",
        "band_rate": "sum_i lambda_i shares[i][b] / sum_i shares[i][b] (1/update)",
        "eigen_mass": "sum_i lambda_i shares[i][b] / sum_i lambda_i (the band's part of the trace of K_P)",
        "prediction": "r_s = sum_i <u_i, r_0> (1 - lr_eff lambda_i)^s u_i after s = (epoch - checkpoint) x steps_per_epoch updates; rel_error[e][b] = E_b(r_s)/E_b(y) at the run's analysed epochs in the window; to_threshold[b][t] = first such epoch below spectral.thresholds[t]; to_threshold_budget[b][t] = the same over the run's analysed epochs from the checkpoint to the end of the budget (budget_end = the last of them; the report's `predicted` column); decay_rate: the report's area rate (decades per epoch) over the window; index: the report's preference index of those rates",
        "comparison": "measured values from bands.csv (train grid) at the same epochs; order_spearman = Spearman correlation of predicted and measured decay rates over the index bands (target energy > 0, not rest); ranks: 1 = fastest-decaying band",
    })
}

/// Read the run's kernel.json (checking its format tag).
pub fn read_kernel_json(dir: &Path) -> Result<Value> {
    let path = dir.join(KERNEL_JSON);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}; run `bandwise kernel {}` first",
            path.display(),
            dir.display()
        )
    })?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    if v["format"].as_str() != Some(KERNEL_FORMAT) {
        bail!(
            "{}: `format` is {} but this version reads {KERNEL_FORMAT}; rerun `bandwise kernel`",
            path.display(),
            v["format"]
        );
    }
    Ok(v)
}

/// Write `kernel.json` into the run directory (atomically); returns its path.
pub fn write_kernel_json(rk: &RunKernel, solver: &dyn SymEigenSolver) -> Result<PathBuf> {
    let value = json!({
        "format": KERNEL_FORMAT,
        "run": rk.name,
        "solver": solver.name(),
        "conventions": kernel_conventions(&rk.band_conventions),
        "checkpoints": rk.checkpoints,
    });
    let path = rk.dir.join(KERNEL_JSON);
    write_atomic(&path, (serde_json::to_string(&value)? + "\n").as_bytes())?;
    Ok(path)
}

/// The text of kernel.csv: one row per checkpoint and eigen-index, header comments stating
/// the conventions.
pub fn kernel_csv(rk: &RunKernel) -> String {
    use crate::record::num;
    use std::fmt::Write as _;
    let mut out = String::new();
    let bands = rk
        .checkpoints
        .first()
        .map(|c| c.kernel.bands.clone())
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "# bandwise {} kernel spectra of run `{}` ({KERNEL_CSV_FORMAT}; companion of {KERNEL_JSON}, {KERNEL_FORMAT}, which holds the predictions and the full conventions)",
        env!("CARGO_PKG_VERSION"),
        rk.name
    );
    let _ = writeln!(out, "# K_P = J P J^T / N on the training grid (P: the optimizer's diagonal preconditioner at the checkpoint), K = J J^T / N (P = I); empty cell = undefined");
    let _ = writeln!(out, "# eigenvalue_kp / eigenvalue_k: the eigen_index-th largest eigenvalue of K_P / of K (each kernel sorted on its own: a row pairs ranks, not eigenvectors; values below ~1e-12 x the largest are round-off)");
    let _ = writeln!(out, "# share_b = E_b(u)/sum_b E_b(u) for K_P's unit eigenvector u of that rank (Parseval band energies with the monitor's bands and normalisation; each row's shares sum to 1); dominant_band = the band index with the largest share");
    let _ = writeln!(
        out,
        "# bands (cycles [lo, hi)): {}",
        bands
            .iter()
            .enumerate()
            .map(|(i, b)| format!("{i}:[{},{}) {}", b.f_lo, b.f_hi, b.label))
            .collect::<Vec<_>>()
            .join(" ")
    );
    out.push_str("checkpoint_epoch,eigen_index,eigenvalue_kp,eigenvalue_k,dominant_band");
    for i in 0..bands.len() {
        let _ = write!(out, ",share_{i}");
    }
    out.push('\n');
    for c in &rk.checkpoints {
        let (kp, k) = (&c.kernel.preconditioned, &c.kernel.plain);
        for i in 0..kp.eigenvalues.len() {
            let _ = write!(
                out,
                "{},{},{},{},{}",
                c.kernel.epoch,
                i + 1,
                num(kp.eigenvalues[i]),
                num(k.eigenvalues.get(i).copied().unwrap_or(f64::NAN)),
                kp.dominant_band[i]
            );
            for s in &kp.shares[i] {
                let _ = write!(out, ",{}", num(*s));
            }
            out.push('\n');
        }
    }
    out
}

/// Write `kernel.csv` into the run directory (atomically); returns its path.
pub fn write_kernel_csv(rk: &RunKernel) -> Result<PathBuf> {
    let path = rk.dir.join(KERNEL_CSV);
    write_atomic(&path, kernel_csv(rk).as_bytes())?;
    Ok(path)
}
