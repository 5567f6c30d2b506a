//! The Jacobian of the network outputs on a set of inputs with respect to every parameter,
//! from the model's own backward pass (no autodiff library): per sample, one forward pass on
//! that sample and one backward pass per output with a one-hot seed.
//!
//! Layout: `J[(i * d_L + k) * P + j] = d h_k(x_i) / d theta_j` (row-major, one row per output
//! value, rows ordered like the model's output block; P = number of parameters, ordered like
//! the flat parameter buffer). Computed in the model's scalar type and returned in f64.

use crate::base::scalar::Scalar;
use crate::nn::model::{backward, forward, MlpShape, Workspace};

/// The Jacobian of the outputs at `inputs` (rows x d_0, row-major) w.r.t. `params`:
/// `(rows * d_L) x n_params`, row-major f64 (see the module docs).
///
/// # Panics
/// If `inputs.len()` is not a multiple of d_0 or `params` has the wrong length.
pub fn jacobian<S: Scalar>(shape: &MlpShape, params: &[S], inputs: &[S]) -> Vec<f64> {
    let (din, dout) = (shape.widths[0], shape.widths[shape.n_layers()]);
    let n_params = shape.n_params();
    assert_eq!(
        params.len(),
        n_params,
        "jacobian: {} parameters given, the shape has {n_params}",
        params.len()
    );
    assert_eq!(
        inputs.len() % din,
        0,
        "jacobian: {} input values are not a whole number of {din}-wide rows",
        inputs.len()
    );
    let rows = inputs.len() / din;
    let mut ws = Workspace::new(shape, 1);
    let mut grads = vec![S::zero(); n_params];
    let mut jac = vec![0.0f64; rows * dout * n_params];
    for (i, x) in inputs.chunks_exact(din).enumerate() {
        ws.input_mut(shape, 1).copy_from_slice(x);
        forward(shape, params, &mut ws, 1);
        for k in 0..dout {
            let (_, seed) = ws.output_and_seed(shape, 1);
            seed.fill(S::zero());
            seed[k] = S::one();
            backward(shape, params, &mut ws, &mut grads, 1);
            let row = (i * dout + k) * n_params;
            for (dst, g) in jac[row..row + n_params].iter_mut().zip(&grads) {
                *dst = g.f64();
            }
        }
    }
    jac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::model::{predict_into, Activation, Init};
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64;

    fn outputs(shape: &MlpShape, params: &[f64], x: &[f64]) -> Vec<f64> {
        let rows = x.len() / shape.widths[0];
        let mut ws = Workspace::new(shape, rows);
        let mut out = vec![0.0; rows * shape.widths[shape.n_layers()]];
        predict_into(shape, params, &mut ws, x, &mut out);
        out
    }

    fn check(input: usize, hidden: &[usize], output: usize, act: Activation, rows: usize) {
        let shape = MlpShape::new(input, hidden, output, act);
        let mut rng = Pcg64::seed_from_u64(rows as u64);
        let params: Vec<f64> = shape.init_params(Init::Torch, &mut rng);
        let x: Vec<f64> = (0..rows * input)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let jac = jacobian(&shape, &params, &x);
        let n_out = rows * output;
        assert_eq!(jac.len(), n_out * shape.n_params());
        let h = 1e-6;
        for j in 0..shape.n_params() {
            let mut p = params.clone();
            p[j] += h;
            let up = outputs(&shape, &p, &x);
            p[j] -= 2.0 * h;
            let down = outputs(&shape, &p, &x);
            for r in 0..n_out {
                let numeric = (up[r] - down[r]) / (2.0 * h);
                let analytic = jac[r * shape.n_params() + j];
                assert!(
                    (numeric - analytic).abs() < 1e-7 * (1.0 + numeric.abs()),
                    "{act:?} {hidden:?} output row {r} param {j}: {analytic} vs {numeric}"
                );
            }
        }
    }

    #[test]
    fn jacobian_matches_central_differences() {
        check(1, &[6, 5], 1, Activation::Tanh, 9);
        check(2, &[4, 3], 2, Activation::Sin, 5);
        check(1, &[7], 1, Activation::Tanh, 4);
        check(3, &[], 2, Activation::Tanh, 3);
    }

    #[test]
    fn f32_jacobian_is_close_to_f64() {
        let shape = MlpShape::new(1, &[8, 8], 1, Activation::Tanh);
        let mut rng = Pcg64::seed_from_u64(3);
        let p64: Vec<f64> = shape.init_params(Init::Torch, &mut rng);
        let p32: Vec<f32> = p64.iter().map(|&x| x as f32).collect();
        let x64: Vec<f64> = (0..16).map(|i| i as f64 / 16.0).collect();
        let x32: Vec<f32> = x64.iter().map(|&x| x as f32).collect();
        let (a, b) = (jacobian(&shape, &p64, &x64), jacobian(&shape, &p32, &x32));
        for (a, b) in a.iter().zip(&b) {
            assert!((a - b).abs() < 1e-5 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }
}
