//! Road 1: an optimizer written outside the crate (examples/lion.rs, compiled here as a module)
//! is registered by name, used from a config, and measured by the standard protocol.

// `&[0..n]` is a one-tensor layout, not a mistaken Vec of a range.
#![allow(clippy::single_range_in_vec_init)]

#[allow(dead_code)]
#[path = "../examples/lion.rs"]
mod lion;

use bandwise::app::protocol::{run_protocol, ProtocolOptions, ProtocolSettings};
use bandwise::engine::run::{run_experiment, RunOptions};
use bandwise::engine::train::Status;
use bandwise::experiment::config::Experiment;
use bandwise::optim::{OptimizerConfig, Registry};

fn lion_config(extra: &str) -> OptimizerConfig {
    toml::from_str(&format!("name = \"lion\"\nlr = 0.1\n{extra}")).unwrap()
}

#[test]
fn lion_steps_match_a_hand_computation() {
    let registry = lion::registry();
    let resolved = registry
        .resolve(&lion_config("weight_decay = 0.5"))
        .unwrap();
    let mut hv = resolved.hyper_values();
    resolved.fill(&mut hv, 0, 0);
    assert_eq!(hv.get("beta1"), 0.9, "documented default");
    assert_eq!(hv.get("beta2"), 0.99, "documented default");
    // f(x) = sum c_i x_i^2 / 2, gradient c_i x_i; x0 = (1, -2), c = (3, 0.5); lr 0.1, wd 0.5.
    let c = [3.0, 0.5];
    let mut x = vec![1.0f64, -2.0];
    let mut opt = resolved.build::<f64>(2);
    let whole = [0..2];
    let grad = |x: &[f64]| -> Vec<f64> { x.iter().zip(&c).map(|(x, c)| x * c).collect() };
    // Step 1: m = 0, so sign(c) = sign(g) = (+, -):
    // x = 1 - 0.1 (1 + 0.5) = 0.85; x = -2 - 0.1 (-1 - 1) = -1.8; m = 0.01 g = (0.03, -0.01).
    let g = grad(&x);
    opt.update(1, &hv, &mut x, &g, &whole);
    assert!(
        (x[0] - 0.85).abs() < 1e-15 && (x[1] + 1.8).abs() < 1e-15,
        "{x:?}"
    );
    // Step 2: g = (2.55, -0.9); c = 0.9 m + 0.1 g = (0.282, -0.099):
    // x = 0.85 - 0.1 (1 + 0.425) = 0.7075; x = -1.8 - 0.1 (-1 - 0.9) = -1.61.
    let g = grad(&x);
    opt.update(2, &hv, &mut x, &g, &whole);
    assert!(
        (x[0] - 0.7075).abs() < 1e-15 && (x[1] + 1.61).abs() < 1e-15,
        "{x:?}"
    );

    // The step follows sign(b1 m + (1-b1) g), not sign(g): with m = 0.01*10 = 0.1 from a first
    // gradient of 10, a gradient of -0.5 gives c = 0.09 - 0.05 > 0, so x still decreases.
    let resolved = registry.resolve(&lion_config("")).unwrap();
    let mut hv = resolved.hyper_values();
    resolved.fill(&mut hv, 0, 0);
    let mut opt = resolved.build::<f32>(1);
    let mut x = [0.0f32];
    opt.update(1, &hv, &mut x, &[10.0], &[0..1]);
    assert!((x[0] + 0.1).abs() < 1e-7);
    opt.update(2, &hv, &mut x, &[-0.5], &[0..1]);
    assert!((x[0] + 0.2).abs() < 1e-7, "{x:?}");
    // A zero interpolation gives no step (sign(0) = 0).
    let mut opt = resolved.build::<f64>(1);
    let mut x = [1.0f64];
    opt.update(1, &hv, &mut x, &[0.0], &[0..1]);
    assert_eq!(x[0], 1.0);
}

#[test]
fn registering_a_taken_name_is_an_error() {
    let mut registry = lion::registry();
    let e = registry.register::<lion::Lion>().unwrap_err().to_string();
    assert!(e.contains("`lion` is already registered"), "{e}");
    // A plug-in may not shadow a built-in either.
    struct FakeAdam;
    impl bandwise::optim::OptimizerDef for FakeAdam {
        const NAME: &'static str = "adam";
        const ABOUT: &'static str = "not adam";
        const PARAMS: &'static [bandwise::optim::ParamDoc] = &[];
        fn build<S: bandwise::base::scalar::Scalar>(
            s: &bandwise::optim::Settings,
            n: usize,
        ) -> Box<dyn bandwise::optim::Optimizer<S>> {
            lion::Lion::build::<S>(s, n)
        }
    }
    let e = Registry::builtin()
        .register::<FakeAdam>()
        .unwrap_err()
        .to_string();
    assert!(e.contains("`adam` is already registered"), "{e}");
}

#[test]
fn a_registered_plugin_is_usable_from_a_config_and_listed() {
    let registry = lion::registry();
    let text = bandwise::cli::optimizers_text(&registry);
    assert!(
        text.contains("lion: Lion") && text.contains("beta2 = 0.99"),
        "{text}"
    );
    let exp = Experiment::from_toml_str(
        "[target]\nn = 32\nfrequencies = [1, 4]\n[model]\nhidden = [8]\n[optimizer]\nname = \"lion\"\nlr = 1e-3\nbeta2 = { kind = \"linear\", min = 0.9, max = 0.99, period = 10 }\n[train]\nepochs = 10\n",
        "lion.toml",
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_experiment(
        &exp,
        &registry,
        &tmp.path().join("r"),
        RunOptions::default(),
    )
    .unwrap();
    assert_eq!(summary.status, Status::Completed);
    let epochs = std::fs::read_to_string(tmp.path().join("r/epochs.csv")).unwrap();
    assert!(
        epochs.contains("beta2"),
        "a scheduled float is recorded per epoch"
    );
    // Unknown hyperparameters get the registry's error.
    let e = registry
        .resolve(&lion_config("beta3 = 0.5"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("optimizer.beta3 is not a hyperparameter of `lion`"),
        "{e}"
    );
}

fn tiny() -> ProtocolSettings {
    ProtocolSettings {
        n: 32,
        frequencies: vec![1, 2, 4],
        hidden: vec![8],
        epochs: 30,
        seeds: vec![0, 1],
        lr_grid: vec![1e-3, 1e-2],
        search_seeds: vec![1000],
        search_epochs: 10,
        smoke_test: true,
    }
}

#[test]
fn the_protocol_measures_a_plugin_against_the_references() {
    let registry = lion::registry();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("proto");
    let opts = ProtocolOptions {
        settings: tiny(),
        jobs: 2,
        progress: Default::default(),
    };
    let overrides = [("beta2".to_string(), "0.98".to_string())];
    let report = run_protocol(&registry, "lion", &overrides, &out, &opts).unwrap();
    let labels: Vec<&str> = report.configs.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(report.configs.len(), 5, "{labels:?}");
    let lion = report
        .configs
        .iter()
        .find(|c| c.optimizer["name"] == "lion")
        .expect("the candidate is in the report");
    assert_eq!(lion.optimizer["beta2"], 0.98);
    // The grid [1e-3, 1e-2] is extended by its ratio (10) while the choice sits at an edge,
    // at most 3 points per direction.
    let lr = lion.optimizer["lr"].as_f64().unwrap();
    assert!(
        (-3..=3).any(|k| (lr - 1e-3 * 10f64.powi(k)).abs() <= 1e-9 * lr),
        "lr from the (extended) search grid: {lr}"
    );
    assert!(lion.baseline.as_deref().unwrap().starts_with("sgd mom=0.9"));
    assert!(lion.index_vs_baseline.is_some());
    assert!(report.configs.iter().all(|c| c.task == "t1"));
    for f in ["protocol.json", "report.md", "report.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(out.join("lion_beta2=0.98/lr_search.json").is_file());
    // Resumable: a second invocation trains nothing and reports the same.
    let before = std::fs::read_to_string(out.join("report.md")).unwrap();
    let started = std::time::Instant::now();
    run_protocol(&registry, "lion", &overrides, &out, &opts).unwrap();
    assert_eq!(
        before,
        std::fs::read_to_string(out.join("report.md")).unwrap()
    );
    assert!(started.elapsed().as_secs_f64() < 30.0);
    // The registry validates --set.
    let e = run_protocol(
        &registry,
        "lion",
        &[("beta".into(), "0.9".into())],
        &out,
        &opts,
    )
    .unwrap_err();
    assert!(
        format!("{e:#}").contains("optimizer.beta is not a hyperparameter of `lion`"),
        "{e:#}"
    );
}
