//! Renderings of a report's classification section ([`ClassificationSection`]): the
//! comparison table (Markdown and terminal), per-configuration tables (per class, matched
//! loss, band or filtering convergence), the definitions, and the tidy CSV rows. The verdicts
//! are rendered with the regression ones by [`super`].

use super::{
    align, convergence_cells, convergence_header, estimate_cell, fmt_epochs, fmt_epochs_compact,
    fmt_spread_sci, guards_cell, md_table, seeds_cell, spread_cell, thresholds_of, Conventions,
    CsvRows, Estimate, Spread,
};
use crate::analysis::class_summary::{ClassSummary, ClassificationSection};
use crate::record::num;
use std::fmt::Write as _;

/// A fraction in [0, 1] with 3 decimals, "n/a" when undefined.
fn frac(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "n/a".into()
    }
}

/// "0.637 [0.554, 0.719]" (mean and 95% interval of a fraction), "0.637 [n<2]", "n/a".
fn frac_estimate(e: &Estimate) -> String {
    estimate_cell(e, frac)
}

/// "0.912 [0.890-0.930]" (median and range), or the median alone.
fn frac_spread(s: &Spread) -> String {
    spread_cell(s, frac)
}

/// The lowest median class accuracy: "0.71 (class 3)".
fn worst_class(c: &ClassSummary) -> String {
    c.per_class
        .iter()
        .filter(|k| k.test_accuracy.median.is_finite())
        .min_by(|a, b| a.test_accuracy.median.total_cmp(&b.test_accuracy.median))
        .map_or("n/a".into(), |k| {
            format!("{} (class {})", frac(k.test_accuracy.median), k.class)
        })
}

fn at_loss_cell(c: &ClassSummary, level: f64) -> String {
    match c.accuracy_at_loss.iter().find(|a| a.level == level) {
        Some(a) if a.reached > 0 => {
            format!("{} ({}/{})", frac_estimate(&a.accuracy), a.reached, a.n)
        }
        Some(a) => format!("never (0/{})", a.n),
        None => "n/a".into(),
    }
}

fn agreement_cell(c: &ClassSummary) -> String {
    let cells: Vec<String> = c
        .agreement
        .iter()
        .map(|a| fmt_epochs_compact(&a.first_epoch))
        .collect();
    cells.join(" / ")
}

/// The classification comparison table as rows of cells (header first).
pub fn comparison_rows(sec: &ClassificationSection) -> Vec<Vec<String>> {
    let mut h = vec![
        "id".to_string(),
        "configuration".into(),
        "task".into(),
        "seeds: completed of n (diverged)".into(),
        "final train loss".into(),
        "final test loss".into(),
        "final test accuracy".into(),
        "final test error [95% CI]".into(),
        "lowest class accuracy".into(),
    ];
    for l in sec.loss_levels {
        h.push(format!("test accuracy at {:.0}% loss (reached)", 100.0 * l));
    }
    h.push(format!(
        "first epoch of {} agreement",
        sec.agreement_levels
            .iter()
            .map(|l| format!("{:.0}%", 100.0 * l))
            .collect::<Vec<_>>()
            .join(" / ")
    ));
    h.push("validity guards".into());
    let mut rows = vec![h];
    for c in &sec.configs {
        let mut r = vec![
            c.id.clone(),
            c.label.clone(),
            c.task.clone(),
            seeds_cell(c.n_runs, c.n_diverged),
            fmt_spread_sci(&c.final_train_loss),
            fmt_spread_sci(&c.final_test_loss),
            frac_spread(&c.final_test_accuracy),
            frac_estimate(&c.final_test_error),
            worst_class(c),
        ];
        for l in sec.loss_levels {
            r.push(at_loss_cell(c, l));
        }
        r.push(agreement_cell(c));
        r.push(guards_cell(c.guards.passed, &c.guards.reasons));
        rows.push(r);
    }
    rows
}

fn header(sec: &ClassificationSection) -> String {
    format!(
        "{} classification runs ({} diverged: counted in n as failures, excluded from medians and means), {} configurations, {} task(s). Loss: {}; accuracy: {}. Final values: {}.",
        sec.n_runs,
        sec.n_diverged,
        sec.configs.len(),
        sec.tasks().len(),
        sec.definitions.loss,
        sec.definitions.accuracy,
        sec.definitions.final_values
    )
}

/// The classification section in Markdown: header, comparison table, per-configuration
/// tables.
pub fn markdown(sec: &ClassificationSection) -> String {
    let mut out = String::from("## Classification runs\n\n");
    let _ = writeln!(out, "{}\n", header(sec));
    out.push_str("### Comparison (sorted by task, then final test accuracy)\n\n");
    out.push_str(&md_table(&comparison_rows(sec)));
    for c in &sec.configs {
        let _ = writeln!(
            out,
            "\n### {}: {}, task {} ({} seeds, {} diverged)\n",
            c.id,
            c.label,
            c.task,
            c.n_runs - c.n_diverged,
            c.n_diverged
        );
        let mut rows = vec![vec![
            "class".to_string(),
            "test points".into(),
            "final test accuracy".into(),
        ]];
        for k in &c.per_class {
            rows.push(vec![
                k.class.to_string(),
                k.count.to_string(),
                frac_spread(&k.test_accuracy),
            ]);
        }
        out.push_str(&md_table(&rows));
        out.push('\n');
        let mut rows = vec![vec![
            "train loss level (of the initial)".to_string(),
            "test accuracy [95% CI]".into(),
            "seeds reached".into(),
            "train loss at the first analysed epoch past the level (of the initial)".into(),
        ]];
        for a in &c.accuracy_at_loss {
            rows.push(vec![
                format!("{:.0}%", 100.0 * a.level),
                frac_estimate(&a.accuracy),
                format!("{} of {}", a.reached, a.n),
                frac_spread(&a.loss_fraction),
            ]);
        }
        out.push_str(&md_table(&rows));
        out.push('\n');
        let mut rows = vec![vec![
            "agreement with the final predictions".to_string(),
            "first epoch, stable to the end".into(),
        ]];
        for a in &c.agreement {
            rows.push(vec![
                format!(">= {:.0}% of the test points", 100.0 * a.level),
                fmt_epochs(&a.first_epoch),
            ]);
        }
        out.push_str(&md_table(&rows));
        if !c.bands.is_empty() {
            out.push_str("\nBand record (relative error summed over the class channels):\n\n");
            let thresholds = thresholds_of(c.bands.iter().map(|b| &b.convergence));
            let mut rows = vec![convergence_header(&["band"], &thresholds, false)];
            for b in &c.bands {
                let mut r = vec![b.label.clone()];
                r.extend(convergence_cells(&b.convergence, None));
                rows.push(r);
            }
            out.push_str(&md_table(&rows));
        }
        if !c.filtering.is_empty() {
            out.push_str("\nFiltering method (e_low / e_high per Gaussian width delta, read as relative errors):\n\n");
            let thresholds = thresholds_of(c.filtering.iter().map(|f| &f.convergence));
            let mut rows = vec![convergence_header(
                &["part", "delta (x median distance)"],
                &thresholds,
                false,
            )];
            for f in &c.filtering {
                let mut r = vec![
                    format!("e_{}", f.part),
                    match f.factor {
                        Some(x) => format!("{} ({x:.3})", num(f.delta)),
                        None => num(f.delta),
                    },
                ];
                r.extend(convergence_cells(&f.convergence, None));
                rows.push(r);
            }
            out.push_str(&md_table(&rows));
        }
        if let Some(l) = &c.lr_search {
            let _ = writeln!(
                out,
                "\nlr chosen by the sweep's lr search: {}{}.",
                l.chosen_lr.map_or("?".into(), |x| format!("{x:e}")),
                l.at_edge
                    .as_ref()
                    .map_or(String::new(), |e| format!(" (at the {e} edge of the grid)"))
            );
        }
    }
    out
}

/// The definitions of the classification section in Markdown; the shared convergence
/// conventions too when the report has no regression part.
pub fn conventions_md(sec: &ClassificationSection, shared: &Conventions) -> String {
    let mut out = String::from("\n## Conventions of the classification section\n\n");
    let d = &sec.definitions;
    for (k, v) in [
        ("loss", d.loss),
        ("accuracy", d.accuracy),
        ("final values", d.final_values),
        ("final test error", d.final_test_error),
        ("per class", d.per_class),
        ("test accuracy at matched loss", d.accuracy_at_loss),
        ("agreement", d.agreement),
        ("band record", d.bands),
        ("filtering method", d.filtering),
        ("validity guards", d.guards),
        ("intervals", shared.intervals),
        ("epochs to threshold", shared.epochs_to_threshold),
        ("half-life", shared.half_life),
        ("coverage", shared.coverage),
        ("plateau", shared.plateau),
        ("decay-rate window", shared.decay_window.as_str()),
    ] {
        let _ = writeln!(out, "- {k}: {v}");
    }
    out
}

/// The terminal view: header and the aligned comparison table.
pub fn terminal(sec: &ClassificationSection) -> String {
    let mut out = format!("{}\n\n", header(sec));
    out.push_str(&align(&comparison_rows(sec)));
    out.push_str("\nPer-class, matched-loss and convergence tables, definitions and verdict rules: --format md.\n");
    out
}

/// The comment line of the CSV that explains the classification rows.
pub fn csv_comment(sec: &ClassificationSection) -> String {
    format!(
        "# classification configurations ({} runs): band = `class K` for per-class accuracy, a band label for the band record, `e_low delta=D` / `e_high delta=D` for the filtering method; threshold = the loss level for accuracy_at_loss, the agreement level for agreement_first_epoch",
        sec.n_runs
    )
}

/// The tidy CSV rows of the classification configurations.
pub fn csv_rows(sec: &ClassificationSection, out: &mut String) {
    for c in &sec.configs {
        let mut w = CsvRows {
            out,
            head: [
                c.id.clone(),
                c.label.clone(),
                c.task.clone(),
                c.n_runs.to_string(),
                c.n_diverged.to_string(),
            ],
        };
        w.spread("", "final_train_loss", &c.final_train_loss);
        w.spread("", "final_test_loss", &c.final_test_loss);
        w.spread("", "final_train_accuracy", &c.final_train_accuracy);
        w.spread("", "final_test_accuracy", &c.final_test_accuracy);
        w.estimate("", "final_test_error", "", &c.final_test_error);
        for k in &c.per_class {
            let band = format!("class {}", k.class);
            w.row(
                &band,
                "class_test_accuracy",
                "",
                "count",
                k.count.to_string(),
            );
            w.spread(&band, "class_test_accuracy", &k.test_accuracy);
        }
        for a in &c.accuracy_at_loss {
            let lvl = num(a.level);
            w.estimate("", "accuracy_at_loss", &lvl, &a.accuracy);
            w.row(
                "",
                "accuracy_at_loss",
                &lvl,
                "reached",
                a.reached.to_string(),
            );
        }
        for a in &c.agreement {
            w.epochs("", "agreement_first_epoch", &num(a.level), &a.first_epoch);
        }
        w.row("", "guards", "", "passed", c.guards.passed.to_string());
        w.row("", "guards", "", "reasons", c.guards.reasons.join("; "));
        for b in &c.bands {
            w.convergence(&b.label, &b.convergence, None);
        }
        for f in &c.filtering {
            let band = format!("e_{} delta={}", f.part, num(f.delta));
            w.convergence(&band, &f.convergence, None);
        }
    }
}
