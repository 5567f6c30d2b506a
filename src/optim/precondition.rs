//! The diagonal preconditioner P of each built-in optimizer, read from its state at a
//! checkpoint, and the effective step that turns one update into the linearised residual map
//! r <- (I - lr_eff K_P) r (see docs/theory.md).
//!
//! With the training loss L = mean(r^2) over N outputs, the gradient is (2/N) J^T r and an
//! update theta -= lr * P * d (d the momentum direction) moves the outputs by
//! -lr J P d. In the steady state of the momentum (slowly varying gradient) d = c g with
//!
//! | optimizer | P_jj | c (momentum factor) |
//! |---|---|---|
//! | sgd | 1 | 1/(1-momentum) (heavy ball and Nesterov, PyTorch form buf = mu buf + g) |
//! | adam, adamw | 1/(sqrt(vh_j) + eps), vh = v/(1-beta2^t) | 1 (EMA momentum with bias correction: mh -> g) |
//! | padam | 1/(vh_j^p + eps), vh floored at v_floor when p < 0 | 1 (as Adam) |
//! | rmsprop | 1/(sqrt(v_j) + eps) (no bias correction) | 1/(1-momentum) |
//!
//! so lr_eff = 2 lr c and K_P = J P J^T / N. PAdam's `normalize = "rms"` rescales each
//! tensor's P by the ratio RMS(mh/(1+eps)) / RMS(mh/(vh^p+eps)) evaluated on the stored
//! state (the scale is frozen at its checkpoint value, which the real optimizer is not).
//! Weight decay is left out of the map (it is not driven by the residual). At step 0 (the
//! state is all zeros) the first update's moments are used: mh = g, vh = g^2 (RMSProp:
//! v = (1-alpha) g^2), which needs the gradient at the checkpoint.

use super::padam::power;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;

/// An optimizer as a checkpoint stores it: what [`preconditioner`] needs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OptimizerSnapshot {
    /// Registry name (`[optimizer] name`).
    pub name: String,
    /// Updates done so far (the `step` of the last `update`; 0 before training).
    pub step: u64,
    /// Every float hyperparameter (lr included) at this step, schedules evaluated.
    pub hyper: BTreeMap<String, f64>,
    /// Choices and flags (flags as "true"/"false"), e.g. padam's `normalize`.
    pub settings: BTreeMap<String, String>,
    /// The state vectors by name ([`super::Optimizer::state`]), f64.
    pub state: BTreeMap<String, Vec<f64>>,
}

/// A diagonal preconditioner and its effective step.
#[derive(Debug, Clone, PartialEq)]
pub struct Preconditioner {
    /// P_jj, one per parameter.
    pub diag: Vec<f64>,
    /// The learning rate at the checkpoint.
    pub lr: f64,
    /// Steady-state momentum factor c (see the module docs).
    pub momentum_factor: f64,
    /// 2 * lr * c: the step of r <- (I - lr_eff K_P) r per update.
    pub lr_eff: f64,
    /// The formula used, for records ("1/(vh^p + eps), p = 0.25, eps = 1e-8").
    pub formula: String,
}

/// The preconditioner of the optimizer `opt` (hyperparameters, step and state at the
/// checkpoint) for parameter tensors at `tensors`. `grad` (the full-batch gradient at the
/// checkpoint) is needed only at `opt.step == 0`.
pub fn preconditioner(
    opt: &OptimizerSnapshot,
    tensors: &[Range<usize>],
    grad: Option<&[f64]>,
) -> Result<Preconditioner> {
    let (name, hp, step, state) = (opt.name.as_str(), &opt.hyper, opt.step, &opt.state);
    let n = tensors.last().map_or(0, |t| t.end);
    let get = |key: &str| -> Result<f64> {
        hp.get(key).copied().with_context(|| {
            format!("checkpoint hyperparameters: `{key}` is missing for optimizer `{name}`; the checkpoint must list every float hyperparameter at its epoch")
        })
    };
    let vec = |key: &str| -> Result<&[f64]> {
        let v = state.get(key).with_context(|| {
            format!("checkpoint optimizer state: `{key}` is missing for optimizer `{name}` at step {step}; write checkpoints with the optimizer's state()")
        })?;
        if v.len() != n {
            bail!("checkpoint optimizer state: `{key}` has {} values but the model has {n} parameters", v.len());
        }
        Ok(v)
    };
    let fresh_grad = || -> Result<&[f64]> {
        let g = grad.context("preconditioner at step 0: the optimizer state is empty, pass the gradient at the checkpoint")?;
        if g.len() != n {
            bail!(
                "preconditioner: gradient has {} values, the model has {n} parameters",
                g.len()
            );
        }
        Ok(g)
    };
    let lr = get("lr")?;
    // (first moment mh, second moment vh) per parameter, bias-corrected.
    let moments = |b1: f64, b2: f64| -> Result<(Vec<f64>, Vec<f64>)> {
        if step == 0 {
            let g = fresh_grad()?;
            return Ok((g.to_vec(), g.iter().map(|g| g * g).collect()));
        }
        let (bc1, bc2) = (
            super::transforms::bias_correction(b1, step),
            super::transforms::bias_correction(b2, step),
        );
        Ok((
            vec("m")?.iter().map(|m| m / bc1).collect(),
            vec("v")?.iter().map(|v| v / bc2).collect(),
        ))
    };
    let (diag, c, formula) = match name {
        "sgd" => {
            let mu = get("momentum")?;
            (vec![1.0; n], 1.0 / (1.0 - mu), format!("P = I, momentum {mu}"))
        }
        "adam" | "adamw" => {
            let eps = get("eps")?;
            let (_, vh) = moments(get("beta1")?, get("beta2")?)?;
            let diag = vh.iter().map(|v| 1.0 / (v.sqrt() + eps)).collect();
            (diag, 1.0, format!("P = 1/(sqrt(vh) + eps), eps = {eps:e}"))
        }
        "padam" => {
            let (p, eps, floor) = (get("p")?, get("eps")?, get("v_floor")?);
            let (mh, vh) = moments(get("beta1")?, get("beta2")?)?;
            let mut diag: Vec<f64> = vh
                .iter()
                .map(|&v| 1.0 / (power(v, p, p, floor) + eps))
                .collect();
            let rms = opt.settings.get("normalize").is_some_and(|s| s == "rms");
            if rms {
                for r in tensors {
                    let ss_p: f64 = r.clone().map(|j| (mh[j] * diag[j]).powi(2)).sum();
                    let ss_0: f64 = r.clone().map(|j| (mh[j] / (1.0 + eps)).powi(2)).sum();
                    let scale = if ss_p > 0.0 { (ss_0 / ss_p).sqrt() } else { 0.0 };
                    diag[r.clone()].iter_mut().for_each(|d| *d *= scale);
                }
            }
            let norm = if rms { ", rms-normalised per tensor" } else { "" };
            (
                diag,
                1.0,
                format!("P = 1/(vh^p + eps), p = {p}, eps = {eps:e}{norm}"),
            )
        }
        "rmsprop" => {
            let (alpha, eps, mu) = (get("alpha")?, get("eps")?, get("momentum")?);
            let v: Vec<f64> = if step == 0 {
                fresh_grad()?
                    .iter()
                    .map(|g| (1.0 - alpha) * g * g)
                    .collect()
            } else {
                vec("v")?.to_vec()
            };
            let diag = v.iter().map(|v| 1.0 / (v.sqrt() + eps)).collect();
            (
                diag,
                1.0 / (1.0 - mu),
                format!("P = 1/(sqrt(v) + eps), eps = {eps:e}, momentum {mu}"),
            )
        }
        other => bail!(
            "no preconditioner is known for optimizer `{other}`; the kernel supports sgd, adam, adamw, padam and rmsprop"
        ),
    };
    Ok(Preconditioner {
        diag,
        lr,
        momentum_factor: c,
        lr_eff: 2.0 * lr * c,
        formula,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::hyper;
    use super::super::{Adam, Optimizer, OptimizerDef, PAdam, Settings, Sgd};
    use super::*;

    fn map(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn state_of(opt: &dyn Optimizer<f64>) -> BTreeMap<String, Vec<f64>> {
        opt.state()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect()
    }

    fn snap(
        name: &str,
        step: u64,
        hyper: BTreeMap<String, f64>,
        state: BTreeMap<String, Vec<f64>>,
    ) -> OptimizerSnapshot {
        OptimizerSnapshot {
            name: name.into(),
            step,
            hyper,
            settings: BTreeMap::new(),
            state,
        }
    }

    /// One optimizer update equals theta -= lr * P * mh exactly when the preconditioner is
    /// read from the state after that update (for Adam/PAdam, whose update is lr*mh*P).
    #[test]
    fn padam_and_adam_update_is_lr_times_p_times_mh() {
        let pairs = [
            ("lr", 0.01),
            ("p", 0.25),
            ("beta1", 0.9),
            ("beta2", 0.999),
            ("eps", 1e-8),
            ("weight_decay", 0.0),
            ("v_floor", 1e-30),
        ];
        for (name, p) in [
            ("padam", 0.25),
            ("padam", -0.5),
            ("padam", 0.0),
            ("adam", 0.5),
        ] {
            let mut pairs = pairs.to_vec();
            pairs[1].1 = p;
            let hp = hyper(&pairs);
            let mut opt: Box<dyn Optimizer<f64>> = if name == "adam" {
                Adam::<f64>::build::<f64>(&Settings::default(), 3)
            } else {
                let s = Settings {
                    flags: vec![],
                    choices: vec![("normalize", "none".into())],
                };
                PAdam::<f64>::build::<f64>(&s, 3)
            };
            let mut x = vec![1.0, -2.0, 0.5];
            let whole = [0..3];
            for t in 1..=5u64 {
                let g: Vec<f64> = x.iter().map(|x| 2.0 * x + 0.3).collect();
                let before = x.clone();
                opt.update(t, &hp, &mut x, &g, &whole);
                let state = state_of(opt.as_ref());
                let pc = preconditioner(&snap(name, t, map(&pairs), state.clone()), &whole, None)
                    .unwrap();
                let bc1 = 1.0 - 0.9f64.powi(t as i32);
                for j in 0..3 {
                    let predicted = before[j] - 0.01 * pc.diag[j] * state["m"][j] / bc1;
                    assert!(
                        (predicted - x[j]).abs() < 1e-15,
                        "{name} p={p} t={t} j={j}: {predicted} vs {}",
                        x[j]
                    );
                }
                assert_eq!(pc.lr_eff, 0.02);
            }
        }
    }

    #[test]
    fn sgd_is_identity_with_heavy_ball_factor_and_step_zero_uses_the_gradient() {
        let opt = Sgd::<f64>::build::<f64>(
            &Settings {
                flags: vec![("nesterov", false)],
                choices: vec![],
            },
            2,
        );
        let hp = map(&[("lr", 0.1), ("momentum", 0.9), ("weight_decay", 0.0)]);
        let pc =
            preconditioner(&snap("sgd", 0, hp, state_of(opt.as_ref())), &[0..2], None).unwrap();
        assert_eq!(pc.diag, vec![1.0, 1.0]);
        assert!((pc.lr_eff - 2.0).abs() < 1e-12, "2 * 0.1 / (1 - 0.9)");
        // Adam at step 0: vh = g^2, so P = 1/(|g| + eps).
        let hp = map(&[("lr", 0.1), ("beta1", 0.9), ("beta2", 0.999), ("eps", 0.0)]);
        let empty = BTreeMap::new();
        let s = |name: &str, step| snap(name, step, hp.clone(), empty.clone());
        let err = preconditioner(&s("adam", 0), &[0..2], None).unwrap_err();
        assert!(err.to_string().contains("pass the gradient"), "{err}");
        let pc = preconditioner(&s("adam", 0), &[0..2], Some(&[2.0, -0.5])).unwrap();
        assert_eq!(pc.diag, vec![0.5, 2.0]);
        let err = preconditioner(&s("adam", 3), &[0..2], None).unwrap_err();
        assert!(err.to_string().contains("`m` is missing"), "{err}");
        let err = preconditioner(&s("lion", 3), &[0..2], None).unwrap_err();
        assert!(err.to_string().contains("`lion`"), "{err}");
    }

    #[test]
    fn padam_rms_matches_p0_step_size_per_tensor() {
        let hp = map(&[
            ("lr", 0.01),
            ("p", -0.5),
            ("beta1", 0.9),
            ("beta2", 0.999),
            ("eps", 1e-8),
            ("v_floor", 1e-30),
        ]);
        let g = [3.0, 0.1, -2.0, 0.5];
        let tensors = [0..2, 2..4];
        let mut opt = snap("padam", 0, hp, BTreeMap::new());
        opt.settings.insert("normalize".into(), "rms".into());
        let pc = preconditioner(&opt, &tensors, Some(&g)).unwrap();
        for r in tensors {
            let ours: f64 = r.clone().map(|j| (pc.diag[j] * g[j]).powi(2)).sum();
            let p0: f64 = r.map(|j| (g[j] / (1.0 + 1e-8)).powi(2)).sum();
            assert!((ours - p0).abs() < 1e-12 * p0);
        }
    }
}
