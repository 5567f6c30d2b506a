//! The kernel theory overlay of `bandwise figures` (`figures = ["kernel_order"]`): at each
//! completed run's checkpoints, the linearised prediction of K_P against the measured band
//! decay rates over the following window; one figure (predicted against measured rates, per
//! configuration) and a finding that states the rank agreement, whatever it is.

use crate::analysis::kernel::run_dir::{analyse_run, KernelOptions};
use crate::base::linalg::default_solver;
use crate::base::stats::MeanCi;
use crate::plot::kernel_order::{kernel_order, KernelOrderData, OrderSeries};
use crate::record::load::RunData;
use anyhow::Result;
use std::path::{Path, PathBuf};

/// What the overlay produced: the figure, a findings line and a headline.
pub struct KernelOrderOutcome {
    pub figure: PathBuf,
    pub finding: String,
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

/// Analyse every completed run of `groups` (configuration id, runs) and draw
/// `out/kernel_order.png`.
pub fn render(groups: &[(String, Vec<RunData>)], out: &Path) -> Result<KernelOrderOutcome> {
    let solver = default_solver();
    let opts = KernelOptions::default();
    let mut series = Vec::new();
    let mut per_config = Vec::new();
    let mut all = Vec::new();
    let (mut epochs, mut windows) = (Vec::new(), Vec::new());
    for (label, runs) in groups {
        let mut points = Vec::new();
        let mut rhos = Vec::new();
        for r in runs.iter().filter(|r| r.status() == "completed") {
            let rk = analyse_run(&r.dir, &opts, solver)?;
            for c in &rk.checkpoints {
                let cmp = &c.comparison;
                epochs.push(c.kernel.epoch);
                windows.push(cmp.window_end - c.kernel.epoch);
                points.extend(
                    cmp.bands
                        .iter()
                        .filter(|b| b.in_index)
                        .map(|b| (b.predicted_decay, b.measured_decay)),
                );
                if cmp.order_spearman.is_finite() {
                    rhos.push(cmp.order_spearman);
                }
            }
        }
        let ci = MeanCi::of(&rhos);
        all.extend(rhos.iter().copied());
        per_config.push(format!("{label} {} (n = {})", fmt_ci(&ci), ci.n));
        series.push(OrderSeries {
            label: format!(
                "{}: rho {:+.2}",
                label.trim_start_matches("optimizer="),
                ci.mean
            ),
            points,
        });
    }
    epochs.sort_unstable();
    epochs.dedup();
    windows.sort_unstable();
    windows.dedup();
    let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let overall = MeanCi::of(&all);
    let figure = out.join("kernel_order.png");
    kernel_order(
        &figure,
        &KernelOrderData {
            title: format!(
                "Kernel theory: predicted vs measured band decay (checkpoint epoch {})",
                list(&epochs)
            ),
            caption: format!(
                "One point per band and run: decay rate (decades/epoch, the report's area rate) over the {} epochs after the checkpoint, predicted by r <- (I - lr_eff K_P) r from the checkpoint (x) and measured in bands.csv (y). rho: Spearman correlation of the two over bands, mean over runs.",
                list(&windows)
            ),
            x_label: "predicted decay rate (decades/epoch)".into(),
            y_label: "measured decay rate (decades/epoch)".into(),
            series,
        },
    )?;
    let verdict = if !(overall.mean.is_finite()) {
        "undefined (no run with two comparable bands)"
    } else if overall.mean >= 0.8 {
        "the linearised kernel predicts the measured band order well"
    } else if overall.mean >= 0.4 {
        "the linearised kernel predicts the measured band order only partly"
    } else {
        "the linearised kernel does not predict the measured band order"
    };
    let finding = format!(
        "kernel theory: Spearman correlation between predicted (K_P at epoch {}, window {} epochs) and measured band decay rates: {}; overall {} over {} runs: {verdict}",
        list(&epochs),
        list(&windows),
        per_config.join("; "),
        fmt_ci(&overall),
        overall.n
    );
    let headline = format!("theory order rho {}", fmt_ci(&overall));
    Ok(KernelOrderOutcome {
        figure,
        finding,
        headline,
    })
}
