//! Trajectories from other frameworks: the grid a foreign training script needs
//! ([`write_grid`], `bandwise target`) and the analysis of its per-epoch predictions into a
//! normal run directory ([`analyze`], `bandwise analyze`).
//!
//! Grid file (`bandwise target SPEC --out grid.npy`): a float64 NPY array of shape (N, 3), one
//! row per training-grid point, columns `t` (grid coordinate in [0, 1)), `x` (the model input
//! `lo + (hi - lo) t`, model.input_range) and `y` (the values to fit, noisy if target.noise > 0).
//! A 2D target (N x M grid) gives shape (N*M, 5), columns `t1, t2` (both coordinates), `x1, x2`
//! (both model inputs) and `y`, rows in the grid's row-major order.
//! `--test test_grid.npy` also writes the test grid the same way (y noise-free).
//!
//! Predictions (`bandwise analyze --config SPEC --predictions P`), on the training grid, in the
//! grid file's row order:
//! - P a `.npy` file: one 2D float32/float64 array (C or Fortran order) of shape (epochs, N),
//!   row i = the network's output at the i-th recorded epoch;
//! - P a directory: one 1D array of length N per epoch, the epoch number being the last group
//!   of digits in the file name (`pred_00000.npy`, `pred_00001.npy`, ...); other files ignored.
//!
//! Classification tasks (`target.classes`, or `kind = "dataset"` with labels): the
//! predictions are the K logits per point, a 3D array of shape (epochs, N, K), or per-epoch 2D
//! arrays of shape (N, K); the losses (softmax cross-entropy), accuracies, class-accuracy,
//! decision-boundary agreement and (data tasks) the filtering method are computed from them
//! exactly as `bandwise run` computes them for its own classification runs.
//!
//! Epoch numbers: the file names; else an `epoch` column of `--epochs`; else 0, 1, 2, ...
//! (epoch 0 = before training, as in bandwise's own runs). `--epochs epochs.csv` (optional,
//! `#` comment lines allowed) may hold the columns epoch, step, train_loss, test_loss, lr, p,
//! wall_s, one row per recorded epoch in order; losses not given are computed from the
//! predictions (MSE over the grid, exactly as `bandwise run` computes them); step defaults to
//! the epoch (one full-batch step per epoch).
//!
//! Every problem is reported before anything is written, naming the file and the expected
//! shape; the run directory appears only complete (staging directory renamed into place).

use crate::base::signal_io::describe_npy_error;
use crate::engine::classify::{describe_run, ClassObserver};
use crate::engine::monitor::Recorder;
use crate::engine::run::{conventions, write_spectral_records};
use crate::engine::train::{Evaluation, Observer};
use crate::experiment::config::{Experiment, GridName};
use crate::experiment::fingerprint;
use crate::nn::model::MlpShape;
use crate::record::schema::{
    Diverged, EpochRecord, EpochsCsv, ModelMeta, RunMeta, SummaryMeta, TargetMeta, WallClock,
    FIXED_HYPERS,
};
use crate::record::{write_atomic_with, Staging, Table, FORMAT};
use crate::task::grid::GridData;
use crate::task::objective::mse::mse;
use crate::task::objective::{CrossEntropy, Objective, Split};
use crate::task::target::Target;
use anyhow::{bail, Context, Result};
use ndarray::{Array1, Array2};
use ndarray_npy::{read_npy, write_npy, ReadNpyError};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Load an experiment config for its task only: the `[optimizer]` table may be missing or name
/// an optimizer this program does not know (it is not used). Validated like a run config.
pub fn load_task(path: &Path) -> Result<Experiment> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    load_task_str(&text, &path.display().to_string(), &stem)
}

/// [`load_task`] from TOML text; `origin` names it in errors, `default_name` is the run name
/// when the config has none.
pub fn load_task_str(text: &str, origin: &str, default_name: &str) -> Result<Experiment> {
    let mut table: toml::Table = toml::from_str(text)
        .map_err(|e| anyhow::anyhow!("config {origin}: {}", e.to_string().trim_end()))?;
    // The optimizer ran elsewhere: whatever the table says is replaced by what run.json
    // records for an import (`finish` adds its provenance), and validation skips it.
    let mut imported = toml::Table::new();
    imported.insert("name".into(), toml::Value::String("imported".into()));
    table.insert("optimizer".into(), toml::Value::Table(imported));
    let mut exp = Experiment::from_toml_value(toml::Value::Table(table), origin)?;
    if exp.name.is_empty() {
        exp.name = default_name.to_string();
    }
    exp.validate_task()
        .with_context(|| format!("config {origin}"))?;
    Ok(exp)
}

/// The names of the grid array's columns: `t, x, y` in 1D; `t1, t2, x1, x2, y` in 2D (both
/// grid coordinates, both model inputs, then the value).
pub fn grid_columns(dim: usize) -> Vec<String> {
    if dim == 1 {
        return vec!["t".into(), "x".into(), "y".into()];
    }
    let t = (1..=dim).map(|i| format!("t{i}"));
    let x = (1..=dim).map(|i| format!("x{i}"));
    t.chain(x).chain(["y".to_string()]).collect()
}

/// The (N, 2d + 1) grid array of a d-dimensional grid, columns [`grid_columns`]: the
/// coordinates in [0, 1), the model inputs `lo + (hi - lo) t`, and the value.
pub fn grid_array(grid: &GridData, input_range: [f64; 2]) -> Array2<f64> {
    let [lo, hi] = input_range;
    let d = grid.dim();
    let mut a = Array2::<f64>::zeros((grid.len(), 2 * d + 1));
    for (i, &y) in grid.y.iter().enumerate() {
        for (c, &t) in grid.t[i * d..(i + 1) * d].iter().enumerate() {
            a[[i, c]] = t;
            a[[i, d + c]] = lo + (hi - lo) * t;
        }
        a[[i, 2 * d]] = y;
    }
    a
}

/// Write the training grid (and optionally the test grid) of `exp` as (N, 3) NPY arrays (for
/// a classification task, y is the class label).
pub fn write_grid(exp: &Experiment, out: &Path, test_out: Option<&Path>) -> Result<Target> {
    let (target, _) = task_of(exp)?;
    let write = |path: &Path, grid: &GridData| -> Result<()> {
        write_atomic_with(path, |tmp| {
            Ok(write_npy(tmp, &grid_array(grid, exp.model.input_range))?)
        })
    };
    write(out, &target.train)?;
    if let Some(t) = test_out {
        write(t, &target.test)?;
    }
    Ok(target)
}

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct ImportInputs {
    /// A 2D NPY file (epochs x N) or a directory of per-epoch 1D NPY files.
    pub predictions: PathBuf,
    /// The same on the test grid (required when the config analyses the test grid).
    pub test_predictions: Option<PathBuf>,
    /// Optional per-epoch columns.
    pub epochs_csv: Option<PathBuf>,
    /// Free-text provenance, e.g. "pytorch Adam lr=1e-3".
    pub source: Option<String>,
    /// Replace an existing output directory.
    pub overwrite: bool,
    /// The task fingerprint the predictions were made on (else read from a
    /// `# fingerprint: ...` comment of the epochs CSV; see [`crate::experiment::fingerprint`]).
    pub fingerprint: Option<String>,
}

/// What an analysis wrote.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    pub dir: PathBuf,
    pub epochs: Vec<u64>,
    pub final_train_loss: f64,
    /// Remarks for the user (e.g. the budget was taken from the predictions).
    pub notes: Vec<String>,
    /// Checks that could not be made (e.g. a trajectory without a fingerprint).
    pub warnings: Vec<String>,
}

/// Predictions of one grid: one row per recorded epoch.
struct Trajectory {
    rows: Vec<Vec<f64>>,
    /// Epochs from file names (directory layout).
    epochs: Option<Vec<u64>>,
    provenance: Value,
}

/// Read an f32 or f64 NPY array of dimension `D`, returning it as f64 and its dtype name.
fn read_float<D: ndarray::Dimension>(
    path: &Path,
) -> std::result::Result<(ndarray::Array<f64, D>, &'static str), ReadNpyError> {
    match read_npy::<_, ndarray::Array<f64, D>>(path) {
        Ok(a) => Ok((a, "float64")),
        Err(ReadNpyError::WrongDescriptor(_)) => {
            read_npy::<_, ndarray::Array<f32, D>>(path).map(|a| (a.mapv(f64::from), "float32"))
        }
        Err(e) => Err(e),
    }
}

fn check_finite(path: &Path, row: usize, epoch: Option<u64>, values: &[f64]) -> Result<()> {
    let bad = values.iter().filter(|x| !x.is_finite()).count();
    if bad > 0 {
        let which = match epoch {
            Some(e) => format!("row {row} (epoch {e})"),
            None => format!("row {row}"),
        };
        bail!(
            "{}: {which} has {bad} non-finite values (NaN or inf) of {}; analyze takes finite predictions only: drop the epochs from the divergence on (and their epochs.csv rows)",
            path.display(),
            values.len()
        );
    }
    Ok(())
}

/// The last group of ASCII digits in a file stem.
fn epoch_of_name(stem: &str) -> Option<u64> {
    let end = stem.rfind(|c: char| c.is_ascii_digit())? + 1;
    let start = stem[..end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    stem[start..end].parse().ok()
}

/// Read one grid's predictions: `width` values per point (1 for regression, K logits for
/// classification), each epoch's row flattened point-major (`[n, width]` row-major).
fn read_trajectory(path: &Path, n: usize, width: usize, grid: &str) -> Result<Trajectory> {
    if path.is_dir() {
        let mut files: Vec<(u64, PathBuf)> = Vec::new();
        for e in
            std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?
        {
            let p = e?.path();
            if p.extension().and_then(|x| x.to_str()) != Some("npy") {
                continue;
            }
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let epoch = epoch_of_name(&stem).with_context(|| {
                format!(
                    "{}: no epoch number in the file name; name per-epoch files like pred_00012.npy (the last group of digits is the epoch)",
                    p.display()
                )
            })?;
            if let Some((_, other)) = files.iter().find(|(e, _)| *e == epoch) {
                bail!(
                    "{} and {} both hold epoch {epoch}",
                    other.display(),
                    p.display()
                );
            }
            files.push((epoch, p));
        }
        if files.is_empty() {
            bail!(
                "{}: no .npy files; expected one 1D array of {n} values per epoch ({grid} grid), named like pred_00000.npy",
                path.display()
            );
        }
        files.sort();
        let mut rows = Vec::with_capacity(files.len());
        let mut dtype = "";
        for (i, (epoch, p)) in files.iter().enumerate() {
            let expected = if width == 1 {
                format!("a 1D float32/float64 array of shape ({n},) (epoch {epoch} on the {grid} grid of {n} points)")
            } else {
                format!("a 2D float32/float64 array of shape ({n}, {width}): the {width} logits of each of the {n} points of the {grid} grid at epoch {epoch}")
            };
            crate::base::signal_io::check_npy_size(p)
                .map_err(|e| anyhow::anyhow!("{e:#}; expected {expected}"))?;
            let described = |e: ReadNpyError| {
                anyhow::anyhow!(
                    "{}: {}; expected {expected}",
                    p.display(),
                    describe_npy_error(&e)
                )
            };
            let (a, dt): (Array2<f64>, _) = if width == 1 {
                let (a, dt): (Array1<f64>, _) = read_float(p).map_err(described)?;
                let len = a.len();
                (a.into_shape_with_order((len, 1)).expect("a column"), dt)
            } else {
                read_float(p).map_err(described)?
            };
            if a.dim() != (n, width) {
                let found = if width == 1 {
                    format!("{} values", a.dim().0)
                } else {
                    format!("shape ({}, {})", a.dim().0, a.dim().1)
                };
                bail!(
                    "{}: has {found} but expected {expected} (make the predictions on the grid written by `bandwise target`)",
                    p.display()
                );
            }
            let row: Vec<f64> = a.iter().copied().collect();
            check_finite(p, i, Some(*epoch), &row)?;
            rows.push(row);
            dtype = dt;
        }
        Ok(Trajectory {
            rows,
            epochs: Some(files.iter().map(|f| f.0).collect()),
            provenance: json!({
                "path": path.display().to_string(),
                "layout": if width == 1 { "directory of per-epoch 1D NPY files" } else { "directory of per-epoch 2D NPY files (points x logits)" },
                "files": files.len(),
                "dtype": dtype,
            }),
        })
    } else {
        let expected = if width == 1 {
            format!("a 2D float32/float64 array of shape (epochs, {n}): one row per recorded epoch, one column per point of the {grid} grid")
        } else {
            format!("a 3D float32/float64 array of shape (epochs, {n}, {width}): per recorded epoch, the {width} logits of each point of the {grid} grid")
        };
        if !path.is_file() {
            bail!(
                "{} does not exist; expected {expected} (or a directory of per-epoch files)",
                path.display()
            );
        }
        crate::base::signal_io::check_npy_size(path)
            .map_err(|e| anyhow::anyhow!("{e:#}; expected {expected}"))?;
        let described = |e: ReadNpyError| {
            anyhow::anyhow!(
                "{}: {}; expected {expected}",
                path.display(),
                describe_npy_error(&e)
            )
        };
        let (rows, shape, dtype): (Vec<Vec<f64>>, Vec<usize>, _) = if width == 1 {
            let (a, dtype): (Array2<f64>, _) = read_float(path).map_err(described)?;
            let (rows_n, cols) = a.dim();
            if cols != n {
                let hint = if rows_n == n && cols == 3 {
                    " (this looks like the grid file written by `bandwise target`, not predictions)"
                } else if rows_n == n {
                    " (it looks transposed: save predictions.T)"
                } else {
                    " (make the predictions on the grid written by `bandwise target`)"
                };
                bail!(
                    "{}: has shape ({rows_n}, {cols}) but the {grid} grid has {n} points; expected {expected}{hint}",
                    path.display()
                );
            }
            (
                a.outer_iter().map(|r| r.to_vec()).collect(),
                vec![rows_n, cols],
                dtype,
            )
        } else {
            let (a, dtype): (ndarray::Array3<f64>, _) = read_float(path).map_err(described)?;
            let (e, rows_n, k) = a.dim();
            if (rows_n, k) != (n, width) {
                bail!(
                    "{}: has shape ({e}, {rows_n}, {k}) but expected {expected}",
                    path.display()
                );
            }
            (
                a.outer_iter()
                    .map(|m| m.iter().copied().collect())
                    .collect(),
                vec![e, rows_n, k],
                dtype,
            )
        };
        if rows.is_empty() {
            bail!("{}: has no rows; expected {expected}", path.display());
        }
        for (i, r) in rows.iter().enumerate() {
            check_finite(path, i, None, r)?;
        }
        Ok(Trajectory {
            rows,
            epochs: None,
            provenance: json!({
                "path": path.display().to_string(),
                "layout": if width == 1 { "2D array (epochs x points)" } else { "3D array (epochs x points x logits)" },
                "shape": shape,
                "dtype": dtype,
            }),
        })
    }
}

/// The columns `--epochs` may hold.
pub const EPOCH_COLUMNS: [&str; 7] = [
    "epoch",
    "step",
    "train_loss",
    "test_loss",
    "lr",
    "p",
    "wall_s",
];

struct EpochColumns {
    table: Table,
    path: PathBuf,
}

impl EpochColumns {
    fn read(path: &Path) -> Result<EpochColumns> {
        let table = Table::read(path)?;
        for h in &table.header {
            if !EPOCH_COLUMNS.contains(&h.as_str()) {
                bail!(
                    "{}: unknown column `{h}`; the columns may be {}{}",
                    path.display(),
                    EPOCH_COLUMNS.join(", "),
                    crate::base::suggest::did_you_mean(h, &EPOCH_COLUMNS)
                );
            }
        }
        Ok(EpochColumns {
            table,
            path: path.to_path_buf(),
        })
    }

    fn has(&self, name: &str) -> bool {
        self.table.header.iter().any(|h| h == name)
    }

    fn f64s(&self, name: &str) -> Result<Option<Vec<f64>>> {
        if !self.has(name) {
            return Ok(None);
        }
        self.table
            .f64s(name)
            .map(Some)
            .with_context(|| format!("in {}", self.path.display()))
    }

    /// A loss column: every value must be a finite number >= 0 (a NaN would otherwise be
    /// dropped from every summary without a word).
    fn losses(&self, name: &str) -> Result<Option<Vec<f64>>> {
        let Some(v) = self.f64s(name)? else {
            return Ok(None);
        };
        if let Some((i, x)) = v
            .iter()
            .enumerate()
            .find(|(_, x)| !(x.is_finite() && **x >= 0.0))
        {
            bail!(
                "{}: data row {}: column `{name}` is {x}; losses must be finite numbers >= 0 (for a diverged training, import the epochs before it diverged)",
                self.path.display(),
                i + 1
            );
        }
        Ok(Some(v))
    }

    fn u64s(&self, name: &str) -> Result<Option<Vec<u64>>> {
        match self.f64s(name)? {
            None => Ok(None),
            Some(v) => v
                .into_iter()
                .enumerate()
                .map(|(i, x)| {
                    if x >= 0.0 && x.fract() == 0.0 && x.is_finite() {
                        Ok(x as u64)
                    } else {
                        bail!(
                            "{}: data row {}: column `{name}` must be a whole number >= 0, got {x}",
                            self.path.display(),
                            i + 1
                        )
                    }
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
        }
    }
}

/// Analyse a foreign trajectory on the task of `exp` into the run directory `out`.
pub fn analyze(exp: &Experiment, inputs: &ImportInputs, out: &Path) -> Result<ImportSummary> {
    let mut exp = exp.clone();
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let found_fingerprint = declared_fingerprint(inputs)?;
    let (target, classes) = task_of(&exp)?;
    let width = classes.unwrap_or(1);
    let train = read_trajectory(&inputs.predictions, target.train.len(), width, "training")?;
    let test = match &inputs.test_predictions {
        Some(p) => Some(read_trajectory(p, target.test.len(), width, "test")?),
        None => None,
    };
    if let (Some(k), None) = (classes, &test) {
        bail!("a classification task ({k} classes) needs test-grid logits too (--test-predictions, shape (epochs, {}, {k})): test accuracy, the decision-boundary agreement and the C4-C6 verdicts are read on the test split", target.test.len());
    }
    if exp.spectral.enabled && exp.spectral.grids.contains(&GridName::Test) && test.is_none() {
        bail!("the config analyses the test grid (spectral.grids contains \"test\") but no --test-predictions were given: pass them (shape (epochs, {})) or set spectral.grids = [\"train\"]", target.test.len());
    }
    let n_rows = train.rows.len();
    if let Some(t) = &test {
        if t.rows.len() != n_rows || t.epochs != train.epochs {
            bail!(
                "{} holds {} epochs but {} holds {}: give test predictions for the same epochs",
                inputs.test_predictions.as_ref().expect("some").display(),
                t.rows.len(),
                inputs.predictions.display(),
                n_rows
            );
        }
    }
    let cols = inputs
        .epochs_csv
        .as_deref()
        .map(EpochColumns::read)
        .transpose()?;
    if let Some(c) = &cols {
        if c.table.len() != n_rows {
            bail!(
                "{}: has {} data rows but {} holds {n_rows} epochs; give one row per recorded epoch, in order",
                c.path.display(),
                c.table.len(),
                inputs.predictions.display()
            );
        }
    }
    let csv_epochs = match &cols {
        Some(c) => c.u64s("epoch")?,
        None => None,
    };
    let epochs: Vec<u64> = match (&train.epochs, csv_epochs) {
        (Some(files), Some(csv)) => {
            if *files != csv {
                bail!(
                    "the epoch column of {} does not match the epochs in the file names of {}",
                    inputs.epochs_csv.as_ref().expect("some").display(),
                    inputs.predictions.display()
                );
            }
            csv
        }
        (Some(files), None) => files.clone(),
        (None, Some(csv)) => csv,
        (None, None) => (0..n_rows as u64).collect(),
    };
    if let Some(i) = epochs.windows(2).position(|w| w[1] <= w[0]) {
        bail!(
            "epochs must increase strictly, but epoch {} follows epoch {} (row {})",
            epochs[i + 1],
            epochs[i],
            i + 1
        );
    }
    let last = *epochs.last().expect("at least one row");
    if last == 0 {
        bail!(
            "{}: only epoch 0 is recorded; analyze needs at least one epoch after the start",
            inputs.predictions.display()
        );
    }
    if exp.train.epochs != last {
        notes.push(format!(
            "config train.epochs = {} but the predictions end at epoch {last}: the record uses {last} as the budget",
            exp.train.epochs
        ));
        exp.train.epochs = last;
    }
    let get = |name: &str| -> Result<Option<Vec<f64>>> {
        match &cols {
            Some(c) => c.f64s(name),
            None => Ok(None),
        }
    };
    let loss = |name: &str| -> Result<Option<Vec<f64>>> {
        cols.as_ref().map_or(Ok(None), |c| c.losses(name))
    };
    let given_train = loss("train_loss")?;
    let given_test = loss("test_loss")?;
    let lr = get("lr")?;
    let p = get("p")?;
    let wall = get("wall_s")?;
    let steps = match &cols {
        Some(c) => c.u64s("step")?,
        None => None,
    };

    // Everything is checked: run the spectral monitor and write.
    if let Some(found) = &found_fingerprint {
        fingerprint::check(&fingerprint::fingerprint(&exp, &target), &found.0, &found.1)?;
    } else {
        warnings.push(format!(
            "{} carries no task fingerprint (written before fingerprints, or by hand): cannot check that it was made on this config's target and seed; pass --fingerprint (printed by `bandwise target`) to check",
            inputs.predictions.display()
        ));
    }
    let mut writer = TrajectoryWriter::new(&exp, out, inputs.overwrite, test.is_some())?;
    for (i, &epoch) in epochs.iter().enumerate() {
        let col = |c: &Option<Vec<f64>>| c.as_ref().map_or(f64::NAN, |v| v[i]);
        writer.push(&EpochInput {
            epoch,
            step: steps.as_ref().map(|s| s[i]),
            train_pred: &train.rows[i],
            test_pred: test.as_ref().map(|t| &t.rows[i][..]),
            train_loss: given_train.as_ref().map(|v| v[i]),
            test_loss: given_test.as_ref().map(|v| v[i]),
            lr: col(&lr),
            p: col(&p),
            wall_s: col(&wall),
        })?;
    }
    let source_text = inputs
        .source
        .clone()
        .unwrap_or_else(|| "unspecified".into());
    let given: Vec<&str> = cols
        .as_ref()
        .map(|c| c.table.header.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let source = json!({
        "kind": "imported",
        "by": "bandwise analyze",
        "description": source_text,
        "predictions": train.provenance,
        "test_predictions": test.as_ref().map(|t| t.provenance.clone()),
        "epochs_csv": inputs.epochs_csv.as_ref().map(|p| json!({"path": p.display().to_string(), "columns": given})),
        "losses": if given_train.is_some() { "train_loss from the epochs file" } else if classes.is_some() { "computed from the logits (softmax cross-entropy)" } else { "computed from the predictions" },
    });
    let mut summary = writer.finish(source)?;
    notes.append(&mut summary.notes);
    summary.notes = notes;
    summary.warnings.splice(0..0, warnings);
    Ok(summary)
}

/// One recorded epoch given to a [`TrajectoryWriter`].
#[derive(Debug, Clone, Copy)]
pub struct EpochInput<'a> {
    pub epoch: u64,
    /// Optimizer steps so far (default: the epoch, one full-batch step per epoch).
    pub step: Option<u64>,
    /// Predictions on the training grid, in grid order.
    pub train_pred: &'a [f64],
    /// Predictions on the test grid (required iff the writer was made with `has_test`).
    pub test_pred: Option<&'a [f64]>,
    /// Losses if known; else computed from the predictions (MSE), as `bandwise run` does.
    pub train_loss: Option<f64>,
    pub test_loss: Option<f64>,
    /// NaN when not known.
    pub lr: f64,
    pub p: f64,
    pub wall_s: f64,
}

type Row = (u64, u64, f64, f64, f64, f64, f64);

/// The incremental writer of an imported run: predictions arrive epoch by epoch (the spectral
/// monitor runs as they arrive) and [`finish`](TrajectoryWriter::finish) writes the run
/// directory, the same files as `bandwise run`. Used by [`analyze`] and by the Python
/// package's `Recorder`. Nothing is visible at `out` before `finish`.
pub struct TrajectoryWriter {
    exp: Experiment,
    target: Target,
    staging: Staging,
    /// Regression tasks' recorder (a classification run's comes from its observer at the end).
    recorder: Option<Recorder>,
    /// Classification tasks: K, and the observer that records what `bandwise run` records.
    classes: Option<(usize, ClassObserver)>,
    /// Per row: train and test accuracy (classification; empty for regression).
    metrics: Vec<Vec<f64>>,
    has_test: bool,
    rows: Vec<Row>,
    losses_given: bool,
    /// Set by [`mark_diverged`](TrajectoryWriter::mark_diverged): (epoch, reason).
    diverged: Option<(u64, String)>,
    /// The task fingerprint ([`crate::experiment::fingerprint`]), written into run.json and epochs.csv.
    pub fingerprint: String,
}

impl TrajectoryWriter {
    /// Start a run of the task of `exp` at `out` (`exp.train.epochs` is the budget that places
    /// the snapshot epochs; `finish` records the last logged epoch as the budget).
    pub fn new(
        exp: &Experiment,
        out: &Path,
        overwrite: bool,
        has_test: bool,
    ) -> Result<TrajectoryWriter> {
        let (target, k) = task_of(exp)?;
        if let (Some(k), false) = (k, has_test) {
            bail!("a classification task ({k} classes) needs test-grid logits too: test accuracy, the decision-boundary agreement and the C4-C6 verdicts are read on the test split; give them ({} points x {k} logits per epoch)", target.test.len());
        }
        if exp.spectral.enabled && exp.spectral.grids.contains(&GridName::Test) && !has_test {
            bail!("the config analyses the test grid (spectral.grids contains \"test\") but no test predictions are given: give them ({} points per epoch) or set spectral.grids = [\"train\"]", target.test.len());
        }
        let staging = Staging::new(out, overwrite)?;
        let classes = match k {
            Some(k) => Some((k, ClassObserver::new(exp, &target, k)?)),
            None => None,
        };
        let recorder = match classes {
            Some(_) => None,
            None => Some(Recorder::new(exp, &target)?),
        };
        let fingerprint = fingerprint::fingerprint(exp, &target);
        Ok(TrajectoryWriter {
            exp: exp.clone(),
            target,
            staging,
            recorder,
            classes,
            metrics: Vec::new(),
            has_test,
            rows: Vec::new(),
            losses_given: false,
            diverged: None,
            fingerprint,
        })
    }

    /// The task: target and grids.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Record one epoch (epochs must increase strictly; predictions finite, of grid length
    /// times K logits for a classification task); returns the train loss recorded (given, or
    /// computed from the predictions: MSE, or the softmax cross-entropy of the logits).
    pub fn push(&mut self, e: &EpochInput) -> Result<f64> {
        if let Some((epoch, _)) = &self.diverged {
            bail!("epoch {}: the run was marked diverged at epoch {epoch}; nothing can be logged after that", e.epoch);
        }
        let width = self.classes.as_ref().map_or(1, |c| c.0);
        let (n, m) = (
            self.target.train.len() * width,
            self.target.test.len() * width,
        );
        let per = if width == 1 {
            String::new()
        } else {
            format!(" ({width} logits per point)")
        };
        if e.train_pred.len() != n {
            bail!(
                "epoch {}: {} training predictions but the training grid needs {n}{per}; predict on the grid of the task, in its order",
                e.epoch,
                e.train_pred.len()
            );
        }
        match (e.test_pred, self.has_test) {
            (Some(t), true) if t.len() != m => bail!(
                "epoch {}: {} test predictions but the test grid needs {m}{per}",
                e.epoch,
                t.len()
            ),
            (None, true) => bail!("epoch {}: test predictions missing (the run was started with test predictions: give them at every epoch)", e.epoch),
            (Some(_), false) => bail!("epoch {}: test predictions given but the run was started without them", e.epoch),
            _ => {}
        }
        if let Some(last) = self.rows.last() {
            if e.epoch <= last.0 {
                bail!(
                    "epochs must increase strictly, but epoch {} follows epoch {}",
                    e.epoch,
                    last.0
                );
            }
        }
        for (what, v) in [("training", Some(e.train_pred)), ("test", e.test_pred)] {
            let bad = v.map_or(0, |v| v.iter().filter(|x| !x.is_finite()).count());
            if bad > 0 {
                bail!("epoch {}: {bad} non-finite {what} predictions (NaN or inf); only finite predictions can be analysed: stop recording at the divergence", e.epoch);
            }
        }
        let nan_test;
        let test_pred = match e.test_pred {
            Some(t) => t,
            None => {
                nan_test = vec![f64::NAN; m];
                &nan_test
            }
        };
        let computed = |pred: &[f64], y: &[f64]| match &self.classes {
            Some((k, _)) => CrossEntropy { classes: *k }.loss(Split { pred, y }),
            None => mse(pred, y),
        };
        let train_loss = e
            .train_loss
            .unwrap_or_else(|| computed(e.train_pred, &self.target.train.y));
        self.losses_given |= e.train_loss.is_some();
        let test_loss = match (e.test_loss, e.test_pred) {
            (Some(v), _) => v,
            (None, Some(t)) => computed(t, &self.target.test.y),
            (None, None) => f64::NAN,
        };
        let step = e.step.unwrap_or(e.epoch);
        match &mut self.classes {
            Some((k, obs)) => {
                // As in training: the observer sees softmax(z) (the monitored output).
                let ce = CrossEntropy { classes: *k };
                let mut metrics = Vec::new();
                ce.metrics(
                    Split {
                        pred: e.train_pred,
                        y: &self.target.train.y,
                    },
                    Split {
                        pred: test_pred,
                        y: &self.target.test.y,
                    },
                    &mut metrics,
                );
                if e.test_pred.is_none() {
                    metrics[1] = f64::NAN;
                }
                self.metrics.push(metrics);
                let mut h_train = vec![0.0; e.train_pred.len()];
                let mut h_test = vec![0.0; test_pred.len()];
                ce.monitored_output(e.train_pred, &mut h_train);
                ce.monitored_output(test_pred, &mut h_test);
                obs.observe(&Evaluation {
                    epoch: e.epoch,
                    step,
                    train_loss,
                    test_loss,
                    train_pred: &h_train,
                    test_pred: &h_test,
                })?;
            }
            None => self
                .recorder
                .as_mut()
                .expect("a regression run")
                .observe(&Evaluation {
                    epoch: e.epoch,
                    step,
                    train_loss,
                    test_loss,
                    train_pred: e.train_pred,
                    test_pred,
                })?,
        }
        self.rows
            .push((e.epoch, step, train_loss, test_loss, e.lr, e.p, e.wall_s));
        Ok(train_loss)
    }

    /// Record that training diverged at `epoch` (e.g. a non-finite loss): the run is written
    /// with status "diverged", as `bandwise run` writes one, with the epochs logged before it
    /// (epoch 0 alone is then enough). No epoch may be logged after this.
    pub fn mark_diverged(&mut self, epoch: u64, reason: &str) {
        self.diverged = Some((epoch, reason.to_string()));
    }

    /// Write epochs.csv, the spectral records and run.json (with `source`, a JSON object
    /// describing where the predictions came from) and move the run into place.
    pub fn finish(self, source: Value) -> Result<ImportSummary> {
        let TrajectoryWriter {
            mut exp,
            target,
            staging,
            recorder,
            mut classes,
            metrics,
            rows,
            losses_given,
            fingerprint,
            diverged,
            ..
        } = self;
        let recorder = match (&mut classes, recorder) {
            (Some((_, obs)), _) => obs.take_recorder(&exp, &target)?,
            (None, Some(recorder)) => recorder,
            (None, None) => unreachable!("a regression run has its recorder"),
        };
        let mut notes = Vec::new();
        let Some(last_row) = rows.last().copied() else {
            bail!(
                "no epoch was recorded: log epoch 0 (before training) and at least one later epoch"
            );
        };
        let last = last_row.0;
        if last == 0 && diverged.is_none() {
            bail!("only epoch 0 is recorded; a run needs at least one epoch after the start");
        }
        if exp.train.epochs != last && diverged.is_none() {
            notes.push(format!(
                "config train.epochs = {} but the predictions end at epoch {last}: the record uses {last} as the budget",
                exp.train.epochs
            ));
            exp.train.epochs = last;
        }
        let mut comments = vec![
            format!(
                "bandwise {} per-epoch losses of imported run `{}`",
                env!("CARGO_PKG_VERSION"),
                exp.name
            ),
            "conventions: full block in run.json (\"conventions\"); empty cell = undefined".into(),
            format!(
                "imported: train_loss/test_loss {}; lr, p, wall_s as given (empty if not); step = epoch unless given",
                match (losses_given, &classes) {
                    (true, _) => "as given in the epochs file",
                    (false, Some(_)) => "computed from the logits (mean softmax cross-entropy)",
                    (false, None) => "computed from the predictions (MSE over the grid)",
                }
            ),
        ];
        comments.push("p form: denominator vh^p + eps (Adam at p = 0.5)".into());
        comments.push(format!("fingerprint: {fingerprint}"));
        let epochs = EpochsCsv {
            comments,
            metric_names: match &classes {
                Some(_) => vec!["train_accuracy".into(), "test_accuracy".into()],
                None => Vec::new(),
            },
            hyper_names: FIXED_HYPERS.iter().map(|h| h.to_string()).collect(),
            wall_clock: WallClock::Given,
        };
        let records: Vec<EpochRecord> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| EpochRecord {
                epoch: r.0,
                step: r.1,
                train_loss: r.2,
                test_loss: r.3,
                metrics: metrics.get(i).cloned().unwrap_or_default(),
                hypers: vec![r.4, r.5],
                wall_s: r.6,
            })
            .collect();
        staging.write("epochs.csv", &epochs.render(&records))?;
        write_spectral_records(&staging, &exp, &recorder)?;

        let description = source
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("unspecified")
            .to_string();
        let mut source = source;
        source["note"] = json!("the network and optimizer ran outside bandwise; config.model and the architecture below are as configured, not checked against the foreign model; the spectral records use the same monitor as `bandwise run`");
        // A caller that ran one of bandwise's optimizer rules elsewhere (the protocol's torch
        // references) names it in `source.optimizer`; else the run's optimizer is "imported".
        let mut optimizer = match source.get("optimizer") {
            Some(o @ Value::Object(_)) => o.clone(),
            _ => json!({"name": "imported", "source": description}),
        };
        let lrs: Vec<f64> = rows.iter().map(|r| r.4).collect();
        if optimizer.get("lr").is_none()
            && lrs.iter().all(|x| x.is_finite())
            && lrs.windows(2).all(|w| w[0] == w[1])
        {
            optimizer["lr"] = json!(lrs[0]);
        }
        let mut config = serde_json::to_value(&exp)?;
        config["optimizer"] = optimizer;
        let shape = MlpShape::new(
            target.train.dim(),
            &exp.model.hidden,
            classes.as_ref().map_or(1, |c| c.0),
            exp.model.activation,
        );
        let bands: serde_json::Map<String, Value> = recorder
            .band_tables()
            .iter()
            .map(|(g, l)| (g.as_str().to_string(), l.conventions()))
            .collect();
        let meta = RunMeta {
            format: FORMAT.into(),
            bandwise_version: env!("CARGO_PKG_VERSION").into(),
            name: exp.name.clone(),
            seed: exp.seed,
            fingerprint: Some(fingerprint),
            status: if diverged.is_some() {
                "diverged"
            } else {
                "completed"
            }
            .into(),
            diverged: diverged.as_ref().map(|(epoch, reason)| Diverged {
                epoch: *epoch,
                reason: reason.clone(),
            }),
            source,
            config,
            conventions: conventions(None),
            target: Some(TargetMeta {
                components: serde_json::to_value(target.components())?,
                train_n: target.train.len(),
                test_n: target.test.len(),
            }),
            model: Some(ModelMeta {
                widths: shape.widths.clone(),
                n_params: shape.n_params(),
            }),
            bands,
            summary: Some(SummaryMeta {
                epochs_run: last,
                steps: last_row.1,
                final_train_loss: Some(last_row.2),
                final_test_loss: Some(last_row.3).filter(|x| x.is_finite()),
            }),
            timings: None,
            files: serde_json::from_value(json!({
                "epochs.csv": "per recorded epoch: losses (computed or given) and given lr, p",
                "bands.csv": "per analysed epoch and band: residual/target band energies, relative error, share",
                "peaks.csv": "per analysed epoch and target component: F-Principle errors and Rahaman amplitude",
                "convergence.csv": "per band and threshold: first epoch below the threshold",
                "snapshots.csv": "predictions at snapshot epochs (training grid)",
            }))?,
            extra: Default::default(),
        };
        let mut run = meta.to_value()?;
        if let Some((_, obs)) = &classes {
            describe_run(&mut run, obs.describe(&target));
            obs.write(&staging, &exp.name)?;
        }
        staging.write_json("run.json", &run)?;
        let dir = staging.commit()?;
        Ok(ImportSummary {
            dir,
            epochs: rows.iter().map(|r| r.0).collect(),
            final_train_loss: last_row.2,
            notes,
            warnings: Vec::new(),
        })
    }
}

/// The task of `exp`: its target (a classification task's labels as the values) and K for a
/// classification task (None for regression), as `bandwise run` builds it.
fn task_of(exp: &Experiment) -> Result<(Target, Option<usize>)> {
    Ok(match crate::task::classify::build(&exp.target, exp.seed)? {
        Some((target, k)) => (target, Some(k)),
        None => (Target::build(&exp.target, exp.seed), None),
    })
}

/// The fingerprint a trajectory declares: the `--fingerprint` value, else a comment line
/// `# fingerprint: bw1-...` of the epochs CSV. Returns it with where it was found.
fn declared_fingerprint(inputs: &ImportInputs) -> Result<Option<(String, String)>> {
    let from_csv = match &inputs.epochs_csv {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            text.lines()
                .filter_map(|l| l.trim_start().strip_prefix('#'))
                .find_map(|l| l.trim().strip_prefix("fingerprint:"))
                .map(|f| (f.trim().to_string(), p.display().to_string()))
        }
        None => None,
    };
    match (&inputs.fingerprint, from_csv) {
        (Some(a), Some((b, path))) if *a != b => bail!(
            "--fingerprint {a} but {path} declares fingerprint {b}: the predictions and the epochs file come from different tasks"
        ),
        (Some(a), _) => Ok(Some((
            a.clone(),
            format!("the trajectory (--fingerprint {a})"),
        ))),
        (None, Some((b, path))) => Ok(Some((b, path))),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_numbers_from_names() {
        assert_eq!(epoch_of_name("pred_00012"), Some(12));
        assert_eq!(epoch_of_name("run3_epoch0040"), Some(40));
        assert_eq!(epoch_of_name("7"), Some(7));
        assert_eq!(epoch_of_name("pred"), None);
    }
}
