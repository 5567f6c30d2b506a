//! The (preconditioned) neural tangent kernel on the training grid and what it predicts for
//! each spectral band. Formulas and where the prediction fails: docs/theory.md.
//!
//! - `K_P = J P J^T / N` with J the Jacobian of the N outputs w.r.t. the parameters
//!   ([`crate::nn::jacobian`]) and P the optimizer's diagonal preconditioner
//!   ([`crate::optim::preconditioner`]); `K` is the same with P = I ([`spectrum`]).
//! - Eigendecomposition `K_P = U diag(lambda) U^T` ([`crate::base::linalg`], eigenvalues
//!   largest first); eigenvector i's **share** of band b is its Parseval band energy over its
//!   total (the monitor's own band measure, [`meter`], so 1D and 2D layouts are exactly the
//!   monitor's); each row of shares sums to 1.
//! - Per band, the **effective rate** `rate_b = sum_i lambda_i s_ib / sum_i s_ib`.
//! - **Linearised prediction** ([`predict`]): with `a_i = <u_i, r_0>` for the checkpoint
//!   residual r_0, after s updates `r_s = sum_i a_i (1 - lr_eff lambda_i)^s u_i`. Band
//!   relative errors, first crossings and the preference index follow by the report's rules.
//! - [`checkpoint`]: all of it for one checkpoint file; [`run_dir`]: for a run directory
//!   (kernel.json, the per-band table, predicted against measured band order).

pub mod checkpoint;
pub mod meter;
pub mod predict;
pub mod run_dir;
pub mod spectrum;

pub use checkpoint::{analyze_checkpoint, CheckpointKernel};
pub use meter::{BandInfo, BandMeter};
pub use predict::{evolve, predict, project, Horizon, Prediction};
pub use spectrum::{kernel_matrix, spectrum, KernelSpectrum};

#[cfg(test)]
mod tests;
