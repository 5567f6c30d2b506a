//! The state of every run of a sweep directory, from the files alone (`bandwise status`).
//!
//! Works while shards are running, on any node that sees the directory:
//! - done: the run directory holds run.json (completed or diverged);
//! - running: a staging directory `.<run id>.partial-<pid>` or `.<run id>.partial-<host>-<pid>`
//!   exists next to it;
//! - interrupted: the same, but its process is provably gone (this host, or no host in the
//!   name, and no /proc entry for the pid); the next sweep of that run redoes it;
//! - failed: `failed/<run id>.txt` holds the error of the last attempt;
//! - missing: none of these (not started yet, or its shard was cancelled).
//!
//! The lr-search runs of a sweep with `[lr_search]` are listed the same way.

use super::lr_search::{search_dir, search_run_id};
use super::{SweepIndex, SWEEP_JSON};
use crate::record::sweep_index::failure_file;
use crate::record::{is_run_dir, read_run_json};
use anyhow::Result;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The state of one run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Done {
        diverged: bool,
    },
    /// Staging present; `owner` names host and pid when the staging name carries them.
    Running {
        owner: String,
    },
    /// Staging of a process that is gone.
    Interrupted {
        owner: String,
    },
    Failed(String),
    Missing,
}

impl RunState {
    pub fn is_done(&self) -> bool {
        matches!(self, RunState::Done { .. })
    }
    pub fn is_diverged(&self) -> bool {
        matches!(self, RunState::Done { diverged: true })
    }
}

/// One run and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The run id (`lr_search/<config id>/<id>` for search runs).
    pub label: String,
    pub state: RunState,
}

/// Counts of a list of entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub done: usize,
    pub diverged: usize,
    pub running: usize,
    pub interrupted: usize,
    pub failed: usize,
    pub missing: usize,
}

/// Every run of a sweep directory with its state.
#[derive(Debug, Clone)]
pub struct SweepStatus {
    pub dir: PathBuf,
    pub name: String,
    /// The lr-search runs (empty without `[lr_search]`).
    pub search: Vec<Entry>,
    pub runs: Vec<Entry>,
}

/// This machine's host name (as staging names carry it).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
}

/// `(host, pid)` of a staging suffix: `<pid>` or `<host>-<pid>`.
pub fn parse_owner(suffix: &str) -> (Option<String>, Option<u32>) {
    if let Ok(pid) = suffix.parse() {
        return (None, Some(pid));
    }
    match suffix.rsplit_once('-') {
        Some((host, pid)) => (Some(host.to_string()), pid.parse().ok()),
        None => (Some(suffix.to_string()), None),
    }
}

/// The state of the run that would live at `dir`; `failed` is its failure record.
pub fn run_state(dir: &Path, failed: &Path, host: &str) -> RunState {
    if is_run_dir(dir) {
        let diverged = read_run_json(dir)
            .map(|v| v["status"] == "diverged")
            .unwrap_or(false);
        return RunState::Done { diverged };
    }
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return RunState::Missing;
    };
    let prefix = format!(".{}.partial-", name.to_string_lossy());
    let mut interrupted = None;
    for e in std::fs::read_dir(parent).into_iter().flatten().flatten() {
        let entry = e.file_name().to_string_lossy().into_owned();
        let Some(suffix) = entry.strip_prefix(&prefix) else {
            continue;
        };
        let (owner_host, pid) = parse_owner(suffix);
        let owner = match (&owner_host, pid) {
            (Some(h), Some(p)) => format!("host {h}, pid {p}"),
            (None, Some(p)) => format!("pid {p}"),
            _ => format!("staging {entry}"),
        };
        let here = owner_host.as_deref().is_none_or(|h| h == host);
        let gone = here
            && Path::new("/proc/self").exists()
            && pid.is_some_and(|p| !Path::new("/proc").join(p.to_string()).exists());
        if gone {
            interrupted = Some(owner);
        } else {
            return RunState::Running { owner };
        }
    }
    if let Some(owner) = interrupted {
        return RunState::Interrupted { owner };
    }
    if let Ok(text) = std::fs::read_to_string(failed) {
        return RunState::Failed(text.trim().to_string());
    }
    RunState::Missing
}

/// Tally `entries`.
pub fn counts(entries: &[Entry]) -> Counts {
    let mut c = Counts {
        total: entries.len(),
        ..Default::default()
    };
    for e in entries {
        match &e.state {
            RunState::Done { diverged } => {
                c.done += 1;
                c.diverged += usize::from(*diverged);
            }
            RunState::Running { .. } => c.running += 1,
            RunState::Interrupted { .. } => c.interrupted += 1,
            RunState::Failed(_) => c.failed += 1,
            RunState::Missing => c.missing += 1,
        }
    }
    c
}

impl Counts {
    fn line(&self) -> String {
        let mut s = format!("{} runs: {} done", self.total, self.done);
        if self.diverged > 0 {
            let _ = write!(s, " ({} diverged)", self.diverged);
        }
        let _ = write!(
            s,
            ", {} running, {} failed, {} missing",
            self.running, self.failed, self.missing
        );
        if self.interrupted > 0 {
            let _ = write!(s, ", {} interrupted", self.interrupted);
        }
        s
    }
}

impl SweepStatus {
    /// Read the state of every run of the sweep at `dir` (which holds sweep.json).
    pub fn load(dir: &Path) -> Result<SweepStatus> {
        let index = SweepIndex::load(dir)?;
        let host = host_name();
        let runs = index
            .runs
            .iter()
            .map(|r| Entry {
                label: r.id.clone(),
                state: run_state(&r.dir, &failure_file(dir, &r.id), &host),
            })
            .collect();
        let mut search = Vec::new();
        let grid: Vec<f64> = index.meta["lr_search"]["grid"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_f64())
            .collect();
        let seeds: Vec<u64> = index.meta["lr_search"]["seeds"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_u64())
            .collect();
        for config in index.config_ids() {
            for &lr in &grid {
                for &seed in &seeds {
                    let id = search_run_id(lr, seed);
                    let label = format!("lr_search/{config}/{id}");
                    search.push(Entry {
                        state: run_state(
                            &search_dir(dir, config).join(&id),
                            &failure_file(dir, &label),
                            &host,
                        ),
                        label,
                    });
                }
            }
        }
        Ok(SweepStatus {
            dir: dir.to_path_buf(),
            name: index.name,
            search,
            runs,
        })
    }

    /// How many runs (not search runs) satisfy `f`.
    pub fn count(&self, f: impl Fn(&RunState) -> bool) -> usize {
        self.runs.iter().filter(|e| f(&e.state)).count()
    }

    /// Why the sweep cannot be merged yet (None when every run is done).
    pub fn refusal(&self) -> Option<String> {
        let c = counts(&self.runs);
        if c.done == c.total {
            return None;
        }
        let first: Vec<&str> = self
            .runs
            .iter()
            .filter(|e| !e.state.is_done())
            .take(5)
            .map(|e| e.label.as_str())
            .collect();
        let advice = if c.running > 0 {
            "runs are still in progress: wait for the shards to finish (watch `bandwise status DIR`), then merge again"
        } else {
            "resubmit the sweep (the same `bandwise sweep` or `bandwise slurm ... --submit`): done runs are kept and only the others rerun"
        };
        Some(format!(
            "sweep `{}` in {} is not complete, so it is not aggregated: {} (first: {}{}); {advice}",
            self.name,
            self.dir.display(),
            c.line(),
            first.join(", "),
            if c.total - c.done > first.len() {
                ", ..."
            } else {
                ""
            },
        ))
    }

    /// The text of `bandwise status`: counts, then every run that is not done.
    pub fn render(&self) -> String {
        let mut out = format!("sweep `{}` in {}\n", self.name, self.dir.display());
        for (what, entries) in [("lr search", &self.search), ("runs", &self.runs)] {
            if entries.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{what}: {}", counts(entries).line());
            for e in entries {
                let detail = match &e.state {
                    RunState::Done { .. } => continue,
                    RunState::Running { owner } => format!("running ({owner})"),
                    RunState::Interrupted { owner } => format!(
                        "interrupted ({owner} is gone; the next sweep of this run redoes it)"
                    ),
                    RunState::Failed(err) => format!("failed: {err}"),
                    RunState::Missing => "missing".into(),
                };
                let _ = writeln!(out, "  {}: {detail}", e.label);
            }
        }
        out
    }
}

/// The sweep directories at `dir`: itself if it holds sweep.json, else its subdirectories
/// that do (e.g. the runs directory of `bandwise figures`), sorted.
pub fn sweep_dirs(dir: &Path) -> Vec<PathBuf> {
    if dir.join(SWEEP_JSON).is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(SWEEP_JSON).is_file())
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_owners_are_parsed() {
        assert_eq!(parse_owner("123"), (None, Some(123)));
        assert_eq!(
            parse_owner("node-7-4567"),
            (Some("node-7".into()), Some(4567))
        );
    }

    #[test]
    fn states_from_files() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = tmp.path().join("runs");
        std::fs::create_dir_all(&runs).unwrap();
        let failed = tmp.path().join("failed/a.txt");
        let host = host_name();
        let a = runs.join("a");
        assert_eq!(run_state(&a, &failed, &host), RunState::Missing);
        std::fs::create_dir_all(failed.parent().unwrap()).unwrap();
        std::fs::write(&failed, "boom\n").unwrap();
        assert_eq!(
            run_state(&a, &failed, &host),
            RunState::Failed("boom".into())
        );
        // Another host's staging is running whatever its pid; ours with a live pid too.
        let other = runs.join(".a.partial-elsewhere-1");
        std::fs::create_dir(&other).unwrap();
        assert_eq!(
            run_state(&a, &failed, &host),
            RunState::Running {
                owner: "host elsewhere, pid 1".into()
            }
        );
        std::fs::remove_dir(&other).unwrap();
        let me = std::process::id();
        let mine = runs.join(format!(".a.partial-{host}-{me}"));
        std::fs::create_dir(&mine).unwrap();
        assert!(matches!(
            run_state(&a, &failed, &host),
            RunState::Running { .. }
        ));
        std::fs::remove_dir(&mine).unwrap();
        // A pid that cannot exist (above the kernel's pid_max) on this host: interrupted.
        std::fs::create_dir(runs.join(".a.partial-4294967294")).unwrap();
        assert!(matches!(
            run_state(&a, &failed, &host),
            RunState::Interrupted { .. }
        ));
    }
}
