//! Road 2: `bandwise target` and `bandwise analyze`. An imported trajectory must produce the
//! very records `bandwise run` writes for the same predictions, and bad inputs must fail with
//! clear errors without writing anything.

use bandwise::analysis::{report_from_runs, ReportOptions};
use bandwise::app::import::{analyze, grid_array, write_grid, ImportInputs};
use bandwise::engine::run::{run_experiment, RunOptions};
use bandwise::engine::train::{train, Evaluation, Observer};
use bandwise::experiment::config::Experiment;
use bandwise::optim::Registry;
use bandwise::record::load::RunData;
use bandwise::task::objective::{CrossEntropy, Mse};
use bandwise::task::target::Target;
use ndarray::{Array1, Array2, ShapeBuilder};
use ndarray_npy::{read_npy, write_npy};
use std::path::{Path, PathBuf};

const CONFIG: &str = r#"
name = "imp"
seed = 4
[target]
n = 64
frequencies = [1, 3, 7]
test = { n = 48 }
[model]
hidden = [16]
[optimizer]
name = "adam"
lr = 1e-2
[train]
epochs = 25
[spectral]
layout = { kind = "octave" }
grids = ["train", "test"]
thresholds = [0.3, 0.1]
"#;

fn exp() -> Experiment {
    Experiment::from_toml_str(CONFIG, "imp.toml").unwrap()
}

/// Captures the predictions the trainer hands to its observer.
#[derive(Default)]
struct Capture {
    epochs: Vec<u64>,
    train: Vec<Vec<f64>>,
    test: Vec<Vec<f64>>,
}

impl Observer for Capture {
    fn observe(&mut self, ev: &Evaluation) -> anyhow::Result<()> {
        self.epochs.push(ev.epoch);
        self.train.push(ev.train_pred.to_vec());
        self.test.push(ev.test_pred.to_vec());
        Ok(())
    }
}

fn capture(exp: &Experiment) -> Capture {
    let opt = exp.validate(&Registry::builtin()).unwrap();
    let target = Target::build(&exp.target, exp.seed);
    let mut cap = Capture::default();
    train::<f32, _>(exp, &target, &Mse, &opt, &mut cap, &mut |_| {}).unwrap();
    cap
}

fn matrix(rows: &[Vec<f64>], fortran: bool) -> Array2<f64> {
    let (r, c) = (rows.len(), rows[0].len());
    let mut a = if fortran {
        Array2::<f64>::zeros((r, c).f())
    } else {
        Array2::<f64>::zeros((r, c))
    };
    for (i, row) in rows.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            a[[i, j]] = v;
        }
    }
    a
}

fn save(path: &Path, rows: &[Vec<f64>], f32: bool, fortran: bool) {
    let a = matrix(rows, fortran);
    if f32 {
        write_npy(path, &a.mapv(|x| x as f32)).unwrap();
    } else {
        write_npy(path, &a).unwrap();
    }
}

/// Data lines of a CSV (comments dropped), cells split.
fn cells(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Equal cell by cell: numbers to 1e-12 relative, everything else exactly.
fn assert_same_csv(a: &Path, b: &Path) {
    assert_close_csv(a, b, 1e-12, 0.0);
}

/// Equal cell by cell: numbers to `rel` relative or `abs` absolute, everything else exactly.
fn assert_close_csv(a: &Path, b: &Path, rel: f64, abs: f64) {
    let (x, y) = (cells(a), cells(b));
    assert_eq!(x.len(), y.len(), "{} vs {}", a.display(), b.display());
    for (i, (r, s)) in x.iter().zip(&y).enumerate() {
        assert_eq!(r.len(), s.len());
        for (u, v) in r.iter().zip(s) {
            match (u.parse::<f64>(), v.parse::<f64>()) {
                (Ok(p), Ok(q)) => assert!(
                    p == q || (p - q).abs() <= (rel * p.abs().max(q.abs())).max(abs),
                    "{} line {i}: {u} vs {v}",
                    a.display()
                ),
                _ => assert_eq!(u, v, "{} line {i}", a.display()),
            }
        }
    }
}

/// A classification task's logits, analysed, give the records `bandwise run` writes for the
/// same network: losses (softmax cross-entropy), accuracies, class accuracy, decision-boundary
/// agreement and the summed-channel band energies. The trainer hands its observer softmax(z);
/// log softmax(z) are logits of the same softmax, so they stand in for z (equal to round-off).
#[test]
fn analyze_reproduces_a_classification_run_from_its_logits() {
    let exp = Experiment::from_toml_str(
        r#"
name = "cls"
seed = 3
dtype = "f64"
[target]
n = 64
frequencies = [1, 3]
classes = 3
[model]
hidden = [16]
[optimizer]
name = "adam"
lr = 1e-2
[train]
epochs = 20
[spectral]
layout = { kind = "octave" }
grids = ["train", "test"]
thresholds = [0.5]
"#,
        "cls.toml",
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let trained = tmp.path().join("trained");
    run_experiment(&exp, &Registry::builtin(), &trained, RunOptions::default()).unwrap();
    let opt = exp.validate(&Registry::builtin()).unwrap();
    let (target, k) = bandwise::task::classify::build(&exp.target, exp.seed)
        .unwrap()
        .unwrap();
    assert_eq!(k, 3);
    let mut cap = Capture::default();
    train::<f64, _>(
        &exp,
        &target,
        &CrossEntropy { classes: k },
        &opt,
        &mut cap,
        &mut |_| {},
    )
    .unwrap();
    let logits = |rows: &[Vec<f64>], n: usize| {
        let flat: Vec<f64> = rows.iter().flatten().map(|h| h.ln()).collect();
        ndarray::Array3::from_shape_vec((rows.len(), n, k), flat).unwrap()
    };
    let (p, q) = (
        tmp.path().join("logits.npy"),
        tmp.path().join("test_logits.npy"),
    );
    write_npy(&p, &logits(&cap.train, target.train.len())).unwrap();
    write_npy(&q, &logits(&cap.test, target.test.len())).unwrap();
    let out = tmp.path().join("imported");
    analyze(&exp, &inputs(p.clone(), Some(q)), &out).unwrap();
    for f in [
        "epochs.csv",
        "bands.csv",
        "class_accuracy.csv",
        "agreement.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    for f in ["class_accuracy.csv", "agreement.csv", "convergence.csv"] {
        assert_same_csv(&trained.join(f), &out.join(f));
    }
    assert_close_csv(
        &trained.join("bands.csv"),
        &out.join("bands.csv"),
        1e-9,
        1e-15,
    );
    let (a, b) = (
        RunData::load(&trained).unwrap(),
        RunData::load(&out).unwrap(),
    );
    for (x, y) in a.epochs.train_loss.iter().zip(&b.epochs.train_loss) {
        assert!((x - y).abs() <= 1e-12 * x.abs(), "{x} vs {y}");
    }
    for m in ["train_accuracy", "test_accuracy"] {
        assert_eq!(a.epochs.metric(m), b.epochs.metric(m), "{m}");
    }
    assert_eq!(b.meta["classification"]["classes"], 3);
    assert_eq!(b.meta["model"]["widths"], serde_json::json!([1, 16, 3]));
    // Without test logits, or with one logit too few per point, nothing is written.
    let e = analyze(&exp, &inputs(p, None), &tmp.path().join("x"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("test-grid logits"), "{e}");
    let short = tmp.path().join("short.npy");
    write_npy(
        &short,
        &ndarray::Array3::<f64>::zeros((2, target.train.len(), 2)),
    )
    .unwrap();
    let e = analyze(&exp, &inputs(short, None), &tmp.path().join("y"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("short.npy") && e.contains(", 3)"), "{e}");
    assert!(!tmp.path().join("x").exists() && !tmp.path().join("y").exists());
}

fn inputs(pred: PathBuf, test: Option<PathBuf>) -> ImportInputs {
    ImportInputs {
        predictions: pred,
        test_predictions: test,
        source: Some("test fixture".into()),
        ..Default::default()
    }
}

#[test]
fn analyze_reproduces_the_records_of_bandwise_run() {
    let exp = exp();
    let tmp = tempfile::tempdir().unwrap();
    let trained = tmp.path().join("trained");
    run_experiment(&exp, &Registry::builtin(), &trained, RunOptions::default()).unwrap();
    let cap = capture(&exp);
    assert_eq!(cap.epochs, (0..=25).collect::<Vec<u64>>());
    for (f32, fortran) in [(false, false), (true, false), (false, true), (true, true)] {
        let tag = format!(
            "{}_{}",
            if f32 { "f32" } else { "f64" },
            if fortran { "F" } else { "C" }
        );
        let p = tmp.path().join(format!("pred_{tag}.npy"));
        let q = tmp.path().join(format!("test_{tag}.npy"));
        save(&p, &cap.train, f32, fortran);
        save(&q, &cap.test, f32, fortran);
        let out = tmp.path().join(format!("imported_{tag}"));
        let summary = analyze(&exp, &inputs(p, Some(q)), &out).unwrap();
        assert!(summary.notes.is_empty(), "{:?}", summary.notes);
        for f in ["bands.csv", "peaks.csv", "convergence.csv", "snapshots.csv"] {
            assert_same_csv(&trained.join(f), &out.join(f));
        }
        // Losses computed from the predictions equal the trainer's.
        let a = RunData::load(&trained).unwrap();
        let b = RunData::load(&out).unwrap();
        assert_eq!(a.epochs.train_loss, b.epochs.train_loss, "{tag}");
        assert_eq!(a.epochs.test_loss, b.epochs.test_loss, "{tag}");
        assert_eq!(b.meta["source"]["kind"], "imported");
        assert_eq!(b.meta["status"], "completed");
        assert_eq!(
            b.meta["source"]["predictions"]["dtype"],
            if f32 { "float32" } else { "float64" }
        );
    }

    // One file per epoch (here every 5th epoch), with the epoch in the name.
    let dir = tmp.path().join("per_epoch");
    let test_dir = tmp.path().join("per_epoch_test");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&test_dir).unwrap();
    for (i, &e) in cap.epochs.iter().enumerate().filter(|(_, e)| *e % 5 == 0) {
        write_npy(
            dir.join(format!("pred_{e:05}.npy")),
            &Array1::from(cap.train[i].clone()),
        )
        .unwrap();
        write_npy(
            test_dir.join(format!("pred_{e:05}.npy")),
            &Array1::from(cap.test[i].clone()),
        )
        .unwrap();
    }
    std::fs::write(dir.join("README.txt"), "ignored").unwrap();
    let out = tmp.path().join("imported_dir");
    analyze(&exp, &inputs(dir, Some(test_dir)), &out).unwrap();
    let data = RunData::load(&out).unwrap();
    assert_eq!(data.epochs.epoch, [0, 5, 10, 15, 20, 25]);
    let full = RunData::load(&trained).unwrap();
    let g = full.grid_bands("train").unwrap();
    let h = data.grid_bands("train").unwrap();
    for (b, row) in h.rel_error.iter().enumerate() {
        for (k, v) in row.iter().enumerate() {
            let w = g.rel_error[b][5 * k];
            assert!(v == &w || (v.is_nan() && w.is_nan()));
        }
    }

    // Reports and the loader take the imported runs like any other.
    let runs = vec![
        full,
        RunData::load(&tmp.path().join("imported_f32_C")).unwrap(),
    ];
    let report = report_from_runs(&runs, &ReportOptions::default(), &[]).unwrap();
    let labels: Vec<&str> = report.configs.iter().map(|c| c.label.as_str()).collect();
    assert!(labels.contains(&"imported: test fixture"), "{labels:?}");
    assert_eq!(report.configs[0].task, report.configs[1].task, "same task");
    assert!(
        (report.configs[0].index.mean - report.configs[1].index.mean).abs() < 1e-12,
        "same predictions, same index"
    );
}

#[test]
fn epochs_file_supplies_epochs_losses_and_lr() {
    let exp = exp();
    let cap = capture(&exp);
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.npy");
    // Every other epoch, numbered by the epochs file.
    let rows: Vec<Vec<f64>> = cap.train.iter().step_by(2).cloned().collect();
    let test: Vec<Vec<f64>> = cap.test.iter().step_by(2).cloned().collect();
    save(&p, &rows, true, false);
    let q = tmp.path().join("q.npy");
    save(&q, &test, true, false);
    let csv = tmp.path().join("epochs.csv");
    let mut text = String::from("# from elsewhere\nepoch,lr,train_loss\n");
    for e in (0..=24).step_by(2) {
        text += &format!("{e},0.001,{}\n", 1.0 / (1.0 + e as f64));
    }
    std::fs::write(&csv, text).unwrap();
    let out = tmp.path().join("o");
    let mut inp = inputs(p.clone(), Some(q.clone()));
    inp.epochs_csv = Some(csv.clone());
    let summary = analyze(&exp, &inp, &out).unwrap();
    assert_eq!(summary.notes.len(), 1, "budget taken from the predictions");
    let data = RunData::load(&out).unwrap();
    assert_eq!(data.epochs.epoch.last(), Some(&24));
    assert_eq!(data.epochs.lr()[3], 0.001);
    assert_eq!(data.epochs.train_loss[1], 1.0 / 3.0);
    assert!(data.epochs.p()[0].is_nan());
    assert_eq!(data.meta["config"]["train"]["epochs"], 24);
    assert_eq!(data.meta["config"]["optimizer"]["lr"], 0.001);

    // A misspelt column is an error with a suggestion.
    std::fs::write(&csv, "epoch,trainloss\n0,1\n").unwrap();
    let mut inp = inputs(p, Some(q));
    inp.epochs_csv = Some(csv);
    let e = analyze(&exp, &inp, &tmp.path().join("x"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown column `trainloss`") && e.contains("train_loss"),
        "{e}"
    );
    assert!(!tmp.path().join("x").exists());
}

/// Nothing but the inputs in `dir` (no output, no staging leftovers).
fn assert_untouched(dir: &Path, inputs: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want);
}

#[test]
fn bad_inputs_give_clear_errors_and_write_nothing() {
    let mut exp = exp();
    exp.spectral.grids = vec![bandwise::experiment::config::GridName::Train];
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let good: Vec<Vec<f64>> = (0..4).map(|e| vec![0.1 * e as f64; 64]).collect();
    let check = |file: &str, want: &[&str]| {
        let e = analyze(&exp, &inputs(d.join(file), None), &d.join("out"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(file), "names the file: {e}");
        for w in want {
            assert!(e.contains(w), "{file}: `{w}` not in: {e}");
        }
    };
    // A 1D array where epochs x points is expected.
    write_npy(d.join("one_d.npy"), &Array1::from(vec![0.0f64; 64])).unwrap();
    check("one_d.npy", &["1D array", "shape (epochs, 64)"]);
    // Transposed.
    let t: Vec<Vec<f64>> = (0..64).map(|_| vec![0.0; 4]).collect();
    save(&d.join("transposed.npy"), &t, false, false);
    check(
        "transposed.npy",
        &["shape (64, 4)", "64 points", "transposed"],
    );
    // Wrong grid length.
    let w: Vec<Vec<f64>> = (0..4).map(|_| vec![0.0; 60]).collect();
    save(&d.join("short.npy"), &w, true, false);
    check("short.npy", &["shape (4, 60)", "shape (epochs, 64)"]);
    // A NaN row.
    let mut nan = good.clone();
    nan[2][7] = f64::NAN;
    save(&d.join("nan.npy"), &nan, false, true);
    check("nan.npy", &["row 2", "non-finite"]);
    // Integers.
    write_npy(d.join("ints.npy"), &Array2::<i64>::zeros((4, 64))).unwrap();
    check("ints.npy", &["dtype", "float32 or float64"]);
    // Truncated file.
    save(&d.join("full.npy"), &good, false, false);
    let bytes = std::fs::read(d.join("full.npy")).unwrap();
    std::fs::write(d.join("truncated.npy"), &bytes[..bytes.len() - 100]).unwrap();
    check("truncated.npy", &["truncated", "shape (epochs, 64)"]);
    std::fs::write(d.join("header_only.npy"), &bytes[..20]).unwrap();
    check("header_only.npy", &["shape (epochs, 64)"]);
    // Missing file.
    check("missing.npy", &["does not exist"]);
    // Per-epoch directory: a file without an epoch number, a file of the wrong length.
    let pe = d.join("per_epoch");
    std::fs::create_dir(&pe).unwrap();
    write_npy(pe.join("pred_0.npy"), &Array1::from(vec![0.0f64; 64])).unwrap();
    write_npy(pe.join("pred_1.npy"), &Array1::from(vec![0.0f32; 63])).unwrap();
    check("per_epoch", &["pred_1.npy", "63 values", "shape (64,)"]);
    std::fs::remove_file(pe.join("pred_1.npy")).unwrap();
    write_npy(pe.join("final.npy"), &Array1::from(vec![0.0f64; 64])).unwrap();
    check("per_epoch", &["final.npy", "epoch number"]);
    assert_untouched(
        d,
        &[
            "one_d.npy",
            "transposed.npy",
            "short.npy",
            "nan.npy",
            "ints.npy",
            "full.npy",
            "truncated.npy",
            "header_only.npy",
            "per_epoch",
        ],
    );
    // Test grid analysed but no test predictions.
    let e = analyze(
        &self::exp(),
        &inputs(d.join("full.npy"), None),
        &d.join("out"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("--test-predictions") && e.contains("(epochs, 48)"),
        "{e}"
    );
    assert!(!d.join("out").exists());
}

#[test]
fn target_writes_the_grid_a_foreign_script_needs() {
    let exp = exp();
    let tmp = tempfile::tempdir().unwrap();
    let (p, q) = (tmp.path().join("grid.npy"), tmp.path().join("test.npy"));
    let target = write_grid(&exp, &p, Some(&q)).unwrap();
    let a: Array2<f64> = read_npy(&p).unwrap();
    assert_eq!(a.dim(), (64, 3));
    assert_eq!(a, grid_array(&target.train, [-1.0, 1.0]));
    assert_eq!(a[[1, 0]], 1.0 / 64.0);
    assert_eq!(a[[1, 1]], -1.0 + 2.0 / 64.0);
    assert_eq!(a[[5, 2]], target.train.y[5]);
    let b: Array2<f64> = read_npy(&q).unwrap();
    assert_eq!(b.dim(), (48, 3));
    assert_eq!(b[[0, 0]], 0.5 / 48.0);
}

/// The PyTorch script end to end, when torch is installed (never a requirement).
#[test]
fn torch_script_writes_the_analyze_format() {
    let has_torch = std::process::Command::new("python3")
        .args(["-c", "import torch"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_torch {
        println!("skipped: torch not installed (python3 -c \"import torch\" failed)");
        return;
    }
    let exp = exp();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("imp.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let (p, q) = (tmp.path().join("grid.npy"), tmp.path().join("test.npy"));
    write_grid(&exp, &p, Some(&q)).unwrap();
    let out = tmp.path().join("torch");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/torch_trajectory.py");
    let status = std::process::Command::new("python3")
        .arg(script)
        .args(["--config", cfg.to_str().unwrap()])
        .args([
            "--grid",
            p.to_str().unwrap(),
            "--test-grid",
            q.to_str().unwrap(),
        ])
        .args([
            "--optimizer",
            "SGD",
            "--lr",
            "0.05",
            "--opt",
            "momentum=0.9",
        ])
        .args(["--epochs", "10", "--out", out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut inp = inputs(
        out.join("predictions.npy"),
        Some(out.join("test_predictions.npy")),
    );
    inp.epochs_csv = Some(out.join("epochs.csv"));
    let run = tmp.path().join("run");
    let summary = analyze(&exp, &inp, &run).unwrap();
    assert_eq!(summary.epochs, (0..=10).collect::<Vec<u64>>());
    let data = RunData::load(&run).unwrap();
    assert_eq!(data.epochs.lr()[0], 0.05);
    assert!(data.epochs.train_loss[10] < data.epochs.train_loss[0]);
}
