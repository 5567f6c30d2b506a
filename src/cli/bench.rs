//! `bandwise bench`: time the engine on the reference task and compare with the PyTorch peer.

use crate::app::bench::peak::{flops_per_step, fma_peak_gflops};
use crate::app::bench::peer::{alternate, PeerPlan};
use crate::app::bench::{bench, BenchResult, Workload};
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
    /// Width of the two hidden layers (64 is the reference task; 256 and 512 are the wide
    /// networks).
    #[arg(long, default_value_t = 64)]
    hidden: usize,
    /// Threads for the large matrix products (1 is the reference task; wide networks compare
    /// with PyTorch's default, one thread per core). Passed to the peer as --threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Only f32 (the peer comparison) instead of f32 and f64.
    #[arg(long)]
    f32_only: bool,
    /// JSON lines written by benches/torch_peer.py, to print speed ratios (times measured at
    /// another moment: prefer --peer-cmd).
    #[arg(long, conflicts_with = "peer_cmd")]
    peer: Option<PathBuf>,
    /// Time bandwise and this peer command alternately (A B, B A, ...) on the same work and
    /// report the median of the pairs' speed ratios, e.g.
    /// --peer-cmd "python3 benches/torch_peer.py" (bandwise appends --n, --dtype, --steps,
    /// --repeats 1 and --json FILE). No ratio is reported if the machine was busy.
    #[arg(long)]
    peer_cmd: Option<String>,
    /// Pairs of the alternating protocol (--peer-cmd).
    #[arg(long, default_value_t = 5)]
    pairs: usize,
    /// Largest share of all cores other processes may use before a pair (--peer-cmd): above
    /// it the machine counts as busy and no ratio is reported.
    #[arg(long, default_value_t = 0.1)]
    max_busy: f64,
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
    let work = Workload {
        hidden: args.hidden,
        threads: args.threads.max(1),
    };
    outln!(
        "reference task: 1-{h}-{h}-1 tanh MLP, full-batch Adam, {} thread(s), {} steps x {} repeats",
        work.threads,
        args.steps,
        args.repeats,
        h = work.hidden
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
    let mut results: Vec<BenchResult> = Vec::new();
    for &n in &args.n {
        for &dtype in dtypes {
            let r: BenchResult = bench(n, dtype, work, args.steps, args.repeats)?;
            let torch = peer.iter().find(|v| {
                v["n"].as_u64() == Some(n as u64)
                    && v["dtype"] == r.dtype
                    && v["hidden"].as_u64().unwrap_or(64) == work.hidden as u64
                    && v["threads"].as_u64().unwrap_or(1) == work.threads as u64
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
            results.push(r);
        }
    }
    outln!("eval/step: forward passes on train and test grids per epoch, relative to a training step; spectral: band + peak analysis per epoch, relative to a training step.");
    // The arithmetic limit: the matrix products' work at this core's measured FMA rate.
    for &dtype in dtypes {
        let (peak, lanes) = fma_peak_gflops(dtype, 0.3, 5);
        outln!(
            "{} FMA peak of one core: {:.1} GFLOP/s (measured: 12 independent {}-lane vector fused multiply-adds per iteration, the widest vectors this CPU has, best of 5)",
            dtype.name(),
            peak,
            lanes
        );
        for r in results.iter().filter(|r| r.dtype == dtype.name()) {
            let flops = flops_per_step(&work.widths(), r.n);
            // One core's peak per thread (threads beyond the cores add no FMA units), when the
            // hidden layer's products are large enough to be split at all.
            let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
            let split = r.n * work.hidden * work.hidden >= crate::base::gemm::PARALLEL_MIN_WORK;
            let used = if split { work.threads.min(cores) } else { 1 };
            // Microseconds per step at `peak` GFLOP/s on each core used.
            let limit_at = |peak: f64| flops / (peak * used as f64 * 1e3);
            let limit_us = limit_at(peak);
            outln!(
                "  N = {:>5}: {:.1} MFLOP per step (matrix products) -> limit {:.0} us/step; bandwise {:.0} us/step = {:.2}x the limit",
                r.n,
                flops / 1e6,
                limit_us,
                r.us_per_step_median,
                r.us_per_step_median / limit_us
            );
            // Each repeat against the peak measured next to it (the clock may change between
            // the repeats and the peak above).
            let adjacent: Vec<f64> = r
                .repeats_with_peak
                .iter()
                .map(|&(us, peak)| us / limit_at(peak))
                .collect();
            let mut sorted = adjacent.clone();
            sorted.sort_by(f64::total_cmp);
            let adjacent_median = sorted[sorted.len() / 2];
            outln!(
                "           each repeat against the peak measured just before and after it: {:.2}x the limit (median of {}, range {:.2}-{:.2})",
                adjacent_median,
                sorted.len(),
                sorted[0],
                sorted[sorted.len() - 1]
            );
            lines += &(serde_json::json!({
                "limit": "arithmetic", "n": r.n, "dtype": r.dtype, "hidden": work.hidden,
                "threads": work.threads, "cores_used": used, "fma_peak_gflops": peak, "fma_lanes": lanes,
                "mflop_per_step": flops / 1e6, "limit_us_per_step": limit_us,
                "bandwise_us_per_step": r.us_per_step_median,
                "times_the_limit": r.us_per_step_median / limit_us,
                "times_the_limit_adjacent_peak": adjacent_median,
                "times_the_limit_adjacent_peak_per_repeat": adjacent,
            })
            .to_string()
                + "\n");
        }
    }
    if let Some(cmd) = &args.peer_cmd {
        let plan = PeerPlan {
            peer_cmd: cmd.clone(),
            n: args.n.clone(),
            dtypes: dtypes.to_vec(),
            work,
            steps: args.steps,
            pairs: args.pairs,
            max_busy: args.max_busy,
        };
        let scratch = std::env::temp_dir().join(format!("bandwise-peer-{}", std::process::id()));
        std::fs::create_dir_all(&scratch)
            .with_context(|| format!("cannot make {} for the peer's JSON", scratch.display()))?;
        outln!(
            "alternating protocol: {} pairs (bandwise first in odd pairs, the peer first in even ones), {} steps per side, against `{cmd}`",
            plan.pairs,
            plan.steps
        );
        let out = alternate(&plan, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        let out = out?;
        for s in &out.samples {
            outln!(
                "  pair {} N = {:>5} {} ({} first): bandwise {:.0} us/step, peer {:.0} us/step, ratio {:.2}; background {} of all cores, load average {}",
                s.pair + 1,
                s.n,
                s.dtype,
                s.first,
                s.bandwise_us_per_step,
                s.peer_us_per_step,
                s.ratio,
                s.busy_share.map_or("unknown".into(), |b| format!("{:.0}%", 100.0 * b)),
                s.load_avg_1m.map_or("unknown".into(), |l| format!("{l:.2}"))
            );
            lines += &(serde_json::to_string(s)? + "\n");
        }
        for m in &out.summaries {
            outln!(
                "N = {:>5} {}: bandwise {:.0} us/step, peer {:.0} us/step (medians of {} pairs); speed-up {} (pairs range {:.2}-{:.2})",
                m.n,
                m.dtype,
                m.bandwise_us_median,
                m.peer_us_median,
                m.pairs,
                m.ratio_median.map_or("withheld".into(), |r| format!("{r:.2}x (median of pair ratios)")),
                m.ratio_min,
                m.ratio_max
            );
            lines += &(serde_json::to_string(m)? + "\n");
        }
        if let Some(why) = &out.refused {
            outln!("no speed ratio reported: {why}");
        }
    }
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
