//! The promises of docs/reliability.md, tested through the real binary: no finished run is
//! lost (races, --force, names, leftovers), impossible work is refused before allocating,
//! clear errors and clean leftovers.

use bandwise::record::commit::host;
use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn config(name: &str, epochs: u64) -> String {
    format!(
        "name = \"{name}\"\n[target]\nn = 64\nfrequencies = [1, 4, 9]\n[model]\nhidden = [16, 16]\n[optimizer]\nname = \"adam\"\nlr = 1e-3\n[train]\nepochs = {epochs}\n[spectral]\nlayout = {{ kind = \"octave\" }}\n"
    )
}

fn bandwise(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bandwise"));
    c.current_dir(dir).env_remove("RUST_BACKTRACE");
    c
}

fn output(c: &mut Command) -> (bool, String) {
    let o: Output = c.output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// A pid that belonged to a process of this host that has exited.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn seed_of(run: &Path) -> u64 {
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    v["config"]["seed"].as_u64().unwrap()
}

// ---- Data loss -----------------------------------------------------------------------

#[test]
fn two_processes_into_one_out_exactly_one_wins_and_survives() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("c.toml"), config("c", 2000)).unwrap();
    let spawn = |seed: &str| {
        bandwise(tmp.path())
            .args([
                "run", "c.toml", "--quiet", "--out", "runs/r", "--seed", seed,
            ])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("1"), spawn("2"));
    let results: Vec<(bool, String)> = [a, b]
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            (
                o.status.success(),
                String::from_utf8_lossy(&o.stderr).into(),
            )
        })
        .collect();
    let winners: Vec<usize> = (0..2).filter(|&i| results[i].0).collect();
    assert_eq!(winners.len(), 1, "exactly one succeeds: {results:?}");
    let (w, l) = (winners[0], 1 - winners[0]);
    let err = &results[l].1;
    assert!(
        err.contains("already exists") || err.contains("created by another process"),
        "{err}"
    );
    let run = tmp.path().join("runs/r");
    assert_eq!(
        seed_of(&run),
        w as u64 + 1,
        "the winner's run is the one on disk"
    );
    for f in ["run.json", "epochs.csv", "bands.csv"] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    assert_eq!(names(&tmp.path().join("runs")), ["r"], "no staging left");
}

#[test]
fn force_swap_leftovers_are_repaired_on_the_next_start() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("c.toml"), config("c", 3)).unwrap();
    let ok = |args: &[&str]| {
        let (ok, err) = output(bandwise(tmp.path()).args(args));
        assert!(ok, "{args:?}: {err}");
        err
    };
    ok(&["run", "c.toml", "--quiet", "--out", "runs/a", "--seed", "7"]);
    ok(&["run", "c.toml", "--quiet", "--out", "runs/b", "--seed", "8"]);
    let runs = tmp.path().join("runs");
    let dead = dead_pid();
    let h = host();
    // Killed after "old aside", before "new in": runs/a is missing, its old copy aside.
    fs::rename(runs.join("a"), runs.join(format!(".a.old-{h}-{dead}"))).unwrap();
    // Killed after "new in": runs/b is the new run, the old copy still aside and half-deleted.
    let old_b = runs.join(format!(".b.old-{h}-{dead}"));
    fs::create_dir(&old_b).unwrap();
    fs::write(old_b.join("run.json"), "{}").unwrap();
    let trash_b = runs.join(format!(".b.trash-{h}-{dead}"));
    fs::create_dir(&trash_b).unwrap();
    // A killed single run's staging, and a live run's staging on another host.
    fs::create_dir(runs.join(format!(".c.partial-{h}-{dead}"))).unwrap();
    fs::write(runs.join(format!(".x.json.tmp-{h}-{dead}")), "x").unwrap();
    let foreign = format!(".d.partial-othernode-{dead}");
    fs::create_dir(runs.join(&foreign)).unwrap();

    let err = ok(&["run", "c.toml", "--quiet", "--out", "runs/e"]);
    assert!(err.contains("restored") && err.contains("runs/a"), "{err}");
    assert_eq!(names(&runs), [foreign.as_str(), "a", "b", "e"]);
    assert_eq!(seed_of(&runs.join("a")), 7);
    assert!(runs.join("a/epochs.csv").is_file());
    assert_eq!(seed_of(&runs.join("b")), 8);

    // Another host's staging counts as abandoned once older than the stated age.
    let (okk, err) = output(
        bandwise(tmp.path())
            .args(["run", "c.toml", "--quiet", "--out", "runs/f"])
            .env("BANDWISE_STALE_HOURS", "0"),
    );
    assert!(okk, "{err}");
    assert_eq!(names(&runs), ["a", "b", "e", "f"]);

    // A --force swap leaves exactly the new run.
    ok(&[
        "run", "c.toml", "--quiet", "--out", "runs/a", "--seed", "9", "--force",
    ]);
    assert_eq!(seed_of(&runs.join("a")), 9);
    assert_eq!(names(&runs), ["a", "b", "e", "f"]);
}

#[test]
fn force_refuses_anything_but_a_run_or_an_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("c.toml"), config("c", 3)).unwrap();
    let (ok, err) =
        output(bandwise(tmp.path()).args(["run", "c.toml", "--quiet", "--out", "runs/a"]));
    assert!(ok, "{err}");
    fs::write(tmp.path().join("runs/notes.txt"), "mine").unwrap();
    // `--out runs` would have deleted the sibling runs.
    let (ok, err) =
        output(bandwise(tmp.path()).args(["run", "c.toml", "--quiet", "--out", "runs", "--force"]));
    assert!(!ok);
    assert!(
        err.contains("not a bandwise run directory") && err.contains("notes.txt"),
        "{err}"
    );
    assert!(tmp.path().join("runs/a/run.json").is_file());
    assert!(tmp.path().join("runs/notes.txt").is_file());
    // An empty directory may be replaced.
    fs::create_dir(tmp.path().join("empty")).unwrap();
    let (ok, err) = output(
        bandwise(tmp.path()).args(["run", "c.toml", "--quiet", "--out", "empty", "--force"]),
    );
    assert!(ok, "{err}");
    assert!(tmp.path().join("empty/run.json").is_file());
    // A regular file is refused before training, without suggesting --force.
    fs::write(tmp.path().join("file"), "x").unwrap();
    for force in [false, true] {
        let mut c = bandwise(tmp.path());
        c.args(["run", "c.toml", "--quiet", "--out", "file"]);
        if force {
            c.arg("--force");
        }
        let (ok, err) = output(&mut c);
        assert!(!ok);
        assert!(
            err.contains("not a directory") && !err.contains("--force"),
            "{err}"
        );
    }
    assert_eq!(fs::read_to_string(tmp.path().join("file")).unwrap(), "x");
}

#[test]
fn run_names_cannot_escape_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    fs::create_dir_all(work.join("x")).unwrap();
    fs::write(work.join("x/keep"), "user data").unwrap();
    for name in ["../x", "/tmp/x", "a/b", ".."] {
        fs::write(work.join("c.toml"), config(name, 3)).unwrap();
        let (ok, err) = output(bandwise(&work).args(["run", "c.toml", "--quiet", "--force"]));
        assert!(!ok, "{name}");
        assert!(
            err.contains("cannot be a run directory name") && err.contains("c.toml"),
            "{err}"
        );
    }
    assert!(work.join("x/keep").is_file());
    assert!(!work.join("runs").exists());
}

// ---- Crashes and hangs: impossible work refused before allocating ------------------------

/// An NPY v1 file whose header claims `shape` of f64 but that holds only 16 bytes of data.
fn lying_npy(path: &Path, shape: &str) {
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend([0u8; 16]);
    fs::write(path, bytes).unwrap();
}

#[test]
fn impossible_work_is_refused_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let base = config("c", 3);
    let cases = [
        (
            "wide.toml",
            base.replace("hidden = [16, 16]", "hidden = [100000, 100000]"),
        ),
        ("long.toml", base.replace("n = 64", "n = 100000000000")),
        (
            "overflow.toml",
            base.replace("hidden = [16, 16]", "hidden = [9223372036854775807, 4]"),
        ),
    ];
    for (file, text) in &cases {
        fs::write(tmp.path().join(file), text).unwrap();
        let started = std::time::Instant::now();
        let (ok, err) = output(bandwise(tmp.path()).args(["run", file, "--quiet"]));
        assert!(!ok, "{file}");
        assert!(
            err.contains("needs about") || err.contains("overflows"),
            "{file}: {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("memory allocation"),
            "{err}"
        );
        assert!(started.elapsed().as_secs() < 20, "{file} refused up front");
    }
    // A configurable cap, named in the error with the estimate.
    fs::write(tmp.path().join("c.toml"), &base).unwrap();
    let (ok, err) = output(
        bandwise(tmp.path())
            .args(["run", "c.toml", "--quiet"])
            .env("BANDWISE_MAX_MEMORY_GB", "0.000001"),
    );
    assert!(!ok);
    assert!(
        err.contains("BANDWISE_MAX_MEMORY_GB") && err.contains("needs about"),
        "{err}"
    );
    assert!(!tmp.path().join("runs").exists());

    // An NPY header claiming 51 TB in a tiny file: refused by spectrum and analyze.
    lying_npy(&tmp.path().join("big1d.npy"), "(100000000000,)");
    lying_npy(&tmp.path().join("big2d.npy"), "(100000000000, 64)");
    let (ok, err) = output(bandwise(tmp.path()).args(["spectrum", "big1d.npy"]));
    assert!(
        !ok && err.contains("big1d.npy") && err.contains("header claims"),
        "{err}"
    );
    let (ok, err) = output(bandwise(tmp.path()).args([
        "analyze",
        "--config",
        "c.toml",
        "--predictions",
        "big2d.npy",
        "--out",
        "imported",
    ]));
    assert!(
        !ok && err.contains("big2d.npy") && err.contains("header claims"),
        "{err}"
    );
    assert!(!tmp.path().join("imported").exists());
}

#[test]
fn broken_pipes_end_normally_and_jobs_are_capped() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("c.toml"), config("c", 3)).unwrap();
    let (ok, err) = output(bandwise(tmp.path()).args(["run", "c.toml", "--quiet"]));
    assert!(ok, "{err}");
    // `bandwise report runs --format csv | head -0`: the reader is gone before anything is written.
    for args in [
        &["report", "runs", "--format", "csv"][..],
        &["report", "runs"][..],
    ] {
        let mut child = bandwise(tmp.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{args:?}: {:?} {err}", o.status);
        assert!(!err.contains("panicked"), "{err}");
    }
    // --jobs beyond the number of runs is capped, and the note says so.
    fs::write(
        tmp.path().join("s.toml"),
        "name = \"s\"\nseeds = [0, 1]\n[base]\n[base.target]\nn = 32\nfrequencies = [1, 3, 6]\n[base.model]\nhidden = [8]\n[base.optimizer]\nname = \"adam\"\nlr = 3e-3\n[base.train]\nepochs = 3\n",
    )
    .unwrap();
    let (ok, err) = output(bandwise(tmp.path()).args([
        "sweep", "s.toml", "--out", "sw", "--jobs", "100000", "--quiet",
    ]));
    assert!(ok, "{err}");
    assert!(err.contains("--jobs 100000 capped to 2"), "{err}");
}

// ---- Clear errors and clean leftovers ---------------------------------------------------

#[test]
fn sweep_failures_survive_an_aggregation_error_and_reports_stay_readable() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("s.toml"),
        "name = \"s\"\nseeds = [0, 1]\n[base]\n[base.target]\nn = 32\nfrequencies = [1, 3, 6]\n[base.model]\nhidden = [8]\n[base.optimizer]\nname = \"adam\"\nlr = 1e300\n[base.train]\nepochs = 3\n",
    )
    .unwrap();
    let sw = tmp.path().join("sw");
    // Run seed=1 cannot be written (its directory holds someone's file), and the aggregate
    // directory cannot be created (a file is in the way, as on a full or broken disk).
    fs::create_dir_all(sw.join("runs/seed=1")).unwrap();
    fs::write(sw.join("runs/seed=1/notes.txt"), "mine").unwrap();
    fs::write(sw.join("aggregate"), "in the way").unwrap();
    let (ok, err) =
        output(bandwise(tmp.path()).args(["sweep", "s.toml", "--out", "sw", "--quiet"]));
    assert!(!ok);
    assert!(
        err.contains("1 run(s) failed") && err.contains("seed=1") && err.contains("notes.txt"),
        "{err}"
    );
    assert!(err.contains("aggregation of"), "{err}");
    assert_eq!(
        fs::read_to_string(sw.join("runs/seed=1/notes.txt")).unwrap(),
        "mine"
    );
    let leftovers: Vec<String> = names(&sw)
        .into_iter()
        .chain(names(&sw.join("runs")))
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Every run diverged (lr = 1e300): the report names no NaN threshold and prints lr short.
    let o = bandwise(tmp.path())
        .args(["report", "sw/runs/seed=0", "--format", "term"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("lr=1e300"), "{text}");
    assert!(
        !text.contains("NaN") && !text.contains("000000000"),
        "{text}"
    );
}
