//! A built target of any kind: its training and test grids and its kind's facts. Each kind
//! lives in one file of [`crate::task::targets`] and has one arm in [`TargetKind`].

use crate::spectral::Peak;
use crate::task::grid::GridData;
use crate::task::spec::TargetSpec;
use crate::task::targets::sines::{self, Component};
use crate::task::targets::waves2d::{self, Waves2d};

/// A built target: its training and test grids and its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub train: GridData,
    pub test: GridData,
    pub kind: TargetKind,
}

/// The kinds of target, one arm each.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetKind {
    /// 1D sum of sines on an `N`-point grid.
    Sines(Vec<Component>),
    /// 2D plane waves and products on an `N x M` grid.
    Waves2d(Waves2d),
    /// Scattered points read from files (`kind = "dataset"`): feature rows, no grid, no peaks.
    Dataset { features: usize },
}

impl Target {
    /// Build from a validated spec and the run seed (phases "random" and noise draw from it).
    pub fn build(spec: &TargetSpec, seed: u64) -> Target {
        let (kind, train, test) = match &spec.waves2d {
            Some(w) => {
                let (w, train, test) = waves2d::build(spec, w, seed);
                (TargetKind::Waves2d(w), train, test)
            }
            None => {
                let (c, train, test) = sines::build(spec, seed);
                (TargetKind::Sines(c), train, test)
            }
        };
        Target { train, test, kind }
    }

    /// The training grid `[N]` or `[N, M]`.
    pub fn dims(&self) -> Vec<usize> {
        match &self.kind {
            TargetKind::Sines(_) | TargetKind::Dataset { .. } => vec![self.train.len()],
            TargetKind::Waves2d(w) => w.dims.to_vec(),
        }
    }

    /// The target's spectral peaks, in the order of the per-peak records.
    pub fn peaks(&self) -> Vec<Peak> {
        match &self.kind {
            TargetKind::Sines(c) => c
                .iter()
                .map(|c| Peak::new(&[c.k as i64], c.amplitude))
                .collect(),
            TargetKind::Waves2d(w) => w.peaks.clone(),
            TargetKind::Dataset { .. } => Vec::new(),
        }
    }

    /// The 1D sine components (empty for other kinds).
    pub fn components(&self) -> &[Component] {
        match &self.kind {
            TargetKind::Sines(c) => c,
            TargetKind::Waves2d(_) | TargetKind::Dataset { .. } => &[],
        }
    }
}
