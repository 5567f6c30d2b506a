//! bandwise: measure how an optimizer spreads learning across frequencies.
//!
//! Data flow: config -> [`config::Experiment`] -> [`target`] + [`model`] + [`optim`] ->
//! [`train`] (per evaluated epoch: spectral monitor) -> [`record`] (run directory on disk).

pub mod model;
pub mod optim;
pub mod scalar;
pub mod schedule;
pub mod suggest;
