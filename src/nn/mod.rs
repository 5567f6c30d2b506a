//! Layer 4, networks: the MLP ([`model`]: forward, backward, workspace) and its input maps
//! ([`features`]: random Fourier features).

pub mod features;
pub mod model;
pub mod spec;
