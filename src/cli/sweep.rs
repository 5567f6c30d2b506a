//! `bandwise sweep`: expand a sweep spec, run it (in parallel, resumable, optionally one
//! shard), and aggregate over seeds.

use crate::app::sweep::{list_runs, run_sweep, Shard, Stage, SweepOptions, SweepSpec};
use crate::optim::Registry;
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct SweepArgs {
    /// Sweep spec (TOML): [base] config, [[axis]] entries, seeds, optional [lr_search].
    spec: PathBuf,
    /// Sweep directory [default: runs/<spec name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runs trained in parallel (each run is single-threaded) [default: available cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only shard I of N (0-based): the runs whose index k in the run list has k mod N = I.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Part of the sweep to do (for clusters): all = search, runs and aggregation; search = only
    /// the lr-search runs (sharded with --shard); runs = only the runs (their searches must be
    /// complete); merge = train nothing, refuse unless every run is done, then aggregate.
    #[arg(long, default_value = "all", value_name = "all|search|runs|merge")]
    stage: Stage,
    /// Print the run list (index, shard, status, config id, run id) and exit without running.
    #[arg(long)]
    list: bool,
    /// No progress output and no summary line.
    #[arg(long)]
    quiet: bool,
    /// Set a field of the base config by its dotted path (repeatable), e.g.
    /// --set train.epochs=100; an axis on the same path still wins.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
}

pub fn run(args: SweepArgs, registry: &Registry) -> Result<()> {
    let mut spec = SweepSpec::load(&args.spec)?;
    crate::experiment::config::apply_sets(&mut spec.base, &args.set)?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(&spec.name));
    let shard = args.shard.unwrap_or(Shard::ALL);
    if args.list {
        out!("{}", list_runs(&spec, registry, &out, shard)?);
        return Ok(());
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let report = run_sweep(
        &spec,
        registry,
        &out,
        &SweepOptions {
            jobs,
            shard,
            progress: super::progress::job_progress(args.quiet),
            stage: args.stage,
        },
    )?;
    if report.jobs < jobs && args.jobs.is_some() {
        eprintln!(
            "note: --jobs {jobs} capped to {} (at most one per run to train and {} per core)",
            report.jobs,
            crate::app::sweep::JOBS_PER_CORE
        );
    }
    if !args.quiet {
        let shard_note = if shard == Shard::ALL {
            String::new()
        } else {
            format!(
                " (shard {shard}: {} of {} runs)",
                report.selected, report.total
            )
        };
        let search = if spec.lr_search.is_some() {
            format!(
                "; lr search: {} trained, {} reused (lr_search.json)",
                report.search_ran, report.search_skipped
            )
        } else {
            String::new()
        };
        eprintln!(
            "sweep `{}`{shard_note}: {} trained now ({} completed, {} diverged), {} already done, {} failed{search} -> {}",
            spec.name,
            report.completed + report.diverged,
            report.completed,
            report.diverged,
            report.skipped,
            report.failed.len(),
            out.display()
        );
        if report.cleaned > 0 {
            eprintln!(
                "removed {} stale staging entries of interrupted runs",
                report.cleaned
            );
        }
    }
    report.check()
}
