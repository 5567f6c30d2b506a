//! Adam (coupled L2 weight decay, as `torch.optim.Adam`) and AdamW (decoupled weight decay,
//! as `torch.optim.AdamW`): x -= lr * mh / (sqrt(vh) + eps) with bias-corrected moments.

use super::transforms::{Moments, WeightDecay, L2_WEIGHT_DECAY};
use super::{HyperValues, Optimizer, OptimizerDef, ParamDoc, Settings, ValidRange};
use crate::base::scalar::Scalar;
use std::ops::Range;

pub(crate) const BETAS_EPS: [ParamDoc; 3] = [
    ParamDoc::float("beta1", 0.9, "first-moment EMA coefficient").within(ValidRange::COEFFICIENT),
    ParamDoc::float("beta2", 0.999, "second-moment EMA coefficient")
        .within(ValidRange::COEFFICIENT),
    ParamDoc::float("eps", 1e-8, "added to the denominator").within(ValidRange::NON_NEGATIVE),
];

/// Adam; `decoupled` selects AdamW's weight decay.
pub struct Adam<S> {
    decoupled: bool,
    m: Vec<S>,
    v: Vec<S>,
}

/// AdamW: Adam with decoupled weight decay.
pub struct AdamW;

impl OptimizerDef for Adam<f64> {
    const NAME: &'static str = "adam";
    const ABOUT: &'static str = "Adam (Kingma & Ba), coupled L2 weight decay as torch.optim.Adam";
    const PARAMS: &'static [ParamDoc] =
        &[BETAS_EPS[0], BETAS_EPS[1], BETAS_EPS[2], L2_WEIGHT_DECAY];
    fn build<T: Scalar>(_: &Settings, n: usize) -> Box<dyn Optimizer<T>> {
        Box::new(Adam {
            decoupled: false,
            m: vec![T::zero(); n],
            v: vec![T::zero(); n],
        })
    }
}

impl OptimizerDef for AdamW {
    const NAME: &'static str = "adamw";
    const ABOUT: &'static str = "AdamW (Loshchilov & Hutter): decoupled weight decay x -= lr*wd*x";
    const PARAMS: &'static [ParamDoc] = &[
        BETAS_EPS[0],
        BETAS_EPS[1],
        BETAS_EPS[2],
        ParamDoc::float("weight_decay", 0.01, "decoupled weight decay")
            .within(ValidRange::NON_NEGATIVE),
    ];
    fn build<T: Scalar>(_: &Settings, n: usize) -> Box<dyn Optimizer<T>> {
        Box::new(Adam {
            decoupled: true,
            m: vec![T::zero(); n],
            v: vec![T::zero(); n],
        })
    }
}

impl<S: Scalar> Optimizer<S> for Adam<S> {
    fn state(&self) -> Vec<(&'static str, &[S])> {
        vec![("m", &self.m), ("v", &self.v)]
    }

    fn update(
        &mut self,
        step: u64,
        hp: &HyperValues,
        params: &mut [S],
        grads: &[S],
        _: &[Range<usize>],
    ) {
        let (lr, eps) = (S::of(hp.get("lr")), S::of(hp.get("eps")));
        let moments = Moments::new(hp, step);
        let decay = if self.decoupled {
            WeightDecay::decoupled(hp)
        } else {
            WeightDecay::coupled(hp)
        };
        for (((x, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            let (mh, vh) = moments.update(m, v, decay.grad(g, *x));
            *x = decay.apply(*x, lr * mh / (vh.sqrt() + eps));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{hyper, run};
    use super::*;

    #[test]
    fn adam_first_steps_by_hand() {
        // With bias correction the first step is lr * g/(|g| + eps) ~ lr * sign(g).
        let mut opt = Adam::<f64>::build::<f64>(&Settings::default(), 2);
        let hp = hyper(&[
            ("lr", 0.01),
            ("beta1", 0.9),
            ("beta2", 0.999),
            ("eps", 1e-8),
            ("weight_decay", 0.0),
        ]);
        let path = run(opt.as_mut(), &hp, &[1.0, -2.0], &[3.0, 0.5], 2);
        let step1 = 0.01 * 3.0 / (3.0 + 1e-8);
        assert!((path[0][0] - (1.0 - step1)).abs() < 1e-15);
        assert!((path[0][1] - (-2.0 + 0.01 * 1.0 / (1.0 + 1e-8))).abs() < 1e-15);
        // Second step for coordinate 0 by hand.
        let x1 = 1.0 - step1;
        let (g1, g2) = (3.0, 3.0 * x1);
        let m = 0.9 * 0.1 * g1 + 0.1 * g2;
        let v = 0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2;
        let (mh, vh) = (m / (1.0 - 0.81), v / (1.0 - 0.999f64.powi(2)));
        assert!((path[1][0] - (x1 - 0.01 * mh / (vh.sqrt() + 1e-8))).abs() < 1e-14);
    }

    #[test]
    fn adamw_decays_weights_decoupled() {
        // Zero gradient: Adam's step is 0 and only the decay acts: x *= 1 - lr*wd.
        let mut opt = AdamW::build::<f64>(&Settings::default(), 1);
        let hp = hyper(&[
            ("lr", 0.1),
            ("beta1", 0.9),
            ("beta2", 0.999),
            ("eps", 1e-8),
            ("weight_decay", 0.5),
        ]);
        let path = run(opt.as_mut(), &hp, &[2.0], &[0.0], 3);
        assert!((path[2][0] - 2.0 * 0.95f64.powi(3)).abs() < 1e-14);
        // Coupled Adam with zero gradient and wd moves by ~lr*sign(x) per step instead.
        let mut opt = Adam::<f64>::build::<f64>(&Settings::default(), 1);
        let path = run(opt.as_mut(), &hp, &[2.0], &[0.0], 1);
        assert!((path[0][0] - (2.0 - 0.1 * 1.0 / (1.0 + 1e-8 / 1.0))).abs() < 1e-9);
    }
}
