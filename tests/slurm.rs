//! Sweeps on a cluster: the staged lr search (`--stage search|runs|merge`) against a one-process
//! sweep, and, on a real Slurm, `bandwise slurm --submit` against a local `bandwise sweep`,
//! with one array task cancelled and the sweep resubmitted.
//!
//! The Slurm test needs `sbatch` and a running cluster (scripts/slurm-up.sh brings one up as
//! root). Without one it prints SKIPPED and passes, unless BANDWISE_SLURM_REQUIRED=1 (as in
//! .ci/run after bringing Slurm up), where it fails.

mod common;

use bandwise::app::sweep::{
    run_sweep, Shard, Stage, SweepIndex, SweepOptions, SweepSpec, SweepStatus,
};
use bandwise::optim::Registry;
use common::sweep_fingerprint;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A sweep of 4 configurations x 2 seeds with an lr search over 2 lrs; `epochs` per run.
fn spec_text(epochs: u64, eval_every: u64) -> String {
    format!(
        "name = \"cl\"\nseeds = 2\n[lr_search]\ngrid = [3e-3, 1e-2]\nseeds = 1\nepochs = 100\n[[axis]]\npath = \"optimizer.p\"\nvalues = [0.0, 0.2, 0.35, 0.5]\n[base]\n[base.target]\nn = 64\nfrequencies = [1, 3, 6]\n[base.model]\nhidden = [32, 32]\n[base.optimizer]\nname = \"padam\"\nlr = 3e-3\np = 0.5\n[base.train]\nepochs = {epochs}\neval_every = {eval_every}\nbatch_size = 8\n[base.spectral]\nlayout = {{ kind = \"octave\" }}\ngrids = [\"train\", \"test\"]\n"
    )
}

fn assert_same(a: &Path, b: &Path) {
    let (fa, fb) = (
        sweep_fingerprint(a, &["lr_search.json"]),
        sweep_fingerprint(b, &["lr_search.json"]),
    );
    assert_eq!(fa.len(), fb.len());
    for (x, y) in fa.iter().zip(&fb) {
        assert!(
            x == y,
            "{} differs between {} and {}",
            x.0,
            a.display(),
            b.display()
        );
    }
}

#[test]
fn staged_lr_search_equals_one_process_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = SweepSpec::from_toml_str(&spec_text(30, 10), "test", "cl", Path::new(".")).unwrap();
    let reg = Registry::builtin();
    let local = tmp.path().join("local");
    let local_report = run_sweep(
        &spec,
        &reg,
        &local,
        &SweepOptions {
            jobs: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let staged = tmp.path().join("staged");
    let opts = |stage, i| SweepOptions {
        jobs: 1,
        shard: Shard { index: i, count: 3 },
        progress: Default::default(),
        stage,
    };
    // Merging before anything ran is refused with what to do.
    let e = run_sweep(&spec, &reg, &staged, &opts(Stage::Merge, 0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("run the shards first"), "{e}");
    // The search stage trains every search run exactly once across the shards.
    let searched: usize = (0..3)
        .map(|i| {
            run_sweep(&spec, &reg, &staged, &opts(Stage::Search, i))
                .unwrap()
                .search_ran
        })
        .sum();
    // Grid extensions at an edge included: the same search runs as one process trains.
    assert_eq!(searched, local_report.search_ran);
    assert!(
        !staged.join("runs").exists(),
        "the search stage trains no run"
    );
    // Two of three run shards: the merge refuses and names what is missing.
    for i in [0, 2] {
        let r = run_sweep(&spec, &reg, &staged, &opts(Stage::Runs, i)).unwrap();
        assert_eq!((r.search_ran, r.search_skipped, r.failed.len()), (0, 0, 0));
    }
    let status = SweepStatus::load(&staged).unwrap();
    let text = status.render();
    assert!(
        text.contains("lr search: 8 runs: 8 done")
            && text.contains("runs: 8 runs: 5 done, 0 running, 0 failed, 3 missing"),
        "{text}"
    );
    assert!(text.contains("p=0__seed=1: missing"), "{text}");
    let e = run_sweep(&spec, &reg, &staged, &opts(Stage::Merge, 0))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("is not complete")
            && e.contains("3 missing")
            && e.contains("p=0__seed=1")
            && e.contains("resubmit"),
        "{e}"
    );
    assert!(
        !staged.join("aggregate").exists(),
        "nothing is aggregated before the merge"
    );
    run_sweep(&spec, &reg, &staged, &opts(Stage::Runs, 1)).unwrap();
    run_sweep(&spec, &reg, &staged, &opts(Stage::Merge, 0)).unwrap();
    assert_same(&local, &staged);

    // The runs stage never trains a search: without them, every run fails with that reason,
    // recorded for `status`, and the record goes when the run later succeeds.
    let bare = tmp.path().join("bare");
    let r = run_sweep(&spec, &reg, &bare, &opts(Stage::Runs, 0)).unwrap();
    assert_eq!((r.search_ran, r.failed.len()), (0, 3));
    let text = SweepStatus::load(&bare).unwrap().render();
    assert!(
        text.contains("p=0__seed=0: failed: the lr search of config `p=0` is incomplete"),
        "{text}"
    );
    run_sweep(&spec, &reg, &bare, &opts(Stage::Search, 0)).unwrap();
    run_sweep(
        &spec,
        &reg,
        &bare,
        &SweepOptions {
            jobs: 2,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!bare.join("failed/p=0__seed=0.txt").exists());
    assert_same(&local, &bare);
}

#[test]
fn figures_slurm_writes_a_search_stage_only_where_an_analysis_searches() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("fig runs");
    let out = Command::new(env!("CARGO_BIN_EXE_bandwise"))
        .current_dir(tmp.path())
        .args([
            "figures",
            "--slurm",
            "--quick",
            "--shards",
            "5",
            "--only",
            "c2_fixed_p",
            "--runs",
        ])
        .arg(&runs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dir = runs.join("slurm/c2_fixed_p");
    let search = std::fs::read_to_string(dir.join("search.sbatch")).unwrap();
    assert!(search.contains("#SBATCH --array=0-4\n"), "{search}");
    assert!(
        search.contains(" figures --out ")
            && search.contains(" --quick --only c2_fixed_p --stage search \\\n"),
        "{search}"
    );
    let merge = std::fs::read_to_string(dir.join("merge.sbatch")).unwrap();
    assert!(
        merge.contains(&format!(
            "--runs '{}' --quick --only c2_fixed_p --stage merge\n",
            runs.display()
        )),
        "{merge}"
    );
    // An analysis without [lr_search], named directly: no search stage.
    let out = Command::new(env!("CARGO_BIN_EXE_bandwise"))
        .current_dir(tmp.path())
        .args(["slurm", "anchor_rahaman"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dir = tmp.path().join("runs/figures/slurm/anchor_rahaman");
    assert!(dir.join("runs.sbatch").is_file() && !dir.join("search.sbatch").exists());
    // Neither command ran anything.
    assert!(!runs.join("c2_fixed_p").exists());
}

// ---------------------------------------------------------------- a real Slurm cluster

fn bandwise() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bandwise"))
}

/// Why Slurm cannot be used here, if it cannot.
fn slurm_missing() -> Option<String> {
    match Command::new("sinfo").args(["-h", "-o", "%t"]).output() {
        Err(e) => Some(format!("sinfo cannot run ({e}): Slurm is not installed")),
        Ok(o) if !o.status.success() => Some(format!(
            "sinfo failed: {} (no slurmctld running?)",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(o) => {
            let states = String::from_utf8_lossy(&o.stdout);
            (!states
                .lines()
                .any(|s| ["idle", "mix", "alloc"].contains(&s.trim())))
            .then(|| format!("no usable node (sinfo states: {})", states.trim()))
        }
    }
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `bandwise slurm SPEC --out OUT --shards 4 --submit [extra]`: (stage, job id) pairs.
fn submit(cwd: &Path, out: &Path, extra: &[&str]) -> Vec<(String, String)> {
    let text = sh(bandwise()
        .current_dir(cwd)
        .args(["slurm", "spec.toml", "--shards", "4", "--submit", "--out"])
        .arg(out)
        .args(extra));
    let ids: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            let (s, id) = l.split_once(' ').unwrap();
            (s.to_string(), id.to_string())
        })
        .collect();
    let stages: Vec<&str> = ids.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(stages, ["search", "runs", "merge"], "{text}");
    ids
}

/// The jobs of `ids` still in the queue, as squeue prints them (`12_3`, `14`).
fn queued(ids: &[(String, String)]) -> Vec<String> {
    sh(Command::new("squeue").args(["-h", "-r", "-o", "%i %t"]))
        .lines()
        .filter(|l| {
            ids.iter()
                .any(|(_, id)| l.split([' ', '_']).next() == Some(id.as_str()))
        })
        .map(str::to_string)
        .collect()
}

fn wait(ids: &[(String, String)], limit: Duration) {
    let start = Instant::now();
    loop {
        let q = queued(ids);
        if q.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "jobs still queued after {limit:?}: {q:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn modified(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let index = SweepIndex::load(dir).unwrap();
    index
        .runs
        .iter()
        .filter(|r| r.dir.join("run.json").is_file())
        .map(|r| {
            (
                r.dir.clone(),
                std::fs::metadata(r.dir.join("run.json"))
                    .unwrap()
                    .modified()
                    .unwrap(),
            )
        })
        .collect()
}

#[test]
fn slurm_array_equals_local_sweep_and_resubmission_completes_it() {
    if let Some(why) = slurm_missing() {
        if std::env::var("BANDWISE_SLURM_REQUIRED").is_ok_and(|v| v == "1") {
            panic!("BANDWISE_SLURM_REQUIRED=1 but {why}");
        }
        // Written to stderr directly, past the test harness's capture, so `cargo test` shows it.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\nSKIPPED slurm_array_equals_local_sweep_and_resubmission_completes_it: {why}. Run scripts/slurm-up.sh as root to bring up a one-node cluster (.ci/run does)."
        );
        return;
    }
    // Paths with spaces all the way down; runs of about 2 s, so a task can be cancelled mid-run.
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("a project dir");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::write(cwd.join("spec.toml"), spec_text(12000, 1000)).unwrap();
    let local = cwd.join("local");
    sh(bandwise()
        .current_dir(&cwd)
        .args(["sweep", "spec.toml", "--jobs", "2", "--quiet", "--out"])
        .arg(&local));
    sh(bandwise()
        .current_dir(&cwd)
        .arg("report")
        .arg(local.join("runs"))
        .arg("--out")
        .arg(local.join("report.md")));
    let report = |dir: &Path| std::fs::read_to_string(dir.join("report.md")).unwrap();

    // 1. Search array, runs array (4 shards each) and merge job, as submitted.
    let out = cwd.join("cluster out");
    let ids = submit(&cwd, &out, &[]);
    wait(&ids, Duration::from_secs(240));
    assert_same(&local, &out);
    assert_eq!(report(&local), report(&out));
    assert!(out.join("figures/panel.png").is_file());
    let status = sh(bandwise().arg("status").arg(&out).arg("--complete"));
    assert!(
        status.contains("runs: 8 runs: 8 done, 0 running, 0 failed, 0 missing"),
        "{status}"
    );

    // 2. Cancel one runs-array task while it trains: the merge job refuses; a resubmission
    //    reruns only what is missing and ends with the same records and report.
    let out = cwd.join("cancelled");
    let ids = submit(&cwd, &out, &[]);
    let runs_job = &ids[1].1;
    let start = Instant::now();
    let victim = loop {
        let running: Vec<String> = queued(&ids)
            .into_iter()
            .filter(|l| l.starts_with(&format!("{runs_job}_")) && l.ends_with(" R"))
            .collect();
        let staging = std::fs::read_dir(out.join("runs"))
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().contains(".partial-"))
            })
            .unwrap_or(false);
        if let (Some(task), true) = (running.first(), staging) {
            break task.split(' ').next().unwrap().to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no runs task started: {:?}",
            queued(&ids)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    sh(Command::new("scancel").arg(&victim));
    wait(&ids, Duration::from_secs(240));
    let merge_log =
        std::fs::read_to_string(out.join(format!("slurm/logs/merge-{}.out", ids[2].1))).unwrap();
    assert!(
        merge_log.contains("is not complete, so it is not aggregated"),
        "{merge_log}"
    );
    assert!(!out.join("report.md").exists());
    let status = SweepStatus::load(&out).unwrap();
    let not_done = status.count(|s| !s.is_done());
    assert!(
        (1..=2).contains(&not_done),
        "task {victim} had 2 runs: {}",
        status.render()
    );
    let kept = modified(&out);
    assert_eq!(kept.len(), 8 - not_done);
    let text = sh(bandwise().arg("status").arg(&out));
    assert!(
        text.contains("interrupted") || text.contains("missing"),
        "{text}"
    );

    let again = submit(&cwd, &out, &[]);
    wait(&again, Duration::from_secs(240));
    for (dir, time) in kept {
        let now = std::fs::metadata(dir.join("run.json"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(now, time, "{} was retrained", dir.display());
    }
    assert_same(&local, &out);
    assert_eq!(report(&local), report(&out));
    eprintln!("slurm test: jobs {ids:?}, cancelled task {victim}, resubmitted as {again:?}");
}
