//! Runs trained outside bandwise inside its sweeps and its protocol.
//!
//! An [`ExternalTrainer`] is a function that trains one planned run (its config, with the lr
//! the fair-lr search chose, its seed and budget) and writes a normal run directory at the
//! given path, e.g. through [`crate::app::import::TrajectoryWriter`] (the Python package's
//! `bandwise.Recorder`). The sweep machinery treats the result like one of its own runs:
//! resume (a finished directory is skipped), lr search, failures, aggregation and reports are
//! the same code. The Python package passes a PyTorch training loop (`bandwise.torch.protocol`).

use crate::engine::train::Status;
use crate::experiment::config::Experiment;
use crate::record::{is_run_dir, read_run_json};
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::sync::Arc;

/// One run for an external trainer.
pub struct ExternalRun<'a> {
    /// The run's config: optimizer table with its lr, seed, budget, task.
    pub experiment: &'a Experiment,
    /// Where the finished run directory must be (nothing is there yet, or an empty directory).
    pub dir: &'a Path,
    /// True when `dir` exists (empty) and may be replaced.
    pub overwrite: bool,
}

type TrainFn = dyn Fn(&ExternalRun) -> Result<()> + Send + Sync;

/// A trainer of runs outside bandwise (see the module docs).
#[derive(Clone)]
pub struct ExternalTrainer {
    name: String,
    jobs: usize,
    f: Arc<TrainFn>,
}

impl std::fmt::Debug for ExternalTrainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExternalTrainer({})", self.name)
    }
}

impl ExternalTrainer {
    /// `name` appears in errors and records (e.g. "bandwise.torch"); `jobs` is the largest
    /// number of runs it may train at once (1 for a Python trainer, which holds the GIL).
    pub fn new(
        name: &str,
        jobs: usize,
        f: impl Fn(&ExternalRun) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        ExternalTrainer {
            name: name.to_string(),
            jobs: jobs.max(1),
            f: Arc::new(f),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// Train `experiment` into `dir` and return the status recorded in its run.json.
    pub fn train(&self, experiment: &Experiment, dir: &Path, overwrite: bool) -> Result<Status> {
        (self.f)(&ExternalRun {
            experiment,
            dir,
            overwrite,
        })
        .with_context(|| format!("{} (training {})", self.name, dir.display()))?;
        if !is_run_dir(dir) {
            bail!(
                "{} returned without writing the run directory {} (it must write run.json there, e.g. with bandwise.Recorder)",
                self.name,
                dir.display()
            );
        }
        let meta = read_run_json(dir)?;
        match meta["status"].as_str() {
            Some("completed") => Ok(Status::Completed),
            Some("diverged") => Ok(Status::Diverged {
                epoch: meta["diverged"]["epoch"].as_u64().unwrap_or(0),
                reason: meta["diverged"]["reason"]
                    .as_str()
                    .unwrap_or("diverged")
                    .to_string(),
            }),
            other => bail!(
                "{}/run.json: status is {other:?}; expected \"completed\" or \"diverged\"",
                dir.display()
            ),
        }
    }
}
