//! The kernel overlay end to end: a run writes checkpoints at `record.checkpoints`, they read
//! back with the optimizer state the run had, and `analyze_run` / kernel.json give a kernel
//! whose invariants hold (PSD, trace, shares) and a band-order comparison; config errors name
//! the field.

use bandwise::analysis::kernel::run_dir::{
    analyze_run, read_kernel_json, write_kernel_csv, write_kernel_json, KernelOptions,
    KERNEL_CSV_FORMAT, KERNEL_FORMAT,
};
use bandwise::analysis::{build, ReportOptions};
use bandwise::base::linalg::Faer;
use bandwise::engine::run::{run_experiment, RunOptions};
use bandwise::experiment::config::Experiment;
use bandwise::optim::Registry;
use bandwise::plot::runs::kernel_set;
use bandwise::plot::Format;
use bandwise::record::checkpoint::{list_checkpoints, read_checkpoint};
use bandwise::record::load::RunData;

const CONFIG: &str = r#"
name = "k"
seed = 1
dtype = "f64"
[target]
n = 64
frequencies = [1, 2, 4, 8]
[model]
hidden = [16, 16]
[optimizer]
name = "padam"
lr = 3e-3
p = 0.25
[train]
epochs = 80
eval_every = 2
[spectral]
layout = { kind = "peaks", half_width = 0 }
[record]
checkpoints = [0, 5, 10]
"#;

#[test]
fn checkpoints_are_written_and_the_kernel_analysis_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let exp = Experiment::from_toml_str(CONFIG, "test").unwrap();
    run_experiment(&exp, &Registry::builtin(), &dir, RunOptions::default()).unwrap();
    let found = list_checkpoints(&dir).unwrap();
    assert_eq!(
        found.iter().map(|(e, _)| *e).collect::<Vec<_>>(),
        vec![0, 5, 10]
    );
    let c10 = read_checkpoint(&found[2].1).unwrap();
    assert_eq!(c10.epoch, Some(10));
    let opt = c10.optimizer.unwrap();
    assert_eq!((opt.name.as_str(), opt.step), ("padam", 10));
    assert_eq!(opt.hyper["p"], 0.25);
    assert_eq!(opt.state["v"].len(), c10.params.len());
    assert!(opt.state["v"].iter().all(|v| *v >= 0.0));
    let c0 = read_checkpoint(&found[0].1).unwrap();
    assert!(c0.optimizer.unwrap().state["m"].iter().all(|m| *m == 0.0));

    let rk = analyze_run(&dir, &KernelOptions::default(), &Faer).unwrap();
    assert_eq!(rk.checkpoints.len(), 3);
    for c in &rk.checkpoints {
        for spec in [&c.kernel.preconditioned, &c.kernel.plain] {
            let sum: f64 = spec.eigenvalues.iter().sum();
            assert!((sum - spec.trace).abs() < 1e-9 * spec.trace);
            assert!(spec
                .eigenvalues
                .iter()
                .all(|&l| l > -1e-10 * spec.eigenvalues[0]));
            for row in &spec.shares {
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-10);
            }
        }
        let cmp = &c.comparison;
        // Window: 10% of 80 epochs after the checkpoint (epoch 5 is not an analysed epoch:
        // the comparison starts at the next one, 6).
        assert_eq!(cmp.window_end, c.kernel.epoch + 8);
        let mass: f64 = cmp.bands.iter().map(|b| b.eigen_mass).sum();
        assert!((mass - 1.0).abs() < 1e-9, "eigen-mass sums to {mass}");
        assert_eq!(cmp.n_bands, 4, "{cmp:?}");
        assert!(cmp.order_spearman.abs() <= 1.0);
    }
    let path = write_kernel_json(&rk, &Faer).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(v["format"], KERNEL_FORMAT);
    assert!(v["conventions"]["dft"].as_str().unwrap().contains("1/N^2"));
    assert!(v["conventions"]["bands"].is_object());
    assert_eq!(v["checkpoints"][2]["epoch"], 10);

    // Only the asked epoch; a missing one is named with the ones that exist.
    let one = KernelOptions {
        epochs: vec![10],
        ..Default::default()
    };
    assert_eq!(analyze_run(&dir, &one, &Faer).unwrap().checkpoints.len(), 1);
    let bad = KernelOptions {
        epochs: vec![7],
        ..Default::default()
    };
    let err = analyze_run(&dir, &bad, &Faer).unwrap_err().to_string();
    assert!(err.contains("epoch 7") && err.contains("0, 5, 10"), "{err}");
}

#[test]
fn checkpoint_epochs_are_validated() {
    let reg = Registry::builtin();
    for (set, needle) in [
        ("[0, 81]", "record.checkpoints[1] = 81"),
        ("[10, 10]", "strictly increasing"),
    ] {
        let text = CONFIG.replace("checkpoints = [0, 5, 10]", &format!("checkpoints = {set}"));
        let exp = Experiment::from_toml_str(&text, "test").unwrap();
        let err = exp.validate(&reg).err().unwrap().to_string();
        assert!(err.contains(needle), "{set}: {err}");
    }
}

/// kernel.csv, the kernel figures and the report's predicted column from one small run.
#[test]
fn kernel_csv_figures_and_the_reports_predicted_column() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let exp = Experiment::from_toml_str(CONFIG, "test").unwrap();
    run_experiment(&exp, &Registry::builtin(), &dir, RunOptions::default()).unwrap();
    // Without kernel.json the report has no predicted column.
    let plain = build(std::slice::from_ref(&dir), &ReportOptions::default(), &[]).unwrap();
    assert!(plain.configs[0].kernel.is_none());
    assert!(!bandwise::analysis::render::markdown(&plain).contains("predicted"));

    let rk = analyze_run(&dir, &KernelOptions::default(), &Faer).unwrap();
    write_kernel_json(&rk, &Faer).unwrap();
    let csv = std::fs::read_to_string(write_kernel_csv(&rk).unwrap()).unwrap();
    assert!(csv.starts_with("# bandwise ") && csv.contains(KERNEL_CSV_FORMAT));
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let n = 64;
    assert_eq!(rows.len(), 3 * n, "one row per checkpoint and eigen-index");
    for r in &rows {
        let shares: Vec<f64> = r[5..].iter().map(|s| s.parse().unwrap()).collect();
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{r:?}");
        let argmax = (0..shares.len())
            .max_by(|&a, &b| shares[a].total_cmp(&shares[b]))
            .unwrap();
        assert_eq!(r[4].parse::<usize>().unwrap(), argmax);
    }
    // The first row of each checkpoint holds the largest eigenvalue of K_P.
    let top: f64 = rows[0][2].parse().unwrap();
    assert_eq!(top, rk.checkpoints[0].kernel.preconditioned.eigenvalues[0]);

    // Figures: three per checkpoint, real PNG files.
    let run = RunData::load(&dir).unwrap();
    let figs = kernel_set(
        &read_kernel_json(&dir).unwrap(),
        &run,
        &tmp.path().join("figs"),
        Format::Png,
    )
    .unwrap();
    assert_eq!(figs.len(), 9);
    for f in &figs {
        let bytes = std::fs::read(f).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", f.display());
    }

    // The report: predicted epochs equal the first checkpoint's prediction in kernel.json.
    let rep = build(std::slice::from_ref(&dir), &ReportOptions::default(), &[]).unwrap();
    let c = &rep.configs[0];
    let k = c.kernel.as_ref().expect("kernel window");
    assert_eq!(
        (k.checkpoint, k.window_end),
        (0, 80),
        "predicted to the last epoch"
    );
    let first = &rk.checkpoints[0].kernel.prediction;
    let thresholds = &exp.spectral.thresholds;
    for (b, band) in c.bands.iter().enumerate() {
        let predicted = band.predicted_to_threshold.as_ref().unwrap();
        for t in predicted {
            let i = thresholds.iter().position(|&x| x == t.threshold).unwrap();
            let want = first.to_threshold_budget[b][i];
            assert_eq!(t.epochs.reached, usize::from(want.is_some()));
            assert_eq!(t.epochs.min, want);
        }
    }
    let md = bandwise::analysis::render::markdown(&rep);
    assert!(
        md.contains("| predicted |") || md.contains("predicted |"),
        "{md}"
    );
    assert!(md.contains("Predicted from the checkpoint at epoch 0 (to epoch 80)"));
    let csv = bandwise::analysis::render::csv(&rep);
    assert!(csv.contains("predicted_epochs_to_threshold"));
}
