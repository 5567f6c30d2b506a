//! Classification claim analyses (`claims` containing "c4" or "c5"): the verdicts of
//! [`crate::analysis::classification`] with the figures of the quantities that decide them:
//! `accuracy_vs_loss` (test accuracy against train cross-entropy, seed means: C4),
//! `c4_matched` (test accuracy at matched loss per configuration, with intervals),
//! `c5_error` (final test error per configuration), `agreement` (share of test points whose
//! predicted class still differs from the final one, against epoch), `accuracy`
//! (accuracy and loss on twin axes, seed means) and, for 2D grid tasks, `class_maps` (the
//! true and predicted classes over the grid at the stored snapshot epochs, one seed per
//! configuration).

use super::{load_groups, AnalysisMeta, AnalysisOutcome};
use crate::analysis::aggregate::Estimate;
use crate::analysis::claims::Verdict;
use crate::analysis::classification::{configs, judge, ClassConfig, LOSS_LEVELS};
use crate::analysis::seed_mean::mean_run;
use crate::app::figures::Analysis;
use crate::plot::accuracy::{accuracy_loss, accuracy_vs_loss, AccuracyData, AccuracySeries};
use crate::plot::class_maps::{class_map_row, class_maps, ClassMapsData};
use crate::plot::estimates::{estimates, EstimatePoint, EstimatesData, Layout};
use crate::plot::loss::{loss, LossData, LossSeries};
use crate::record::load::RunData;
use crate::record::{write_atomic, Table};
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

fn point(label: &str, series: &str, e: &Estimate, c: &ClassConfig, never: usize) -> EstimatePoint {
    EstimatePoint {
        label: label.into(),
        series: series.into(),
        x: 0.0,
        mean: e.mean,
        lo: e.ci_lo,
        hi: e.ci_hi,
        n: e.n,
        n_diverged: c.n_diverged(),
        never,
    }
}

fn seeds_word(configs: &[ClassConfig]) -> String {
    let seeds: usize = configs.iter().map(|c| c.runs.len()).sum();
    let div: usize = configs.iter().map(ClassConfig::n_diverged).sum();
    format!(
        "{} configurations x {} seeds, {div} diverged",
        configs.len(),
        seeds / configs.len().max(1)
    )
}

pub(super) fn render(
    a: &Analysis,
    meta: &AnalysisMeta,
    protocol: &str,
    sweep_dir: &Path,
    out: &Path,
) -> Result<AnalysisOutcome> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let runs: Vec<RunData> = load_groups(sweep_dir)?
        .into_iter()
        .flat_map(|(_, runs)| runs)
        .collect();
    if runs.is_empty() {
        bail!("analysis {}: no runs", a.file);
    }
    let cs = configs(&runs)?;
    let verdicts = judge(&cs);
    let counts = seeds_word(&cs);
    let mut figures = Vec::new();
    let by_config: Vec<Vec<&RunData>> = cs
        .iter()
        .map(|c| {
            runs.iter()
                .filter(|r| r.status() == "completed" && c.runs.iter().any(|x| x.dir == r.dir))
                .collect()
        })
        .collect();

    // Seed-mean accuracy and loss curves.
    let series: Vec<AccuracySeries> = cs
        .iter()
        .zip(&by_config)
        .filter_map(|(c, rs)| mean_run(rs).map(|m| AccuracySeries::from_run(&m, c.label.clone())))
        .collect::<Result<_>>()?;
    const KNOWN: [&str; 6] = [
        "accuracy",
        "accuracy_vs_loss",
        "c4_matched",
        "c5_error",
        "agreement",
        "class_maps",
    ];
    if let Some(f) = meta.figures.iter().find(|f| !KNOWN.contains(&f.as_str())) {
        bail!(
            "analyses/{}: [analysis].figures lists `{f}`; a classification analysis draws {}",
            a.file,
            KNOWN.join(", ")
        );
    }
    let wants = |f: &str| meta.figures.iter().any(|x| x == f);
    if wants("accuracy") {
        let p = out.join("accuracy.png");
        accuracy_loss(
            &p,
            &AccuracyData {
                title: format!("{} ({counts})", meta.title),
                caption: "Means over completed seeds. Thick: accuracy (dark: train, light: test); thin: cross-entropy (right axis, dark: train, light: test).".into(),
                series: series.clone(),
                reference: None,
            },
        )?;
        figures.push(p);
    }
    if wants("accuracy_vs_loss") {
        let p = out.join("accuracy_vs_loss.png");
        accuracy_vs_loss(
            &p,
            &AccuracyData {
                title: format!("C4: accuracy against loss ({counts})"),
                caption: "Means over completed seeds, one point per analysed epoch. Higher accuracy at the same train cross-entropy = earlier decision-boundary alignment.".into(),
                series,
                reference: None,
            },
        )?;
        figures.push(p);
    }
    if wants("c4_matched") {
        let mut points = Vec::new();
        for level in LOSS_LEVELS {
            for c in &cs {
                let v = c.accuracy_at_loss(level);
                let completed = c.runs.len() - c.n_diverged();
                points.push(point(
                    &c.label,
                    &format!("at {:.0}% of the initial loss", 100.0 * level),
                    &Estimate::of(&v),
                    c,
                    completed - v.len(),
                ));
            }
        }
        let p = out.join("c4_matched.png");
        estimates(
            &p,
            &EstimatesData {
                title: format!("C4: test accuracy at matched train loss ({counts})"),
                caption: "Per seed, test accuracy at the first analysed epoch whose train cross-entropy is <= the level x its initial value; mean and 95% t-interval over seeds; 75% decides C4.".into(),
                layout: Layout::Rows,
                value_label: "test accuracy (fraction)".into(),
                points,
                ..Default::default()
            },
        )?;
        figures.push(p);
    }
    if wants("c5_error") {
        let points = cs
            .iter()
            .map(|c| {
                point(
                    &c.label,
                    "final test error",
                    &Estimate::of(&c.final_errors()),
                    c,
                    0,
                )
            })
            .collect();
        let p = out.join("c5_error.png");
        estimates(
            &p,
            &EstimatesData {
                title: format!("C5: final test error ({counts})"),
                caption: "Final test error = 1 - test accuracy at the last epoch; mean and 95% t-interval over completed seeds; diverged seeds are counted beside each point.".into(),
                layout: Layout::Rows,
                value_label: "test error (fraction)".into(),
                points,
                floor: Some(0.0),
                ..Default::default()
            },
        )?;
        figures.push(p);
    }
    if wants("agreement") {
        let mut series = Vec::new();
        for (i, (c, rs)) in cs.iter().zip(&by_config).enumerate() {
            let tables: Vec<Table> = rs
                .iter()
                .filter_map(|r| Table::read(&r.dir.join("agreement.csv")).ok())
                .collect();
            let Some(first) = tables.first() else {
                continue;
            };
            let epochs = first.f64s("epoch")?;
            let cols: Vec<Vec<f64>> = tables
                .iter()
                .map(|t| t.f64s("agreement"))
                .collect::<Result<_>>()?;
            let n = cols
                .iter()
                .map(Vec::len)
                .min()
                .unwrap_or(0)
                .min(epochs.len());
            // Disagreement with the final prediction; the last epoch (0 by definition) is left out.
            let mean: Vec<f64> = (0..n.saturating_sub(1))
                .map(|e| 1.0 - cols.iter().map(|c| c[e]).sum::<f64>() / cols.len() as f64)
                .collect();
            series.push(LossSeries {
                label: c.label.clone(),
                epochs: epochs[..mean.len()].to_vec(),
                mean,
                band: None,
                dashed: false,
                colour: i,
            });
        }
        if !series.is_empty() {
            let p = out.join("agreement.png");
            loss(
                &p,
                &LossData {
                    title: format!("C4: decision-boundary agreement ({counts})"),
                    caption: "1 - agreement: share of test points whose predicted class differs from the one at the last epoch; mean over completed seeds (log axis; the last epoch, 0 by definition, is left out).".into(),
                    y_label: "share of test points not yet at their final class".into(),
                    band_label: String::new(),
                    series,
                    marks: Vec::new(),
                },
            )?;
            figures.push(p);
        }
    }

    if wants("class_maps") {
        figures.push(draw_class_maps(a, &cs, &by_config, out)?);
    }

    // Reports.
    let mut md = format!(
        "# {}\n\nAnalysis: `analyses/{}`. Protocol run: {}. {counts}.\n\n| configuration | lr | seeds (diverged) | final test accuracy | accuracy at 75% loss | guards |\n|---|---|---|---|---|---|\n",
        meta.title, a.file, protocol
    );
    for c in &cs {
        let acc: Vec<f64> = c.final_errors().iter().map(|e| 1.0 - e).collect();
        let e = Estimate::of(&acc);
        let m = Estimate::of(&c.accuracy_at_loss(0.75));
        let g = c.guard_failures();
        let _ = writeln!(
            md,
            "| {} | {} | {} ({}) | {:.3} [{:.3}, {:.3}] | {:.3} (n={}) | {} |",
            c.label,
            lr_text(c),
            c.runs.len(),
            c.n_diverged(),
            e.mean,
            e.ci_lo,
            e.ci_hi,
            m.mean,
            m.n,
            if g.is_empty() {
                "pass".into()
            } else {
                format!("FAIL: {}", g.join("; "))
            }
        );
    }
    md.push_str("\n## Verdicts\n");
    for v in &verdicts {
        let _ = write!(
            md,
            "\n### {}: {}\n\n{}\n\nMeasured: {}. Rule: {}\n\n",
            v.claim,
            v.outcome.as_str(),
            v.statement,
            v.measured,
            v.rule
        );
        for e in &v.evidence {
            let _ = writeln!(md, "- {e}");
        }
    }
    let report = out.join("report.md");
    write_atomic(&report, md.as_bytes())?;
    let json = json!({
        "schema": "bandwise-classification-report/1",
        "analysis": format!("analyses/{}", a.file),
        "protocol": protocol,
        "conventions": {
            "loss": "mean softmax cross-entropy (nats)",
            "accuracy": "fraction of points whose argmax logit is the label",
            "matched_loss_levels": LOSS_LEVELS,
            "interval": "Student-t 95% over seeds; differences: Welch",
        },
        "configs": cs.iter().map(|c| json!({
            "label": c.label,
            "seeds": c.runs.len(),
            "diverged": c.n_diverged(),
            "final_test_error": c.final_errors(),
            "lr": c.lr.as_ref().and_then(|l| l.chosen_lr).or_else(|| c.optimizer["lr"].as_f64()),
            "lr_searched": c.lr.is_some(),
            "guard_failures": c.guard_failures(),
        })).collect::<Vec<_>>(),
        "verdicts": verdicts,
    });
    write_atomic(
        &out.join("report.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    let findings = verdicts.iter().map(finding).collect();
    let headline = verdicts
        .iter()
        .map(|v| format!("{}: {}", v.claim, v.outcome.as_str()))
        .collect::<Vec<_>>()
        .join("; ");
    let n_runs = runs.len();
    let n_diverged = runs.iter().filter(|r| r.status() == "diverged").count();
    Ok(AnalysisOutcome {
        figures,
        findings,
        headline,
        n_runs,
        n_diverged,
        verdicts,
        ..AnalysisOutcome::of(a, meta, protocol, out, report)
    })
}

/// The lr of a configuration: the search's choice (marked) or the configured one.
fn lr_text(c: &ClassConfig) -> String {
    match &c.lr {
        Some(l) => format!(
            "{} (searched{})",
            l.chosen_lr.map_or("?".into(), |x| format!("{x:e}")),
            l.at_edge
                .as_ref()
                .map_or(String::new(), |e| format!(", at the {e} edge"))
        ),
        None => c.optimizer["lr"]
            .as_f64()
            .map_or("schedule".into(), |x| format!("{x:e}")),
    }
}

/// The class maps of the first completed seed of every configuration (2D grid tasks).
fn draw_class_maps(
    a: &Analysis,
    cs: &[ClassConfig],
    by_config: &[Vec<&RunData>],
    out: &Path,
) -> Result<std::path::PathBuf> {
    let mut rows = Vec::new();
    let mut dims = None;
    let mut classes = 0;
    for (c, rs) in cs.iter().zip(by_config) {
        let Some(run) = rs
            .iter()
            .filter(|r| r.snapshots.first().is_some_and(|s| s.dims.len() == 2))
            .min_by_key(|r| r.seed())
        else {
            continue;
        };
        let d = [run.snapshots[0].dims[0], run.snapshots[0].dims[1]];
        if dims.is_some_and(|x| x != d) {
            bail!(
                "analyses/{}: class_maps needs one grid for every configuration ({:?} and {d:?})",
                a.file,
                dims.unwrap_or_default()
            );
        }
        dims = Some(d);
        classes = classes.max(c.classes);
        rows.push(class_map_row(
            &run.snapshots,
            &format!("{}, seed {}", c.label, run.seed()),
            5,
        ));
    }
    let Some([n, m]) = dims else {
        bail!(
            "analyses/{}: [analysis].figures lists class_maps, but no completed run stored 2D snapshots (target kind = \"waves2d\" with record.snapshots)",
            a.file
        );
    };
    let p = out.join("class_maps.png");
    class_maps(
        &p,
        &ClassMapsData {
            title: "C4: predicted classes over epochs (one seed per configuration)".into(),
            caption: format!("{n} x {m} training grid, x to the right and y up. First column: the true classes (argmax of {classes} band-limited functions whose phases come from the seed, so each seed has its own map). Then the predicted class (argmax of the network's outputs) at stored snapshot epochs, headed by the share of grid points predicted correctly (the train accuracy at that epoch). The lowest completed seed of each configuration is shown.")
            ,
            dims: [n, m],
            classes,
            rows,
        },
    )?;
    Ok(p)
}

fn finding(v: &Verdict) -> String {
    format!(
        "{} {}: {} ({})",
        v.claim,
        v.outcome.as_str(),
        v.evidence.join("; "),
        v.measured
    )
}
