//! Progress of job lists on the command line: an indicatif bar when stderr is a terminal,
//! otherwise the library's one line per finished job ([`StderrLines`]).

use crate::app::sweep::{JobDone, JobProgress, Progress, StderrLines};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

/// The progress of sweeps, protocols and figures: `Progress::OFF` when `quiet`.
pub fn job_progress(quiet: bool) -> Progress {
    if quiet {
        Progress::OFF
    } else {
        Progress::to(Arc::new(Bar::default()))
    }
}

/// A bar per job list on a terminal; lines otherwise.
#[derive(Default)]
struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    fn current(&self) -> Option<ProgressBar> {
        self.bar.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl JobProgress for Bar {
    fn start(&self, what: &str, total: usize) {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} {bar:30} {pos}/{len} [{elapsed} < {eta}] {msg}",
                )
                .expect("valid template"),
            );
            bar.set_prefix(what.to_string());
            bar
        });
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = bar;
    }

    fn job_done(&self, j: &JobDone<'_>) {
        match self.current() {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(format!("{}: {}", j.label, j.word));
                if j.failed {
                    bar.println(format!("{}: {}", j.label, j.word));
                }
            }
            None => StderrLines.job_done(j),
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}
