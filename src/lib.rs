//! bandwise: measure how an optimizer spreads learning across frequencies.
//!
//! Data flow: config -> [`config::Experiment`] -> [`target`] + [`model`] + [`optim`] ->
//! [`train`] (per evaluated epoch: [`monitor`] runs the [`spectral`] measures) ->
//! [`record`] (run directory on disk).

pub mod config;
pub mod model;
pub mod optim;
pub mod rng;
pub mod scalar;
pub mod schedule;
pub mod spectral;
pub mod suggest;
pub mod target;
pub mod train;
pub mod monitor;
pub mod record;
pub mod run;
pub mod cli;
