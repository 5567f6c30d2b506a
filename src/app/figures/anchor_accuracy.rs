//! Classification anchors (`[analysis] anchor_measure = "test_accuracy"`): the final test
//! accuracy over seeds against a published value (`anchor_threshold`), with the figures
//! `loss`, `accuracy` (accuracy and loss on twin axes, and accuracy against loss) and
//! `filtering` (the filtering method's e_low/e_high per delta against epoch, first seed).

use super::{AnalysisMeta, AnalysisOutcome};
use crate::app::figures::Analysis;
use crate::plot::accuracy::{accuracy_loss, accuracy_vs_loss, AccuracyData, AccuracySeries};
use crate::plot::runs::{draw, Kind, PlotOptions};
use crate::plot::{heatmap, ColourScale, HeatmapData};
use crate::record::load::RunData;
use crate::record::sweep_index::SweepIndex;
use crate::record::{write_atomic, Table};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// One run's accuracy record.
struct Acc {
    seed: u64,
    series: AccuracySeries,
}

fn load_acc(dir: &Path, seed: u64) -> Result<Acc> {
    let path = dir.join("epochs.csv");
    let t = Table::read(&path)?;
    let col = |name: &str| {
        t.f64s(name).with_context(|| {
            format!(
                "{}: not a classification run (no {name} column)",
                path.display()
            )
        })
    };
    Ok(Acc {
        seed,
        series: AccuracySeries {
            label: format!("seed {seed}"),
            epochs: col("epoch")?,
            train_accuracy: col("train_accuracy")?,
            test_accuracy: col("test_accuracy")?,
            train_loss: col("train_loss")?,
            test_loss: col("test_loss")?,
        },
    })
}

/// The filtering heatmap of one run: rows e_low and e_high per delta, columns epochs.
fn filtering_heatmap(dir: &Path, path: &Path) -> Result<bool> {
    let file = dir.join("filtering.csv");
    if !file.is_file() {
        return Ok(false);
    }
    let t = Table::read(&file)?;
    let (epochs, levels) = (t.f64s("epoch")?, t.f64s("level")?);
    let (deltas, low, high) = (t.f64s("delta")?, t.f64s("e_low")?, t.f64s("e_high")?);
    let n_levels = levels.iter().fold(0.0f64, |a, &b| a.max(b)) as usize + 1;
    let cols: Vec<f64> = epochs.iter().step_by(n_levels).copied().collect();
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for (name, v) in [("low", &low), ("high", &high)] {
        for (l, delta) in deltas.iter().enumerate().take(n_levels) {
            labels.push(format!("{name} d={delta:.2}"));
            values.push(v.iter().skip(l).step_by(n_levels).copied().collect());
        }
    }
    heatmap(
        path,
        &HeatmapData {
            title: format!("Filtering method, {}", dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()),
            caption: "e_low / e_high = relative error of the low / high part (Gaussian filter of width delta) of the softmax output against the one-hot target, training points".into(),
            epochs: cols,
            band_labels: labels,
            values,
            value_label: "relative error".into(),
            strips: Vec::new(),
        },
        &ColourScale::linear(0.0, 1.2),
    )?;
    Ok(true)
}

pub(super) fn render(
    a: &Analysis,
    meta: &AnalysisMeta,
    protocol: &str,
    sweep_dir: &Path,
    out: &Path,
) -> Result<AnalysisOutcome> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let published = meta.anchor_threshold.with_context(|| {
        format!("analyses/{}: a test_accuracy anchor needs [analysis].anchor_threshold (the published accuracy, e.g. 0.68)", a.file)
    })?;
    let index = SweepIndex::load(sweep_dir)?;
    let mut runs = Vec::new();
    let mut accs = Vec::new();
    for config in index.config_ids() {
        for r in index.runs_of(config) {
            let run = RunData::load(&r.dir)
                .with_context(|| format!("cannot load {}", r.dir.display()))?;
            if run.status() == "completed" {
                let seed = run.meta["seed"].as_u64().unwrap_or(0);
                accs.push(load_acc(&r.dir, seed)?);
            }
            runs.push(run);
        }
    }
    let n_runs = runs.len();
    if accs.is_empty() {
        bail!("analysis {}: no completed run", a.file);
    }
    let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
    let finals: Vec<f64> = accs.iter().map(|r| last(&r.series.test_accuracy)).collect();
    let mean = finals.iter().sum::<f64>() / finals.len() as f64;
    let (lo, hi) = finals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let mut figures = Vec::new();
    let data = AccuracyData {
        title: meta.title.clone(),
        caption: "Thick: accuracy (dark: train, light: test); thin: cross-entropy (right axis, dark: train, light: test). Grey: the published test accuracy.".into(),
        series: accs.iter().map(|r| r.series.clone()).collect(),
        reference: Some((published, format!("published {:.0}%", 100.0 * published))),
    };
    for fig in &meta.figures {
        match fig.as_str() {
            "loss" => {
                let done: Vec<RunData> =
                    runs.iter().filter(|r| r.status() == "completed").cloned().collect();
                let path = out.join("loss.png");
                draw(Kind::Loss, &done, &path, &PlotOptions::default())?;
                figures.push(path);
            }
            "accuracy" => {
                let path = out.join("accuracy.png");
                accuracy_loss(&path, &data)?;
                figures.push(path);
                let path = out.join("accuracy_vs_loss.png");
                accuracy_vs_loss(&path, &data)?;
                figures.push(path);
            }
            "filtering" => {
                let path = out.join("filtering.png");
                if filtering_heatmap(&runs[0].dir, &path)? {
                    figures.push(path);
                }
            }
            other => bail!("analyses/{}: [analysis].figures lists `{other}`; a test_accuracy anchor draws loss, accuracy and filtering", a.file),
        }
    }
    let gap = 100.0 * (mean - published);
    let finding = format!(
        "final test accuracy {:.1}% (mean over {} seeds, range {:.1}-{:.1}%) against the published {:.0}%: {:+.1} points",
        100.0 * mean,
        finals.len(),
        100.0 * lo,
        100.0 * hi,
        100.0 * published,
        gap
    );
    let mut md = format!(
        "# {}\n\nAnalysis: `analyses/{}`. Protocol run: {}.\n\n{finding}.\n\n| seed | final train accuracy | final test accuracy | best test accuracy (epoch) | final train loss | final test loss |\n|---|---|---|---|---|---|\n",
        meta.title, a.file, protocol
    );
    for r in &accs {
        let s = &r.series;
        let (best_i, best) =
            s.test_accuracy
                .iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                );
        md += &format!(
            "| {} | {:.3} | {:.3} | {:.3} ({}) | {:.3e} | {:.3e} |\n",
            r.seed,
            last(&s.train_accuracy),
            last(&s.test_accuracy),
            best,
            s.epochs[best_i],
            last(&s.train_loss),
            last(&s.test_loss)
        );
    }
    let report = out.join("report.md");
    write_atomic(&report, md.as_bytes())?;
    // The same numbers, structured (every analysis writes report.json beside report.md).
    let json = serde_json::json!({
        "format": "bandwise-anchor-accuracy/1",
        "analysis": a.file,
        "protocol": protocol,
        "conventions": "accuracies are fractions in [0, 1]; final = at the last recorded epoch; mean and range over the completed seeds; gap_points = 100 x (mean - published)",
        "published_test_accuracy": published,
        "final_test_accuracy": {"mean": mean, "min": lo, "max": hi, "n": finals.len()},
        "gap_points": gap,
        "n_runs": n_runs,
        "n_diverged": n_runs - accs.len(),
        "seeds": accs.iter().map(|r| serde_json::json!({
            "seed": r.seed,
            "final_train_accuracy": last(&r.series.train_accuracy),
            "final_test_accuracy": last(&r.series.test_accuracy),
            "final_train_loss": last(&r.series.train_loss),
            "final_test_loss": last(&r.series.test_loss),
        })).collect::<Vec<_>>(),
    });
    write_atomic(
        &out.join("report.json"),
        (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
    )?;
    Ok(AnalysisOutcome {
        name: out
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        file: a.file,
        title: meta.title.clone(),
        claims: meta.claims.clone(),
        lr_protocol: protocol.to_string(),
        figures,
        report,
        headline: format!(
            "{:.1}% test accuracy (published {:.0}%)",
            100.0 * mean,
            100.0 * published
        ),
        findings: vec![finding],
        n_runs,
        n_diverged: n_runs - accs.len(),
        verdicts: Vec::new(),
    })
}
