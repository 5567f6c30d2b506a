//! The kernel theory overlay of `bandwise figures` (`figures = ["kernel_order"]`): at each
//! completed run's checkpoints, the linearised prediction of K_P against the measured band
//! decay rates over the following window. Figures at the latest checkpoint: predicted
//! against measured rates (kernel_order), the eigenvalue spectra coloured by dominant band
//! (kernel_spectrum), the band x eigen-index share maps (kernel_shares), predicted against
//! measured band errors per configuration (kernel_prediction_*; first completed seed) and
//! the predicted against measured preference index across p (kernel_index_vs_p); a finding
//! per checkpoint epoch states the rank agreement, whatever it is, and one the index. Each
//! analysed run gets its kernel.json and kernel.csv (so its report shows predicted epochs).

use crate::analysis::kernel::run_dir::{
    analyze_run, write_kernel_csv, write_kernel_json, KernelOptions,
};
use crate::analysis::metrics::fixed_p;
use crate::base::linalg::default_solver;
use crate::base::stats::MeanCi;
use crate::plot::band_prediction::band_prediction;
use crate::plot::estimates::{estimates, BaselineBand, EstimatePoint, EstimatesData, Layout};
use crate::plot::from_kernel::{self, ROUND_OFF_RATIO};
use crate::plot::kernel_order::{kernel_order, KernelOrderData, OrderSeries};
use crate::plot::kernel_spectrum::{kernel_spectrum, KernelSpectrumData};
use crate::plot::{panel, ColourScale};
use crate::record::load::RunData;
use anyhow::{bail, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What the overlay produced: the figures, findings lines and a headline.
pub struct KernelOrderOutcome {
    pub figures: Vec<PathBuf>,
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

/// `mean [lo, hi]` (uncut: the preference index is not bounded) or the single value.
fn fmt_index(c: &MeanCi) -> String {
    if c.n >= 2 {
        format!("{:+.2} [{:+.2}, {:+.2}]", c.mean, c.lo, c.hi)
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
    /// Preference index of the predicted and the measured decay rates.
    index: (f64, f64),
    /// `lr_eff x lambda_max(K_P)`: the linearised map `I - lr_eff K_P` is stable below 2.
    step: f64,
    seed: u64,
}

impl Row {
    fn stable(&self) -> bool {
        self.step < 2.0
    }
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
    // Per configuration: the first completed run and its checkpoint entries (kernel.json form).
    let mut shown: Vec<Option<(&RunData, Vec<Value>)>> = vec![None; groups.len()];
    for (ci, (_, runs)) in groups.iter().enumerate() {
        for r in runs.iter().filter(|r| r.status() == "completed") {
            let rk = analyze_run(&r.dir, &opts, solver)?;
            // The run's kernel records (the report reads the predicted epochs from them).
            write_kernel_json(&rk, solver)?;
            write_kernel_csv(&rk)?;
            if shown[ci].is_none() {
                let entries = rk
                    .checkpoints
                    .iter()
                    .map(serde_json::to_value)
                    .collect::<Result<Vec<Value>, _>>()?;
                shown[ci] = Some((r, entries));
            }
            for c in rk.checkpoints {
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
                    index: (cmp.predicted_index, cmp.measured_index),
                    step: c.kernel.lr_eff
                        * c.kernel
                            .preconditioned
                            .eigenvalues
                            .first()
                            .copied()
                            .unwrap_or(0.0),
                    seed: r.seed(),
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
        .map(|i| {
            let unstable = rows
                .iter()
                .filter(|r| r.config == i && r.epoch == last && !r.stable())
                .count();
            OrderSeries {
                label: if unstable > 0 {
                    format!(
                        "{}: rho {:+.2}, {unstable} unstable",
                        label(i),
                        rhos(Some(i), last).mean
                    )
                } else {
                    format!("{}: rho {:+.2}", label(i), rhos(Some(i), last).mean)
                },
                points: rows
                    .iter()
                    .filter(|r| r.config == i && r.epoch == last && r.stable())
                    .flat_map(|r| r.points.iter().copied())
                    .collect(),
            }
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
                "One point per band and run: decay rate (decades/epoch, the report's area rate) over the {window} epochs after the checkpoint, predicted by r <- (I - lr_eff K_P) r from the checkpoint (x) and measured in bands.csv (y). rho: Spearman correlation over bands, mean over all runs. Runs whose linearised map is unstable (lr_eff x largest eigenvalue of K_P > 2) are not drawn (counted in the legend). Later series are drawn smaller, on top. Both axes are symmetric-log (linear near 0, logarithmic beyond the median absolute rate)."
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
    let unstable: Vec<String> = rows
        .iter()
        .filter(|r| !r.stable())
        .map(|r| {
            format!(
                "{} seed {} at epoch {} ({:.1})",
                label(r.config),
                r.seed,
                r.epoch,
                r.step
            )
        })
        .collect();
    findings.push(if unstable.is_empty() {
        "kernel theory: the linearised map I - lr_eff K_P is stable (lr_eff x largest eigenvalue < 2) at every analysed checkpoint".to_string()
    } else {
        format!(
            "kernel theory: the linear prediction FAILS where the linearised map I - lr_eff K_P is unstable (lr_eff x largest eigenvalue of K_P > 2, so the predicted residual grows while the measured one falls: training runs beyond the linear regime): {} of {} checkpoints: {}",
            unstable.len(),
            rows.len(),
            unstable.join("; ")
        )
    });
    let mut figures = vec![figure];
    figures.extend(kernel_figures(groups, &shown, last, out)?);
    let (index_figure, index_finding) = index_vs_p(groups, &rows, last, out)?;
    figures.extend(index_figure);
    findings.push(index_finding);
    Ok(KernelOrderOutcome {
        figures,
        findings,
        headline,
    })
}

/// File-name-safe configuration id.
fn safe(id: &str) -> String {
    id.replace(['=', '/'], "_")
}

/// The spectrum, share-map and band-prediction figures at checkpoint epoch `epoch` of each
/// configuration's first completed run.
fn kernel_figures(
    groups: &[(String, Vec<RunData>)],
    shown: &[Option<(&RunData, Vec<Value>)>],
    epoch: u64,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let label = |i: usize| groups[i].0.trim_start_matches("optimizer=").to_string();
    let mut panels = Vec::new();
    let mut maps = Vec::new();
    let mut figures = Vec::new();
    let mut band_list = Vec::new();
    for (i, s) in shown.iter().enumerate() {
        let Some((run, entries)) = s else { continue };
        let Some(ckpt) = entries.iter().find(|c| from_kernel::epoch(c) == epoch) else {
            continue;
        };
        let name = format!("{}, seed {}", label(i), run.seed());
        band_list = from_kernel::bands(ckpt)?;
        panels.push(from_kernel::spectrum_panel(&name, ckpt)?);
        maps.push(from_kernel::share_map(&name, ckpt)?);
        let path = out.join(format!("kernel_prediction_{}.png", safe(&groups[i].0)));
        band_prediction(
            &path,
            &from_kernel::band_prediction(
                &format!("Kernel theory: predicted vs measured band errors, {name}, checkpoint epoch {epoch}"),
                ckpt,
                run,
            )?,
        )?;
        figures.push(path);
    }
    if panels.is_empty() {
        return Ok(figures);
    }
    let spectrum = out.join("kernel_spectrum.png");
    kernel_spectrum(
        &spectrum,
        &KernelSpectrumData {
            title: format!("Kernel theory: eigenvalues of K_P and K at checkpoint epoch {epoch}"),
            caption: format!(
                "Dots: eigenvalues of K_P = J P J^T / N (the optimizer's preconditioner P at the checkpoint), largest first, coloured by the band holding the largest share of the eigenvector's energy. Rings: K = J J^T / N (P = I) of the same parameters. Eigenvalues below {ROUND_OFF_RATIO:.0e} x the largest (round-off) are not drawn. First completed seed of each configuration."
            ),
            band_labels: band_list.iter().map(|b| b.label.clone()).collect(),
            rest_band: band_list.iter().position(|b| b.rest),
            floor_ratio: ROUND_OFF_RATIO,
            panels,
        },
    )?;
    let shares = out.join("kernel_shares.png");
    panel(
        &shares,
        &maps,
        &ColourScale::linear(0.0, 1.0),
        &format!("Kernel theory: band shares of the eigenvectors of K_P, checkpoint epoch {epoch}"),
    )?;
    figures.splice(0..0, [spectrum, shares]);
    Ok(figures)
}

/// The predicted against measured preference index across p at checkpoint `epoch` (PAdam
/// configurations at their p, the others as bands) and its finding line.
fn index_vs_p(
    groups: &[(String, Vec<RunData>)],
    rows: &[Row],
    epoch: u64,
    out: &Path,
) -> Result<(Option<PathBuf>, String)> {
    let label = |i: usize| groups[i].0.trim_start_matches("optimizer=").to_string();
    let of = |i: usize, pick: &dyn Fn(&Row) -> f64| -> MeanCi {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| r.config == i && r.epoch == epoch)
            .map(pick)
            .filter(|x| x.is_finite())
            .collect();
        MeanCi::of(&v)
    };
    let mut points = Vec::new();
    let mut bands = Vec::new();
    let mut parts = Vec::new();
    for (i, (_, runs)) in groups.iter().enumerate() {
        let Some(first) = runs.first() else { continue };
        // An unstable linear map predicts every band to grow alike: no index to compare.
        let (pred, meas) = (
            of(i, &|r| if r.stable() { r.index.0 } else { f64::NAN }),
            of(i, &|r| r.index.1),
        );
        parts.push(format!(
            "{} predicted {} (n = {}) measured {} (n = {})",
            label(i),
            fmt_index(&pred),
            pred.n,
            fmt_index(&meas),
            meas.n
        ));
        let n_diverged = runs.iter().filter(|r| r.status() != "completed").count();
        match fixed_p(first.optimizer()) {
            Some(p) => {
                for (series, c) in [("measured", &meas), ("predicted", &pred)] {
                    points.push(EstimatePoint {
                        label: String::new(),
                        series: series.into(),
                        x: p,
                        mean: c.mean,
                        lo: if c.n >= 2 { c.lo } else { f64::NAN },
                        hi: if c.n >= 2 { c.hi } else { f64::NAN },
                        n: c.n,
                        n_diverged,
                        never: 0,
                    });
                }
            }
            None => {
                for (series, c) in [("measured", &meas), ("predicted", &pred)] {
                    if c.n >= 1 {
                        bands.push(BaselineBand {
                            label: format!("{} {series}", label(i)),
                            mean: c.mean,
                            lo: if c.n >= 2 { c.lo } else { c.mean },
                            hi: if c.n >= 2 { c.hi } else { c.mean },
                        });
                    }
                }
            }
        }
    }
    let finding = format!(
        "kernel theory, preference index of the band decay rates over the window after the epoch-{epoch} checkpoint, mean [95% interval over seeds; predicted over the runs with a stable linearised map]: {}",
        parts.join("; ")
    );
    if points.is_empty() {
        return Ok((None, finding));
    }
    let path = out.join("kernel_index_vs_p.png");
    estimates(
        &path,
        &EstimatesData {
            title: format!("Kernel theory: predicted vs measured preference index vs p (checkpoint epoch {epoch})"),
            caption: "Preference index (+ = low frequencies first) of the band decay rates over the window after the checkpoint: measured from bands.csv, predicted by the linearised kernel r <- (I - lr_eff K_P) r, over the runs whose linearised map is stable (lr_eff x largest eigenvalue < 2; n beside each point). Points: mean over completed seeds; whiskers: 95% Student-t interval (none with < 2 seeds). Bands: the other optimizers (dashed: mean).".into(),
            layout: Layout::Numeric,
            position_label: "p (fixed exponent of PAdam)".into(),
            value_label: "preference index (dimensionless)".into(),
            points,
            bands,
            reference: None,
            floor: None,
        },
    )?;
    Ok((Some(path), finding))
}
