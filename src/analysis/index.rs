//! The frequency-preference index: one signed, dimensionless number per run that says whether
//! an optimizer learns low frequencies first (positive), is neutral (near 0) or favours high
//! frequencies (negative).
//!
//! Definition (also printed in every report header, see [`INDEX_DEFINITION`]):
//!
//! 1. Per band b, the **decay rate** over the window [e0, W] (e0 = first analysed epoch,
//!    W = `window_fraction` x budget; default the whole budget) is
//!    `k_b = -mean_e(L_b(e) - L_b(e0)) / mean_e(e - e0)` with `L_b(e) = log10(max(rel_error, 1e-6))`,
//!    the means taken over the analysed epochs in the window. For a pure exponential
//!    decay `L_b(e) = L_b(e0) - k (e - e0)` it is exactly `k` (decades per epoch); unlike a
//!    least-squares slope it does not under-rate a band that converged early and then sat at
//!    its floor (it is the slope of the line from the initial value with the same area under
//!    the log curve). Every band with a defined relative error has one, reached or not.
//! 2. The **index** is `-beta / mean_b |k_b|`, where `beta` is the least-squares slope of `k_b`
//!    against `log2(centre frequency of b)` across the participating bands (target energy > 0,
//!    not the catch-all "rest" band, centre > 0). Dividing by the mean absolute decay rate
//!    makes it dimensionless ("relative change of the decay rate per octave"), so optimizers
//!    with very different speeds are comparable. Undefined (NaN) with fewer than two bands or
//!    when no band moves at all.
//!
//! The second view, [`time_spearman`], is the Spearman rank correlation between band frequency
//! and epochs to a threshold among the bands that reach it (positive = low first).

use crate::base::stats::spearman;

/// Relative errors below this are clipped before taking log10: a band this far down counts as
/// learned, and f32 round-off below it does not move the measures.
pub const REL_FLOOR: f64 = 1e-6;

/// The definition as printed in report headers and the README.
pub const INDEX_DEFINITION: &str = "Frequency-preference index: per band b, decay rate k_b = -mean(L_b(e) - L_b(e0)) / mean(e - e0) over the analysed epochs e of the window, L_b = log10(max(rel_error_b, 1e-6)) (exactly the rate in decades/epoch for an exponential decay; every band has one, reached or not). index = -beta / mean_b|k_b|, beta = least-squares slope of k_b on log2(band centre frequency), over bands with target energy > 0 except the catch-all `rest` band. Dimensionless (relative change of decay rate per octave); > 0: low frequencies learned first, ~0: neutral, < 0: high frequencies first. Second view: Spearman correlation between band frequency and epochs to the largest threshold among bands that reach it (> 0: low first; needs >= 3 such bands).";

/// Centre frequency (cycles) of the band [f_lo, f_hi): the midpoint of the integer DFT bins it
/// contains (bin k = k cycles, bins k with f_lo <= k < f_hi); the midpoint of the edges if it
/// contains no bin.
pub fn band_centre(f_lo: f64, f_hi: f64) -> f64 {
    let first = f_lo.ceil();
    let last = f_hi.ceil() - 1.0;
    if last >= first {
        0.5 * (first + last)
    } else {
        0.5 * (f_lo + f_hi)
    }
}

/// log10 of a relative error clipped at [`REL_FLOOR`]; NaN stays NaN.
pub fn log_rel(x: f64) -> f64 {
    if x.is_nan() {
        f64::NAN
    } else {
        x.max(REL_FLOOR).log10()
    }
}

/// The area decay rate (decades per epoch) of one band over analysed epochs `<= window_end`.
/// NaN if fewer than two finite points are in the window.
pub fn decay_rate(epochs: &[u64], rel: &[f64], window_end: f64) -> f64 {
    let pts: Vec<(f64, f64)> = epochs
        .iter()
        .zip(rel)
        .filter(|(&e, r)| (e as f64) <= window_end && r.is_finite())
        .map(|(&e, &r)| (e as f64, log_rel(r)))
        .collect();
    if pts.len() < 2 {
        return f64::NAN;
    }
    let (e0, l0) = pts[0];
    let n = pts.len() as f64;
    let mean_dl = pts.iter().map(|(_, l)| l - l0).sum::<f64>() / n;
    let mean_de = pts.iter().map(|(e, _)| e - e0).sum::<f64>() / n;
    if mean_de <= 0.0 {
        return f64::NAN;
    }
    -mean_dl / mean_de
}

/// Least-squares slope of y on x (NaN with fewer than two distinct x).
pub fn ls_slope(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 2 {
        return f64::NAN;
    }
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    if sxx <= 0.0 {
        return f64::NAN;
    }
    sxy / sxx
}

/// The index of one run from its participating bands' centres and decay rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndexValue {
    /// -beta / mean|k| (dimensionless); NaN if undefined.
    pub index: f64,
    /// beta: slope of the decay rate on log2(centre), decades per epoch per octave.
    pub slope: f64,
    /// mean_b |k_b|, decades per epoch.
    pub mean_abs_rate: f64,
    /// Bands used.
    pub n_bands: usize,
}

/// The preference index from band centre frequencies (cycles, > 0) and decay rates. Bands
/// with a non-finite rate or a centre <= 0 are skipped.
pub fn preference_index(centres: &[f64], rates: &[f64]) -> IndexValue {
    let (x, y): (Vec<f64>, Vec<f64>) = centres
        .iter()
        .zip(rates)
        .filter(|(c, k)| **c > 0.0 && k.is_finite())
        .map(|(c, k)| (c.log2(), *k))
        .unzip();
    let n_bands = x.len();
    let slope = ls_slope(&x, &y);
    let mean_abs_rate = if n_bands == 0 {
        f64::NAN
    } else {
        y.iter().map(|k| k.abs()).sum::<f64>() / n_bands as f64
    };
    let index = if slope.is_finite() && mean_abs_rate > 0.0 {
        -slope / mean_abs_rate
    } else {
        // Fewer than two bands, or no band moves: no preference can be read.
        f64::NAN
    };
    IndexValue {
        index,
        slope,
        mean_abs_rate,
        n_bands,
    }
}

/// Second view: Spearman correlation between band centre frequency and epochs to a threshold
/// among the bands that reach it (`None` = never). NaN with fewer than 3 such bands.
pub fn time_spearman(centres: &[f64], times: &[Option<u64>]) -> f64 {
    let (x, y): (Vec<f64>, Vec<f64>) = centres
        .iter()
        .zip(times)
        .filter_map(|(c, t)| t.map(|t| (*c, t as f64)))
        .unzip();
    if x.len() < 3 {
        return f64::NAN;
    }
    spearman(&x, &y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp_curve(rate: f64, n: u64) -> (Vec<u64>, Vec<f64>) {
        let e: Vec<u64> = (0..=n).collect();
        let r = e.iter().map(|&e| 10f64.powf(-rate * e as f64)).collect();
        (e, r)
    }

    #[test]
    fn decay_rate_of_exponential_is_exact() {
        let (e, r) = exp_curve(0.002, 1000);
        assert!((decay_rate(&e, &r, 1000.0) - 0.002).abs() < 1e-12);
        assert!((decay_rate(&e, &r, 500.0) - 0.002).abs() < 1e-12);
        // Sparse, uneven sampling does not matter for a pure exponential.
        let e2 = vec![0, 3, 10, 50, 400];
        let r2: Vec<f64> = e2.iter().map(|&e| 10f64.powf(-0.001 * e as f64)).collect();
        assert!((decay_rate(&e2, &r2, 1e9) - 0.001).abs() < 1e-12);
        assert!(decay_rate(&[0], &[1.0], 10.0).is_nan());
    }

    #[test]
    fn early_convergence_outranks_slow_steady_decay() {
        // Band A reaches the floor at epoch 100 and stays; band B decays steadily to 1e-3.
        let e: Vec<u64> = (0..=2000).collect();
        let a: Vec<f64> = e
            .iter()
            .map(|&e| 10f64.powf(-(e as f64 * 0.06).min(6.0)))
            .collect();
        let b: Vec<f64> = e
            .iter()
            .map(|&e| 10f64.powf(-3.0 * e as f64 / 2000.0))
            .collect();
        assert!(decay_rate(&e, &a, 2000.0) > decay_rate(&e, &b, 2000.0));
    }

    #[test]
    fn index_sign_and_scale() {
        let c = [1.0, 2.0, 4.0, 8.0, 16.0];
        let low_first = preference_index(&c, &[5.0, 4.0, 3.0, 2.0, 1.0]);
        assert!(low_first.index > 0.0);
        // slope -1 per octave, mean |k| = 3.
        assert!((low_first.index - 1.0 / 3.0).abs() < 1e-12);
        let high_first = preference_index(&c, &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!((high_first.index + 1.0 / 3.0).abs() < 1e-12);
        let flat = preference_index(&c, &[2.0; 5]);
        assert!(flat.index.abs() < 1e-12);
        // Scale-free: 1000x faster optimizer, same index.
        let fast = preference_index(&c, &[5e3, 4e3, 3e3, 2e3, 1e3]);
        assert!((fast.index - low_first.index).abs() < 1e-12);
        assert!(preference_index(&c, &[0.0; 5]).index.is_nan());
        assert!(preference_index(&[1.0], &[1.0]).index.is_nan());
    }

    #[test]
    fn centres_and_ranks() {
        assert_eq!(band_centre(1.0, 2.0), 1.0);
        assert_eq!(band_centre(16.0, 17.0), 16.0);
        assert_eq!(band_centre(2.0, 5.0), 3.0);
        assert_eq!(band_centre(0.5, 0.9), 0.7);
        assert_eq!(
            time_spearman(&[1.0, 2.0, 4.0, 8.0], &[Some(10), Some(20), None, Some(30)]),
            1.0
        );
        assert!(time_spearman(&[1.0, 2.0], &[Some(1), Some(2)]).is_nan());
    }
}
