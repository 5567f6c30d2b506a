//! Classification figures' data from run records, for `bandwise plot` and `bandwise figures`:
//! seed-mean accuracy and loss series per configuration ([`accuracy_data`]), the
//! decision-boundary agreement curves ([`agreement_data`]), the filtering-method heatmap of
//! one run ([`filtering_data`]) and the class maps of 2D grid runs ([`class_maps_data`]).
//! Every adapter takes configurations as (label, runs) groups (see [`config_groups`]) and
//! refuses regression runs with an error naming the run and the figure.

use anyhow::{bail, Result};

use super::accuracy::{AccuracyData, AccuracySeries};
use super::class_maps::{class_map_row, ClassMapsData};
use super::from_record::{group_by_config, group_labels, run_title, strips};
use super::{ColourScale, HeatmapData, LossData, LossSeries};
use crate::analysis::seed_mean::mean_run;
use crate::record::load::RunData;

/// Runs grouped by configuration (seeds together), each with its legend label: the words of
/// the optimizer label that set it apart, or the whole label when there is one configuration.
pub fn config_groups(runs: &[RunData]) -> Vec<(String, Vec<&RunData>)> {
    if runs.is_empty() {
        return Vec::new();
    }
    let groups = group_by_config(runs);
    let (_, labels) = group_labels(&groups);
    groups
        .into_iter()
        .zip(labels)
        .map(|(g, l)| {
            let label = if l.is_empty() {
                g[0].optimizer_label()
            } else {
                l
            };
            (label, g)
        })
        .collect()
}

/// Error unless every run of `groups` is a classification run.
fn require_classification(groups: &[(String, Vec<&RunData>)], figure: &str) -> Result<()> {
    for r in groups.iter().flat_map(|(_, g)| g) {
        if !r.is_classification() {
            bail!(
                "{}: a regression run (epochs.csv has no test_accuracy column); the {figure} figure shows classification runs (softmax cross-entropy: target.classes or target.kind = \"dataset\"); for a regression run use heatmap, curves, loss or snapshots",
                r.dir.display()
            );
        }
    }
    Ok(())
}

/// The runs of a group to draw and its label: the runs that did not diverge (as the report
/// counts them), or, when every seed diverged, all of them (drawn up to the divergence) with
/// the label marked `[diverged]`.
fn drawable<'a>(label: &str, g: &[&'a RunData]) -> (Vec<&'a RunData>, String) {
    let done: Vec<&RunData> = g
        .iter()
        .copied()
        .filter(|r| r.status() != "diverged")
        .collect();
    if done.is_empty() {
        (g.to_vec(), format!("{label} [diverged]"))
    } else {
        (done, label.to_string())
    }
}

/// "3 configurations x 8 seeds, 0 diverged" or "seed 0" (one run).
fn counts_word(groups: &[(String, Vec<&RunData>)]) -> String {
    let runs: usize = groups.iter().map(|(_, g)| g.len()).sum();
    let div: usize = groups
        .iter()
        .flat_map(|(_, g)| g)
        .filter(|r| r.status() == "diverged")
        .count();
    if runs == 1 {
        return run_title(groups[0].1[0]);
    }
    let seeds = runs / groups.len().max(1);
    format!(
        "{} configuration{} x {seeds} seed{}, {div} diverged",
        groups.len(),
        if groups.len() == 1 { "" } else { "s" },
        if seeds == 1 { "" } else { "s" }
    )
}

/// Seed-mean accuracies and losses per configuration (completed seeds; configurations
/// without one are left out). Title: `title` with the run counts; caption for `vs_loss`
/// (accuracy against loss) or accuracy and loss against epoch.
pub fn accuracy_data(
    groups: &[(String, Vec<&RunData>)],
    title: &str,
    vs_loss: bool,
) -> Result<AccuracyData> {
    let figure = if vs_loss {
        "accuracy-vs-loss"
    } else {
        "accuracy"
    };
    require_classification(groups, figure)?;
    let mut series = Vec::new();
    let mut means = false;
    for (label, g) in groups {
        let (runs, label) = drawable(label, g);
        means |= runs.len() > 1;
        if let Some(m) = mean_run(&runs) {
            series.push(AccuracySeries::from_run(&m, label)?);
        }
    }
    let over = if means {
        "Means over completed seeds. "
    } else {
        ""
    };
    Ok(AccuracyData {
        title: format!("{title} ({})", counts_word(groups)),
        caption: if vs_loss {
            format!("{over}Test accuracy against train cross-entropy, one point per analysed epoch: higher at the same loss = earlier decision-boundary alignment (C4).")
        } else {
            format!("{over}Thick: accuracy (dark: train, light: test); thin: cross-entropy (right axis, dark: train, light: test).")
        },
        series,
        reference: None,
    })
}

/// The share of test points whose predicted class still differs from the one at the last
/// analysed epoch, mean over the completed seeds of each configuration (agreement.csv); the
/// last epoch (0 by definition) is left out.
pub fn agreement_data(groups: &[(String, Vec<&RunData>)], title: &str) -> Result<LossData> {
    require_classification(groups, "agreement")?;
    let mut series = Vec::new();
    for (i, (label, g)) in groups.iter().enumerate() {
        let (runs, label) = drawable(label, g);
        let records: Vec<_> = runs.iter().filter_map(|r| r.agreement.as_ref()).collect();
        let Some(first) = records.first() else {
            continue;
        };
        let n = records
            .iter()
            .map(|a| a.agreement.len())
            .min()
            .unwrap_or(0)
            .min(first.epochs.len());
        let mean: Vec<f64> = (0..n.saturating_sub(1))
            .map(|e| {
                1.0 - records.iter().map(|a| a.agreement[e]).sum::<f64>() / records.len() as f64
            })
            .collect();
        series.push(LossSeries {
            label,
            epochs: first.epochs[..mean.len()]
                .iter()
                .map(|&e| e as f64)
                .collect(),
            mean,
            band: None,
            dashed: false,
            colour: i,
        });
    }
    if series.is_empty() {
        let dirs: Vec<String> = groups
            .iter()
            .flat_map(|(_, g)| g.iter().map(|r| r.dir.display().to_string()))
            .collect();
        bail!(
            "the agreement figure: no run has agreement.csv ({}); it is written by `bandwise run` and `bandwise analyze` for classification runs",
            dirs.join(", ")
        );
    }
    Ok(LossData {
        title: format!("{title} ({})", counts_word(groups)),
        caption: "1 - agreement: share of test points whose predicted class differs from the one at the last analysed epoch; mean over completed seeds (log axis; the last epoch, 0 by definition, is left out).".into(),
        y_label: "share of test points not yet at their final class".into(),
        band_label: String::new(),
        series,
        marks: Vec::new(),
    })
}

/// The filtering method of one run as a heatmap: one row per part (e_low, then e_high) and
/// Gaussian width delta, one column per analysed epoch, with the p(t) / lr(t) strips; colour
/// on a log scale fitted to the data (rounded out to 1-2-5 steps).
pub fn filtering_data(run: &RunData) -> Result<(HeatmapData, ColourScale)> {
    let Some(f) = &run.filtering else {
        let why = if run.is_classification() {
            "a classification run on a grid (target.classes) has a band record instead: draw it with --kind heatmap"
        } else {
            "a regression run: draw its band record with --kind heatmap"
        };
        bail!(
            "{}: no filtering.csv (the F-Principle filtering method of classification runs on scattered data, target.kind = \"dataset\"); {why}",
            run.dir.display()
        );
    };
    if f.epochs.is_empty() {
        bail!("{}: filtering.csv has no analysed epoch", run.dir.display());
    }
    let scale_of = run.meta["classification"]["filtering"]["median_distance"].as_f64();
    let mut labels = Vec::new();
    let mut values = Vec::new();
    for (part, v) in [("low", &f.e_low), ("high", &f.e_high)] {
        for (l, delta) in f.deltas.iter().enumerate() {
            labels.push(match scale_of {
                Some(s) if s > 0.0 => format!("e_{part}, delta {:.3}s", delta / s),
                _ => format!("e_{part}, delta {delta:.3}"),
            });
            values.push(v[l].clone());
        }
    }
    let scale = ColourScale::log_fit_125(values.iter().flatten());
    let s_note = match scale_of {
        Some(s) => format!(" s = {s:.3}, the median pairwise distance of the filtered points."),
        None => String::new(),
    };
    Ok((
        HeatmapData {
            title: format!("Filtering method: {}", run_title(run)),
            caption: format!("e_low / e_high = relative error of the low / high part (Gaussian filter of width delta) of the softmax output against the one-hot target, on the training points; small delta keeps most of the error in the low part.{s_note} Colour: log scale fitted to the data, [{:e}, {:e}].", scale.min, scale.max),
            epochs: f.epochs.iter().map(|&e| e as f64).collect(),
            band_labels: labels,
            values,
            value_label: "relative error e_low / e_high".into(),
            row_label: "part and filter width delta".into(),
            col_label: String::new(),
            strips: strips(run, &f.epochs),
        },
        scale,
    ))
}

/// The class maps of the lowest completed seed of each configuration of 2D grid runs (the
/// lowest seed when all diverged).
pub fn class_maps_data(groups: &[(String, Vec<&RunData>)], title: &str) -> Result<ClassMapsData> {
    require_classification(groups, "class-maps")?;
    let mut rows = Vec::new();
    let mut dims: Option<[usize; 2]> = None;
    let mut classes = 0;
    for (label, g) in groups {
        let (runs, label) = drawable(label, g);
        let Some(run) = runs
            .into_iter()
            .filter(|r| r.snapshots.first().is_some_and(|s| s.dims.len() == 2))
            .min_by_key(|r| r.seed())
        else {
            continue;
        };
        let d = [run.snapshots[0].dims[0], run.snapshots[0].dims[1]];
        if let Some(x) = dims.filter(|&x| x != d) {
            bail!(
                "the class-maps figure needs one grid for every configuration, got {x:?} and {d:?} ({})",
                run.dir.display()
            );
        }
        dims = Some(d);
        classes = classes.max(run.meta["classification"]["classes"].as_u64().unwrap_or(2) as usize);
        rows.push(class_map_row(
            &run.snapshots,
            &format!("{label}, seed {}", run.seed()),
            5,
        ));
    }
    let Some([n, m]) = dims else {
        let dirs: Vec<String> = groups
            .iter()
            .flat_map(|(_, g)| g.iter().map(|r| r.dir.display().to_string()))
            .collect();
        bail!(
            "the class-maps figure needs a 2D grid classification run with snapshots (target kind = \"waves2d\" with classes and record.snapshots); none among {}",
            dirs.join(", ")
        );
    };
    Ok(ClassMapsData {
        title: title.to_string(),
        caption: format!("{n} x {m} training grid, x to the right and y up. First column: the true classes ({classes} classes). Then the predicted class (argmax of the network's outputs) at stored snapshot epochs, headed by the share of grid points predicted correctly (the train accuracy at that epoch). The lowest completed seed of each configuration is shown."),
        dims: [n, m],
        classes,
        rows,
    })
}
