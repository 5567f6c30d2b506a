//! Mean squared error on one output: the regression objective of every run today.

use crate::base::scalar::Scalar;
use crate::task::objective::{Objective, Split};

/// Mean squared error between one network output and one target value per grid point.
/// The monitored residual is h - y, so the band energies sum to this loss.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mse;

impl Objective for Mse {
    fn name(&self) -> &'static str {
        "mse"
    }

    fn width(&self) -> usize {
        1
    }

    fn loss_and_seed<S: Scalar>(&self, out: &[S], y: &[S], seed: &mut [S], rows: usize) -> S {
        let n = rows * self.width();
        let count = S::of(n as f64);
        let mut sum = S::zero();
        for ((d, &o), &t) in seed[..n].iter_mut().zip(&out[..n]).zip(&y[..n]) {
            let r = o - t;
            sum += r * r;
            *d = (r + r) / count;
        }
        sum / count
    }

    fn loss(&self, split: Split) -> f64 {
        mse(split.pred, split.y)
    }

    fn monitored_output(&self, pred: &[f64], out: &mut [f64]) {
        out.copy_from_slice(pred);
    }

    fn monitored_target(&self, y: &[f64]) -> Vec<f64> {
        y.to_vec()
    }
}

/// Mean squared error between two equally long slices.
pub fn mse(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_is_the_gradient_of_the_loss() {
        let out = [0.3f64, -1.2, 2.0];
        let y = [0.1f64, -1.0, 1.5];
        let mut seed = [0.0; 3];
        let loss = Mse.loss_and_seed(&out, &y, &mut seed, 3);
        assert!((loss - Mse.loss(Split { pred: &out, y: &y })).abs() < 1e-15);
        for i in 0..3 {
            let h = 1e-6;
            let mut up = out;
            up[i] += h;
            let mut down = out;
            down[i] -= h;
            let mut scratch = [0.0; 3];
            let num = (Mse.loss_and_seed(&up, &y, &mut scratch, 3)
                - Mse.loss_and_seed(&down, &y, &mut scratch, 3))
                / (2.0 * h);
            assert!((num - seed[i]).abs() < 1e-8, "{i}: {num} vs {}", seed[i]);
        }
    }

    #[test]
    fn only_the_batch_rows_count() {
        // Buffers longer than the batch (the workspace's) must not leak into the loss.
        let out = [1.0f32, 2.0, 99.0];
        let y = [0.0f32, 0.0, 0.0];
        let mut seed = [7.0f32; 3];
        assert_eq!(Mse.loss_and_seed(&out, &y, &mut seed, 2), 2.5);
        assert_eq!(seed, [1.0, 2.0, 7.0]);
    }
}
