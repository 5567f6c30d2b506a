//! bandwise: measure how an optimizer spreads learning across frequencies.
//!
//! Data flow: config -> [`experiment::config::Experiment`] -> [`task::target::Target`] +
//! [`nn::model`] + [`optim`] -> [`engine::train`] (per evaluated epoch:
//! [`engine::monitor`] runs the [`spectral`] measures) -> [`record`] (run directory on disk)
//! -> [`analysis`] (reports, verdicts) and [`plot`] (figures from records); [`app`] combines
//! runs (sweeps, protocol, the main job) and [`cli`] parses arguments.

// Lints that flag deliberate idioms here (new in clippy 1.95): `!(x > 0.0)` is the NaN-rejecting
// validation check, the fast-tanh coefficients are kept exactly as fitted, and a one-element
// array of ranges is a one-tensor layout (`&[0..n]`), not a mistaken `Vec` of a range.
// Unsafe code is denied; the one exception is base::vector's AVX-512 kernel (CPU support
// checked at run time, results tested bit-identical to the portable loop).
#![deny(unsafe_code)]
#![allow(
    clippy::neg_cmp_op_on_partial_ord,
    clippy::excessive_precision,
    clippy::single_range_in_vec_init
)]

// The layers, bottom to top: base, spectral, optim, nn, task, experiment, record, engine,
// analysis, plot, app, cli (rustfmt sorts the declarations below alphabetically). A module may
// use only its own layer and the layers below it; tests/layers.rs enforces it by scanning
// `use crate::` paths.
pub mod analysis;
pub mod app;
pub mod base;
pub mod cli;
pub mod engine;
pub mod experiment;
pub mod nn;
pub mod optim;
pub mod plot;
pub mod record;
pub mod spectral;
pub mod task;
