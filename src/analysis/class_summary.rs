//! The classification section of `bandwise report`: per configuration of classification runs
//! (seeds aggregated as for regression), the final losses and accuracies, per-class test
//! accuracy, the C4 quantities (test accuracy at matched train cross-entropy, first epochs of
//! stable 90% / 95% agreement), and the convergence of the frequency measure: the band record
//! on grid tasks (as in the regression tables), the filtering method per Gaussian width delta
//! on data tasks (each level's e_low and e_high read like a band's relative error). The C4,
//! C5 and C6 verdicts of each task come from [`super::classification::judge`].
//!
//! Tasks are the runs' configs without seed, name and optimizer; their ids continue the
//! regression tasks' numbering of the same report. Configurations are sorted by task, then
//! by median final test accuracy (highest first).

use super::claims::{not_evaluated, Claim, Verdict};
use super::classification::{configs, judge, rule, ClassConfig, C4_LEVEL, LOSS_LEVELS};
use super::grouping::{config_id, distinct_in_order, group_in_order, seeds_by_outcome};
use super::guards::LrInfo;
use super::metrics::{
    budget_of, config_thresholds, fixed_p, is_cyclic, run_metrics, series_metrics, ReportOptions,
    RunMetrics, SeriesMetrics, SeriesWindow,
};
use super::over_seeds::{
    band_summaries, median, BandSummary, Convergence, EpochStat, Estimate, Spread,
};
use crate::base::stats::config_key;
use crate::engine::classify::AGREEMENT_LEVELS;
use crate::record::load::RunData;
use anyhow::Result;
use serde::Serialize;
use serde_json::{json, Value};

/// The definitions block of the classification section.
#[derive(Debug, Clone, Serialize)]
pub struct ClassDefinitions {
    pub loss: &'static str,
    pub accuracy: &'static str,
    pub final_values: &'static str,
    pub final_test_error: &'static str,
    pub per_class: &'static str,
    pub accuracy_at_loss: &'static str,
    pub agreement: &'static str,
    pub bands: &'static str,
    pub filtering: &'static str,
    pub guards: &'static str,
}

/// The definitions, as written into every report with classification runs.
pub const DEFINITIONS: ClassDefinitions = ClassDefinitions {
    loss: "mean softmax cross-entropy over the points, in nats",
    accuracy: "fraction of points whose argmax logit is the label",
    final_values: "value at the last analysed epoch; median [min-max] over the completed seeds",
    final_test_error: "1 - final test accuracy; mean and 95% Student-t interval over the completed seeds (the quantity C5 compares)",
    per_class: "class_accuracy.csv, test split, last analysed epoch: the fraction of the test points labelled with the class that are predicted as it; median [min-max] over the completed seeds; count = test points of the class",
    accuracy_at_loss: "test accuracy where the train cross-entropy first reaches level x its initial value, interpolated linearly in the loss between the two analysed epochs around the crossing; mean and 95% Student-t interval over the completed seeds that reach the level (reached of n completed); level 0.75 decides C4; loss_fraction = train loss at the first analysed epoch at or below the level / initial (median [min-max]): how coarse the evaluation stride is there",
    agreement: "first analysed epoch from which the predicted classes of the test points agree with those at the last analysed epoch on at least `level` of them, to the end (run.json classification.agreement); median over the completed seeds counting never = +inf (null = never)",
    bands: "grid tasks (target.classes): bands.csv, band energies summed over the K channels of softmax(z) - onehot(y), on the report's --grid; per band as in the regression tables (epochs to threshold, half-life, final relative error, coverage, decay rate, plateau; conventions below)",
    filtering: "data tasks (target.kind = \"dataset\"): filtering.csv, the F-Principle filtering method on the training points; per Gaussian width delta (median over seeds, feature-space distance; factor = delta / the median pairwise distance) the relative errors e_low and e_high of the low and high parts, each read like a band's relative error (thresholds from config.spectral.thresholds; the same conventions)",
    guards: "the classification guards of the C4 rule (fixed; --max-loss-ratio and --max-diverged-share apply to the regression claims only): median final train loss <= 50% of the initial, median final test accuracy >= 2/K, at most 20% of seeds diverged, an lr chosen by a search not at an edge of the searched grid",
};

/// The final test accuracy of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassStat {
    pub class: usize,
    /// Test points labelled with the class (first completed seed).
    pub count: usize,
    pub test_accuracy: Spread,
}

/// Test accuracy at one matched train-loss level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccuracyAtLoss {
    /// Fraction of the initial train loss.
    pub level: f64,
    pub accuracy: Estimate,
    /// Completed seeds that reached the level, of `n` completed seeds.
    pub reached: usize,
    pub n: usize,
    pub loss_fraction: Spread,
}

/// First epoch of stable agreement at one level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgreementStat {
    pub level: f64,
    #[serde(flatten)]
    pub first_epoch: EpochStat,
}

/// One filtering level's e_low or e_high over the completed seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilterSummary {
    /// "low" (e_low) or "high" (e_high).
    pub part: &'static str,
    /// Index of the delta in filtering.csv (smallest delta first).
    pub level: usize,
    pub delta: f64,
    /// delta / the median pairwise distance of the filtered points (null if not recorded).
    pub factor: Option<f64>,
    #[serde(flatten)]
    pub convergence: Convergence,
}

/// The guards of one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassGuards {
    pub passed: bool,
    pub reasons: Vec<String>,
}

/// One classification configuration over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassSummary {
    /// "c" + 6 hex digits of a hash of the configuration (as for regression).
    pub id: String,
    pub label: String,
    pub task: String,
    pub optimizer: Value,
    pub fixed_p: Option<f64>,
    pub cyclic: bool,
    /// K.
    pub classes: usize,
    pub n_runs: usize,
    pub n_diverged: usize,
    pub seeds: Vec<u64>,
    pub diverged_seeds: Vec<u64>,
    pub final_train_loss: Spread,
    pub final_test_loss: Spread,
    pub final_train_accuracy: Spread,
    pub final_test_accuracy: Spread,
    pub final_test_error: Estimate,
    pub per_class: Vec<ClassStat>,
    pub accuracy_at_loss: Vec<AccuracyAtLoss>,
    pub agreement: Vec<AgreementStat>,
    pub guards: ClassGuards,
    pub lr_search: Option<LrInfo>,
    /// Grid tasks: the band record's convergence (empty for data tasks).
    pub bands: Vec<BandSummary>,
    /// Data tasks: the filtering method's convergence, e_low then e_high per delta.
    pub filtering: Vec<FilterSummary>,
    pub runs: Vec<String>,
    pub config: Value,
}

/// The classification section of a report.
#[derive(Debug, Clone, Serialize)]
pub struct ClassificationSection {
    pub definitions: ClassDefinitions,
    pub loss_levels: [f64; 3],
    pub decisive_level: f64,
    pub agreement_levels: [f64; 2],
    pub n_runs: usize,
    pub n_diverged: usize,
    pub configs: Vec<ClassSummary>,
    /// Every C4, C5 and C6 verdict of every task (the report keeps those asked for).
    #[serde(skip)]
    pub verdicts: Vec<Verdict>,
}

impl ClassificationSection {
    /// Task ids in report order.
    pub fn tasks(&self) -> Vec<String> {
        distinct_in_order(self.configs.iter().map(|c| c.task.clone()))
    }
}

/// The value at the last analysed epoch of an epochs.csv metric.
fn last_metric(run: &RunData, name: &str) -> f64 {
    run.epochs
        .metric(name)
        .and_then(|v| v.last().copied())
        .unwrap_or(f64::NAN)
}

fn last(v: &[f64]) -> f64 {
    v.last().copied().unwrap_or(f64::NAN)
}

/// The filtering method's convergence over the completed seeds `done` (those with
/// filtering.csv and the same number of widths as the first, so that rows are read as the
/// same (part, level)).
fn filtering_summaries(done: &[&RunData], opts: &ReportOptions) -> Vec<FilterSummary> {
    let n_deltas = |r: &RunData| r.filtering.as_ref().map(|f| f.deltas.len());
    let Some(levels) = done.iter().find_map(|r| n_deltas(r)) else {
        return Vec::new();
    };
    let with: Vec<&RunData> = done
        .iter()
        .copied()
        .filter(|r| n_deltas(r) == Some(levels))
        .collect();
    let first = with[0].filtering.as_ref().expect("filtered above");
    let mut thresholds = config_thresholds(with[0]);
    thresholds.sort_by(|a, b| b.total_cmp(a));
    // Per seed, per (part, level): the series' convergence.
    let per_run: Vec<Vec<SeriesMetrics>> = with
        .iter()
        .map(|r| {
            let f = r.filtering.as_ref().expect("filtered above");
            let window = SeriesWindow {
                thresholds: thresholds.clone(),
                budget: budget_of(r),
                window_fraction: opts.window_fraction,
            };
            [&f.e_low, &f.e_high]
                .into_iter()
                .flat_map(|part| part.iter())
                .map(|rel| {
                    let defined = rel.iter().any(|x| x.is_finite());
                    series_metrics(&f.epochs, rel, defined, &window)
                })
                .collect()
        })
        .collect();
    let n_levels = first.deltas.len();
    let scale: Vec<f64> = with
        .iter()
        .filter_map(|r| r.meta["classification"]["filtering"]["median_distance"].as_f64())
        .collect();
    let scale = median(&scale);
    (0..2 * n_levels)
        .map(|i| {
            let level = i % n_levels;
            let deltas: Vec<f64> = with
                .iter()
                .filter_map(|r| r.filtering.as_ref()?.deltas.get(level).copied())
                .collect();
            let delta = median(&deltas);
            let per: Vec<&SeriesMetrics> = per_run.iter().filter_map(|m| m.get(i)).collect();
            FilterSummary {
                part: if i < n_levels { "low" } else { "high" },
                level,
                delta,
                factor: (scale > 0.0).then(|| delta / scale),
                convergence: Convergence::of(&per, &thresholds),
            }
        })
        .collect()
}

/// The summary of one configuration (`runs`: its loaded runs, in any order).
fn summarise(c: &ClassConfig, runs: &[&RunData], opts: &ReportOptions) -> Result<ClassSummary> {
    let done: Vec<&RunData> = runs
        .iter()
        .copied()
        .filter(|r| r.status() != "diverged")
        .collect();
    let spread =
        |f: &dyn Fn(&RunData) -> f64| Spread::of(&done.iter().map(|r| f(r)).collect::<Vec<_>>());
    let completed: Vec<_> = c.runs.iter().filter(|r| !r.diverged).collect();
    let accuracy_at_loss = LOSS_LEVELS
        .iter()
        .map(|&level| {
            let acc = c.accuracy_at_loss(level);
            AccuracyAtLoss {
                level,
                reached: acc.len(),
                n: completed.len(),
                accuracy: Estimate::of(&acc),
                loss_fraction: Spread::of(
                    &completed
                        .iter()
                        .filter_map(|r| r.loss_fraction_at_level(level))
                        .collect::<Vec<_>>(),
                ),
            }
        })
        .collect();
    let agreement = AGREEMENT_LEVELS
        .iter()
        .enumerate()
        .map(|(i, &level)| AgreementStat {
            level,
            first_epoch: EpochStat::of(
                &completed
                    .iter()
                    .map(|r| r.agreement[i].map(|e| e as u64))
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    let tests: Vec<_> = done
        .iter()
        .filter_map(|r| r.class_accuracy("test"))
        .collect();
    let per_class = match tests.first() {
        Some(t) => (0..t.counts.len())
            .map(|k| ClassStat {
                class: k,
                count: t.counts[k],
                test_accuracy: Spread::of(
                    &tests
                        .iter()
                        .filter_map(|t| t.accuracy.get(k).map(|a| last(a)))
                        .collect::<Vec<_>>(),
                ),
            })
            .collect(),
        None => Vec::new(),
    };
    // Grid tasks: the band record's convergence, as in the regression tables.
    let band_metrics: Vec<RunMetrics> = done
        .iter()
        .filter(|r| !r.bands.is_empty())
        .map(|r| run_metrics(r, opts))
        .collect::<Result<_>>()?;
    let guard_reasons = c.guard_failures();
    let (seeds, diverged_seeds) = seeds_by_outcome(c.runs.iter().map(|r| (r.seed, r.diverged)));
    let first = runs[0];
    let config: Value =
        serde_json::from_str(&config_key(&first.meta, &["seed", "name"])).unwrap_or(Value::Null);
    Ok(ClassSummary {
        id: String::new(),
        label: c.label.clone(),
        task: String::new(),
        optimizer: c.optimizer.clone(),
        fixed_p: fixed_p(&c.optimizer),
        cyclic: is_cyclic(&c.optimizer),
        classes: c.classes,
        n_runs: c.runs.len(),
        n_diverged: c.n_diverged(),
        seeds,
        diverged_seeds,
        final_train_loss: spread(&|r| last(&r.epochs.train_loss)),
        final_test_loss: spread(&|r| last(&r.epochs.test_loss)),
        final_train_accuracy: spread(&|r| last_metric(r, "train_accuracy")),
        final_test_accuracy: spread(&|r| last_metric(r, "test_accuracy")),
        final_test_error: Estimate::of(&c.final_errors()),
        per_class,
        accuracy_at_loss,
        agreement,
        guards: ClassGuards {
            passed: guard_reasons.is_empty(),
            reasons: guard_reasons,
        },
        lr_search: c.lr.clone(),
        bands: band_summaries(&band_metrics.iter().collect::<Vec<_>>()),
        filtering: filtering_summaries(&done, opts),
        runs: runs.iter().map(|r| r.dir.display().to_string()).collect(),
        config,
    })
}

/// The classification section of `runs` (every one a classification run), with task ids
/// from `t{first_task}` on, and every C4, C5 and C6 verdict of each task.
pub fn section(
    runs: &[&RunData],
    opts: &ReportOptions,
    first_task: usize,
) -> Result<ClassificationSection> {
    // Group by task, in order of first appearance.
    let tasks = group_in_order(runs.iter().copied(), |r| {
        config_key(&r.meta, &["seed", "name", "optimizer"])
    });
    let mut out = Vec::new();
    let mut verdicts = Vec::new();
    for (t, (_, task_runs)) in tasks.iter().enumerate() {
        let task = format!("t{}", first_task + t);
        let cs = configs(task_runs.iter().copied())?;
        let mut summaries = Vec::new();
        for c in &cs {
            let members: Vec<&RunData> = task_runs
                .iter()
                .copied()
                .filter(|r| c.runs.iter().any(|x| x.dir == r.dir))
                .collect();
            let mut s = summarise(c, &members, opts)?;
            s.task = task.clone();
            s.id = config_id(&config_key(&members[0].meta, &["seed", "name"]));
            summaries.push(s);
        }
        summaries.sort_by(|a, b| {
            b.final_test_accuracy
                .median
                .total_cmp(&a.final_test_accuracy.median)
        });
        let judged = judge(&cs);
        if judged.is_empty() {
            for claim in [Claim::C4, Claim::C5, Claim::C6] {
                verdicts.push(not_evaluated(
                    claim,
                    rule(claim),
                    &format!("task {task}: no cyclic-p configuration (padam with a scheduled p) among its classification runs"),
                ));
            }
        }
        for mut v in judged {
            v.subject = format!("task {task}: {}", v.subject);
            v.data["task"] = json!(task);
            verdicts.push(v);
        }
        out.extend(summaries);
    }
    Ok(ClassificationSection {
        definitions: DEFINITIONS,
        loss_levels: LOSS_LEVELS,
        decisive_level: C4_LEVEL,
        agreement_levels: AGREEMENT_LEVELS,
        n_runs: runs.len(),
        n_diverged: runs.iter().filter(|r| r.status() == "diverged").count(),
        configs: out,
        verdicts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::render;
    use std::fmt::Write as _;
    use std::fs;
    use std::path::Path;

    /// A hand-written classification run on scattered data (K = 2): epochs 0..=200 every 10,
    /// train loss and test accuracy as given per epoch index, e_low = 10^(-e/45) and
    /// e_high = 10^(-e/95) at both deltas, the last epoch's per-class test accuracies and the
    /// agreement epochs of run.json.
    fn write_run(dir: &Path, seed: u64, p: Value, class_acc: [f64; 2], agree: [Option<u64>; 2]) {
        fs::create_dir_all(dir).unwrap();
        let meta = json!({
            "format": "bandwise-run/1",
            "name": "blobs",
            "seed": seed,
            "status": "completed",
            "config": {
                "name": "blobs", "seed": seed,
                "optimizer": {"name": "padam", "lr": 0.01, "p": p},
                "target": {"kind": "dataset"},
                "train": {"epochs": 200},
                "spectral": {"thresholds": [0.1]}
            },
            "classification": {
                "classes": 2,
                "agreement": {"first_epoch": {"0.9": agree[0], "0.95": agree[1]}},
                "filtering": {"median_distance": 2.0}
            }
        });
        fs::write(dir.join("run.json"), meta.to_string()).unwrap();
        let n = crate::record::num;
        let (mut ep, mut fl, mut ca, mut ag) = (
            String::from(
                "epoch,step,train_loss,test_loss,train_accuracy,test_accuracy,lr,p,wall_s\n",
            ),
            String::from("epoch,level,delta,e_low,e_high\n"),
            String::from("epoch,split,class,count,accuracy\n"),
            String::from("epoch,agreement\n"),
        );
        for i in 0..=20u64 {
            let e = 10 * i;
            // Train loss 2.0, 1.6, 1.4, then down by 0.05 per step; accuracy 0.1, 0.3, 0.5, ...
            let loss = match i {
                0 => 2.0,
                1 => 1.6,
                _ => 1.4 - 0.05 * (i - 2) as f64,
            };
            let acc = (0.1 + 0.2 * i as f64).min(0.9);
            let _ = writeln!(
                ep,
                "{e},{e},{},{},{},{},0.01,,0",
                n(loss),
                n(loss),
                n(acc),
                n(acc)
            );
            for (l, delta) in [0.25, 0.5].iter().enumerate() {
                let (lo, hi) = (
                    10f64.powf(-(e as f64) / 45.0),
                    10f64.powf(-(e as f64) / 95.0),
                );
                let _ = writeln!(fl, "{e},{l},{delta},{},{}", n(lo), n(hi));
            }
            for (k, a) in class_acc.iter().enumerate() {
                let a = if i == 20 { *a } else { 0.5 };
                let _ = writeln!(ca, "{e},test,{k},5,{}", n(a));
            }
            let _ = writeln!(ag, "{e},{}", n(if i == 20 { 1.0 } else { 0.5 }));
        }
        fs::write(dir.join("epochs.csv"), ep).unwrap();
        fs::write(dir.join("filtering.csv"), fl).unwrap();
        fs::write(dir.join("class_accuracy.csv"), ca).unwrap();
        fs::write(dir.join("agreement.csv"), ag).unwrap();
    }

    #[test]
    fn summary_of_hand_written_classification_runs() {
        let tmp = tempfile::tempdir().unwrap();
        write_run(
            &tmp.path().join("a"),
            1,
            json!(0.0),
            [0.9, 0.7],
            [Some(30), Some(50)],
        );
        write_run(
            &tmp.path().join("b"),
            2,
            json!(0.0),
            [0.8, 0.6],
            [Some(40), None],
        );
        let r = crate::analysis::build(&[tmp.path().to_path_buf()], &ReportOptions::default(), &[])
            .unwrap();
        let sec = r.classification.as_ref().unwrap();
        assert_eq!(sec.configs.len(), 1);
        let c = &sec.configs[0];
        assert_eq!((c.n_runs, c.classes, c.task.as_str()), (2, 2, "t1"));
        assert_eq!(c.final_test_accuracy.median, 0.9);
        assert!((c.final_test_error.mean - 0.1).abs() < 1e-12);
        // Per class, last epoch: medians of (0.9, 0.8) and (0.7, 0.6).
        let per: Vec<(usize, f64)> = c
            .per_class
            .iter()
            .map(|k| (k.count, k.test_accuracy.median))
            .collect();
        assert_eq!(per.len(), 2);
        assert_eq!(per[0].0, 5);
        assert!(
            (per[0].1 - 0.85).abs() < 1e-12 && (per[1].1 - 0.65).abs() < 1e-12,
            "{per:?}"
        );
        // 75% of 2.0 = 1.5, halfway between (1.6, 0.3) and (1.4, 0.5): 0.4 in both seeds.
        let a75 = &c.accuracy_at_loss[0];
        assert_eq!((a75.level, a75.reached, a75.n), (0.75, 2, 2));
        assert!((a75.accuracy.mean - 0.4).abs() < 1e-12);
        assert!((a75.loss_fraction.median - 0.7).abs() < 1e-12);
        // Agreement: 90% at 30 and 40 (median 35); 95% reached by one seed of two: never.
        assert_eq!(c.agreement[0].first_epoch.median, Some(35.0));
        assert_eq!(
            (
                c.agreement[1].first_epoch.median,
                c.agreement[1].first_epoch.reached
            ),
            (None, 1)
        );
        // Filtering: e_low falls 1/45 decades per epoch (below 0.1 first at 50), e_high 1/95
        // (at 100); half-lives 20 and 30; factor = delta / the median distance 2.
        assert_eq!(c.filtering.len(), 4);
        assert!(c.bands.is_empty());
        let (low, high) = (&c.filtering[0], &c.filtering[2]);
        assert_eq!(
            (low.part, low.level, low.delta, low.factor),
            ("low", 0, 0.25, Some(0.125))
        );
        assert_eq!((high.part, high.level), ("high", 0));
        assert_eq!(low.convergence.to_threshold[0].epochs.median, Some(50.0));
        assert_eq!(high.convergence.to_threshold[0].epochs.median, Some(100.0));
        assert_eq!(low.convergence.half_life.median, Some(20.0));
        assert_eq!(high.convergence.half_life.median, Some(30.0));
        assert!((low.convergence.decay_rate.mean - 1.0 / 45.0).abs() < 1e-9);
        assert!((high.convergence.decay_rate.mean - 1.0 / 95.0).abs() < 1e-9);
        // No cyclic configuration: nothing judged by default, a reason when asked.
        assert!(r.verdicts.is_empty());
        let asked = crate::analysis::build(
            &[tmp.path().to_path_buf()],
            &ReportOptions::default(),
            &[Claim::C4],
        )
        .unwrap();
        assert_eq!(asked.verdicts.len(), 1);
        assert!(asked.verdicts[0].evidence[0].contains("no cyclic-p configuration"));
        // Renderings carry the same numbers.
        let md = render::markdown(&r);
        assert!(md.contains("| e_low | 0.25 (0.125) | 50 | 20 |"), "{md}");
        assert!(
            md.contains("| 75% | 0.400 [0.400, 0.400] | 2 of 2 | 0.700 |"),
            "{md}"
        );
        let csv = render::csv(&r);
        assert!(
            csv.contains("e_high delta=0.25,epochs_to_threshold,0.1,median,100.0\n"),
            "{csv}"
        );
        let median: f64 = csv
            .lines()
            .find(|l| l.contains("class 1,class_test_accuracy,,median,"))
            .and_then(|l| l.rsplit(',').next())
            .and_then(|v| v.parse().ok())
            .expect("a median row for class 1");
        assert!((median - 0.65).abs() < 1e-12, "{median}\n{csv}");
    }

    #[test]
    fn a_corrupted_filtering_record_names_the_file_and_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a");
        write_run(&dir, 1, json!(0.0), [0.9, 0.7], [Some(30), Some(50)]);
        let path = dir.join("filtering.csv");
        let text = fs::read_to_string(&path).unwrap();
        // Swap the rows of epochs 0 and 10 (level 0): epoch 0 now comes after epoch 10.
        let mut lines: Vec<&str> = text.lines().collect();
        lines.swap(1, 3);
        fs::write(&path, lines.join("\n")).unwrap();
        let e = format!("{:#}", RunData::load(&dir).unwrap_err());
        assert!(
            e.contains("filtering.csv line") && e.contains("comes after epoch 10"),
            "{e}"
        );
    }
}
