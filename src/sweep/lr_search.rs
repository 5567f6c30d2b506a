//! The fair-lr protocol: per configuration, a short learning-rate grid search, then the full
//! runs at the chosen lr.
//!
//! Optimizers differ in their natural step size (p changes the step by orders of magnitude),
//! so comparing them at one lr favours some. With `[lr_search]` in a sweep spec:
//!
//! ```toml
//! [lr_search]
//! grid = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
//! seeds = 2                       # or a list; default 2 (seeds 0 and 1)
//! epochs = 200                    # budget of each search run; default: the base's train.epochs
//! criterion = "final_train_loss"  # or "final_test_loss"
//! ```
//!
//! for each config id every (lr, seed) pair is trained for `epochs` epochs into
//! `DIR/lr_search/<config id>/lr=<lr>__seed=<seed>/` (resumable like every run); the criterion
//! is read from each run.json (a diverged run counts as +inf); the chosen lr is the one with
//! the lowest median over the seeds (ties: the first in grid order); it replaces optimizer.lr
//! (as a constant) in the config of every run of that config id. `DIR/lr_search.json` records,
//! per config: the grid, the criterion per lr and seed, the medians and the chosen lr.

use super::exec::Job;
use super::spec::{Criterion, LrSearchSpec, PlannedRun, SweepSpec};
use crate::record::{is_run_dir, num, read_run_json, write_atomic};
use anyhow::Result;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The lr-search record in a sweep directory.
pub const LR_SEARCH_JSON: &str = "lr_search.json";

/// The search of one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LrChoice {
    pub config_id: String,
    pub grid: Vec<f64>,
    pub seeds: Vec<u64>,
    /// Criterion per lr (outer, grid order) and seed (inner); None = run missing (not yet run
    /// or failed); +inf = diverged.
    pub values: Vec<Vec<Option<f64>>>,
    /// Median over seeds per lr; None while a seed is missing.
    pub medians: Vec<Option<f64>>,
    /// The chosen lr: None while runs are missing or when every lr diverged.
    pub chosen: Option<f64>,
}

impl LrChoice {
    /// Why no lr was chosen.
    pub fn failure(&self) -> String {
        let missing = self.values.iter().flatten().filter(|v| v.is_none()).count();
        if missing > 0 {
            format!("the lr search of config `{}` is incomplete ({missing} of {} search runs missing or failed)", self.config_id, self.grid.len() * self.seeds.len())
        } else {
            format!("the lr search of config `{}` found no lr with a finite criterion (every lr of the grid diverged); add smaller learning rates to lr_search.grid", self.config_id)
        }
    }
}

/// Directory of the search runs of `config_id`.
pub fn search_dir(out: &Path, config_id: &str) -> PathBuf {
    out.join("lr_search").join(config_id)
}

/// Id of one search run, e.g. `lr=0.001__seed=0`.
pub fn search_run_id(lr: f64, seed: u64) -> String {
    format!("lr={}__seed={seed}", num(lr))
}

/// Median (mean of the two middle values for an even count); +inf sorts last.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ if v[n / 2].is_infinite() => v[n / 2],
        _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Index of the lowest finite median (the first on ties); None if none is finite.
pub fn pick(medians: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &m) in medians.iter().enumerate() {
        if m.is_finite() && best.is_none_or(|b| m < medians[b]) {
            best = Some(i);
        }
    }
    best
}

/// The criterion of a finished run directory: +inf if it diverged or the value is undefined.
pub fn criterion_of(dir: &Path, criterion: Criterion) -> Result<f64> {
    let meta = read_run_json(dir)?;
    if meta["status"] != "completed" {
        return Ok(f64::INFINITY);
    }
    let key = match criterion {
        Criterion::FinalTrainLoss => "final_train_loss",
        Criterion::FinalTestLoss => "final_test_loss",
    };
    Ok(meta["summary"][key]
        .as_f64()
        .filter(|x| x.is_finite())
        .unwrap_or(f64::INFINITY))
}

/// The search runs the selected runs need (one set per config id among them).
pub(crate) fn jobs(
    spec: &SweepSpec,
    search: &LrSearchSpec,
    selected: &[&PlannedRun],
    out: &Path,
    cleaned: &mut usize,
) -> Result<Vec<Job>> {
    let mut seen: Vec<&str> = Vec::new();
    let mut jobs = Vec::new();
    for r in selected {
        if seen.contains(&r.config_id.as_str()) {
            continue;
        }
        seen.push(&r.config_id);
        let dir = search_dir(out, &r.config_id);
        *cleaned += crate::commit::clean_stale(&dir)?;
        for &lr in &search.grid {
            for &seed in &search.seeds {
                let id = search_run_id(lr, seed);
                let mut exp = r.experiment.clone();
                exp.seed = seed;
                exp.train.epochs = search.epochs;
                exp.optimizer
                    .settings
                    .insert("lr".into(), toml::Value::Float(lr));
                exp.name = format!("{}/lr_search/{}/{id}", spec.name, r.config_id);
                jobs.push(Job {
                    label: format!("lr_search/{}/{id}", r.config_id),
                    dir: dir.join(&id),
                    experiment: exp,
                });
            }
        }
    }
    Ok(jobs)
}

/// Read every config's search results from disk (all configs of the sweep, not only a shard's).
pub(crate) fn collect(
    _spec: &SweepSpec,
    search: &LrSearchSpec,
    runs: &[PlannedRun],
    out: &Path,
) -> Result<Vec<LrChoice>> {
    let mut choices: Vec<LrChoice> = Vec::new();
    for r in runs {
        if choices.iter().any(|c| c.config_id == r.config_id) {
            continue;
        }
        let dir = search_dir(out, &r.config_id);
        let mut values = Vec::new();
        for &lr in &search.grid {
            let mut row = Vec::new();
            for &seed in &search.seeds {
                let run = dir.join(search_run_id(lr, seed));
                row.push(if is_run_dir(&run) {
                    Some(criterion_of(&run, search.criterion)?)
                } else {
                    None
                });
            }
            values.push(row);
        }
        let medians: Vec<Option<f64>> = values
            .iter()
            .map(|row| {
                row.iter()
                    .copied()
                    .collect::<Option<Vec<f64>>>()
                    .map(|v| median(&v))
            })
            .collect();
        let chosen = medians
            .iter()
            .copied()
            .collect::<Option<Vec<f64>>>()
            .and_then(|m| pick(&m))
            .map(|i| search.grid[i]);
        choices.push(LrChoice {
            config_id: r.config_id.clone(),
            grid: search.grid.clone(),
            seeds: search.seeds.clone(),
            values,
            medians,
            chosen,
        });
    }
    Ok(choices)
}

/// A criterion value as JSON: a number, "inf", or null (missing).
fn value_json(v: Option<f64>) -> Value {
    match v {
        Some(x) if x.is_finite() => json!(x),
        Some(x) if x.is_infinite() => json!(if x > 0.0 { "inf" } else { "-inf" }),
        _ => Value::Null,
    }
}

/// Write DIR/lr_search.json.
pub(crate) fn write_json(
    spec: &SweepSpec,
    search: &LrSearchSpec,
    choices: &[LrChoice],
    out: &Path,
) -> Result<()> {
    let configs: Vec<Value> = choices
        .iter()
        .map(|c| {
            let status = if c.chosen.is_some() {
                "chosen"
            } else if c.values.iter().flatten().any(Option::is_none) {
                "incomplete"
            } else {
                "all_diverged"
            };
            json!({
                "config_id": c.config_id,
                "status": status,
                "chosen_lr": c.chosen,
                "grid": c.grid,
                "seeds": c.seeds,
                "criterion_per_lr_and_seed": c.values.iter().map(|row| row.iter().map(|v| value_json(*v)).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "median_per_lr": c.medians.iter().map(|m| value_json(*m)).collect::<Vec<_>>(),
                "runs": format!("lr_search/{}/", c.config_id),
            })
        })
        .collect();
    let doc = json!({
        "format": "bandwise-lr-search/1",
        "sweep": spec.name,
        "criterion": search.criterion.as_str(),
        "epochs": search.epochs,
        "seeds": search.seeds,
        "grid": search.grid,
        "rule": "per config id: every lr of the grid is trained for `epochs` epochs on each seed; the criterion is read from run.json's summary (a diverged run counts as \"inf\"); the chosen lr has the lowest median over the seeds (ties: first in grid order) and replaces optimizer.lr (as a constant) in every run of that config. null = search run missing (not yet run or failed)",
        "configs": configs,
    });
    write_atomic(
        &out.join(LR_SEARCH_JSON),
        (serde_json::to_string_pretty(&doc)? + "\n").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_pick() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0]), 2.5);
        assert_eq!(median(&[1.0, f64::INFINITY]), f64::INFINITY);
        assert_eq!(median(&[1.0, 2.0, f64::INFINITY]), 2.0);
        assert_eq!(pick(&[f64::INFINITY, 0.3, 0.1, 0.1]), Some(2));
        assert_eq!(pick(&[f64::INFINITY, f64::INFINITY]), None);
        assert_eq!(search_run_id(3e-4, 1), "lr=0.0003__seed=1");
    }
}
