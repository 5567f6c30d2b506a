//! Optimizers: the `Optimizer` trait, the description of each optimizer's hyperparameters,
//! and the registry that turns an `[optimizer]` config table into a running optimizer.
//!
//! An optimizer is written in one file: a struct holding its state (one slot per parameter,
//! laid out like the flat parameter buffer, so tensor `i` owns `tensors[i]` of every state
//! vector) that implements [`Optimizer`], plus an [`OptimizerDef`] that names it, documents
//! its hyperparameters and builds it. Float hyperparameters may be scheduled: the trainer
//! evaluates every schedule once per step and hands the values to `update` in
//! [`HyperValues`].
//!
//! # Writing an optimizer outside the crate (the plug-in contract)
//!
//! examples/lion.rs is a complete one-file example. The contract, which the built-ins follow:
//!
//! - **Definition** ([`OptimizerDef`]): `NAME` (the config's `[optimizer] name`, unique in the
//!   registry: [`Registry::register`] refuses a taken name, built-in or not), `ABOUT` (one line
//!   for `bandwise optimizers`), `PARAMS` (every hyperparameter except `lr`, which all take; the
//!   names `lr` and `name` are reserved) and `build`.
//! - **Hyperparameters** ([`ParamDoc`]): `Float` (with a default, or required) values can be
//!   scheduled: in a config every Float, like `lr`, is a number or a schedule table
//!   (`{ kind = "cosine", min, max, period, ... }`, see [`crate::optim::schedule`]); scheduled ones are
//!   recorded per epoch in epochs.csv. `Flag` and `Choice` are fixed for the run and reach the
//!   constructor in [`Settings`]. Configs are validated against `PARAMS` before anything runs
//!   (unknown key, missing required value, wrong type: errors naming `optimizer.<key>`).
//! - **Ranges** ([`ValidRange`], `ParamDoc::float(..).within(ValidRange::COEFFICIENT)`): each
//!   Float declares the interval it must stay in (any finite number if not declared); the
//!   registry checks every value a schedule can reach, for built-ins and plug-ins alike, and
//!   `bandwise optimizers` prints the ranges. Rules tying several hyperparameters together
//!   (sgd: Nesterov needs momentum > 0) go in [`OptimizerDef::check`].
//! - **init** (`build::<S>(settings, n_params)`): called once per run, for `S` = f32 or f64
//!   (the config's dtype), with the flags/choices and the total number of parameters. Allocate
//!   all state here: one `Vec<S>` of length `n_params` per state quantity (momentum, second
//!   moment, ...), indexed like the parameter buffer.
//! - **update** (`update(step, hp, params, grads, tensors)`): called once per training step,
//!   after the backward pass. `step` counts updates from 1 (for bias corrections); `hp` holds
//!   this step's value of `lr` and of every Float of `PARAMS` (`hp.get("beta1")`, f64, schedules
//!   already evaluated); `params` and `grads` are the flat buffers of the whole network (the
//!   gradient of the mean squared error of the batch); `tensors` gives the range of each
//!   parameter tensor in them, in the order W0, b0, W1, b1, ... (W_l is fan_in x fan_out,
//!   row-major), for rules that work per tensor (norms, RMS scaling). Update `params` in place;
//!   do not allocate (the hot loop does no avoidable per-step work). State slot `j` belongs to parameter `j`,
//!   so tensor `i`'s state is `state[tensors[i].clone()]`.
//! - **state** (optional, `state()`): the state vectors by name, each laid out like the
//!   parameters; runs write them into checkpoints (`record.checkpoints`). The kernel overlay
//!   ([`preconditioner`]) knows the preconditioners of the built-ins only.
//! - **Shared transforms** ([`transforms`]): coupled or decoupled weight decay
//!   ([`transforms::WeightDecay`]), bias-corrected moments ([`transforms::Moments`]) and the
//!   per-tensor RMS match ([`transforms::RmsMatch`]), so an optimizer file holds only its rule.
//! - **Use**: `let mut r = Registry::builtin(); r.register::<MyDef>()?;
//!   bandwise::cli::main_with(r)` gives the whole command line (`run`, `sweep`, `protocol`,
//!   `optimizers`) with the new name usable in configs like a built-in.

mod adam;
mod padam;
mod precondition;
mod registry;
mod rmsprop;
pub mod schedule;
mod sgd;
pub mod transforms;

pub use adam::{Adam, AdamW};
pub use padam::{PAdam, PadamNormalize};
pub use precondition::{preconditioner, OptimizerSnapshot, Preconditioner};
pub use registry::{OptimizerConfig, Registry, ResolvedOptimizer};
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use crate::base::scalar::Scalar;
use crate::optim::schedule::Schedule;
use std::ops::Range;

/// One optimizer instance with its state. `update` is called once per training step.
/// `Send`: sweeps train runs on several threads (each run owns its optimizer).
/// See the module docs for the full contract.
pub trait Optimizer<S: Scalar>: Send {
    /// Apply one update in place.
    /// - `step`: 1-based count of updates so far including this one (for bias correction);
    /// - `hp`: this step's value of every float hyperparameter the definition declares;
    /// - `params`, `grads`: the flat parameter and gradient buffers;
    /// - `tensors`: the range of each parameter tensor in those buffers (for per-tensor rules).
    ///
    /// Must not allocate: allocate state in the constructor.
    fn update(
        &mut self,
        step: u64,
        hp: &HyperValues,
        params: &mut [S],
        grads: &[S],
        tensors: &[Range<usize>],
    );

    /// The state vectors by name (each laid out like the parameter buffer), for checkpoints
    /// and the kernel's preconditioner ([`preconditioner`]). Default: no state.
    fn state(&self) -> Vec<(&'static str, &[S])> {
        Vec::new()
    }
}

/// The interval a float hyperparameter must stay in (every value a schedule can reach is
/// checked); the bounds are finite or infinite, each closed or open. Non-finite values are
/// always refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidRange {
    pub lo: f64,
    pub lo_open: bool,
    pub hi: f64,
    pub hi_open: bool,
}

impl ValidRange {
    /// Any finite number (the default for a plug-in's hyperparameter).
    pub const ANY: ValidRange = ValidRange::new(f64::NEG_INFINITY, true, f64::INFINITY, true);
    /// [0, inf): learning rates, eps, weight decay.
    pub const NON_NEGATIVE: ValidRange = ValidRange::new(0.0, false, f64::INFINITY, true);
    /// (0, inf): floors.
    pub const POSITIVE: ValidRange = ValidRange::new(0.0, true, f64::INFINITY, true);
    /// [0, 1): EMA coefficients and momentum.
    pub const COEFFICIENT: ValidRange = ValidRange::new(0.0, false, 1.0, true);

    pub const fn new(lo: f64, lo_open: bool, hi: f64, hi_open: bool) -> Self {
        ValidRange {
            lo,
            lo_open,
            hi,
            hi_open,
        }
    }

    /// Whether `x` (finite) lies in the range.
    pub fn contains(&self, x: f64) -> bool {
        let above = if self.lo_open {
            x > self.lo
        } else {
            x >= self.lo
        };
        let below = if self.hi_open {
            x < self.hi
        } else {
            x <= self.hi
        };
        x.is_finite() && above && below
    }
}

impl std::fmt::Display for ValidRange {
    /// `[0, 1)`, `>= 0`, `> 0`, `any finite number`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let num = crate::optim::short_number;
        match (self.lo.is_finite(), self.hi.is_finite()) {
            (false, false) => write!(f, "any finite number"),
            (true, false) => write!(
                f,
                "{} {}",
                if self.lo_open { ">" } else { ">=" },
                num(self.lo)
            ),
            (false, true) => write!(
                f,
                "{} {}",
                if self.hi_open { "<" } else { "<=" },
                num(self.hi)
            ),
            (true, true) => write!(
                f,
                "in {}{}, {}{}",
                if self.lo_open { "(" } else { "[" },
                num(self.lo),
                num(self.hi),
                if self.hi_open { ")" } else { "]" }
            ),
        }
    }
}

/// The shorter of Rust's plain and scientific renderings of `x` (`1e-8`, not `0.00000001`;
/// `0.999`, not `9.99e-1`).
pub fn short_number(x: f64) -> String {
    let plain = format!("{x}");
    let sci = format!("{x:e}");
    if sci.len() < plain.len() {
        sci
    } else {
        plain
    }
}

/// The value type of a declared hyperparameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind {
    /// A float that may be a constant or a schedule; `default` None means required. Every
    /// value it can take (a schedule's extremes included) must lie in `range`.
    Float {
        default: Option<f64>,
        range: ValidRange,
    },
    /// true/false.
    Flag { default: bool },
    /// One of a fixed list of words.
    Choice {
        options: &'static [&'static str],
        default: &'static str,
    },
}

/// The documentation and type of one hyperparameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamDoc {
    pub name: &'static str,
    pub kind: ParamKind,
    pub doc: &'static str,
}

impl ParamDoc {
    pub const fn float(name: &'static str, default: f64, doc: &'static str) -> Self {
        ParamDoc {
            name,
            kind: ParamKind::Float {
                default: Some(default),
                range: ValidRange::ANY,
            },
            doc,
        }
    }
    /// The same float hyperparameter restricted to `range` (checked before any run starts;
    /// `bandwise optimizers` prints it). A no-op on flags and choices.
    pub const fn within(self, range: ValidRange) -> Self {
        let kind = match self.kind {
            ParamKind::Float { default, .. } => ParamKind::Float { default, range },
            other => other,
        };
        ParamDoc { kind, ..self }
    }
    pub const fn required(name: &'static str, doc: &'static str) -> Self {
        ParamDoc {
            name,
            kind: ParamKind::Float {
                default: None,
                range: ValidRange::ANY,
            },
            doc,
        }
    }
    pub const fn flag(name: &'static str, default: bool, doc: &'static str) -> Self {
        ParamDoc {
            name,
            kind: ParamKind::Flag { default },
            doc,
        }
    }
    pub const fn choice(
        name: &'static str,
        options: &'static [&'static str],
        default: &'static str,
        doc: &'static str,
    ) -> Self {
        ParamDoc {
            name,
            kind: ParamKind::Choice { options, default },
            doc,
        }
    }
}

/// The learning rate every optimizer takes.
pub const LR: ParamDoc =
    ParamDoc::required("lr", "learning rate (number or schedule)").within(ValidRange::NON_NEGATIVE);

/// This step's value of every float hyperparameter, by name. Updated in place by the trainer.
#[derive(Debug, Clone)]
pub struct HyperValues {
    names: Vec<&'static str>,
    values: Vec<f64>,
}

impl HyperValues {
    pub fn new(names: Vec<&'static str>) -> Self {
        let values = vec![0.0; names.len()];
        HyperValues { names, values }
    }

    /// The value of `name`. Panics if the optimizer's definition did not declare it (a bug in
    /// that definition, not a user error: configs are validated against the declaration).
    pub fn get(&self, name: &str) -> f64 {
        let i = self.names.iter().position(|n| *n == name);
        self.values[i.unwrap_or_else(|| panic!("hyperparameter `{name}` was not declared"))]
    }

    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    pub fn values(&self) -> &[f64] {
        &self.values
    }

    pub fn values_mut(&mut self) -> &mut [f64] {
        &mut self.values
    }
}

/// The non-float settings of a resolved optimizer config, for constructors.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub flags: Vec<(&'static str, bool)>,
    pub choices: Vec<(&'static str, String)>,
}

impl Settings {
    pub fn flag(&self, name: &str) -> bool {
        self.flags
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("flag `{name}` was not declared"))
    }
    pub fn choice(&self, name: &str) -> &str {
        self.choices
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("choice `{name}` was not declared"))
    }
}

/// The definition of an optimizer: its name, its hyperparameters and its constructor.
/// Register one with [`Registry::register`].
pub trait OptimizerDef: 'static {
    /// The name used in configs (`[optimizer] name = "..."`).
    const NAME: &'static str;
    /// One line for `bandwise optimizers`.
    const ABOUT: &'static str;
    /// Every hyperparameter except `lr`, which all optimizers take.
    const PARAMS: &'static [ParamDoc];
    /// Build the optimizer for `n_params` parameters.
    fn build<S: Scalar>(settings: &Settings, n_params: usize) -> Box<dyn Optimizer<S>>;
    /// Rules that tie several hyperparameters together (each one's own range is declared in
    /// `PARAMS` and checked by the registry). Called once, before any run starts, with the
    /// flags/choices and every float's schedule; return an error naming `optimizer.<key>`.
    fn check(_settings: &Settings, _floats: &[(&'static str, Schedule)]) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
// `&[0..n]` is a list of one tensor's index range, not a mistaken range vector.
#[allow(clippy::single_range_in_vec_init)]
pub(crate) mod testing {
    //! Shared helpers for the optimizer tests: run an optimizer on the quadratic
    //! f(x) = sum c_i x_i^2 / 2 with gradient c_i x_i.
    use super::*;

    pub fn run<O: Optimizer<f64> + ?Sized>(
        opt: &mut O,
        hp: &HyperValues,
        x0: &[f64],
        c: &[f64],
        steps: u64,
    ) -> Vec<Vec<f64>> {
        let mut x = x0.to_vec();
        let whole = 0..x.len();
        let tensors = std::slice::from_ref(&whole);
        let mut path = Vec::new();
        for t in 1..=steps {
            let g: Vec<f64> = x.iter().zip(c).map(|(x, c)| c * x).collect();
            opt.update(t, hp, &mut x, &g, tensors);
            path.push(x.clone());
        }
        path
    }

    pub fn hyper(pairs: &[(&'static str, f64)]) -> HyperValues {
        let mut hv = HyperValues::new(pairs.iter().map(|p| p.0).collect());
        for (v, p) in hv.values_mut().iter_mut().zip(pairs) {
            *v = p.1;
        }
        hv
    }
}
