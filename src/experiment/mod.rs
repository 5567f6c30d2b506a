//! Layer 6, the experiment: one run's whole description, parsed and validated before any work.
//!
//! [`config`] (the TOML schema and its checks), [`config::budget`] (the memory a run will
//! need, refused beyond the machine), [`fingerprint`] (what makes two runs' targets the same).

pub mod config;
pub mod fingerprint;
