//! The kernel overlay end to end: a run writes checkpoints at `record.checkpoints`, they read
//! back with the optimizer state the run had, and `analyze_run` / kernel.json give a kernel
//! whose invariants hold (PSD, trace, shares) and a band-order comparison; config errors name
//! the field.

use bandwise::analysis::kernel::run_dir::{
    analyze_run, write_kernel_json, KernelOptions, KERNEL_FORMAT,
};
use bandwise::base::linalg::Faer;
use bandwise::engine::run::{run_experiment, RunOptions};
use bandwise::experiment::config::Experiment;
use bandwise::optim::Registry;
use bandwise::record::checkpoint::{list_checkpoints, read_checkpoint};

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
