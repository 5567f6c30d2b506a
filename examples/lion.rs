//! A plug-in optimizer in one file: Lion (Chen et al. 2023, "Symbolic Discovery of
//! Optimization Algorithms", arXiv:2302.06675), which bandwise does not ship.
//!
//! ```text
//! c = b1 m + (1 - b1) g          (interpolation used for the step)
//! x = x - lr (sign(c) + wd x)    (decoupled weight decay; sign(0) = 0)
//! m = b2 m + (1 - b2) g          (momentum tracked with a second beta)
//! ```
//!
//! defaults b1 = 0.9, b2 = 0.99, wd = 0 (the paper's). Lion's steps have size lr in every
//! coordinate, so its fair lr is usually 3-10x smaller than Adam's; the protocol's lr search
//! finds it.
//!
//! Registering it gives the whole command line, with `lion` usable in configs like a built-in:
//!
//! ```text
//! cargo run --release --example lion -- optimizers
//! cargo run --release --example lion -- protocol --optimizer lion --quick
//! cargo run --release --example lion -- protocol --optimizer lion --set beta2=0.98
//! cargo run --release --example lion -- run my_lion_config.toml   # [optimizer] name = "lion"
//! ```

use bandwise::base::scalar::Scalar;
use bandwise::optim::{
    HyperValues, Optimizer, OptimizerDef, ParamDoc, Registry, Settings, ValidRange,
};
use std::ops::Range;
use std::process::ExitCode;

/// The definition: name, documented hyperparameters, constructor.
pub struct Lion;

/// The state: one momentum slot per parameter, laid out like the flat parameter buffer.
pub struct LionState<S> {
    m: Vec<S>,
}

impl OptimizerDef for Lion {
    const NAME: &'static str = "lion";
    const ABOUT: &'static str =
        "Lion (Chen et al. 2023): x -= lr*(sign(b1 m + (1-b1) g) + wd x); m = b2 m + (1-b2) g";
    // Every Float entry may be a number or a schedule in a config (like lr). `within` declares
    // its valid range: the registry refuses any config value (or schedule extreme) outside it.
    const PARAMS: &'static [ParamDoc] = &[
        ParamDoc::float(
            "beta1",
            0.9,
            "interpolation weight of the momentum in the step",
        )
        .within(ValidRange::COEFFICIENT),
        ParamDoc::float("beta2", 0.99, "decay of the momentum").within(ValidRange::COEFFICIENT),
        ParamDoc::float("weight_decay", 0.0, "decoupled weight decay x -= lr*wd*x")
            .within(ValidRange::NON_NEGATIVE),
    ];
    fn build<S: Scalar>(_settings: &Settings, n_params: usize) -> Box<dyn Optimizer<S>> {
        Box::new(LionState {
            m: vec![S::zero(); n_params],
        })
    }
}

impl<S: Scalar> Optimizer<S> for LionState<S> {
    fn update(
        &mut self,
        _step: u64,
        hp: &HyperValues,
        params: &mut [S],
        grads: &[S],
        _tensors: &[Range<usize>],
    ) {
        let lr = S::of(hp.get("lr"));
        let (b1, b2) = (S::of(hp.get("beta1")), S::of(hp.get("beta2")));
        let wd = S::of(hp.get("weight_decay"));
        let (c1, c2) = (S::one() - b1, S::one() - b2);
        for ((x, &g), m) in params.iter_mut().zip(grads).zip(&mut self.m) {
            let c = b1 * *m + c1 * g;
            let sign = if c > S::zero() {
                S::one()
            } else if c < S::zero() {
                -S::one()
            } else {
                S::zero()
            };
            *x = *x - lr * (sign + wd * *x);
            *m = b2 * *m + c2 * g;
        }
    }
}

/// The built-in optimizers plus Lion.
pub fn registry() -> Registry {
    let mut registry = Registry::builtin();
    registry
        .register::<Lion>()
        .expect("`lion` is not a built-in name");
    registry
}

fn main() -> ExitCode {
    bandwise::cli::main_with(registry())
}
