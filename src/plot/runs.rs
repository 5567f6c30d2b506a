//! Figures straight from run records: [`draw`] one figure kind for some runs into a file,
//! [`standard_set`] of one run into a directory (regression: heatmap, curves, loss,
//! snapshots; classification: accuracy, accuracy against loss, agreement and the frequency
//! measure it recorded), [`comparison_set`] of several runs, or
//! [`kernel_set`] (the kernel theory figures of a run's kernel.json). This is the library side
//! of `bandwise plot` and `bandwise kernel --plot`; the data conversion lives in
//! [`super::from_record`] and [`super::from_kernel`].

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::from_class::{
    accuracy_data, agreement_data, class_maps_data, config_groups, filtering_data,
};
use super::from_record::{
    colour_scale, curves_data, heatmap_data, loss_data, panel_of_configs, rows_values,
    snapshot_data, Clip, Measure,
};
use super::Format;
use crate::record::load::RunData;

/// A figure kind of `bandwise plot` (each one described by [`Kind::about`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Heatmap,
    Curves,
    Panel,
    Loss,
    Snapshots,
    All,
    IndexVsP,
    Coverage,
    C6Loss,
    C6Time,
    PLrMap,
    Accuracy,
    AccuracyVsLoss,
    Agreement,
    Filtering,
    ClassMaps,
}

impl Kind {
    /// Every kind, in the order `bandwise plot --help` lists them.
    pub const ALL: [Kind; 16] = [
        Kind::Heatmap,
        Kind::Curves,
        Kind::Panel,
        Kind::Loss,
        Kind::Snapshots,
        Kind::All,
        Kind::IndexVsP,
        Kind::Coverage,
        Kind::C6Loss,
        Kind::C6Time,
        Kind::PLrMap,
        Kind::Accuracy,
        Kind::AccuracyVsLoss,
        Kind::Agreement,
        Kind::Filtering,
        Kind::ClassMaps,
    ];

    /// The name on the command line and in the Python API: the stem with dashes
    /// (`index-vs-p`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::IndexVsP => "index-vs-p",
            Kind::C6Loss => "c6-loss",
            Kind::C6Time => "c6-time",
            Kind::PLrMap => "p-lr-map",
            Kind::AccuracyVsLoss => "accuracy-vs-loss",
            Kind::ClassMaps => "class-maps",
            other => other.stem(),
        }
    }

    /// One line for `--help`.
    pub fn about(self) -> &'static str {
        match self {
            Kind::Heatmap => "Colour = measure per band (or frequency) and epoch, with p(t)/lr(t) strips",
            Kind::Curves => "Measure vs epoch, one line per band, log y, threshold lines",
            Kind::Panel => "Heatmaps of several runs sharing one colour scale",
            Kind::Loss => "Train/test loss of several runs (seeds aggregated: mean and min-max band)",
            Kind::Snapshots => "Target, prediction and residual spectrum at the stored snapshot epochs",
            Kind::All => "The standard set per run (regression: heatmap, curves, loss, snapshots; classification: accuracy, accuracy-vs-loss, agreement, and heatmap and curves, filtering or class-maps where recorded), plus comparisons when several runs are given",
            Kind::IndexVsP => "C2: preference index against fixed p, with 95% intervals; other optimizers as bands",
            Kind::Coverage => "C3: coverage score per configuration, with 95% intervals; comparisons as bands",
            Kind::C6Loss => "C6: test loss per configuration with the L* line and a marker at 0.25 B",
            Kind::C6Time => "C6: epochs to L* per configuration (fraction of B), with intervals and \"never\" marks",
            Kind::PLrMap => "Preference index and final test loss over a grid of fixed p x lr",
            Kind::Accuracy => "Classification: train/test accuracy and cross-entropy on twin axes against epoch (seed means per configuration)",
            Kind::AccuracyVsLoss => "Classification: test accuracy against train cross-entropy (C4; seed means per configuration)",
            Kind::Agreement => "Classification: share of test points not yet at their final predicted class, against epoch (decision-boundary agreement)",
            Kind::Filtering => "Classification on scattered data: filtering-method e_low/e_high per Gaussian width delta and epoch (one run)",
            Kind::ClassMaps => "Classification on a 2D grid: true and predicted class maps at the snapshot epochs (lowest seed per configuration)",
        }
    }

    /// The file stem used for this kind, e.g. "heatmap".
    pub fn stem(self) -> &'static str {
        match self {
            Kind::Heatmap => "heatmap",
            Kind::Curves => "curves",
            Kind::Panel => "panel",
            Kind::Loss => "loss",
            Kind::Snapshots => "snapshots",
            Kind::All => "all",
            Kind::IndexVsP => "index_vs_p",
            Kind::Coverage => "coverage",
            Kind::C6Loss => "c6_loss",
            Kind::C6Time => "c6_time",
            Kind::PLrMap => "p_lr_map",
            Kind::Accuracy => "accuracy",
            Kind::AccuracyVsLoss => "accuracy_vs_loss",
            Kind::Agreement => "agreement",
            Kind::Filtering => "filtering",
            Kind::ClassMaps => "class_maps",
        }
    }

    /// True for kinds that draw one figure from several runs.
    pub fn is_multi_run(self) -> bool {
        matches!(
            self,
            Kind::Panel
                | Kind::Loss
                | Kind::Accuracy
                | Kind::AccuracyVsLoss
                | Kind::Agreement
                | Kind::ClassMaps
        ) || self.is_verdict()
    }

    /// True for the figures of classification runs.
    pub fn is_classification(self) -> bool {
        matches!(
            self,
            Kind::Accuracy
                | Kind::AccuracyVsLoss
                | Kind::Agreement
                | Kind::Filtering
                | Kind::ClassMaps
        )
    }

    /// True for the figures of a claim's verdict quantity (drawn from a report of the runs).
    pub fn is_verdict(self) -> bool {
        matches!(
            self,
            Kind::IndexVsP | Kind::Coverage | Kind::C6Loss | Kind::C6Time | Kind::PLrMap
        )
    }

    /// The figure kind named `s` (its [`Kind::stem`]), as listed in an analysis's `figures`.
    pub fn from_stem(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.stem() == s)
    }
}

/// What to show; the defaults are the standard figures.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// "train" or "test".
    pub grid: String,
    pub measure: Measure,
    /// Colour range; `None` = the measure's default (see [`colour_scale`]).
    pub clip: Option<Clip>,
    /// Most snapshot columns drawn (evenly picked from those stored).
    pub max_snapshots: usize,
    /// Panel: one heatmap per run (seed) instead of one per configuration (mean of its seeds).
    pub each_seed: bool,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            grid: "train".into(),
            measure: Measure::RelError,
            clip: None,
            max_snapshots: 6,
            each_seed: false,
        }
    }
}

/// The standard file extension of a format.
pub fn extension(format: Format) -> &'static str {
    match format {
        Format::Png => "png",
        Format::Svg => "svg",
    }
}

/// Draw one figure of `kind` from `runs` into `path` (.png or .svg). Heatmap, curves and
/// snapshots take exactly one run; panel and loss take one or more.
pub fn draw(kind: Kind, runs: &[RunData], path: &Path, opts: &PlotOptions) -> Result<()> {
    Format::from_path(path)?;
    if runs.is_empty() {
        bail!("no runs to plot");
    }
    let one = || -> Result<&RunData> {
        match runs {
            [r] => Ok(r),
            _ => bail!(
                "a {} figure shows one run, got {}; draw one per run or use --kind panel / loss",
                kind.stem(),
                runs.len()
            ),
        }
    };
    match kind {
        Kind::Heatmap => {
            let run = one()?;
            let values = rows_values(run, &opts.grid, opts.measure)?;
            let (scale, note) = colour_scale(&values, opts.measure, opts.clip);
            let data = heatmap_data(run, &opts.grid, opts.measure, &note)?;
            super::heatmap(path, &data, &scale)
        }
        Kind::Curves => super::curves(path, &curves_data(one()?, &opts.grid, opts.measure)?),
        Kind::Snapshots => super::snapshots(path, &snapshot_data(one()?, opts.max_snapshots)?),
        Kind::Loss => super::loss(path, &loss_data(runs)?),
        Kind::Panel => {
            let (panels, scale, title) =
                panel_of_configs(runs, &opts.grid, opts.measure, opts.clip, opts.each_seed)?;
            super::panel(path, &panels, &scale, &title)
        }
        Kind::Accuracy | Kind::AccuracyVsLoss => {
            let vs_loss = kind == Kind::AccuracyVsLoss;
            let title = if vs_loss {
                "Test accuracy against train loss"
            } else {
                "Accuracy and loss"
            };
            let data = accuracy_data(&config_groups(runs), title, vs_loss)?;
            if vs_loss {
                super::accuracy::accuracy_vs_loss(path, &data)
            } else {
                super::accuracy::accuracy_loss(path, &data)
            }
        }
        Kind::Agreement => super::loss(
            path,
            &agreement_data(&config_groups(runs), "Decision-boundary agreement")?,
        ),
        Kind::Filtering => {
            let (data, scale) = filtering_data(one()?)?;
            super::heatmap(path, &data, &scale)
        }
        Kind::ClassMaps => super::class_maps::class_maps(
            path,
            &class_maps_data(&config_groups(runs), "Predicted classes over epochs")?,
        ),
        Kind::All => bail!("`all` is a set of figures, not one file: use standard_set"),
        k if k.is_verdict() => draw_files(k, runs, path, opts).map(|_| ()),
        _ => unreachable!("every kind is handled above"),
    }
}

/// Draw one figure of `kind` like [`draw`], but return every file written: the verdict kinds
/// draw one figure per task (or per C6 baseline); the first goes to `path`, the others to
/// `path` with the task or baseline appended to the file stem. Errors when the runs hold
/// nothing the kind can show (e.g. no fixed-p configurations for `index_vs_p`).
pub fn draw_files(
    kind: Kind,
    runs: &[RunData],
    path: &Path,
    opts: &PlotOptions,
) -> Result<Vec<PathBuf>> {
    if !kind.is_verdict() {
        draw(kind, runs, path, opts)?;
        return Ok(vec![path.to_path_buf()]);
    }
    Format::from_path(path)?;
    if runs.is_empty() {
        bail!("no runs to plot");
    }
    let report = crate::analysis::report_from_runs(
        runs,
        &crate::analysis::ReportOptions {
            grid: opts.grid.clone(),
            ..Default::default()
        },
        &[],
    )?;
    draw_report(kind, &report, path)
}

/// File `path` with `tag` appended to its stem ("a/c6_time.png" + "adam" -> "a/c6_time_adam.png").
fn tagged(path: &Path, tag: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or(String::new(), |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map_or(String::new(), |e| e.to_string_lossy().into_owned());
    let tag: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    path.with_file_name(format!("{stem}_{tag}.{ext}"))
}

/// The verdict figures of `kind` from a report (see [`draw_files`]).
pub fn draw_report(
    kind: Kind,
    report: &crate::analysis::Report,
    path: &Path,
) -> Result<Vec<PathBuf>> {
    use super::from_report as fr;
    let name = |i: usize, tag: &str| {
        if i == 0 {
            path.to_path_buf()
        } else {
            tagged(path, tag)
        }
    };
    let mut out = Vec::new();
    let none = |what: &str| -> Result<Vec<PathBuf>> {
        bail!("--kind {}: the runs hold no {what}", kind.stem())
    };
    match kind {
        Kind::IndexVsP | Kind::Coverage => {
            let figs = if kind == Kind::IndexVsP {
                fr::index_vs_p(report)
            } else {
                fr::coverage(report)
            };
            if figs.is_empty() {
                return none(if kind == Kind::IndexVsP {
                    "task with two or more fixed-p (padam, constant p) configurations"
                } else {
                    "task with two or more configurations"
                });
            }
            for (i, f) in figs.iter().enumerate() {
                let p = name(i, &format!("fig{}", i + 1));
                super::estimates(&p, f)?;
                out.push(p);
            }
            if kind == Kind::IndexVsP {
                // The quantity that decides C2, beside the index.
                for (i, f) in fr::matched_slope_vs_p(report).iter().enumerate() {
                    let tag = if i == 0 {
                        "matched_slope".to_string()
                    } else {
                        format!("matched_slope{}", i + 1)
                    };
                    let p = tagged(path, &tag);
                    super::estimates(&p, f)?;
                    out.push(p);
                }
            }
        }
        Kind::C6Loss | Kind::C6Time => {
            let figs = fr::c6(report);
            if figs.is_empty() {
                return none(
                    "cyclic-p configuration with a baseline (sgd, padam p = 0 or adam) on its task",
                );
            }
            for (i, f) in figs.iter().enumerate() {
                // One figure per (task, baseline): the baseline's label alone repeats across
                // the tasks of a family, so the figure number joins it there.
                let repeated = figs.iter().filter(|g| g.baseline == f.baseline).count() > 1;
                let tag = if repeated {
                    format!("fig{}_vs_{}", i + 1, f.baseline)
                } else {
                    format!("vs_{}", f.baseline)
                };
                let p = name(i, &tag);
                if kind == Kind::C6Loss {
                    super::loss(&p, &f.loss)?;
                } else {
                    super::estimates(&p, &f.time)?;
                }
                out.push(p);
            }
        }
        Kind::PLrMap => {
            let Some(m) = fr::p_lr_map(report) else {
                return none(
                    "grid of fixed-p configurations at two or more p and two or more numeric lr",
                );
            };
            super::grid_map(path, &m)?;
            out.push(path.to_path_buf());
        }
        _ => bail!("{} is not a verdict figure", kind.stem()),
    }
    Ok(out)
}

/// Files written by [`standard_set`] and figures skipped (with the reason).
#[derive(Debug, Default)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<String>,
    /// Figures that could not be drawn, each naming the run, the file and the cause; the
    /// other figures of the set are still drawn.
    pub failed: Vec<String>,
}

/// Why `run` lacks the data of `kind` in the standard set (None: it has it).
fn missing_data(kind: Kind, run: &RunData, opts: &PlotOptions) -> Option<&'static str> {
    match kind {
        Kind::Heatmap | Kind::Curves if opts.measure.is_peaks() && run.peaks.is_empty() => {
            Some("no per-frequency data (peaks.csv)")
        }
        Kind::Heatmap | Kind::Curves if !opts.measure.is_peaks() && run.bands.is_empty() => {
            Some("no spectral data (bands.csv)")
        }
        Kind::Snapshots if run.snapshots.first().is_none_or(|s| s.dims.len() != 1) => {
            Some("no snapshots (snapshots.csv)")
        }
        Kind::Agreement if run.agreement.is_none() => Some("no agreement.csv"),
        Kind::Filtering if run.filtering.is_none() => {
            Some("no filtering.csv (only classification on scattered data has one)")
        }
        Kind::ClassMaps if run.snapshots.first().is_none_or(|s| s.dims.len() != 2) => {
            Some("no 2D snapshots (snapshots2d.csv of a 2D grid task)")
        }
        _ => None,
    }
}

/// The kinds of the standard set of one run: for a regression run heatmap, curves, loss and
/// snapshots; for a classification run accuracy, accuracy-vs-loss and agreement, then its
/// frequency measure (the filtering heatmap on scattered data, else heatmap and curves of
/// the band record) and class maps on a 2D grid.
pub fn standard_kinds(run: &RunData) -> Vec<Kind> {
    if !run.is_classification() {
        return vec![Kind::Heatmap, Kind::Curves, Kind::Loss, Kind::Snapshots];
    }
    let mut kinds = vec![Kind::Accuracy, Kind::AccuracyVsLoss, Kind::Agreement];
    if run.filtering.is_some() {
        kinds.push(Kind::Filtering);
    } else {
        kinds.extend([Kind::Heatmap, Kind::Curves]);
    }
    if run.snapshots.first().is_some_and(|s| s.dims.len() == 2) {
        kinds.push(Kind::ClassMaps);
    }
    kinds
}

/// Draw the standard set of `run` ([`standard_kinds`]) into `dir` as `<kind>.<ext>`. Figures
/// whose data the record lacks (no bands.csv, no snapshots.csv, no filtering.csv, ...) are
/// skipped and reported in [`Written::skipped`]; a figure that fails is reported in
/// [`Written::failed`] and the others are still drawn.
pub fn standard_set(
    run: &RunData,
    dir: &Path,
    format: Format,
    opts: &PlotOptions,
) -> Result<Written> {
    let mut out = Written::default();
    let runs = std::slice::from_ref(run);
    for kind in standard_kinds(run) {
        if let Some(why) = missing_data(kind, run, opts) {
            out.skipped
                .push(format!("{} of {}: {why}", kind.stem(), run.dir.display()));
            continue;
        }
        let path = dir.join(format!("{}.{}", kind.stem(), extension(format)));
        match draw(kind, runs, &path, opts) {
            Ok(()) => out.files.push(path),
            Err(e) => out.failed.push(format!(
                "{} of run {} ({}): {e:#}",
                kind.stem(),
                run.dir.display(),
                path.display()
            )),
        }
    }
    Ok(out)
}

/// The comparison figures of several runs into `dir`: a panel of band heatmaps (when every
/// run has a band record on the grid) and the loss of every run; for classification runs
/// also accuracy, accuracy-vs-loss, agreement and (2D grid tasks) class maps. Runs that mix
/// regression and classification get no comparison (their losses are not comparable).
pub fn comparison_set(
    runs: &[RunData],
    dir: &Path,
    format: Format,
    opts: &PlotOptions,
) -> Result<Written> {
    let mut out = Written::default();
    let class = runs.iter().filter(|r| r.is_classification()).count();
    if class != 0 && class != runs.len() {
        out.skipped.push(format!(
            "comparison figures: {class} classification and {} regression runs (cross-entropy and MSE are not comparable); plot each kind separately",
            runs.len() - class
        ));
        return Ok(out);
    }
    let has_spectra = runs.iter().all(|r| {
        if opts.measure.is_peaks() {
            r.grid_peaks(&opts.grid).is_some()
        } else {
            r.grid_bands(&opts.grid).is_some()
        }
    });
    let mut kinds = vec![Kind::Panel, Kind::Loss];
    if class > 0 {
        kinds.extend([Kind::Accuracy, Kind::AccuracyVsLoss, Kind::Agreement]);
        if runs
            .iter()
            .any(|r| r.snapshots.first().is_some_and(|s| s.dims.len() == 2))
        {
            kinds.push(Kind::ClassMaps);
        }
    }
    for kind in kinds {
        if kind == Kind::Panel && !has_spectra {
            out.skipped
                .push("panel: not every run has spectral data on this grid".into());
            continue;
        }
        let path = dir.join(format!("{}.{}", kind.stem(), extension(format)));
        match draw(kind, runs, &path, opts) {
            Ok(()) => out.files.push(path),
            Err(e) => out
                .failed
                .push(format!("{} ({}): {e:#}", kind.stem(), path.display())),
        }
    }
    Ok(out)
}

/// The kernel theory figures of one run from its kernel.json (as JSON) into `dir`, per
/// checkpoint epoch E: `kernel_spectrum_eE` (K_P and K eigenvalues coloured by dominant band),
/// `kernel_shares_eE` (band x eigen-index share map) and `kernel_prediction_eE` (predicted
/// against measured band errors), in `format`; returns the paths written.
pub fn kernel_set(
    kernel: &serde_json::Value,
    run: &RunData,
    dir: &Path,
    format: Format,
) -> Result<Vec<PathBuf>> {
    use super::from_kernel::{self, ROUND_OFF_RATIO};
    use super::kernel_spectrum::{kernel_spectrum, KernelSpectrumData};
    let Some(entries) = kernel["checkpoints"].as_array() else {
        bail!(
            "{}: kernel.json has no `checkpoints` array; rerun `bandwise kernel` on the run",
            run.dir.display()
        );
    };
    let ext = extension(format);
    let name = run.name().to_string();
    let mut out = Vec::new();
    for c in entries {
        let e = from_kernel::epoch(c);
        let bands = from_kernel::bands(c)?;
        let title = format!("{name}, checkpoint epoch {e}");
        let path = dir.join(format!("kernel_spectrum_e{e}.{ext}"));
        kernel_spectrum(
            &path,
            &KernelSpectrumData {
                title: format!("Eigenvalues of K_P and K: {title}"),
                caption: format!("Dots: eigenvalues of K_P = J P J^T / N (P: the optimizer's preconditioner at the checkpoint), largest first, coloured by the band holding the largest share of the eigenvector's energy. Rings: K = J J^T / N (P = I). Eigenvalues below {ROUND_OFF_RATIO:.0e} x the largest (round-off) are not drawn."),
                band_labels: bands.iter().map(|b| b.label.clone()).collect(),
                rest_band: bands.iter().position(|b| b.rest),
                floor_ratio: ROUND_OFF_RATIO,
                panels: vec![from_kernel::spectrum_panel(&run.optimizer_label(), c)?],
            },
        )?;
        out.push(path);
        let path = dir.join(format!("kernel_shares_e{e}.{ext}"));
        super::heatmap(
            &path,
            &from_kernel::share_map(
                &format!("Band shares of the eigenvectors of K_P: {title}"),
                c,
            )?,
            &super::ColourScale::linear(0.0, 1.0),
        )?;
        out.push(path);
        let path = dir.join(format!("kernel_prediction_e{e}.{ext}"));
        super::band_prediction::band_prediction(
            &path,
            &from_kernel::band_prediction(
                &format!("Predicted vs measured band errors: {title}"),
                c,
                run,
            )?,
        )?;
        out.push(path);
    }
    Ok(out)
}
