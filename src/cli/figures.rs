//! `bandwise figures`: regenerate every figure and report from the built-in analyses.

use crate::app::figures::{names, run_figures, summary, FiguresOptions};
use crate::app::sweep::{Shard, Stage};
use crate::optim::Registry;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct FiguresArgs {
    /// Reduced budgets and seeds: a smoke test (about 10 s on 2 cores), not a measurement.
    #[arg(long)]
    quick: bool,
    /// Output directory for figures, reports and index.md [default: figures, or figures-quick with --quick].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where the analyses' runs are kept and reused [default: runs/figures, or runs/figures-quick].
    #[arg(long)]
    runs: Option<PathBuf>,
    /// Runs in parallel [default: number of cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Only these analyses (by name, e.g. c2_fixed_p).
    #[arg(long, num_args = 1..)]
    only: Vec<String>,
    /// List the built-in analyses and exit.
    #[arg(long)]
    list: bool,
    #[arg(long)]
    quiet: bool,
    /// Run only shard I of N of every analysis's runs and draw nothing (see --stage).
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Part to do (for clusters): all; search or runs (train only, draw nothing); merge (train
    /// nothing, draw only when every run is done).
    #[arg(long, default_value = "all", value_name = "all|search|runs|merge")]
    stage: Stage,
    /// Write Slurm job arrays for the figure set instead of running it (see `bandwise slurm`).
    #[arg(long)]
    slurm: bool,
    #[command(flatten)]
    resources: super::slurm::SlurmResources,
}

pub fn run(args: FiguresArgs, registry: &Registry) -> Result<()> {
    if args.list {
        for n in names() {
            outln!("{n}");
        }
        return Ok(());
    }
    let suffix = if args.quick { "-quick" } else { "" };
    if args.slurm {
        return super::slurm::figures(
            args.out
                .as_deref()
                .unwrap_or(std::path::Path::new(&format!("figures{suffix}"))),
            args.runs
                .as_deref()
                .unwrap_or(std::path::Path::new(&format!("runs/figures{suffix}"))),
            args.quick,
            &args.only,
            &args.resources,
        );
    }
    let opts = FiguresOptions {
        out: args
            .out
            .unwrap_or_else(|| PathBuf::from(format!("figures{suffix}"))),
        runs: args
            .runs
            .unwrap_or_else(|| PathBuf::from(format!("runs/figures{suffix}"))),
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        quick: args.quick,
        only: args.only,
        progress: super::progress::job_progress(args.quiet),
        shard: args.shard.unwrap_or(Shard::ALL),
        stage: args.stage,
    };
    let started = std::time::Instant::now();
    let outcomes = run_figures(registry, &opts)?;
    if !args.quiet && matches!(opts.stage, Stage::Search | Stage::Runs) {
        eprintln!(
            "shard {} of the {:?} stage done in {:.0}s; nothing drawn (the merge stage draws) -> {}",
            opts.shard,
            opts.stage,
            started.elapsed().as_secs_f64(),
            opts.runs.display()
        );
    } else if !args.quiet {
        eprintln!(
            "{} in {:.0}s -> {}",
            summary(&outcomes),
            started.elapsed().as_secs_f64(),
            opts.out.join("index.md").display()
        );
    }
    Ok(())
}
