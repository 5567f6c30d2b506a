//! PAdam, the p-exponent family of Natural Spectral Fusion (arXiv:2509.04713) in its SMES form:
//!
//!   m = b1 m + (1-b1) g,  v = b2 v + (1-b2) g^2,  mh = m/(1-b1^t),  vh = v/(1-b2^t)
//!   x -= lr * mh / (vh^p + eps)
//!
//! p = 0.5 is Adam; p = 0 is SGD with EMA momentum (step lr*mh/(1+eps)); p < 0 multiplies the
//! step by vh^|p|. (Another convention writes sqrt(vh)^p' with Adam at p' = 1: p' = 2p.)
//!
//! Guard (ours): for p < 0, vh is floored at `v_floor` before the power so that vh = 0 gives
//! a large finite factor, never inf or NaN. For p >= 0 nothing is changed, so p = 0.5 is
//! Adam bit for bit.
//!
//! `normalize = "rms"` (this toolkit's option, NOT the paper's): each tensor's update is
//! rescaled to the RMS of the p = 0 update of that tensor (mh/(1+eps)), so that p changes the
//! direction of the step and not its size. Weight decay is decoupled (AdamW style).

use super::adam::BETAS_EPS;
use super::transforms::{Moments, RmsMatch, WeightDecay};
use super::{HyperValues, Optimizer, OptimizerDef, ParamDoc, Settings, ValidRange};
use crate::base::scalar::Scalar;
use std::ops::Range;

/// How PAdam scales each tensor's update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadamNormalize {
    /// The paper's rule as written.
    None,
    /// Rescale to the RMS of the p = 0 update (bandwise's option).
    Rms,
}

pub struct PAdam<S> {
    normalize: PadamNormalize,
    m: Vec<S>,
    v: Vec<S>,
    /// Scratch for the unscaled update (used by rms normalisation).
    u: Vec<S>,
}

impl OptimizerDef for PAdam<f64> {
    const NAME: &'static str = "padam";
    const ABOUT: &'static str =
        "p-exponent Adam (NSF/SMES): x -= lr*mh/(vh^p + eps); p = 0.5 is Adam, p = 0 SGD-like";
    const PARAMS: &'static [ParamDoc] = &[
        ParamDoc::required("p", "exponent of the second moment (number or schedule); 0.5 = Adam"),
        BETAS_EPS[0],
        BETAS_EPS[1],
        BETAS_EPS[2],
        ParamDoc::float("weight_decay", 0.0, "decoupled weight decay x -= lr*wd*x")
            .within(ValidRange::NON_NEGATIVE),
        ParamDoc::float("v_floor", 1e-30, "for p < 0: vh is floored here before the power (ours)")
            .within(ValidRange::POSITIVE),
        ParamDoc::choice("normalize", &["none", "rms"], "none", "\"rms\": rescale each tensor's update to the RMS of the p = 0 update (ours, not the paper's)"),
    ];
    fn build<T: Scalar>(settings: &Settings, n: usize) -> Box<dyn Optimizer<T>> {
        let normalize = match settings.choice("normalize") {
            "rms" => PadamNormalize::Rms,
            _ => PadamNormalize::None,
        };
        Box::new(PAdam {
            normalize,
            m: vec![T::zero(); n],
            v: vec![T::zero(); n],
            u: vec![T::zero(); n],
        })
    }
}

/// vh^p, with exact shortcuts (sqrt, 1, vh) for the common exponents.
#[inline(always)]
pub(super) fn power<S: Scalar>(vh: S, p: f64, pf: S, floor: S) -> S {
    if p == 0.5 {
        vh.sqrt()
    } else if p == 0.0 {
        S::one()
    } else if p == 1.0 {
        vh
    } else if p < 0.0 {
        let base = vh.max(floor);
        if p == -0.5 {
            S::one() / base.sqrt()
        } else {
            base.powf(pf)
        }
    } else {
        vh.powf(pf)
    }
}

impl<S: Scalar> Optimizer<S> for PAdam<S> {
    fn state(&self) -> Vec<(&'static str, &[S])> {
        vec![("m", &self.m), ("v", &self.v)]
    }

    fn update(
        &mut self,
        step: u64,
        hp: &HyperValues,
        params: &mut [S],
        grads: &[S],
        tensors: &[Range<usize>],
    ) {
        let (lr, p) = (hp.get("lr"), hp.get("p"));
        let eps = S::of(hp.get("eps"));
        let decay = WeightDecay::decoupled(hp);
        let floor = S::of(hp.get("v_floor"));
        let pf = S::of(p);
        let moments = Moments::new(hp, step);
        let lr_s = S::of(lr);
        match self.normalize {
            PadamNormalize::None => {
                for (((x, &g), m), v) in params
                    .iter_mut()
                    .zip(grads)
                    .zip(&mut self.m)
                    .zip(&mut self.v)
                {
                    let (mh, vh) = moments.update(m, v, g);
                    *x = decay.apply(*x, lr_s * mh / (power(vh, p, pf, floor) + eps));
                }
            }
            PadamNormalize::Rms => {
                let one_eps = S::one() + eps;
                for range in tensors {
                    let r = range.clone();
                    let mut rms = RmsMatch::default();
                    for (((u, &g), m), v) in self.u[r.clone()]
                        .iter_mut()
                        .zip(&grads[r.clone()])
                        .zip(&mut self.m[r.clone()])
                        .zip(&mut self.v[r.clone()])
                    {
                        let (mh, vh) = moments.update(m, v, g);
                        *u = mh / (power(vh, p, pf, floor) + eps);
                        rms.add(*u, mh / one_eps);
                    }
                    let scale: S = rms.scale(lr);
                    for (x, &u) in params[r.clone()].iter_mut().zip(&self.u[r]) {
                        *x = decay.apply(*x, scale * u);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
// `&[0..n]` is a list of one tensor's index range, not a mistaken range vector.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::super::testing::{hyper, run};
    use super::super::Adam;
    use super::*;

    fn padam(normalize: &str, n: usize) -> Box<dyn Optimizer<f64>> {
        let s = Settings {
            flags: vec![],
            choices: vec![("normalize", normalize.to_string())],
        };
        PAdam::<f64>::build::<f64>(&s, n)
    }

    fn hp(p: f64, eps: f64) -> HyperValues {
        hyper(&[
            ("lr", 0.01),
            ("p", p),
            ("beta1", 0.9),
            ("beta2", 0.999),
            ("eps", eps),
            ("weight_decay", 0.0),
            ("v_floor", 1e-30),
        ])
    }

    const X0: [f64; 4] = [1.0, -2.0, 0.5, 3.0];
    const C: [f64; 4] = [3.0, 0.5, 10.0, 0.01];

    #[test]
    fn p_half_is_adam_step_for_step() {
        let ours = run(padam("none", 4).as_mut(), &hp(0.5, 1e-8), &X0, &C, 200);
        let mut adam = Adam::<f64>::build::<f64>(&Settings::default(), 4);
        let adam_hp = hyper(&[
            ("lr", 0.01),
            ("beta1", 0.9),
            ("beta2", 0.999),
            ("eps", 1e-8),
            ("weight_decay", 0.0),
        ]);
        let reference = run(adam.as_mut(), &adam_hp, &X0, &C, 200);
        assert_eq!(ours, reference, "bit-identical to Adam");
    }

    #[test]
    fn p_zero_is_ema_momentum_sgd() {
        // Reference: x -= lr * mh with bias-corrected EMA momentum (eps = 0 makes it exact).
        let ours = run(padam("none", 4).as_mut(), &hp(0.0, 0.0), &X0, &C, 100);
        let mut x = X0.to_vec();
        let mut m = [0.0; 4];
        for (t, row) in ours.iter().enumerate() {
            for i in 0..4 {
                let g = C[i] * x[i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                x[i] -= 0.01 * m[i] / (1.0 - 0.9f64.powi(t as i32 + 1));
            }
            for i in 0..4 {
                assert!(
                    (row[i] - x[i]).abs() <= 1e-15 * (1.0 + x[i].abs()),
                    "step {t} coord {i}"
                );
            }
        }
    }

    #[test]
    fn negative_p_by_hand_and_never_nan() {
        // First step: mh = g, vh = g^2, step = lr * g / (|g|^(2p) + eps); p = -0.5: lr*g*|g|.
        let path = run(padam("none", 1).as_mut(), &hp(-0.5, 0.0), &[2.0], &[1.5], 1);
        assert!((path[0][0] - (2.0 - 0.01 * 3.0 * 3.0)).abs() < 1e-12);
        let path = run(
            padam("none", 1).as_mut(),
            &hp(-0.25, 1e-8),
            &[2.0],
            &[1.5],
            1,
        );
        let g: f64 = 3.0;
        assert!((path[0][0] - (2.0 - 0.01 * g / (g.powf(-0.5) + 1e-8))).abs() < 1e-12);
        // Zero and tiny gradients with negative p: finite everywhere, f32 and f64.
        for p in [-0.25, -0.5, -1.0, -2.0] {
            let path = run(
                padam("none", 3).as_mut(),
                &hp(p, 1e-8),
                &[0.0, 1e-20, 1.0],
                &[1.0, 1.0, 0.0],
                50,
            );
            assert!(path.iter().flatten().all(|x| x.is_finite()), "p = {p}");
            let s = Settings {
                flags: vec![],
                choices: vec![("normalize", "none".into())],
            };
            let mut opt32 = PAdam::<f64>::build::<f32>(&s, 2);
            let mut x = [0.0f32, 1e-20];
            for t in 1..=20 {
                let g = [0.0f32, x[1]];
                opt32.update(t, &hp(p, 1e-8), &mut x, &g, std::slice::from_ref(&(0..2)));
            }
            assert!(x.iter().all(|v| v.is_finite()), "f32 p = {p}: {x:?}");
        }
    }

    #[test]
    fn rms_normalisation_matches_p0_step_size() {
        // One tensor: after one step, ||x1 - x0|| equals that of the p = 0 step for any p.
        let reference = run(padam("none", 4).as_mut(), &hp(0.0, 1e-8), &X0, &C, 1);
        let norm = |row: &[f64]| {
            row.iter()
                .zip(&X0)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        for p in [-0.5, 0.25, 0.5] {
            let ours = run(padam("rms", 4).as_mut(), &hp(p, 1e-8), &X0, &C, 1);
            assert!(
                (norm(&ours[0]) - norm(&reference[0])).abs() < 1e-12,
                "p = {p}"
            );
        }
        // At p = 0 normalisation changes nothing.
        let same = run(padam("rms", 4).as_mut(), &hp(0.0, 1e-8), &X0, &C, 30);
        let plain = run(padam("none", 4).as_mut(), &hp(0.0, 1e-8), &X0, &C, 30);
        for (a, b) in same.iter().flatten().zip(plain.iter().flatten()) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn rms_normalisation_is_per_tensor() {
        let s = Settings {
            flags: vec![],
            choices: vec![("normalize", "rms".into())],
        };
        let mut opt = PAdam::<f64>::build::<f64>(&s, 4);
        let mut x = X0;
        let g: Vec<f64> = X0.iter().zip(&C).map(|(x, c)| x * c).collect();
        opt.update(1, &hp(-0.5, 1e-8), &mut x, &g, &[0..2, 2..4]);
        for r in [0..2, 2..4] {
            let ours: f64 = r
                .clone()
                .map(|i| (x[i] - X0[i]).powi(2))
                .sum::<f64>()
                .sqrt();
            let p0: f64 = r
                .map(|i| (0.01 * g[i] / (1.0 + 1e-8)).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!((ours - p0).abs() < 1e-12);
        }
    }
}
