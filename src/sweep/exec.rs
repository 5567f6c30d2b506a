//! Running a sweep: parallel execution across runs, resume, shards, and the sweep index.
//!
//! - Parallelism: a rayon pool of `jobs` threads, one run per thread at a time; a run is
//!   single-threaded and deterministic, so the records do not depend on `jobs`.
//! - Resume: a run whose directory holds a run.json is complete (run directories are renamed
//!   into place only when finished) and is skipped. Hidden staging entries
//!   (`.<name>.partial-<pid>`, `.<name>.tmp-<pid>`) left by an interrupted process are removed
//!   when that process is no longer alive (checked through /proc; without /proc, every entry
//!   not of the current process is removed); the runs they belonged to are redone.
//! - Failures: a diverged run is recorded (status "diverged") and counts as done; a run that
//!   fails with an error (or panics) writes nothing, the others go on, and the report lists it.
//! - Shards: `--shard I/N` selects the runs whose index k in the run list has k mod N = I
//!   (strided, so that configurations of different cost are spread across shards). The
//!   lr-search runs a shard needs are not sharded: each shard runs (or reuses) the searches
//!   of the configurations it has runs of.
//! - sweep.json is rewritten at every start with the same content for the same spec (no
//!   timestamps), and a sweep directory written from a different spec is refused when a run
//!   id would now mean a different config.

use super::lr_search;
use super::spec::{fnv1a, PlannedRun, SweepSpec};
use super::{run_dir, toml_to_json, SWEEP_FORMAT, SWEEP_JSON};
use crate::config::Experiment;
use crate::optim::Registry;
use crate::record::{is_run_dir, read_run_json, write_atomic};
use crate::run::{run_experiment, RunOptions};
use crate::train::Status;
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

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

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Runs in parallel (threads of the pool); at least 1.
    pub jobs: usize,
    pub shard: Shard,
    /// Show progress: a bar on a terminal, else one line per finished run on stderr.
    pub progress: bool,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            jobs: 1,
            shard: Shard::ALL,
            progress: false,
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
}

/// One unit of work: train `experiment` into `dir` unless it is complete.
pub(crate) struct Job {
    pub label: String,
    pub dir: PathBuf,
    pub experiment: Experiment,
}

/// What happened to a job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// Already complete; its recorded status ("completed" or "diverged").
    Skipped(String),
    Ran(Status),
    Failed(String),
}

/// Run (the selected shard of) a sweep into `out`, then aggregate everything complete.
pub fn run_sweep(
    spec: &SweepSpec,
    registry: &Registry,
    out: &Path,
    opts: &SweepOptions,
) -> Result<SweepReport> {
    let runs = spec.expand(registry)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    write_index(spec, &runs, out)?;
    let mut report = SweepReport {
        dir: out.to_path_buf(),
        total: runs.len(),
        ..Default::default()
    };
    report.cleaned = clean_stale(&out.join("runs"))? + clean_stale(out)?;
    let aggregate_dir = out.join("aggregate");
    report.cleaned += clean_stale(&aggregate_dir)?;
    let selected: Vec<&PlannedRun> = runs
        .iter()
        .filter(|r| opts.shard.contains(r.index))
        .collect();
    report.selected = selected.len();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
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
    if let Some(search) = &spec.lr_search {
        // Search, then extend the grid of every config whose choice sits at an edge and
        // search the new points, until no choice moves to a new edge (see lr_search).
        let mut ext: lr_search::Extensions = Vec::new();
        let mut first = true;
        let choices = loop {
            let search_jobs =
                lr_search::jobs(spec, search, &selected, out, &mut report.cleaned, &ext)?;
            let outcomes = execute(&pool, registry, &search_jobs, opts.progress, "lr search");
            for (job, outcome) in search_jobs.iter().zip(&outcomes) {
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
            first = false;
            let choices = lr_search::collect(spec, search, &runs, out, &ext)?;
            if !lr_search::extend(&choices, &search.grid, &mut ext) {
                break choices;
            }
        };
        let mut eval_seeds: Vec<u64> = runs.iter().map(|r| r.experiment.seed).collect();
        eval_seeds.sort_unstable();
        eval_seeds.dedup();
        lr_search::write_json(spec, search, &choices, &eval_seeds, out)?;
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
    let mut outcomes = execute(&pool, registry, &runnable, opts.progress, "runs").into_iter();
    for (id, cannot) in planned {
        let outcome = match cannot {
            Some(e) => Outcome::Failed(e),
            None => outcomes.next().expect("one outcome per job"),
        };
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
    super::aggregate(out)?;
    Ok(report)
}

/// Train every job not yet complete, `pool`-parallel; outcomes in job order.
pub(crate) fn execute(
    pool: &rayon::ThreadPool,
    registry: &Registry,
    jobs: &[Job],
    progress: bool,
    what: &str,
) -> Vec<Outcome> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let bar = (progress && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(jobs.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} [{elapsed} < {eta}] {msg}")
                .expect("valid template"),
        );
        bar.set_prefix(what.to_string());
        bar
    });
    let done = AtomicUsize::new(0);
    let total = jobs.len();
    let outcomes: Vec<Outcome> = pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                let started = Instant::now();
                let outcome = run_job(job, registry);
                let k = done.fetch_add(1, Ordering::SeqCst) + 1;
                let word = match &outcome {
                    Outcome::Skipped(s) => format!("already {s}"),
                    Outcome::Ran(Status::Completed) => "completed".into(),
                    Outcome::Ran(Status::Diverged { epoch, .. }) => {
                        format!("diverged at epoch {epoch}")
                    }
                    Outcome::Failed(e) => format!("FAILED: {e}"),
                };
                if let Some(bar) = &bar {
                    bar.inc(1);
                    bar.set_message(format!("{}: {word}", job.label));
                    if matches!(outcome, Outcome::Failed(_)) {
                        bar.println(format!("{}: {word}", job.label));
                    }
                } else if progress {
                    eprintln!(
                        "[{what} {k}/{total}] {}: {word} ({:.1}s)",
                        job.label,
                        started.elapsed().as_secs_f64()
                    );
                }
                outcome
            })
            .collect()
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    outcomes
}

fn run_job(job: &Job, registry: &Registry) -> Outcome {
    if is_run_dir(&job.dir) {
        let status = read_run_json(&job.dir)
            .ok()
            .and_then(|v| v["status"].as_str().map(str::to_string))
            .unwrap_or_else(|| "complete".into());
        return Outcome::Skipped(status);
    }
    // A directory without run.json is not a run (never written by a finished run): replace it.
    let overwrite = job.dir.exists();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_experiment(
            &job.experiment,
            registry,
            &job.dir,
            RunOptions {
                overwrite,
                ..Default::default()
            },
        )
    }));
    match result {
        Ok(Ok(summary)) => Outcome::Ran(summary.status),
        Ok(Err(e)) => Outcome::Failed(format!("{e:#}")),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Outcome::Failed(format!("panicked: {msg}"))
        }
    }
}

/// Remove hidden staging entries (`.x.partial-<pid>`, `.x.tmp-<pid>`) in `dir` whose process
/// is gone. Returns how many were removed.
pub(crate) fn clean_stale(dir: &Path) -> Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let me = std::process::id();
    let proc_fs = Path::new("/proc/self").exists();
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            continue;
        }
        let Some(pid) = [".partial-", ".tmp-"]
            .iter()
            .find_map(|m| name.rfind(m).map(|i| &name[i + m.len()..]))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = pid == me || (proc_fs && Path::new("/proc").join(pid.to_string()).exists());
        if alive {
            continue;
        }
        let path = e.path();
        let r = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        r.with_context(|| format!("cannot remove the stale staging entry {}", path.display()))?;
        removed += 1;
    }
    Ok(removed)
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
        "shard": "--shard I/N runs the runs whose index k has k mod N = I (strided); lr-search runs are not sharded",
        "resume": "a run directory with run.json is complete and is skipped; hidden .partial-<pid> staging directories of dead processes are removed and their runs redone",
        "aggregation": super::aggregate::CONVENTION,
        "lr": "with [lr_search]: optimizer.lr of every run is the lr of the grid with the lowest median criterion over the search seeds (diverged = +inf; ties: the first in grid order), chosen per config id; see lr_search.json. Without: as configured",
        "layout": "runs/<run id>/ run directories; lr_search/<config id>/lr=<lr>__seed=<seed>/ search runs; aggregate/{epochs,bands,configs}.csv",
    })
}

fn write_index(spec: &SweepSpec, runs: &[PlannedRun], out: &Path) -> Result<()> {
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
    }
    let index = json!({
        "format": SWEEP_FORMAT,
        "bandwise_version": env!("CARGO_PKG_VERSION"),
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
