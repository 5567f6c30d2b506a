//! Jobs: one run to train into one directory, skipped when already complete, and the
//! parallel executor that runs a list of them (used by sweeps and by the lr search).

use crate::engine::external::ExternalTrainer;
use crate::engine::run::{run_experiment, RunOptions};
use crate::engine::train::Status;
use crate::experiment::config::Experiment;
use crate::optim::Registry;
use crate::record::{is_run_dir, read_run_json};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// One unit of work: train `experiment` into `dir` unless it is complete.
pub(crate) struct Job {
    pub label: String,
    pub dir: PathBuf,
    pub experiment: Experiment,
}

/// What happened to a job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// Already complete; its recorded status ("completed" or "diverged").
    Skipped(String),
    Ran(Status),
    Failed(String),
}

/// Train every job not yet complete, `pool`-parallel; outcomes in job order.
pub(crate) fn execute(
    pool: &rayon::ThreadPool,
    registry: &Registry,
    jobs: &[Job],
    progress: bool,
    what: &str,
    trainer: Option<&ExternalTrainer>,
) -> Vec<Outcome> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let bar = (progress && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(jobs.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} [{elapsed} < {eta}] {msg}")
                .expect("valid template"),
        );
        bar.set_prefix(what.to_string());
        bar
    });
    let done = AtomicUsize::new(0);
    let total = jobs.len();
    let outcomes: Vec<Outcome> = pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                let started = Instant::now();
                let outcome = run_job(job, registry, trainer);
                let k = done.fetch_add(1, Ordering::SeqCst) + 1;
                let word = match &outcome {
                    Outcome::Skipped(s) => format!("already {s}"),
                    Outcome::Ran(Status::Completed) => "completed".into(),
                    Outcome::Ran(Status::Diverged { epoch, .. }) => {
                        format!("diverged at epoch {epoch}")
                    }
                    Outcome::Failed(e) => format!("FAILED: {e}"),
                };
                if let Some(bar) = &bar {
                    bar.inc(1);
                    bar.set_message(format!("{}: {word}", job.label));
                    if matches!(outcome, Outcome::Failed(_)) {
                        bar.println(format!("{}: {word}", job.label));
                    }
                } else if progress {
                    eprintln!(
                        "[{what} {k}/{total}] {}: {word} ({:.1}s)",
                        job.label,
                        started.elapsed().as_secs_f64()
                    );
                }
                outcome
            })
            .collect()
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    outcomes
}

fn run_job(job: &Job, registry: &Registry, trainer: Option<&ExternalTrainer>) -> Outcome {
    if is_run_dir(&job.dir) {
        let status = read_run_json(&job.dir)
            .ok()
            .and_then(|v| v["status"].as_str().map(str::to_string))
            .unwrap_or_else(|| "complete".into());
        return Outcome::Skipped(status);
    }
    // A directory without run.json is not a finished run: replaced if empty, otherwise the
    // run fails naming what is in it (see crate::record::commit).
    let overwrite = job.dir.exists();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if let Some(t) = trainer {
            return t.train(&job.experiment, &job.dir, overwrite);
        }
        run_experiment(
            &job.experiment,
            registry,
            &job.dir,
            RunOptions {
                overwrite,
                ..Default::default()
            },
        )
        .map(|summary| summary.status)
    }));
    match result {
        Ok(Ok(status)) => Outcome::Ran(status),
        Ok(Err(e)) => Outcome::Failed(format!("{e:#}")),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Outcome::Failed(format!("panicked: {msg}"))
        }
    }
}
