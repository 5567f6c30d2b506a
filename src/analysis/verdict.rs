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

pub use super::claims::{not_evaluated, Claim, Outcome, Verdict, C2_RULE, C3_RULE, C6_RULE};

use super::aggregate::{median, ConfigSummary, Estimate, Report};
use super::matched::DECISIVE_LEVEL;
use super::metrics::RunMetrics;
use super::multiple::{one_sided, sign_test_p, verdict_p, welch_p};
use crate::base::stats::spearman;
use serde_json::{json, Value};

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

/// The C3 rule on the differences cyclic - baseline of the coverage score, one per baseline.
pub fn c3_rule(diffs: &[Estimate]) -> Outcome {
    if diffs.is_empty() {
        Outcome::Inconclusive
    } else if diffs.iter().any(|d| d.ci_lo > 0.0) {
        Outcome::NotSupported
    } else if diffs.iter().all(|d| d.ci_hi < 0.0) {
        Outcome::Supported
    } else {
        Outcome::Inconclusive
    }
}

/// Combine outcomes against several baselines: supported only if supported against all, not
/// supported if not supported against any, inconclusive otherwise.
pub fn all_baselines(outcomes: &[Outcome]) -> Outcome {
    if outcomes.is_empty() {
        Outcome::Inconclusive
    } else if outcomes.contains(&Outcome::NotSupported) {
        Outcome::NotSupported
    } else if outcomes.iter().all(|o| *o == Outcome::Supported) {
        Outcome::Supported
    } else {
        Outcome::Inconclusive
    }
}

/// The C2 outcome from the three rule outcomes (matched-loss slope decides; the two index
/// windows check it).
pub fn c2_combine(matched: Outcome, index_full: Outcome, index_half: Outcome) -> Outcome {
    if index_full != index_half {
        Outcome::WindowSensitive
    } else if matched == index_full {
        matched
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

/// "n = 3 of 5 (2 diverged)": completed seeds of all seeds, diverged shown.
fn n_of(c: &ConfigSummary) -> String {
    format!(
        "n = {} of {} ({} diverged)",
        c.n_runs - c.n_diverged,
        c.n_runs,
        c.n_diverged
    )
}

/// Leaves of a JSON object as (dotted path, compact value).
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, x, out);
            }
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// What sets a task apart from the report's other tasks: the config fields (optimizer
/// excluded) whose values differ between tasks, as "path=value, ..."; "" with one task.
pub fn task_description(report: &Report, task: &str) -> String {
    let leaves = |c: &ConfigSummary| {
        let mut out = Vec::new();
        if let Value::Object(m) = &c.config {
            for (k, x) in m.iter().filter(|(k, _)| k.as_str() != "optimizer") {
                flatten(k, x, &mut out);
            }
        }
        out
    };
    let Some(mine) = report.configs.iter().find(|c| c.task == task) else {
        return String::new();
    };
    let mine = leaves(mine);
    let others: Vec<Vec<(String, String)>> = report
        .configs
        .iter()
        .filter(|c| c.task != task)
        .map(leaves)
        .collect();
    mine.iter()
        .filter(|(path, value)| {
            others.iter().any(|o| {
                o.iter()
                    .find(|(p, _)| p == path)
                    .is_none_or(|(_, v)| v != value)
            })
        })
        .map(|(p, v)| format!("{p}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Guard failures of the configurations a verdict rests on, one line each.
fn guard_failures(configs: &[&ConfigSummary]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in configs {
        if !c.guards.passed {
            let line = format!("{} ({}): {}", c.id, c.label, c.guards.reasons.join("; "));
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}

/// A p-value for JSON: null when undefined.
fn p_json(p: f64) -> Value {
    if p.is_nan() {
        Value::Null
    } else {
        json!(p)
    }
}

fn estimate_json(e: &Estimate) -> Value {
    json!(e)
}

fn c2(report: &Report) -> Vec<Verdict> {
    let mut out = Vec::new();
    for task in report.tasks() {
        let fixed = report.fixed_p_configs(&task);
        if fixed.len() < 2 {
            continue;
        }
        let p_of = |c: &ConfigSummary| c.fixed_p.unwrap_or(f64::NAN);
        let pts = |f: &dyn Fn(&ConfigSummary) -> Estimate| -> Vec<(f64, Estimate)> {
            fixed.iter().map(|c| (p_of(c), f(c))).collect()
        };
        let (o_full, rho) = c2_rule(&pts(&|c| c.index));
        let (o_half, rho_half) = c2_rule(&pts(&|c| c.index_first_half));
        let (o_matched, rho_matched) = c2_rule(&pts(&|c| c.matched_at(DECISIVE_LEVEL)));
        let failures = guard_failures(&fixed);
        // The comparison that decides: matched-loss slope at the largest vs the smallest p.
        let (lo_c, hi_c) = (fixed[0], fixed[fixed.len() - 1]);
        let welch = welch_p(
            &hi_c.matched_at(DECISIVE_LEVEL),
            &lo_c.matched_at(DECISIVE_LEVEL),
        );
        let outcome = if failures.is_empty() {
            c2_combine(o_matched, o_full, o_half)
        } else {
            Outcome::InvalidSetting
        };
        let mut evidence: Vec<String> = failures
            .iter()
            .map(|f| format!("guard failed: {f}"))
            .collect();
        evidence.extend(fixed.iter().map(|c| {
            format!(
                "p = {}: matched-loss slope at {}% {} (reached by {}/{}); index {} (first half {}); {}; {}",
                p_of(c),
                100.0 * DECISIVE_LEVEL,
                ci(&c.matched_at(DECISIVE_LEVEL)),
                c.matched_loss
                    .iter()
                    .find(|m| m.level == DECISIVE_LEVEL)
                    .map_or(0, |m| m.reached),
                c.n_runs,
                ci(&c.index),
                ci(&c.index_first_half),
                n_of(c),
                c.label,
            )
        }));
        evidence.push(format!(
            "rule outcomes: matched-loss slope {} (Spearman {rho_matched:.3}, decides); index full window {} (Spearman {rho:.3}); index first half {} (Spearman {rho_half:.3})",
            o_matched.as_str(),
            o_full.as_str(),
            o_half.as_str()
        ));
        evidence.push(format!(
            "Welch t-test, matched-loss slope at p = {} vs p = {}: two-sided p = {welch:.3e} (uncorrected; Holm across tasks in figures/index.md)",
            p_of(hi_c),
            p_of(lo_c)
        ));
        if let Some(z) = fixed.iter().find(|c| c.fixed_p == Some(0.0)) {
            let neutral = z.index.has_ci() && z.index.ci_lo <= 0.0 && z.index.ci_hi >= 0.0;
            evidence.push(format!("p = 0 (SGD-like): interval {} 0 (near-neutral part of the claim, not in the verdict)", if neutral { "contains" } else { "excludes" }));
        }
        let described = task_description(report, &task);
        let data = json!({
            "task": task,
            "task_description": described,
            "decided_by": "matched_loss_slope",
            "decisive_level": DECISIVE_LEVEL,
            "welch_p": if welch.is_nan() { Value::Null } else { json!(welch) },
            "p_value": p_json(if failures.is_empty() { welch } else { f64::NAN }),
            "p_value_test": "two-sided Welch t-test, matched-loss slope at the largest vs the smallest p",
            "rule_outcomes": {
                "matched_loss_slope": o_matched,
                "index_full_window": o_full,
                "index_first_half": o_half,
            },
            "spearman": {
                "matched_loss_slope": rho_matched,
                "index_full_window": rho,
                "index_first_half": rho_half,
            },
            "guard_failures": failures,
            "configs": fixed.iter().map(|c| json!({
                "id": c.id,
                "label": c.label,
                "p": c.fixed_p,
                "n": c.n_runs,
                "n_diverged": c.n_diverged,
                "guards_passed": c.guards.passed,
                "index": estimate_json(&c.index),
                "index_first_half": estimate_json(&c.index_first_half),
                "matched_loss_slope": estimate_json(&c.matched_at(DECISIVE_LEVEL)),
            })).collect::<Vec<_>>(),
        });
        out.push(Verdict {
            claim: "C2",
            statement: Claim::C2.statement(),
            subject: format!(
                "task {task}{}: {}",
                if described.is_empty() {
                    String::new()
                } else {
                    format!(" ({described})")
                },
                fixed
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            measured: "matched-loss slope at 10% of the initial train loss per fixed p (decides), with the frequency-preference index over the full window and the first half (mean, 95% t-interval over seeds)"
                .into(),
            comparison: "measure ordered by p; largest vs smallest p".into(),
            rule: C2_RULE,
            evidence,
            outcome,
            data,
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

/// The strongest non-cyclic configuration of a task: lowest median final test loss.
pub fn strongest_of<'a>(report: &'a Report, task: &str) -> Option<&'a ConfigSummary> {
    report
        .configs
        .iter()
        .filter(|c| c.task == task && !c.cyclic && c.final_test_loss.median.is_finite())
        .min_by(|a, b| {
            a.final_test_loss
                .median
                .total_cmp(&b.final_test_loss.median)
        })
}

/// Baselines with their roles, deduplicated by configuration (roles joined).
fn with_roles<'a>(list: &[(&'a ConfigSummary, &str)]) -> Vec<(&'a ConfigSummary, String)> {
    let mut out: Vec<(&ConfigSummary, String)> = Vec::new();
    for (c, role) in list {
        if let Some(e) = out.iter_mut().find(|(x, _)| x.key == c.key) {
            e.1 = format!("{} = {role}", e.1);
        } else {
            out.push((c, role.to_string()));
        }
    }
    out
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
        let mut list = vec![(p0, "p = 0 (paper's baseline)"), (p05, "p = 0.5")];
        if let Some(s) = strongest_of(report, &c.task) {
            list.push((s, "strongest (lowest final test loss)"));
        }
        let baselines = with_roles(&list);
        let cov = |x: &ConfigSummary| {
            runs_of(report, x)
                .iter()
                .map(|r| r.coverage)
                .collect::<Vec<f64>>()
        };
        let diffs: Vec<Estimate> = baselines
            .iter()
            .map(|(b, _)| Estimate::welch_diff(&cov(c), &cov(b)))
            .collect();
        // One-sided Welch p-values per baseline: (cyclic lower = supports, cyclic higher).
        let tests: Vec<(f64, f64)> = baselines
            .iter()
            .zip(&diffs)
            .map(|((b, _), d)| {
                let p = welch_p(&Estimate::of(&cov(c)), &Estimate::of(&cov(b)));
                one_sided(p, d.mean)
            })
            .collect();
        let mut all: Vec<&ConfigSummary> = vec![c];
        all.extend(baselines.iter().map(|(b, _)| *b));
        let failures = guard_failures(&all);
        let outcome = if failures.is_empty() {
            c3_rule(&diffs)
        } else {
            Outcome::InvalidSetting
        };
        let p_value = verdict_p(outcome, &tests);
        let mut evidence: Vec<String> = failures
            .iter()
            .map(|f| format!("guard failed: {f}"))
            .collect();
        evidence.push(format!(
            "cyclic {}: {}; {}",
            c.label,
            ci(&c.coverage),
            n_of(c)
        ));
        for (((b, role), d), t) in baselines.iter().zip(&diffs).zip(&tests) {
            evidence.push(format!(
                "{role} {} ({}): {}; {}; cyclic - baseline: {} -> {} (one-sided Welch p: lower {:.3e}, higher {:.3e})",
                b.id,
                b.label,
                ci(&b.coverage),
                n_of(b),
                ci(d),
                c3_rule(std::slice::from_ref(d)).as_str(),
                t.0,
                t.1
            ));
        }
        evidence.push(format!(
            "p-value of the verdict: {p_value:.3e} (uncorrected; Holm across tasks in figures/index.md)"
        ));
        let described = task_description(report, &c.task);
        let data = json!({
            "task": c.task,
            "task_description": described,
            "p_value": p_json(p_value),
            "p_value_test": "one-sided Welch t-tests of the coverage difference per baseline; supported: the largest p of 'cyclic lower'; not supported: the smallest p of 'cyclic higher' times the number of baselines",
            "config": c.id,
            "coverage": estimate_json(&c.coverage),
            "n": c.n_runs,
            "n_diverged": c.n_diverged,
            "guard_failures": failures,
            "comparisons": baselines.iter().zip(&diffs).map(|((b, role), d)| json!({
                "baseline": b.id,
                "label": b.label,
                "role": role,
                "baseline_coverage": estimate_json(&b.coverage),
                "difference": estimate_json(d),
                "outcome": c3_rule(std::slice::from_ref(d)),
            })).collect::<Vec<_>>(),
        });
        out.push(Verdict {
            claim: "C3",
            statement: Claim::C3.statement(),
            subject: format!(
                "{}{} ({}) vs {}",
                task_prefix(&described),
                c.id,
                c.label,
                baselines
                    .iter()
                    .map(|(b, _)| b.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            measured: "coverage score (mean log10 relative band error over the budget, index bands; lower = covered earlier)".into(),
            comparison: "cyclic minus each baseline: p = 0, p = 0.5 and the strongest (Welch 95% intervals)".into(),
            rule: C3_RULE,
            evidence,
            outcome,
            data,
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

/// Per seed of `c` (diverged = never), the epoch fraction of `base`'s budget to reach `base`'s
/// median final test loss; with L*, B and the cyclic/baseline budget ratio.
fn time_to_target(
    report: &Report,
    c: &ConfigSummary,
    base: &ConfigSummary,
) -> Option<(f64, f64, Vec<Option<f64>>, f64)> {
    let base_runs = runs_of(report, base);
    if base_runs.is_empty() {
        return None;
    }
    let target = median(
        &base_runs
            .iter()
            .map(|r| r.final_test_loss)
            .collect::<Vec<_>>(),
    );
    let budget = base_runs[0].budget.max(1) as f64;
    let runs: Vec<&RunMetrics> = report
        .runs
        .iter()
        .filter(|r| r.config_key == c.key)
        .collect();
    let fractions: Vec<Option<f64>> = runs
        .iter()
        .map(|r| {
            if r.diverged {
                return None;
            }
            r.epochs
                .iter()
                .zip(&r.test_loss)
                .find(|(_, &l)| l <= target)
                .map(|(&e, _)| e as f64 / budget)
        })
        .collect();
    let ratio = runs.first().map_or(0.0, |r| r.budget as f64 / budget);
    Some((target, budget, fractions, ratio))
}

/// One-sided sign tests of per-seed fractions against 0.25 (`None` = never reached, which
/// counts as after 0.25 when the cyclic budget is at least 0.25 B and is left out otherwise;
/// a fraction of exactly 0.25 is left out): (p for "before", p for "after").
pub fn c6_sign_test(fractions: &[Option<f64>], budget_ratio: f64) -> (f64, f64) {
    let before = fractions.iter().flatten().filter(|f| **f < 0.25).count();
    let mut after = fractions.iter().flatten().filter(|f| **f > 0.25).count();
    if budget_ratio >= 0.25 {
        after += fractions.iter().filter(|f| f.is_none()).count();
    }
    let n = before + after;
    (sign_test_p(before, n), sign_test_p(after, n))
}

/// "task (what sets it apart): " for a subject, or "" with one task.
fn task_prefix(described: &str) -> String {
    if described.is_empty() {
        String::new()
    } else {
        format!("task ({described}): ")
    }
}

fn c6(report: &Report) -> Vec<Verdict> {
    let mut out = Vec::new();
    for c in report.configs.iter().filter(|c| c.cyclic) {
        let Some(paper) = super::aggregate::baseline_of(&report.configs, &c.task_key) else {
            continue;
        };
        let mut list = vec![(paper, "paper's baseline (sgd, else p = 0)")];
        if let Some(s) = strongest_of(report, &c.task) {
            list.push((s, "strongest (lowest final test loss)"));
        }
        let baselines = with_roles(&list);
        let mut comps = Vec::new();
        for (b, role) in &baselines {
            if let Some((target, budget, fractions, ratio)) = time_to_target(report, c, b) {
                let (o, e) = c6_rule(&fractions, ratio);
                comps.push((*b, role.clone(), target, budget, fractions, o, e));
            }
        }
        if comps.is_empty() {
            continue;
        }
        let mut all: Vec<&ConfigSummary> = vec![c];
        all.extend(comps.iter().map(|x| x.0));
        let failures = guard_failures(&all);
        let outcome = if failures.is_empty() {
            all_baselines(&comps.iter().map(|x| x.5).collect::<Vec<_>>())
        } else {
            Outcome::InvalidSetting
        };
        let ratio = |b: &ConfigSummary| time_to_target(report, c, b).map_or(0.0, |x| x.3);
        let tests: Vec<(f64, f64)> = comps
            .iter()
            .map(|x| c6_sign_test(&x.4, ratio(x.0)))
            .collect();
        let p_value = verdict_p(outcome, &tests);
        let mut evidence: Vec<String> = failures
            .iter()
            .map(|f| format!("guard failed: {f}"))
            .collect();
        evidence.push(format!("cyclic {}: {}", c.label, n_of(c)));
        for ((b, role, target, budget, fractions, o, e), t) in comps.iter().zip(&tests) {
            evidence.push(format!(
                "vs {role} {} ({}; {}): L* = {target:.4e}, B = {budget} epochs; reached L* in {}/{} seeds (diverged count as never); fraction of B over those: {} -> {} (one-sided sign test p: before 0.25 B {:.3e}, after {:.3e})",
                b.id,
                b.label,
                n_of(b),
                fractions.iter().flatten().count(),
                fractions.len(),
                ci(e),
                o.as_str(),
                t.0,
                t.1
            ));
        }
        evidence.push(format!(
            "p-value of the verdict: {p_value:.3e} (uncorrected; Holm across tasks in figures/index.md)"
        ));
        let described = task_description(report, &c.task);
        let data = json!({
            "task": c.task,
            "task_description": described,
            "p_value": p_json(p_value),
            "p_value_test": "exact one-sided sign tests of the per-seed time to L* against 0.25 B per baseline (never reached or diverged = later); supported: the largest p of 'before'; not supported: the smallest p of 'after' times the number of baselines",
            "config": c.id,
            "n": c.n_runs,
            "n_diverged": c.n_diverged,
            "guard_failures": failures,
            "comparisons": comps.iter().map(|(b, role, target, budget, fractions, o, e)| json!({
                "baseline": b.id,
                "label": b.label,
                "role": role,
                "l_star": target,
                "budget_epochs": budget,
                "fraction_per_seed": fractions,
                "reached": fractions.iter().flatten().count(),
                "n": fractions.len(),
                "time_to_l_star_fraction": estimate_json(e),
                "outcome": o,
            })).collect::<Vec<_>>(),
        });
        out.push(Verdict {
            claim: "C6",
            statement: Claim::C6.statement(),
            subject: format!(
                "{}{} ({}) vs {}",
                task_prefix(&described),
                c.id,
                c.label,
                comps
                    .iter()
                    .map(|x| format!("{} ({})", x.0.id, x.0.label))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            measured: "epochs for the cyclic configuration to reach each baseline's final test loss, as a fraction of that baseline's budget".into(),
            comparison: "fraction vs 0.25, against the paper's baseline and the strongest".into(),
            rule: C6_RULE,
            evidence,
            outcome,
            data,
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

/// The rule of a regression claim (C4 and C5 are classification claims: their rules are in
/// [`super::classification`]).
pub fn rule(claim: Claim) -> &'static str {
    match claim {
        Claim::C2 => C2_RULE,
        Claim::C3 => C3_RULE,
        Claim::C6 => C6_RULE,
        Claim::C4 | Claim::C5 => "",
    }
}

/// The verdicts of `claim` on the regression configurations of a report (none for the
/// classification claims C4 and C5, judged by [`super::classification::judge`]).
pub fn judge(report: &Report, claim: Claim) -> Vec<Verdict> {
    match claim {
        Claim::C2 => c2(report),
        Claim::C3 => c3(report),
        Claim::C6 => c6(report),
        Claim::C4 | Claim::C5 => Vec::new(),
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
            c3_rule(&[est(-1.0, 0.5), est(-0.8, 0.5)]),
            Outcome::Supported
        );
        assert_eq!(
            c3_rule(&[est(-1.0, 0.5), est(0.8, 0.5)]),
            Outcome::NotSupported
        );
        assert_eq!(
            c3_rule(&[est(-1.0, 0.5), est(-0.2, 0.5)]),
            Outcome::Inconclusive
        );
        // A third (strongest) baseline that the cyclic schedule does not beat.
        assert_eq!(
            c3_rule(&[est(-1.0, 0.5), est(-0.8, 0.5), est(0.9, 0.5)]),
            Outcome::NotSupported
        );
        assert_eq!(
            c3_rule(&[Estimate::NONE, Estimate::NONE]),
            Outcome::Inconclusive
        );
    }

    #[test]
    fn combining_outcomes() {
        use Outcome::*;
        assert_eq!(all_baselines(&[Supported, Supported]), Supported);
        assert_eq!(all_baselines(&[Supported, NotSupported]), NotSupported);
        assert_eq!(all_baselines(&[Supported, Inconclusive]), Inconclusive);
        assert_eq!(
            c2_combine(NotSupported, NotSupported, NotSupported),
            NotSupported
        );
        assert_eq!(
            c2_combine(NotSupported, NotSupported, Inconclusive),
            WindowSensitive
        );
        assert_eq!(
            c2_combine(Supported, NotSupported, NotSupported),
            Inconclusive
        );
    }

    #[test]
    fn c6_sign_tests() {
        // 8 seeds before 0.25 B: p(before) = 1/256, p(after) = 1.
        let all = [Some(0.1); 8];
        let (b, a) = c6_sign_test(&all, 1.0);
        assert!((b - 1.0 / 256.0).abs() < 1e-12 && (a - 1.0).abs() < 1e-12);
        // Never reached counts as after (budget >= 0.25 B): 6 after of 8 -> 37/256.
        let late = [
            None,
            None,
            None,
            None,
            Some(0.5),
            Some(0.6),
            Some(0.1),
            Some(0.2),
        ];
        let (_, a) = c6_sign_test(&late, 1.0);
        assert!((a - 37.0 / 256.0).abs() < 1e-12, "{a}");
        // With a budget below 0.25 B a never-reached seed is left out.
        let (b, _) = c6_sign_test(&[None, Some(0.1), Some(0.1)], 0.2);
        assert!((b - 0.25).abs() < 1e-12);
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
