//! bandwise: measure how an optimizer spreads learning across frequencies.
//!
//! Data flow: config -> [`config::Experiment`] -> [`target`] + [`model`] + [`optim`] ->
//! [`train`] (per evaluated epoch: [`monitor`] runs the [`spectral`] measures) ->
//! [`record`] (run directory on disk) -> [`plot`] (figures from records).

pub mod cli;
pub mod config;
pub mod load;
pub mod model;
pub mod monitor;
pub mod optim;
pub mod plot;
pub mod record;
pub mod report;
pub mod rng;
pub mod run;
pub mod scalar;
pub mod schedule;
pub mod spectral;
pub mod suggest;
pub mod target;
pub mod train;
