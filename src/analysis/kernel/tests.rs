//! Tests of the kernel analysis: known answers (linear models, two-mode toys), PSD and trace
//! checks, tiny-lr training against the prediction, a checkpoint end to end.

use super::*;
use crate::base::linalg::Faer;
use crate::nn::jacobian::jacobian;
use crate::nn::model::{backward, forward, Activation, Init, MlpShape, Workspace};
use crate::optim::{preconditioner, Optimizer, OptimizerDef, OptimizerSnapshot, Settings, Sgd};
use crate::spectral::BandLayout;
use crate::spectral::LayoutSpec;
use crate::task::objective::{Mse, Objective};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use std::collections::BTreeMap;
use std::f64::consts::TAU;

fn grid(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64 / n as f64).collect()
}

/// Features [a_k cos(2 pi k t), a_k sin(2 pi k t)] per (k, a_k): a model linear in its
/// parameters when the network has no hidden layer.
fn features(t: &[f64], modes: &[(usize, f64)]) -> Vec<f64> {
    t.iter()
        .flat_map(|&t| {
            modes.iter().flat_map(move |&(k, a)| {
                let x = TAU * k as f64 * t;
                [a * x.cos(), a * x.sin()]
            })
        })
        .collect()
}

fn meter(target: &[f64], spec: LayoutSpec) -> BandMeter {
    BandMeter::new(target, BandLayout::build(&spec, target.len(), &[]).unwrap())
}

fn sgd(lr: f64, n_params: usize) -> (Box<dyn Optimizer<f64>>, OptimizerSnapshot) {
    let s = Settings {
        flags: vec![("nesterov", false)],
        choices: vec![],
    };
    let hyper: BTreeMap<String, f64> = [("lr", lr), ("momentum", 0.0), ("weight_decay", 0.0)]
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    (
        Sgd::<f64>::build::<f64>(&s, n_params),
        OptimizerSnapshot {
            name: "sgd".into(),
            hyper,
            ..Default::default()
        },
    )
}

/// Full-batch training of `shape` on (x, y) with a built-in optimizer; residual per step.
fn train(
    shape: &MlpShape,
    params: &mut [f64],
    x: &[f64],
    y: &[f64],
    opt: &mut dyn Optimizer<f64>,
    hyper: &BTreeMap<String, f64>,
    steps: u64,
) -> Vec<Vec<f64>> {
    let n = y.len();
    let mut ws = Workspace::new(shape, n);
    let mut grads = vec![0.0; shape.n_params()];
    let pairs: Vec<(&'static str, f64)> = ["lr", "momentum", "weight_decay"]
        .into_iter()
        .map(|k| (k, hyper[k]))
        .collect();
    let hv = crate::optim::testing::hyper(&pairs);
    let mut residuals = Vec::new();
    for t in 0..=steps {
        ws.input_mut(shape, n).copy_from_slice(x);
        forward(shape, params, &mut ws, n);
        let out = ws.output(shape, n);
        residuals.push(out.iter().zip(y).map(|(h, y)| h - y).collect());
        if t == steps {
            break;
        }
        let (out, seed) = ws.output_and_seed(shape, n);
        Mse.loss_and_seed(out, y, seed, n);
        backward(shape, params, &mut ws, &mut grads, n);
        opt.update(t + 1, &hv, params, &grads, &shape.ranges());
    }
    residuals
}

fn residual(shape: &MlpShape, params: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    let n = y.len();
    let mut ws = Workspace::new(shape, n);
    ws.input_mut(shape, n).copy_from_slice(x);
    forward(shape, params, &mut ws, n);
    ws.output(shape, n)
        .iter()
        .zip(y)
        .map(|(h, y)| h - y)
        .collect()
}

#[test]
fn linear_model_prediction_is_exact_for_plain_gd() {
    let n = 64;
    let t = grid(n);
    let modes = [(1, 1.0), (3, 0.7), (9, 0.4), (20, 0.2)];
    let x = features(&t, &modes);
    let shape = MlpShape::new(2 * modes.len(), &[], 1, Activation::Tanh);
    let mut rng = Pcg64::seed_from_u64(1);
    let mut params: Vec<f64> = shape.init_params(Init::LecunNormal, &mut rng);
    let y: Vec<f64> = t
        .iter()
        .map(|&t| (TAU * t).sin() + 0.5 * (TAU * 9.0 * t).cos() - 0.3 * (TAU * 20.0 * t).sin())
        .collect();
    let (mut opt, snap) = sgd(0.05, shape.n_params());
    let pc = preconditioner(&snap, &shape.ranges(), None).unwrap();
    let jac = jacobian(&shape, &params, &x);
    let k = kernel_matrix(&jac, n, shape.n_params(), Some(&pc.diag));
    let mut m = meter(&y, LayoutSpec::Octave);
    let spec = spectrum(&k, n, &Faer, &mut m).unwrap();
    let r0 = residual(&shape, &params, &x, &y);
    let coef = project(&spec.eig, &r0);
    let path = train(&shape, &mut params, &x, &y, opt.as_mut(), &snap.hyper, 40);
    for (s, actual) in path.iter().enumerate() {
        let predicted = evolve(&spec.eig, &coef, pc.lr_eff, s as u64);
        for (p, a) in predicted.iter().zip(actual) {
            assert!((p - a).abs() < 1e-12, "step {s}: {p} vs {a}");
        }
    }
}

/// Two modes, the low one with the larger feature scale: the low band is predicted to
/// converge first; a preconditioner that weights the high mode's parameters 100x flips
/// the order and the sign of the predicted index.
#[test]
fn two_mode_toy_band_order_and_preconditioner_flip() {
    let n = 32;
    let t = grid(n);
    let x = features(&t, &[(1, 1.0), (8, 0.3)]);
    let shape = MlpShape::new(4, &[], 1, Activation::Tanh);
    let params = vec![0.0; shape.n_params()];
    let y: Vec<f64> = t
        .iter()
        .map(|&t| (TAU * t).sin() + (TAU * 8.0 * t).cos())
        .collect();
    let spec_layout = LayoutSpec::Edges {
        edges: vec![0.5, 1.5, 7.5, 8.5],
    };
    let mut m = meter(&y, spec_layout);
    let jac = jacobian(&shape, &params, &x);
    let r0 = residual(&shape, &params, &x, &y);
    let horizon = Horizon {
        start_epoch: 0,
        epochs: (0..=400).collect(),
        steps_per_epoch: 1,
        thresholds: vec![0.1, 0.01],
        window_end: 400.0,
        beyond: Vec::new(),
    };
    let k = kernel_matrix(&jac, n, shape.n_params(), None);
    let spec = spectrum(&k, n, &Faer, &mut m).unwrap();
    // Only 4 features: rank <= 4 (bias gradient is the constant 1: the DC mode).
    assert!(spec.eigenvalues[5].abs() < 1e-12);
    for row in &spec.shares {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    let labels: Vec<&str> = m.bands().iter().map(|b| b.label.as_str()).collect();
    let (low, high) = (
        labels.iter().position(|l| *l == "1 cyc").unwrap(),
        labels.iter().position(|l| *l == "8 cyc").unwrap(),
    );
    assert!(spec.band_rate[low] > 5.0 * spec.band_rate[high]);
    let plain = predict(&spec, &r0, 0.5, &horizon, &mut m).unwrap();
    // Crossings over a short window plus the later epochs equal those over the whole span.
    let split = Horizon {
        epochs: (0..=50).collect(),
        beyond: (51..=400).collect(),
        ..horizon.clone()
    };
    let short = predict(&spec, &r0, 0.5, &split, &mut m).unwrap();
    assert_eq!(short.to_threshold_budget, plain.to_threshold);
    assert_eq!(short.budget_end, 400);
    assert_eq!(
        short.rel_error.len(),
        51,
        "the window's curves stay the window's"
    );
    let (lo_t, hi_t) = (plain.to_threshold[low][1], plain.to_threshold[high][1]);
    assert!(lo_t.unwrap() < hi_t.unwrap(), "{lo_t:?} {hi_t:?}");
    assert!(plain.index.index > 0.0, "{:?}", plain.index);
    // Parameters 2, 3 are the weights of the 8-cycle features.
    let p = [1.0, 1.0, 100.0, 100.0, 1.0];
    let kp = kernel_matrix(&jac, n, shape.n_params(), Some(&p));
    let spec_p = spectrum(&kp, n, &Faer, &mut m).unwrap();
    let pre = predict(&spec_p, &r0, 0.05, &horizon, &mut m).unwrap();
    let (lo_t, hi_t) = (pre.to_threshold[low][1], pre.to_threshold[high][1]);
    assert!(hi_t.unwrap() < lo_t.unwrap(), "{lo_t:?} {hi_t:?}");
    assert!(pre.index.index < 0.0, "{:?}", pre.index);
}

#[test]
fn mlp_kernel_is_psd_trace_matches_and_tiny_lr_prediction_holds() {
    let n = 64;
    let t = grid(n);
    let shape = MlpShape::new(1, &[32, 32], 1, Activation::Tanh);
    let mut rng = Pcg64::seed_from_u64(5);
    let mut params: Vec<f64> = shape.init_params(Init::Torch, &mut rng);
    let y: Vec<f64> = t
        .iter()
        .map(|&t| (TAU * t).sin() + 0.5 * (TAU * 6.0 * t).sin() + rng.random_range(-0.01..0.01))
        .collect();
    let jac = jacobian(&shape, &params, &t);
    let k = kernel_matrix(&jac, n, shape.n_params(), None);
    let mut m = meter(&y, LayoutSpec::Octave);
    let spec = spectrum(&k, n, &Faer, &mut m).unwrap();
    let scale = spec.eigenvalues[0];
    assert!(spec.eigenvalues.iter().all(|&l| l > -1e-12 * scale));
    let sum: f64 = spec.eigenvalues.iter().sum();
    assert!((sum - spec.trace).abs() < 1e-10 * spec.trace);
    for row in &spec.shares {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    // Tiny learning rate, 10 steps of SGD: the prediction's error is second order.
    let lr = 1e-3;
    let (mut opt, snap) = sgd(lr, shape.n_params());
    let pc = preconditioner(&snap, &shape.ranges(), None).unwrap();
    let r0 = residual(&shape, &params, &t, &y);
    let coef = project(&spec.eig, &r0);
    let path = train(&shape, &mut params, &t, &y, opt.as_mut(), &snap.hyper, 10);
    let actual = path.last().unwrap();
    let predicted = evolve(&spec.eig, &coef, pc.lr_eff, 10);
    let change: f64 = actual
        .iter()
        .zip(&r0)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    let err: f64 = actual
        .iter()
        .zip(&predicted)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(change > 1e-3, "the residual moved: {change}");
    assert!(
        err < 1e-2 * change,
        "prediction error {err} vs change {change}"
    );
}
#[test]
fn checkpoint_analysis_end_to_end() {
    use crate::optim::PAdam;
    use crate::record::checkpoint::{read_checkpoint, write_checkpoint};
    let n = 32;
    let t = grid(n);
    let y: Vec<f64> = t
        .iter()
        .map(|&t| (TAU * t).sin() + 0.3 * (TAU * 5.0 * t).sin())
        .collect();
    let shape = MlpShape::new(1, &[12, 12], 1, Activation::Tanh);
    let mut rng = Pcg64::seed_from_u64(8);
    let mut params: Vec<f64> = shape.init_params(Init::Torch, &mut rng);
    let s = Settings {
        flags: vec![],
        choices: vec![("normalize", "none".into())],
    };
    let mut opt = PAdam::<f64>::build::<f64>(&s, shape.n_params());
    let pairs = [
        ("lr", 1e-3),
        ("p", 0.25),
        ("beta1", 0.9),
        ("beta2", 0.999),
        ("eps", 1e-8),
        ("weight_decay", 0.0),
        ("v_floor", 1e-30),
    ];
    let hv = crate::optim::testing::hyper(&pairs);
    let mut ws = Workspace::new(&shape, n);
    let mut grads = vec![0.0; shape.n_params()];
    for step in 1..=5 {
        ws.input_mut(&shape, n).copy_from_slice(&t);
        forward(&shape, &params, &mut ws, n);
        let (out, seed) = ws.output_and_seed(&shape, n);
        Mse.loss_and_seed(out, &y, seed, n);
        backward(&shape, &params, &mut ws, &mut grads, n);
        opt.update(step, &hv, &mut params, &grads, &shape.ranges());
    }
    let snap = OptimizerSnapshot {
        name: "padam".into(),
        step: 5,
        hyper: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        settings: [("normalize".to_string(), "none".to_string())].into(),
        state: opt
            .state()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect(),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = write_checkpoint(dir.path(), &shape, "f64", 5, &params, &snap).unwrap();
    let ckpt = read_checkpoint(&path).unwrap();
    let mut m = meter(&y, LayoutSpec::Octave);
    let horizon = Horizon {
        start_epoch: 5,
        epochs: (5..=50).collect(),
        steps_per_epoch: 1,
        thresholds: vec![0.1],
        window_end: 50.0,
        beyond: Vec::new(),
    };
    let out = analyze_checkpoint(&ckpt, Activation::Tanh, &t, &y, &mut m, &Faer, &horizon).unwrap();
    assert_eq!(out.lr_eff, 2e-3);
    for spec in [&out.preconditioned, &out.plain] {
        let sum: f64 = spec.eigenvalues.iter().sum();
        assert!((sum - spec.trace).abs() < 1e-10 * spec.trace);
        assert!(spec
            .eigenvalues
            .iter()
            .all(|&l| l > -1e-12 * spec.eigenvalues[0]));
    }
    assert_eq!(out.prediction.rel_error.len(), 46);
    let json = serde_json::to_value(&out).unwrap();
    assert!(
        json["prediction"]["index"]["index"].is_number()
            || json["prediction"]["index"]["index"].is_null()
    );
    // A plain params file is refused with the fix.
    let mut plain = ckpt.clone();
    plain.optimizer = None;
    let err =
        analyze_checkpoint(&plain, Activation::Tanh, &t, &y, &mut m, &Faer, &horizon).unwrap_err();
    assert!(err.to_string().contains("record.checkpoints"), "{err}");
}

/// A 2-input network on an 8 x 8 grid with the monitor's radial rings: the same invariants as
/// in 1D (PSD, trace, shares per eigenvector sum to 1), and at s = 0 the prediction is the
/// checkpoint residual's own band errors.
#[test]
fn two_d_kernel_uses_the_ring_layout() {
    use crate::spectral::RingLayout;
    let (n, m) = (8usize, 8usize);
    let mut inputs = Vec::new();
    let mut y = Vec::new();
    for j in 0..m {
        for i in 0..n {
            let (x1, x2) = (i as f64 / n as f64, j as f64 / m as f64);
            inputs.extend([x1, x2]);
            y.push((TAU * x1).sin() + 0.5 * (TAU * (2.0 * x1 + 3.0 * x2)).cos());
        }
    }
    let shape = MlpShape::new(2, &[12], 1, Activation::Tanh);
    let mut rng = Pcg64::seed_from_u64(4);
    let params: Vec<f64> = shape.init_params(Init::Torch, &mut rng);
    let layout = RingLayout::build(&LayoutSpec::Octave, n, m, 1, &[]).unwrap();
    let mut meter = BandMeter::new(&y, layout);
    let jac = jacobian(&shape, &params, &inputs);
    let k = kernel_matrix(&jac, n * m, shape.n_params(), None);
    let spec = spectrum(&k, n * m, &Faer, &mut meter).unwrap();
    let sum: f64 = spec.eigenvalues.iter().sum();
    assert!((sum - spec.trace).abs() < 1e-10 * spec.trace);
    assert!(spec
        .eigenvalues
        .iter()
        .all(|&l| l > -1e-12 * spec.eigenvalues[0]));
    for row in &spec.shares {
        assert_eq!(row.len(), meter.bands().len());
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    let r0 = residual(&shape, &params, &inputs, &y);
    let horizon = Horizon {
        start_epoch: 0,
        epochs: vec![0, 5],
        steps_per_epoch: 1,
        thresholds: vec![0.1],
        window_end: 5.0,
        beyond: Vec::new(),
    };
    let pred = predict(&spec, &r0, 0.1, &horizon, &mut meter).unwrap();
    let direct = meter.rel_error(&r0);
    for (p, d) in pred.rel_error[0].iter().zip(&direct) {
        assert!(
            (p.is_nan() && d.is_nan()) || (p - d).abs() < 1e-10 * d.abs().max(1.0),
            "{p} vs {d}"
        );
    }
}

/// A kernel built from two known Fourier eigenvectors: the spectrum finds them in order, each
/// with all of its energy in its own band (dominant band and share row known exactly).
#[test]
fn dominant_band_and_shares_of_known_eigenvectors() {
    let n = 32;
    let t = grid(n);
    let unit = |k: f64| -> Vec<f64> {
        let v: Vec<f64> = t.iter().map(|&t| (TAU * k * t).cos()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter().map(|x| x / norm).collect()
    };
    let (c1, c8) = (unit(1.0), unit(8.0));
    let mut k = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            k[i * n + j] = 3.0 * c1[i] * c1[j] + 1.0 * c8[i] * c8[j];
        }
    }
    let y: Vec<f64> = c1.iter().zip(&c8).map(|(a, b)| a + b).collect();
    let mut m = meter(
        &y,
        LayoutSpec::Edges {
            edges: vec![0.5, 1.5, 7.5, 8.5],
        },
    );
    let labels: Vec<String> = m.bands().iter().map(|b| b.label.clone()).collect();
    let low = labels.iter().position(|l| l == "1 cyc").unwrap();
    let high = labels.iter().position(|l| l == "8 cyc").unwrap();
    let spec = spectrum(&k, n, &Faer, &mut m).unwrap();
    assert!((spec.eigenvalues[0] - 3.0).abs() < 1e-12);
    assert!((spec.eigenvalues[1] - 1.0).abs() < 1e-12);
    assert_eq!(spec.dominant_band[0], low);
    assert_eq!(spec.dominant_band[1], high);
    assert!(
        (spec.shares[0][low] - 1.0).abs() < 1e-12,
        "{:?}",
        spec.shares[0]
    );
    assert!(
        (spec.shares[1][high] - 1.0).abs() < 1e-12,
        "{:?}",
        spec.shares[1]
    );
    for row in &spec.shares {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
