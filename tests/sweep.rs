//! End-to-end tests of sweeps: shards, determinism across --jobs, resume after kill -9,
//! divergence and failures, aggregation numbers, the lr search.

mod common;

use bandwise::app::sweep::{
    aggregate, list_runs, run_sweep, Shard, SweepIndex, SweepOptions, SweepSpec,
};
use bandwise::optim::Registry;
use bandwise::record::{Table, FORMAT};
use common::{fingerprint, sweep_fingerprint};
use std::path::Path;
use std::process::Command;

/// A sweep of tiny runs; `extra` goes before [base].
fn spec_text(extra: &str, epochs: u64) -> String {
    format!(
        "name = \"t\"\n{extra}\n[base]\n[base.target]\nn = 32\nfrequencies = [1, 3, 6]\n[base.model]\nhidden = [8, 8]\n[base.optimizer]\nname = \"padam\"\nlr = 3e-3\np = 0.5\n[base.train]\nepochs = {epochs}\nbatch_size = 8\n[base.spectral]\nlayout = {{ kind = \"octave\" }}\ngrids = [\"train\", \"test\"]\n"
    )
}

fn spec(extra: &str, epochs: u64) -> SweepSpec {
    SweepSpec::from_toml_str(&spec_text(extra, epochs), "test", "t", Path::new(".")).unwrap()
}

fn opts(jobs: usize) -> SweepOptions {
    SweepOptions {
        jobs,
        ..Default::default()
    }
}

fn hidden_entries(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for d in [dir.to_path_buf(), dir.join("runs"), dir.join("aggregate")] {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with('.') {
                found.push(format!("{}/{n}", d.display()));
            }
        }
    }
    found
}

#[test]
fn shards_are_disjoint_and_cover_the_list() {
    let s = spec(
        "seeds = [0, 1, 2]\n[[axis]]\npath = \"optimizer.p\"\nvalues = [0.0, 0.25, 0.5]\n",
        2,
    );
    let runs = s.expand(&Registry::builtin()).unwrap();
    assert_eq!(runs.len(), 9);
    for n in 1..=10 {
        let mut seen = vec![0; runs.len()];
        for i in 0..n {
            let shard: Shard = format!("{i}/{n}").parse().unwrap();
            for r in runs.iter().filter(|r| shard.contains(r.index)) {
                seen[r.index] += 1;
            }
        }
        assert!(seen.iter().all(|&c| c == 1), "n = {n}: {seen:?}");
    }
    for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
        assert!(bad.parse::<Shard>().unwrap_err().contains("I/N"), "{bad}");
    }
    // --list prints the shard's runs with their status, writing nothing.
    let tmp = tempfile::tempdir().unwrap();
    let text = list_runs(
        &s,
        &Registry::builtin(),
        &tmp.path().join("x"),
        "1/4".parse().unwrap(),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 2 + 1, "{text}");
    assert!(
        lines[1].contains("1/4")
            && lines[1].contains("pending")
            && lines[1].ends_with("p=0__seed=1"),
        "{text}"
    );
    assert!(lines[2].ends_with("p=0.25__seed=2"), "{text}");
    assert!(!tmp.path().join("x").exists());
}

#[test]
fn records_do_not_depend_on_jobs_and_resume_skips_done_runs() {
    let s = spec(
        "seeds = 2\n[[axis]]\npath = \"optimizer.p\"\nvalues = [-0.25, 0.5]\n",
        30,
    );
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let ra = run_sweep(&s, &Registry::builtin(), &a, &opts(1)).unwrap();
    let rb = run_sweep(&s, &Registry::builtin(), &b, &opts(2)).unwrap();
    assert_eq!(
        (ra.total, ra.completed, rb.completed, ra.skipped),
        (4, 4, 4, 0)
    );
    assert_eq!(sweep_fingerprint(&a, &[]), sweep_fingerprint(&b, &[]));
    // A second invocation trains nothing.
    let again = run_sweep(&s, &Registry::builtin(), &a, &opts(2)).unwrap();
    assert_eq!((again.completed, again.skipped), (0, 4));
    // Shards run disjoint parts and together give the same records.
    let c = tmp.path().join("c");
    let r0 = run_sweep(
        &s,
        &Registry::builtin(),
        &c,
        &SweepOptions {
            jobs: 1,
            shard: "0/2".parse().unwrap(),
            progress: Default::default(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((r0.selected, r0.completed), (2, 2));
    assert_eq!(aggregate(&c).unwrap().configs[0].pending, 1);
    run_sweep(
        &s,
        &Registry::builtin(),
        &c,
        &SweepOptions {
            jobs: 1,
            shard: "1/2".parse().unwrap(),
            progress: Default::default(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(sweep_fingerprint(&a, &[]), sweep_fingerprint(&c, &[]));
    // A changed spec is refused in the same directory.
    let changed = SweepSpec::from_toml_str(
        &spec_text(
            "seeds = 2\n[[axis]]\npath = \"optimizer.p\"\nvalues = [-0.25, 0.5]\n",
            31,
        ),
        "test",
        "t",
        Path::new("."),
    )
    .unwrap();
    let e = run_sweep(&changed, &Registry::builtin(), &a, &opts(1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("different spec"), "{e}");
    // So is a directory written by an engine with other numerics (here: before they were
    // recorded), and nothing in it is touched; `figures` checks the same way.
    assert!(bandwise::app::sweep::exec::check_numerics(&a).is_ok());
    let index = a.join("sweep.json");
    let mut old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&index).unwrap()).unwrap();
    assert_eq!(old["numerics"], bandwise::nn::NUMERICS);
    old.as_object_mut().unwrap().remove("numerics");
    let text = serde_json::to_string_pretty(&old).unwrap();
    std::fs::write(&index, &text).unwrap();
    let before = sweep_fingerprint(&a, &[]);
    let e = run_sweep(&s, &Registry::builtin(), &a, &opts(1))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("other numerics") && e.contains("before numerics were recorded"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&index).unwrap(), text);
    assert_eq!(sweep_fingerprint(&a, &[]), before);
    assert!(bandwise::app::sweep::exec::check_numerics(&a).is_err());
}

/// Aggregation runs config ids in parallel batches (two per thread) and streams bands.csv:
/// with one thread (batches of two, two and one configs) and with two threads (one
/// batch) the aggregate files are byte-identical, rows in config-id order.
#[test]
fn parallel_aggregation_gives_the_same_files_as_one_thread() {
    let s = spec(
        "seeds = 1\n[[axis]]\npath = \"optimizer.p\"\nvalues = [-0.25, 0.0, 0.25, 0.5, 0.75]\n",
        20,
    );
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_sweep(&s, &Registry::builtin(), &a, &opts(1)).unwrap();
    run_sweep(&s, &Registry::builtin(), &b, &opts(2)).unwrap();
    assert_eq!(sweep_fingerprint(&a, &[]), sweep_fingerprint(&b, &[]));
    let bands = std::fs::read_to_string(a.join("aggregate/bands.csv")).unwrap();
    let ids: Vec<&str> = bands
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("config_id"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "rows in config-id order");
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "every config id has rows");
}

#[test]
fn killed_sweep_resumes_to_the_same_records() {
    let tmp = tempfile::tempdir().unwrap();
    let spec_path = tmp.path().join("k.toml");
    std::fs::write(
        &spec_path,
        spec_text(
            "seeds = 4\n[[axis]]\npath = \"optimizer.p\"\nvalues = [0.0, 0.5]\n",
            400,
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_bandwise");
    let sweep = |out: &Path| {
        let mut c = Command::new(bin);
        c.args([
            "sweep",
            spec_path.to_str().unwrap(),
            "--jobs",
            "1",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .env_remove("RUST_BACKTRACE");
        c
    };
    let reference = tmp.path().join("ref");
    assert!(sweep(&reference).status().unwrap().success());

    let out = tmp.path().join("killed");
    let mut child = sweep(&out).spawn().unwrap();
    let done = |d: &Path| {
        std::fs::read_dir(d.join("runs"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("run.json").is_file())
            .count()
    };
    let started = std::time::Instant::now();
    while done(&out) < 2 && started.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = done(&out);
    assert!(
        (2..8).contains(&before),
        "killed after {before} of 8 runs: the test needs a kill mid-way"
    );
    let finished_before: Vec<String> = SweepIndex::load(&out)
        .unwrap()
        .runs
        .iter()
        .filter(|r| r.dir.join("run.json").is_file())
        .map(|r| fingerprint(&r.dir))
        .collect();

    // A stale staging dir of a dead process is removed; one of a live process (pid 1) is kept.
    let dead = out.join("runs/.p=0__seed=3.partial-4194999");
    let live = out.join("runs/.p=0__seed=3.partial-1");
    for d in [&dead, &live] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("epochs.csv"), "junk").unwrap();
    }
    let rerun = sweep(&out).output().unwrap();
    assert!(!dead.exists() && live.exists());
    std::fs::remove_dir_all(&live).unwrap();
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    assert_eq!(done(&out), 8);
    assert_eq!(
        sweep_fingerprint(&out, &[]),
        sweep_fingerprint(&reference, &[])
    );
    assert!(
        hidden_entries(&out).is_empty(),
        "{:?}",
        hidden_entries(&out)
    );
    // Runs finished before the kill were kept, not redone (same records).
    let after: Vec<String> = SweepIndex::load(&out)
        .unwrap()
        .runs
        .iter()
        .map(|r| fingerprint(&r.dir))
        .collect();
    assert!(finished_before.iter().all(|f| after.contains(f)));
}

#[test]
fn a_diverged_run_is_recorded_and_the_sweep_completes() {
    let s = spec("seeds = 2\n[[axis]]\npath = \"optimizer.name\"\nvalues = [\"sgd\", \"adam\"]\nzip = \"o\"\n[[axis]]\npath = \"optimizer.lr\"\nvalues = [1e3, 3e-3]\nzip = \"o\"\n", 20);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    // The base optimizer is padam with p; sgd has no p: drop it from the base.
    let mut s = s;
    s.base
        .get_mut("optimizer")
        .unwrap()
        .as_table_mut()
        .unwrap()
        .remove("p");
    let report = run_sweep(&s, &Registry::builtin(), &out, &opts(2)).unwrap();
    assert_eq!(
        (report.diverged, report.completed, report.failed.len()),
        (2, 2, 0)
    );
    let index = SweepIndex::load(&out).unwrap();
    let div = index
        .runs
        .iter()
        .find(|r| r.id == "name=sgd__lr=1000__seed=0")
        .unwrap();
    assert_eq!(
        bandwise::record::load::RunData::load(&div.dir)
            .unwrap()
            .status(),
        "diverged"
    );
    let configs = Table::read(&out.join("aggregate/configs.csv")).unwrap();
    assert_eq!(
        configs.strs("config_id").unwrap(),
        ["name=sgd__lr=1000", "name=adam__lr=0.003"]
    );
    assert_eq!(configs.f64s("n_diverged").unwrap(), [2.0, 0.0]);
    assert_eq!(configs.f64s("n_completed").unwrap(), [0.0, 2.0]);
    let epochs = Table::read(&out.join("aggregate/epochs.csv")).unwrap();
    assert!(
        epochs
            .strs("config_id")
            .unwrap()
            .iter()
            .all(|c| c == "name=adam__lr=0.003"),
        "diverged runs are excluded"
    );
}

/// Write a fake run directory with the given losses per epoch and rel_errors of one band.
fn fake_run(dir: &Path, status: &str, losses: &[f64], rel: &[f64]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("run.json"),
        serde_json::json!({"format": FORMAT, "name": "fake", "status": status, "seed": 0, "config": {}})
            .to_string(),
    )
    .unwrap();
    let mut e = String::from("# fake\nepoch,step,train_loss,test_loss,lr,p,wall_s\n");
    let mut b = String::from(
        "grid,epoch,band,label,f_lo,f_hi,residual_energy,target_energy,rel_error,share\n",
    );
    for (i, (l, r)) in losses.iter().zip(rel).enumerate() {
        e += &format!("{i},{i},{l},{},0.1,,0.5\n", 2.0 * l);
        b += &format!("train,{i},0,low,0,2,{},1,{r},1\n", r / 10.0);
    }
    std::fs::write(dir.join("epochs.csv"), e).unwrap();
    std::fs::write(dir.join("bands.csv"), b).unwrap();
}

#[test]
fn aggregation_numbers_on_a_fixture() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let runs = [
        ("c__s0", "c", "completed"),
        ("c__s1", "c", "completed"),
        ("c__s2", "c", "completed"),
        ("c__s3", "c", "diverged"),
        ("c__s4", "c", "pending"),
        ("d__s0", "d", "completed"),
    ];
    let list: Vec<serde_json::Value> = runs.iter().map(|(id, c, _)| serde_json::json!({"id": id, "config_id": c, "seed": 0, "dir": format!("runs/{id}"), "values": {"x": c}})).collect();
    std::fs::write(
        dir.join("sweep.json"),
        serde_json::json!({"format": "bandwise-sweep/1", "name": "fx", "runs": list}).to_string(),
    )
    .unwrap();
    fake_run(
        &dir.join("runs/c__s0"),
        "completed",
        &[1.0, 0.5],
        &[0.2, f64::NAN],
    );
    fake_run(
        &dir.join("runs/c__s1"),
        "completed",
        &[2.0, 0.5],
        &[0.4, 0.1],
    );
    fake_run(
        &dir.join("runs/c__s2"),
        "completed",
        &[6.0, 0.5],
        &[0.6, 0.3],
    );
    fake_run(&dir.join("runs/c__s3"), "diverged", &[100.0], &[9.0]);
    fake_run(
        &dir.join("runs/d__s0"),
        "completed",
        &[4.0, 3.0],
        &[1.0, 1.0],
    );
    let summary = aggregate(dir).unwrap();
    assert_eq!(
        (
            summary.configs[0].completed,
            summary.configs[0].diverged,
            summary.configs[0].pending,
            summary.configs[0].planned
        ),
        (3, 1, 1, 5)
    );
    let t = Table::read(&dir.join("aggregate/epochs.csv")).unwrap();
    let row = |c: &str, e: &str, q: &str| {
        t.rows()
            .find(|r| r[0] == c && r[1] == e && r[2] == q)
            .unwrap_or_else(|| panic!("{c} {e} {q}"))
    };
    let f = |r: &[&str], col: &str| bandwise::record::parse_num(r[t.col(col).unwrap()]).unwrap();
    // Epoch 0 train loss over seeds 1, 2, 6: mean 3, s^2 = 7, half-width t(0.975, 2) sqrt(7/3).
    let r = row("c", "0", "train_loss");
    let half = 4.302652730 * (7.0f64 / 3.0).sqrt();
    assert_eq!(
        (
            f(&r, "n_seeds"),
            f(&r, "n_diverged"),
            f(&r, "mean"),
            f(&r, "min"),
            f(&r, "max")
        ),
        (3.0, 1.0, 3.0, 1.0, 6.0)
    );
    assert!(
        (f(&r, "ci95_lo") - (3.0 - half)).abs() < 1e-12
            && (f(&r, "ci95_hi") - (3.0 + half)).abs() < 1e-12
    );
    let r = row("c", "0", "test_loss");
    assert_eq!(f(&r, "mean"), 6.0);
    // Identical values: a zero-width interval.
    let r = row("c", "1", "train_loss");
    assert_eq!(
        (f(&r, "mean"), f(&r, "ci95_lo"), f(&r, "ci95_hi")),
        (0.5, 0.5, 0.5)
    );
    // One seed: no interval.
    let r = row("d", "1", "train_loss");
    assert_eq!((f(&r, "n_seeds"), f(&r, "mean")), (1.0, 3.0));
    assert!(f(&r, "ci95_lo").is_nan());
    // Bands: NaN values are skipped (n_seeds counts the defined ones).
    let b = Table::read(&dir.join("aggregate/bands.csv")).unwrap();
    let brow = b
        .rows()
        .find(|r| {
            r[0] == "c"
                && r[1] == "train"
                && r[2] == "0"
                && r[3] == "low"
                && r[4] == "1"
                && r[5] == "rel_error"
        })
        .unwrap();
    assert_eq!(
        (brow[6], brow[8], brow[9], brow[10]),
        ("2", "0.2", "0.1", "0.3")
    );
    let brow = b
        .rows()
        .find(|r| r[0] == "c" && r[4] == "0" && r[5] == "residual_energy")
        .unwrap();
    assert!((bandwise::record::parse_num(brow[8]).unwrap() - 0.04).abs() < 1e-15);
    let text = std::fs::read_to_string(dir.join("aggregate/epochs.csv")).unwrap();
    assert!(
        text.starts_with('#') && text.contains("95% Student-t"),
        "{text}"
    );
}

#[test]
fn lr_search_picks_the_best_lr_and_reports_failures() {
    // One lr diverges (sgd at 1e3), one barely moves (1e-5), one learns (0.05).
    let extra = "seeds = 2\n[lr_search]\ngrid = [1e3, 1e-5, 0.05]\nseeds = 2\nepochs = 40\n[[axis]]\npath = \"optimizer.momentum\"\nvalues = [0.0, 0.5]\n";
    let mut s = spec(extra, 10);
    let opt = s.base.get_mut("optimizer").unwrap().as_table_mut().unwrap();
    opt.insert("name".into(), toml::Value::String("sgd".into()));
    opt.remove("p");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("l");
    let report = run_sweep(&s, &Registry::builtin(), &out, &opts(2)).unwrap();
    assert_eq!(
        (report.search_ran, report.completed, report.failed.len()),
        (12, 4, 0),
        "{:?}",
        report.failed
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("lr_search.json")).unwrap())
            .unwrap();
    for c in doc["configs"].as_array().unwrap() {
        assert_eq!(c["chosen_lr"], 0.05, "{c}");
        // The per-config grid is ascending (edges can be extended): 1e3 is last.
        assert_eq!(c["grid"], serde_json::json!([1e-5, 0.05, 1e3]), "{c}");
        assert_eq!(c["chosen_at_edge"], serde_json::Value::Null, "{c}");
        assert_eq!(
            c["criterion_per_lr_and_seed"][2],
            serde_json::json!(["inf", "inf"]),
            "{c}"
        );
    }
    assert!(out
        .join("lr_search/momentum=0.5/lr=0.05__seed=1001/run.json")
        .is_file());
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("runs/momentum=0.5__seed=1/run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        run["config"]["optimizer"]["lr"], 0.05,
        "{}",
        run["config"]["optimizer"]
    );
    // Resumed: nothing is retrained.
    let again = run_sweep(&s, &Registry::builtin(), &out, &opts(2)).unwrap();
    assert_eq!(
        (again.search_ran, again.search_skipped, again.skipped),
        (0, 12, 4)
    );

    // A grid where every lr diverges: the runs fail with a clear error, the sweep goes on.
    let mut bad = spec("seeds = 1\n[lr_search]\ngrid = [1e3, 1e4]\nseeds = 1\nepochs = 10\n[[axis]]\npath = \"optimizer.name\"\nvalues = [\"sgd\", \"adam\"]\n", 5);
    bad.base
        .get_mut("optimizer")
        .unwrap()
        .as_table_mut()
        .unwrap()
        .remove("p");
    let out = tmp.path().join("bad");
    let report = run_sweep(&bad, &Registry::builtin(), &out, &opts(1)).unwrap();
    let sgd_fail = report
        .failed
        .iter()
        .find(|f| f.id == "name=sgd__seed=0")
        .expect("sgd's search diverges everywhere");
    assert!(
        sgd_fail.error.contains("every lr of the grid diverged"),
        "{}",
        sgd_fail.error
    );
}

#[test]
fn lr_search_runs_drop_snapshot_epochs_past_their_budget() {
    // Snapshots at 0, 5 and 10 for a 10-epoch budget; the search runs last 4 epochs.
    let text = spec_text(
        "seeds = 1\n[lr_search]\ngrid = [1e-3, 1e-2, 1e-1]\nseeds = 1\nepochs = 4\n",
        10,
    ) + "[base.record]\nsnapshots = [0, 5, 10]\n";
    let s = SweepSpec::from_toml_str(&text, "test", "t", Path::new(".")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let report = run_sweep(&s, &Registry::builtin(), &out, &opts(2)).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    // Three grid points, and possibly extensions beyond the edge the choice sits at.
    assert!(
        report.search_ran >= 3 && report.completed == 1,
        "{report:?}"
    );
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(p)).unwrap()).unwrap()
    };
    let search = read("lr_search/base/lr=0.01__seed=1000/run.json");
    assert_eq!(
        search["config"]["record"]["snapshots"],
        serde_json::json!([0])
    );
    let run = read("runs/seed=0/run.json");
    assert_eq!(
        run["config"]["record"]["snapshots"],
        serde_json::json!([0, 5, 10])
    );
}
