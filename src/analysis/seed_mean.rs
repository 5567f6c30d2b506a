//! The mean record of a configuration's seeds, for panels and per-configuration figures.

use crate::base::stats::{self, geometric_mean};
use crate::record::load::RunData;

/// The average record of the completed seeds of one configuration: geometric mean of the
/// error-like measures (relative errors, energies), arithmetic mean of losses, the objective's
/// metrics (e.g. accuracies), shares and amplitudes. Used for panels and per-configuration heatmaps; the caption says so.
pub fn mean_run(runs: &[&RunData]) -> Option<RunData> {
    let first = *runs.first()?;
    let mut mean = first.clone();
    let n = runs.len();
    let geo = |get: &dyn Fn(&RunData) -> Option<f64>| -> f64 {
        geometric_mean(runs.iter().filter_map(|r| get(r)))
    };
    let arith = |get: &dyn Fn(&RunData) -> Option<f64>| -> f64 {
        let vals: Vec<f64> = runs
            .iter()
            .filter_map(|r| get(r))
            .filter(|v| v.is_finite())
            .collect();
        stats::mean(&vals)
    };
    for (i, _) in first.epochs.epoch.iter().enumerate() {
        mean.epochs.train_loss[i] = arith(&|r| r.epochs.train_loss.get(i).copied());
        mean.epochs.test_loss[i] = arith(&|r| r.epochs.test_loss.get(i).copied());
        for (m, (name, _)) in first.epochs.metrics.iter().enumerate() {
            mean.epochs.metrics[m].1[i] =
                arith(&|r| r.epochs.metric(name).and_then(|v| v.get(i)).copied());
        }
    }
    for (g, gb) in first.bands.iter().enumerate() {
        for b in 0..gb.labels.len() {
            for e in 0..gb.epochs.len() {
                let at = |r: &RunData, f: fn(&crate::record::load::GridBands) -> &Vec<Vec<f64>>| {
                    r.bands
                        .get(g)
                        .and_then(|x| f(x).get(b))
                        .and_then(|row| row.get(e))
                        .copied()
                };
                mean.bands[g].rel_error[b][e] = geo(&|r| at(r, |x| &x.rel_error));
                mean.bands[g].residual_energy[b][e] = geo(&|r| at(r, |x| &x.residual_energy));
                mean.bands[g].share[b][e] = arith(&|r| at(r, |x| &x.share));
            }
        }
    }
    for (g, gp) in first.peaks.iter().enumerate() {
        for c in 0..gp.k.len() {
            for e in 0..gp.epochs.len() {
                let at = |r: &RunData, f: fn(&crate::record::load::GridPeaks) -> &Vec<Vec<f64>>| {
                    r.peaks
                        .get(g)
                        .and_then(|x| f(x).get(c))
                        .and_then(|row| row.get(e))
                        .copied()
                };
                mean.peaks[g].fp_rel_error[c][e] = geo(&|r| at(r, |x| &x.fp_rel_error));
                mean.peaks[g].fp_rel_error_mag[c][e] = geo(&|r| at(r, |x| &x.fp_rel_error_mag));
                mean.peaks[g].rahaman_amplitude[c][e] = arith(&|r| at(r, |x| &x.rahaman_amplitude));
            }
        }
    }
    // "sweep/optimizer=adam__seed=0" -> "sweep/optimizer=adam"; "sweep/seed=0" -> "sweep".
    let name = first.name();
    let config_name = match name.rfind("seed=") {
        Some(i) if name[i + 5..].chars().all(|c| c.is_ascii_digit()) => {
            name[..i].trim_end_matches(['_', '/']).to_string()
        }
        _ => name.to_string(),
    };
    mean.meta["mean_of_seeds"] = serde_json::json!(n);
    mean.meta["name"] = serde_json::Value::String(format!(
        "{config_name}, mean of {n} seed{}",
        if n == 1 { "" } else { "s" }
    ));
    Some(mean)
}
