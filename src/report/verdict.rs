//! Claim verdicts: for each of the NSF paper's claims that the records can speak to, the
//! measured quantity, the comparison, the spread over seeds, the rule written out, and the
//! outcome (supported / not supported / inconclusive). The rules never claim more than the
//! intervals allow: an undefined or overlapping interval makes the verdict inconclusive.
//!
//! - C2 ([`C2_RULE`]): index per fixed p (padam with constant p), per task.
//! - C3 ([`C3_RULE`]): coverage score of each cyclic-p configuration against fixed p = 0 and
//!   p = 0.5 on the same task.
//! - C6 ([`C6_RULE`]): epochs for each cyclic-p configuration to reach the baseline's final
//!   test loss, as a fraction of the baseline's budget.

use super::aggregate::{median, ConfigSummary, Estimate, Report};
use super::index::spearman;
use super::metrics::RunMetrics;
use anyhow::{bail, Result};
use serde::Serialize;

/// A claim the report can judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    C2,
    C3,
    C6,
}

impl Claim {
    pub const ALL: [Claim; 3] = [Claim::C2, Claim::C3, Claim::C6];

    /// Parse "c2", "C3", "c6".
    pub fn parse(s: &str) -> Result<Claim> {
        match s.to_ascii_lowercase().as_str() {
            "c2" => Ok(Claim::C2),
            "c3" => Ok(Claim::C3),
            "c6" => Ok(Claim::C6),
            _ => bail!("unknown claim `{s}`: the report judges c2, c3 and c6"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Claim::C2 => "C2",
            Claim::C3 => "C3",
            Claim::C6 => "C6",
        }
    }

    pub fn statement(self) -> &'static str {
        match self {
            Claim::C2 => "adaptive methods (p > 0) emphasise low frequencies, SGD (p = 0) is near-neutral, and negative p amplifies high frequencies",
            Claim::C3 => "cyclic p broadens spectral coverage (and improves cross-band fusion)",
            Claim::C6 => "cyclic p matches the baseline's result at a quarter of the training cost",
        }
    }
}

/// Rule of C2.
pub const C2_RULE: &str = "Over the fixed-p configurations of one task (>= 3 distinct p): supported if the Spearman rank correlation between p and the mean index is >= 0.8 AND the 95% interval of the index at the largest p lies entirely above that at the smallest p; not supported if the interval at the smallest p lies entirely above that at the largest p (the opposite order, no overlap); inconclusive otherwise (including overlapping or undefined intervals, < 2 seeds at an extreme, or < 3 distinct p). The p = 0 index and whether its interval contains 0 are reported but do not enter the verdict.";
/// Rule of C3.
pub const C3_RULE: &str = "Coverage score (mean log10 relative band error over the budget, lower = covered earlier) of the cyclic configuration minus that of fixed p = 0 and of fixed p = 0.5 on the same task, each with a Welch 95% interval: supported if both intervals lie entirely below 0; not supported if either lies entirely above 0; inconclusive otherwise. Cross-band fusion is not measured by this rule.";
/// Rule of C6.
pub const C6_RULE: &str = "L* = median final test loss of the baseline (same task; sgd, else padam p = 0) over its completed seeds; B = the baseline's budget. Per completed seed of the cyclic configuration, f = (first epoch with test_loss <= L*) / B. Supported if every seed reaches L* and the upper end of the 95% interval of mean f is <= 0.25; not supported if the lower end is > 0.25, or if more than half of the seeds never reach L* within a budget >= 0.25 B; inconclusive otherwise.";

/// The verdict of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Supported,
    NotSupported,
    Inconclusive,
    /// The records hold no configurations the claim's rule applies to.
    NotEvaluated,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Supported => "supported",
            Outcome::NotSupported => "not supported",
            Outcome::Inconclusive => "inconclusive",
            Outcome::NotEvaluated => "not evaluated",
        }
    }
}

/// One verdict with everything needed to check it by hand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub claim: &'static str,
    pub statement: &'static str,
    /// The configurations or task it concerns.
    pub subject: String,
    pub measured: String,
    pub comparison: String,
    pub rule: &'static str,
    /// Numbers with their spread over seeds.
    pub evidence: Vec<String>,
    pub outcome: Outcome,
}

fn ci(e: &Estimate) -> String {
    if e.has_ci() {
        format!(
            "{:+.3} [{:+.3}, {:+.3}] (n={})",
            e.mean, e.ci_lo, e.ci_hi, e.n
        )
    } else if e.n > 0 {
        format!("{:+.3} [no interval] (n={})", e.mean, e.n)
    } else {
        "undefined (n=0)".into()
    }
}

/// The C2 rule on (p, index) points. Returns the outcome and the Spearman correlation.
pub fn c2_rule(points: &[(f64, Estimate)]) -> (Outcome, f64) {
    let pts: Vec<&(f64, Estimate)> = points.iter().filter(|(_, e)| e.mean.is_finite()).collect();
    let mut ps: Vec<f64> = pts.iter().map(|(p, _)| *p).collect();
    ps.sort_by(f64::total_cmp);
    ps.dedup();
    let rho = spearman(
        &pts.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        &pts.iter().map(|(_, e)| e.mean).collect::<Vec<_>>(),
    );
    if ps.len() < 3 {
        return (Outcome::Inconclusive, rho);
    }
    let lo = pts
        .iter()
        .find(|(p, _)| *p == ps[0])
        .map(|(_, e)| *e)
        .unwrap_or(Estimate::NONE);
    let hi = pts
        .iter()
        .find(|(p, _)| *p == ps[ps.len() - 1])
        .map(|(_, e)| *e)
        .unwrap_or(Estimate::NONE);
    let outcome = if rho >= 0.8 && hi.ci_lo > lo.ci_hi {
        Outcome::Supported
    } else if lo.ci_lo > hi.ci_hi {
        Outcome::NotSupported
    } else {
        Outcome::Inconclusive
    };
    (outcome, rho)
}

/// The C3 rule on the differences cyclic - p0 and cyclic - p0.5 of the coverage score.
pub fn c3_rule(vs_p0: &Estimate, vs_p05: &Estimate) -> Outcome {
    if vs_p0.ci_lo > 0.0 || vs_p05.ci_lo > 0.0 {
        Outcome::NotSupported
    } else if vs_p0.ci_hi < 0.0 && vs_p05.ci_hi < 0.0 {
        Outcome::Supported
    } else {
        Outcome::Inconclusive
    }
}

/// The C6 rule on per-seed fractions of the baseline budget (`None` = never reached) given
/// the cyclic budget as a fraction of the baseline's. Returns the outcome and the estimate
/// over the seeds that reached.
pub fn c6_rule(fractions: &[Option<f64>], budget_ratio: f64) -> (Outcome, Estimate) {
    let reached: Vec<f64> = fractions.iter().flatten().copied().collect();
    let e = Estimate::of(&reached);
    let never = fractions.len() - reached.len();
    let outcome = if fractions.is_empty() {
        Outcome::Inconclusive
    } else if 2 * never > fractions.len() && budget_ratio >= 0.25 {
        Outcome::NotSupported
    } else if never > 0 {
        Outcome::Inconclusive
    } else if e.ci_hi <= 0.25 {
        Outcome::Supported
    } else if e.ci_lo > 0.25 {
        Outcome::NotSupported
    } else {
        Outcome::Inconclusive
    };
    (outcome, e)
}

fn runs_of<'a>(report: &'a Report, c: &ConfigSummary) -> Vec<&'a RunMetrics> {
    report
        .runs
        .iter()
        .filter(|r| r.config_key == c.key && !r.diverged)
        .collect()
}

fn not_evaluated(claim: Claim, rule: &'static str, why: &str) -> Verdict {
    Verdict {
        claim: claim.name(),
        statement: claim.statement(),
        subject: "-".into(),
        measured: "-".into(),
        comparison: "-".into(),
        rule,
        evidence: vec![why.to_string()],
        outcome: Outcome::NotEvaluated,
    }
}

fn tasks(report: &Report) -> Vec<String> {
    let mut t: Vec<String> = Vec::new();
    for c in &report.configs {
        if !t.contains(&c.task) {
            t.push(c.task.clone());
        }
    }
    t
}

fn c2(report: &Report) -> Vec<Verdict> {
    let mut out = Vec::new();
    for task in tasks(report) {
        let mut fixed: Vec<&ConfigSummary> = report
            .configs
            .iter()
            .filter(|c| c.task == task && c.fixed_p.is_some())
            .collect();
        if fixed.len() < 2 {
            continue;
        }
        fixed.sort_by(|a, b| {
            a.fixed_p
                .unwrap_or(0.0)
                .total_cmp(&b.fixed_p.unwrap_or(0.0))
        });
        let points: Vec<(f64, Estimate)> = fixed
            .iter()
            .map(|c| (c.fixed_p.unwrap_or(f64::NAN), c.index))
            .collect();
        let (outcome, rho) = c2_rule(&points);
        let mut evidence: Vec<String> = fixed
            .iter()
            .map(|c| {
                format!(
                    "p = {}: index {} ({}; {} diverged)",
                    c.fixed_p.unwrap_or(f64::NAN),
                    ci(&c.index),
                    c.label,
                    c.n_diverged
                )
            })
            .collect();
        evidence.push(format!(
            "Spearman(p, mean index) = {rho:.3} over {} configurations",
            points.len()
        ));
        if let Some(z) = fixed.iter().find(|c| c.fixed_p == Some(0.0)) {
            let neutral = z.index.has_ci() && z.index.ci_lo <= 0.0 && z.index.ci_hi >= 0.0;
            evidence.push(format!("p = 0 (SGD-like): interval {} 0 (near-neutral part of the claim, not in the verdict)", if neutral { "contains" } else { "excludes" }));
        }
        out.push(Verdict {
            claim: "C2",
            statement: Claim::C2.statement(),
            subject: format!(
                "task {task}: {}",
                fixed
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            measured: "frequency-preference index per fixed p (mean, 95% t-interval over seeds)"
                .into(),
            comparison: "index ordered by p; largest vs smallest p".into(),
            rule: C2_RULE,
            evidence,
            outcome,
        });
    }
    if out.is_empty() {
        out.push(not_evaluated(
            Claim::C2,
            C2_RULE,
            "no task has two or more fixed-p (padam, constant p) configurations",
        ));
    }
    out
}

fn fixed_at<'a>(report: &'a Report, task: &str, p: f64) -> Option<&'a ConfigSummary> {
    report
        .configs
        .iter()
        .filter(|c| c.task == task && c.fixed_p == Some(p))
        .max_by_key(|c| c.seeds.len())
}

fn c3(report: &Report) -> Vec<Verdict> {
    let mut out = Vec::new();
    for c in report.configs.iter().filter(|c| c.cyclic) {
        let (Some(p0), Some(p05)) = (
            fixed_at(report, &c.task, 0.0),
            fixed_at(report, &c.task, 0.5),
        ) else {
            continue;
        };
        let cov = |x: &ConfigSummary| {
            runs_of(report, x)
                .iter()
                .map(|r| r.coverage)
                .collect::<Vec<f64>>()
        };
        let (d0, d05) = (
            Estimate::welch_diff(&cov(c), &cov(p0)),
            Estimate::welch_diff(&cov(c), &cov(p05)),
        );
        out.push(Verdict {
            claim: "C3",
            statement: Claim::C3.statement(),
            subject: format!("{} ({}) vs {} and {}", c.id, c.label, p0.id, p05.id),
            measured: "coverage score (mean log10 relative band error over the budget, index bands; lower = covered earlier)".into(),
            comparison: "cyclic minus fixed p = 0, cyclic minus fixed p = 0.5 (Welch 95% intervals)".into(),
            rule: C3_RULE,
            evidence: vec![
                format!("cyclic {}: {}", c.label, ci(&c.coverage)),
                format!("p = 0 {}: {}", p0.label, ci(&p0.coverage)),
                format!("p = 0.5 {}: {}", p05.label, ci(&p05.coverage)),
                format!("cyclic - p0: {}", ci(&d0)),
                format!("cyclic - p0.5: {}", ci(&d05)),
            ],
            outcome: c3_rule(&d0, &d05),
        });
    }
    if out.is_empty() {
        out.push(not_evaluated(
            Claim::C3,
            C3_RULE,
            "no cyclic-p configuration shares a task with both fixed p = 0 and fixed p = 0.5",
        ));
    }
    out
}

fn c6(report: &Report) -> Vec<Verdict> {
    let mut out = Vec::new();
    for c in report.configs.iter().filter(|c| c.cyclic) {
        let Some(base) = super::aggregate::baseline_of(&report.configs, &c.task_key) else {
            continue;
        };
        let base_runs = runs_of(report, base);
        if base_runs.is_empty() {
            continue;
        }
        let target = median(
            &base_runs
                .iter()
                .map(|r| r.final_test_loss)
                .collect::<Vec<_>>(),
        );
        let budget = base_runs[0].budget.max(1) as f64;
        let runs = runs_of(report, c);
        let fractions: Vec<Option<f64>> = runs
            .iter()
            .map(|r| {
                r.epochs
                    .iter()
                    .zip(&r.test_loss)
                    .find(|(_, &l)| l <= target)
                    .map(|(&e, _)| e as f64 / budget)
            })
            .collect();
        let ratio = runs.first().map_or(0.0, |r| r.budget as f64 / budget);
        let (outcome, e) = c6_rule(&fractions, ratio);
        let reached = fractions.iter().flatten().count();
        out.push(Verdict {
            claim: "C6",
            statement: Claim::C6.statement(),
            subject: format!("{} ({}) vs baseline {} ({})", c.id, c.label, base.id, base.label),
            measured: "epochs for the cyclic configuration to reach the baseline's final test loss, as a fraction of the baseline's budget".into(),
            comparison: "fraction vs 0.25".into(),
            rule: C6_RULE,
            evidence: vec![
                format!("L* = {target:.4e} (median final test loss of the baseline over {} seeds), B = {budget} epochs", base_runs.len()),
                format!("reached L* in {reached}/{} seeds; fraction of B over those: {}", fractions.len(), ci(&e)),
            ],
            outcome,
        });
    }
    if out.is_empty() {
        out.push(not_evaluated(
            Claim::C6,
            C6_RULE,
            "no cyclic-p configuration shares a task with a baseline (sgd or padam p = 0)",
        ));
    }
    out
}

/// The verdicts of `claim` on a report.
pub fn judge(report: &Report, claim: Claim) -> Vec<Verdict> {
    match claim {
        Claim::C2 => c2(report),
        Claim::C3 => c3(report),
        Claim::C6 => c6(report),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, half: f64) -> Estimate {
        Estimate {
            mean,
            ci_lo: mean - half,
            ci_hi: mean + half,
            sd: half,
            n: 3,
        }
    }

    #[test]
    fn c2_rules() {
        let up = [
            (-0.5, est(-0.5, 0.1)),
            (0.0, est(0.0, 0.1)),
            (0.5, est(0.5, 0.1)),
        ];
        assert_eq!(c2_rule(&up), (Outcome::Supported, 1.0));
        let down = [
            (-0.5, est(0.5, 0.1)),
            (0.0, est(0.0, 0.1)),
            (0.5, est(-0.5, 0.1)),
        ];
        assert_eq!(c2_rule(&down).0, Outcome::NotSupported);
        // Right order but the extremes overlap.
        let overlap = [
            (-0.5, est(-0.1, 0.3)),
            (0.0, est(0.0, 0.3)),
            (0.5, est(0.1, 0.3)),
        ];
        assert_eq!(c2_rule(&overlap).0, Outcome::Inconclusive);
        // Extremes separated but the middle breaks the ranking: rho = 0.2 < 0.8.
        let kinked = [
            (-0.5, est(-0.5, 0.1)),
            (0.0, est(0.9, 0.1)),
            (0.25, est(0.8, 0.1)),
            (0.5, est(0.5, 0.1)),
        ];
        assert_eq!(c2_rule(&kinked).0, Outcome::Inconclusive);
        // No interval (one seed) at an extreme.
        let single = [
            (
                -0.5,
                Estimate {
                    mean: -0.5,
                    ci_lo: f64::NAN,
                    ci_hi: f64::NAN,
                    sd: f64::NAN,
                    n: 1,
                },
            ),
            (0.0, est(0.0, 0.1)),
            (0.5, est(0.5, 0.1)),
        ];
        assert_eq!(c2_rule(&single).0, Outcome::Inconclusive);
        // Two p values only.
        assert_eq!(c2_rule(&up[1..]).0, Outcome::Inconclusive);
    }

    #[test]
    fn c3_rules() {
        assert_eq!(
            c3_rule(&est(-1.0, 0.5), &est(-0.8, 0.5)),
            Outcome::Supported
        );
        assert_eq!(
            c3_rule(&est(-1.0, 0.5), &est(0.8, 0.5)),
            Outcome::NotSupported
        );
        assert_eq!(
            c3_rule(&est(-1.0, 0.5), &est(-0.2, 0.5)),
            Outcome::Inconclusive
        );
        assert_eq!(
            c3_rule(&Estimate::NONE, &Estimate::NONE),
            Outcome::Inconclusive
        );
    }

    #[test]
    fn c6_rules() {
        assert_eq!(
            c6_rule(&[Some(0.2), Some(0.21), Some(0.19)], 1.0).0,
            Outcome::Supported
        );
        assert_eq!(
            c6_rule(&[Some(0.5), Some(0.6), Some(0.55)], 1.0).0,
            Outcome::NotSupported
        );
        assert_eq!(
            c6_rule(&[Some(0.1), Some(0.4), Some(0.25)], 1.0).0,
            Outcome::Inconclusive
        );
        assert_eq!(
            c6_rule(&[None, None, Some(0.1)], 1.0).0,
            Outcome::NotSupported
        );
        assert_eq!(
            c6_rule(&[None, Some(0.1), Some(0.1)], 1.0).0,
            Outcome::Inconclusive
        );
        assert_eq!(c6_rule(&[None, None, None], 0.1).0, Outcome::Inconclusive);
        assert_eq!(c6_rule(&[], 1.0).0, Outcome::Inconclusive);
    }
}
