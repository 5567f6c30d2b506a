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
pub mod jobs;
pub mod lr_search;
pub mod spec;
pub mod status;

pub use aggregate::{aggregate, AggregateSummary, ConfigStatus, Stats};
pub use exec::{
    capped_jobs, list_runs, run_sweep, RunFailure, Shard, Stage, SweepOptions, SweepReport,
    JOBS_PER_CORE,
};
pub use jobs::{JobDone, JobProgress, Progress, StderrLines};
pub use lr_search::LrChoice;
pub use spec::{Axis, Criterion, LrSearchSpec, PlannedRun, SweepSpec};
pub use status::SweepStatus;

pub use crate::record::sweep_index::{
    run_dir, IndexedRun, SweepIndex, LR_SEARCH_JSON, SWEEP_FORMAT, SWEEP_JSON,
};
