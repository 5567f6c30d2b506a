//! Reading a run directory back into memory: the one loader that plots, reports, sweeps and
//! imports all use, so that every consumer sees the same numbers as on disk.

use crate::record::{read_run_json, Table};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// epochs.csv as columns (layout in [`crate::record::schema`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpochSeries {
    pub epoch: Vec<u64>,
    pub step: Vec<u64>,
    pub train_loss: Vec<f64>,
    pub test_loss: Vec<f64>,
    /// The objective's metrics (columns between test_loss and lr), by name.
    pub metrics: Vec<(String, Vec<f64>)>,
    /// Every hyperparameter column (lr, p, then any other scheduled one), by name; NaN where
    /// the optimizer has none.
    pub hypers: Vec<(String, Vec<f64>)>,
    pub wall_s: Vec<f64>,
}

impl EpochSeries {
    /// The column of the objective's metric `name` (e.g. `test_accuracy`), if the record has it.
    pub fn metric(&self, name: &str) -> Option<&[f64]> {
        self.metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The column of hyperparameter `name`, if the record has it.
    pub fn hyper(&self, name: &str) -> Option<&[f64]> {
        self.hypers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The learning rate per epoch (every epochs.csv has the column).
    pub fn lr(&self) -> &[f64] {
        self.hyper("lr").unwrap_or(&[])
    }

    /// p per epoch; NaN where the optimizer has no p (every epochs.csv has the column).
    pub fn p(&self) -> &[f64] {
        self.hyper("p").unwrap_or(&[])
    }
}

/// bands.csv of one grid as matrices [band][analysed epoch].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GridBands {
    /// "train" or "test".
    pub grid: String,
    pub labels: Vec<String>,
    pub f_lo: Vec<f64>,
    pub f_hi: Vec<f64>,
    pub epochs: Vec<u64>,
    pub residual_energy: Vec<Vec<f64>>,
    pub target_energy: Vec<Vec<f64>>,
    pub rel_error: Vec<Vec<f64>>,
    pub share: Vec<Vec<f64>>,
}

/// peaks.csv (1D) or peaks2d.csv (2D) of one grid as matrices [peak][analysed epoch].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GridPeaks {
    pub grid: String,
    /// Signed frequency of each peak, one entry per grid dim (`[k]` or `[kx, ky]`).
    pub k: Vec<Vec<i64>>,
    pub amplitude: Vec<f64>,
    pub epochs: Vec<u64>,
    pub fp_rel_error: Vec<Vec<f64>>,
    pub fp_rel_error_mag: Vec<Vec<f64>>,
    pub rahaman_amplitude: Vec<Vec<f64>>,
}

/// Predictions at one snapshot epoch (snapshots.csv or snapshots2d.csv), on a grid of any
/// dims: values row-major (last dim fastest).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotData {
    pub epoch: u64,
    /// The grid `[N]` or `[N, M]`.
    pub dims: Vec<usize>,
    /// Coordinates, `points x dims` row-major (`t` in 1D; `x, y` per point in 2D).
    pub t: Vec<f64>,
    pub target: Vec<f64>,
    pub prediction: Vec<f64>,
}

/// filtering.csv (the F-Principle filtering method of a classification run on scattered data)
/// as matrices [delta level][analysed epoch].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterRecord {
    pub epochs: Vec<u64>,
    /// The Gaussian width of each level (feature-space distance), smallest first.
    pub deltas: Vec<f64>,
    pub e_low: Vec<Vec<f64>>,
    pub e_high: Vec<Vec<f64>>,
}

/// class_accuracy.csv of one split as matrices [class][analysed epoch].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassAccuracy {
    /// "train" or "test".
    pub split: String,
    pub epochs: Vec<u64>,
    /// Points labelled with each class (class indices 0..K).
    pub counts: Vec<usize>,
    /// NaN where the split has no point of the class.
    pub accuracy: Vec<Vec<f64>>,
}

/// agreement.csv: per analysed epoch, the fraction of test points whose predicted class is
/// the one at the last analysed epoch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Agreement {
    pub epochs: Vec<u64>,
    pub agreement: Vec<f64>,
}

/// A run directory in memory.
#[derive(Debug, Clone)]
pub struct RunData {
    pub dir: PathBuf,
    /// run.json as written (checked against [`crate::record::schema::RunMeta`] on load).
    pub meta: Value,
    pub epochs: EpochSeries,
    pub bands: Vec<GridBands>,
    pub peaks: Vec<GridPeaks>,
    pub snapshots: Vec<SnapshotData>,
    /// Classification runs: class_accuracy.csv per split (empty for regression).
    pub class_accuracy: Vec<ClassAccuracy>,
    /// Classification runs: agreement.csv.
    pub agreement: Option<Agreement>,
    /// Classification runs on scattered data: filtering.csv.
    pub filtering: Option<FilterRecord>,
}

impl RunData {
    /// Load `dir`; errors say which file is missing or malformed.
    pub fn load(dir: &Path) -> Result<RunData> {
        let meta = read_run_json(dir)?;
        let budget = meta["config"]["train"]["epochs"].as_u64();
        let epochs = load_epochs(&dir.join("epochs.csv"), budget)?;
        let bands_path = dir.join("bands.csv");
        let bands = if bands_path.is_file() {
            load_bands(&bands_path, budget)?
        } else {
            Vec::new()
        };
        let existing =
            |names: [&str; 2]| names.map(|n| dir.join(n)).into_iter().find(|p| p.is_file());
        let peaks = match existing(["peaks.csv", "peaks2d.csv"]) {
            Some(path) => load_peaks(&path, budget)?,
            None => Vec::new(),
        };
        let snapshots = match existing(["snapshots.csv", "snapshots2d.csv"]) {
            Some(path) => load_snapshots(&path, budget)?,
            None => Vec::new(),
        };
        let optional = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
        let class_accuracy = match optional("class_accuracy.csv") {
            Some(path) => load_class_accuracy(&path, budget)?,
            None => Vec::new(),
        };
        let agreement = optional("agreement.csv")
            .map(|p| load_agreement(&p, budget))
            .transpose()?;
        let filtering = optional("filtering.csv")
            .map(|p| load_filtering(&p, budget))
            .transpose()?;
        Ok(RunData {
            dir: dir.to_path_buf(),
            meta,
            epochs,
            bands,
            peaks,
            snapshots,
            class_accuracy,
            agreement,
            filtering,
        })
    }

    /// A classification run: epochs.csv has the `test_accuracy` column (softmax
    /// cross-entropy objective; docs/classification.md).
    pub fn is_classification(&self) -> bool {
        self.epochs.metric("test_accuracy").is_some()
    }

    /// class_accuracy.csv of `split` ("train" or "test").
    pub fn class_accuracy(&self, split: &str) -> Option<&ClassAccuracy> {
        self.class_accuracy.iter().find(|c| c.split == split)
    }

    pub fn name(&self) -> &str {
        self.meta["name"].as_str().unwrap_or("")
    }

    /// "completed" or "diverged".
    pub fn status(&self) -> &str {
        self.meta["status"].as_str().unwrap_or("unknown")
    }

    pub fn seed(&self) -> u64 {
        self.meta["seed"].as_u64().unwrap_or(0)
    }

    /// The resolved optimizer table from run.json.
    pub fn optimizer(&self) -> &Value {
        &self.meta["config"]["optimizer"]
    }

    /// A short description of the optimizer, e.g. `padam p=cosine[-0.5,0.5]/200 lr=0.001`.
    pub fn optimizer_label(&self) -> String {
        describe_optimizer(self.optimizer())
    }

    /// The band record of `grid` ("train" or "test").
    pub fn grid_bands(&self, grid: &str) -> Option<&GridBands> {
        self.bands.iter().find(|b| b.grid == grid)
    }

    pub fn grid_peaks(&self, grid: &str) -> Option<&GridPeaks> {
        self.peaks.iter().find(|b| b.grid == grid)
    }
}

/// A number in its shortest exact form for labels: `200` (not `200.0`), `0.001`, and
/// scientific notation where the plain form is long (over 6 characters) and scientific is
/// shorter (`1e300`, not 301 digits; `1e-7`, not `0.0000001`).
pub fn short_num(x: f64) -> String {
    let plain = format!("{x}");
    let sci = format!("{x:e}");
    if plain.len() > 6 && sci.len() < plain.len() {
        sci
    } else {
        plain
    }
}

/// A short description of a resolved optimizer table.
pub fn describe_optimizer(opt: &Value) -> String {
    // Numbers in short form (200, not 200.0; 1e300, not 301 digits).
    let num = |v: &Value| v.as_f64().map_or_else(|| v.to_string(), short_num);
    let name = opt["name"].as_str().unwrap_or("?");
    if name == "imported" {
        // `bandwise analyze`: the optimizer ran elsewhere; its provenance names it.
        return format!("imported: {}", opt["source"].as_str().unwrap_or("?"));
    }
    let mut parts = vec![name.to_string()];
    let show = |v: &Value| -> String {
        match v {
            Value::Number(n) => short_num(n.as_f64().unwrap_or(f64::NAN)),
            Value::Object(o) => {
                let kind = o.get("kind").and_then(Value::as_str).unwrap_or("?");
                match kind {
                    "cosine" | "triangle" | "linear" => {
                        format!(
                            "{kind}[{},{}]/{}",
                            num(&o["min"]),
                            num(&o["max"]),
                            num(&o["period"])
                        )
                    }
                    "square" => format!("square{}/{}", o["values"], num(&o["period"])),
                    "constant" => num(&o["value"]),
                    _ => kind.to_string(),
                }
            }
            other => other.to_string(),
        }
    };
    if let Some(p) = opt.get("p") {
        parts.push(format!("p={}", show(p)));
    }
    if let Some(m) = opt.get("momentum").filter(|m| m.as_f64() != Some(0.0)) {
        parts.push(format!("mom={}", show(m)));
    }
    if opt.get("normalize").and_then(Value::as_str) == Some("rms") {
        parts.push("rms-norm".into());
    }
    if let Some(lr) = opt.get("lr") {
        parts.push(format!("lr={}", show(lr)));
    }
    parts.join(" ")
}

fn u64s(t: &Table, name: &str) -> Result<Vec<u64>> {
    t.column(name)?
        .map(|c| {
            c.parse::<u64>()
                .with_context(|| format!("column `{name}`: `{c}` is not an integer"))
        })
        .collect()
}

/// The 1-based line of data row `row` (0-based, after the header; comments and blank lines
/// skipped as the reader does), for error messages.
fn line_of(path: &Path, row: usize) -> usize {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .nth(row + 1)
        .map_or(0, |(i, _)| i + 1)
}

/// Check the row order of a record: per grid (if any), epochs never decrease, each item
/// (band, component) appears once per epoch (with no items: each epoch once, unless
/// `repeats` allows several rows per epoch, as in snapshots), and no epoch exceeds the run's
/// budget. Reports silently reordered or duplicated rows instead of averaging them away.
fn check_rows(
    path: &Path,
    grids: Option<&[String]>,
    epochs: &[u64],
    items: Option<&[usize]>,
    repeats: bool,
    budget: Option<u64>,
) -> Result<()> {
    let fail = |row: usize, what: String| -> Result<()> {
        bail!(
            "{} line {}: {what}; the record is corrupted (rows must be in epoch order, each once): re-run or re-import it",
            path.display(),
            line_of(path, row)
        )
    };
    // (grid, last epoch, items seen at that epoch)
    let mut state: Vec<(&str, u64, Vec<usize>)> = Vec::new();
    for (row, &e) in epochs.iter().enumerate() {
        if let Some(b) = budget.filter(|&b| e > b) {
            return fail(
                row,
                format!("epoch {e} is beyond the run's budget of {b} epochs"),
            );
        }
        let grid = grids.map_or("", |g| g[row].as_str());
        let item = items.map_or(0, |it| it[row]);
        let Some(s) = state.iter_mut().find(|s| s.0 == grid) else {
            state.push((grid, e, vec![item]));
            continue;
        };
        if e < s.1 {
            return fail(row, format!("epoch {e} comes after epoch {}", s.1));
        }
        if e > s.1 {
            *s = (grid, e, vec![item]);
        } else if s.2.contains(&item) && !repeats {
            let what = match items {
                Some(_) => format!("row {item} of epoch {e} appears twice"),
                None => format!("epoch {e} appears twice"),
            };
            return fail(row, what);
        } else {
            s.2.push(item);
        }
    }
    Ok(())
}

/// Every item of a grouped record must have one row per epoch of its grid.
fn check_complete(path: &Path, groups: &[Grouped], item: &str) -> Result<()> {
    for g in groups {
        if let Some((k, r)) = g
            .rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != g.epochs.len())
        {
            bail!(
                "{}: {item} {k} of grid `{}` has {} rows but the grid has {} epochs; the record is corrupted: re-run or re-import it",
                path.display(),
                g.grid,
                r.len(),
                g.epochs.len()
            );
        }
    }
    Ok(())
}

pub(crate) fn load_epochs(path: &Path, budget: Option<u64>) -> Result<EpochSeries> {
    let t = Table::read(path)?;
    let ctx = || format!("in {}", path.display());
    let epoch = u64s(&t, "epoch").with_context(ctx)?;
    check_rows(path, None, &epoch, None, false, budget)?;
    // Layout (record/schema.rs): epoch, step, train_loss, test_loss, metrics..., lr, p,
    // other hyperparameters..., wall_s.
    let col = |name: &str| t.col(name).with_context(ctx);
    let (metrics_start, hyper_start, wall) = (col("test_loss")? + 1, col("lr")?, col("wall_s")?);
    if !(metrics_start <= hyper_start && hyper_start < wall) {
        bail!(
            "{}: columns out of order ({}); expected epoch, step, train_loss, test_loss, metrics, lr, p, other hyperparameters, wall_s: re-run or re-import it",
            path.display(),
            t.header.join(",")
        );
    }
    let named_columns = |t: &Table, names: &[String]| -> Result<Vec<(String, Vec<f64>)>> {
        names
            .iter()
            .map(|n| Ok((n.clone(), t.f64s(n).with_context(ctx)?)))
            .collect()
    };
    let metrics_names = &t.header[metrics_start..hyper_start];
    Ok(EpochSeries {
        epoch,
        step: u64s(&t, "step").with_context(ctx)?,
        train_loss: t.f64s("train_loss").with_context(ctx)?,
        test_loss: t.f64s("test_loss").with_context(ctx)?,
        metrics: named_columns(&t, metrics_names)?,
        hypers: named_columns(&t, &t.header[hyper_start..wall])?,
        wall_s: t.f64s("wall_s").with_context(ctx)?,
    })
}

/// Group tidy rows (grid, epoch, index, values...) into per-grid matrices.
struct Grouped {
    grid: String,
    epochs: Vec<u64>,
    /// Row indices [item][epoch].
    rows: Vec<Vec<usize>>,
}

fn group(grids: &[String], epochs: &[u64], items: &[usize]) -> Vec<Grouped> {
    let mut out: Vec<Grouped> = Vec::new();
    for (i, ((g, &e), &item)) in grids.iter().zip(epochs).zip(items).enumerate() {
        let gi = match out.iter().position(|x| &x.grid == g) {
            Some(gi) => gi,
            None => {
                out.push(Grouped {
                    grid: g.clone(),
                    epochs: Vec::new(),
                    rows: Vec::new(),
                });
                out.len() - 1
            }
        };
        let gr = &mut out[gi];
        if gr.epochs.last() != Some(&e) {
            gr.epochs.push(e);
        }
        if gr.rows.len() <= item {
            gr.rows.resize(item + 1, Vec::new());
        }
        gr.rows[item].push(i);
    }
    out
}

fn pick(values: &[f64], rows: &[Vec<usize>]) -> Vec<Vec<f64>> {
    rows.iter()
        .map(|r| r.iter().map(|&i| values[i]).collect())
        .collect()
}

fn load_bands(path: &Path, budget: Option<u64>) -> Result<Vec<GridBands>> {
    let t = Table::read(path)?;
    let ctx = || format!("in {}", path.display());
    let grids = t.strs("grid").with_context(ctx)?;
    let epochs = u64s(&t, "epoch").with_context(ctx)?;
    let band: Vec<usize> = u64s(&t, "band")
        .with_context(ctx)?
        .into_iter()
        .map(|b| b as usize)
        .collect();
    let labels = t.strs("label").with_context(ctx)?;
    let f_lo = t.f64s("f_lo").with_context(ctx)?;
    let f_hi = t.f64s("f_hi").with_context(ctx)?;
    let re = t.f64s("residual_energy").with_context(ctx)?;
    let te = t.f64s("target_energy").with_context(ctx)?;
    let rel = t.f64s("rel_error").with_context(ctx)?;
    let share = t.f64s("share").with_context(ctx)?;
    check_rows(path, Some(&grids), &epochs, Some(&band), false, budget)?;
    let groups = group(&grids, &epochs, &band);
    check_complete(path, &groups, "band")?;
    Ok(groups
        .into_iter()
        .map(|g| GridBands {
            labels: g.rows.iter().map(|r| labels[r[0]].clone()).collect(),
            f_lo: g.rows.iter().map(|r| f_lo[r[0]]).collect(),
            f_hi: g.rows.iter().map(|r| f_hi[r[0]]).collect(),
            residual_energy: pick(&re, &g.rows),
            target_energy: pick(&te, &g.rows),
            rel_error: pick(&rel, &g.rows),
            share: pick(&share, &g.rows),
            epochs: g.epochs,
            grid: g.grid,
        })
        .collect())
}

/// filtering.csv (`epoch, level, delta, e_low, e_high`): one row per analysed epoch and level.
fn load_filtering(path: &Path, budget: Option<u64>) -> Result<FilterRecord> {
    let t = Table::read(path)?;
    let ctx = || format!("in {}", path.display());
    let epochs = u64s(&t, "epoch").with_context(ctx)?;
    let levels: Vec<usize> = u64s(&t, "level")
        .with_context(ctx)?
        .into_iter()
        .map(|l| l as usize)
        .collect();
    let deltas = t.f64s("delta").with_context(ctx)?;
    let (low, high) = (
        t.f64s("e_low").with_context(ctx)?,
        t.f64s("e_high").with_context(ctx)?,
    );
    check_rows(path, None, &epochs, Some(&levels), false, budget)?;
    let grids = vec![String::new(); epochs.len()];
    let g = group(&grids, &epochs, &levels).pop().unwrap_or(Grouped {
        grid: String::new(),
        epochs: Vec::new(),
        rows: Vec::new(),
    });
    check_complete(path, std::slice::from_ref(&g), "level")?;
    Ok(FilterRecord {
        deltas: g.rows.iter().map(|r| deltas[r[0]]).collect(),
        e_low: pick(&low, &g.rows),
        e_high: pick(&high, &g.rows),
        epochs: g.epochs,
    })
}

/// class_accuracy.csv (`epoch, split, class, count, accuracy`), one record per split.
fn load_class_accuracy(path: &Path, budget: Option<u64>) -> Result<Vec<ClassAccuracy>> {
    let t = Table::read(path)?;
    let ctx = || format!("in {}", path.display());
    let epochs = u64s(&t, "epoch").with_context(ctx)?;
    let splits = t.strs("split").with_context(ctx)?;
    let classes: Vec<usize> = u64s(&t, "class")
        .with_context(ctx)?
        .into_iter()
        .map(|c| c as usize)
        .collect();
    let counts = u64s(&t, "count").with_context(ctx)?;
    let accuracy = t.f64s("accuracy").with_context(ctx)?;
    check_rows(path, Some(&splits), &epochs, Some(&classes), false, budget)?;
    let groups = group(&splits, &epochs, &classes);
    check_complete(path, &groups, "class")?;
    Ok(groups
        .into_iter()
        .map(|g| ClassAccuracy {
            counts: g.rows.iter().map(|r| counts[r[0]] as usize).collect(),
            accuracy: pick(&accuracy, &g.rows),
            epochs: g.epochs,
            split: g.grid,
        })
        .collect())
}

/// agreement.csv (`epoch, agreement`).
fn load_agreement(path: &Path, budget: Option<u64>) -> Result<Agreement> {
    let t = Table::read(path)?;
    let ctx = || format!("in {}", path.display());
    let epochs = u64s(&t, "epoch").with_context(ctx)?;
    check_rows(path, None, &epochs, None, false, budget)?;
    Ok(Agreement {
        agreement: t.f64s("agreement").with_context(ctx)?,
        epochs,
    })
}

/// The frequency columns of a peaks file: `k` (1D) or `kx, ky` (2D).
fn peak_freqs(t: &Table, path: &Path) -> Result<Vec<Vec<i64>>> {
    let cols: &[&str] = if t.col("kx").is_ok() {
        &["kx", "ky"]
    } else {
        &["k"]
    };
    let mut out = vec![Vec::with_capacity(cols.len()); t.len()];
    for c in cols {
        let v = t
            .f64s(c)
            .with_context(|| format!("in {} (column {c})", path.display()))?;
        for (row, x) in out.iter_mut().zip(v) {
            row.push(x as i64);
        }
    }
    Ok(out)
}

fn load_peaks(path: &Path, budget: Option<u64>) -> Result<Vec<GridPeaks>> {
    let t = Table::read(path)?;
    let ctx = || format!("in {}", path.display());
    let grids = t.strs("grid").with_context(ctx)?;
    let epochs = u64s(&t, "epoch").with_context(ctx)?;
    let ks = peak_freqs(&t, path)?;
    let amp = t.f64s("amplitude").with_context(ctx)?;
    // Index peaks by their order of first appearance within the grid.
    let mut items = Vec::with_capacity(ks.len());
    let mut seen: Vec<(String, Vec<&Vec<i64>>)> = Vec::new();
    for (g, k) in grids.iter().zip(&ks) {
        let entry = match seen.iter().position(|s| &s.0 == g) {
            Some(i) => &mut seen[i].1,
            None => {
                seen.push((g.clone(), Vec::new()));
                &mut seen.last_mut().expect("just pushed").1
            }
        };
        let idx = entry.iter().position(|&x| x == k).unwrap_or_else(|| {
            entry.push(k);
            entry.len() - 1
        });
        items.push(idx);
    }
    let fp = t.f64s("fp_rel_error").with_context(ctx)?;
    let fpm = t.f64s("fp_rel_error_mag").with_context(ctx)?;
    let rah = t.f64s("rahaman_amplitude").with_context(ctx)?;
    check_rows(path, Some(&grids), &epochs, Some(&items), false, budget)?;
    let groups = group(&grids, &epochs, &items);
    check_complete(path, &groups, "component")?;
    Ok(groups
        .into_iter()
        .map(|g| GridPeaks {
            k: g.rows.iter().map(|r| ks[r[0]].clone()).collect(),
            amplitude: g.rows.iter().map(|r| amp[r[0]]).collect(),
            fp_rel_error: pick(&fp, &g.rows),
            fp_rel_error_mag: pick(&fpm, &g.rows),
            rahaman_amplitude: pick(&rah, &g.rows),
            epochs: g.epochs,
            grid: g.grid,
        })
        .collect())
}

/// snapshots.csv (`epoch, t, target, prediction`) or snapshots2d.csv (`epoch, i, j, x, y,
/// target, prediction`): one [`SnapshotData`] per epoch, values placed by their grid index.
fn load_snapshots(path: &Path, budget: Option<u64>) -> Result<Vec<SnapshotData>> {
    let t = Table::read(path)?;
    let ctx = || format!("in {}", path.display());
    let epochs = u64s(&t, "epoch").with_context(ctx)?;
    check_rows(path, None, &epochs, None, true, budget)?;
    let two = t.col("i").is_ok();
    let (index_cols, coord_cols): (&[&str], &[&str]) = if two {
        (&["i", "j"], &["x", "y"])
    } else {
        (&[], &["t"])
    };
    let index: Vec<Vec<usize>> = index_cols
        .iter()
        .map(|c| u64s(&t, c).map(|v| v.into_iter().map(|x| x as usize).collect()))
        .collect::<Result<_>>()
        .with_context(ctx)?;
    let coords: Vec<Vec<f64>> = coord_cols
        .iter()
        .map(|c| t.f64s(c))
        .collect::<Result<_>>()
        .with_context(ctx)?;
    let ys = t.f64s("target").with_context(ctx)?;
    let hs = t.f64s("prediction").with_context(ctx)?;
    // Row ranges of each epoch, in file order.
    let mut spans: Vec<(u64, std::ops::Range<usize>)> = Vec::new();
    for (r, &e) in epochs.iter().enumerate() {
        match spans.last_mut() {
            Some((last, span)) if *last == e => span.end = r + 1,
            _ => spans.push((e, r..r + 1)),
        }
    }
    let dims2d: Vec<usize> = index
        .iter()
        .map(|ix| ix.iter().max().map_or(0, |m| m + 1))
        .collect();
    let d = coord_cols.len();
    let mut out = Vec::with_capacity(spans.len());
    for (epoch, span) in spans {
        let dims = if two {
            dims2d.clone()
        } else {
            vec![span.len()]
        };
        let points: usize = dims.iter().product();
        let mut filled = vec![false; points];
        let mut s = SnapshotData {
            epoch,
            dims,
            t: vec![f64::NAN; points * d],
            target: vec![f64::NAN; points],
            prediction: vec![f64::NAN; points],
        };
        for (row, r) in span.enumerate() {
            // Row-major point of this row: by its (i, j) in 2D, by its order in 1D.
            let p = if two {
                index[0][r] * s.dims[1] + index[1][r]
            } else {
                row
            };
            for (c, col) in coords.iter().enumerate() {
                s.t[p * d + c] = col[r];
            }
            s.target[p] = ys[r];
            s.prediction[p] = hs[r];
            filled[p] = true;
        }
        if filled.contains(&false) {
            bail!(
                "{}: snapshot epoch {epoch} lacks grid points (expected {:?} per epoch)",
                path.display(),
                s.dims
            );
        }
        out.push(s);
    }
    Ok(out)
}
