//! Renderings of a [`Report`]: Markdown (paper-ready), JSON (schema `bandwise-report/1`), tidy
//! CSV, and an aligned terminal table.
//!
//! JSON schema `bandwise-report/1` (keys in this order; numbers that are undefined are `null`):
//! - `schema`: "bandwise-report/1"; `definition`: the index definition; `conventions`: object
//!   of strings (decay_window, intervals, epochs_to_threshold, half_life, coverage, plateau,
//!   baseline, diverged); `grid`; `window_fraction`; `n_runs`; `n_diverged`;
//! - `configs`: array sorted by index (most positive first), each: `id` ("c1"...), `label`,
//!   `task` ("t1"...), `optimizer` (resolved table), `fixed_p` (number|null), `cyclic`,
//!   `n_runs`, `n_diverged`, `seeds`, `diverged_seeds`, `index` (Estimate), `baseline`
//!   (label|null), `index_vs_baseline` (Estimate|null), `time_spearman` (Estimate),
//!   `coverage` (Estimate), `final_test_loss` (Spread), `bands` (array), `runs` (dirs),
//!   `config` (run.json config without seed and name);
//! - band: `label`, `f_lo`, `f_hi`, `centre`, `in_index`, `to_threshold` (array of
//!   {`threshold`, `n`, `reached`, `median`, `median_reached`, `min`, `max`}; `median` null =
//!   never), `half_life` ({`n`, `reached`, `median`, `median_reached`, `min`, `max`}),
//!   `final_rel_error` (Spread), `coverage` (Spread), `decay_rate` (Estimate), `plateau`
//!   ({`converged`, `stalled`, `improving`, `worsening`, `undefined`} seed counts),
//!   `plateau_change` (Spread); only when every completed seed has a kernel.json:
//!   `predicted_to_threshold` (as `to_threshold`, the kernel's linearised prediction to the
//!   end of the budget, `null` median = not reached) on each band and `kernel` ({`checkpoint`,
//!   `window_end`, `definition`}) on the configuration (after `config`);
//! - Estimate = {`mean`, `ci_lo`, `ci_hi`, `sd`, `n`}; Spread = {`median`, `min`, `max`, `n`};
//! - `verdicts`: array of {`claim`, `statement`, `subject`, `measured`, `comparison`, `rule`,
//!   `evidence` (strings), `outcome` ("supported"|"not_supported"|"inconclusive"|"not_evaluated")}.

use super::aggregate::{ConfigSummary, EpochStat, Estimate, Report, Spread};
use crate::record::num;
use std::fmt::Write as _;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
    Csv,
    Terminal,
}

impl Format {
    /// "md", "json", "csv", "term".
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "md" | "markdown" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "term" | "terminal" => Some(Format::Terminal),
            _ => None,
        }
    }
}

/// Render in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Markdown => markdown(report),
        Format::Json => json(report),
        Format::Csv => csv(report),
        Format::Terminal => terminal(report),
    }
}

fn f3(x: f64) -> String {
    if x.is_finite() {
        format!("{x:+.3}")
    } else {
        "n/a".into()
    }
}

fn sci(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2e}")
    } else {
        "n/a".into()
    }
}

/// "+0.412 [+0.301, +0.523]", or without the interval when it is undefined.
pub fn fmt_estimate(e: &Estimate) -> String {
    if e.has_ci() {
        format!("{} [{}, {}]", f3(e.mean), f3(e.ci_lo), f3(e.ci_hi))
    } else if e.n > 0 {
        format!("{} [n<2]", f3(e.mean))
    } else {
        "n/a".into()
    }
}

/// Compact epochs-to-threshold: "412", "430 (2/3)", "never (1/3)", "never".
pub fn fmt_epochs_compact(s: &EpochStat) -> String {
    let base = match s.median {
        Some(m) => format!("{m}"),
        None => "never".into(),
    };
    if s.reached == s.n || s.reached == 0 {
        base
    } else {
        format!("{base} ({}/{})", s.reached, s.n)
    }
}

/// Full epochs-to-threshold: "412 [398-430]", "430 (2/3 seeds; reached 398-430)", "never".
pub fn fmt_epochs(s: &EpochStat) -> String {
    match (s.reached, s.min, s.max) {
        (0, _, _) => "never".into(),
        (r, Some(lo), Some(hi)) if r == s.n => {
            if lo == hi {
                fmt_epochs_compact(s)
            } else {
                format!("{} [{lo}-{hi}]", fmt_epochs_compact(s))
            }
        }
        (r, Some(lo), Some(hi)) => {
            let m = s.median.map_or("never".to_string(), |m| format!("{m}"));
            format!("{m} ({r}/{} seeds; reached {lo}-{hi})", s.n)
        }
        _ => "n/a".into(),
    }
}

/// A predicted epochs-to-threshold cell: as [`fmt_epochs`], with `> W` for "not by epoch W,
/// the last predicted epoch" instead of "never".
pub fn fmt_predicted(s: &EpochStat, window_end: u64) -> String {
    fmt_epochs(s).replace("never", &format!("> {window_end}"))
}

fn fmt_spread_sci(s: &Spread) -> String {
    if s.n > 1 && s.min != s.max {
        format!("{} [{}-{}]", sci(s.median), sci(s.min), sci(s.max))
    } else {
        sci(s.median)
    }
}

fn seeds_cell(c: &ConfigSummary) -> String {
    format!(
        "{} of {} ({})",
        c.n_runs - c.n_diverged,
        c.n_runs,
        c.n_diverged
    )
}

fn matched_cell(c: &ConfigSummary) -> String {
    match c
        .matched_loss
        .iter()
        .find(|m| m.level == super::matched::DECISIVE_LEVEL)
    {
        Some(m) if m.reached > 0 => format!("{} ({}/{})", fmt_estimate(&m.slope), m.reached, m.n),
        Some(m) => format!("never (0/{})", m.n),
        None => "n/a".into(),
    }
}

fn guards_cell(c: &ConfigSummary) -> String {
    if c.guards.passed {
        "pass".into()
    } else {
        format!("FAIL: {}", c.guards.reasons.join("; "))
    }
}

fn threshold_header(report: &Report) -> (f64, String) {
    let first = report.configs.iter().find(|c| !c.bands.is_empty());
    let thr = first
        .and_then(|c| c.bands[0].to_threshold.first())
        .map_or(f64::NAN, |t| t.threshold);
    let labels: Vec<&str> = first
        .map(|c| {
            c.bands
                .iter()
                .filter(|b| b.in_index)
                .map(|b| b.label.as_str())
                .collect()
        })
        .unwrap_or_default();
    if first.is_none() {
        // No run has band records (e.g. every run diverged): no threshold to name.
        return (thr, "epochs to threshold".into());
    }
    (thr, format!("epochs to rel<{thr} ({})", labels.join(" / ")))
}

fn compact_epochs(c: &ConfigSummary) -> String {
    let cells: Vec<String> = c
        .bands
        .iter()
        .filter(|b| b.in_index)
        .map(|b| {
            b.to_threshold
                .first()
                .map_or("n/a".into(), |t| fmt_epochs_compact(&t.epochs))
        })
        .collect();
    if cells.is_empty() {
        "n/a".into()
    } else {
        cells.join(" / ")
    }
}

/// The comparison table as rows of cells (header first).
pub fn comparison_rows(report: &Report) -> Vec<Vec<String>> {
    let (_, thr_header) = threshold_header(report);
    let mut rows = vec![vec![
        "id".to_string(),
        "configuration".into(),
        "seeds: completed of n (diverged)".into(),
        "index [95% CI]".into(),
        "index, first half".into(),
        "matched-loss slope at 10% (reached)".into(),
        "index - SGD [95% CI]".into(),
        "time view rho".into(),
        "coverage".into(),
        "final test loss".into(),
        thr_header,
        "validity guards".into(),
    ]];
    for c in &report.configs {
        rows.push(vec![
            c.id.clone(),
            c.label.clone(),
            seeds_cell(c),
            fmt_estimate(&c.index),
            fmt_estimate(&c.index_first_half),
            matched_cell(c),
            match (&c.index_vs_baseline, &c.baseline) {
                (Some(d), _) => fmt_estimate(d),
                (None, Some(_)) => "baseline".into(),
                (None, None) => "no baseline".into(),
            },
            if c.time_spearman.n > 0 {
                format!("{} (n={})", f3(c.time_spearman.mean), c.time_spearman.n)
            } else {
                "n/a".into()
            },
            f3(c.coverage.mean),
            sci(c.final_test_loss.median),
            compact_epochs(c),
            guards_cell(c),
        ]);
    }
    rows
}

fn baseline_note(report: &Report) -> String {
    let mut names: Vec<&str> = report
        .configs
        .iter()
        .filter_map(|c| c.baseline.as_deref())
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        "No baseline (sgd, or padam with p = 0) among these runs: index - SGD is not reported."
            .into()
    } else {
        format!("Baseline for index - SGD: {} (same task; `sgd` if present, else padam p = 0 = SGD with EMA momentum, marked SGD-like).", names.join("; "))
    }
}

fn header_lines(report: &Report) -> Vec<String> {
    vec![
        format!(
            "{} runs ({} diverged: counted in n as failures, excluded from means), {} configurations; grid `{}`; decay window {}; schema {}.",
            report.n_runs,
            report.n_diverged,
            report.configs.len(),
            report.grid,
            report.conventions.decay_window,
            report.schema
        ),
        report.definition.to_string(),
        report.matched_definition.to_string(),
        format!("Validity guards: {}", report.guards_definition),
        baseline_note(report),
    ]
}

fn md_table(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
        if i == 0 {
            let _ = writeln!(out, "|{}", "---|".repeat(r.len()));
        }
    }
    out
}

/// Markdown: header with the definition, comparison table, per-band tables, verdicts,
/// conventions.
pub fn markdown(report: &Report) -> String {
    let mut out = String::from("# bandwise report\n\n");
    for l in header_lines(report) {
        let _ = writeln!(out, "{l}\n");
    }
    out.push_str("## Comparison (sorted by index, low frequencies first at the top)\n\n");
    out.push_str(&md_table(&comparison_rows(report)));
    out.push_str("\n## Per band\n");
    for c in &report.configs {
        let _ = writeln!(
            out,
            "\n### {}: {} ({} seeds, {} diverged)\n",
            c.id,
            c.label,
            c.n_runs - c.n_diverged,
            c.n_diverged
        );
        let thresholds: Vec<f64> = c
            .bands
            .first()
            .map(|b| b.to_threshold.iter().map(|t| t.threshold).collect())
            .unwrap_or_default();
        // With kernel.json in every seed: the kernel's predicted epochs beside the measured.
        let window = c.kernel.as_ref().map(|k| k.window_end);
        let mut rows = vec![{
            let mut h = vec!["band".to_string(), "in index".into()];
            for t in &thresholds {
                h.push(format!("epochs to rel<{t}"));
                if window.is_some() {
                    h.push("predicted".into());
                }
            }
            h.extend([
                "half-life".into(),
                "final rel. error".into(),
                "coverage".into(),
                "decay rate (dec/epoch)".into(),
                "plateau".into(),
            ]);
            h
        }];
        for b in &c.bands {
            let mut r = vec![
                b.label.clone(),
                if b.in_index {
                    "yes".into()
                } else {
                    "no".into()
                },
            ];
            for (i, t) in b.to_threshold.iter().enumerate() {
                r.push(fmt_epochs(&t.epochs));
                if let Some(w) = window {
                    r.push(
                        b.predicted_to_threshold
                            .as_ref()
                            .and_then(|p| p.get(i))
                            .map_or("n/a".into(), |p| fmt_predicted(&p.epochs, w)),
                    );
                }
            }
            r.push(fmt_epochs(&b.half_life));
            r.push(fmt_spread_sci(&b.final_rel_error));
            r.push(f3(b.coverage.median));
            r.push(if b.decay_rate.n > 0 {
                sci(b.decay_rate.mean)
            } else {
                "n/a".into()
            });
            r.push(plateau_cell(b));
            rows.push(r);
        }
        out.push_str(&md_table(&rows));
        if let Some(k) = &c.kernel {
            let _ = writeln!(
                out,
                "\nPredicted from the checkpoint at epoch {} (to epoch {}): {}.",
                k.checkpoint, k.window_end, k.definition
            );
        }
    }
    if !report.verdicts.is_empty() {
        out.push_str("\n## Claim verdicts\n");
        for v in &report.verdicts {
            let _ = writeln!(
                out,
                "\n### {}: {} ({})\n",
                v.claim,
                v.outcome.as_str(),
                v.subject
            );
            let _ = writeln!(out, "- Claim: {}", v.statement);
            let _ = writeln!(out, "- Measured: {}", v.measured);
            let _ = writeln!(out, "- Comparison: {}", v.comparison);
            let _ = writeln!(out, "- Rule: {}", v.rule);
            for e in &v.evidence {
                let _ = writeln!(out, "- {e}");
            }
        }
    }
    out.push_str("\n## Conventions\n\n");
    let c = &report.conventions;
    for (k, v) in [
        ("decay window", c.decay_window.as_str()),
        ("intervals", c.intervals),
        ("epochs to threshold", c.epochs_to_threshold),
        ("half-life", c.half_life),
        ("coverage", c.coverage),
        ("plateau", c.plateau),
        ("baseline", c.baseline),
        ("diverged runs", c.diverged),
    ] {
        let _ = writeln!(out, "- {k}: {v}");
    }
    out
}

fn plateau_cell(b: &super::aggregate::BandSummary) -> String {
    let p = &b.plateau;
    let parts: Vec<String> = [
        ("converged", p.converged),
        ("stalled", p.stalled),
        ("improving", p.improving),
        ("worsening", p.worsening),
        ("undefined", p.undefined),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(k, n)| format!("{k} {n}"))
    .collect();
    parts.join(", ")
}

/// Pretty JSON with a trailing newline (see the module docs for the schema).
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("the report serialises") + "\n"
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Tidy CSV: one value per row.
pub fn csv(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# bandwise report ({}); grid {}; window {}",
        report.schema, report.grid, report.conventions.decay_window
    );
    let _ = writeln!(out, "# {}", report.definition);
    let _ = writeln!(out, "# one value per row; empty value = undefined or never; band empty = configuration-level; threshold empty = not a threshold quantity (for matched_loss_slope: the loss level); config empty = a claim verdict (quantity verdict, statistic = claim, label = subject)");
    out.push_str("config,label,task,n_runs,n_diverged,band,quantity,threshold,statistic,value\n");
    for c in &report.configs {
        let mut row = |band: &str, quantity: &str, threshold: &str, stat: &str, value: String| {
            let cells = [
                c.id.clone(),
                c.label.clone(),
                c.task.clone(),
                c.n_runs.to_string(),
                c.n_diverged.to_string(),
                band.to_string(),
                quantity.to_string(),
                threshold.to_string(),
                stat.to_string(),
                value,
            ];
            let line: Vec<String> = cells.iter().map(|s| csv_cell(s)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        };
        let est = |row: &mut dyn FnMut(&str, &str, &str, &str, String),
                   band: &str,
                   q: &str,
                   e: &Estimate| {
            row(band, q, "", "mean", num(e.mean));
            row(band, q, "", "ci_lo", num(e.ci_lo));
            row(band, q, "", "ci_hi", num(e.ci_hi));
            row(band, q, "", "n", e.n.to_string());
        };
        let spread = |row: &mut dyn FnMut(&str, &str, &str, &str, String),
                      band: &str,
                      q: &str,
                      s: &Spread| {
            row(band, q, "", "median", num(s.median));
            row(band, q, "", "min", num(s.min));
            row(band, q, "", "max", num(s.max));
        };
        let epochs = |row: &mut dyn FnMut(&str, &str, &str, &str, String),
                      band: &str,
                      q: &str,
                      thr: &str,
                      s: &EpochStat| {
            let o = |x: Option<f64>| x.map_or(String::new(), num);
            row(band, q, thr, "n", s.n.to_string());
            row(band, q, thr, "reached", s.reached.to_string());
            row(band, q, thr, "median", o(s.median));
            row(band, q, thr, "median_reached", o(s.median_reached));
            row(band, q, thr, "min", o(s.min.map(|x| x as f64)));
            row(band, q, thr, "max", o(s.max.map(|x| x as f64)));
        };
        est(&mut row, "", "index", &c.index);
        if let Some(d) = &c.index_vs_baseline {
            est(&mut row, "", "index_vs_baseline", d);
        }
        est(&mut row, "", "index_first_half", &c.index_first_half);
        for m in &c.matched_loss {
            let lvl = num(m.level);
            row("", "matched_loss_slope", &lvl, "mean", num(m.slope.mean));
            row("", "matched_loss_slope", &lvl, "ci_lo", num(m.slope.ci_lo));
            row("", "matched_loss_slope", &lvl, "ci_hi", num(m.slope.ci_hi));
            row(
                "",
                "matched_loss_slope",
                &lvl,
                "reached",
                m.reached.to_string(),
            );
        }
        row("", "guards", "", "passed", c.guards.passed.to_string());
        row("", "guards", "", "loss_ratio", num(c.guards.loss_ratio));
        row(
            "",
            "guards",
            "",
            "lr_at_edge",
            c.guards.lr_at_edge.clone().unwrap_or_default(),
        );
        row(
            "",
            "guards",
            "",
            "diverged_share",
            num(c.guards.diverged_share),
        );
        est(&mut row, "", "time_spearman", &c.time_spearman);
        est(&mut row, "", "coverage", &c.coverage);
        spread(&mut row, "", "final_test_loss", &c.final_test_loss);
        for b in &c.bands {
            for t in &b.to_threshold {
                epochs(
                    &mut row,
                    &b.label,
                    "epochs_to_threshold",
                    &num(t.threshold),
                    &t.epochs,
                );
            }
            for t in b.predicted_to_threshold.iter().flatten() {
                epochs(
                    &mut row,
                    &b.label,
                    "predicted_epochs_to_threshold",
                    &num(t.threshold),
                    &t.epochs,
                );
            }
            epochs(&mut row, &b.label, "half_life", "", &b.half_life);
            spread(&mut row, &b.label, "final_rel_error", &b.final_rel_error);
            spread(&mut row, &b.label, "coverage", &b.coverage);
            est(&mut row, &b.label, "decay_rate", &b.decay_rate);
            row(
                &b.label,
                "plateau",
                "",
                "converged",
                b.plateau.converged.to_string(),
            );
            row(
                &b.label,
                "plateau",
                "",
                "stalled",
                b.plateau.stalled.to_string(),
            );
            row(
                &b.label,
                "plateau",
                "",
                "improving",
                b.plateau.improving.to_string(),
            );
            row(
                &b.label,
                "plateau",
                "",
                "worsening",
                b.plateau.worsening.to_string(),
            );
        }
    }
    // Verdicts: config empty, label = the verdict's subject, statistic = the claim.
    for v in &report.verdicts {
        let cells = [
            String::new(),
            v.subject.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "verdict".into(),
            String::new(),
            v.claim.to_string(),
            v.outcome.as_str().to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|s| csv_cell(s)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// Left-aligned text columns separated by two spaces.
pub fn align(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (k, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
        if k == 0 {
            let _ = writeln!(
                out,
                "{}",
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("  ")
            );
        }
    }
    out
}

/// The terminal view: header, aligned comparison table, one line per verdict.
pub fn terminal(report: &Report) -> String {
    let mut out = String::new();
    let h = header_lines(report);
    let _ = writeln!(out, "{}\n", h[0]);
    out.push_str(&align(&comparison_rows(report)));
    let _ = writeln!(out, "\n{}", h[2]);
    let _ = writeln!(out, "index > 0: low frequencies learned first; < 0: high first. Definition, per-band tables and verdict rules: --format md.");
    for v in &report.verdicts {
        let _ = writeln!(
            out,
            "{} {}: {}",
            v.claim,
            v.outcome.as_str().to_uppercase(),
            v.subject
        );
    }
    out
}
