//! The classification claims, judged from classification run records (epochs.csv with
//! `test_accuracy`, run.json `classification.agreement`):
//!
//! - C4, early decision-boundary alignment: test accuracy at matched train cross-entropy
//!   (the first epoch at which the train loss falls to [`LOSS_LEVELS`] x its initial value);
//!   the first epoch from which the predicted classes agree with the final ones on 90% / 95%
//!   of the test points is reported alongside.
//! - C5, lower test error: final test error (1 - accuracy).
//! - C6 on classification, a quarter of the cost: epochs for the cyclic configuration to
//!   reach the baseline's final test accuracy, as a fraction of the baseline's budget.
//!
//! Configurations are the runs' configs without the seed; the cyclic configuration is the
//! PAdam one whose p follows a schedule; baselines are fixed p = 0 (the paper's) and the
//! strongest non-cyclic configuration (highest median final test accuracy). Guards as for the
//! regression claims: a configuration counts only if it learned, its lr (when an lr search
//! chose it) is not at an edge of the searched grid, and at most [`MAX_DIVERGED_SHARE`] of its
//! seeds diverged; diverged seeds stay in n as failures.

use crate::analysis::claims::{Claim, Outcome, Verdict};
use crate::analysis::guards::{lr_info, LrInfo};
use crate::analysis::metrics::{fixed_p, is_cyclic};
use crate::analysis::multiple::{one_sided, sign_test_p, verdict_p, welch_p};
use crate::analysis::over_seeds::{median, Estimate};
use crate::base::stats::config_key;
use crate::record::load::RunData;
use anyhow::{bail, Result};
use serde_json::{json, Value};

/// Train cross-entropy levels, as fractions of the initial train loss, at which C4 compares
/// test accuracy (our choice: "while loss remains high" = at 75% and 50% of the start).
pub const LOSS_LEVELS: [f64; 3] = [0.75, 0.5, 0.25];

/// The level whose comparison decides C4 (the highest loss: the earliest alignment).
pub const C4_LEVEL: f64 = 0.75;

/// At most this share of a configuration's seeds may diverge.
pub const MAX_DIVERGED_SHARE: f64 = 0.2;

/// Rule of C4.
pub const C4_RULE: &str = "Guards first: the cyclic configuration and each baseline must have learned (median final train loss <= 50% of its initial value and median final test accuracy >= 2/K) with at most 20% of seeds diverged and, when an lr search chose its lr, that lr not at an edge of the searched grid; otherwise `invalid setting`. Per seed, the test accuracy where the train cross-entropy first reaches 75% of the initial one, interpolated linearly in the loss between the two analysed epochs around that crossing (a seed that never gets there counts as missing, and more than half missing is `inconclusive`). Cyclic minus baseline with a Welch 95% interval, against the paper's baseline (padam p = 0) and the strongest non-cyclic configuration: supported if both intervals lie entirely above 0, not supported if any lies entirely below 0, inconclusive otherwise. The 50% and 25% levels, the train loss at the first analysed epoch past the level (how coarse the evaluation stride is there) and the first epochs of 90%/95% agreement with the final predictions are reported, not decisive.";

/// Rule of C5.
pub const C5_RULE: &str = "Guards as for C4. Final test error (1 - final test accuracy) per completed seed; cyclic minus baseline with a Welch 95% interval against the paper's baseline (padam p = 0) and the strongest non-cyclic configuration: supported if both intervals lie entirely below 0, not supported if any lies entirely above 0, inconclusive otherwise.";

/// Rule of C6 on classification tasks.
pub const C6_CLASS_RULE: &str = "Guards as for C4. Per baseline (padam p = 0, and the strongest non-cyclic configuration): A* = its median final test accuracy, B = its budget in epochs. Per seed of the cyclic configuration, f = (first analysed epoch with test accuracy >= A*) / B, a seed that never reaches A* (or diverged) counting as f = infinity. Supported against a baseline if every seed reaches A* and the upper end of the 95% interval of mean f is <= 0.25; not supported if the lower end is > 0.25 or more than half of the seeds never reach A*; inconclusive otherwise. Overall: supported if supported against both baselines, not supported if against either, else inconclusive.";

/// The rule of a claim on classification runs ("" for the regression-only C2 and C3).
pub fn rule(claim: Claim) -> &'static str {
    match claim {
        Claim::C4 => C4_RULE,
        Claim::C5 => C5_RULE,
        Claim::C6 => C6_CLASS_RULE,
        Claim::C2 | Claim::C3 => "",
    }
}

/// One run's classification record.
#[derive(Debug, Clone)]
pub struct ClassRun {
    pub dir: std::path::PathBuf,
    pub seed: u64,
    pub diverged: bool,
    pub epochs: Vec<f64>,
    pub train_loss: Vec<f64>,
    pub test_accuracy: Vec<f64>,
    pub budget: f64,
    /// First epoch of stable 90% / 95% agreement with the final predictions.
    pub agreement: [Option<f64>; 2],
}

impl ClassRun {
    pub fn from_run(run: &RunData) -> Result<ClassRun> {
        let Some((_, acc)) = run
            .epochs
            .metrics
            .iter()
            .find(|(n, _)| n == "test_accuracy")
        else {
            bail!(
                "{}: not a classification run (epochs.csv has no test_accuracy column)",
                run.dir.display()
            );
        };
        let first = &run.meta["classification"]["agreement"]["first_epoch"];
        Ok(ClassRun {
            dir: run.dir.clone(),
            seed: run.seed(),
            diverged: run.status() == "diverged",
            epochs: run.epochs.epoch.iter().map(|&e| e as f64).collect(),
            train_loss: run.epochs.train_loss.clone(),
            test_accuracy: acc.to_vec(),
            budget: run.meta["config"]["train"]["epochs"]
                .as_f64()
                .or_else(|| run.epochs.epoch.last().map(|&e| e as f64))
                .unwrap_or(f64::NAN),
            agreement: [first["0.9"].as_f64(), first["0.95"].as_f64()],
        })
    }

    /// Test accuracy where the train loss first reaches `fraction` x the initial one: linear
    /// in the train loss between the last analysed epoch above the level and the first at or
    /// below it (so configurations are compared at the same loss, whatever the evaluation
    /// stride); the accuracy of epoch 0 if the level is at or above the initial loss.
    pub fn accuracy_at_loss(&self, fraction: f64) -> Option<f64> {
        let start = *self.train_loss.first()?;
        let level = fraction * start;
        let i = self
            .train_loss
            .iter()
            .position(|&l| l.is_finite() && l <= level)?;
        let at = |j: usize| self.test_accuracy.get(j).copied().filter(|a| a.is_finite());
        if i == 0 {
            return at(0);
        }
        let (l0, l1) = (self.train_loss[i - 1], self.train_loss[i]);
        let (a0, a1) = (at(i - 1)?, at(i)?);
        if !l0.is_finite() || l0 <= l1 {
            return Some(a1);
        }
        Some(a0 + (a1 - a0) * (l0 - level) / (l0 - l1))
    }

    /// The train loss, as a fraction of the initial one, at the first analysed epoch at or
    /// below the level (how coarse the evaluation stride is around it; the accuracy is
    /// interpolated to the level itself, see [`Self::accuracy_at_loss`]).
    pub fn loss_fraction_at_level(&self, fraction: f64) -> Option<f64> {
        let start = *self.train_loss.first()?;
        self.train_loss
            .iter()
            .find(|&&l| l.is_finite() && l <= fraction * start)
            .map(|l| l / start)
    }

    /// First epoch with test accuracy >= `target`.
    pub fn epochs_to_accuracy(&self, target: f64) -> Option<f64> {
        let i = self.test_accuracy.iter().position(|&a| a >= target)?;
        Some(self.epochs[i])
    }

    pub fn final_accuracy(&self) -> f64 {
        self.test_accuracy.last().copied().unwrap_or(f64::NAN)
    }
}

/// The runs of one configuration.
#[derive(Debug, Clone)]
pub struct ClassConfig {
    pub label: String,
    pub optimizer: Value,
    pub classes: usize,
    pub runs: Vec<ClassRun>,
    /// The sweep's lr search for this configuration (None: lr as configured).
    pub lr: Option<LrInfo>,
}

impl ClassConfig {
    fn completed(&self) -> impl Iterator<Item = &ClassRun> {
        self.runs.iter().filter(|r| !r.diverged)
    }

    pub fn n_diverged(&self) -> usize {
        self.runs.iter().filter(|r| r.diverged).count()
    }

    /// Final test errors of the completed seeds.
    pub fn final_errors(&self) -> Vec<f64> {
        self.completed().map(|r| 1.0 - r.final_accuracy()).collect()
    }

    pub fn median_final_accuracy(&self) -> f64 {
        median(
            &self
                .completed()
                .map(|r| r.final_accuracy())
                .collect::<Vec<_>>(),
        )
    }

    /// Test accuracy at `fraction` of the initial train loss, per completed seed that got there.
    pub fn accuracy_at_loss(&self, fraction: f64) -> Vec<f64> {
        self.completed()
            .filter_map(|r| r.accuracy_at_loss(fraction))
            .collect()
    }

    /// Why this configuration cannot count toward a verdict (empty: it passes).
    pub fn guard_failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        let n = self.runs.len();
        if n == 0 {
            return vec!["no runs".into()];
        }
        let div = self.n_diverged();
        if div as f64 > MAX_DIVERGED_SHARE * n as f64 {
            out.push(format!(
                "{div} of {n} seeds diverged (> {:.0}%)",
                100.0 * MAX_DIVERGED_SHARE
            ));
        }
        let loss_ratio = median(
            &self
                .completed()
                .filter_map(|r| Some(r.train_loss.last()? / r.train_loss.first()?))
                .collect::<Vec<_>>(),
        );
        if !(loss_ratio <= 0.5) {
            out.push(format!(
                "did not learn: median final/initial train loss {loss_ratio:.3} > 0.5"
            ));
        }
        let acc = self.median_final_accuracy();
        let chance = 1.0 / self.classes.max(1) as f64;
        if !(acc >= 2.0 * chance) {
            out.push(format!(
                "did not learn: median final test accuracy {acc:.3} < 2/K = {:.3}",
                2.0 * chance
            ));
        }
        if let Some((edge, l)) = self
            .lr
            .as_ref()
            .and_then(|l| Some((l.at_edge.as_ref()?, l)))
        {
            out.push(format!(
                "lr {} chosen at the {edge} edge of the searched grid{}",
                l.chosen_lr.map_or("?".into(), |x| format!("{x:e}")),
                if l.extended_with.is_empty() {
                    String::new()
                } else {
                    " (still there after extending the grid)".into()
                }
            ));
        }
        out
    }
}

/// Group classification runs into configurations (config without seed and name), in the
/// order of first appearance.
pub fn configs<'a>(runs: impl IntoIterator<Item = &'a RunData>) -> Result<Vec<ClassConfig>> {
    let mut out: Vec<(String, ClassConfig)> = Vec::new();
    for run in runs {
        let key = config_key(&run.meta, &["seed", "name"]);
        let r = ClassRun::from_run(run)?;
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, c)) => c.runs.push(r),
            None => out.push((
                key,
                ClassConfig {
                    label: run.optimizer_label(),
                    optimizer: run.optimizer().clone(),
                    classes: run.meta["classification"]["classes"].as_u64().unwrap_or(2) as usize,
                    runs: vec![r],
                    lr: lr_info(&run.dir),
                },
            )),
        }
    }
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// The cyclic configuration and the baselines (paper's p = 0, strongest non-cyclic).
pub struct Roles<'a> {
    pub cyclic: &'a ClassConfig,
    pub paper: Option<&'a ClassConfig>,
    pub strongest: Option<&'a ClassConfig>,
}

pub fn roles(configs: &[ClassConfig]) -> Option<Roles<'_>> {
    let cyclic = configs.iter().find(|c| is_cyclic(&c.optimizer))?;
    let paper = configs.iter().find(|c| fixed_p(&c.optimizer) == Some(0.0));
    let strongest = configs
        .iter()
        .filter(|c| !is_cyclic(&c.optimizer))
        .max_by(|a, b| {
            a.median_final_accuracy()
                .total_cmp(&b.median_final_accuracy())
        });
    Some(Roles {
        cyclic,
        paper,
        strongest,
    })
}

/// The baselines of `r`, labelled, without duplicates.
fn baselines<'a>(r: &Roles<'a>) -> Vec<(&'static str, &'a ClassConfig)> {
    let mut out = Vec::new();
    if let Some(p) = r.paper {
        out.push(("paper's baseline (p = 0)", p));
    }
    if let Some(s) = r.strongest {
        if !out.iter().any(|(_, c)| std::ptr::eq(*c, s)) {
            out.push(("strongest baseline", s));
        } else {
            out[0].0 = "paper's and strongest baseline (p = 0)";
        }
    }
    out
}

fn est_json(e: &Estimate) -> Value {
    json!({"mean": e.mean, "ci_lo": e.ci_lo, "ci_hi": e.ci_hi, "n": e.n})
}

fn fmt(e: &Estimate) -> String {
    if e.has_ci() {
        format!(
            "{:+.4} [{:+.4}, {:+.4}] (n={})",
            e.mean, e.ci_lo, e.ci_hi, e.n
        )
    } else {
        format!("{:+.4} (n={}, no interval)", e.mean, e.n)
    }
}

/// Guard failures of the cyclic configuration and the baselines, as evidence lines.
fn guards(r: &Roles, bases: &[(&str, &ClassConfig)]) -> Vec<String> {
    std::iter::once(("cyclic", r.cyclic))
        .chain(bases.iter().copied())
        .flat_map(|(role, c)| {
            c.guard_failures()
                .into_iter()
                .map(move |f| format!("{role} {}: {f}", c.label))
        })
        .collect()
}

/// Combine per-baseline outcomes: supported if all are, not supported if any is.
fn combine(outcomes: &[Outcome]) -> Outcome {
    if outcomes.is_empty() {
        Outcome::NotEvaluated
    } else if outcomes.iter().all(|o| *o == Outcome::Supported) {
        Outcome::Supported
    } else if outcomes.contains(&Outcome::NotSupported) {
        Outcome::NotSupported
    } else {
        Outcome::Inconclusive
    }
}

/// Outcome of an interval: `better_above` says which side supports the claim.
fn interval_outcome(d: &Estimate, better_above: bool) -> Outcome {
    if !d.has_ci() {
        return Outcome::Inconclusive;
    }
    let (good, bad) = if better_above {
        (d.ci_lo > 0.0, d.ci_hi < 0.0)
    } else {
        (d.ci_hi < 0.0, d.ci_lo > 0.0)
    };
    if good {
        Outcome::Supported
    } else if bad {
        Outcome::NotSupported
    } else {
        Outcome::Inconclusive
    }
}

struct Shape {
    claim: &'static str,
    statement: &'static str,
    measured: &'static str,
    rule: &'static str,
}

fn verdict(s: Shape, r: &Roles, outcome: Outcome, evidence: Vec<String>, data: Value) -> Verdict {
    Verdict {
        claim: s.claim,
        statement: s.statement,
        subject: r.cyclic.label.clone(),
        measured: s.measured.into(),
        comparison: "cyclic p against padam p = 0 and the strongest non-cyclic configuration"
            .into(),
        rule: s.rule,
        evidence,
        outcome,
        data,
    }
}

/// Judge C4, C5 and C6 on the classification runs of one task.
pub fn judge(configs: &[ClassConfig]) -> Vec<Verdict> {
    let Some(r) = roles(configs) else {
        return Vec::new();
    };
    let bases = baselines(&r);
    let failed = guards(&r, &bases);
    let shapes = [
        Shape {
            claim: "C4",
            statement: Claim::C4.statement(),
            measured:
                "test accuracy at matched train cross-entropy (75% of the initial loss decides)",
            rule: C4_RULE,
        },
        Shape {
            claim: "C5",
            statement: if configs.iter().any(|c| c.lr.is_some()) {
                "cyclic p reduces test error (here under the fair-lr protocol: each configuration at the lr of its own search)"
            } else {
                Claim::C5.statement()
            },
            measured: "final test error",
            rule: C5_RULE,
        },
        Shape {
            claim: "C6",
            statement: "cyclic p matches the baseline's accuracy at a quarter of the training cost",
            measured: "epochs to the baseline's final test accuracy / baseline budget",
            rule: C6_CLASS_RULE,
        },
    ];
    let mut out = Vec::new();
    for s in shapes {
        if bases.is_empty() {
            let ev = vec!["no baseline configuration (padam p = 0 or a non-cyclic one)".into()];
            out.push(verdict(s, &r, Outcome::NotEvaluated, ev, json!({})));
            continue;
        }
        let (outcome, mut evidence, mut data) = match s.claim {
            "C4" => c4(&r, &bases),
            "C5" => c5(&r, &bases),
            _ => c6(&r, &bases),
        };
        data["guard_failures"] = json!(failed);
        let outcome = if failed.is_empty() {
            outcome
        } else {
            // The comparison stays in the evidence, marked as descriptive.
            evidence = failed
                .iter()
                .cloned()
                .chain(
                    evidence
                        .into_iter()
                        .map(|e| format!("descriptive only: {e}")),
                )
                .collect();
            Outcome::InvalidSetting
        };
        out.push(verdict(s, &r, outcome, evidence, data));
    }
    out
}

fn c4(r: &Roles, bases: &[(&str, &ClassConfig)]) -> (Outcome, Vec<String>, Value) {
    let mut ev = Vec::new();
    let mut outcomes = Vec::new();
    let mut comps = Vec::new();
    let mut ps = Vec::new();
    let cyc = r.cyclic.accuracy_at_loss(C4_LEVEL);
    let completed = r.cyclic.runs.len() - r.cyclic.n_diverged();
    for level in LOSS_LEVELS {
        let c = Estimate::of(&r.cyclic.accuracy_at_loss(level));
        ev.push(format!(
            "cyclic {}: test accuracy at {:.0}% of the initial train loss {}",
            r.cyclic.label,
            100.0 * level,
            fmt(&c)
        ));
    }
    for (role, b) in bases {
        let bv = b.accuracy_at_loss(C4_LEVEL);
        let d = Estimate::welch_diff(&cyc, &bv);
        let missing = 2 * cyc.len() < completed || 2 * bv.len() < b.runs.len() - b.n_diverged();
        let o = if missing {
            Outcome::Inconclusive
        } else {
            interval_outcome(&d, true)
        };
        ev.push(format!(
            "{role} {}: accuracy at 75% {}; cyclic - baseline {} -> {}",
            b.label,
            fmt(&Estimate::of(&bv)),
            fmt(&d),
            o.as_str()
        ));
        comps.push(json!({"baseline": role, "label": b.label, "baseline_accuracy": est_json(&Estimate::of(&bv)), "difference": est_json(&d), "outcome": o.as_str()}));
        outcomes.push(o);
        // (evidence for: cyclic higher; against: cyclic lower), one-sided Welch.
        let (lower, higher) = one_sided(welch_p(&Estimate::of(&cyc), &Estimate::of(&bv)), d.mean);
        ps.push((higher, lower));
    }
    // How well the levels are matched: the evaluation stride can put the first epoch below
    // the level well under it, and then configurations are compared at different losses.
    let matched: Vec<String> = std::iter::once(r.cyclic)
        .chain(bases.iter().map(|(_, b)| *b))
        .map(|c| {
            let f: Vec<f64> = c
                .completed()
                .filter_map(|x| x.loss_fraction_at_level(C4_LEVEL))
                .collect();
            format!("{} {:.0}%", c.label, 100.0 * median(&f))
        })
        .collect();
    ev.push(format!(
        "train loss at the first analysed epoch past the level (median over seeds, % of the initial; the level is 75%, and accuracies are interpolated to it): {}",
        matched.join(", ")
    ));
    for c in std::iter::once(r.cyclic).chain(bases.iter().map(|(_, b)| *b)) {
        let first = |i: usize| {
            let v: Vec<f64> = c.runs.iter().filter_map(|x| x.agreement[i]).collect();
            (median(&v), v.len())
        };
        let ((e90, n90), (e95, n95)) = (first(0), first(1));
        ev.push(format!(
            "{}: first epoch of stable 90% / 95% agreement with the final predictions, median {e90} ({n90} seeds) / {e95} ({n95} seeds)",
            c.label
        ));
    }
    let o = combine(&outcomes);
    (
        o,
        ev,
        json!({"level": C4_LEVEL, "cyclic_accuracy": est_json(&Estimate::of(&cyc)), "comparisons": comps, "p_value": verdict_p(o, &ps), "p_value_test": "one-sided Welch t-tests of the accuracy at 75% loss against each baseline"}),
    )
}

fn c5(r: &Roles, bases: &[(&str, &ClassConfig)]) -> (Outcome, Vec<String>, Value) {
    let cyc = r.cyclic.final_errors();
    let mut ev = vec![format!(
        "cyclic {}: final test error {}; {} of {} seeds diverged",
        r.cyclic.label,
        fmt(&Estimate::of(&cyc)),
        r.cyclic.n_diverged(),
        r.cyclic.runs.len()
    )];
    let mut outcomes = Vec::new();
    let mut comps = Vec::new();
    let mut ps = Vec::new();
    for (role, b) in bases {
        let be = b.final_errors();
        let d = Estimate::welch_diff(&cyc, &be);
        let o = interval_outcome(&d, false);
        ev.push(format!(
            "{role} {}: final test error {}; cyclic - baseline {} -> {}",
            b.label,
            fmt(&Estimate::of(&be)),
            fmt(&d),
            o.as_str()
        ));
        comps.push(json!({"baseline": role, "label": b.label, "baseline_error": est_json(&Estimate::of(&be)), "difference": est_json(&d), "outcome": o.as_str()}));
        outcomes.push(o);
        // (evidence for: cyclic error lower; against: higher), one-sided Welch.
        ps.push(one_sided(
            welch_p(&Estimate::of(&cyc), &Estimate::of(&be)),
            d.mean,
        ));
    }
    let o = combine(&outcomes);
    (
        o,
        ev,
        json!({"cyclic_error": est_json(&Estimate::of(&cyc)), "comparisons": comps, "p_value": verdict_p(o, &ps), "p_value_test": "one-sided Welch t-tests of the final test error against each baseline"}),
    )
}

fn c6(r: &Roles, bases: &[(&str, &ClassConfig)]) -> (Outcome, Vec<String>, Value) {
    let mut ev = Vec::new();
    let mut outcomes = Vec::new();
    let mut comps = Vec::new();
    let mut ps = Vec::new();
    for (role, b) in bases {
        let target = b.median_final_accuracy();
        let budget = median(&b.runs.iter().map(|x| x.budget).collect::<Vec<_>>());
        let f: Vec<Option<f64>> = r
            .cyclic
            .runs
            .iter()
            .map(|x| {
                (!x.diverged)
                    .then(|| x.epochs_to_accuracy(target))
                    .flatten()
                    .map(|e| e / budget)
            })
            .collect();
        let reached: Vec<f64> = f.iter().flatten().copied().collect();
        let e = Estimate::of(&reached);
        let o = if reached.len() == f.len() && e.has_ci() && e.ci_hi <= 0.25 {
            Outcome::Supported
        } else if (e.has_ci() && e.ci_lo > 0.25) || 2 * reached.len() < f.len() {
            Outcome::NotSupported
        } else {
            Outcome::Inconclusive
        };
        ev.push(format!(
            "{role} {}: A* = {target:.4}, B = {budget} epochs; cyclic reaches A* in {} of {} seeds, f = {} -> {}",
            b.label,
            reached.len(),
            f.len(),
            fmt(&e),
            o.as_str()
        ));
        comps.push(json!({"baseline": role, "label": b.label, "target_accuracy": target, "budget": budget, "reached": reached.len(), "seeds": f.len(), "fraction": est_json(&e), "outcome": o.as_str()}));
        outcomes.push(o);
        // Exact sign tests against 0.25 B (never reached counts as later).
        let early = f.iter().filter(|x| x.is_some_and(|v| v <= 0.25)).count();
        ps.push((
            sign_test_p(early, f.len()),
            sign_test_p(f.len() - early, f.len()),
        ));
    }
    let o = combine(&outcomes);
    (
        o,
        ev,
        json!({"comparisons": comps, "p_value": verdict_p(o, &ps), "p_value_test": "exact one-sided sign tests of the per-seed time to A* against 0.25 B for each baseline"}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, loss: &[f64], acc: &[f64]) -> ClassRun {
        ClassRun {
            dir: Default::default(),
            seed,
            diverged: false,
            epochs: (0..loss.len()).map(|e| 10.0 * e as f64).collect(),
            train_loss: loss.to_vec(),
            test_accuracy: acc.to_vec(),
            budget: 10.0 * (loss.len() - 1) as f64,
            agreement: [None, None],
        }
    }

    fn config(p: Value, runs: Vec<ClassRun>) -> ClassConfig {
        ClassConfig {
            label: format!("padam p={p}"),
            optimizer: json!({"name": "padam", "lr": 0.01, "p": p}),
            classes: 10,
            runs,
            lr: None,
        }
    }

    #[test]
    fn accuracy_at_matched_loss_and_time_to_accuracy() {
        let r = run(0, &[2.0, 1.6, 1.4, 0.9, 0.4], &[0.1, 0.3, 0.5, 0.6, 0.7]);
        // 75% of 2.0 = 1.5, crossed between (1.6, 0.3) and (1.4, 0.5): halfway, 0.4.
        assert!((r.accuracy_at_loss(0.75).unwrap() - 0.4).abs() < 1e-12);
        // 50% = 1.0, between (1.4, 0.5) and (0.9, 0.6): 0.4 / 0.5 of the way, 0.58.
        assert!((r.accuracy_at_loss(0.5).unwrap() - 0.58).abs() < 1e-12);
        // At or above the start: epoch 0's accuracy.
        assert_eq!(r.accuracy_at_loss(1.0), Some(0.1));
        assert_eq!(r.accuracy_at_loss(0.1), None);
        // The epoch read for 75% has loss 1.4 = 70% of the initial 2.0.
        assert_eq!(r.loss_fraction_at_level(0.75), Some(0.7));
        assert_eq!(r.loss_fraction_at_level(0.5), Some(0.45));
        assert_eq!(r.loss_fraction_at_level(0.1), None);
        assert_eq!(r.epochs_to_accuracy(0.55), Some(30.0));
        assert_eq!(r.epochs_to_accuracy(0.9), None);
    }

    /// Eight seeds: the cyclic configuration is ahead at matched loss and ends with lower
    /// error; p = 0 learns; Adam learns as well as cyclic at the end.
    fn family(cyc_shift: f64) -> Vec<ClassConfig> {
        let seeds = |acc_at: f64, final_acc: f64| -> Vec<ClassRun> {
            (0..8)
                .map(|s| {
                    let j = 0.002 * s as f64;
                    run(
                        s,
                        &[2.3, 1.9, 1.6, 1.2, 0.8, 0.5],
                        &[
                            0.1,
                            0.2,
                            acc_at + j,
                            final_acc - 0.05 + j,
                            final_acc - 0.02 + j,
                            final_acc + j,
                        ],
                    )
                })
                .collect()
        };
        vec![
            config(
                json!({"kind": "cosine", "min": 0.0, "max": 0.5, "period": 10}),
                seeds(0.5 + cyc_shift, 0.7 + cyc_shift),
            ),
            config(json!(0.0), seeds(0.3, 0.6)),
            config(json!(0.5), seeds(0.4, 0.68)),
        ]
    }

    #[test]
    fn verdicts_on_a_family_with_a_known_answer() {
        let cs = family(0.0);
        let v = judge(&cs);
        assert_eq!(v.len(), 3);
        // C4: accuracy at 75% loss (interpolated between indices 1 and 2): cyclic ahead of
        // both baselines -> supported.
        assert_eq!(v[0].outcome, Outcome::Supported, "{:?}", v[0].evidence);
        // Every configuration's 75% reading is at loss 1.6 of 2.3: 70%.
        assert!(
            v[0].evidence.iter().any(|e| e
                .starts_with("train loss at the first analysed epoch past the level")
                && e.matches(" 70%").count() == 3),
            "{:?}",
            v[0].evidence
        );
        // C5: final error 0.3 vs 0.4 and 0.32 -> supported.
        assert_eq!(v[1].outcome, Outcome::Supported, "{:?}", v[1].evidence);
        // C6: the strongest baseline's A* = 0.68 + median jitter is reached only at the last
        // epoch (f = 1 > 0.25) -> not supported.
        assert_eq!(v[2].outcome, Outcome::NotSupported, "{:?}", v[2].evidence);
        // A worse cyclic configuration: C5 not supported.
        let v = judge(&family(-0.15));
        assert_eq!(v[1].outcome, Outcome::NotSupported, "{:?}", v[1].evidence);
    }

    #[test]
    fn a_baseline_that_does_not_learn_gives_invalid_setting() {
        let mut cs = family(0.0);
        // p = 0 stays at chance: final accuracy 0.1 < 2/K = 0.2 and loss barely moves.
        cs[1].runs = (0..8)
            .map(|s| run(s, &[2.3, 2.3, 2.29, 2.29, 2.28, 2.28], &[0.1; 6]))
            .collect();
        let v = judge(&cs);
        assert!(v.iter().all(|v| v.outcome == Outcome::InvalidSetting));
        assert!(v[0].evidence.iter().any(|e| e.contains("did not learn")));
    }

    #[test]
    fn an_lr_at_the_edge_of_its_search_gives_invalid_setting() {
        let mut cs = family(0.0);
        cs[1].lr = Some(LrInfo {
            config_id: "p0".into(),
            chosen_lr: Some(1.0),
            at_edge: Some("upper".into()),
            extended_with: vec![3.16],
            stable_at_half_budget: Some(true),
            seeds_disjoint: Some(true),
            search_epochs: Some(10),
        });
        let v = judge(&cs);
        assert!(v.iter().all(|v| v.outcome == Outcome::InvalidSetting));
        assert!(v[1]
            .evidence
            .iter()
            .any(|e| e.contains("lr 1e0 chosen at the upper edge") && e.contains("extending")));
        assert!(v[1].statement.contains("fair-lr"), "{}", v[1].statement);
        // The same search with an interior choice: the verdicts of the family stand.
        cs[1].lr.as_mut().unwrap().at_edge = None;
        let v = judge(&cs);
        assert_eq!(v[1].outcome, Outcome::Supported, "{:?}", v[1].evidence);
        assert!(judge(&family(0.0))[1].statement.contains("identical"));
    }

    #[test]
    fn diverged_seeds_count_in_n_and_trip_the_guard() {
        let mut cs = family(0.0);
        for r in cs[0].runs.iter_mut().take(2) {
            r.diverged = true;
        }
        assert_eq!(cs[0].n_diverged(), 2);
        assert_eq!(cs[0].final_errors().len(), 6);
        let v = judge(&cs);
        assert_eq!(v[1].outcome, Outcome::InvalidSetting);
        assert!(v[1]
            .evidence
            .iter()
            .any(|e| e.contains("2 of 8 seeds diverged")));
    }
}
