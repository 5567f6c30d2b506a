//! The linearised prediction `r_s = sum_i a_i (1 - lr_eff lambda_i)^s u_i` of the residual
//! from a checkpoint, and what it predicts per band (relative errors, first crossings within
//! the window and, for the report's predicted column, up to the end of the budget, decay
//! rates, the preference index) by the report's own rules.

use crate::analysis::index::{decay_rate, preference_index, IndexValue};
use crate::analysis::kernel::meter::BandMeter;
use crate::analysis::kernel::spectrum::KernelSpectrum;
use crate::base::linalg::SymEigen;
use crate::spectral::first_crossing;
use anyhow::{bail, Result};
use serde::Serialize;

/// How far ahead to predict, and the measured-convergence rules to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Horizon {
    /// Epoch of the checkpoint (the residual r_0 is the one at its end).
    pub start_epoch: u64,
    /// Absolute epochs (>= start_epoch, increasing) at which to evaluate the prediction.
    pub epochs: Vec<u64>,
    /// Optimizer updates per epoch (1 for full batch).
    pub steps_per_epoch: u64,
    /// Relative-error thresholds (config.spectral.thresholds).
    pub thresholds: Vec<f64>,
    /// Last epoch of the decay-rate window (window_fraction x budget).
    pub window_end: f64,
    /// Later epochs (increasing, after `epochs`, e.g. the run's analysed epochs to the end of
    /// its budget) at which the prediction is evaluated for the first crossings only
    /// ([`Prediction::to_threshold_budget`]).
    pub beyond: Vec<u64>,
}

/// Predicted band dynamics from one checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub epochs: Vec<u64>,
    /// `rel_error[e][b]`: predicted relative band error at `epochs[e]`.
    pub rel_error: Vec<Vec<f64>>,
    /// Predicted MSE at each epoch.
    pub mse: Vec<f64>,
    /// `to_threshold[b][t]`: first predicted epoch below threshold t (None: not within the
    /// horizon).
    pub to_threshold: Vec<Vec<Option<u64>>>,
    /// `to_threshold_budget[b][t]`: as `to_threshold`, over `epochs` and the later
    /// [`Horizon::beyond`] epochs (None: not by the last of them).
    pub to_threshold_budget: Vec<Vec<Option<u64>>>,
    /// The last epoch the crossings of `to_threshold_budget` were looked for at.
    pub budget_end: u64,
    /// Per band, the predicted decay rate (decades per epoch; NaN outside the index).
    pub decay_rate: Vec<f64>,
    /// The predicted preference index.
    #[serde(serialize_with = "index_json")]
    pub index: IndexValue,
}

fn index_json<Ser: serde::Serializer>(v: &IndexValue, s: Ser) -> Result<Ser::Ok, Ser::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("IndexValue", 4)?;
    st.serialize_field("index", &v.index)?;
    st.serialize_field("slope", &v.slope)?;
    st.serialize_field("mean_abs_rate", &v.mean_abs_rate)?;
    st.serialize_field("n_bands", &v.n_bands)?;
    st.end()
}

/// The residual after `steps` updates of `r <- (I - lr_eff K_P) r`, from the coefficients
/// `coef[i] = <u_i, r_0>` on the eigenvectors of K_P.
pub fn evolve(eig: &SymEigen, coef: &[f64], lr_eff: f64, steps: u64) -> Vec<f64> {
    let mut r = vec![0.0; eig.n];
    let s = steps.min(i32::MAX as u64) as i32;
    for (i, &a) in coef.iter().enumerate() {
        let c = a * (1.0 - lr_eff * eig.values[i]).powi(s);
        if c != 0.0 {
            r.iter_mut()
                .zip(eig.vector(i))
                .for_each(|(r, &u)| *r += c * u);
        }
    }
    r
}

/// Projections `<u_i, r>` of `r` on every eigenvector.
pub fn project(eig: &SymEigen, r: &[f64]) -> Vec<f64> {
    (0..eig.n)
        .map(|i| eig.vector(i).iter().zip(r).map(|(u, r)| u * r).sum())
        .collect()
}

/// The linearised prediction of every band from residual `r0` at the checkpoint.
pub fn predict(
    spec: &KernelSpectrum,
    r0: &[f64],
    lr_eff: f64,
    horizon: &Horizon,
    meter: &mut BandMeter,
) -> Result<Prediction> {
    if r0.len() != spec.eig.n {
        bail!(
            "kernel prediction: residual has {} values, the kernel is {} x {}",
            r0.len(),
            spec.eig.n,
            spec.eig.n
        );
    }
    if let Some(&e) = horizon.epochs.iter().find(|&&e| e < horizon.start_epoch) {
        bail!(
            "kernel prediction: epoch {e} is before the checkpoint epoch {}; predict only forward",
            horizon.start_epoch
        );
    }
    let coef = project(&spec.eig, r0);
    let mut rel_error = Vec::with_capacity(horizon.epochs.len());
    let mut mse = Vec::with_capacity(horizon.epochs.len());
    for &e in &horizon.epochs {
        let steps = (e - horizon.start_epoch) * horizon.steps_per_epoch;
        let r = evolve(&spec.eig, &coef, lr_eff, steps);
        mse.push(r.iter().map(|x| x * x).sum::<f64>() / r.len() as f64);
        rel_error.push(meter.rel_error(&r));
    }
    if let (Some(&last), Some(&first)) = (horizon.epochs.last(), horizon.beyond.first()) {
        if first <= last || horizon.beyond.windows(2).any(|w| w[1] <= w[0]) {
            bail!(
                "kernel prediction: the epochs beyond the window must increase after epoch {last}"
            );
        }
    }
    let mut long_error = rel_error.clone();
    for &e in &horizon.beyond {
        let steps = (e - horizon.start_epoch) * horizon.steps_per_epoch;
        long_error.push(meter.rel_error(&evolve(&spec.eig, &coef, lr_eff, steps)));
    }
    let long_epochs: Vec<u64> = horizon
        .epochs
        .iter()
        .chain(&horizon.beyond)
        .copied()
        .collect();
    let bands = meter.bands().to_vec();
    let series = |b: usize| -> Vec<f64> { rel_error.iter().map(|row| row[b]).collect() };
    let crossings = |epochs: &[u64], rows: &[Vec<f64>]| -> Vec<Vec<Option<u64>>> {
        (0..bands.len())
            .map(|b| {
                let s: Vec<f64> = rows.iter().map(|row| row[b]).collect();
                horizon
                    .thresholds
                    .iter()
                    .map(|&t| first_crossing(epochs, &s, t))
                    .collect()
            })
            .collect()
    };
    let to_threshold = crossings(&horizon.epochs, &rel_error);
    let to_threshold_budget = crossings(&long_epochs, &long_error);
    let decay: Vec<f64> = (0..bands.len())
        .map(|b| {
            if bands[b].target_energy > 0.0 {
                decay_rate(&horizon.epochs, &series(b), horizon.window_end)
            } else {
                f64::NAN
            }
        })
        .collect();
    let (centres, rates): (Vec<f64>, Vec<f64>) = bands
        .iter()
        .zip(&decay)
        .filter(|(b, _)| b.in_index())
        .map(|(b, &k)| (b.centre, k))
        .unzip();
    Ok(Prediction {
        epochs: horizon.epochs.clone(),
        rel_error,
        mse,
        to_threshold,
        to_threshold_budget,
        budget_end: long_epochs.last().copied().unwrap_or(horizon.start_epoch),
        decay_rate: decay,
        index: preference_index(&centres, &rates),
    })
}
