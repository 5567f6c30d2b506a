//! Classification anchors (`[analysis] anchor_measure = "test_accuracy"`): the final test
//! accuracy over seeds against a published value (`anchor_threshold`), with the figures
//! `loss`, `accuracy` (accuracy and loss on twin axes, and accuracy against loss) and
//! `filtering` (the filtering method's e_low/e_high per delta against epoch, first seed).

use super::{load_groups, AnalysisMeta, AnalysisOutcome};
use crate::app::figures::Analysis;
use crate::base::stats::{mean_min_max, MeanCi};
use crate::plot::accuracy::{accuracy_loss, accuracy_vs_loss, AccuracyData, AccuracySeries};
use crate::plot::from_class::filtering_data;
use crate::plot::heatmap;
use crate::plot::runs::{draw, Kind, PlotOptions};
use crate::record::load::RunData;
use crate::record::write_atomic;
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::path::Path;

/// One run's accuracy record.
struct Acc {
    seed: u64,
    series: AccuracySeries,
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
    let runs: Vec<RunData> = load_groups(sweep_dir)?
        .into_iter()
        .flat_map(|(_, runs)| runs)
        .collect();
    let accs = runs
        .iter()
        .filter(|r| r.status() == "completed")
        .map(|r| {
            Ok(Acc {
                seed: r.seed(),
                series: AccuracySeries::from_run(r, format!("seed {}", r.seed()))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let n_runs = runs.len();
    if accs.is_empty() {
        bail!("analysis {}: no completed run", a.file);
    }
    let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
    let finals: Vec<f64> = accs.iter().map(|r| last(&r.series.test_accuracy)).collect();
    let (mean, lo, hi) = mean_min_max(&finals);
    let ci = MeanCi::of(&finals);
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
                if runs[0].filtering.is_some() {
                    let (data, scale) = filtering_data(&runs[0])?;
                    heatmap(&path, &data, &scale)?;
                    figures.push(path);
                }
            }
            other => bail!("analyses/{}: [analysis].figures lists `{other}`; a test_accuracy anchor draws loss, accuracy and filtering", a.file),
        }
    }
    let gap = 100.0 * (mean - published);
    let interval = if finals.len() >= 2 {
        format!(", 95% interval {:.1}-{:.1}%", 100.0 * ci.lo, 100.0 * ci.hi)
    } else {
        ", no interval from one seed".to_string()
    };
    let finding = format!(
        "final test accuracy {:.1}% (mean over {} seeds{interval}, range {:.1}-{:.1}%) against the published {:.0}%: {:+.1} points",
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
    let json = json!({
        "schema": "bandwise-anchor-accuracy/1",
        "analysis": format!("analyses/{}", a.file),
        "title": meta.title,
        "protocol": protocol,
        "measure": "final test accuracy: fraction of test points whose argmax logit is the label, at the last evaluated epoch",
        "published": published,
        "n_runs": n_runs,
        "n_completed": finals.len(),
        "n_diverged": n_runs - accs.len(),
        "final_test_accuracy": {"mean": mean, "min": lo, "max": hi, "ci95": [ci.lo, ci.hi], "interval": "Student-t 95% over seeds"},
        "gap_points": gap,
        "seeds": accs.iter().map(|r| json!({
            "seed": r.seed,
            "final_train_accuracy": last(&r.series.train_accuracy),
            "final_test_accuracy": last(&r.series.test_accuracy),
            "final_train_loss": last(&r.series.train_loss),
            "final_test_loss": last(&r.series.test_loss),
        })).collect::<Vec<_>>(),
    });
    write_atomic(
        &out.join("report.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    Ok(AnalysisOutcome {
        figures,
        headline: format!(
            "{:.1}% test accuracy (published {:.0}%)",
            100.0 * mean,
            100.0 * published
        ),
        findings: vec![finding],
        n_runs,
        n_diverged: n_runs - accs.len(),
        ..AnalysisOutcome::of(a, meta, protocol, out, report)
    })
}
