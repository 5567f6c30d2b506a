//! Layer 1, the base: numbers and files with no knowledge of bandwise's science.
//!
//! [`scalar`] (f32/f64 and the fast tanh), [`vector`] (the bias-and-tanh pass, AVX-512 at run time), [`gemm`] (the matrix products of the MLP), [`threads`] (how one training's large passes are split over threads),
//! [`rng`] (named deterministic streams), [`signal_io`] (NPY and CSV arrays),
//! [`suggest`] ("did you mean" for misspelt names), [`linalg`] (symmetric eigendecomposition, faer or LAPACK), [`hash`] (stable ids), [`stats`] (t quantile,
//! intervals, means, Spearman, configuration keys), [`toml_path`] (dotted
//! paths and `--set` assignments).

pub mod gemm;
pub mod hash;
pub mod linalg;
pub mod rng;
pub mod scalar;
pub mod signal_io;
pub mod stats;
pub mod suggest;
pub mod threads;
pub mod toml_path;
pub mod vector;
