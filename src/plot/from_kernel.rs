//! Kernel-theory figure data from kernel.json (format `bandwise-kernel/1`, one checkpoint
//! entry at a time, as JSON) and the run's measured band errors: the eigenvalue-spectrum
//! panel, the band x eigen-index share map and the predicted against measured band curves.
//! `bandwise kernel` and the theory_kernel analysis both draw through these, so a figure of
//! a run's kernel.json and the analysis's figure are the same figure.

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::band_prediction::{BandPrediction, BandPredictionData};
use super::heatmap::HeatmapData;
use super::kernel_spectrum::SpectrumPanel;
use crate::record::load::RunData;

/// Eigenvalues below this fraction of the largest are round-off (f64 eigensolvers resolve
/// about 1e-16 relative; K_P is a product of float32-trained parameters) and are left out of
/// the spectrum and the share map.
pub const ROUND_OFF_RATIO: f64 = 1e-12;

fn f64s(v: &Value, what: &str) -> Result<Vec<f64>> {
    v.as_array()
        .with_context(|| format!("kernel.json: `{what}` is not an array"))?
        .iter()
        .map(|x| Ok(x.as_f64().unwrap_or(f64::NAN)))
        .collect()
}

fn matrix(v: &Value, what: &str) -> Result<Vec<Vec<f64>>> {
    v.as_array()
        .with_context(|| format!("kernel.json: `{what}` is not an array of rows"))?
        .iter()
        .map(|row| f64s(row, what))
        .collect()
}

/// One band of a checkpoint entry.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelBand {
    pub label: String,
    pub rest: bool,
    /// Takes part in the index (target energy > 0, not rest, centre > 0).
    pub in_index: bool,
}

/// The bands of a checkpoint entry (`bands`).
pub fn bands(ckpt: &Value) -> Result<Vec<KernelBand>> {
    let list = ckpt["bands"].as_array().context(
        "kernel.json: checkpoint has no `bands` array; was it written by `bandwise kernel`?",
    )?;
    Ok(list
        .iter()
        .map(|b| {
            let rest = b["rest"].as_bool().unwrap_or(false);
            KernelBand {
                label: b["label"].as_str().unwrap_or("?").to_string(),
                rest,
                in_index: !rest
                    && b["target_energy"].as_f64().is_some_and(|e| e > 0.0)
                    && b["centre"].as_f64().is_some_and(|c| c > 0.0),
            }
        })
        .collect())
}

/// The checkpoint's epoch.
pub fn epoch(ckpt: &Value) -> u64 {
    ckpt["epoch"].as_u64().unwrap_or(0)
}

/// The spectrum panel (K_P coloured by dominant band, K beside it) of one checkpoint entry.
pub fn spectrum_panel(title: &str, ckpt: &Value) -> Result<SpectrumPanel> {
    let dominant = ckpt["preconditioned"]["dominant_band"]
        .as_array()
        .context("kernel.json: checkpoint has no `preconditioned.dominant_band`")?
        .iter()
        .map(|b| b.as_u64().map(|b| b as usize))
        .collect::<Option<Vec<usize>>>()
        .context("kernel.json: `preconditioned.dominant_band` holds a non-integer")?;
    Ok(SpectrumPanel {
        title: title.to_string(),
        preconditioned: f64s(
            &ckpt["preconditioned"]["eigenvalues"],
            "preconditioned.eigenvalues",
        )?,
        dominant,
        plain: f64s(&ckpt["plain"]["eigenvalues"], "plain.eigenvalues")?,
    })
}

/// Number of leading eigenvalues at least `ratio` x the largest (at least 1).
pub fn numerical_rank(eigenvalues: &[f64], ratio: f64) -> usize {
    let top = eigenvalues.first().copied().unwrap_or(0.0);
    eigenvalues
        .iter()
        .take_while(|&&l| l.is_finite() && l >= ratio * top)
        .count()
        .max(1)
}

/// The band x eigen-index share map of K_P: row b, column i = eigenvector i's share of its
/// energy in band b, for the eigenvectors above round-off ([`ROUND_OFF_RATIO`]).
pub fn share_map(title: &str, ckpt: &Value) -> Result<HeatmapData> {
    let band_list = bands(ckpt)?;
    let shares = matrix(&ckpt["preconditioned"]["shares"], "preconditioned.shares")?;
    let eig = f64s(
        &ckpt["preconditioned"]["eigenvalues"],
        "preconditioned.eigenvalues",
    )?;
    if shares.len() != eig.len() || shares.iter().any(|r| r.len() != band_list.len()) {
        bail!(
            "kernel.json: `preconditioned.shares` is not {} eigenvectors x {} bands",
            eig.len(),
            band_list.len()
        );
    }
    let m = numerical_rank(&eig, ROUND_OFF_RATIO);
    Ok(HeatmapData {
        title: format!("{title} ({m} of {})", eig.len()),
        caption: "Colour: share of eigenvector i's energy in each band (Parseval band energies of the unit eigenvector, the monitor's bands; each column sums to 1). Eigenvectors of K_P ordered by eigenvalue, largest first; only those with eigenvalue >= 1e-12 x the largest are shown (their count of all N is in the title; the others are round-off).".into(),
        epochs: (1..=m).map(|i| i as f64).collect(),
        band_labels: band_list.iter().map(|b| b.label.clone()).collect(),
        values: (0..band_list.len())
            .map(|b| shares[..m].iter().map(|row| row[b]).collect())
            .collect(),
        value_label: "share of eigenvector energy in band".into(),
        row_label: String::new(),
        col_label: "eigen-index of K_P (1 = largest eigenvalue)".into(),
        strips: Vec::new(),
    })
}

/// Predicted (from the checkpoint entry) against measured (bands.csv, train grid) relative
/// errors of the index bands; the measured curves run from epoch 0 to one window beyond the
/// prediction window.
pub fn band_prediction(title: &str, ckpt: &Value, run: &RunData) -> Result<BandPredictionData> {
    let band_list = bands(ckpt)?;
    let measured = run.grid_bands("train").with_context(|| {
        format!(
            "{}: bands.csv has no train-grid rows; the comparison needs spectral.grids to include \"train\"",
            run.dir.display()
        )
    })?;
    if measured.labels.len() != band_list.len() {
        bail!(
            "{}: bands.csv has {} train bands but kernel.json has {}; rerun `bandwise kernel` on this run",
            run.dir.display(),
            measured.labels.len(),
            band_list.len()
        );
    }
    let start = epoch(ckpt) as f64;
    let window_end = ckpt["comparison"]["window_end"]
        .as_f64()
        .context("kernel.json: checkpoint has no `comparison.window_end`")?;
    let shown_to = window_end + (window_end - start).max(1.0);
    let p_epochs = f64s(&ckpt["prediction"]["epochs"], "prediction.epochs")?;
    let p_err = matrix(&ckpt["prediction"]["rel_error"], "prediction.rel_error")?;
    if p_err.len() != p_epochs.len() {
        bail!(
            "kernel.json: `prediction.rel_error` has {} rows but `prediction.epochs` has {}",
            p_err.len(),
            p_epochs.len()
        );
    }
    let bands = band_list
        .iter()
        .enumerate()
        .filter(|(_, b)| b.in_index)
        .map(|(b, info)| BandPrediction {
            label: info.label.clone(),
            measured: measured
                .epochs
                .iter()
                .zip(&measured.rel_error[b])
                .filter(|(e, _)| **e as f64 <= shown_to)
                .map(|(&e, &v)| (e as f64, v))
                .collect(),
            predicted: p_epochs
                .iter()
                .zip(&p_err)
                .map(|(&e, row)| (e, row.get(b).copied().unwrap_or(f64::NAN)))
                .collect(),
        })
        .collect();
    Ok(BandPredictionData {
        title: title.to_string(),
        caption: format!(
            "Solid: measured relative band error E_b(r)/E_b(y) on the training grid (bands.csv). Dashed: the linearised prediction r <- (I - lr_eff K_P) r from the residual at the checkpoint (epoch {start}), at the run's analysed epochs up to epoch {window_end} (shaded: the prediction window, 10% of the budget by default). Bands with no target energy are left out."
        ),
        y_label: String::new(),
        window: (start, window_end),
        bands,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ckpt() -> Value {
        json!({
            "epoch": 10,
            "bands": [
                {"label": "1 cyc", "rest": false, "target_energy": 0.5, "centre": 1.0},
                {"label": "2 cyc", "rest": false, "target_energy": 0.0, "centre": 2.0},
                {"label": "rest", "rest": true, "target_energy": 0.1, "centre": 5.0}
            ],
            "preconditioned": {
                "eigenvalues": [4.0, 1.0, 1e-15],
                "dominant_band": [0, 2, 1],
                "shares": [[0.75, 0.0, 0.25], [0.25, 0.25, 0.5], [0.0, 1.0, 0.0]]
            },
            "plain": {"eigenvalues": [3.0, 2.0, 1e-16]},
            "prediction": {"epochs": [10, 15], "rel_error": [[1.0, null, 1.0], [0.5, null, 0.9]]},
            "comparison": {"window_end": 15}
        })
    }

    #[test]
    fn bands_in_index_follow_the_report_rule() {
        let b = bands(&ckpt()).unwrap();
        assert_eq!(
            b.iter().map(|b| b.in_index).collect::<Vec<_>>(),
            vec![true, false, false]
        );
    }

    #[test]
    fn share_map_drops_round_off_columns_and_keeps_column_sums() {
        let h = share_map("t", &ckpt()).unwrap();
        assert_eq!(h.epochs, vec![1.0, 2.0]);
        assert_eq!(h.values.len(), 3);
        for i in 0..2 {
            let s: f64 = h.values.iter().map(|row| row[i]).sum();
            assert!((s - 1.0).abs() < 1e-12);
        }
        assert_eq!(h.values[0], vec![0.75, 0.25]);
    }

    #[test]
    fn spectrum_panel_reads_both_kernels() {
        let p = spectrum_panel("t", &ckpt()).unwrap();
        assert_eq!(p.dominant, vec![0, 2, 1]);
        assert_eq!(p.plain, vec![3.0, 2.0, 1e-16]);
    }

    #[test]
    fn numerical_rank_counts_leading_values_above_the_ratio() {
        assert_eq!(numerical_rank(&[1.0, 1e-3, 1e-13, 1e-3], 1e-12), 2);
        assert_eq!(numerical_rank(&[], 1e-12), 1);
    }
}
