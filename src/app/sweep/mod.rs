//! Sweeps: many runs from one spec, run in parallel, resumable, aggregated over seeds.
//!
//! - [`spec`]: the sweep TOML (base config + axes + seeds + optional `[lr_search]`) and its
//!   expansion into a run list with stable ids;
//! - [`exec`]: parallel execution (rayon, one thread per run), resume, `--shard`;
//! - [`lr_search`]: the fair-lr protocol (a short lr grid search per configuration);
//! - [`status`]: done, running, failed and missing runs, from the files alone;
//! - [`aggregate`]: mean, min, max and a 95% t-interval over seeds, as tidy CSV.
//!
//! On disk (`DIR` = the sweep's output directory, default `runs/<spec name>`):
//!
//! ```text
//! DIR/sweep.json                    spec, run list (id, config id, seed, dir, values), conventions
//! DIR/runs/<run id>/                one run directory per run (see crate::record)
//! DIR/lr_search/<config id>/lr=<lr>__seed=<s>/   lr-search runs (with [lr_search])
//! DIR/lr_search.json                per config: grid, criterion per lr and seed, medians, chosen lr
//! DIR/aggregate/epochs.csv          per config, epoch, quantity (train_loss, test_loss): stats over seeds
//! DIR/aggregate/bands.csv           per config, grid, band, epoch, quantity (rel_error, residual_energy)
//! DIR/failed/<run id>.txt          the error of a run whose last attempt failed (for `bandwise status`)
//! DIR/aggregate/configs.csv         per config: runs planned, completed, diverged, pending; axis values
//! ```
//!
//! Consumers find runs through [`SweepIndex::load`], not by listing directories.

pub mod aggregate;
pub mod exec;
pub mod lr_search;
pub mod spec;
pub mod status;

pub use aggregate::{aggregate, t975, AggregateSummary, ConfigStatus, Stats};
pub use exec::{
    capped_jobs, list_runs, run_sweep, RunFailure, Shard, Stage, SweepOptions, SweepReport,
    JOBS_PER_CORE,
};
pub use lr_search::{LrChoice, LR_SEARCH_JSON};
pub use spec::{Axis, Criterion, LrSearchSpec, PlannedRun, SweepSpec};
pub use status::SweepStatus;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The format identifier written into sweep.json.
pub const SWEEP_FORMAT: &str = "bandwise-sweep/1";

/// The sweep index file in a sweep directory.
pub const SWEEP_JSON: &str = "sweep.json";

/// Where run `id` of the sweep at `out` lives.
pub fn run_dir(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(id)
}

/// One run as listed in sweep.json.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedRun {
    pub index: usize,
    pub id: String,
    pub config_id: String,
    pub seed: u64,
    /// The run directory (absolute or relative like the sweep directory given to `load`).
    pub dir: PathBuf,
    /// Axis path -> value (JSON), seed included when the spec has seeds.
    pub values: serde_json::Map<String, Value>,
}

/// sweep.json read back: the run list of a sweep directory.
#[derive(Debug, Clone)]
pub struct SweepIndex {
    pub dir: PathBuf,
    pub name: String,
    pub runs: Vec<IndexedRun>,
    /// sweep.json as written.
    pub meta: Value,
}

impl SweepIndex {
    /// Read `dir/sweep.json`.
    pub fn load(dir: &Path) -> Result<SweepIndex> {
        let path = dir.join(SWEEP_JSON);
        let text = std::fs::read_to_string(&path).with_context(|| format!("{} is not a sweep directory (cannot read {SWEEP_JSON}); run `bandwise sweep SPEC --out {}` first", dir.display(), dir.display()))?;
        let meta: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        if meta["format"] != SWEEP_FORMAT {
            bail!(
                "{} has format {} but this bandwise reads {SWEEP_FORMAT}",
                path.display(),
                meta["format"]
            );
        }
        let mut runs = Vec::new();
        for (i, r) in meta["runs"]
            .as_array()
            .with_context(|| format!("{}: no `runs` list", path.display()))?
            .iter()
            .enumerate()
        {
            let s = |k: &str| {
                r[k].as_str()
                    .map(str::to_string)
                    .with_context(|| format!("{}: runs[{i}].{k} missing", path.display()))
            };
            runs.push(IndexedRun {
                index: i,
                id: s("id")?,
                config_id: s("config_id")?,
                seed: r["seed"].as_u64().unwrap_or(0),
                dir: dir.join(s("dir")?),
                values: r["values"].as_object().cloned().unwrap_or_default(),
            });
        }
        Ok(SweepIndex {
            dir: dir.to_path_buf(),
            name: meta["name"].as_str().unwrap_or("").to_string(),
            runs,
            meta,
        })
    }

    /// The config ids in run-list order, each once.
    pub fn config_ids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.runs {
            if !out.contains(&r.config_id.as_str()) {
                out.push(&r.config_id);
            }
        }
        out
    }

    /// The runs of one config id (its seeds), in run-list order.
    pub fn runs_of<'a>(&'a self, config_id: &'a str) -> impl Iterator<Item = &'a IndexedRun> + 'a {
        self.runs.iter().filter(move |r| r.config_id == config_id)
    }
}

/// A TOML value as JSON (for sweep.json and lr_search.json).
pub(crate) fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
