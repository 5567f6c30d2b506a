//! `bandwise run`: train one config and write its run directory.

use crate::engine::run::{run_experiment, RunOptions};
use crate::engine::train::{EpochView, Status};
use crate::experiment::config::Experiment;
use crate::optim::Registry;
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args)]
pub struct RunArgs {
    /// Experiment config (TOML); every field is in docs/config.md.
    config: PathBuf,
    /// Run directory to write [default: runs/<config name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override the config's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// No progress bar and no summary line.
    #[arg(long)]
    quiet: bool,
    /// Replace the run directory if it exists.
    #[arg(long)]
    force: bool,
    /// Also write the initial and final parameters (params_init.json, params_final.json).
    #[arg(long)]
    save_params: bool,
    /// Threads for wide networks: matrix products of at least 2^23 multiply-adds and the
    /// forward pass of layers of at least 2^17 values are split into blocks of rows (the
    /// 64-wide reference network stays on one thread). Results do not depend on it.
    /// [default: the number of cores]
    #[arg(long)]
    threads: Option<usize>,
    /// Set a config field by its dotted path (repeatable); the value is TOML, e.g.
    /// --set train.epochs=200, --set optimizer.p=-0.25,
    /// --set 'optimizer.p={ kind = "cosine", min = -0.5, max = 0.5, period = 100 }'.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
}

pub fn run(args: RunArgs, registry: &Registry) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    crate::base::threads::set(args.threads.unwrap_or(cores));
    let mut exp = Experiment::load_with(&args.config, &args.set)?;
    if let Some(seed) = args.seed {
        exp.seed = seed;
    }
    // Checked here too (run_experiment checks again) so that the error names the file.
    crate::record::commit::check_run_name(&exp.name)
        .and_then(|()| exp.validate(registry))
        .with_context(|| format!("config {}", args.config.display()))?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(&exp.name));
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(exp.train.epochs);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg} [{elapsed} < {eta}]")
                .expect("valid template"),
        );
        bar
    });
    let mut update = |ev: &EpochView| {
        if let Some(bar) = &bar {
            bar.set_position(ev.row.epoch);
            let p = ev
                .hyper("p")
                .map_or(String::new(), |p| format!(" p {p:+.3}"));
            bar.set_message(format!("loss {:.3e}{p}", ev.row.train_loss));
        }
    };
    let summary = run_experiment(
        &exp,
        registry,
        &out,
        RunOptions {
            overwrite: args.force,
            save_params: args.save_params,
            progress: Some(&mut update),
        },
    )?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if !args.quiet {
        match &summary.status {
            Status::Completed => eprintln!(
                "completed {} steps in {:.2}s: train loss {:.3e}, test loss {:.3e} -> {}",
                summary.steps,
                summary.seconds,
                summary.final_train_loss,
                summary.final_test_loss,
                summary.dir.display()
            ),
            Status::Diverged { epoch, reason } => eprintln!(
                "diverged at epoch {epoch} ({reason}) -> {}",
                summary.dir.display()
            ),
        }
    }
    Ok(())
}
