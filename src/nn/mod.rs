//! Layer 4, networks: the MLP ([`model`]: forward, backward, workspace) and its input maps
//! ([`features`]: random Fourier features) and the Jacobian of its outputs ([`jacobian`]).

pub mod features;
pub mod jacobian;
pub mod model;
pub mod spec;
