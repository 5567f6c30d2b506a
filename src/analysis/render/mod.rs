//! Renderings of a [`Report`]: Markdown (paper-ready), JSON (schema `bandwise-report/1`), tidy
//! CSV, and an aligned terminal table; the classification section's parts are in
//! [`class`], which uses the cell and table helpers of this module.
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
//! - `classification` (only when classification runs were read; `configs` then holds the
//!   regression configurations only, `n_runs` and `n_diverged` count both kinds):
//!   {`definitions` (object of strings), `loss_levels`, `decisive_level`, `agreement_levels`,
//!   `n_runs`, `n_diverged`, `configs`}, each config: `id`, `label`, `task`, `optimizer`,
//!   `fixed_p`, `cyclic`, `classes`, `n_runs`, `n_diverged`, `seeds`, `diverged_seeds`,
//!   `final_train_loss`, `final_test_loss`, `final_train_accuracy`, `final_test_accuracy`
//!   (Spread), `final_test_error` (Estimate), `per_class` ({`class`, `count`,
//!   `test_accuracy` Spread}), `accuracy_at_loss` ({`level`, `accuracy` Estimate, `reached`,
//!   `n`, `loss_fraction` Spread}), `agreement` ({`level`, then as `half_life`}), `guards`
//!   ({`passed`, `reasons`}), `lr_search`, `bands` (as above; grid tasks), `filtering`
//!   ({`part` "low"|"high", `level`, `delta`, `factor`, then the band convergence fields from
//!   `to_threshold` to `plateau_change`}; data tasks), `runs`, `config`;
//! - `verdicts`: array of {`claim`, `statement`, `subject`, `measured`, `comparison`, `rule`,
//!   `evidence` (strings), `outcome` ("supported"|"not_supported"|"inconclusive"|
//!   "not_evaluated"|"invalid_setting"|"window_sensitive"), `data`}.

mod class;

use super::aggregate::{ConfigSummary, Conventions, Report};
use super::over_seeds::{Convergence, EpochStat, Estimate, PlateauCounts, Spread, ThresholdStat};
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

pub(super) fn f3(x: f64) -> String {
    if x.is_finite() {
        format!("{x:+.3}")
    } else {
        "n/a".into()
    }
}

pub(super) fn sci(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2e}")
    } else {
        "n/a".into()
    }
}

/// "+0.412 [+0.301, +0.523]", or without the interval when it is undefined.
pub fn fmt_estimate(e: &Estimate) -> String {
    estimate_cell(e, f3)
}

/// A mean and its 95% interval with `num` for each number: "m [lo, hi]", "m [n<2]", "n/a".
pub(super) fn estimate_cell(e: &Estimate, num: fn(f64) -> String) -> String {
    if e.has_ci() {
        format!("{} [{}, {}]", num(e.mean), num(e.ci_lo), num(e.ci_hi))
    } else if e.n > 0 {
        format!("{} [n<2]", num(e.mean))
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

pub(super) fn fmt_spread_sci(s: &Spread) -> String {
    spread_cell(s, sci)
}

/// A median and its range with `num` for each number: "m [min-max]", or the median alone.
pub(super) fn spread_cell(s: &Spread, num: fn(f64) -> String) -> String {
    if s.n > 1 && s.min != s.max {
        format!("{} [{}-{}]", num(s.median), num(s.min), num(s.max))
    } else {
        num(s.median)
    }
}

/// "3 of 5 (2)": completed seeds of all seeds (diverged).
pub(super) fn seeds_cell(n_runs: usize, n_diverged: usize) -> String {
    format!("{} of {} ({})", n_runs - n_diverged, n_runs, n_diverged)
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

/// "pass", or "FAIL: " and the reasons.
pub(super) fn guards_cell(passed: bool, reasons: &[String]) -> String {
    if passed {
        "pass".into()
    } else {
        format!("FAIL: {}", reasons.join("; "))
    }
}

fn threshold_header(report: &Report) -> (f64, String) {
    let first = report.configs.iter().find(|c| !c.bands.is_empty());
    let thr = first
        .and_then(|c| c.bands[0].convergence.to_threshold.first())
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
            b.convergence
                .to_threshold
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
            seeds_cell(c.n_runs, c.n_diverged),
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
            guards_cell(c.guards.passed, &c.guards.reasons),
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

pub(super) fn md_table(rows: &[Vec<String>]) -> String {
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

/// The header of a convergence table: `first` columns, then epochs to each threshold (each
/// followed by the kernel's prediction when `predicted`), half-life, final relative error,
/// coverage, decay rate and plateau.
pub(super) fn convergence_header(
    first: &[&str],
    thresholds: &[f64],
    predicted: bool,
) -> Vec<String> {
    let mut h: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    for t in thresholds {
        h.push(format!("epochs to rel<{t}"));
        if predicted {
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
}

/// The cells of one row of a convergence table (after its first columns); `predicted`: the
/// kernel's epochs to each threshold and the last predicted epoch.
pub(super) fn convergence_cells(
    c: &Convergence,
    predicted: Option<(Option<&Vec<ThresholdStat>>, u64)>,
) -> Vec<String> {
    let mut r = Vec::new();
    for (i, t) in c.to_threshold.iter().enumerate() {
        r.push(fmt_epochs(&t.epochs));
        if let Some((p, w)) = predicted {
            r.push(
                p.and_then(|p| p.get(i))
                    .map_or("n/a".into(), |p| fmt_predicted(&p.epochs, w)),
            );
        }
    }
    r.push(fmt_epochs(&c.half_life));
    r.push(fmt_spread_sci(&c.final_rel_error));
    r.push(f3(c.coverage.median));
    r.push(if c.decay_rate.n > 0 {
        sci(c.decay_rate.mean)
    } else {
        "n/a".into()
    });
    r.push(plateau_cell(&c.plateau));
    r
}

/// The thresholds of a list of convergences (from the first).
pub(super) fn thresholds_of<'a>(mut c: impl Iterator<Item = &'a Convergence>) -> Vec<f64> {
    c.next()
        .map(|c| c.to_threshold.iter().map(|t| t.threshold).collect())
        .unwrap_or_default()
}

/// One verdict in Markdown (fields left empty are not printed).
fn verdict_md(out: &mut String, v: &super::claims::Verdict) {
    let _ = writeln!(
        out,
        "\n### {}: {} ({})\n",
        v.claim,
        v.outcome.as_str(),
        v.subject
    );
    let _ = writeln!(out, "- Claim: {}", v.statement);
    for (k, x) in [
        ("Measured", v.measured.as_str()),
        ("Comparison", v.comparison.as_str()),
        ("Rule", v.rule),
    ] {
        if !x.is_empty() && x != "-" {
            let _ = writeln!(out, "- {k}: {x}");
        }
    }
    for e in &v.evidence {
        let _ = writeln!(out, "- {e}");
    }
}

/// Markdown: header with the definition, comparison table, per-band tables, the
/// classification section (when classification runs were read), verdicts, conventions.
pub fn markdown(report: &Report) -> String {
    let mut out = String::from("# bandwise report\n\n");
    if !report.configs.is_empty() {
        for l in header_lines(report) {
            let _ = writeln!(out, "{l}\n");
        }
        out.push_str("## Comparison (sorted by index, low frequencies first at the top)\n\n");
        out.push_str(&md_table(&comparison_rows(report)));
        out.push_str("\n## Per band\n");
    }
    for c in &report.configs {
        let _ = writeln!(
            out,
            "\n### {}: {} ({} seeds, {} diverged)\n",
            c.id,
            c.label,
            c.n_runs - c.n_diverged,
            c.n_diverged
        );
        let thresholds = thresholds_of(c.bands.iter().map(|b| &b.convergence));
        // With kernel.json in every seed: the kernel's predicted epochs beside the measured.
        let window = c.kernel.as_ref().map(|k| k.window_end);
        let mut rows = vec![convergence_header(
            &["band", "in index"],
            &thresholds,
            window.is_some(),
        )];
        for b in &c.bands {
            let mut r = vec![
                b.label.clone(),
                if b.in_index {
                    "yes".into()
                } else {
                    "no".into()
                },
            ];
            r.extend(convergence_cells(
                &b.convergence,
                window.map(|w| (b.predicted_to_threshold.as_ref(), w)),
            ));
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
    if let Some(sec) = &report.classification {
        if !report.configs.is_empty() {
            out.push('\n');
        }
        out.push_str(&class::markdown(sec));
    }
    if !report.verdicts.is_empty() {
        out.push_str("\n## Claim verdicts\n");
        for v in &report.verdicts {
            verdict_md(&mut out, v);
        }
    }
    if !report.configs.is_empty() {
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
    }
    if let Some(sec) = &report.classification {
        out.push_str(&class::conventions_md(sec, &report.conventions));
    }
    out
}

fn plateau_cell(p: &PlateauCounts) -> String {
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

pub(super) fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The rows of one configuration in the tidy CSV: `config, label, task, n_runs, n_diverged`
/// fixed, then `band, quantity, threshold, statistic, value` per row.
pub(super) struct CsvRows<'a> {
    pub out: &'a mut String,
    pub head: [String; 5],
}

impl CsvRows<'_> {
    pub fn row(&mut self, band: &str, quantity: &str, threshold: &str, stat: &str, value: String) {
        let cells = self.head.iter().map(String::as_str).chain([
            band,
            quantity,
            threshold,
            stat,
            value.as_str(),
        ]);
        let line: Vec<String> = cells.map(csv_cell).collect();
        self.out.push_str(&line.join(","));
        self.out.push('\n');
    }

    pub fn estimate(&mut self, band: &str, q: &str, thr: &str, e: &Estimate) {
        self.row(band, q, thr, "mean", num(e.mean));
        self.row(band, q, thr, "ci_lo", num(e.ci_lo));
        self.row(band, q, thr, "ci_hi", num(e.ci_hi));
        self.row(band, q, thr, "n", e.n.to_string());
    }

    pub fn spread(&mut self, band: &str, q: &str, s: &Spread) {
        self.row(band, q, "", "median", num(s.median));
        self.row(band, q, "", "min", num(s.min));
        self.row(band, q, "", "max", num(s.max));
    }

    pub fn epochs(&mut self, band: &str, q: &str, thr: &str, s: &EpochStat) {
        let o = |x: Option<f64>| x.map_or(String::new(), num);
        self.row(band, q, thr, "n", s.n.to_string());
        self.row(band, q, thr, "reached", s.reached.to_string());
        self.row(band, q, thr, "median", o(s.median));
        self.row(band, q, thr, "median_reached", o(s.median_reached));
        self.row(band, q, thr, "min", o(s.min.map(|x| x as f64)));
        self.row(band, q, thr, "max", o(s.max.map(|x| x as f64)));
    }

    /// The convergence rows of one band (or filtering level) labelled `band`, with the
    /// kernel's predicted epochs to each threshold when given.
    pub fn convergence(
        &mut self,
        band: &str,
        c: &Convergence,
        predicted: Option<&Vec<ThresholdStat>>,
    ) {
        for t in &c.to_threshold {
            self.epochs(band, "epochs_to_threshold", &num(t.threshold), &t.epochs);
        }
        for t in predicted.into_iter().flatten() {
            self.epochs(
                band,
                "predicted_epochs_to_threshold",
                &num(t.threshold),
                &t.epochs,
            );
        }
        self.epochs(band, "half_life", "", &c.half_life);
        self.spread(band, "final_rel_error", &c.final_rel_error);
        self.spread(band, "coverage", &c.coverage);
        self.estimate(band, "decay_rate", "", &c.decay_rate);
        let p = &c.plateau;
        for (k, n) in [
            ("converged", p.converged),
            ("stalled", p.stalled),
            ("improving", p.improving),
            ("worsening", p.worsening),
        ] {
            self.row(band, "plateau", "", k, n.to_string());
        }
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
    if let Some(sec) = &report.classification {
        let _ = writeln!(out, "{}", class::csv_comment(sec));
    }
    out.push_str("config,label,task,n_runs,n_diverged,band,quantity,threshold,statistic,value\n");
    for c in &report.configs {
        let mut w = CsvRows {
            out: &mut out,
            head: [
                c.id.clone(),
                c.label.clone(),
                c.task.clone(),
                c.n_runs.to_string(),
                c.n_diverged.to_string(),
            ],
        };
        w.estimate("", "index", "", &c.index);
        if let Some(d) = &c.index_vs_baseline {
            w.estimate("", "index_vs_baseline", "", d);
        }
        w.estimate("", "index_first_half", "", &c.index_first_half);
        for m in &c.matched_loss {
            let lvl = num(m.level);
            w.row("", "matched_loss_slope", &lvl, "mean", num(m.slope.mean));
            w.row("", "matched_loss_slope", &lvl, "ci_lo", num(m.slope.ci_lo));
            w.row("", "matched_loss_slope", &lvl, "ci_hi", num(m.slope.ci_hi));
            w.row(
                "",
                "matched_loss_slope",
                &lvl,
                "reached",
                m.reached.to_string(),
            );
        }
        w.row("", "guards", "", "passed", c.guards.passed.to_string());
        w.row("", "guards", "", "loss_ratio", num(c.guards.loss_ratio));
        w.row(
            "",
            "guards",
            "",
            "lr_at_edge",
            c.guards.lr_at_edge.clone().unwrap_or_default(),
        );
        w.row(
            "",
            "guards",
            "",
            "diverged_share",
            num(c.guards.diverged_share),
        );
        w.estimate("", "time_spearman", "", &c.time_spearman);
        w.estimate("", "coverage", "", &c.coverage);
        w.spread("", "final_test_loss", &c.final_test_loss);
        for b in &c.bands {
            w.convergence(&b.label, &b.convergence, b.predicted_to_threshold.as_ref());
        }
    }
    if let Some(sec) = &report.classification {
        class::csv_rows(sec, &mut out);
    }
    // Verdicts: config empty, label = the verdict's subject, statistic = the claim.
    for v in &report.verdicts {
        let mut w = CsvRows {
            out: &mut out,
            head: [
                String::new(),
                v.subject.clone(),
                String::new(),
                String::new(),
                String::new(),
            ],
        };
        w.row("", "verdict", "", v.claim, v.outcome.as_str().to_string());
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
    if !report.configs.is_empty() {
        let h = header_lines(report);
        let _ = writeln!(out, "{}\n", h[0]);
        out.push_str(&align(&comparison_rows(report)));
        let _ = writeln!(out, "\n{}", h[2]);
        let _ = writeln!(out, "index > 0: low frequencies learned first; < 0: high first. Definition, per-band tables and verdict rules: --format md.");
    }
    if let Some(sec) = &report.classification {
        out.push_str(&class::terminal(sec));
    }
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
