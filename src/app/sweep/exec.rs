//! Running a sweep: parallel execution across runs, resume, shards, and the sweep index.
//!
//! - Parallelism: a rayon pool of `jobs` threads, one run per thread at a time; a run is
//!   single-threaded and deterministic, so the records do not depend on `jobs`; aggregation
//!   over seeds runs on the same pool.
//! - Resume: a run whose directory holds a run.json is complete (run directories are renamed
//!   into place only when finished) and is skipped. Hidden staging entries
//!   (`.<name>.partial-<host>-<pid>`, `.<name>.tmp-<host>-<pid>`) left by an interrupted
//!   process are removed when that process is no longer alive (see [`crate::record::commit`]: /proc on
//!   this host; another host's entries only once older than a stated age); the runs they
//!   belonged to are redone.
//! - Failures: a diverged run is recorded (status "diverged") and counts as done; a run that
//!   fails with an error (or panics) writes nothing, the others go on, and the report lists it.
//! - Shards: `--shard I/N` selects the runs whose index k in the run list has k mod N = I
//!   (strided, so that configurations of different cost are spread across shards). The
//!   lr-search runs a shard needs are not sharded: each shard runs (or reuses) the searches
//!   of the configurations it has runs of.
//! - Stages (for clusters, see crate::app::slurm): `Stage::Search` runs only the lr-search runs,
//!   sharded like the runs (search run j of the whole sweep belongs to shard j mod N), so each
//!   search runs once; `Stage::Runs` runs only the shard's runs and never a search run (a run
//!   whose configuration's search is incomplete fails with that message); neither aggregates.
//!   `Stage::Merge` trains nothing: it refuses while runs are missing or running (see
//!   [`super::status`]), else writes lr_search.json and the aggregates. `Stage::All` (the
//!   default) does everything in one process, as `bandwise sweep` always did.
//! - A run that fails leaves `failed/<run id>.txt` (its error) for `bandwise status`; the file
//!   is removed when the run later succeeds.
//! - sweep.json is rewritten at every start with the same content for the same spec (no
//!   timestamps), and a sweep directory written from a different spec is refused when a run
//!   id would now mean a different config, or by an engine with other numerics
//!   ([`crate::nn::NUMERICS`]: results that differ at round-off are not mixed).

use super::jobs::{execute, Job, Outcome, Progress};
use super::lr_search;
use super::spec::{PlannedRun, SweepSpec};
use super::{run_dir, SWEEP_FORMAT, SWEEP_JSON};
use crate::base::hash::fnv1a;
use crate::base::toml_path::toml_to_json;
use crate::engine::external::ExternalTrainer;
use crate::engine::train::Status;
use crate::nn::NUMERICS;
use crate::optim::Registry;
use crate::record::sweep_index::failure_file;
use crate::record::{is_run_dir, read_run_json, write_atomic};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One of N disjoint slices of the run list: run k belongs to shard k mod N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The whole run list.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether run `run_index` belongs to this shard.
    pub fn contains(&self, run_index: usize) -> bool {
        run_index % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!("--shard {s:?}: expected I/N with 0 <= I < N, e.g. 0/4 (shards are 0-based)")
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Which part of a sweep to do (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    /// Search (if any), runs and aggregation, in one process.
    #[default]
    All,
    /// Only the lr-search runs (sharded); no aggregation.
    Search,
    /// Only the runs (sharded), never a search run; no aggregation.
    Runs,
    /// No training: refuse unless every run is done, then lr_search.json and the aggregates.
    Merge,
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Stage, String> {
        Ok(match s {
            "all" => Stage::All,
            "search" => Stage::Search,
            "runs" => Stage::Runs,
            "merge" => Stage::Merge,
            _ => {
                return Err(format!(
                    "--stage {s:?}: expected all, search, runs or merge"
                ))
            }
        })
    }
}

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Runs in parallel (threads of the pool); at least 1.
    pub jobs: usize,
    pub shard: Shard,
    /// Where progress goes (the command line draws a bar on a terminal).
    pub progress: Progress,
    pub stage: Stage,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            jobs: 1,
            shard: Shard::ALL,
            progress: Progress::OFF,
            stage: Stage::All,
        }
    }
}

/// A run that failed with an error (not a divergence).
#[derive(Debug, Clone, PartialEq)]
pub struct RunFailure {
    /// The run id (`lr_search/<config id>/<id>` for search runs).
    pub id: String,
    pub error: String,
}

/// What a sweep did.
#[derive(Debug, Clone, Default)]
pub struct SweepReport {
    pub dir: PathBuf,
    /// Runs in the whole sweep and in this shard.
    pub total: usize,
    pub selected: usize,
    /// Runs of this shard already complete before this invocation.
    pub skipped: usize,
    /// Runs of this shard trained now that completed / diverged.
    pub completed: usize,
    pub diverged: usize,
    /// Runs of this shard (and lr-search runs) that failed.
    pub failed: Vec<RunFailure>,
    /// lr-search runs trained now and skipped as already complete.
    pub search_ran: usize,
    pub search_skipped: usize,
    /// Stale staging entries removed.
    pub cleaned: usize,
    /// Runs of this shard that are complete and diverged (including earlier invocations).
    pub diverged_total: usize,
    /// Parallel runs used: the requested jobs capped by [`capped_jobs`].
    pub jobs: usize,
    /// Why aggregation failed, if it did (the runs themselves are recorded).
    pub aggregate_error: Option<String>,
}

impl SweepReport {
    /// An error listing the failed runs and an aggregation failure, if any (both at once,
    /// so that neither hides the other).
    pub fn check(&self) -> Result<()> {
        let mut problems = Vec::new();
        if !self.failed.is_empty() {
            let list: Vec<String> = self
                .failed
                .iter()
                .map(|f| format!("  {}: {}", f.id, f.error))
                .collect();
            problems.push(format!(
                "{} run(s) failed (the others are recorded; rerun the same command to retry):\n{}",
                self.failed.len(),
                list.join("\n")
            ));
        }
        if let Some(e) = &self.aggregate_error {
            problems.push(format!(
                "aggregation of {} failed (the runs are recorded; rerun the same command to retry): {e}",
                self.dir.display()
            ));
        }
        if !problems.is_empty() {
            bail!("{}", problems.join("\n"));
        }
        Ok(())
    }
}

/// Run (the selected shard of) a sweep into `out`, then aggregate everything complete.
pub fn run_sweep(
    spec: &SweepSpec,
    registry: &Registry,
    out: &Path,
    opts: &SweepOptions,
) -> Result<SweepReport> {
    run_sweep_with(spec, registry, out, opts, None)
}

/// [`run_sweep`], with every run (search runs included) trained by `trainer` instead of
/// bandwise's own trainer when one is given (see [`crate::engine::external`]).
pub fn run_sweep_with(
    spec: &SweepSpec,
    registry: &Registry,
    out: &Path,
    opts: &SweepOptions,
    trainer: Option<&ExternalTrainer>,
) -> Result<SweepReport> {
    let runs = spec.expand(registry)?;
    // Recorded and checked when bandwise trains the runs (an external trainer's are its own).
    let numerics = trainer.is_none().then_some(NUMERICS);
    if opts.stage == Stage::Merge {
        return merge(spec, &runs, out, numerics);
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    write_index(spec, &runs, out, numerics)?;
    let mut report = SweepReport {
        dir: out.to_path_buf(),
        total: runs.len(),
        ..Default::default()
    };
    report.cleaned = crate::record::commit::clean_stale(&out.join("runs"))?
        + crate::record::commit::clean_stale(out)?;
    let aggregate_dir = out.join("aggregate");
    report.cleaned += crate::record::commit::clean_stale(&aggregate_dir)?;
    let selected: Vec<&PlannedRun> = runs
        .iter()
        .filter(|r| opts.shard.contains(r.index))
        .collect();
    report.selected = selected.len();
    // The search stage shards the configurations (each searched whole, extensions included,
    // by one task); the other stages search the configurations of their selected runs.
    let search_scope: Vec<&PlannedRun> = if opts.stage == Stage::Search {
        let mut configs: Vec<&str> = Vec::new();
        runs.iter()
            .filter(|r| {
                let k = match configs.iter().position(|c| *c == r.config_id) {
                    Some(k) => k,
                    None => {
                        configs.push(&r.config_id);
                        configs.len() - 1
                    }
                };
                opts.shard.contains(k)
            })
            .collect()
    } else {
        selected.clone()
    };
    let search_runs = spec.lr_search.as_ref().map_or(0, |s| {
        let configs = search_scope
            .iter()
            .map(|r| &r.config_id)
            .collect::<std::collections::BTreeSet<_>>();
        configs.len() * s.grid.len() * s.seeds.len()
    });
    report.jobs = capped_jobs(opts.jobs, selected.len().max(search_runs));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(report.jobs)
        .build()
        .context("cannot start the thread pool")?;

    // Per selected run: Ok(job) to train, or Err(why it cannot run), in run-list order.
    let mut planned: Vec<(String, Option<String>)> = Vec::new();
    let mut runnable: Vec<Job> = Vec::new();
    let mut push = |id: &str, job: Result<Job, String>| match job {
        Ok(j) => {
            planned.push((id.to_string(), None));
            runnable.push(j);
        }
        Err(e) => planned.push((id.to_string(), Some(e))),
    };
    if opts.stage == Stage::Search && spec.lr_search.is_none() {
        return Ok(report);
    }
    if let Some(search) = &spec.lr_search {
        // Search, then extend the grid of every config whose choice sits at an edge and
        // search the new points, until no choice moves to a new edge (see lr_search). The
        // runs stage trains no search run: it reads the finished search, and a configuration
        // whose search is incomplete fails with that reason.
        let mut ext: lr_search::Extensions = Vec::new();
        let mut first = true;
        let choices = loop {
            let search_jobs =
                lr_search::jobs(spec, search, &search_scope, out, &mut report.cleaned, &ext)?;
            if opts.stage != Stage::Runs {
                let outcomes = execute(
                    &pool,
                    registry,
                    &search_jobs,
                    &opts.progress,
                    "lr search",
                    trainer,
                );
                for (job, outcome) in search_jobs.iter().zip(&outcomes) {
                    mark_failure(out, &job.label, outcome)?;
                    match outcome {
                        // Later rounds list the earlier points again: count them once.
                        Outcome::Skipped(_) if first => report.search_skipped += 1,
                        Outcome::Skipped(_) => {}
                        Outcome::Ran(_) => report.search_ran += 1,
                        Outcome::Failed(e) => report.failed.push(RunFailure {
                            id: job.label.clone(),
                            error: e.clone(),
                        }),
                    }
                }
            }
            first = false;
            let choices = lr_search::collect(spec, search, &runs, out, &ext)?;
            if !lr_search::extend(&choices, &search.grid, &mut ext) {
                break choices;
            }
        };
        if opts.stage == Stage::Search {
            return Ok(report);
        }
        lr_search::write_json(spec, search, &choices, &evaluation_seeds(&runs), out)?;
        for r in &selected {
            let choice = choices
                .iter()
                .find(|c| c.config_id == r.config_id)
                .expect("every config has a search");
            let job = match choice.chosen {
                Some(lr) => {
                    let mut exp = r.experiment.clone();
                    exp.optimizer
                        .settings
                        .insert("lr".into(), toml::Value::Float(lr));
                    Ok(Job {
                        label: r.id.clone(),
                        dir: run_dir(out, &r.id),
                        experiment: exp,
                    })
                }
                None => Err(choice.failure()),
            };
            push(&r.id, job);
        }
    } else {
        for r in &selected {
            push(
                &r.id,
                Ok(Job {
                    label: r.id.clone(),
                    dir: run_dir(out, &r.id),
                    experiment: r.experiment.clone(),
                }),
            );
        }
    }
    let mut outcomes =
        execute(&pool, registry, &runnable, &opts.progress, "runs", trainer).into_iter();
    for (id, cannot) in planned {
        let outcome = match cannot {
            Some(e) => Outcome::Failed(e),
            None => outcomes.next().expect("one outcome per job"),
        };
        mark_failure(out, &id, &outcome)?;
        match outcome {
            Outcome::Skipped(status) => {
                report.skipped += 1;
                report.diverged_total += usize::from(status == "diverged");
            }
            Outcome::Ran(Status::Completed) => report.completed += 1,
            Outcome::Ran(Status::Diverged { .. }) => {
                report.diverged += 1;
                report.diverged_total += 1;
            }
            Outcome::Failed(e) => report.failed.push(RunFailure { id, error: e }),
        }
    }
    // An aggregation failure (e.g. a full disk) must not hide which runs failed: both are
    // reported by the caller.
    if opts.stage == Stage::All {
        // On the sweep's pool: aggregation uses `--jobs` threads too.
        if let Err(e) = pool.install(|| super::aggregate(out)) {
            report.aggregate_error = Some(format!("{e:#}"));
        }
    }
    Ok(report)
}

/// The distinct seeds of the evaluation runs, ascending.
fn evaluation_seeds(runs: &[PlannedRun]) -> Vec<u64> {
    let mut seeds: Vec<u64> = runs.iter().map(|r| r.experiment.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    seeds
}

/// Write (failed) or remove (ran) the failure record of a job.
fn mark_failure(out: &Path, label: &str, outcome: &Outcome) -> Result<()> {
    let path = failure_file(out, label);
    match outcome {
        Outcome::Failed(e) => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            write_atomic(&path, format!("{e}\n").as_bytes())
        }
        Outcome::Ran(_) if path.exists() => {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// `Stage::Merge`: refuse unless every run (and search run) is done, then write
/// lr_search.json and the aggregates; nothing is trained and no staging is touched.
fn merge(
    spec: &SweepSpec,
    runs: &[PlannedRun],
    out: &Path,
    numerics: Option<&str>,
) -> Result<SweepReport> {
    if !out.join(SWEEP_JSON).is_file() {
        bail!(
            "{} is not a sweep directory yet (no {SWEEP_JSON}): run the shards first (`bandwise sweep SPEC --out {} --shard I/N`)",
            out.display(),
            out.display()
        );
    }
    write_index(spec, runs, out, numerics)?;
    let status = super::status::SweepStatus::load(out)?;
    if let Some(why) = status.refusal() {
        bail!("{why}");
    }
    if let Some(search) = &spec.lr_search {
        // The extensions are read back from the finished search: extend while the recorded
        // choices sit at an edge whose next point was searched.
        let mut ext: lr_search::Extensions = Vec::new();
        let choices = loop {
            let choices = lr_search::collect(spec, search, runs, out, &ext)?;
            if !lr_search::extend(&choices, &search.grid, &mut ext) {
                break choices;
            }
        };
        lr_search::write_json(spec, search, &choices, &evaluation_seeds(runs), out)?;
    }
    super::aggregate(out)?;
    Ok(SweepReport {
        dir: out.to_path_buf(),
        total: runs.len(),
        selected: runs.len(),
        skipped: runs.len(),
        diverged_total: status.count(|s| s.is_diverged()),
        ..Default::default()
    })
}

/// Threads per machine core a sweep may use at most.
pub const JOBS_PER_CORE: usize = 4;

/// `requested` parallel runs capped at `runs` (at least 1) and at [`JOBS_PER_CORE`] x cores.
pub fn capped_jobs(requested: usize, runs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    requested
        .min(runs)
        .min(JOBS_PER_CORE.saturating_mul(cores))
        .max(1)
}

/// A stable hash of a run's config (to detect a changed spec on resume).
pub(crate) fn config_hash(config: &toml::Table) -> String {
    let text = serde_json::to_string(&toml_to_json(&toml::Value::Table(config.clone())))
        .unwrap_or_default();
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// The conventions block of sweep.json.
pub fn conventions() -> Value {
    json!({
        "run_order": "zip groups (an unzipped axis is its own group) combined by cartesian product in declaration order, the last varying fastest; seeds vary fastest of all",
        "ids": "run id = key=value per axis joined by `__`, seed last; key = last path segment (whole path if ambiguous); values made filesystem-safe (arrays joined by `x`, tables as kind.keyvalue...); `~` + hash when too long or ambiguous. config id = run id without the seed (`base` if no other axis)",
        "shard": "--shard I/N runs the runs whose index k has k mod N = I (strided); lr-search runs are not sharded, except by --stage search (configuration j of the sweep, in run-list order, is searched whole, grid extensions included, by shard j mod N)",
        "resume": "a run directory with run.json is complete and is skipped; hidden .<id>.partial-<host>-<pid> staging directories of dead processes on this host (or of another host, once older than BANDWISE_STALE_HOURS, default 24) are removed and their runs redone",
        "aggregation": super::aggregate::CONVENTION,
        "lr": "with [lr_search]: optimizer.lr of every run is the lr of the grid with the lowest median criterion over the search seeds (diverged = +inf; ties: the first in grid order), chosen per config id; see lr_search.json. Without: as configured",
        "layout": "runs/<run id>/ run directories; lr_search/<config id>/lr=<lr>__seed=<seed>/ search runs; aggregate/{epochs,bands,configs}.csv",
    })
}

/// Refuses a sweep directory whose sweep.json records other training numerics than
/// [`NUMERICS`] (or none: written before they were recorded), so that runs whose results may
/// differ at round-off are not mixed with new ones. A directory without sweep.json passes.
pub fn check_numerics(out: &Path) -> Result<()> {
    let path = out.join(SWEEP_JSON);
    if !path.is_file() {
        return Ok(());
    }
    let old: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    refuse_other_numerics(out, &old)
}

/// [`check_numerics`] on `old`, the sweep.json of `out` already read.
fn refuse_other_numerics(out: &Path, old: &Value) -> Result<()> {
    if old["numerics"] == NUMERICS {
        return Ok(());
    }
    bail!(
        "{} holds runs trained with other numerics ({}; this bandwise: {NUMERICS:?}): their \
         results may differ at round-off from what this bandwise trains, and the two would mix. \
         Use another output directory (`sweep --out`, `figures --runs`), or remove this one to \
         retrain it",
        out.display(),
        match old["numerics"].as_str() {
            Some(n) => format!("{n:?}"),
            None => "not recorded: written before numerics were recorded".to_string(),
        }
    );
}

/// Writes sweep.json (after checking that `out` holds this spec's runs). `numerics` is
/// [`NUMERICS`] when bandwise trains the runs, `None` for an external trainer (neither
/// recorded nor checked).
fn write_index(
    spec: &SweepSpec,
    runs: &[PlannedRun],
    out: &Path,
    numerics: Option<&str>,
) -> Result<()> {
    let path = out.join(SWEEP_JSON);
    let run_list: Vec<Value> = runs
        .iter()
        .map(|r| {
            let values: serde_json::Map<String, Value> = r
                .values
                .iter()
                .map(|(p, v)| (p.clone(), toml_to_json(v)))
                .collect();
            json!({
                "index": r.index,
                "id": r.id,
                "config_id": r.config_id,
                "seed": r.seed,
                "dir": format!("runs/{}", r.id),
                "values": values,
                "config_hash": config_hash(&r.config),
            })
        })
        .collect();
    let lr_search = spec.lr_search.as_ref().map(|l| json!({"grid": l.grid, "seeds": l.seeds, "epochs": l.epochs, "criterion": l.criterion.as_str()}));
    if path.is_file() {
        let old: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        if old["format"] != SWEEP_FORMAT {
            bail!(
                "{} has format {} but this bandwise writes {SWEEP_FORMAT}; use another --out",
                path.display(),
                old["format"]
            );
        }
        let refuse = |what: String| {
            anyhow::anyhow!("{} was written from a different spec ({what}); use another --out or remove the directory", out.display())
        };
        for o in old["runs"].as_array().into_iter().flatten() {
            if let Some(n) = run_list.iter().find(|n| n["id"] == o["id"]) {
                if n["config_hash"] != o["config_hash"] {
                    return Err(refuse(format!(
                        "run `{}` now has a different config",
                        o["id"].as_str().unwrap_or("?")
                    )));
                }
            }
        }
        if old["lr_search"] != lr_search.clone().unwrap_or(Value::Null) {
            return Err(refuse("its [lr_search] differs".into()));
        }
        if numerics.is_some() {
            refuse_other_numerics(out, &old)?;
        }
    }
    let index = json!({
        "format": SWEEP_FORMAT,
        "bandwise_version": env!("CARGO_PKG_VERSION"),
        "numerics": numerics,
        "name": spec.name,
        "spec": toml_to_json(&toml::Value::Table(spec.source.clone())),
        "conventions": conventions(),
        "lr_search": lr_search,
        "n_runs": runs.len(),
        "runs": run_list,
    });
    write_atomic(
        &path,
        (serde_json::to_string_pretty(&index)? + "\n").as_bytes(),
    )
}

/// The `--list` text: index, shard, status (done = completed or diverged, pending) and id of
/// each run of `shard` (all runs for [`Shard::ALL`]).
pub fn list_runs(
    spec: &SweepSpec,
    registry: &Registry,
    out: &Path,
    shard: Shard,
) -> Result<String> {
    use std::fmt::Write;
    let runs = spec.expand(registry)?;
    let mut text = String::new();
    let (mut done, mut n) = (0, 0);
    let _ = writeln!(
        text,
        "{:>5}  {:>7}  {:<9}  {:<16}  id",
        "index", "shard", "status", "config"
    );
    for r in runs.iter().filter(|r| shard.contains(r.index)) {
        let dir = run_dir(out, &r.id);
        let status = if is_run_dir(&dir) {
            read_run_json(&dir)
                .ok()
                .and_then(|v| v["status"].as_str().map(str::to_string))
                .unwrap_or_else(|| "done".into())
        } else {
            "pending".into()
        };
        done += usize::from(status != "pending");
        n += 1;
        let _ = writeln!(
            text,
            "{:>5}  {:>7}  {:<9}  {:<16}  {}",
            r.index,
            format!("{}/{}", r.index % shard.count, shard.count),
            status,
            r.config_id,
            r.id
        );
    }
    let _ = writeln!(
        text,
        "{n} runs ({done} done, {} pending) of {} in the sweep; output {}",
        n - done,
        runs.len(),
        out.display()
    );
    Ok(text)
}
