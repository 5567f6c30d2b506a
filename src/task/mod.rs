//! Layer 5, tasks: what a network is asked to fit, on which grid.
//!
//! [`target`] builds the 1D targets (sums of sines, scattered points) and dispatches the 2D
//! kinds to [`target2d`] (plane waves on a square grid, with ring bands); [`objective`] says
//! what fitting means (MSE, softmax cross-entropy). Classification tasks: [`class_labels`]
//! (synthetic classes from band-limited functions on the grids, `target.classes`),
//! [`dataset`] (features and labels from NPY/CSV files, `target.kind = "dataset"`) and
//! [`classify`] (both turned into a [`target::Target`] of class indices).

pub mod class_labels;
pub mod classify;
pub mod dataset;
pub mod objective;
pub mod spec;
pub mod target;
pub mod target2d;
