//! Layer 5, tasks: what a network is asked to fit, on which grid.
//!
//! [`target`] builds the 1D targets (sums of sines, scattered points) and dispatches the 2D
//! kinds to [`target2d`] (plane waves on a square grid, with ring bands); [`class_labels`]
//! (synthetic classes from band-limited functions), [`dataset`] (user data from NPY/CSV) and
//! [`cross_entropy`] (the softmax loss) are the classification parts, not yet wired into runs.

pub mod class_labels;
pub mod cross_entropy;
pub mod dataset;
pub mod objective;
pub mod spec;
pub mod target;
pub mod target2d;
