//! Aggregation over seeds and configurations of the regression runs: runs are grouped by
//! configuration (run.json `config` without `seed` and `name`, as canonical JSON), diverged
//! runs are counted and excluded, and every per-run number becomes a mean with a 95%
//! Student-t interval or a median with its range ([`super::over_seeds`]).
//!
//! Conventions (the statistics' own in [`super::over_seeds`]):
//! - baseline ("plain SGD on the same task"): a configuration with the same task (config
//!   without seed, name and optimizer) whose optimizer is `sgd`; if there is none, padam with a
//!   constant p = 0 (SGD with EMA momentum, "SGD-like"); the report names which.

use super::claims::Verdict;
use super::grouping::{config_id, distinct_in_order, group_in_order, seeds_by_outcome};
use super::guards::{self, GuardResult, Guards, LrInfo};
use super::index::INDEX_DEFINITION;
use super::matched::{MATCHED_DEFINITION, MATCHED_LEVELS};
use super::metrics::{fixed_p, is_cyclic, ReportOptions, RunMetrics};
use super::over_seeds::{band_summaries, kernels_of};
// The statistics over seeds, at the path their users import them from.
pub use super::over_seeds::{
    median, BandSummary, Convergence, EpochStat, Estimate, PlateauCounts, Spread, ThresholdStat,
};
use serde::Serialize;
use serde_json::Value;

/// The schema identifier of the JSON report.
pub const SCHEMA: &str = "bandwise-report/1";

/// Where the kernel's predicted epochs of a configuration come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelWindow {
    /// Checkpoint epoch the prediction starts from (first checkpoint of kernel.json).
    pub checkpoint: u64,
    /// Last epoch of the prediction window (largest over seeds).
    pub window_end: u64,
    pub definition: &'static str,
}

/// The matched-loss slope of one configuration at one loss level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedLevel {
    /// Fraction of the initial train loss.
    pub level: f64,
    /// Slope over the completed seeds that reached the level (mean, 95% interval).
    pub slope: Estimate,
    /// Completed seeds that reached the level / all seeds (diverged included).
    pub reached: usize,
    pub n: usize,
    /// Epoch at which the level was reached, over completed seeds.
    pub epoch: EpochStat,
}

/// One configuration over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigSummary {
    /// "c" + 6 hex digits of a hash of the configuration (run.json `config` without seed and
    /// name): stable across windows, orderings and subsets of runs.
    pub id: String,
    pub label: String,
    /// "t1", "t2", ...: configurations with the same task share it.
    pub task: String,
    pub optimizer: Value,
    /// padam with a constant p.
    pub fixed_p: Option<f64>,
    /// padam with a scheduled p.
    pub cyclic: bool,
    pub n_runs: usize,
    pub n_diverged: usize,
    pub seeds: Vec<u64>,
    pub diverged_seeds: Vec<u64>,
    pub index: Estimate,
    /// The index with the decay window fixed to the first half of the budget.
    pub index_first_half: Estimate,
    /// Matched-loss slopes, one per level of the ladder (see [`MATCHED_DEFINITION`]).
    pub matched_loss: Vec<MatchedLevel>,
    /// Test loss at epoch 0 over completed seeds.
    pub initial_test_loss: Spread,
    /// The validity guards of this configuration.
    pub guards: GuardResult,
    /// The lr search that chose this configuration's lr, if any.
    pub lr_search: Option<LrInfo>,
    /// Label of the baseline configuration on the same task, if any.
    pub baseline: Option<String>,
    /// index - index(baseline), Welch interval; null for the baseline itself or without one.
    pub index_vs_baseline: Option<Estimate>,
    pub time_spearman: Estimate,
    pub coverage: Estimate,
    pub final_test_loss: Spread,
    pub bands: Vec<BandSummary>,
    pub runs: Vec<String>,
    /// run.json `config` without seed and name.
    pub config: Value,
    /// Where the bands' `predicted_to_threshold` come from (only when every completed seed
    /// has a kernel.json).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelWindow>,
    #[serde(skip)]
    pub key: String,
    #[serde(skip)]
    pub task_key: String,
}

/// A whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub definition: &'static str,
    /// The matched-loss slope definition.
    pub matched_definition: &'static str,
    /// The validity guards as applied (thresholds and their wording).
    pub guards: Guards,
    pub guards_definition: String,
    pub conventions: Conventions,
    pub grid: String,
    pub window_fraction: f64,
    pub n_runs: usize,
    pub n_diverged: usize,
    /// Regression configurations, sorted by index, most positive first (undefined last).
    pub configs: Vec<ConfigSummary>,
    /// Classification runs (present only when some were read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<super::class_summary::ClassificationSection>,
    pub verdicts: Vec<Verdict>,
    #[serde(skip)]
    pub runs: Vec<RunMetrics>,
}

impl Report {
    /// Task ids in report order.
    pub fn tasks(&self) -> Vec<String> {
        distinct_in_order(self.configs.iter().map(|c| c.task.clone()))
    }

    /// The fixed-p (padam, constant p) configurations of `task`, by increasing p.
    pub fn fixed_p_configs(&self, task: &str) -> Vec<&ConfigSummary> {
        let mut fixed: Vec<&ConfigSummary> = self
            .configs
            .iter()
            .filter(|c| c.task == task && c.fixed_p.is_some())
            .collect();
        fixed.sort_by(|a, b| {
            a.fixed_p
                .unwrap_or(0.0)
                .total_cmp(&b.fixed_p.unwrap_or(0.0))
        });
        fixed
    }
}

impl ConfigSummary {
    /// The matched-loss slope at loss `level` (undefined if the level is not recorded).
    pub fn matched_at(&self, level: f64) -> Estimate {
        self.matched_loss
            .iter()
            .find(|m| m.level == level)
            .map_or(Estimate::NONE, |m| m.slope)
    }
}

/// The conventions block of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Conventions {
    pub decay_window: String,
    pub intervals: &'static str,
    pub epochs_to_threshold: &'static str,
    pub half_life: &'static str,
    pub coverage: &'static str,
    pub plateau: &'static str,
    pub baseline: &'static str,
    pub diverged: &'static str,
}

fn conventions(opts: &ReportOptions) -> Conventions {
    Conventions {
        decay_window: format!("analysed epochs e <= {} x budget (config.train.epochs)", opts.window_fraction),
        intervals: "mean and 95% Student-t interval over completed seeds (null with < 2 seeds); differences to the baseline: Welch interval",
        epochs_to_threshold: "first analysed epoch with rel_error < threshold; median over seeds counts never = +inf (null = never); median_reached and min/max over seeds that reached",
        half_life: "first analysed epoch with rel_error <= rel_error(first analysed epoch) / 2",
        coverage: "mean over analysed epochs of log10(max(rel_error, 1e-6)), i.e. area under the log relative-error curve / budget; lower = covered earlier; the configuration's score averages the index bands",
        plateau: "log10 change of rel_error over the last 10% of the budget; converged if final rel_error < smallest threshold, else stalled if |change| < 0.05 decades, else improving/worsening",
        baseline: "same task (config without seed, name, optimizer); optimizer `sgd` if present, else padam with constant p = 0 (SGD with EMA momentum, `SGD-like`)",
        diverged: "diverged runs count in n (n_runs) as failures: they have no index, slope or coverage value, so means and intervals are over the completed seeds, and every table and verdict line shows `completed of n, diverged`; C6 counts a diverged seed as never reaching L*; the diverged-share guard bounds them",
    }
}

fn summarise(members: &[&RunMetrics], g: &Guards) -> ConfigSummary {
    let first = members[0];
    let done: Vec<&RunMetrics> = members.iter().copied().filter(|r| !r.diverged).collect();
    let coll = |f: &dyn Fn(&RunMetrics) -> f64| -> Vec<f64> { done.iter().map(|r| f(r)).collect() };
    let kernels = kernels_of(&done);
    let bands = band_summaries(&done);
    let (seeds, diverged_seeds) = seeds_by_outcome(members.iter().map(|r| (r.seed, r.diverged)));
    let config: Value = serde_json::from_str(&first.config_key).unwrap_or(Value::Null);
    let matched_loss: Vec<MatchedLevel> = MATCHED_LEVELS
        .iter()
        .enumerate()
        .map(|(i, &level)| {
            let pts: Vec<_> = done.iter().filter_map(|r| r.matched.get(i)).collect();
            MatchedLevel {
                level,
                slope: Estimate::of(&pts.iter().map(|p| p.slope).collect::<Vec<_>>()),
                reached: pts.iter().filter(|p| p.epoch.is_some()).count(),
                n: members.len(),
                epoch: EpochStat::of(&pts.iter().map(|p| p.epoch).collect::<Vec<_>>()),
            }
        })
        .collect();
    let ratios: Vec<f64> = done
        .iter()
        .map(|r| r.final_test_loss / r.initial_test_loss)
        .collect();
    let lr_search = members.iter().find_map(|r| r.lr.clone());
    let guard = guards::evaluate(
        g,
        members.len(),
        members.len() - done.len(),
        median(&ratios),
        done.iter().filter(|r| r.band_below_threshold).count(),
        lr_search.as_ref(),
    );
    let kernel = kernels.map(|ks| KernelWindow {
        checkpoint: ks.iter().map(|k| k.checkpoint).min().unwrap_or(0),
        window_end: ks.iter().map(|k| k.window_end).max().unwrap_or(0),
        definition: super::metrics::PREDICTED_DEFINITION,
    });
    ConfigSummary {
        kernel,
        id: String::new(),
        label: first.label.clone(),
        task: String::new(),
        optimizer: first.optimizer.clone(),
        fixed_p: fixed_p(&first.optimizer),
        cyclic: is_cyclic(&first.optimizer),
        n_runs: members.len(),
        n_diverged: members.len() - done.len(),
        seeds,
        diverged_seeds,
        index: Estimate::of(&coll(&|r| r.index.index)),
        index_first_half: Estimate::of(&coll(&|r| r.index_half)),
        matched_loss,
        initial_test_loss: Spread::of(&coll(&|r| r.initial_test_loss)),
        guards: guard,
        lr_search,
        baseline: None,
        index_vs_baseline: None,
        time_spearman: Estimate::of(&coll(&|r| r.time_spearman)),
        coverage: Estimate::of(&coll(&|r| r.coverage)),
        final_test_loss: Spread::of(&coll(&|r| r.final_test_loss)),
        bands,
        runs: members
            .iter()
            .map(|r| r.dir.display().to_string())
            .collect(),
        config,
        key: first.config_key.clone(),
        task_key: first.task_key.clone(),
    }
}

/// The index values of the completed runs of configuration `key`.
pub fn config_indices(runs: &[RunMetrics], key: &str) -> Vec<f64> {
    runs.iter()
        .filter(|r| r.config_key == key && !r.diverged)
        .map(|r| r.index.index)
        .filter(|x| x.is_finite())
        .collect()
}

/// The baseline configuration of `task_key` among `configs` (see the module docs).
pub fn baseline_of<'a>(configs: &'a [ConfigSummary], task_key: &str) -> Option<&'a ConfigSummary> {
    let same: Vec<&ConfigSummary> = configs.iter().filter(|c| c.task_key == task_key).collect();
    let pick = |f: &dyn Fn(&ConfigSummary) -> bool| {
        same.iter()
            .copied()
            .filter(|c| f(c))
            .min_by(|a, b| a.label.cmp(&b.label))
    };
    pick(&|c| c.optimizer["name"].as_str() == Some("sgd"))
        .or_else(|| pick(&|c| c.fixed_p == Some(0.0)))
}

/// Group runs by configuration and summarise (verdicts are added by [`super::verdict`]).
pub fn aggregate(runs: Vec<RunMetrics>, opts: &ReportOptions) -> Report {
    let mut configs: Vec<ConfigSummary> = group_in_order(&runs, |r| r.config_key.clone())
        .iter()
        .map(|(_, members)| summarise(members, &opts.guards))
        .collect();
    // Baselines and differences.
    let baselines: Vec<Option<(String, String)>> = configs
        .iter()
        .map(|c| baseline_of(&configs, &c.task_key).map(|b| (b.key.clone(), b.label.clone())))
        .collect();
    for (c, b) in configs.iter_mut().zip(baselines) {
        if let Some((bkey, blabel)) = b {
            let kind = if blabel.starts_with("sgd") {
                ""
            } else {
                " (SGD-like)"
            };
            c.baseline = Some(format!("{blabel}{kind}"));
            if bkey != c.key {
                c.index_vs_baseline = Some(Estimate::welch_diff(
                    &config_indices(&runs, &c.key),
                    &config_indices(&runs, &bkey),
                ));
            }
        }
    }
    configs.sort_by(
        |a, b| match (a.index.mean.is_finite(), b.index.mean.is_finite()) {
            (true, true) => b.index.mean.total_cmp(&a.index.mean),
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            (false, false) => a.label.cmp(&b.label),
        },
    );
    // Disambiguate equal labels, number tasks and configurations.
    let tasks = distinct_in_order(configs.iter().map(|c| c.task_key.clone()));
    for i in 0..configs.len() {
        let dup = configs
            .iter()
            .filter(|c| c.label == configs[i].label && c.task_key == configs[i].task_key)
            .count()
            > 1;
        if dup {
            configs[i].label = format!(
                "{} [{}]",
                configs[i].label,
                configs[i].config["name"].as_str().unwrap_or("?")
            );
        }
        configs[i].id = config_id(&configs[i].key);
        configs[i].task = format!(
            "t{}",
            tasks
                .iter()
                .position(|t| t == &configs[i].task_key)
                .unwrap_or(0)
                + 1
        );
    }
    Report {
        schema: SCHEMA,
        definition: INDEX_DEFINITION,
        matched_definition: MATCHED_DEFINITION,
        guards: opts.guards,
        guards_definition: guards::describe(&opts.guards),
        conventions: conventions(opts),
        grid: opts.grid.clone(),
        window_fraction: opts.window_fraction,
        n_runs: runs.len(),
        n_diverged: runs.iter().filter(|r| r.diverged).count(),
        configs,
        classification: None,
        verdicts: Vec::new(),
        runs,
    }
}
