//! Target kinds, one file each: [`sines`] (1D sums of sines) and [`waves2d`] (2D plane
//! waves). A kind builds its components and grids; [`crate::task::target::TargetKind`] has
//! one arm per kind.

pub mod sines;
pub mod waves2d;
