//! Layer 11, applications: the commands' work, without any command-line parsing.
//!
//! [`sweep`] (many runs, resumable, parallel), [`protocol`] (the standard frequency-preference
//! protocol), [`figures`] (the main job: every built-in analysis), [`import`] (records from
//! predictions made elsewhere), [`bench`] (speed), [`slurm`] (job scripts for a cluster).

pub mod bench;
pub mod figures;
pub mod import;
pub mod protocol;
pub mod protocol_external;
pub mod slurm;
pub mod sweep;
