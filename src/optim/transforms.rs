//! The pieces optimizers share, so that an optimizer file holds only its own rule: weight decay
//! (coupled L2 or decoupled), bias-corrected first and second moments, and the per-tensor RMS
//! match. Each is an exact factoring of the arithmetic the built-ins used before (the
//! trajectories are bit-identical); plug-ins may use them through `bandwise::optim::transforms`.

use super::{HyperValues, ParamDoc, ValidRange};
use crate::base::scalar::Scalar;

/// `weight_decay` as an L2 penalty added to the gradient (Adam, RMSProp, SGD), default 0.
pub const L2_WEIGHT_DECAY: ParamDoc =
    ParamDoc::float("weight_decay", 0.0, "L2 penalty added to the gradient")
        .within(ValidRange::NON_NEGATIVE);

/// Weight decay, read once per step from `weight_decay` (and `lr`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightDecay<S> {
    /// Coupled (L2): g += wd x before the rule; the update is x -= step.
    Coupled(S),
    /// Decoupled (AdamW): the update is x = x (1 - lr wd) - step; the gradient is untouched.
    Decoupled(S),
}

impl<S: Scalar> WeightDecay<S> {
    /// L2 weight decay `weight_decay` added to the gradient.
    pub fn coupled(hp: &HyperValues) -> Self {
        WeightDecay::Coupled(S::of(hp.get("weight_decay")))
    }

    /// Decoupled weight decay: the factor 1 - lr * `weight_decay` (computed in f64).
    pub fn decoupled(hp: &HyperValues) -> Self {
        WeightDecay::Decoupled(S::of(1.0 - hp.get("lr") * hp.get("weight_decay")))
    }

    /// The gradient the rule sees.
    #[inline(always)]
    pub fn grad(&self, g: S, x: S) -> S {
        match *self {
            WeightDecay::Coupled(wd) => g + wd * x,
            WeightDecay::Decoupled(_) => g,
        }
    }

    /// The parameter after subtracting the rule's `step` (already scaled by the lr).
    #[inline(always)]
    pub fn apply(&self, x: S, step: S) -> S {
        match *self {
            WeightDecay::Coupled(_) => x - step,
            WeightDecay::Decoupled(decay) => x * decay - step,
        }
    }
}

/// Bias correction factor 1 - beta^t computed in f64 (`step` counts from 1).
#[inline]
pub fn bias_correction(beta: f64, step: u64) -> f64 {
    1.0 - beta.powi(step.min(i32::MAX as u64) as i32)
}

/// Adam's two moments with their bias corrections for one step, from `beta1` and `beta2`:
/// m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, returning (m/(1-b1^t), v/(1-b2^t)).
#[derive(Debug, Clone, Copy)]
pub struct Moments<S> {
    b1: S,
    b2: S,
    c1: S,
    c2: S,
    inv_bc1: S,
    inv_bc2: S,
}

impl<S: Scalar> Moments<S> {
    pub fn new(hp: &HyperValues, step: u64) -> Self {
        let (b1, b2) = (hp.get("beta1"), hp.get("beta2"));
        let inv_bc1 = S::of(1.0 / bias_correction(b1, step));
        let inv_bc2 = S::of(1.0 / bias_correction(b2, step));
        let (b1, b2) = (S::of(b1), S::of(b2));
        Moments {
            b1,
            b2,
            c1: S::one() - b1,
            c2: S::one() - b2,
            inv_bc1,
            inv_bc2,
        }
    }

    /// Update one parameter's moments with gradient `g`; the bias-corrected (mh, vh).
    #[inline(always)]
    pub fn update(&self, m: &mut S, v: &mut S, g: S) -> (S, S) {
        *m = self.b1 * *m + self.c1 * g;
        *v = self.b2 * *v + self.c2 * g * g;
        (*m * self.inv_bc1, *v * self.inv_bc2)
    }
}

/// Per-tensor RMS match: accumulate the squares of an update `u` and of a reference update
/// `r` over one tensor, then [`RmsMatch::scale`] gives the factor lr * rms(r)/rms(u) that
/// gives `u` the size of `r` (0 when `u` is all zero). Sums are taken in f64.
#[derive(Debug, Clone, Copy, Default)]
pub struct RmsMatch {
    ss_u: f64,
    ss_r: f64,
}

impl RmsMatch {
    #[inline(always)]
    pub fn add<S: Scalar>(&mut self, u: S, r: S) {
        self.ss_u += (u * u).f64();
        self.ss_r += (r * r).f64();
    }

    pub fn scale<S: Scalar>(&self, lr: f64) -> S {
        if self.ss_u > 0.0 {
            S::of(lr * (self.ss_r / self.ss_u).sqrt())
        } else {
            S::zero()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::hyper;
    use super::*;

    #[test]
    fn weight_decay_forms() {
        let hp = hyper(&[("lr", 0.1), ("weight_decay", 0.5)]);
        let c = WeightDecay::<f64>::coupled(&hp);
        assert_eq!((c.grad(1.0, 2.0), c.apply(2.0, 0.25)), (2.0, 1.75));
        let d = WeightDecay::<f64>::decoupled(&hp);
        assert_eq!(
            (d.grad(1.0, 2.0), d.apply(2.0, 0.25)),
            (1.0, 2.0 * 0.95 - 0.25)
        );
    }

    #[test]
    fn moments_first_step_are_the_gradient() {
        let hp = hyper(&[("beta1", 0.9), ("beta2", 0.999)]);
        let mo = Moments::<f64>::new(&hp, 1);
        let (mut m, mut v) = (0.0, 0.0);
        let (mh, vh) = mo.update(&mut m, &mut v, 3.0);
        assert!((mh - 3.0).abs() < 1e-14 && (vh - 9.0).abs() < 1e-12);
        assert!((m - 0.3).abs() < 1e-15 && (v - 0.009).abs() < 1e-15);
        assert_eq!(bias_correction(0.5, 2), 0.75);
    }

    #[test]
    fn rms_match_scales_to_the_reference() {
        let mut acc = RmsMatch::default();
        for (u, r) in [(1.0, 2.0), (-1.0, 2.0)] {
            acc.add::<f64>(u, r);
        }
        assert_eq!(acc.scale::<f64>(0.5), 1.0);
        assert_eq!(RmsMatch::default().scale::<f64>(1.0), 0.0);
    }
}
