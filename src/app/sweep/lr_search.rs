//! The fair-lr protocol: per configuration, a short learning-rate grid search, then the full
//! runs at the chosen lr.
//!
//! Optimizers differ in their natural step size (p changes the step by orders of magnitude),
//! so comparing them at one lr favours some. With `[lr_search]` in a sweep spec:
//!
//! ```toml
//! [lr_search]
//! grid = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
//! seeds = 2                       # a count: that many seeds from 1000 up, skipping the
//!                                 # evaluation seeds (default 2); or a list, which must not
//!                                 # share a seed with the evaluation seeds (refused if it does)
//! epochs = 200                    # budget of each search run; default: the base's train.epochs
//! criterion = "final_train_loss"  # or "final_test_loss"
//! ```
//!
//! for each config id every (lr, seed) pair is trained for `epochs` epochs (snapshot epochs
//! beyond that budget dropped) into
//! `DIR/lr_search/<config id>/lr=<lr>__seed=<seed>/` (resumable like every run); the criterion
//! is read from each run.json (a diverged run counts as +inf); the chosen lr is the one with
//! the lowest median over the seeds (ties: the first in grid order); it replaces optimizer.lr
//! (as a constant) in the config of every run of that config id. `DIR/lr_search.json` records,
//! per config: the grid, the criterion per lr and seed, the medians and the chosen lr.
//!
//! Edges: when the chosen lr is the smallest or largest of the grid, the grid of that config is
//! extended in that direction by the grid's own ratio at that edge (e.g. 1 -> 3.16 for a
//! half-decade grid) and searched again, until the choice is interior or [`MAX_EXTENSIONS`]
//! points were added in that direction or the next point leaves [[`LR_MIN`], [`LR_MAX`]].
//! lr_search.json records the added points (`extended_with`) and whether the final choice is
//! still at an edge (`chosen_at_edge`: "lower", "upper" or null); reports treat a choice still
//! at an edge as a failed validity guard.
//!
//! Stability: the choice is also made with the criterion read at half the search budget (the
//! last recorded epoch <= epochs / 2 of each search run); `stable_at_half_budget` says whether
//! both choices agree. `seeds_disjoint_from_evaluation` says whether the search seeds avoid
//! every evaluation seed.

use super::jobs::Job;
use super::spec::{Criterion, LrSearchSpec, PlannedRun, SweepSpec};
use crate::record::sweep_index::LR_SEARCH_JSON;
use crate::record::{is_run_dir, num, read_run_json, write_atomic};
use anyhow::Result;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// At most this many learning rates are added beyond each edge of the spec's grid.
pub const MAX_EXTENSIONS: usize = 3;
/// Extensions stay within [LR_MIN, LR_MAX].
pub const LR_MIN: f64 = 1e-7;
pub const LR_MAX: f64 = 10.0;

/// The search of one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LrChoice {
    pub config_id: String,
    /// The searched grid (the spec's grid plus extensions), ascending.
    pub grid: Vec<f64>,
    /// Learning rates added beyond the spec's grid, in the order they were added.
    pub extended_with: Vec<f64>,
    /// The choice with the criterion at half the search budget (None if not computable).
    pub chosen_at_half: Option<f64>,
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

impl LrChoice {
    /// "lower" / "upper" if the chosen lr is at that edge of the searched grid (a grid of one
    /// point is at both: "lower").
    pub fn at_edge(&self) -> Option<&'static str> {
        let lr = self.chosen?;
        let (lo, hi) = (self.grid.first()?, self.grid.last()?);
        if lr == *lo {
            Some("lower")
        } else if lr == *hi {
            Some("upper")
        } else {
            None
        }
    }

    /// The next lr to try beyond the edge the choice sits at, if the limits allow one.
    pub fn next_extension(&self, spec_grid: &[f64]) -> Option<f64> {
        let edge = self.at_edge()?;
        let g = &self.grid;
        if g.len() < 2 {
            return None;
        }
        let (lo0, hi0) = spec_grid
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
        let beyond = |below: bool| {
            self.extended_with
                .iter()
                .filter(|&&x| if below { x < lo0 } else { x > hi0 })
                .count()
        };
        let (next, below) = if edge == "lower" {
            (g[0] * g[0] / g[1], true)
        } else {
            let n = g.len();
            (g[n - 1] * g[n - 1] / g[n - 2], false)
        };
        // Three significant digits, so that 0.1 * 0.1 / 0.01 is 1 and not 1.0000000000000002.
        let next: f64 = format!("{next:.2e}").parse().unwrap_or(next);
        (beyond(below) < MAX_EXTENSIONS && (LR_MIN..=LR_MAX).contains(&next)).then_some(next)
    }
}

/// The grid of one config: the spec's grid and its extensions, ascending, without duplicates.
pub fn config_grid(spec_grid: &[f64], extra: &[f64]) -> Vec<f64> {
    let mut g: Vec<f64> = spec_grid.iter().chain(extra).copied().collect();
    g.sort_by(f64::total_cmp);
    g.dedup();
    g
}

/// Extensions per config id (see the module docs).
pub type Extensions = Vec<(String, Vec<f64>)>;

fn extra_of<'a>(ext: &'a Extensions, id: &str) -> &'a [f64] {
    ext.iter()
        .find(|(c, _)| c == id)
        .map_or(&[], |(_, v)| v.as_slice())
}

/// Add the next extension of every config whose choice sits at an edge; true if any was added.
pub fn extend(choices: &[LrChoice], spec_grid: &[f64], ext: &mut Extensions) -> bool {
    let mut added = false;
    for c in choices {
        if let Some(lr) = c.next_extension(spec_grid) {
            match ext.iter_mut().find(|(id, _)| *id == c.config_id) {
                Some((_, v)) => v.push(lr),
                None => ext.push((c.config_id.clone(), vec![lr])),
            }
            added = true;
        }
    }
    added
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

/// The criterion read from epochs.csv at the last recorded epoch <= `epoch` (+inf if not
/// finite or the run diverged before it); None if the record cannot be read.
pub fn criterion_at(dir: &Path, criterion: Criterion, epoch: u64) -> Option<f64> {
    let run = crate::record::load::RunData::load(dir).ok()?;
    let col = match criterion {
        Criterion::FinalTrainLoss => &run.epochs.train_loss,
        Criterion::FinalTestLoss => &run.epochs.test_loss,
    };
    let i = run.epochs.epoch.iter().rposition(|&e| e <= epoch)?;
    let v = col[i];
    let reached = run.epochs.epoch.last().is_some_and(|&l| l >= epoch);
    Some(if v.is_finite() && reached {
        v
    } else {
        f64::INFINITY
    })
}

/// The search runs the selected runs need (one set per config id among them).
pub(crate) fn jobs(
    spec: &SweepSpec,
    search: &LrSearchSpec,
    selected: &[&PlannedRun],
    out: &Path,
    cleaned: &mut usize,
    ext: &Extensions,
) -> Result<Vec<Job>> {
    let mut seen: Vec<&str> = Vec::new();
    let mut jobs = Vec::new();
    for r in selected {
        if seen.contains(&r.config_id.as_str()) {
            continue;
        }
        seen.push(&r.config_id);
        let dir = search_dir(out, &r.config_id);
        *cleaned += crate::record::commit::clean_stale(&dir)?;
        for lr in config_grid(&search.grid, extra_of(ext, &r.config_id)) {
            for &seed in &search.seeds {
                let id = search_run_id(lr, seed);
                let mut exp = r.experiment.clone();
                exp.seed = seed;
                exp.train.epochs = search.epochs;
                // A search run needs only its criterion: snapshot epochs past its (shorter)
                // budget are dropped rather than refused.
                if let Some(s) = exp.record.snapshots.as_mut() {
                    s.retain(|&e| e <= search.epochs);
                }
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
    ext: &Extensions,
) -> Result<Vec<LrChoice>> {
    let mut choices: Vec<LrChoice> = Vec::new();
    for r in runs {
        if choices.iter().any(|c| c.config_id == r.config_id) {
            continue;
        }
        let dir = search_dir(out, &r.config_id);
        let grid = config_grid(&search.grid, extra_of(ext, &r.config_id));
        let mut values = Vec::new();
        let mut half_values = Vec::new();
        for &lr in &grid {
            let mut row = Vec::new();
            let mut half_row = Vec::new();
            for &seed in &search.seeds {
                let run = dir.join(search_run_id(lr, seed));
                if is_run_dir(&run) {
                    row.push(Some(criterion_of(&run, search.criterion)?));
                    half_row.push(criterion_at(&run, search.criterion, search.epochs / 2));
                } else {
                    row.push(None);
                    half_row.push(None);
                }
            }
            values.push(row);
            half_values.push(half_row);
        }
        // Median over seeds per lr; None while a seed's value is missing.
        let row_median = |row: &Vec<Option<f64>>| {
            row.iter()
                .copied()
                .collect::<Option<Vec<f64>>>()
                .map(|v| median(&v))
        };
        let half_medians: Option<Vec<f64>> = half_values.iter().map(row_median).collect();
        let chosen_at_half = half_medians.and_then(|m| pick(&m)).map(|i| grid[i]);
        let medians: Vec<Option<f64>> = values.iter().map(row_median).collect();
        let chosen = medians
            .iter()
            .copied()
            .collect::<Option<Vec<f64>>>()
            .and_then(|m| pick(&m))
            .map(|i| grid[i]);
        choices.push(LrChoice {
            config_id: r.config_id.clone(),
            extended_with: extra_of(ext, &r.config_id).to_vec(),
            chosen_at_half,
            grid,
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
    eval_seeds: &[u64],
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
                "chosen_at_edge": c.at_edge(),
                "extended_with": c.extended_with,
                "chosen_at_half_budget": c.chosen_at_half,
                "stable_at_half_budget": c.chosen.zip(c.chosen_at_half).map(|(a, b)| a == b),
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
        "evaluation_seeds": eval_seeds,
        "seeds_disjoint_from_evaluation": !search.seeds.iter().any(|s| eval_seeds.contains(s)),
        "extension": format!("a choice at an edge of the grid extends that config's grid in that direction by the grid's ratio at that edge, at most {MAX_EXTENSIONS} points per direction, within [{LR_MIN:e}, {LR_MAX:e}]; chosen_at_edge = still at an edge afterwards"),
        "stability": "chosen_at_half_budget = the choice with the criterion read at the last recorded epoch <= epochs/2; stable_at_half_budget = it equals chosen_lr",
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

    fn choice(grid: &[f64], ext: &[f64], chosen: f64) -> LrChoice {
        LrChoice {
            config_id: "c".into(),
            grid: config_grid(grid, ext),
            extended_with: ext.to_vec(),
            chosen_at_half: None,
            seeds: vec![0],
            values: vec![],
            medians: vec![],
            chosen: Some(chosen),
        }
    }

    #[test]
    fn edges_extend_by_the_grid_ratio_up_to_the_limit() {
        let g = [1e-3, 1e-2, 1e-1];
        assert_eq!(choice(&g, &[], 1e-2).at_edge(), None);
        assert_eq!(choice(&g, &[], 1e-2).next_extension(&g), None);
        let up = choice(&g, &[], 1e-1);
        assert_eq!(up.at_edge(), Some("upper"));
        assert_eq!(up.next_extension(&g), Some(1.0));
        let down = choice(&g, &[], 1e-3);
        assert_eq!(down.at_edge(), Some("lower"));
        assert_eq!(down.next_extension(&g), Some(1e-4));
        // The limit: LR_MAX = 10 stops the upper side after 1 and 10.
        let top = choice(&g, &[1.0, 10.0], 10.0);
        assert_eq!(top.at_edge(), Some("upper"));
        assert_eq!(top.next_extension(&g), None);
        // MAX_EXTENSIONS points per direction.
        let low = choice(&g, &[1e-4, 1e-5, 1e-6], 1e-6);
        assert_eq!(low.next_extension(&g), None);
        let mut ext: Extensions = vec![];
        assert!(extend(&[up], &g, &mut ext));
        assert_eq!(ext[0].0, "c");
        assert!(!extend(&[top, low], &g, &mut ext));
    }
}
