//! RMSProp with `torch.optim.RMSprop` semantics (not centred): v = alpha v + (1-alpha) g^2;
//! buf = mu buf + g/(sqrt(v)+eps) (or buf = g/(sqrt(v)+eps) without momentum); x -= lr buf.

use super::transforms::{WeightDecay, L2_WEIGHT_DECAY};
use super::{HyperValues, Optimizer, OptimizerDef, ParamDoc, Settings, ValidRange};
use crate::base::scalar::Scalar;
use std::ops::Range;

pub struct RmsProp<S> {
    v: Vec<S>,
    buf: Vec<S>,
}

impl OptimizerDef for RmsProp<f64> {
    const NAME: &'static str = "rmsprop";
    const ABOUT: &'static str = "RMSProp (torch.optim.RMSprop semantics, not centred)";
    const PARAMS: &'static [ParamDoc] = &[
        ParamDoc::float("alpha", 0.99, "second-moment EMA coefficient")
            .within(ValidRange::COEFFICIENT),
        ParamDoc::float("eps", 1e-8, "added to the denominator").within(ValidRange::NON_NEGATIVE),
        ParamDoc::float("momentum", 0.0, "momentum on the scaled step")
            .within(ValidRange::COEFFICIENT),
        L2_WEIGHT_DECAY,
    ];
    fn build<T: Scalar>(_: &Settings, n: usize) -> Box<dyn Optimizer<T>> {
        Box::new(RmsProp {
            v: vec![T::zero(); n],
            buf: vec![T::zero(); n],
        })
    }
}

impl<S: Scalar> Optimizer<S> for RmsProp<S> {
    fn state(&self) -> Vec<(&'static str, &[S])> {
        vec![("v", &self.v), ("momentum_buffer", &self.buf)]
    }

    fn update(
        &mut self,
        _step: u64,
        hp: &HyperValues,
        params: &mut [S],
        grads: &[S],
        _: &[Range<usize>],
    ) {
        let lr = S::of(hp.get("lr"));
        let alpha = S::of(hp.get("alpha"));
        let eps = S::of(hp.get("eps"));
        let mu = S::of(hp.get("momentum"));
        let decay = WeightDecay::coupled(hp);
        for (((x, &g), v), b) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.v)
            .zip(&mut self.buf)
        {
            let g = decay.grad(g, *x);
            *v = alpha * *v + (S::one() - alpha) * g * g;
            *b = mu * *b + g / (v.sqrt() + eps);
            *x = decay.apply(*x, lr * *b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{hyper, run};
    use super::*;

    #[test]
    fn rmsprop_steps_by_hand() {
        let mut opt = RmsProp::<f64>::build::<f64>(&Settings::default(), 1);
        let hp = hyper(&[
            ("lr", 0.01),
            ("alpha", 0.9),
            ("eps", 0.0),
            ("momentum", 0.0),
            ("weight_decay", 0.0),
        ]);
        let path = run(opt.as_mut(), &hp, &[1.0], &[2.0], 2);
        // step 1: g = 2, v = 0.4, x = 1 - 0.01 * 2/sqrt(0.4)
        let x1 = 1.0 - 0.01 * 2.0 / 0.4f64.sqrt();
        assert!((path[0][0] - x1).abs() < 1e-15);
        let g2 = 2.0 * x1;
        let v2 = 0.9 * 0.4 + 0.1 * g2 * g2;
        assert!((path[1][0] - (x1 - 0.01 * g2 / v2.sqrt())).abs() < 1e-15);
    }
}
