//! `bandwise figures`: regenerate every figure and report from the built-in analyses.

use crate::figures::{names, run_figures, summary, FiguresOptions};
use crate::optim::Registry;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct FiguresArgs {
    /// Reduced budgets and seeds (a smoke test, about a minute).
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
}

pub fn run(args: FiguresArgs, registry: &Registry) -> Result<()> {
    if args.list {
        for n in names() {
            outln!("{n}");
        }
        return Ok(());
    }
    let suffix = if args.quick { "-quick" } else { "" };
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
        progress: !args.quiet,
    };
    let started = std::time::Instant::now();
    let outcomes = run_figures(registry, &opts)?;
    if !args.quiet {
        eprintln!(
            "{} in {:.0}s -> {}",
            summary(&outcomes),
            started.elapsed().as_secs_f64(),
            opts.out.join("index.md").display()
        );
    }
    Ok(())
}
