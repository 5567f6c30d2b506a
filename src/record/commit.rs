//! Committing output atomically: the one helper `run`, `analyze` and `sweep` share.
//!
//! - Staging names carry the host and the process: a run directory is written into
//!   `.<name>.partial-<host>-<pid>` beside its target, single files into
//!   `.<name>.tmp-<host>-<pid>`; `--force` sets the replaced run aside as
//!   `.<name>.old-<host>-<pid>` and renames it to `.<name>.trash-<host>-<pid>` just before
//!   deleting it.
//! - Taking the target is atomic and never removes anything this process did not create:
//!   rename-if-absent (`renameat2(RENAME_NOREPLACE)`; where the file system lacks it, an empty
//!   directory created with `mkdir` is the lock and the staging directory is renamed over it).
//!   If another process took the target first, the commit fails and says so.
//! - `--force` replaces only a bandwise run directory (with run.json) or an empty directory,
//!   by a swap: old aside, new in, old deleted. An interrupted swap is repaired at the next
//!   start in the same directory ([`clean_stale`]): if the target is missing the old run is
//!   put back, otherwise the set-aside copy is deleted.
//! - Hidden entries of a dead process on this host (no `/proc/<pid>`) are removed at the next
//!   start. Entries of another host are treated as alive unless their modification time is
//!   older than [`STALE_AGE_ENV`] hours (default [`DEFAULT_STALE_HOURS`]).

use anyhow::{bail, Context, Result};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Environment variable: hours after which another host's staging entry counts as abandoned.
pub const STALE_AGE_ENV: &str = "BANDWISE_STALE_HOURS";
/// Default for [`STALE_AGE_ENV`].
pub const DEFAULT_STALE_HOURS: f64 = 24.0;

/// The kinds of hidden entries, as they appear in names (`.<name>.<kind>-<host>-<pid>`).
const KINDS: [&str; 4] = ["partial", "tmp", "old", "trash"];

/// This machine's host name, reduced to `[A-Za-z0-9._]` (other characters become `_`), so
/// that the last `-` of a staging name separates the host from the pid.
pub fn host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let raw = fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_default();
        let clean: String = raw
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if clean.is_empty() {
            "localhost".into()
        } else {
            clean
        }
    })
}

/// The hidden name of kind `kind` for `name` owned by this process.
pub fn hidden_name(name: &str, kind: &str) -> String {
    debug_assert!(KINDS.contains(&kind));
    format!(".{name}.{kind}-{}-{}", host(), std::process::id())
}

/// A hidden entry's name taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    /// The name of the target it belongs to.
    pub name: String,
    pub kind: &'static str,
    pub host: String,
    pub pid: u32,
}

/// Parse `.<name>.<kind>-<host>-<pid>` (also the older `.<name>.<kind>-<pid>`, read as this host).
pub fn parse_hidden(file_name: &str) -> Option<Hidden> {
    let rest = file_name.strip_prefix('.')?;
    KINDS.iter().find_map(|&kind| {
        let marker = format!(".{kind}-");
        let i = rest.rfind(&marker)?;
        let name = &rest[..i];
        let tail = &rest[i + marker.len()..];
        let (host_part, pid) = match tail.rfind('-') {
            Some(j) => (&tail[..j], &tail[j + 1..]),
            None => (host(), tail),
        };
        let pid = pid.parse::<u32>().ok()?;
        (!name.is_empty() && !host_part.is_empty()).then(|| Hidden {
            name: name.to_string(),
            kind,
            host: host_part.to_string(),
            pid,
        })
    })
}

/// How old another host's entry must be to count as abandoned ([`STALE_AGE_ENV`]).
pub fn stale_age() -> Result<Duration> {
    match std::env::var(STALE_AGE_ENV) {
        Err(_) => Ok(Duration::from_secs_f64(DEFAULT_STALE_HOURS * 3600.0)),
        Ok(s) => match s.trim().parse::<f64>() {
            Ok(h) if (0.0..1e6).contains(&h) => Ok(Duration::from_secs_f64(h * 3600.0)),
            _ => bail!(
                "{STALE_AGE_ENV} = {s:?}: expected a number of hours >= 0 (default {DEFAULT_STALE_HOURS}), e.g. 48"
            ),
        },
    }
}

/// Whether the process that owns `h` (found at `path`) may still be working on it.
fn owner_alive(h: &Hidden, path: &Path, max_age: Duration) -> bool {
    if h.host == host() {
        let me = std::process::id();
        h.pid == me
            || (Path::new("/proc/self").exists()
                && Path::new("/proc").join(h.pid.to_string()).exists())
    } else {
        let age = fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        age.is_none_or(|a| a < max_age)
    }
}

fn remove_any(path: &Path) -> io::Result<()> {
    let r = if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// Remove the hidden entries in `dir` whose owner is gone (see the module docs), and repair
/// an interrupted `--force` swap. Returns how many entries were removed or restored; says on
/// stderr what it restored.
pub fn clean_stale(dir: &Path) -> Result<usize> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(0);
    };
    let max_age = stale_age()?;
    let mut count = 0;
    for e in entries.flatten() {
        let file_name = e.file_name().to_string_lossy().into_owned();
        let Some(h) = parse_hidden(&file_name) else {
            continue;
        };
        let path = e.path();
        if owner_alive(&h, &path, max_age) {
            continue;
        }
        let target = dir.join(&h.name);
        if h.kind == "old" && fs::symlink_metadata(&target).is_err() {
            // Killed between "old aside" and "new in": put the old run back.
            match rename_noreplace(&path, &target) {
                Ok(()) => {
                    eprintln!(
                        "note: restored {} (an interrupted --force had set it aside as {file_name})",
                        target.display()
                    );
                    count += 1;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                // Another thread or process repaired it first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "cannot restore {} from {}; rename it back by hand",
                            target.display(),
                            path.display()
                        )
                    })
                }
            }
        }
        match remove_any(&path) {
            Ok(()) => count += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot remove the stale staging entry {}", path.display())
                })
            }
        }
    }
    Ok(count)
}

/// Rename `from` to `to` only if `to` does not exist (an `AlreadyExists` error otherwise).
/// `from` must be a directory when the file system lacks `RENAME_NOREPLACE`.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        use rustix::io::Errno;
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Fallback: an empty directory created with mkdir is the lock (mkdir fails if `to`
    // exists); renaming a directory over an empty directory replaces it atomically.
    fs::create_dir(to)?;
    fs::rename(from, to).inspect_err(|_| {
        let _ = fs::remove_dir(to);
    })
}

/// What is in a directory, for error messages: up to five names and the count.
fn describe(dir: &Path) -> String {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|it| {
            it.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let n = names.len();
    names.truncate(5);
    let more = if n > 5 { ", ..." } else { "" };
    format!("{n} entries: {}{more}", names.join(", "))
}

/// Whether `--force` may replace `dir`: a run directory (run.json) or an empty directory.
fn check_replaceable(dir: &Path) -> Result<()> {
    if crate::record::is_run_dir(dir) {
        return Ok(());
    }
    let empty = fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .next()
        .is_none();
    if !empty {
        bail!(
            "{} is not a bandwise run directory (no run.json; it holds {}); --force replaces only a run directory or an empty directory: choose another --out",
            dir.display(),
            describe(dir)
        );
    }
    Ok(())
}

/// Check that `target` may be written (before any work is done): absent, or with
/// `overwrite`, a run directory or an empty directory. A regular file is always refused.
pub fn check_target(target: &Path, overwrite: bool) -> Result<()> {
    let Ok(meta) = fs::symlink_metadata(target) else {
        return Ok(());
    };
    if !meta.is_dir() {
        bail!(
            "{} exists and is not a directory: choose another --out (a run is written as a directory)",
            target.display()
        );
    }
    if !overwrite {
        check_replaceable(target).map_err(|_| {
            anyhow::anyhow!(
                "{} exists and is not a bandwise run directory (it holds {}): choose another --out",
                target.display(),
                describe(target)
            )
        })?;
        bail!(
            "{} already exists; choose another --out, remove it, or pass --force to replace it",
            target.display()
        );
    }
    check_replaceable(target)
}

/// A staging directory that becomes the run directory on [`Staging::commit`].
pub struct Staging {
    staging: PathBuf,
    target: PathBuf,
    overwrite: bool,
}

impl Staging {
    /// Prepare to write `target` (see [`check_target`]); dead staging entries beside it are
    /// cleaned first. With `overwrite` the old run is replaced at commit time, not before.
    pub fn new(target: &Path, overwrite: bool) -> Result<Staging> {
        check_target(target, overwrite)?;
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let name = target
            .file_name()
            .context("the output directory needs a name")?
            .to_string_lossy()
            .into_owned();
        clean_stale(parent)?;
        let staging = parent.join(hidden_name(&name, "partial"));
        if fs::symlink_metadata(&staging).is_ok() {
            // Ours (same host and pid), from an earlier attempt in this process.
            remove_any(&staging)?;
        }
        fs::create_dir(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
        Ok(Staging {
            staging,
            target: target.to_path_buf(),
            overwrite,
        })
    }

    /// Write `file` (a name or a relative path such as `checkpoints/x.json`; missing
    /// directories are created) into the staging directory.
    pub fn write(&self, file: &str, contents: &str) -> Result<()> {
        let path = self.staging.join(file);
        if let Some(dir) = path.parent().filter(|d| !d.exists()) {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn write_json(&self, file: &str, value: &serde_json::Value) -> Result<()> {
        self.write(file, &(serde_json::to_string_pretty(value)? + "\n"))
    }

    /// Move the staging directory into place: take the target if absent; with `overwrite`
    /// swap out a run (or empty) directory. Never removes a directory this process did not
    /// create, except the run `--force` was asked to replace.
    pub fn commit(self) -> Result<PathBuf> {
        let target = &self.target;
        let taken_meanwhile = || {
            anyhow::anyhow!(
                "{} was created by another process while this run was being written; it was left untouched and this run's results were not saved (choose another --out)",
                target.display()
            )
        };
        let exists = fs::symlink_metadata(target).is_ok();
        if !exists || !self.overwrite {
            return match rename_noreplace(&self.staging, target) {
                Ok(()) => Ok(target.clone()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(taken_meanwhile()),
                // ENOTEMPTY: the fallback's mkdir lost to a non-empty directory.
                Err(e) if e.raw_os_error() == Some(39) => Err(taken_meanwhile()),
                Err(e) => Err(e).with_context(|| {
                    format!("cannot move the finished run into {}", target.display())
                }),
            };
        }
        check_target(target, true)?;
        let parent = self.staging.parent().unwrap_or(Path::new("."));
        let name = target.file_name().context("target name")?.to_string_lossy();
        let aside = parent.join(hidden_name(&name, "old"));
        rename_noreplace(target, &aside).with_context(|| {
            format!(
                "cannot set {} aside as {} to replace it",
                target.display(),
                aside.display()
            )
        })?;
        if let Err(e) = rename_noreplace(&self.staging, target) {
            let restored = rename_noreplace(&aside, target).is_ok();
            let old = if restored {
                "the old run is back in place".to_string()
            } else {
                format!("the old run is kept at {}", aside.display())
            };
            return Err(anyhow::Error::new(e).context(format!(
                "cannot move the finished run into {} ({old}; another process may have written it meanwhile)",
                target.display()
            )));
        }
        let trash = parent.join(hidden_name(&name, "trash"));
        let doomed = if fs::rename(&aside, &trash).is_ok() {
            trash
        } else {
            aside
        };
        if let Err(e) = remove_any(&doomed) {
            eprintln!(
                "warning: replaced {}, but could not delete the old copy {}: {e}",
                target.display(),
                doomed.display()
            );
        }
        Ok(target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // A run that failed before commit leaves nothing behind (after commit this is a no-op).
        let _ = fs::remove_dir_all(&self.staging);
    }
}

/// Check a run name used as a directory name under `runs/`: no path separators, no `..`,
/// not absolute, not hidden, not empty.
pub fn check_run_name(name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
        || name.contains("..");
    if bad {
        bail!(
            "name = {name:?} cannot be a run directory name: use letters, digits, `-`, `_`, `=` or `.` without path separators, `..` or a leading `.` (e.g. name = \"padam_p0.5\")"
        );
    }
    Ok(())
}

/// Write `contents` to `path` atomically (temp file `.<name>.tmp-<host>-<pid>` in the same
/// directory, then rename). The temp file is removed if writing fails.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomic_with(path, |tmp| Ok(fs::write(tmp, contents)?))
}

/// [`write_atomic`] for a writer that creates the file itself (NPY arrays, ...): `write` is
/// called with the temp path, which is then renamed to `path` (or removed on failure).
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path.file_name().context("file name")?.to_string_lossy();
    let tmp = dir.join(hidden_name(&name, "tmp"));
    let written = write(&tmp).and_then(|()| Ok(fs::rename(&tmp, path)?));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_names_round_trip() {
        let n = hidden_name("p=0.5__seed=1", "partial");
        let h = parse_hidden(&n).unwrap();
        assert_eq!(h.name, "p=0.5__seed=1");
        assert_eq!(h.kind, "partial");
        assert_eq!(h.host, host());
        assert_eq!(h.pid, std::process::id());
        let h = parse_hidden(".x.tmp-node-7.cluster-42").unwrap();
        assert_eq!(
            (h.name.as_str(), h.kind, h.host.as_str(), h.pid),
            ("x", "tmp", "node-7.cluster", 42)
        );
        // The older format without a host is read as this host.
        assert_eq!(parse_hidden(".r.partial-12").unwrap().host, host());
        assert!(parse_hidden("r.partial-12").is_none());
        assert!(parse_hidden(".r.partial-x").is_none());
    }

    #[test]
    fn another_hosts_staging_is_alive_until_old() {
        let tmp = tempfile::tempdir().unwrap();
        let foreign = tmp.path().join(".r.partial-otherhost-1");
        fs::create_dir(&foreign).unwrap();
        let h = parse_hidden(".r.partial-otherhost-1").unwrap();
        assert!(owner_alive(&h, &foreign, Duration::from_secs(3600)));
        assert!(!owner_alive(&h, &foreign, Duration::ZERO));
        assert_eq!(clean_stale(tmp.path()).unwrap(), 0);
        assert!(foreign.exists());
    }

    #[test]
    fn run_names_are_checked() {
        for bad in [
            "../../x", "a/b", "/abs", "..", ".", "", ".hidden", "a\\b", "x..y",
        ] {
            assert!(check_run_name(bad).is_err(), "{bad:?}");
        }
        for good in ["padam", "p=0.5__seed=1", "run-1.2"] {
            check_run_name(good).unwrap();
        }
    }

    #[test]
    fn noreplace_refuses_an_existing_target() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        fs::write(b.join("keep"), "x").unwrap();
        let e = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(b.join("keep").exists() && a.exists());
        let c = tmp.path().join("c");
        rename_noreplace(&a, &c).unwrap();
        assert!(c.exists() && !a.exists());
    }
}
