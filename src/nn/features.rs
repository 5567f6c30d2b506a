//! The map from grid coordinates to network inputs, applied once per run before training
//! (the MLP just sees a wider input):
//!
//! - default: each coordinate `v` in `[0, 1)` becomes `lo + (hi - lo) v` (`model.input_range`),
//!   so a `d`-dimensional grid gives `d` inputs;
//! - `model.fourier_features = { count, scale }` (Tancik et al., NeurIPS 2020): random
//!   Gaussian features `gamma(v) = [cos(2 pi B v), sin(2 pi B v)]` of the raw coordinates
//!   `v` in `[0, 1)^d`, `B` a `count x d` matrix with entries N(0, scale^2) drawn from the run
//!   seed (stream `Features`); `2 count` inputs, all cosines first.
//!
//! Inputs are row-major `points x width`.

use crate::base::rng::{stream, Stream};
use crate::nn::spec::ModelSpec;
use rand_distr::{Distribution, Normal};

/// A coordinate-to-input map for `d`-dimensional grids.
#[derive(Debug, Clone, PartialEq)]
pub struct InputMap {
    dim: usize,
    range: [f64; 2],
    /// `count x dim`, row-major; empty for the linear map.
    b: Vec<f64>,
}

impl InputMap {
    /// The map of `model` for `dim`-dimensional coordinates (features seeded from `seed`).
    pub fn new(model: &ModelSpec, dim: usize, seed: u64) -> InputMap {
        let b = match &model.fourier_features {
            None => Vec::new(),
            Some(ff) => {
                let normal = Normal::new(0.0, ff.scale).expect("validated scale");
                let mut rng = stream(seed, Stream::Features);
                (0..ff.count * dim)
                    .map(|_| normal.sample(&mut rng))
                    .collect()
            }
        };
        InputMap {
            dim,
            range: model.input_range,
            b,
        }
    }

    /// Inputs per point.
    pub fn width(&self) -> usize {
        if self.b.is_empty() {
            self.dim
        } else {
            2 * self.b.len() / self.dim
        }
    }

    /// The feature matrix `B` (`count x dim`, row-major); empty without Fourier features.
    pub fn features(&self) -> &[f64] {
        &self.b
    }

    /// Inputs for coordinates `t` (`points x dim`, row-major), as `points x width` f64s.
    pub fn apply(&self, t: &[f64]) -> Vec<f64> {
        let d = self.dim;
        if self.b.is_empty() {
            let [lo, hi] = self.range;
            return t.iter().map(|&v| lo + (hi - lo) * v).collect();
        }
        let count = self.b.len() / d;
        let mut out = Vec::with_capacity(t.len() / d * 2 * count);
        for v in t.chunks_exact(d) {
            let start = out.len();
            out.resize(start + 2 * count, 0.0);
            for (f, row) in self.b.chunks_exact(d).enumerate() {
                let angle =
                    2.0 * std::f64::consts::PI * row.iter().zip(v).map(|(b, x)| b * x).sum::<f64>();
                out[start + f] = angle.cos();
                out[start + count + f] = angle.sin();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::spec::FourierFeaturesSpec;

    #[test]
    fn linear_map_and_fourier_features() {
        let mut model = ModelSpec::default();
        let lin = InputMap::new(&model, 2, 0);
        assert_eq!(lin.width(), 2);
        assert_eq!(lin.apply(&[0.0, 0.5, 0.25, 0.75]), [-1.0, 0.0, -0.5, 0.5]);
        model.fourier_features = Some(FourierFeaturesSpec {
            count: 3,
            scale: 2.0,
        });
        let ff = InputMap::new(&model, 2, 7);
        assert_eq!(ff.width(), 6);
        assert_eq!(ff, InputMap::new(&model, 2, 7), "seeded");
        assert_ne!(ff, InputMap::new(&model, 2, 8));
        let x = ff.apply(&[0.1, 0.2, 0.0, 0.0]);
        assert_eq!(x.len(), 12);
        let b = ff.features();
        let angle = 2.0 * std::f64::consts::PI * (b[2] * 0.1 + b[3] * 0.2);
        assert!((x[1] - angle.cos()).abs() < 1e-15 && (x[4] - angle.sin()).abs() < 1e-15);
        // At the origin: cos = 1, sin = 0.
        assert_eq!(&x[6..], &[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
    }
}
