//! Layer 8, the engine: training with observers.
//!
//! [`train`] (the loop, divergence detection, evaluated epochs) -> [`monitor`] (the spectral
//! monitor observes each evaluated epoch) -> [`run`] (one run end to end, written through
//! [`crate::record`]), the same code for grids of any dims.

pub mod external;
pub mod monitor;
pub mod run;
pub mod train;
