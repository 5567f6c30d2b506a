//! Reports over run directories: per-band convergence tables, the frequency-preference index,
//! aggregation over seeds and configurations, claim verdicts, and their renderings.
//!
//! Pipeline: [`load_runs`] (run dirs or directories holding runs) -> [`metrics::run_metrics`]
//! per run -> [`aggregate::aggregate`] (group by configuration, baselines) ->
//! [`verdict::judge`] -> [`render`]. Classification runs take [`class_summary::section`]
//! (which judges C4, C5 and C6 with [`classification::judge`]) instead. [`build`] does all of it; [`claim_verdicts`] is the entry
//! point for other commands (e.g. `bandwise figures`) that need only the verdicts.
//! [`kernel`]: the preconditioned-kernel theory overlay (`bandwise kernel`).

pub mod aggregate;
pub mod claims;
pub mod class_summary;
pub mod classification;
pub mod grouping;
pub mod guards;
pub mod index;
pub mod kernel;
pub mod matched;
pub mod metrics;
pub mod multiple;
pub mod over_seeds;
pub mod render;
pub mod seed_mean;
pub mod verdict;

pub use aggregate::{Report, SCHEMA};
pub use index::INDEX_DEFINITION;
pub use metrics::ReportOptions;
pub use render::Format;
pub use verdict::{Claim, Outcome, Verdict};

use crate::record::find_runs;
use crate::record::load::RunData;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Load every run at or below each of `dirs` (each may be a run directory or hold runs);
/// a directory without any run record is an error naming it. Below a sweep directory (one
/// with sweep.json) only its evaluation runs are read unless `include_lr_search`: runs under
/// an `lr_search/` directory of a sweep are skipped.
pub fn load_runs(dirs: &[PathBuf], include_lr_search: bool) -> Result<Vec<RunData>> {
    if dirs.is_empty() {
        bail!("no directories given: pass run directories or directories that contain runs");
    }
    let mut runs = Vec::new();
    for d in dirs {
        let found = find_runs(d)?;
        if found.is_empty() {
            bail!(
                "{} holds no run records (no run.json at or below it); pass a directory written by `bandwise run` or `bandwise sweep`",
                d.display()
            );
        }
        for r in found {
            if runs.iter().any(|x: &RunData| x.dir == r) {
                continue;
            }
            if !include_lr_search && is_lr_search_run(&r) {
                continue;
            }
            runs.push(
                RunData::load(&r).with_context(|| format!("cannot load run {}", r.display()))?,
            );
        }
    }
    Ok(runs)
}

/// True for a run below `<sweep dir>/lr_search/` (a sweep's lr-search run).
pub fn is_lr_search_run(run: &std::path::Path) -> bool {
    run.ancestors().skip(1).any(|a| {
        a.file_name().is_some_and(|n| n == "lr_search")
            && a.parent()
                .is_some_and(|s| s.join(crate::record::sweep_index::SWEEP_JSON).is_file())
    })
}

/// A report from loaded runs. Regression runs (band records) give the configuration tables
/// and the C2, C3 and C6 verdicts; classification runs (epochs.csv with `test_accuracy`) give
/// the classification section ([`class_summary`]) and the C4, C5 and C6 verdicts; a call with
/// both kinds gives both. `claims` empty: every claim whose rule applies to these runs
/// (verdicts "not evaluated" are dropped); otherwise exactly the listed claims, and a claim
/// that applies to neither kind of run read gets a "not evaluated" verdict saying why.
pub fn report_from_runs(
    runs: &[RunData],
    opts: &ReportOptions,
    claims: &[Claim],
) -> Result<Report> {
    if !(opts.window_fraction > 0.0 && opts.window_fraction <= 1.0) {
        bail!(
            "the decay window must be a fraction of the budget in (0, 1], got {}",
            opts.window_fraction
        );
    }
    let (class_runs, regression_runs): (Vec<&RunData>, Vec<&RunData>) =
        runs.iter().partition(|r| r.is_classification());
    let metrics = regression_runs
        .iter()
        .map(|r| metrics::run_metrics(r, opts))
        .collect::<Result<Vec<_>>>()?;
    let mut report = aggregate::aggregate(metrics, opts);
    if !class_runs.is_empty() {
        let section = class_summary::section(&class_runs, opts, report.tasks().len() + 1)?;
        report.n_runs += section.n_runs;
        report.n_diverged += section.n_diverged;
        report.classification = Some(section);
    }
    let (list, keep_all) = if claims.is_empty() {
        (Claim::ALL.to_vec(), false)
    } else {
        (claims.to_vec(), true)
    };
    for c in list {
        let mut verdicts = Vec::new();
        if c.on_regression() && !regression_runs.is_empty() {
            verdicts.extend(verdict::judge(&report, c));
        }
        if let Some(section) = report
            .classification
            .as_ref()
            .filter(|_| c.on_classification())
        {
            verdicts.extend(
                section
                    .verdicts
                    .iter()
                    .filter(|v| v.claim == c.name())
                    .cloned(),
            );
        }
        if verdicts.is_empty() {
            let why = if c.on_regression() {
                format!("{} is judged on regression runs (band records of a fitted signal); these are classification runs, whose claims are C4, C5 and C6", c.name())
            } else {
                format!("{} is a classification claim (test accuracy of runs with a cross-entropy objective); these are regression runs, whose claims are C2, C3 and C6", c.name())
            };
            let rule = if c.on_regression() {
                verdict::rule(c)
            } else {
                classification::rule(c)
            };
            verdicts.push(claims::not_evaluated(c, rule, &why));
        }
        report.verdicts.extend(
            verdicts
                .into_iter()
                .filter(|v| keep_all || v.outcome != Outcome::NotEvaluated),
        );
    }
    Ok(report)
}

/// [`load_runs`] + [`report_from_runs`].
pub fn build(dirs: &[PathBuf], opts: &ReportOptions, claims: &[Claim]) -> Result<Report> {
    report_from_runs(&load_runs(dirs, opts.include_lr_search)?, opts, claims)
}

/// The verdicts of one claim over the runs at or below `dirs` (for `bandwise figures`).
pub fn claim_verdicts(
    dirs: &[PathBuf],
    claim: Claim,
    opts: &ReportOptions,
) -> Result<Vec<Verdict>> {
    Ok(build(dirs, opts, &[claim])?.verdicts)
}

#[cfg(test)]
mod tests;
