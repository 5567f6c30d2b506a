//! Layer 8, the engine: training with observers.
//!
//! [`train`] (the loop, divergence detection, evaluated epochs) -> [`monitor`] (the spectral
//! monitor observes each evaluated epoch) -> [`run`] (one run end to end, written through
//! [`crate::record`]), the same code for grids of any dims; [`classify`] holds the
//! classification runs' extra records (per-class accuracy, filtering method); [`external`]
//! runs a trainer outside bandwise (PyTorch) under the same records.

pub mod classify;
pub mod external;
pub mod monitor;
pub mod run;
pub mod train;
