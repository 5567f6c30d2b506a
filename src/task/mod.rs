//! Layer 5, tasks: what a network is asked to fit, on which grid.
//!
//! [`grid`] (sampled grids of any dims) -> [`targets`] (one file per target kind) ->
//! [`target`] (the built target, one enum arm per kind).

pub mod grid;
pub mod spec;
pub mod target;
pub mod targets;
