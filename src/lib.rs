//! bandwise: measure how an optimizer spreads learning across frequencies.
//!
//! Data flow: config -> [`config::Experiment`] -> [`target`] + [`model`] + [`optim`] ->
//! [`train`] (per evaluated epoch: [`monitor`] runs the [`spectral`] measures) ->
//! [`record`] (run directory on disk) -> [`plot`] (figures from records).

// Lints that flag deliberate idioms here (new in clippy 1.95): `!(x > 0.0)` is the NaN-rejecting
// validation check, the fast-tanh coefficients are kept exactly as fitted, and a one-element
// array of ranges is a one-tensor layout (`&[0..n]`), not a mistaken `Vec` of a range.
#![allow(
    clippy::neg_cmp_op_on_partial_ord,
    clippy::excessive_precision,
    clippy::single_range_in_vec_init
)]

pub mod bench;
pub mod budget;
pub mod class_labels;
pub mod cli;
pub mod commit;
pub mod config;
pub mod cross_entropy;
pub mod dataset;
pub mod features;
pub mod figures;
pub mod filtering;
pub mod fingerprint;
pub mod gemm;
pub mod import;
pub mod load;
pub mod model;
pub mod monitor;
pub mod optim;
pub mod plot;
pub mod protocol;
pub mod record;
pub mod report;
pub mod rng;
pub mod run;
pub mod run2d;
pub mod scalar;
pub mod schedule;
pub mod signal_io;
pub mod slurm;
pub mod spectral;
pub mod suggest;
pub mod sweep;
pub mod target;
pub mod target2d;
pub mod train;
