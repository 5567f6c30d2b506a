//! Aggregation over seeds: per config id, statistics over its completed runs of every
//! per-epoch quantity, written as tidy CSV under `DIR/aggregate/`.
//!
//! Statistics (stated in every CSV header and in sweep.json): over the completed
//! (non-diverged) runs of a config id with a defined value at that row, n = n_seeds:
//! mean, min, max, and a 95% Student-t confidence interval of the mean,
//! mean ± t(0.975, n-1) · s/√n with s the sample standard deviation (n-1 denominator); the
//! interval is empty (undefined) when n < 2. Diverged runs are excluded and counted in
//! `n_diverged`; runs not yet on disk are ignored (counted in configs.csv as pending).
//!
//! Files:
//! - epochs.csv: config_id, epoch, quantity (train_loss, test_loss), n_seeds, n_diverged,
//!   mean, min, max, ci95_lo, ci95_hi;
//! - bands.csv: config_id, grid, band, label, epoch, quantity (rel_error, residual_energy),
//!   n_seeds, n_diverged, mean, min, max, ci95_lo, ci95_hi;
//! - configs.csv: config_id, n_planned, n_completed, n_diverged, n_pending, then one column
//!   per axis (the axis value as in the ids).

use super::{SweepIndex, SWEEP_FORMAT};
use crate::base::stats::{mean_min_max, MeanCi};
use crate::record::load::RunData;
use crate::record::{is_run_dir, num, write_atomic, write_atomic_with, Csv};
use anyhow::{Context, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// The aggregation convention, as stated in file headers and sweep.json.
pub const CONVENTION: &str = "per config id, over its completed (non-diverged) seeds with a defined value: mean, min, max, and a 95% Student-t confidence interval of the mean, mean +- t(0.975, n-1) s/sqrt(n), s the sample standard deviation (n-1 denominator), empty when n < 2; diverged runs are excluded and counted in n_diverged";

/// Statistics of one row over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Values used (NaN values are skipped).
    pub n: usize,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub ci95_lo: f64,
    pub ci95_hi: f64,
}

impl Stats {
    /// Stats of the defined (non-NaN) values of `xs`; NaN fields when there are none.
    pub fn of(xs: &[f64]) -> Stats {
        let v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
        let (mean, min, max) = mean_min_max(&v);
        let ci = MeanCi::of(&v);
        Stats {
            n: v.len(),
            mean,
            min,
            max,
            ci95_lo: ci.lo,
            ci95_hi: ci.hi,
        }
    }

    fn cells(&self) -> [String; 6] {
        [
            self.n.to_string(),
            num(self.mean),
            num(self.min),
            num(self.max),
            num(self.ci95_lo),
            num(self.ci95_hi),
        ]
    }
}

/// Counts of one config id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigStatus {
    pub config_id: String,
    pub planned: usize,
    pub completed: usize,
    pub diverged: usize,
    pub pending: usize,
}

/// What `aggregate` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateSummary {
    pub configs: Vec<ConfigStatus>,
}

/// Values of one quantity over seeds, keyed by epoch.
type Series = BTreeMap<u64, Vec<f64>>;

fn push(series: &mut Series, epochs: &[u64], values: &[f64]) {
    for (e, v) in epochs.iter().zip(values) {
        series.entry(*e).or_default().push(*v);
    }
}

/// The rows one config id contributes to each file.
struct ConfigRows {
    status: ConfigStatus,
    epochs: String,
    bands: String,
    config: Vec<String>,
}

/// The column names of the statistics of one row.
const STATS_COLS: [&str; 7] = [
    "n_seeds",
    "n_diverged",
    "mean",
    "min",
    "max",
    "ci95_lo",
    "ci95_hi",
];

fn epochs_header() -> Vec<&'static str> {
    [&["config_id", "epoch", "quantity"][..], &STATS_COLS].concat()
}

fn bands_header() -> Vec<&'static str> {
    [
        &["config_id", "grid", "band", "label", "epoch", "quantity"][..],
        &STATS_COLS,
    ]
    .concat()
}

/// Load the runs of one config id and format its rows of the three files.
fn aggregate_config(
    index: &SweepIndex,
    config_id: &str,
    axis_paths: &[String],
) -> Result<ConfigRows> {
    let mut status = ConfigStatus {
        config_id: config_id.to_string(),
        planned: 0,
        completed: 0,
        diverged: 0,
        pending: 0,
    };
    let (mut train, mut test) = (Series::new(), Series::new());
    // (grid, band) -> (label, rel_error series, residual_energy series)
    let mut bands: BTreeMap<(String, usize), (String, Series, Series)> = BTreeMap::new();
    let mut grid_order: Vec<String> = Vec::new();
    for run in index.runs_of(config_id) {
        status.planned += 1;
        if !is_run_dir(&run.dir) {
            status.pending += 1;
            continue;
        }
        let data =
            RunData::load(&run.dir).with_context(|| format!("aggregating run `{}`", run.id))?;
        if data.status() != "completed" {
            status.diverged += 1;
            continue;
        }
        status.completed += 1;
        push(&mut train, &data.epochs.epoch, &data.epochs.train_loss);
        push(&mut test, &data.epochs.epoch, &data.epochs.test_loss);
        for g in &data.bands {
            if !grid_order.contains(&g.grid) {
                grid_order.push(g.grid.clone());
            }
            for (b, label) in g.labels.iter().enumerate() {
                let entry = bands
                    .entry((g.grid.clone(), b))
                    .or_insert_with(|| (label.clone(), Series::new(), Series::new()));
                push(&mut entry.1, &g.epochs, &g.rel_error[b]);
                push(&mut entry.2, &g.epochs, &g.residual_energy[b]);
            }
        }
    }
    let nd = status.diverged.to_string();
    let mut epochs_csv = Csv::new(Vec::new(), &epochs_header());
    for (epoch, tr) in &train {
        for (quantity, values) in [("train_loss", tr), ("test_loss", &test[epoch])] {
            let s = Stats::of(values);
            epochs_csv.row(
                &[
                    &[
                        config_id.to_string(),
                        epoch.to_string(),
                        quantity.to_string(),
                        s.cells()[0].clone(),
                        nd.clone(),
                    ][..],
                    &s.cells()[1..],
                ]
                .concat(),
            );
        }
    }
    let mut bands_csv = Csv::new(Vec::new(), &bands_header());
    for grid in &grid_order {
        for ((g, b), (label, rel, energy)) in bands.iter().filter(|((g, _), _)| g == grid) {
            for (quantity, series) in [("rel_error", rel), ("residual_energy", energy)] {
                for (epoch, values) in series {
                    let s = Stats::of(values);
                    bands_csv.row(
                        &[
                            &[
                                config_id.to_string(),
                                g.clone(),
                                b.to_string(),
                                label.clone(),
                                epoch.to_string(),
                                quantity.to_string(),
                                s.cells()[0].clone(),
                                nd.clone(),
                            ][..],
                            &s.cells()[1..],
                        ]
                        .concat(),
                    );
                }
            }
        }
    }
    let first = index
        .runs_of(config_id)
        .next()
        .expect("a config id has runs");
    let mut config = vec![
        config_id.to_string(),
        status.planned.to_string(),
        status.completed.to_string(),
        status.diverged.to_string(),
        status.pending.to_string(),
    ];
    for p in axis_paths {
        let v = first
            .values
            .get(p)
            .and_then(|v| toml::Value::try_from(v).ok());
        config.push(v.map(|v| super::spec::format_value(&v)).unwrap_or_default());
    }
    Ok(ConfigRows {
        status,
        epochs: epochs_csv.text,
        bands: bands_csv.text,
        config,
    })
}

/// (Re)compute `DIR/aggregate/{epochs,bands,configs}.csv` from the runs of the sweep at `dir`
/// that are on disk.
///
/// Config ids are aggregated in parallel on the current rayon pool (the sweep's `--jobs`
/// pool when called from a sweep), a batch of two per thread at a time, and bands.csv (the
/// large file) is streamed to disk batch by batch, so memory holds one batch's runs and rows,
/// whatever the number of runs. The rows come out in config-id order, as from one thread.
pub fn aggregate(dir: &Path) -> Result<AggregateSummary> {
    let index = SweepIndex::load(dir)?;
    let header_comments = |what: &str| {
        vec![
            format!(
                "bandwise {} sweep `{}` ({SWEEP_FORMAT}): {what}",
                env!("CARGO_PKG_VERSION"),
                index.name
            ),
            format!("statistics: {CONVENTION}"),
            "run list, ids and axis values: sweep.json; an empty cell is undefined (NaN)"
                .to_string(),
        ]
    };
    let mut epochs_csv = Csv::new(header_comments("per-epoch losses over seeds (quantity: train_loss, test_loss = MSE on the training/test grid, from each run's epochs.csv)"), &epochs_header());
    let bands_csv = Csv::new(
        header_comments("per-band measures over seeds (quantity: rel_error = E_b(r)/E_b(y), residual_energy = E_b(r), from each run's bands.csv; band definitions in each run's bands.csv/run.json)"),
        &bands_header(),
    );
    let axis_paths: Vec<String> = index
        .runs
        .first()
        .map(|r| r.values.keys().filter(|k| *k != "seed").cloned().collect())
        .unwrap_or_default();
    let mut config_header = vec![
        "config_id",
        "n_planned",
        "n_completed",
        "n_diverged",
        "n_pending",
    ];
    config_header.extend(axis_paths.iter().map(String::as_str));
    let mut configs_csv = Csv::new(header_comments("per config id: runs planned, completed, diverged (excluded from the statistics) and pending (not on disk); axis values as in the ids"), &config_header);
    let mut summary = AggregateSummary {
        configs: Vec::new(),
    };
    let ids: Vec<&str> = index.config_ids();
    let batch = 2 * rayon::current_num_threads().max(1);
    let out = dir.join("aggregate");
    write_atomic_with(&out.join("bands.csv"), |tmp| {
        let mut file = BufWriter::new(File::create(tmp)?);
        file.write_all(bands_csv.head().as_bytes())?;
        for chunk in ids.chunks(batch) {
            let rows: Vec<Result<ConfigRows>> = chunk
                .par_iter()
                .map(|id| aggregate_config(&index, id, &axis_paths))
                .collect();
            for rows in rows {
                let rows = rows?;
                file.write_all(rows.bands.as_bytes())?;
                epochs_csv.text.push_str(&rows.epochs);
                configs_csv.row(&rows.config);
                summary.configs.push(rows.status);
            }
        }
        file.flush()?;
        Ok(())
    })?;
    write_atomic(&out.join("epochs.csv"), epochs_csv.render().as_bytes())?;
    write_atomic(&out.join("configs.csv"), configs_csv.render().as_bytes())?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_by_hand() {
        // 1, 2, 6: mean 3, s^2 = (4 + 1 + 9)/2 = 7, half-width t(0.975, 2) sqrt(7/3).
        let s = Stats::of(&[1.0, 2.0, 6.0]);
        let half = 4.302652730 * (7.0f64 / 3.0).sqrt();
        assert_eq!((s.n, s.mean, s.min, s.max), (3, 3.0, 1.0, 6.0));
        assert!(
            (s.ci95_lo - (3.0 - half)).abs() < 1e-12 && (s.ci95_hi - (3.0 + half)).abs() < 1e-12
        );
        let one = Stats::of(&[2.0, f64::NAN]);
        assert_eq!((one.n, one.mean), (1, 2.0));
        assert!(one.ci95_lo.is_nan() && one.ci95_hi.is_nan());
        assert!(Stats::of(&[]).mean.is_nan());
    }
}
