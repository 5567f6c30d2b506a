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
use crate::app::figures::Analysis;
use crate::plot::accuracy::{accuracy_loss, accuracy_vs_loss};
use crate::plot::class_maps::class_maps;
use crate::plot::estimates::{estimates, EstimatePoint, EstimatesData, Layout};
use crate::plot::from_class::{accuracy_data, agreement_data, class_maps_data};
use crate::plot::loss::loss;
use crate::record::load::RunData;
use crate::record::write_atomic;
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
    // The configurations as (label, runs) groups, for the figure adapters.
    let groups: Vec<(String, Vec<&RunData>)> = cs
        .iter()
        .map(|c| {
            let rs = runs
                .iter()
                .filter(|r| c.runs.iter().any(|x| x.dir == r.dir))
                .collect();
            (c.label.clone(), rs)
        })
        .collect();
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
        accuracy_loss(&p, &accuracy_data(&groups, &meta.title, false)?)?;
        figures.push(p);
    }
    if wants("accuracy_vs_loss") {
        let p = out.join("accuracy_vs_loss.png");
        accuracy_vs_loss(
            &p,
            &accuracy_data(&groups, "C4: accuracy against loss", true)?,
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
    if wants("agreement")
        && groups
            .iter()
            .flat_map(|(_, g)| g)
            .any(|r| r.agreement.is_some())
    {
        let p = out.join("agreement.png");
        loss(
            &p,
            &agreement_data(&groups, "C4: decision-boundary agreement")?,
        )?;
        figures.push(p);
    }
    if wants("class_maps") {
        let mut data = class_maps_data(
            &groups,
            "C4: predicted classes over epochs (one seed per configuration)",
        )
        .with_context(|| format!("analyses/{}: [analysis].figures lists class_maps", a.file))?;
        let [n, m] = data.dims;
        data.caption = format!("{n} x {m} training grid, x to the right and y up. First column: the true classes (argmax of {} band-limited functions whose phases come from the seed, so each seed has its own map). Then the predicted class (argmax of the network's outputs) at stored snapshot epochs, headed by the share of grid points predicted correctly (the train accuracy at that epoch). The lowest completed seed of each configuration is shown.", data.classes);
        let p = out.join("class_maps.png");
        class_maps(&p, &data)?;
        figures.push(p);
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

fn finding(v: &Verdict) -> String {
    format!(
        "{} {}: {} ({})",
        v.claim,
        v.outcome.as_str(),
        v.evidence.join("; "),
        v.measured
    )
}
