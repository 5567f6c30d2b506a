//! The kernel theory overlay of `bandwise figures` (`figures = ["kernel_order"]`): at each
//! completed run's checkpoints, the linearised prediction of K_P against the measured band
//! decay rates over the following window; one figure (predicted against measured rates at the
//! latest checkpoint, per configuration) and a finding per checkpoint epoch that states the
//! rank agreement, whatever it is.

use crate::analysis::kernel::run_dir::{analyze_run, KernelOptions};
use crate::base::linalg::default_solver;
use crate::base::stats::MeanCi;
use crate::plot::kernel_order::{kernel_order, KernelOrderData, OrderSeries};
use crate::record::load::RunData;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// What the overlay produced: the figure, findings lines and a headline.
pub struct KernelOrderOutcome {
    pub figure: PathBuf,
    pub findings: Vec<String>,
    pub headline: String,
}

/// `mean [lo, hi]` (the interval cut to the correlation's range [-1, 1]) or the single value.
fn fmt_ci(c: &MeanCi) -> String {
    if c.n >= 2 {
        format!(
            "{:+.2} [{:+.2}, {:+.2}]",
            c.mean,
            c.lo.max(-1.0),
            c.hi.min(1.0)
        )
    } else {
        format!("{:+.2}", c.mean)
    }
}

/// One run's comparison at one checkpoint: configuration, epoch, window, Spearman, points.
struct Row {
    config: usize,
    epoch: u64,
    window: u64,
    rho: f64,
    points: Vec<(f64, f64)>,
}

fn verdict(mean: f64) -> &'static str {
    if !mean.is_finite() {
        "undefined (no run with two comparable bands)"
    } else if mean >= 0.8 {
        "the linearised kernel predicts the measured band order well"
    } else if mean >= 0.4 {
        "the linearised kernel predicts the measured band order only partly"
    } else {
        "the linearised kernel does not predict the measured band order"
    }
}

/// Analyse every completed run of `groups` (configuration id, runs) and draw
/// `out/kernel_order.png`.
pub fn render(groups: &[(String, Vec<RunData>)], out: &Path) -> Result<KernelOrderOutcome> {
    let solver = default_solver();
    let opts = KernelOptions::default();
    let mut rows = Vec::new();
    for (ci, (_, runs)) in groups.iter().enumerate() {
        for r in runs.iter().filter(|r| r.status() == "completed") {
            for c in analyze_run(&r.dir, &opts, solver)?.checkpoints {
                let cmp = &c.comparison;
                rows.push(Row {
                    config: ci,
                    epoch: c.kernel.epoch,
                    window: cmp.window_end - c.kernel.epoch,
                    rho: cmp.order_spearman,
                    points: cmp
                        .bands
                        .iter()
                        .filter(|b| b.in_index)
                        .map(|b| (b.predicted_decay, b.measured_decay))
                        .collect(),
                });
            }
        }
    }
    let mut epochs: Vec<u64> = rows.iter().map(|r| r.epoch).collect();
    epochs.sort_unstable();
    epochs.dedup();
    let Some(&last) = epochs.last() else {
        bail!("no completed run has a checkpoint; the analysis needs record.checkpoints");
    };
    let label = |i: usize| groups[i].0.trim_start_matches("optimizer=").to_string();
    let rhos = |config: Option<usize>, epoch: u64| -> MeanCi {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| r.epoch == epoch && config.is_none_or(|c| r.config == c))
            .map(|r| r.rho)
            .filter(|x| x.is_finite())
            .collect();
        MeanCi::of(&v)
    };
    let mut findings = Vec::new();
    for &e in &epochs {
        let mut windows: Vec<u64> = rows
            .iter()
            .filter(|r| r.epoch == e)
            .map(|r| r.window)
            .collect();
        windows.dedup();
        let per: Vec<String> = (0..groups.len())
            .map(|i| {
                let c = rhos(Some(i), e);
                format!("{} {} (n = {})", label(i), fmt_ci(&c), c.n)
            })
            .collect();
        let all = rhos(None, e);
        findings.push(format!(
            "kernel theory, K_P at epoch {e} (window {} epochs): Spearman correlation of predicted and measured band decay rates: {}; overall {} over {} runs: {}",
            windows.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
            per.join("; "),
            fmt_ci(&all),
            all.n,
            verdict(all.mean)
        ));
    }
    let series = (0..groups.len())
        .map(|i| OrderSeries {
            label: format!("{}: rho {:+.2}", label(i), rhos(Some(i), last).mean),
            points: rows
                .iter()
                .filter(|r| r.config == i && r.epoch == last)
                .flat_map(|r| r.points.iter().copied())
                .collect(),
        })
        .collect();
    let window = rows
        .iter()
        .find(|r| r.epoch == last)
        .map_or(0, |r| r.window);
    let figure = out.join("kernel_order.png");
    kernel_order(
        &figure,
        &KernelOrderData {
            title: format!("Kernel theory: predicted vs measured band decay (checkpoint epoch {last})"),
            caption: format!(
                "One point per band and run: decay rate (decades/epoch, the report's area rate) over the {window} epochs after the checkpoint, predicted by r <- (I - lr_eff K_P) r from the checkpoint (x) and measured in bands.csv (y). rho: Spearman correlation of the two over bands, mean over runs."
            ),
            x_label: "predicted decay rate (decades/epoch)".into(),
            y_label: "measured decay rate (decades/epoch)".into(),
            series,
        },
    )?;
    let headline = epochs
        .iter()
        .map(|&e| format!("theory order rho {} at epoch {e}", fmt_ci(&rhos(None, e))))
        .collect::<Vec<_>>()
        .join("; ");
    Ok(KernelOrderOutcome {
        figure,
        findings,
        headline,
    })
}
