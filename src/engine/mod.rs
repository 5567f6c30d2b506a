//! Layer 8, the engine: training with observers.
//!
//! [`train`] (the loop, divergence detection, evaluated epochs) -> [`monitor`] (the spectral
//! monitor observes each evaluated epoch) -> [`run`] (one run end to end, written through
//! [`crate::record`]); [`run2d`] holds the 2D-only record files, [`classify`] the
//! classification runs (cross-entropy, per-class accuracy, filtering method).

pub mod classify;
pub mod monitor;
pub mod run;
pub mod run2d;
pub mod train;
