//! SGD with optional heavy-ball or Nesterov momentum and coupled weight decay, with PyTorch's
//! `torch.optim.SGD` semantics (dampening 0): g += wd*x; buf = mu*buf + g;
//! d = g + mu*buf (Nesterov) or buf; x -= lr*d.

use super::transforms::{WeightDecay, L2_WEIGHT_DECAY};
use super::{HyperValues, Optimizer, OptimizerDef, ParamDoc, Settings, ValidRange};
use crate::base::scalar::Scalar;
use crate::optim::schedule::Schedule;
use std::ops::Range;

pub struct Sgd<S> {
    nesterov: bool,
    buf: Vec<S>,
}

impl OptimizerDef for Sgd<f64> {
    const NAME: &'static str = "sgd";
    const ABOUT: &'static str =
        "SGD with momentum (PyTorch semantics), optional Nesterov and weight decay";
    const PARAMS: &'static [ParamDoc] = &[
        ParamDoc::float("momentum", 0.0, "heavy-ball momentum mu").within(ValidRange::COEFFICIENT),
        L2_WEIGHT_DECAY,
        ParamDoc::flag("nesterov", false, "Nesterov momentum"),
    ];
    fn build<T: Scalar>(settings: &Settings, n_params: usize) -> Box<dyn Optimizer<T>> {
        Box::new(Sgd {
            nesterov: settings.flag("nesterov"),
            buf: vec![T::zero(); n_params],
        })
    }
    /// Nesterov needs momentum (as in PyTorch): with mu = 0 it silently is plain SGD.
    fn check(settings: &Settings, floats: &[(&'static str, Schedule)]) -> Result<(), String> {
        let momentum = floats.iter().find(|(n, _)| *n == "momentum");
        let zero = momentum.is_some_and(|(_, s)| s.extremes().contains(&0.0));
        if settings.flag("nesterov") && zero {
            return Err("optimizer.nesterov = true needs optimizer.momentum > 0 at every epoch (Nesterov with momentum 0 is plain SGD); set momentum, e.g. 0.9, or drop nesterov".into());
        }
        Ok(())
    }
}

impl<S: Scalar> Optimizer<S> for Sgd<S> {
    fn state(&self) -> Vec<(&'static str, &[S])> {
        vec![("momentum_buffer", &self.buf)]
    }

    fn update(
        &mut self,
        step: u64,
        hp: &HyperValues,
        params: &mut [S],
        grads: &[S],
        _tensors: &[Range<usize>],
    ) {
        let lr = S::of(hp.get("lr"));
        let mu = S::of(hp.get("momentum"));
        let decay = WeightDecay::coupled(hp);
        let first = step == 1;
        for ((x, &g), b) in params.iter_mut().zip(grads).zip(&mut self.buf) {
            let g = decay.grad(g, *x);
            // PyTorch initialises the buffer with the first gradient.
            *b = if first { g } else { mu * *b + g };
            let d = if self.nesterov { g + mu * *b } else { *b };
            *x = decay.apply(*x, lr * d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{hyper, run};
    use super::*;

    fn settings(nesterov: bool) -> Settings {
        Settings {
            flags: vec![("nesterov", nesterov)],
            choices: vec![],
        }
    }

    #[test]
    fn plain_and_momentum_steps_by_hand() {
        // f = 2 x^2 (c = 4), x0 = 1, lr = 0.1.
        let mut opt = Sgd::<f64>::build::<f64>(&settings(false), 1);
        let hp = hyper(&[("lr", 0.1), ("momentum", 0.0), ("weight_decay", 0.0)]);
        let path = run(opt.as_mut(), &hp, &[1.0], &[4.0], 2);
        assert!((path[0][0] - 0.6).abs() < 1e-15);
        assert!((path[1][0] - 0.36).abs() < 1e-15);

        let mut opt = Sgd::<f64>::build::<f64>(&settings(false), 1);
        let hp = hyper(&[("lr", 0.1), ("momentum", 0.9), ("weight_decay", 0.0)]);
        let path = run(opt.as_mut(), &hp, &[1.0], &[4.0], 2);
        // step 1: buf = 4, x = 0.6; step 2: g = 2.4, buf = 3.6 + 2.4 = 6, x = 0.
        assert!((path[0][0] - 0.6).abs() < 1e-15);
        assert!(path[1][0].abs() < 1e-15);
    }

    #[test]
    fn nesterov_and_weight_decay_by_hand() {
        let mut opt = Sgd::<f64>::build::<f64>(&settings(true), 1);
        let hp = hyper(&[("lr", 0.1), ("momentum", 0.5), ("weight_decay", 1.0)]);
        let path = run(opt.as_mut(), &hp, &[1.0], &[4.0], 2);
        // step 1: g = 4 + 1 = 5, buf = 5, d = 5 + 2.5 = 7.5, x = 0.25
        assert!((path[0][0] - 0.25).abs() < 1e-15);
        // step 2: g = 1 + 0.25 = 1.25, buf = 2.5 + 1.25 = 3.75, d = 1.25 + 1.875 = 3.125, x = -0.0625
        assert!((path[1][0] + 0.0625).abs() < 1e-15);
    }
}
