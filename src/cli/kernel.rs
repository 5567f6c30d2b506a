//! `bandwise kernel RUN_DIR`: the preconditioned neural tangent kernel at the run's
//! checkpoints, its band structure and linearised prediction against the measured band
//! errors; writes RUN_DIR/kernel.json and kernel.csv and prints a per-band table per checkpoint; with
//! `--plot`, draws the kernel figures of kernel.json into RUN_DIR/figures/.

use crate::analysis::kernel::run_dir::{
    analyze_run, read_kernel_json, write_kernel_csv, write_kernel_json, KernelOptions,
};
use crate::base::linalg::default_solver;
use crate::plot::runs::kernel_set;
use crate::plot::Format;
use crate::record::load::RunData;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct KernelArgs {
    /// A run directory written with `record.checkpoints` in its config.
    run_dir: PathBuf,
    /// Analyse only the checkpoint at this epoch (repeatable; default: every checkpoint).
    #[arg(long = "epoch", value_name = "E")]
    epochs: Vec<u64>,
    /// Prediction window after each checkpoint, as a fraction of the run's budget.
    #[arg(long, default_value_t = 0.1, value_name = "FRACTION")]
    horizon: f64,
    /// Also draw the kernel figures (eigenvalue spectrum, band share map, predicted against
    /// measured band errors, per checkpoint) into RUN_DIR/figures/.
    #[arg(long)]
    plot: bool,
}

/// A number for the table: 3 significant digits, `-` for undefined.
fn short_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2e}")
    } else {
        "-".into()
    }
}

fn opt_epoch(e: Option<u64>) -> String {
    e.map_or("-".into(), |e| e.to_string())
}

fn opt_rank(r: Option<usize>) -> String {
    r.map_or("-".into(), |r| r.to_string())
}

pub fn run(args: KernelArgs) -> Result<()> {
    let solver = default_solver();
    let opts = KernelOptions {
        epochs: args.epochs,
        horizon_fraction: args.horizon,
    };
    let rk = analyze_run(&args.run_dir, &opts, solver)?;
    let path = write_kernel_json(&rk, solver)?;
    for c in &rk.checkpoints {
        let k = &c.kernel;
        let cmp = &c.comparison;
        outln!(
            "checkpoint epoch {} ({}; {}), lr_eff {}, window to epoch {}, {:.2} s",
            k.epoch,
            k.optimizer,
            k.preconditioner,
            short_num(k.lr_eff),
            cmp.window_end,
            c.seconds
        );
        outln!(
            "{:<12} {:>10} {:>10} {:>11} {:>11} {:>6} {:>6} {:>8} {:>8}",
            "band",
            "eigen_mass",
            "rate",
            "pred_decay",
            "meas_decay",
            "p_rank",
            "m_rank",
            "p_cross",
            "m_cross"
        );
        for b in &cmp.bands {
            outln!(
                "{:<12} {:>10} {:>10} {:>11} {:>11} {:>6} {:>6} {:>8} {:>8}",
                b.label,
                short_num(b.eigen_mass),
                short_num(b.rate),
                short_num(b.predicted_decay),
                short_num(b.measured_decay),
                opt_rank(b.predicted_rank),
                opt_rank(b.measured_rank),
                opt_epoch(b.predicted_crossing),
                opt_epoch(b.measured_crossing)
            );
        }
        outln!(
            "band order: Spearman(predicted, measured decay rates) = {:+.2} over {} bands; preference index predicted {:+.3}, measured {:+.3} (crossings: first epoch with rel_error < {})",
            cmp.order_spearman,
            cmp.n_bands,
            cmp.predicted_index,
            cmp.measured_index,
            cmp.threshold
        );
        outln!("");
    }
    outln!("wrote {}", path.display());
    outln!("wrote {}", write_kernel_csv(&rk)?.display());
    if args.plot {
        let run = RunData::load(&args.run_dir)?;
        let dir = args.run_dir.join("figures");
        for f in kernel_set(&read_kernel_json(&args.run_dir)?, &run, &dir, Format::Png)? {
            outln!("wrote {}", f.display());
        }
    }
    Ok(())
}
