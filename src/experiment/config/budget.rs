//! Refusing impossible work up front: an upper estimate of the memory a run needs, computed
//! with checked arithmetic (a size product that overflows is itself an error), compared with
//! the machine's memory (`MemTotal` of /proc/meminfo) and an optional cap
//! ([`MEMORY_CAP_ENV`], in GB). [`check`] runs first in config validation, before anything is
//! allocated for the grids, the network or the records.
//!
//! The estimate (8 bytes per number, whatever the dtype, so it is an upper bound):
//! - parameters of the MLP (`d0 -> hidden... -> 1`, weights and biases) times 5: parameters,
//!   gradients, two optimizer moments, the initial copy;
//! - workspace: pre- and post-activations of every layer for the larger of the batch and the
//!   evaluation grids;
//! - grids: train and test coordinates, values, features and predictions, and FFT buffers;
//! - records: per evaluated epoch one epochs row and band/peak rows on both grids (128 bytes
//!   each for up to `frequencies + 2 log2(n) + 8` bands), and snapshot rows.

use crate::experiment::config::Experiment;
use anyhow::{bail, Result};

/// Environment variable: the most memory, in GB (10^9 bytes), one run may need.
pub const MEMORY_CAP_ENV: &str = "BANDWISE_MAX_MEMORY_GB";

/// The estimate of one run, in bytes, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub parameters: u64,
    pub workspace: u64,
    pub grids: u64,
    pub records: u64,
}

impl Estimate {
    pub fn total(&self) -> u64 {
        self.parameters
            .saturating_add(self.workspace)
            .saturating_add(self.grids)
            .saturating_add(self.records)
    }
}

fn too_large(what: &str) -> anyhow::Error {
    anyhow::anyhow!("{what} overflows a 64-bit size: the run is far too large for any machine; use a smaller grid or network")
}

/// Multiply sizes, failing with an error naming `what` on overflow.
fn mul(what: &str, factors: &[u64]) -> Result<u64> {
    factors
        .iter()
        .try_fold(1u64, |acc, &f| acc.checked_mul(f))
        .ok_or_else(|| too_large(what))
}

fn add(what: &str, terms: &[u64]) -> Result<u64> {
    terms
        .iter()
        .try_fold(0u64, |acc, &t| acc.checked_add(t))
        .ok_or_else(|| too_large(what))
}

/// Estimate the memory `exp` needs (see the module docs).
pub fn estimate(exp: &Experiment) -> Result<Estimate> {
    const B: u64 = 8;
    let t = &exp.target;
    let (n_train, n_test, dim) = match &t.waves2d {
        Some(w) => {
            let n = mul(
                "target.n = [N, M] (N * M)",
                &[w.dims[0] as u64, w.dims[1] as u64],
            )?;
            (n, n, 2u64)
        }
        None => (t.n as u64, t.test.n.unwrap_or(t.n) as u64, 1u64),
    };
    let d0 = match &exp.model.fourier_features {
        Some(ff) => mul("model.fourier_features.count", &[ff.count as u64, 2])?,
        None => dim,
    };
    let mut widths = vec![d0];
    widths.extend(exp.model.hidden.iter().map(|&h| h as u64));
    widths.push(1);
    let mut params = 0u64;
    for pair in widths.windows(2) {
        let layer = add(
            "model.hidden (weights)",
            &[mul("model.hidden (weights)", &[pair[0], pair[1]])?, pair[1]],
        )?;
        params = add("model.hidden (parameters)", &[params, layer])?;
    }
    let parameters = mul("model.hidden (parameters)", &[params, 5, B])?;
    let batch = match exp.train.batch_size {
        0 => n_train,
        b => b as u64,
    };
    let rows = batch.max(n_train).max(n_test);
    let width_sum = add("model.hidden (widths)", &widths)?;
    let workspace = mul(
        "model.hidden x grid (activations)",
        &[width_sum, rows, 2, B],
    )?;
    let per_point = add("grid", &[dim, 4, d0])?;
    let grid_points = add("target.n + target.test.n", &[n_train, n_test])?;
    let grids = add(
        "grid",
        &[
            mul("target.n (grids)", &[grid_points, per_point, B])?,
            mul("target.n (FFT buffers)", &[grid_points, 4, B])?,
        ],
    )?;
    let evals = (exp.train.epochs / exp.train.eval_every.max(1)).saturating_add(1);
    let bands = add(
        "spectral bands",
        &[
            t.frequencies.len() as u64,
            t.waves2d
                .as_ref()
                .map_or(0, |w| (w.waves.len() + w.products.len()) as u64),
            2 * (64 - grid_points.leading_zeros() as u64),
            8,
        ],
    )?;
    let rows_per_eval = add("records", &[1, mul("records", &[bands, 2])?])?;
    let snapshots = exp.record.snapshots.as_ref().map_or(0, |s| s.len() as u64);
    let records = add(
        "records",
        &[
            mul("train.epochs (records)", &[evals, rows_per_eval, 128])?,
            mul("record.snapshots x target.n", &[snapshots, n_train, 4, 32])?,
        ],
    )?;
    Ok(Estimate {
        parameters,
        workspace,
        grids,
        records,
    })
}

/// The machine's memory in bytes (`MemTotal` of /proc/meminfo), if known.
pub fn machine_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// The cap of [`MEMORY_CAP_ENV`] in bytes, if set.
pub fn memory_cap() -> Result<Option<u64>> {
    match std::env::var(MEMORY_CAP_ENV) {
        Err(_) => Ok(None),
        Ok(s) => match s.trim().parse::<f64>() {
            Ok(gb) if gb.is_finite() && gb > 0.0 => {
                Ok(Some((gb * 1e9).min(u64::MAX as f64) as u64))
            }
            _ => bail!("{MEMORY_CAP_ENV} = {s:?}: expected a positive number of GB, e.g. 8"),
        },
    }
}

/// Bytes as "12.3 GB" (or MB / kB).
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.1} kB", b / 1e3)
    }
}

/// Refuse `exp` if its estimate exceeds the machine's memory or the cap.
pub fn check(exp: &Experiment) -> Result<()> {
    let e = estimate(exp)?;
    let total = e.total();
    let (limit, what) = match (memory_cap()?, machine_memory()) {
        (Some(cap), Some(m)) if cap < m => (cap, format!("the cap {MEMORY_CAP_ENV}")),
        (Some(cap), None) => (cap, format!("the cap {MEMORY_CAP_ENV}")),
        (_, Some(m)) => (m, "this machine's memory".to_string()),
        (None, None) => return Ok(()),
    };
    if total > limit {
        bail!(
            "this run needs about {} (parameters and optimizer state {}, activations {}, grids {}, records {}), more than {what} ({}): use a smaller target.n, model.hidden or fewer evaluated epochs",
            human(total),
            human(e.parameters),
            human(e.workspace),
            human(e.grids),
            human(e.records),
            human(limit)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(target: &str, hidden: &str) -> Experiment {
        let text = format!(
            "[target]\n{target}\n[model]\nhidden = {hidden}\n[optimizer]\nname = \"adam\"\nlr = 1e-3\n[train]\nepochs = 10\n"
        );
        Experiment::from_toml_str(&text, "test").unwrap()
    }

    #[test]
    fn small_runs_are_small_and_parameters_are_counted() {
        let e = estimate(&exp("n = 256\nfrequencies = [1, 4]", "[64, 64]")).unwrap();
        // 1-64-64-1: 128 + 4160 + 65 = 4353 parameters, 5 copies of 8 bytes.
        assert_eq!(e.parameters, 4353 * 5 * 8);
        assert!(e.total() < 10_000_000, "{e:?}");
    }

    #[test]
    fn huge_networks_and_grids_are_refused_with_the_estimate() {
        let e = check(&exp("n = 256\nfrequencies = [1, 4]", "[100000, 100000]"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("needs about") && e.contains("GB") && e.contains("model.hidden"),
            "{e}"
        );
        let e = check(&exp("n = 100000000000\nfrequencies = [1, 4]", "[8]"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs about"), "{e}");
        let e = check(&exp(
            "n = 256\nfrequencies = [1, 4]",
            "[4294967296, 4294967296, 4294967296]",
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("overflows") && e.contains("model.hidden"), "{e}");
        let e = estimate(&exp(
            "kind = \"waves2d\"\nn = [3037000500, 3037000500]\nwaves = [[1, 1]]",
            "[8]",
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("overflows"), "{e}");
    }
}
