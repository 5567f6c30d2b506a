//! End-to-end tests of `bandwise run`: records on disk, determinism, divergence, errors.

mod common;

use bandwise::engine::run::{run_experiment, RunOptions};
use bandwise::engine::train::Status;
use bandwise::experiment::config::Experiment;
use bandwise::optim::Registry;
use bandwise::record::load::RunData;
use common::{fingerprint, run_config};

const CONFIG: &str = r#"
name = "t"
seed = 3
[target]
n = 64
frequencies = [1, 3, 7]
[model]
hidden = [16, 16]
[optimizer]
name = "padam"
lr = 3e-3
p = { kind = "cosine", min = -0.5, max = 0.5, period = 20 }
[train]
epochs = 60
batch_size = 16
[spectral]
layout = { kind = "octave" }
grids = ["train", "test"]
"#;

#[test]
fn run_writes_a_complete_record() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_config(CONFIG, &tmp.path().join("r"));
    assert_eq!(summary.status, Status::Completed);
    let data = RunData::load(&tmp.path().join("r")).unwrap();
    assert_eq!(data.epochs.epoch, (0..=60).collect::<Vec<u64>>());
    assert_eq!(data.epochs.step[60], 60 * 4, "4 minibatches per epoch");
    // p(t) is the cosine schedule at each epoch's last step.
    assert!((data.epochs.p()[0] - 0.5).abs() < 1e-12);
    assert!(
        (data.epochs.p()[11] + 0.5).abs() < 1e-12,
        "epoch 11 used the schedule at epoch index 10"
    );
    // Band energies sum to the train loss (MSE) at every epoch.
    let train = data.grid_bands("train").unwrap();
    for (i, &e) in train.epochs.iter().enumerate() {
        let sum: f64 = train.residual_energy.iter().map(|b| b[i]).sum();
        let loss = data.epochs.train_loss[e as usize];
        assert!(
            (sum - loss).abs() <= 1e-9 * loss,
            "epoch {e}: {sum} vs {loss}"
        );
    }
    assert!(data.grid_bands("test").is_some());
    assert_eq!(data.grid_peaks("train").unwrap().k, [[1], [3], [7]]);
    assert!(
        data.meta["conventions"]["measures"]
            .as_array()
            .unwrap()
            .len()
            >= 7
    );
    assert!(
        data.snapshots.first().unwrap().epoch == 0 && data.snapshots.last().unwrap().epoch == 60
    );
    // Training reduced the loss.
    assert!(
        data.epochs.train_loss[60] < 0.9 * data.epochs.train_loss[0],
        "{:?}",
        data.epochs.train_loss
    );
}

#[test]
fn same_config_and_seed_give_identical_records() {
    let tmp = tempfile::tempdir().unwrap();
    run_config(CONFIG, &tmp.path().join("a"));
    run_config(CONFIG, &tmp.path().join("b"));
    assert_eq!(
        fingerprint(&tmp.path().join("a")),
        fingerprint(&tmp.path().join("b"))
    );
    // f64 as well, and a different seed differs.
    let f64cfg = CONFIG.replace("seed = 3", "seed = 3\ndtype = \"f64\"");
    run_config(&f64cfg, &tmp.path().join("c"));
    run_config(&f64cfg, &tmp.path().join("d"));
    assert_eq!(
        fingerprint(&tmp.path().join("c")),
        fingerprint(&tmp.path().join("d"))
    );
    run_config(
        &CONFIG.replace("seed = 3", "seed = 4"),
        &tmp.path().join("e"),
    );
    assert_ne!(
        fingerprint(&tmp.path().join("a")),
        fingerprint(&tmp.path().join("e"))
    );
}

#[test]
fn divergence_stops_cleanly_and_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = CONFIG.replace("name = \"padam\"\nlr = 3e-3\np = { kind = \"cosine\", min = -0.5, max = 0.5, period = 20 }", "name = \"sgd\"\nlr = 1e3");
    let summary = run_config(&cfg, &tmp.path().join("div"));
    let Status::Diverged { epoch, .. } = summary.status else {
        panic!("expected divergence, got {:?}", summary.status)
    };
    assert!(epoch <= 5);
    let data = RunData::load(&tmp.path().join("div")).unwrap();
    assert_eq!(data.status(), "diverged");
    assert_eq!(data.meta["diverged"]["epoch"], epoch);
    assert_eq!(*data.epochs.epoch.last().unwrap(), epoch);
}

#[test]
fn existing_run_is_not_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    run_config(CONFIG, &out);
    let before = std::fs::read_to_string(out.join("run.json")).unwrap();
    let exp = Experiment::from_toml_str(CONFIG, "test").unwrap();
    let e = run_experiment(&exp, &Registry::builtin(), &out, RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("already exists"), "{e}");
    assert_eq!(
        before,
        std::fs::read_to_string(out.join("run.json")).unwrap()
    );
    // A config error writes nothing at all.
    let bad =
        Experiment::from_toml_str(&CONFIG.replace("[1, 3, 7]", "[1, 3, 40]"), "test").unwrap();
    let e = run_experiment(
        &bad,
        &Registry::builtin(),
        &tmp.path().join("bad"),
        RunOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("target.frequencies[2]"), "{e}");
    assert!(!tmp.path().join("bad").exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn save_params_writes_shapes_and_values() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = Experiment::from_toml_str(CONFIG, "test").unwrap();
    let out = tmp.path().join("p");
    run_experiment(
        &exp,
        &Registry::builtin(),
        &out,
        RunOptions {
            save_params: true,
            ..Default::default()
        },
    )
    .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("params_init.json")).unwrap())
            .unwrap();
    let t = v["tensors"].as_array().unwrap();
    assert_eq!(t.len(), 6);
    assert_eq!(t[0]["shape"], serde_json::json!([1, 16]));
    assert_eq!(t[2]["values"].as_array().unwrap().len(), 256);
}

#[test]
fn every_example_config_is_valid() {
    let mut checked = 0;
    for entry in
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/analyses/examples")).unwrap()
    {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if path.extension().is_some_and(|e| e == "toml") && !text.contains("[base]") {
            let exp =
                Experiment::load(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
            exp.validate(&Registry::builtin())
                .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} example configs");
}
