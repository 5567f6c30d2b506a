//! Run records -> plot data: turns [`RunData`] (a run directory read back from disk) into the
//! plain structs the renderers draw ([`HeatmapData`], [`CurvesData`], [`LossData`],
//! [`SnapshotData`]) and picks colour scales. No drawing and no file output here.
//!
//! Undefined values (NaN cells, diverged epochs) are passed through as NaN so the renderers
//! mark them (grey cells, line gaps) instead of failing.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde_json::Value;

use super::{
    ColourScale, Curve, CurvesData, HeatmapData, LossData, LossSeries, Snapshot, SnapshotData,
    Strip, Threshold,
};
use crate::record::load::RunData;
use crate::spectral::RealFft1d;

/// Which per-band or per-component measure a heatmap or curves figure shows (each one
/// described by [`Measure::about`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    RelError,
    Share,
    FpRelError,
    FpRelErrorMag,
    RahamanAmplitude,
}

impl Measure {
    /// Every measure, in the order `bandwise plot --help` lists them.
    pub const ALL: [Measure; 5] = [
        Measure::RelError,
        Measure::Share,
        Measure::FpRelError,
        Measure::FpRelErrorMag,
        Measure::RahamanAmplitude,
    ];

    /// One line for `--help`: the definition and the file it is read from.
    pub fn about(self) -> &'static str {
        match self {
            Measure::RelError => "Relative band error E_b(r)/E_b(y) (bands.csv)",
            Measure::Share => "Share of the residual energy in each band (bands.csv)",
            Measure::FpRelError => {
                "|H_k - Y_k|/|Y_k| at each target frequency (peaks.csv, F-Principle, phase-aware)"
            }
            Measure::FpRelErrorMag => {
                "||H_k| - |Y_k||/(1e-5 + |Y_k|) (peaks.csv, F-Principle code, phase-blind)"
            }
            Measure::RahamanAmplitude => {
                "2|H_k/N|/A: learned amplitude over target amplitude (peaks.csv, Rahaman et al.)"
            }
        }
    }

    /// The column name in bands.csv / peaks.csv.
    pub fn column(self) -> &'static str {
        match self {
            Measure::RelError => "rel_error",
            Measure::Share => "share",
            Measure::FpRelError => "fp_rel_error",
            Measure::FpRelErrorMag => "fp_rel_error_mag",
            Measure::RahamanAmplitude => "rahaman_amplitude",
        }
    }

    /// True if the measure is stored per target component (peaks.csv), not per band.
    pub fn is_peaks(self) -> bool {
        !matches!(self, Measure::RelError | Measure::Share)
    }

    /// Short name for titles, e.g. "Relative band error".
    pub fn title(self) -> &'static str {
        match self {
            Measure::RelError => "Relative band error",
            Measure::Share => "Residual energy share per band",
            Measure::FpRelError => "F-Principle relative error per frequency",
            Measure::FpRelErrorMag => "F-Principle magnitude error per frequency",
            Measure::RahamanAmplitude => "Learned amplitude per frequency (Rahaman)",
        }
    }

    /// Colour-bar / y-axis label with the formula.
    pub fn value_label(self) -> &'static str {
        match self {
            Measure::RelError => "relative band error E_b(r)/E_b(y)",
            Measure::Share => "residual share E_b(r)/MSE",
            Measure::FpRelError => "|H_k - Y_k| / |Y_k|",
            Measure::FpRelErrorMag => "||H_k| - |Y_k|| / |Y_k|",
            Measure::RahamanAmplitude => "amplitude ratio 2|H_k/N| / A_k",
        }
    }

    /// One-sentence definition for captions.
    pub fn definition(self) -> &'static str {
        match self {
            Measure::RelError => "E_b(r)/E_b(y) = residual energy in band b over the target's energy in band b (grey: undefined, the target has no energy there)",
            Measure::Share => "E_b(r)/MSE = fraction of the residual energy that lies in band b",
            Measure::FpRelError => "|H_k - Y_k|/|Y_k| at each target frequency k (F-Principle, phase-aware; H = DFT of the prediction, Y = DFT of the target)",
            Measure::FpRelErrorMag => "||H_k| - |Y_k||/(1e-5 + |Y_k|) at each target frequency k (as the F-Principle code computes it; phase-blind)",
            Measure::RahamanAmplitude => "2|H_k/N|/A_k = learned amplitude at frequency k over the target amplitude (Rahaman et al.; 1 = fully learned)",
        }
    }
}

/// Colour range of a heatmap (each one described by [`Clip::about`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clip {
    None,
    Fprinciple,
    Rahaman,
}

impl Clip {
    /// Every clip, in the order `bandwise plot --help` lists them.
    pub const ALL: [Clip; 3] = [Clip::None, Clip::Fprinciple, Clip::Rahaman];

    /// The name on the command line and in the Python API.
    pub fn name(self) -> &'static str {
        match self {
            Clip::None => "none",
            Clip::Fprinciple => "fprinciple",
            Clip::Rahaman => "rahaman",
        }
    }

    /// One line for `--help`.
    pub fn about(self) -> &'static str {
        match self {
            Clip::None => "Fitted to the data (log scale, whole decades)",
            Clip::Fprinciple => "Log scale clipped to [0.1, 1], the F-Principle papers' range",
            Clip::Rahaman => "Linear scale over [0, 1], the Rahaman et al. range",
        }
    }
}

/// The colour scale for `values` of `measure` under `clip` (`None` = the measure's default:
/// Rahaman [0, 1] for the amplitude ratio, otherwise a log scale fitted to the data), and a
/// caption sentence describing it.
pub fn colour_scale<'a>(
    values: impl IntoIterator<Item = &'a f64>,
    measure: Measure,
    clip: Option<Clip>,
) -> (ColourScale, String) {
    let clip = clip.unwrap_or(if measure == Measure::RahamanAmplitude {
        Clip::Rahaman
    } else {
        Clip::None
    });
    match clip {
        Clip::None => {
            let s = ColourScale::log_fit_125(values);
            let text = format!(
                "Colour: log scale fitted to the data (rounded out to 1-2-5 steps), [{:e}, {:e}].",
                s.min, s.max
            );
            (s, text)
        }
        Clip::Fprinciple => (
            ColourScale::log(0.1, 1.0),
            "Colour: log scale clipped to [0.1, 1] (F-Principle style; end colours mean at or beyond)."
                .into(),
        ),
        Clip::Rahaman => (
            ColourScale::linear(0.0, 1.0),
            "Colour: linear scale clipped to [0, 1] (Rahaman style; end colours mean at or beyond)."
                .into(),
        ),
    }
}

/// Row labels, per-row values [row][epoch] and epochs of `measure` on `grid`.
struct Rows {
    labels: Vec<String>,
    values: Vec<Vec<f64>>,
    epochs: Vec<u64>,
}

/// Row label of a peak: `k = 3 cyc` (1D) or `k = (2, -1) cyc` (2D).
fn peak_label(k: &[i64]) -> String {
    match k {
        [k] => format!("k = {k} cyc"),
        _ => {
            let parts: Vec<String> = k.iter().map(|x| x.to_string()).collect();
            format!("k = ({}) cyc", parts.join(", "))
        }
    }
}

fn rows(run: &RunData, grid: &str, measure: Measure) -> Result<Rows> {
    let dir = run.dir.display();
    if measure.is_peaks() {
        let Some(p) = run.grid_peaks(grid) else {
            let have: Vec<&str> = run.peaks.iter().map(|p| p.grid.as_str()).collect();
            bail!(
                "{dir} has no per-frequency data (peaks.csv) for the {grid} grid (grids present: {have:?}); \
                 `{}` needs a run with spectral analysis on that grid",
                measure.column()
            );
        };
        let values = match measure {
            Measure::FpRelError => &p.fp_rel_error,
            Measure::FpRelErrorMag => &p.fp_rel_error_mag,
            _ => &p.rahaman_amplitude,
        };
        Ok(Rows {
            labels: p.k.iter().map(|k| peak_label(k)).collect(),
            values: values.clone(),
            epochs: p.epochs.clone(),
        })
    } else {
        let Some(b) = run.grid_bands(grid) else {
            if run.bands.is_empty() {
                bail!(
                    "{dir} has no spectral data (no bands.csv): per-band figures need a run made with \
                     the spectral monitor on ([spectral] enabled = true)"
                );
            }
            let have: Vec<&str> = run.bands.iter().map(|b| b.grid.as_str()).collect();
            bail!("{dir} has no band data for the {grid} grid (grids present: {have:?}); pass --grid with one of those");
        };
        let values = if measure == Measure::Share {
            &b.share
        } else {
            &b.rel_error
        };
        // Rows undefined at every epoch (e.g. the `rest` band of a peaks layout, which holds no
        // target energy) carry no information: omit them, unless nothing would be left. The
        // README and run.json say that undefined means "no target energy in the band".
        let defined: Vec<usize> = (0..values.len())
            .filter(|&i| values[i].iter().any(|v| !v.is_nan()))
            .collect();
        let keep: Vec<usize> = if defined.is_empty() {
            (0..values.len()).collect()
        } else {
            defined
        };
        Ok(Rows {
            labels: keep.iter().map(|&i| b.labels[i].clone()).collect(),
            values: keep.iter().map(|&i| values[i].clone()).collect(),
            epochs: b.epochs.clone(),
        })
    }
}

/// All values of `measure` on `grid` of `run` (for fitting a colour scale).
pub fn rows_values(run: &RunData, grid: &str, measure: Measure) -> Result<Vec<f64>> {
    Ok(rows(run, grid, measure)?
        .values
        .into_iter()
        .flatten()
        .collect())
}

/// "name: optimizer label" plus the divergence note, for titles.
pub fn run_title(run: &RunData) -> String {
    let mut s = format!("{}, {}", run.name(), run.optimizer_label());
    if run.status() == "diverged" {
        s.push_str(" (diverged)");
    }
    s
}

/// Sentence about the grid, e.g. "Grid: train, N = 256 points on [0, 1)."
fn grid_sentence(run: &RunData, grid: &str) -> String {
    let n = run.meta["target"][format!("{grid}_n")].as_u64();
    let dims_key = if grid == "test" { "test_dims" } else { "dims" };
    let dims: Option<Vec<u64>> = run.meta["target"][dims_key]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_u64()).collect());
    let mut s = match (dims, n) {
        (Some(d), _) if d.len() == 2 => format!(
            "Grid: {grid}, {} x {} points on [0, 1)^2; bands are rings of |k| (cycles per unit length).",
            d[0], d[1]
        ),
        (_, Some(n)) => format!("Grid: {grid}, N = {n} points on [0, 1)."),
        _ => format!("Grid: {grid}."),
    };
    if run.is_classification() {
        s += " Classification: residual softmax(z) - onehot(y), band energies summed over the class channels.";
    }
    if run.meta["mean_of_seeds"].as_u64().is_some() {
        s += " Mean over completed seeds (geometric for errors).";
    }
    s
}

fn divergence_sentence(run: &RunData) -> String {
    match &run.meta["diverged"] {
        Value::Object(d) => format!(
            " Diverged at epoch {}: {}.",
            d.get("epoch").map(|e| e.to_string()).unwrap_or("?".into()),
            d.get("reason").and_then(Value::as_str).unwrap_or("")
        ),
        _ if run.status() == "diverged" => " The run diverged.".into(),
        _ => String::new(),
    }
}

/// The values of an epochs.csv column at each epoch of `at` (NaN where missing).
fn at_epochs(run: &RunData, column: &[f64], at: &[u64]) -> Vec<f64> {
    let index: BTreeMap<u64, usize> = run
        .epochs
        .epoch
        .iter()
        .enumerate()
        .map(|(i, &e)| (e, i))
        .collect();
    at.iter()
        .map(|e| index.get(e).map_or(f64::NAN, |&i| column[i]))
        .collect()
}

/// Finite min and max of `v` (inf, -inf when none).
fn finite_range(v: &[f64]) -> (f64, f64) {
    v.iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        })
}

/// p(t) strip when the optimizer's p varies (a constant p is said in the title instead), and
/// lr(t) strip when the learning rate varies.
pub fn strips(run: &RunData, epochs: &[u64]) -> Vec<Strip> {
    let mut out = Vec::new();
    let p = at_epochs(run, run.epochs.p(), epochs);
    let (plo, phi) = finite_range(&p);
    if plo.is_finite() && phi > plo {
        out.push(Strip {
            label: "p(t)".into(),
            values: p,
            log: false,
        });
    }
    let lr = at_epochs(run, run.epochs.lr(), epochs);
    let finite = lr.iter().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
        (a.min(v), b.max(v))
    });
    if lo.is_finite() && hi > lo {
        out.push(Strip {
            label: "lr(t)".into(),
            values: lr,
            log: lo > 0.0 && hi / lo >= 10.0,
        });
    }
    out
}

/// Heatmap of `measure` on `grid` of one run, with p(t) / lr(t) strips. `scale_note` (e.g.
/// from [`colour_scale`]) is appended to the caption.
pub fn heatmap_data(
    run: &RunData,
    grid: &str,
    measure: Measure,
    scale_note: &str,
) -> Result<HeatmapData> {
    let r = rows(run, grid, measure)?;
    if r.epochs.is_empty() {
        bail!(
            "{} has no analysed epochs for the {grid} grid",
            run.dir.display()
        );
    }
    let rows_word = if measure.is_peaks() {
        "one row per target frequency"
    } else {
        "one row per band (frequencies in cycles per unit length)"
    };
    Ok(HeatmapData {
        title: format!("{} ({} grid): {}", measure.title(), grid, run_title(run)),
        caption: format!(
            "{} {}: {}; {rows_word}.{} {scale_note}",
            grid_sentence(run, grid),
            measure.column(),
            measure.definition(),
            divergence_sentence(run)
        ),
        epochs: r.epochs.iter().map(|&e| e as f64).collect(),
        band_labels: r.labels,
        values: r.values,
        value_label: measure.value_label().into(),
        row_label: String::new(),
        col_label: String::new(),
        strips: strips(run, &r.epochs),
    })
}

/// Thresholds from run.json config.spectral.thresholds.
pub fn thresholds(run: &RunData) -> Vec<f64> {
    run.meta["config"]["spectral"]["thresholds"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// Per-band (or per-frequency) curves of `measure` on `grid`; for the relative band error the
/// convergence thresholds of the run are drawn as dashed lines.
pub fn curves_data(run: &RunData, grid: &str, measure: Measure) -> Result<CurvesData> {
    let r = rows(run, grid, measure)?;
    let th = if measure == Measure::RelError {
        thresholds(run)
    } else {
        Vec::new()
    };
    let th_note = if th.is_empty() {
        String::new()
    } else {
        " Dashed: convergence thresholds of the run (convergence.csv: first epoch below each)."
            .into()
    };
    Ok(CurvesData {
        title: format!(
            "{} vs epoch ({} grid): {}",
            measure.title(),
            grid,
            run_title(run)
        ),
        caption: format!(
            "{} {}: {}.{th_note}{}",
            grid_sentence(run, grid),
            measure.column(),
            measure.definition(),
            divergence_sentence(run)
        ),
        y_label: measure.value_label().into(),
        epochs: r.epochs.iter().map(|&e| e as f64).collect(),
        curves: r
            .labels
            .into_iter()
            .zip(r.values)
            .map(|(label, values)| Curve {
                label: if measure.is_peaks() {
                    label
                } else {
                    format!("band {label}")
                },
                values,
            })
            .collect(),
        thresholds: th
            .into_iter()
            .map(|value| Threshold {
                label: format!("threshold {value}"),
                value,
            })
            .collect(),
    })
}

/// run.json's config without `seed` and `name`: runs with equal keys are seeds of one
/// configuration.
pub fn config_key(run: &RunData) -> String {
    crate::base::stats::config_key(&run.meta, &["seed", "name"])
}

/// Group runs by [`config_key`], keeping the order of first appearance.
pub fn group_by_config(runs: &[RunData]) -> Vec<Vec<&RunData>> {
    let mut keys: Vec<String> = Vec::new();
    let mut groups: Vec<Vec<&RunData>> = Vec::new();
    for r in runs {
        let k = config_key(r);
        match keys.iter().position(|x| *x == k) {
            Some(i) => groups[i].push(r),
            None => {
                keys.push(k);
                groups.push(vec![r]);
            }
        }
    }
    groups
}

/// Mean and min/max over runs at each epoch (finite values only; NaN where none).
fn aggregate(
    group: &[&RunData],
    pick: fn(&RunData) -> &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    crate::base::stats::band_over_runs(group.iter().map(|r| (&r.epochs.epoch[..], pick(r))))
}

/// Split optimizer labels into the words all of them share (joined) and, per label, the
/// words that tell it apart; with one label, nothing is common and the label is kept whole
/// only if there are several (a single configuration gets an empty distinguishing label).
fn distinguishing(labels: &[String]) -> (String, Vec<String>) {
    let words: Vec<Vec<&str>> = labels
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let common: Vec<&str> = words[0]
        .iter()
        .copied()
        .filter(|w| words.iter().all(|ws| ws.contains(w)))
        .collect();
    let rest = words
        .iter()
        .map(|ws| {
            ws.iter()
                .copied()
                .filter(|w| !common.contains(w))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    (common.join(" "), rest)
}

/// Legend labels of configuration groups: the optimizer-label words they all share, and per
/// group the words that set it apart (with the run name where two groups would read alike; a
/// single group gets an empty label).
pub fn group_labels(groups: &[Vec<&RunData>]) -> (String, Vec<String>) {
    let full: Vec<String> = groups.iter().map(|g| g[0].optimizer_label()).collect();
    let (common, labels) = distinguishing(&full);
    let out = groups
        .iter()
        .enumerate()
        .map(|(gi, g)| {
            let dup = labels.iter().filter(|l| **l == labels[gi]).count() > 1;
            match (dup, labels[gi].is_empty()) {
                (false, false) => labels[gi].clone(),
                (true, false) => format!("{} ({})", labels[gi], g[0].name()),
                (_, true) if groups.len() == 1 => String::new(),
                (_, true) => g[0].name().to_string(),
            }
        })
        .collect();
    (common, out)
}

/// Train (solid) and test (dashed) loss of several runs; runs that differ only in seed are
/// one configuration: mean line and min-max band over its seeds.
pub fn loss_data(runs: &[RunData]) -> Result<LossData> {
    if runs.is_empty() {
        bail!("no runs to plot");
    }
    let groups = group_by_config(runs);
    let (common, labels) = group_labels(&groups);
    let mut series = Vec::new();
    let mut seed_counts = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let mut label = labels[gi].clone();
        if g.len() == 1 {
            if g[0].status() == "diverged" {
                label.push_str(" [diverged]");
            }
        } else {
            seed_counts.push(g.len());
            let div = g.iter().filter(|r| r.status() == "diverged").count();
            if div > 0 {
                label.push_str(&format!(" [{div} of {} diverged]", g.len()));
            }
        }
        for (test, pick) in [
            (
                false,
                (|r: &RunData| r.epochs.train_loss.as_slice()) as fn(&RunData) -> &[f64],
            ),
            (true, |r: &RunData| r.epochs.test_loss.as_slice()),
        ] {
            let (epochs, mean, lo, hi) = aggregate(g, pick);
            series.push(LossSeries {
                label: format!("{label} {}", if test { "test" } else { "train" })
                    .trim()
                    .to_string(),
                epochs,
                mean,
                band: (g.len() > 1).then_some((lo, hi)),
                dashed: test,
                colour: gi,
            });
        }
    }
    seed_counts.sort_unstable();
    seed_counts.dedup();
    let band_label = match seed_counts.as_slice() {
        [] => String::new(),
        [n] => format!("shaded: min-max over {n} seeds"),
        ns => format!("shaded: min-max over {}-{} seeds", ns[0], ns[ns.len() - 1]),
    };
    let title = if groups.len() == 1 {
        format!("Train and test loss: {}", run_title(groups[0][0]))
    } else if common.is_empty() {
        format!("Train and test loss of {} configurations", groups.len())
    } else {
        format!(
            "Train and test loss of {} configurations: {common}",
            groups.len()
        )
    };
    let mean_note = if seed_counts.is_empty() {
        ""
    } else {
        " Lines: mean over seeds (runs whose configs differ only in seed and name)."
    };
    let ce = groups
        .iter()
        .all(|g| g[0].meta.get("classification").is_some());
    Ok(LossData {
        title,
        caption: if ce {
            format!("Loss = mean softmax cross-entropy (nats) over the training and test points. Solid: train, dashed: test.{mean_note}")
        } else {
            format!(
            "Loss = mean squared error over the grid (train: fitted points; test: shifted grid). Solid: train, dashed: test.{mean_note}"
        )
        },
        y_label: if ce {
            "loss (cross-entropy)"
        } else {
            "loss (MSE)"
        }
        .into(),
        band_label,
        series,
        marks: Vec::new(),
    })
}

/// Target, prediction and residual amplitude spectrum |R_k| (computed here with the
/// spectral module's FFT) at each stored snapshot epoch (at most `max` of them, evenly
/// picked, first and last kept).
pub fn snapshot_data(run: &RunData, max: usize) -> Result<SnapshotData> {
    let snaps = &run.snapshots;
    if snaps.is_empty() {
        bail!(
            "{} has no fit snapshots (no snapshots.csv); set [record] snapshots = [...] in the config to store predictions",
            run.dir.display()
        );
    }
    let first = &snaps[0];
    if first.dims.len() != 1 {
        bail!(
            "{} is a {}-dim run: draw its snapshots with `bandwise images`",
            run.dir.display(),
            first.dims.len()
        );
    }
    let n = first.t.len();
    if n == 0 {
        bail!("{}: snapshots.csv has no grid points", run.dir.display());
    }
    let chosen: Vec<usize> = if snaps.len() <= max.max(2) {
        (0..snaps.len()).collect()
    } else {
        let m = max.max(2);
        let mut v: Vec<usize> = (0..m).map(|i| i * (snaps.len() - 1) / (m - 1)).collect();
        v.dedup();
        v
    };
    let mut fft = RealFft1d::new(n);
    let mut residual = vec![0.0; n];
    let mut out = Vec::new();
    for &i in &chosen {
        let s = &snaps[i];
        if s.prediction.len() != n {
            bail!(
                "{}: snapshot at epoch {} has {} points but the first has {n}",
                run.dir.display(),
                s.epoch,
                s.prediction.len()
            );
        }
        for ((r, h), y) in residual.iter_mut().zip(&s.prediction).zip(&first.target) {
            *r = h - y;
        }
        let spectrum = if residual.iter().all(|r| r.is_finite()) {
            fft.forward(&residual).iter().map(|c| c.norm()).collect()
        } else {
            vec![f64::NAN; fft.num_bins()]
        };
        out.push(Snapshot {
            epoch: s.epoch as f64,
            prediction: s.prediction.clone(),
            spectrum,
        });
    }
    let skipped = if chosen.len() < snaps.len() {
        format!(
            " Showing {} of {} stored snapshots.",
            chosen.len(),
            snaps.len()
        )
    } else {
        String::new()
    };
    Ok(SnapshotData {
        title: format!("Fit snapshots: {}", run_title(run)),
        caption: format!(
            "Top: target y (black) and prediction h (orange) on the training grid, N = {n}. Bottom: residual amplitude |R_k| = |DFT(h - y)_k| (unnormalised) vs k in cycles per unit length.{skipped}{}",
            divergence_sentence(run)
        ),
        t: first.t.clone(),
        target: first.target.clone(),
        snapshots: out,
    })
}

/// Panel heatmaps with one heatmap per configuration (runs that differ only in seed): the
/// mean record of its completed seeds ([`crate::analysis::seed_mean::mean_run`], as `bandwise figures`
/// draws them), or one per run with `each_seed`. The figure title ends with
/// "N configs x S seeds, D diverged"; a panel whose configuration lost seeds says how many.
pub fn panel_of_configs(
    runs: &[RunData],
    grid: &str,
    measure: Measure,
    clip: Option<Clip>,
    each_seed: bool,
) -> Result<(Vec<HeatmapData>, ColourScale, String)> {
    let groups = group_by_config(runs);
    let mut shown: Vec<RunData> = Vec::new();
    let mut diverged_of: Vec<usize> = Vec::new();
    let mut seeds: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let n_div: usize = runs.iter().filter(|r| r.status() == "diverged").count();
    for g in &groups {
        let done: Vec<&RunData> = g
            .iter()
            .copied()
            .filter(|r| r.status() == "completed")
            .collect();
        let div = g.iter().filter(|r| r.status() == "diverged").count();
        if each_seed {
            for r in g {
                shown.push((*r).clone());
                diverged_of.push(0);
            }
        } else if let Some(m) = crate::analysis::seed_mean::mean_run(&done) {
            shown.push(m);
            diverged_of.push(div);
        }
    }
    if shown.is_empty() {
        bail!(
            "no completed run to draw a panel from ({} runs, all diverged); pass --each-seed to see them",
            runs.len()
        );
    }
    let (mut panels, scale, title) = panel_data(&shown, grid, measure, clip)?;
    for (p, div) in panels.iter_mut().zip(&diverged_of) {
        if *div > 0 {
            p.title.push_str(&format!(" ({div} div.)"));
        }
    }
    seeds.sort_unstable();
    seeds.dedup();
    let s = match seeds.as_slice() {
        [n] => n.to_string(),
        ns => format!("{}-{}", ns[0], ns[ns.len() - 1]),
    };
    let how = if each_seed {
        "each seed"
    } else {
        "mean over seeds"
    };
    let title = format!(
        "{title}; {} config{} x {s} seed{}, {n_div} diverged ({how})",
        groups.len(),
        if groups.len() == 1 { "" } else { "s" },
        if s == "1" { "" } else { "s" }
    );
    Ok((panels, scale, title))
}

/// Panel heatmaps for several runs: one per run, titled by its optimizer label (plus seed or
/// name when labels repeat), with one colour scale fitted over all of them; returns the
/// panels, the scale and the figure title.
pub fn panel_data(
    runs: &[RunData],
    grid: &str,
    measure: Measure,
    clip: Option<Clip>,
) -> Result<(Vec<HeatmapData>, ColourScale, String)> {
    if runs.is_empty() {
        bail!("no runs to plot");
    }
    let mut all = Vec::new();
    for r in runs {
        all.extend(rows(r, grid, measure)?.values.into_iter().flatten());
    }
    let (scale, note) = colour_scale(&all, measure, clip);
    let full: Vec<String> = runs.iter().map(|r| r.optimizer_label()).collect();
    let (common, labels) = if runs.len() > 1 {
        distinguishing(&full)
    } else {
        (String::new(), full)
    };
    let mut panels = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let mut d = heatmap_data(r, grid, measure, "")?;
        let dup = labels.iter().filter(|l| **l == labels[i]).count() > 1;
        d.title = if labels[i].is_empty() {
            format!("{} (seed {})", r.name(), r.seed())
        } else if dup {
            let names_differ = runs.iter().any(|o| o.name() != r.name());
            if names_differ {
                format!("{} ({}, seed {})", labels[i], r.name(), r.seed())
            } else {
                format!("{} (seed {})", labels[i], r.seed())
            }
        } else {
            labels[i].clone()
        };
        if r.status() == "diverged" {
            d.title.push_str(" (diverged)");
        }
        d.caption = format!(
            "{} {}: {}. {note} One colour scale for all panels.",
            grid_sentence(r, grid),
            measure.column(),
            measure.definition()
        );
        panels.push(d);
    }
    let title = if common.is_empty() {
        format!("{} ({} grid), {} runs", measure.title(), grid, runs.len())
    } else {
        format!("{} ({} grid): {common}", measure.title(), grid)
    };
    Ok((panels, scale, title))
}
