//! Layer 5, tasks: what a network is asked to fit, on which grid.
//!
//! [`grid`] (sampled grids of any dims) -> [`targets`] (one file per target kind) ->
//! [`target`] (the built target, one enum arm per kind); [`objective`] says what fitting
//! means (MSE, softmax cross-entropy). Classification tasks: [`class_labels`] (synthetic
//! classes from band-limited functions on the grids, `target.classes`), [`dataset`]
//! (features and labels from NPY/CSV files, `target.kind = "dataset"`) and [`classify`]
//! (both turned into a [`target::Target`] of class indices).

pub mod class_labels;
pub mod classify;
pub mod dataset;
pub mod grid;
pub mod objective;
pub mod spec;
pub mod target;
pub mod targets;
