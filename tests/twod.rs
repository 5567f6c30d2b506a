//! End-to-end tests of 2D targets: a tiny waves2d run writes ring bands whose energies sum to
//! the training loss at every epoch, 2D peaks and snapshots, and image panels.

mod common;

use bandwise::engine::train::Status;
use bandwise::experiment::config::Experiment;
use bandwise::record::load::RunData;
use bandwise::record::Table;
use common::run_config;

const CONFIG: &str = r#"
name = "tiny2d"
seed = 1
dtype = "f64"
[target]
kind = "waves2d"
n = [16, 16]
waves = [[1, 0], [2, 3]]
products = [[1, 2]]
amplitudes = [1.0, 0.5, 0.5]
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
[record]
snapshots = [0, 10, 20]
"#;

#[test]
fn tiny_2d_run_bands_sum_to_the_train_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let summary = run_config(CONFIG, &dir);
    assert_eq!(summary.status, Status::Completed);
    let data = RunData::load(&dir).unwrap();
    assert_eq!(data.epochs.epoch, (0..=20).collect::<Vec<u64>>());
    let train = data.grid_bands("train").expect("train bands");
    assert_eq!(train.epochs, data.epochs.epoch);
    assert_eq!(train.labels[0], "DC");
    assert!(train.labels[1].starts_with("|k| 1-2"));
    for (e, &loss) in data.epochs.train_loss.iter().enumerate() {
        let total: f64 = train.residual_energy.iter().map(|b| b[e]).sum();
        assert!(
            (total - loss).abs() <= 1e-12 * loss,
            "epoch {e}: bands sum {total} vs train loss {loss}"
        );
    }
    let test = data.grid_bands("test").expect("test bands");
    for (e, &loss) in data.epochs.test_loss.iter().enumerate() {
        let total: f64 = test.residual_energy.iter().map(|b| b[e]).sum();
        assert!((total - loss).abs() <= 1e-12 * loss, "test epoch {e}");
    }
    // Training moves the error: the final loss is below the initial one.
    assert!(data.epochs.train_loss[20] < data.epochs.train_loss[0]);
    // run.json describes the rings and the 2D target.
    assert_eq!(data.meta["target"]["dims"], serde_json::json!([16, 16]));
    assert_eq!(data.meta["target"]["peaks"].as_array().unwrap().len(), 4);
    assert_eq!(
        data.meta["bands"]["train"]["dims"],
        serde_json::json!([16, 16])
    );
    assert_eq!(data.meta["model"]["widths"][0], 2);
    // 2D files replace peaks.csv and snapshots.csv.
    assert!(!dir.join("peaks.csv").exists() && !dir.join("snapshots.csv").exists());
    let peaks = Table::read(&dir.join("peaks2d.csv")).unwrap();
    assert_eq!(peaks.len(), 2 * 21 * 4);
    // The one loader reads the 2D files: peaks2d.csv per grid with (kx, ky), and the
    // snapshot images in row-major order.
    assert_eq!(data.peaks.len(), 2);
    let meta_peaks = data.meta["target"]["peaks"].as_array().unwrap();
    for (k, p) in data.peaks[0].k.iter().zip(meta_peaks) {
        assert_eq!(k, &[p["kx"].as_i64().unwrap(), p["ky"].as_i64().unwrap()]);
    }
    assert_eq!(data.peaks[0].epochs.len(), 21);
    let snaps = &data.snapshots;
    assert!(snaps.iter().all(|s| s.dims == [16, 16]));
    assert_eq!(
        snaps.iter().map(|s| s.epoch).collect::<Vec<_>>(),
        [0, 10, 20]
    );
    // Point (i, j) = (3, 5) sits at (x, y) = (3/16, 5/16), row-major index 3 * 16 + 5.
    let p = 3 * 16 + 5;
    assert_eq!(&snaps[0].t[2 * p..2 * p + 2], &[3.0 / 16.0, 5.0 / 16.0]);
    // Image panels from the record.
    let png = dir.join("figures/images.png");
    bandwise::plot::images::images_for_run(&dir, &png, 3).unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let reader = decoder.read_info().unwrap();
    let (w, h) = (reader.info().width, reader.info().height);
    assert_eq!((w, h), bandwise::plot::images::images_size(3));
}

#[test]
fn fourier_features_widen_the_input_and_follow_the_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let text = CONFIG.replace(
        "hidden = [16]",
        "hidden = [16]\nfourier_features = { count = 8, scale = 3.0 }",
    );
    run_config(&text, &tmp.path().join("a"));
    run_config(&text, &tmp.path().join("b"));
    let a = RunData::load(&tmp.path().join("a")).unwrap();
    let b = RunData::load(&tmp.path().join("b")).unwrap();
    assert_eq!(a.meta["model"]["widths"][0], 16);
    assert_eq!(a.epochs.train_loss, b.epochs.train_loss);
    assert_eq!(
        a.meta["config"]["model"]["fourier_features"]["count"],
        serde_json::json!(8)
    );
}

#[test]
fn one_d_configs_are_unchanged() {
    let exp = Experiment::from_toml_str(
        "[target]\nn = 64\nfrequencies = [1, 3]\n[optimizer]\nname = \"adam\"\nlr = 1e-3\n[train]\nepochs = 1\n",
        "x",
    )
    .unwrap();
    let j = serde_json::to_value(&exp).unwrap();
    assert_eq!(
        j["target"],
        serde_json::json!({"n": 64, "frequencies": [1, 3], "amplitudes": 1.0, "phases": "random", "noise": 0.0, "noise_seed": null, "test": {"n": null, "offset": 0.5}})
    );
}
