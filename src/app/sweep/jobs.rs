//! Jobs: one run to train into one directory, skipped when already complete, and the
//! parallel executor that runs a list of them (used by sweeps and by the lr search). Progress
//! goes to a [`JobProgress`] (the command line draws a bar on a terminal; the library prints
//! one line per finished job).

use crate::engine::external::ExternalTrainer;
use crate::engine::run::{run_experiment, RunOptions};
use crate::engine::train::Status;
use crate::experiment::config::Experiment;
use crate::optim::Registry;
use crate::record::{is_run_dir, read_run_json};
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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

/// One finished job, as reported to a [`JobProgress`].
#[derive(Debug, Clone, Copy)]
pub struct JobDone<'a> {
    /// The job list ("runs", "lr search").
    pub what: &'a str,
    /// Jobs finished so far, this one included, and the list's length.
    pub done: usize,
    pub total: usize,
    /// The job's id and what happened ("completed", "FAILED: ...").
    pub label: &'a str,
    pub word: &'a str,
    pub failed: bool,
    pub seconds: f64,
}

/// Receives the progress of job lists; called from the pool's threads.
pub trait JobProgress: Send + Sync {
    /// A list of `total` jobs called `what` starts.
    fn start(&self, _what: &str, _total: usize) {}
    /// One job of the list finished.
    fn job_done(&self, job: &JobDone<'_>);
    /// The list is finished.
    fn finish(&self) {}
}

/// One line per finished job on stderr: `[runs 3/8] p=0.5__seed=1: completed (1.2s)`.
pub struct StderrLines;

impl JobProgress for StderrLines {
    fn job_done(&self, j: &JobDone<'_>) {
        eprintln!(
            "[{} {}/{}] {}: {} ({:.1}s)",
            j.what, j.done, j.total, j.label, j.word, j.seconds
        );
    }
}

/// Where progress goes: nowhere (the default) or to a [`JobProgress`].
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn JobProgress>>);

impl Progress {
    /// No progress output.
    pub const OFF: Progress = Progress(None);

    /// One line per finished job on stderr ([`StderrLines`]).
    pub fn lines() -> Progress {
        Progress::to(Arc::new(StderrLines))
    }

    pub fn to(reporter: Arc<dyn JobProgress>) -> Progress {
        Progress(Some(reporter))
    }

    /// Whether progress is reported at all (callers print their own step lines then too).
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_on() {
            "Progress(on)"
        } else {
            "Progress(off)"
        })
    }
}

/// Train every job not yet complete, `pool`-parallel; outcomes in job order.
pub(crate) fn execute(
    pool: &rayon::ThreadPool,
    registry: &Registry,
    jobs: &[Job],
    progress: &Progress,
    what: &str,
    trainer: Option<&ExternalTrainer>,
) -> Vec<Outcome> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let reporter = progress.0.as_deref();
    if let Some(r) = reporter {
        r.start(what, jobs.len());
    }
    let done = AtomicUsize::new(0);
    let total = jobs.len();
    let outcomes: Vec<Outcome> = pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                let started = Instant::now();
                let outcome = run_job(job, registry, trainer);
                let k = done.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(r) = reporter {
                    let word = match &outcome {
                        Outcome::Skipped(s) => format!("already {s}"),
                        Outcome::Ran(Status::Completed) => "completed".into(),
                        Outcome::Ran(Status::Diverged { epoch, .. }) => {
                            format!("diverged at epoch {epoch}")
                        }
                        Outcome::Failed(e) => format!("FAILED: {e}"),
                    };
                    r.job_done(&JobDone {
                        what,
                        done: k,
                        total,
                        label: &job.label,
                        word: &word,
                        failed: matches!(outcome, Outcome::Failed(_)),
                        seconds: started.elapsed().as_secs_f64(),
                    });
                }
                outcome
            })
            .collect()
    });
    if let Some(r) = reporter {
        r.finish();
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
