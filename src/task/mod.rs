//! Layer 5, tasks: what a network is asked to fit, on which grid.
//!
//! [`grid`] (sampled grids of any dims) -> [`targets`] (one file per target kind) ->
//! [`target`] (the built target, one enum arm per kind). [`class_labels`] (synthetic classes
//! from band-limited functions), [`dataset`] (user data from NPY/CSV) and [`cross_entropy`]
//! (the softmax loss) are the classification parts.

pub mod class_labels;
pub mod cross_entropy;
pub mod dataset;
pub mod grid;
pub mod spec;
pub mod target;
pub mod targets;
