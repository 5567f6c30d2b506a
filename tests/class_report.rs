//! `bandwise report` and `bandwise plot` on classification runs, end to end: tiny real runs of a
//! 2D three-class grid task (band record, class maps) and of a small scattered-data task
//! (filtering method); the report's classification section checked against the records it
//! reads, the C4-C6 verdicts, every format, claims that do not apply, mixed regression and
//! classification runs; the plot kinds and the standard set; errors for kinds that do not
//! fit the run.

mod common;

use bandwise::analysis::claims::Outcome;
use bandwise::analysis::{build, Claim, ReportOptions};
use bandwise::plot::{draw, standard_set, Format, Kind, PlotOptions};
use bandwise::record::load::RunData;
use bandwise::record::Table;
use common::{bandwise_bin, make_run, png_size};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const CYCLIC: &str = r#"name = "padam"
lr = 3e-2
p = { kind = "cosine", min = -0.5, max = 0.5, period = 20 }"#;
const P0: &str = "name = \"padam\"\nlr = 3e-1\np = 0.0";
const ADAM: &str = "name = \"padam\"\nlr = 3e-2\np = 0.5";

/// A 12 x 12 three-class grid task (test grid shifted by half a cell).
fn grid_config(optimizer: &str, seed: u64) -> String {
    format!(
        r#"
name = "grid"
seed = {seed}
[target]
kind = "waves2d"
n = [12, 12]
waves = [[1, 0], [0, 1], [1, 1]]
amplitudes = 1.0
phases = "random"
classes = 3
[model]
hidden = [16]
activation = "tanh"
[optimizer]
{optimizer}
[train]
epochs = 60
eval_every = 5
[spectral]
layout = {{ kind = "octave" }}
grids = ["train", "test"]
thresholds = [0.5, 0.1]
[record]
snapshots = [0, 30, 60]
"#
    )
}

/// Three Gaussian blobs in the plane: 60 training and 30 test points.
fn write_blobs(dir: &Path) -> [PathBuf; 4] {
    std::fs::create_dir_all(dir).unwrap();
    let centres = [(0.0, 0.0), (3.0, 0.5), (1.0, 3.0)];
    let mut files = Vec::new();
    for (split, n, offset) in [("train", 60usize, 0u64), ("test", 30, 7)] {
        let (mut x, mut y) = (String::new(), String::new());
        for i in 0..n {
            let c = i % 3;
            // A deterministic spread around the centre.
            let a = (i as f64 * 2.399 + offset as f64) % std::f64::consts::TAU;
            let r = 0.9 * ((i * 7 + offset as usize) % 10) as f64 / 10.0;
            let _ = writeln!(
                x,
                "{},{}",
                centres[c].0 + r * a.cos(),
                centres[c].1 + r * a.sin()
            );
            let _ = writeln!(y, "{c}");
        }
        let (px, py) = (
            dir.join(format!("x_{split}.csv")),
            dir.join(format!("y_{split}.csv")),
        );
        std::fs::write(&px, x).unwrap();
        std::fs::write(&py, y).unwrap();
        files.push(px);
        files.push(py);
    }
    [
        files[0].clone(),
        files[1].clone(),
        files[2].clone(),
        files[3].clone(),
    ]
}

fn data_config(files: &[PathBuf; 4], optimizer: &str, seed: u64) -> String {
    format!(
        r#"
name = "blobs"
seed = {seed}
[target]
kind = "dataset"
x_train = "{}"
y_train = "{}"
x_test = "{}"
y_test = "{}"
classes = 3
[model]
hidden = [8]
activation = "tanh"
input_range = [0.0, 1.0]
[optimizer]
{optimizer}
[train]
epochs = 40
eval_every = 2
[spectral]
thresholds = [0.5, 0.1]
"#,
        files[0].display(),
        files[1].display(),
        files[2].display(),
        files[3].display()
    )
}

fn regression_config(seed: u64) -> String {
    format!(
        r#"
name = "sines"
seed = {seed}
[target]
n = 32
frequencies = [1, 4]
[model]
hidden = [8]
[optimizer]
name = "adam"
lr = 1e-2
[train]
epochs = 20
[spectral]
layout = {{ kind = "octave" }}
"#
    )
}

/// The file names of `files` without their extensions.
fn file_stems(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The error of drawing `kind` from `run` alone (which must fail).
fn draw_error(kind: Kind, run: &RunData, path: &Path, opts: &PlotOptions) -> String {
    draw(kind, std::slice::from_ref(run), path, opts)
        .unwrap_err()
        .to_string()
}

/// Median as the report takes it (mean of the middle two for an even count).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// The sweep: grid task (cyclic, p = 0, Adam) and data task (cyclic, p = 0), two seeds each.
fn sweep(root: &Path) -> Vec<RunData> {
    let files = write_blobs(&root.join("data"));
    let mut runs = Vec::new();
    for seed in [0, 1] {
        for (name, opt) in [("cyc", CYCLIC), ("p0", P0), ("adam", ADAM)] {
            let dir = root.join(format!("runs/grid_{name}_s{seed}"));
            runs.push(make_run(&dir, &grid_config(opt, seed)));
        }
        for (name, opt) in [("cyc", CYCLIC), ("p0", P0)] {
            let dir = root.join(format!("runs/blobs_{name}_s{seed}"));
            runs.push(make_run(&dir, &data_config(&files, opt, seed)));
        }
    }
    runs
}

#[test]
fn report_on_a_classification_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = sweep(tmp.path());
    let dir = tmp.path().join("runs");
    let report = build(std::slice::from_ref(&dir), &ReportOptions::default(), &[]).unwrap();
    assert!(report.configs.is_empty(), "no regression configuration");
    assert_eq!(report.n_runs, 10);
    let sec = report
        .classification
        .as_ref()
        .expect("classification section");
    assert_eq!(sec.configs.len(), 5);
    assert_eq!(sec.tasks(), ["t1", "t2"]);
    for c in &sec.configs {
        let members: Vec<&RunData> = runs
            .iter()
            .filter(|r| c.runs.contains(&r.dir.display().to_string()))
            .collect();
        assert_eq!(members.len(), 2, "{}", c.label);
        // Final test accuracy: the median over seeds of epochs.csv's last test_accuracy.
        let finals: Vec<f64> = members
            .iter()
            .map(|r| *r.epochs.metric("test_accuracy").unwrap().last().unwrap())
            .collect();
        assert_eq!(c.final_test_accuracy.median, median(finals.clone()));
        assert!((c.final_test_error.mean - (1.0 - finals.iter().sum::<f64>() / 2.0)).abs() < 1e-12);
        // Per class, from class_accuracy.csv read independently: counts sum to the test points.
        let t = Table::read(&members[0].dir.join("class_accuracy.csv")).unwrap();
        let test_n = members[0].meta["target"]["test_n"].as_u64().unwrap() as usize;
        assert_eq!(c.per_class.len(), 3);
        assert_eq!(c.per_class.iter().map(|k| k.count).sum::<usize>(), test_n);
        let (epochs, splits, acc) = (
            t.f64s("epoch").unwrap(),
            t.strs("split").unwrap(),
            t.f64s("accuracy").unwrap(),
        );
        let last = epochs.iter().copied().fold(0.0, f64::max);
        let class0: Vec<f64> = (0..epochs.len())
            .filter(|&i| epochs[i] == last && splits[i] == "test")
            .map(|i| acc[i])
            .collect();
        assert_eq!(class0.len(), 3);
        let other = Table::read(&members[1].dir.join("class_accuracy.csv")).unwrap();
        let other_acc = other.f64s("accuracy").unwrap();
        let j = (0..other_acc.len())
            .rfind(|&i| {
                other.strs("split").unwrap()[i] == "test" && other.f64s("class").unwrap()[i] == 0.0
            })
            .unwrap();
        assert_eq!(
            c.per_class[0].test_accuracy.median,
            median(vec![class0[0], other_acc[j]])
        );
        // Matched-loss accuracies at the three levels, within [0, 1].
        assert_eq!(c.accuracy_at_loss.len(), 3);
        for a in &c.accuracy_at_loss {
            assert!(a.reached <= a.n && a.n == 2);
            if a.reached > 0 {
                assert!((0.0..=1.0).contains(&a.accuracy.mean), "{a:?}");
            }
        }
        assert_eq!(c.agreement.len(), 2);
        let blobs = c.config["target"]["kind"] == "dataset";
        // Grid tasks: the band record; data tasks: the filtering method per delta.
        assert_eq!(c.bands.is_empty(), blobs, "{}", c.label);
        assert_eq!(c.filtering.len(), if blobs { 8 } else { 0 });
        if blobs {
            // Epochs to e_low < 0.5 at the smallest delta, read from filtering.csv per seed.
            let firsts: Vec<Option<u64>> = members
                .iter()
                .map(|r| {
                    let f = r.filtering.as_ref().unwrap();
                    f.epochs
                        .iter()
                        .zip(&f.e_low[0])
                        .find(|(_, &e)| e < 0.5)
                        .map(|(&ep, _)| ep)
                })
                .collect();
            let low0 = &c.filtering[0];
            assert_eq!((low0.part, low0.level), ("low", 0));
            assert_eq!(c.filtering[4].part, "high");
            let t = &low0.convergence.to_threshold[0];
            assert_eq!(t.threshold, 0.5);
            assert_eq!(t.epochs.reached, firsts.iter().flatten().count());
            let f = low0.factor.unwrap();
            assert!(
                (f - 0.125).abs() < 1e-9,
                "smallest delta = 0.125 x the median distance, got {f}"
            );
        }
    }
    // One C4, C5 and C6 verdict per task, named by task.
    let claims: Vec<(&str, &str)> = report
        .verdicts
        .iter()
        .map(|v| (v.claim, &v.subject[..8]))
        .collect();
    assert_eq!(
        claims,
        [
            ("C4", "task t1:"),
            ("C4", "task t2:"),
            ("C5", "task t1:"),
            ("C5", "task t2:"),
            ("C6", "task t1:"),
            ("C6", "task t2:")
        ]
    );
    assert!(report
        .verdicts
        .iter()
        .all(|v| v.outcome != Outcome::NotEvaluated && !v.evidence.is_empty()));

    // Every format through the binary.
    let d = dir.to_str().unwrap();
    let (ok, json, err) = bandwise_bin(&["report", d, "--format", "json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema"], "bandwise-report/1");
    assert_eq!(v["classification"]["configs"].as_array().unwrap().len(), 5);
    assert!(v["classification"]["definitions"]["accuracy_at_loss"]
        .as_str()
        .unwrap()
        .contains("interpolated"));
    assert_eq!(
        v["classification"]["loss_levels"],
        serde_json::json!([0.75, 0.5, 0.25])
    );
    assert_eq!(v["verdicts"].as_array().unwrap().len(), 6);
    let (ok, md, err) = bandwise_bin(&["report", d, "--format", "md"]);
    assert!(ok, "{err}");
    for want in [
        "## Classification runs",
        "final test accuracy",
        "test accuracy at 75% loss (reached)",
        "Band record",
        "Filtering method",
        "| e_low | ",
        "### C4: ",
        "### C6: ",
        "## Conventions of the classification section",
    ] {
        assert!(md.contains(want), "{want} missing:\n{md}");
    }
    assert!(
        !md.contains("## Comparison (sorted by index"),
        "no regression table"
    );
    let (ok, csv, err) = bandwise_bin(&["report", d, "--format", "csv"]);
    assert!(ok, "{err}");
    for want in [
        ",final_test_accuracy,,median,",
        ",accuracy_at_loss,0.75,mean,",
        ",agreement_first_epoch,0.9,n,2",
        "class 0,class_test_accuracy,,count,",
        "e_low delta=",
        ",verdict,,C5,",
    ] {
        assert!(csv.contains(want), "{want} missing:\n{csv}");
    }
    let (ok, term, err) = bandwise_bin(&["report", d, "--format", "term"]);
    assert!(ok, "{err}");
    assert!(
        term.contains("final test error [95% CI]") && term.contains("C4 "),
        "{term}"
    );

    // A regression claim asked of classification runs: a "not evaluated" entry saying why.
    let (ok, md, err) = bandwise_bin(&[
        "report", d, "--format", "md", "--claim", "c2", "--claim", "c5",
    ]);
    assert!(ok, "{err}");
    assert!(md.contains("### C2: not evaluated"), "{md}");
    assert!(md.contains("these are classification runs, whose claims are C4, C5 and C6"));
    assert!(md.contains("### C5: ") && !md.contains("### C4: "));
    let (ok, _, err) = bandwise_bin(&["report", d, "--claim", "c7"]);
    assert!(
        !ok && err.contains("c4, c5 and c6 on classification runs"),
        "{err}"
    );
}

#[test]
fn mixed_regression_and_classification_runs_get_both_sections() {
    let tmp = tempfile::tempdir().unwrap();
    for seed in [0, 1] {
        make_run(
            &tmp.path().join(format!("reg/s{seed}")),
            &regression_config(seed),
        );
    }
    make_run(&tmp.path().join("cls/cyc"), &grid_config(CYCLIC, 0));
    make_run(&tmp.path().join("cls/p0"), &grid_config(P0, 0));
    let dirs = [tmp.path().join("reg"), tmp.path().join("cls")];
    let r = build(&dirs, &ReportOptions::default(), &[Claim::C4, Claim::C2]).unwrap();
    assert_eq!(r.configs.len(), 1);
    assert_eq!(r.configs[0].task, "t1");
    let sec = r.classification.as_ref().unwrap();
    assert_eq!(sec.configs.len(), 2);
    assert!(
        sec.configs.iter().all(|c| c.task == "t2"),
        "task ids continue after the regression ones"
    );
    assert_eq!(r.n_runs, 4);
    // C4 from the classification runs (one seed each: no interval), C2 from the regression one.
    let c4: Vec<_> = r.verdicts.iter().filter(|v| v.claim == "C4").collect();
    assert_eq!(c4.len(), 1);
    assert!(c4[0].subject.starts_with("task t2:"));
    let c2: Vec<_> = r.verdicts.iter().filter(|v| v.claim == "C2").collect();
    assert!(
        !c2.is_empty()
            && c2
                .iter()
                .all(|v| !v.evidence.join(" ").contains("classification runs"))
    );
    let md = bandwise::analysis::render::markdown(&r);
    assert!(md.contains("## Comparison (sorted by index") && md.contains("## Classification runs"));
    // C4 asked of regression runs only: not evaluated, with the reason.
    let r = build(&dirs[..1], &ReportOptions::default(), &[Claim::C4]).unwrap();
    assert_eq!(r.verdicts.len(), 1);
    assert_eq!(r.verdicts[0].outcome, Outcome::NotEvaluated);
    assert!(
        r.verdicts[0].evidence[0].contains("these are regression runs"),
        "{:?}",
        r.verdicts[0].evidence
    );
    assert!(r.classification.is_none());
    // Comparison figures of mixed runs are skipped, not drawn on one loss axis.
    let runs = bandwise::analysis::load_runs(&dirs, false).unwrap();
    let w = bandwise::plot::runs::comparison_set(
        &runs,
        &tmp.path().join("cmp"),
        Format::Png,
        &PlotOptions::default(),
    )
    .unwrap();
    assert!(
        w.files.is_empty() && w.skipped[0].contains("not comparable"),
        "{:?}",
        w.skipped
    );
}

#[test]
fn plot_kinds_on_classification_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let files = write_blobs(&tmp.path().join("data"));
    let grid = make_run(&tmp.path().join("grid"), &grid_config(CYCLIC, 0));
    let grid1 = make_run(&tmp.path().join("grid1"), &grid_config(P0, 0));
    let blobs = make_run(&tmp.path().join("blobs"), &data_config(&files, CYCLIC, 0));
    let reg = make_run(&tmp.path().join("reg"), &regression_config(0));
    let opts = PlotOptions::default();
    let out = tmp.path().join("fig");

    // The standard set: grid task with band record and class maps, data task with filtering.
    let w = standard_set(&grid, &out.join("grid"), Format::Png, &opts).unwrap();
    let stems = file_stems(&w.files);
    assert_eq!(
        stems,
        [
            "accuracy",
            "accuracy_vs_loss",
            "agreement",
            "heatmap",
            "curves",
            "class_maps"
        ],
        "{:?} {:?}",
        w.skipped,
        w.failed
    );
    assert!(w.failed.is_empty());
    for f in &w.files {
        let (width, h) = png_size(f);
        assert!(width >= 900 && h >= 440, "{}: {width}x{h}", f.display());
    }
    let w = standard_set(&blobs, &out.join("blobs"), Format::Png, &opts).unwrap();
    let stems = file_stems(&w.files);
    assert_eq!(
        stems,
        ["accuracy", "accuracy_vs_loss", "agreement", "filtering"],
        "{:?}",
        w.failed
    );
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);
    // The filtering heatmap: 2 parts x 4 deltas.
    let (data, scale) = bandwise::plot::from_class::filtering_data(&blobs).unwrap();
    assert_eq!(data.band_labels.len(), 8);
    assert_eq!(data.band_labels[0], "e_low, delta 0.125s");
    assert!(scale.min > 0.0 && scale.max > scale.min);

    // Several runs: one series per configuration, class maps one row per configuration.
    let pair = [grid.clone(), grid1.clone()];
    let groups = bandwise::plot::from_class::config_groups(&pair);
    assert_eq!(groups.len(), 2);
    let data = bandwise::plot::from_class::accuracy_data(&groups, "t", false).unwrap();
    assert_eq!(data.series.len(), 2);
    assert_eq!(
        data.series[0].test_accuracy,
        grid.epochs.metric("test_accuracy").unwrap()
    );
    let maps = bandwise::plot::from_class::class_maps_data(&groups, "t").unwrap();
    assert_eq!((maps.rows.len(), maps.dims, maps.classes), (2, [12, 12], 3));
    draw(Kind::ClassMaps, &pair, &out.join("maps.png"), &opts).unwrap();

    // Kinds that do not fit the run: clear errors.
    let e = draw_error(Kind::Accuracy, &reg, &out.join("x.png"), &opts);
    assert!(
        e.contains("a regression run") && e.contains("accuracy figure"),
        "{e}"
    );
    let e = draw_error(Kind::Filtering, &grid, &out.join("x.png"), &opts);
    assert!(
        e.contains("no filtering.csv") && e.contains("--kind heatmap"),
        "{e}"
    );
    let e = draw_error(Kind::ClassMaps, &blobs, &out.join("x.png"), &opts);
    assert!(e.contains("2D grid classification run"), "{e}");

    // Through the binary: the standard set of a classification run, one kind, an error.
    let g = grid.dir.to_str().unwrap();
    let (ok, stdout, err) = bandwise_bin(&["plot", g]);
    assert!(ok, "{err}");
    assert!(
        stdout.contains("class_maps.png") && !stdout.contains("snapshots.png"),
        "{stdout}"
    );
    let (ok, stdout, err) = bandwise_bin(&[
        "plot",
        tmp.path().join("blobs").to_str().unwrap(),
        "--kind",
        "accuracy-vs-loss",
        "--out",
        out.join("avl.svg").to_str().unwrap(),
    ]);
    assert!(ok && stdout.contains("avl.svg"), "{err}");
    let (ok, _, err) = bandwise_bin(&["plot", reg.dir.to_str().unwrap(), "--kind", "agreement"]);
    assert!(!ok && err.contains("regression run"), "{err}");
}
