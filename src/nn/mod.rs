//! Layer 4, networks: the MLP ([`model`]: forward, backward, workspace) and its input maps
//! ([`features`]: random Fourier features) and the Jacobian of its outputs ([`jacobian`]).

/// Names the arithmetic of training (kernels, their order of operations) for record keeping:
/// it changes whenever a change to the engine changes results, even at round-off, so that
/// runs trained before and after are not mixed in one sweep directory (sweep.json records
/// it, and resuming a directory written with other numerics is refused).
pub const NUMERICS: &str = "2026-12-01: f32 tanh polynomial in fused multiply-adds";

pub mod features;
pub mod jacobian;
pub mod model;
pub mod spec;
