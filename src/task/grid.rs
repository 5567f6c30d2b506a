//! The sampled grids of a task: coordinates and values of `points` on a grid of any dims.

/// Samples of the target on one grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridData {
    /// Grid coordinates in [0, 1): one per point in 1D; `points x 2` row-major `(x, y)` in
    /// 2D (see [`crate::task::targets::waves2d`]).
    pub t: Vec<f64>,
    /// Values the network is fitted to (with noise on the training grid, if any).
    pub y: Vec<f64>,
    /// Noise-free values.
    pub y_clean: Vec<f64>,
}

impl GridData {
    /// Number of grid points (`t` holds `len() x d` coordinates, row-major).
    pub fn len(&self) -> usize {
        self.y.len()
    }
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
    /// Coordinates per point: 1 for 1D grids, 2 for 2D.
    pub fn dim(&self) -> usize {
        self.t.len() / self.y.len().max(1)
    }
}
