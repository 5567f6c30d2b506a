//! `bandwise bench`: time the engine on the reference task and compare with the PyTorch peer.

use crate::app::bench::{bench, BenchResult};
use crate::experiment::config::Dtype;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct BenchArgs {
    /// Grid sizes N.
    #[arg(long, num_args = 1.., default_values_t = [1024usize, 256])]
    n: Vec<usize>,
    /// Training steps per timed repeat.
    #[arg(long, default_value_t = 2000)]
    steps: u64,
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Only f32 (the peer comparison) instead of f32 and f64.
    #[arg(long)]
    f32_only: bool,
    /// JSON lines written by benches/torch_peer.py, to print speed ratios.
    #[arg(long)]
    peer: Option<PathBuf>,
    /// Epochs of the 2D line (64 x 64 grid, 2-128-128-1, full batch): the 2D spectral
    /// analysis per epoch against the epoch's training time; 0 skips it.
    #[arg(long, default_value_t = 100)]
    epochs_2d: u64,
    /// Write our results as JSON lines here.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let dtypes: &[Dtype] = if args.f32_only {
        &[Dtype::F32]
    } else {
        &[Dtype::F32, Dtype::F64]
    };
    let peer: Vec<serde_json::Value> = match &args.peer {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("cannot read --peer {}", p.display()))?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .with_context(|| {
                format!(
                    "--peer {} is not JSON lines from benches/torch_peer.py",
                    p.display()
                )
            })?,
        None => Vec::new(),
    };
    outln!(
        "reference task: 1-64-64-1 tanh MLP, full-batch Adam, 1 thread, {} steps x {} repeats",
        args.steps,
        args.repeats
    );
    outln!(
        "{:>6} {:>5} {:>12} {:>12} {:>10} {:>10} {:>14}",
        "N",
        "dtype",
        "us/step med",
        "us/step best",
        "eval/step",
        "spectral",
        "vs PyTorch"
    );
    let mut lines = String::new();
    for &n in &args.n {
        for &dtype in dtypes {
            let r: BenchResult = bench(n, dtype, args.steps, args.repeats)?;
            let torch = peer.iter().find(|v| {
                v["n"].as_u64() == Some(n as u64)
                    && v["dtype"] == r.dtype
                    && v["with_eval"].as_bool() != Some(true)
            });
            let ratio = torch
                .and_then(|v| v["us_per_step_median"].as_f64())
                .map_or("-".to_string(), |t| {
                    format!("{:.2}x faster", t / r.us_per_step_median)
                });
            outln!(
                "{:>6} {:>5} {:>12.1} {:>12.1} {:>9.1}% {:>9.2}% {:>14}",
                n,
                r.dtype,
                r.us_per_step_median,
                r.us_per_step_best,
                100.0 * r.eval_fraction,
                100.0 * r.spectral_fraction,
                ratio
            );
            lines += &(serde_json::to_string(&r)? + "\n");
        }
    }
    outln!("eval/step: forward passes on train and test grids per epoch, relative to a training step; spectral: band + peak analysis per epoch, relative to a training step.");
    if args.epochs_2d > 0 {
        let r = crate::app::bench::bench_2d(Dtype::F32, args.epochs_2d)?;
        outln!(
            "2D: 64 x 64 grid, 2-128-128-1 tanh, full-batch Adam, f32, {} epochs: training {:.0} us/epoch, 2D spectral analysis {:.1} us/epoch = {:.2}% of training (eval forward passes {:.0} us/epoch)",
            r.epochs,
            r.us_train_per_epoch,
            r.us_spectral_per_epoch,
            100.0 * r.spectral_fraction,
            r.us_eval_per_epoch
        );
        lines += &(serde_json::to_string(&r)? + "\n");
    }
    if let Some(path) = args.json {
        crate::record::write_atomic(&path, lines.as_bytes())?;
    }
    Ok(())
}
