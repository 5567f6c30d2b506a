//! Slurm job arrays for sweeps and the figure set (`bandwise slurm`, `bandwise figures --slurm`).
//!
//! A sweep becomes two or three readable sbatch scripts in one directory, plus `submit.sh`
//! that submits them in order:
//! - `search.sbatch` (only with `[lr_search]`): an array, task I of N runs
//!   `--stage search --shard I/N`, so every search run is trained once;
//! - `runs.sbatch`: an array, task I of N runs `--stage runs --shard I/N --jobs $SLURM_CPUS_PER_TASK`
//!   after the search stage has ended, so the lr choice is read from finished searches;
//! - `merge.sbatch`: one task after the runs have ended: `--stage merge` refuses (and the job
//!   fails with the list of missing runs) unless every run is done, then aggregates, reports and
//!   draws the figures.
//!
//! Dependencies are `afterany`, not `afterok`: a cancelled or failed task never leaves a stage
//! pending forever; the next stage checks from the files what it needs and says what is
//! missing. Resubmitting the same scripts reruns only what is not done. Every path is absolute
//! and shell-quoted (spaces are fine); all nodes must see the same filesystem paths.

use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// sbatch resources of the array tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmOptions {
    /// Array tasks (shards) per stage.
    pub shards: usize,
    pub partition: Option<String>,
    pub time: Option<String>,
    pub cpus_per_task: usize,
    pub mem: Option<String>,
    /// Extra sbatch options, each written as one `#SBATCH` line of every script.
    pub sbatch_args: Vec<String>,
}

impl Default for SlurmOptions {
    fn default() -> Self {
        SlurmOptions {
            shards: 4,
            partition: None,
            time: None,
            cpus_per_task: 1,
            mem: None,
            sbatch_args: Vec::new(),
        }
    }
}

/// What the jobs run: `binary` with these arguments, in `workdir`.
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    /// Job-name stem, e.g. the sweep's name.
    pub name: String,
    /// One line saying what this is (the first comment of each script).
    pub title: String,
    /// Absolute path of the bandwise binary.
    pub binary: PathBuf,
    /// Absolute working directory of every job.
    pub workdir: PathBuf,
    /// Arguments of a sharded stage before `--stage`, e.g. `sweep SPEC --out DIR`.
    pub stage_args: Vec<String>,
    /// Whether there is an lr-search stage.
    pub search: bool,
    /// The merge job's commands (arguments after the binary), run in order.
    pub merge: Vec<Vec<String>>,
}

/// One generated file.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub file: &'static str,
    pub text: String,
}

/// `s` as one POSIX shell word (single-quoted unless it is plainly safe).
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+%@".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A path or value in an `#SBATCH` line (sbatch reads double quotes there, not single ones).
fn directive(s: &str) -> Result<String> {
    if s.contains('"') || s.contains('\n') {
        bail!("{s:?} cannot go in an #SBATCH line (it contains a double quote or a newline); use another path or value");
    }
    Ok(if s.contains(char::is_whitespace) {
        format!("\"{s}\"")
    } else {
        s.to_string()
    })
}

fn command_line(binary: &str, args: &[String]) -> String {
    let mut line = binary.to_string();
    for a in args {
        line.push(' ');
        line += &quote(a);
    }
    line
}

/// The scripts for `work`, whose logs go to `logs`: `search.sbatch` (if any), `runs.sbatch`,
/// `merge.sbatch` and `submit.sh`.
pub fn scripts(work: &Work, opts: &SlurmOptions, logs: &Path) -> Result<Vec<Script>> {
    if opts.shards == 0 || opts.cpus_per_task == 0 {
        bail!("--shards and --cpus-per-task must be at least 1");
    }
    let binary = quote(&work.binary.to_string_lossy());
    let logs = logs.to_string_lossy();
    let header = |stage: &str, what: &str, array: bool| -> Result<String> {
        let mut t = String::from("#!/bin/bash\n");
        let _ = writeln!(t, "# {}", work.title);
        let _ = writeln!(t, "# Stage `{stage}`: {what}");
        let _ = writeln!(
            t,
            "# Written by `bandwise slurm`; submit all stages in order with submit.sh next to it."
        );
        let _ = writeln!(
            t,
            "#SBATCH --job-name={}",
            directive(&format!("bw-{}-{stage}", work.name))?
        );
        if array {
            let _ = writeln!(t, "#SBATCH --array=0-{}", opts.shards - 1);
            let _ = writeln!(t, "#SBATCH --cpus-per-task={}", opts.cpus_per_task);
            let _ = writeln!(
                t,
                "#SBATCH --output={}",
                directive(&format!("{logs}/{stage}-%A_%a.out"))?
            );
        } else {
            let _ = writeln!(t, "#SBATCH --cpus-per-task={}", opts.cpus_per_task);
            let _ = writeln!(
                t,
                "#SBATCH --output={}",
                directive(&format!("{logs}/{stage}-%j.out"))?
            );
        }
        for (key, value) in [
            ("partition", &opts.partition),
            ("time", &opts.time),
            ("mem", &opts.mem),
        ] {
            if let Some(v) = value {
                let _ = writeln!(t, "#SBATCH --{key}={}", directive(v)?);
            }
        }
        for a in &opts.sbatch_args {
            let _ = writeln!(t, "#SBATCH {}", directive(a)?);
        }
        let _ = writeln!(t, "set -euo pipefail");
        let _ = writeln!(t, "cd {}", quote(&work.workdir.to_string_lossy()));
        Ok(t)
    };
    let sharded = |stage: &str, what: &str| -> Result<Script> {
        let mut t = header(stage, what, true)?;
        let mut args = work.stage_args.clone();
        args.extend(["--stage".to_string(), stage.to_string()]);
        let _ = writeln!(
            t,
            "{} \\\n    --shard \"$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\" --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\"",
            command_line(&binary, &args)
        );
        Ok(Script {
            file: if stage == "search" {
                "search.sbatch"
            } else {
                "runs.sbatch"
            },
            text: t,
        })
    };
    let mut out = Vec::new();
    if work.search {
        out.push(sharded(
            "search",
            &format!("the lr-search runs, one array task per shard ({} shards); each search run is trained once", opts.shards),
        )?);
    }
    out.push(sharded(
        "runs",
        &format!(
            "the runs, one array task per shard ({} shards){}",
            opts.shards,
            if work.search {
                "; starts after the search stage has ended and uses its choice"
            } else {
                ""
            }
        ),
    )?);
    let mut merge = header(
        "merge",
        "after the runs have ended: refuses unless every run is done (the job then fails and its log lists what is missing), else aggregates, reports and draws the figures",
        false,
    )?;
    for cmd in &work.merge {
        let _ = writeln!(merge, "{}", command_line(&binary, cmd));
    }
    out.push(Script {
        file: "merge.sbatch",
        text: merge,
    });
    let mut submit = String::from("#!/bin/bash\n");
    let _ = writeln!(
        submit,
        "# Submit the stages of `{}` in order; each starts when the previous one has ended",
        work.name
    );
    let _ = writeln!(
        submit,
        "# (afterany: a stage checks from the files what it needs). Rerun this script to resubmit:"
    );
    let _ = writeln!(
        submit,
        "# done runs are kept and only the others rerun. Prints `<stage> <job id>` per stage."
    );
    let _ = writeln!(
        submit,
        "set -euo pipefail\ncd \"$(dirname \"$0\")\"\nmkdir -p {}",
        quote(&logs)
    );
    let mut previous: Option<&str> = None;
    for s in &out {
        let stage = s.file.trim_end_matches(".sbatch");
        let dep = previous.map_or(String::new(), |p| {
            format!(" --dependency=afterany:\"${p}\"")
        });
        let _ = writeln!(submit, "{stage}=$(sbatch --parsable{dep} {})\n{stage}=${{{stage}%%;*}}\necho \"{stage} ${stage}\"", s.file);
        previous = Some(stage);
    }
    out.push(Script {
        file: "submit.sh",
        text: submit,
    });
    Ok(out)
}

/// Write `scripts` into `dir` (created, with `logs`); returns `dir/submit.sh`.
pub fn write(dir: &Path, logs: &Path, scripts: &[Script]) -> Result<PathBuf> {
    for d in [dir, logs] {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    for s in scripts {
        let path = dir.join(s.file);
        crate::record::write_atomic(&path, s.text.as_bytes())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("cannot make {} executable", path.display()))?;
        }
    }
    Ok(dir.join("submit.sh"))
}

/// Run `submit.sh`; returns `(stage, job id)` in submission order.
pub fn submit(submit_sh: &Path) -> Result<Vec<(String, String)>> {
    let out = std::process::Command::new("bash")
        .arg(submit_sh)
        .output()
        .with_context(|| format!("cannot run bash {}", submit_sh.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}; is this a Slurm login node (sbatch on PATH)?",
            submit_sh.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(s, id)| (s.to_string(), id.trim().to_string()))
        .collect())
}

/// `path` made absolute against the current directory (not resolving links).
pub fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    Ok(std::env::current_dir()
        .context("cannot read the current directory")?
        .join(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn work(dir: &Path, search: bool) -> Work {
        Work {
            name: "t".into(),
            title: "test".into(),
            binary: dir.join("bin dir/band wise"),
            workdir: dir.join("work dir's"),
            stage_args: vec![
                "sweep".into(),
                dir.join("my spec's.toml").to_string_lossy().into(),
                "--out".into(),
                dir.join("out dir").to_string_lossy().into(),
            ],
            search,
            merge: vec![vec![
                "sweep".into(),
                "a b".into(),
                "--stage".into(),
                "merge".into(),
            ]],
        }
    }

    /// A fake executable at `path` that prints its working directory, then one argument a line.
    fn fake(path: &Path, body: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("#!/bin/bash\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn quote_is_one_shell_word() {
        assert_eq!(quote("plain/path-1.toml"), "plain/path-1.toml");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn stages_shards_and_dependencies() {
        let dir = Path::new("/w");
        let opts = SlurmOptions {
            shards: 8,
            partition: Some("gpu long".into()),
            time: Some("1:00:00".into()),
            mem: Some("2G".into()),
            sbatch_args: vec!["--account=abc".into()],
            ..Default::default()
        };
        let s = scripts(&work(dir, true), &opts, &dir.join("logs x")).unwrap();
        let files: Vec<&str> = s.iter().map(|s| s.file).collect();
        assert_eq!(
            files,
            ["search.sbatch", "runs.sbatch", "merge.sbatch", "submit.sh"]
        );
        for (i, stage) in ["search", "runs"].iter().enumerate() {
            let t = &s[i].text;
            assert!(t.contains("#SBATCH --array=0-7\n"), "{t}");
            assert!(t.contains(&format!("--stage {stage} \\\n    --shard \"$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\" --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\"")), "{t}");
            assert!(
                t.contains(&format!(
                    "#SBATCH --output=\"/w/logs x/{stage}-%A_%a.out\"\n"
                )),
                "{t}"
            );
            assert!(t.contains("#SBATCH --partition=\"gpu long\"\n#SBATCH --time=1:00:00\n#SBATCH --mem=2G\n#SBATCH --account=abc\n"), "{t}");
        }
        assert!(!s[2].text.contains("--array"), "{}", s[2].text);
        let submit = &s[3].text;
        let sbatch: Vec<&str> = submit
            .lines()
            .filter(|l| l.contains("sbatch --parsable"))
            .collect();
        assert_eq!(
            sbatch,
            [
                "search=$(sbatch --parsable search.sbatch)",
                "runs=$(sbatch --parsable --dependency=afterany:\"$search\" runs.sbatch)",
                "merge=$(sbatch --parsable --dependency=afterany:\"$runs\" merge.sbatch)",
            ]
        );
        // Without a search: two stages, the runs depend on nothing.
        let s = scripts(&work(dir, false), &SlurmOptions::default(), dir).unwrap();
        let files: Vec<&str> = s.iter().map(|s| s.file).collect();
        assert_eq!(files, ["runs.sbatch", "merge.sbatch", "submit.sh"]);
        assert!(s[0].text.contains("#SBATCH --array=0-3\n"));
        assert!(s[2].text.contains("runs=$(sbatch --parsable runs.sbatch)"));
        // Values sbatch cannot read are refused with the value named.
        let bad = SlurmOptions {
            time: Some("1\"".into()),
            ..Default::default()
        };
        let e = scripts(&work(dir, false), &bad, dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"1\\\"\"") && e.contains("#SBATCH"), "{e}");
    }

    #[test]
    fn scripts_run_with_paths_with_spaces_and_quotes() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("a dir");
        let w = work(&root, true);
        std::fs::create_dir_all(&w.workdir).unwrap();
        fake(&w.binary, "pwd; for a in \"$@\"; do echo \"$a\"; done");
        let logs = root.join("slurm logs");
        let made = scripts(&w, &SlurmOptions::default(), &logs).unwrap();
        let submit_sh = write(&root.join("slurm"), &logs, &made).unwrap();
        let run = |file: &str| {
            let out = Command::new("bash")
                .arg(root.join("slurm").join(file))
                .env("SLURM_ARRAY_TASK_ID", "2")
                .env("SLURM_ARRAY_TASK_COUNT", "8")
                .env("SLURM_CPUS_PER_TASK", "3")
                .output()
                .unwrap();
            assert!(out.status.success(), "{file}: {out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        let lines = |v: &[String]| v.join("\n") + "\n";
        let expected = |stage: &str| {
            let mut v = vec![w.workdir.to_string_lossy().into_owned()];
            v.extend(w.stage_args.iter().cloned());
            v.extend(["--stage", stage, "--shard", "2/8", "--jobs", "3"].map(String::from));
            lines(&v)
        };
        assert_eq!(run("runs.sbatch"), expected("runs"));
        assert_eq!(run("search.sbatch"), expected("search"));
        let merge: Vec<String> = [
            w.workdir.to_string_lossy().as_ref(),
            "sweep",
            "a b",
            "--stage",
            "merge",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(run("merge.sbatch"), lines(&merge));
        // submit.sh with a fake sbatch that logs its arguments and prints `id;cluster`.
        let bin = tmp.path().join("fakebin");
        let log = tmp.path().join("sbatch.log");
        fake(
            &bin.join("sbatch"),
            &format!(
                "echo \"$*\" >> {}; n=$(wc -l < {}); echo \"$((n + 40));local\"",
                quote(&log.to_string_lossy()),
                quote(&log.to_string_lossy())
            ),
        );
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("bash")
            .arg(&submit_sh)
            .env("PATH", path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "search 41\nruns 42\nmerge 43\n"
        );
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "--parsable search.sbatch\n--parsable --dependency=afterany:41 runs.sbatch\n--parsable --dependency=afterany:42 merge.sbatch\n"
        );
        assert!(logs.is_dir());
    }
}
