//! The multilayer perceptron: parameters in one flat buffer (one contiguous range per tensor),
//! a forward pass and a hand-written backward pass into buffers allocated once per run.
//!
//! Layout: layer l maps width d_l to d_{l+1} with weight W_l (d_l x d_{l+1}, row-major) and
//! bias b_l (d_{l+1}); rows of a batch are samples, so Z_{l+1} = A_l W_l + b_l. Hidden layers
//! apply the activation; the output layer is linear. Loss: mean squared error.

use crate::base::gemm::{gemm, transpose, Lhs};
use crate::base::scalar::Scalar;
use ndarray::ArrayView2;
use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Hidden-layer nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Tanh,
    Relu,
    Sin,
}

/// Weight initialisation. Biases are zero except for `torch`, which draws them like PyTorch's
/// `nn.Linear` default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// N(0, 1/fan_in)
    #[default]
    LecunNormal,
    /// U(-a, a), a = sqrt(3/fan_in)
    LecunUniform,
    /// N(0, 2/(fan_in+fan_out))
    XavierNormal,
    /// U(-a, a), a = sqrt(6/(fan_in+fan_out))
    XavierUniform,
    /// N(0, 2/fan_in)
    HeNormal,
    /// U(-a, a), a = sqrt(6/fan_in)
    HeUniform,
    /// PyTorch nn.Linear default (weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))).
    Torch,
}

/// The shape of an MLP and where each tensor lives in the flat parameter buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpShape {
    /// Widths d_0 (input), hidden..., d_L (output).
    pub widths: Vec<usize>,
    pub activation: Activation,
    /// Per tensor: name ("W0", "b0", ...), rows, cols, range in the flat buffer.
    pub tensors: Vec<TensorInfo>,
}

/// One parameter tensor inside the flat buffer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorInfo {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub range: Range<usize>,
}

impl MlpShape {
    pub fn new(input: usize, hidden: &[usize], output: usize, activation: Activation) -> Self {
        let mut widths = vec![input];
        widths.extend_from_slice(hidden);
        widths.push(output);
        let mut tensors = Vec::new();
        let mut offset = 0;
        for l in 0..widths.len() - 1 {
            let (din, dout) = (widths[l], widths[l + 1]);
            for (name, rows, cols) in [(format!("W{l}"), din, dout), (format!("b{l}"), 1, dout)] {
                tensors.push(TensorInfo {
                    name,
                    rows,
                    cols,
                    range: offset..offset + rows * cols,
                });
                offset += rows * cols;
            }
        }
        MlpShape {
            widths,
            activation,
            tensors,
        }
    }

    pub fn n_layers(&self) -> usize {
        self.widths.len() - 1
    }

    pub fn n_params(&self) -> usize {
        self.tensors.last().map_or(0, |t| t.range.end)
    }

    /// Ranges of every tensor, in order (what optimizers iterate over).
    pub fn ranges(&self) -> Vec<Range<usize>> {
        self.tensors.iter().map(|t| t.range.clone()).collect()
    }

    fn weight(&self, l: usize) -> &TensorInfo {
        &self.tensors[2 * l]
    }

    fn bias(&self, l: usize) -> &TensorInfo {
        &self.tensors[2 * l + 1]
    }

    /// Fresh parameters drawn with `init` from `rng`.
    pub fn init_params<S: Scalar>(&self, init: Init, rng: &mut impl Rng) -> Vec<S> {
        let mut params = vec![S::zero(); self.n_params()];
        for l in 0..self.n_layers() {
            let (fan_in, fan_out) = (self.widths[l] as f64, self.widths[l + 1] as f64);
            let w = self.weight(l).range.clone();
            let b = self.bias(l).range.clone();
            let normal = |std: f64| Normal::new(0.0, std).expect("finite std");
            let uniform = |a: f64| Uniform::new_inclusive(-a, a).expect("finite bound");
            let mut fill = |range: Range<usize>, sample: &mut dyn FnMut() -> f64| {
                for x in &mut params[range] {
                    *x = S::of(sample());
                }
            };
            match init {
                Init::LecunNormal => fill(w, &mut || normal((1.0 / fan_in).sqrt()).sample(rng)),
                Init::LecunUniform => fill(w, &mut || uniform((3.0 / fan_in).sqrt()).sample(rng)),
                Init::XavierNormal => fill(w, &mut || {
                    normal((2.0 / (fan_in + fan_out)).sqrt()).sample(rng)
                }),
                Init::XavierUniform => fill(w, &mut || {
                    uniform((6.0 / (fan_in + fan_out)).sqrt()).sample(rng)
                }),
                Init::HeNormal => fill(w, &mut || normal((2.0 / fan_in).sqrt()).sample(rng)),
                Init::HeUniform => fill(w, &mut || uniform((6.0 / fan_in).sqrt()).sample(rng)),
                Init::Torch => {
                    let a = 1.0 / fan_in.sqrt();
                    fill(w, &mut || uniform(a).sample(rng));
                    fill(b, &mut || uniform(a).sample(rng));
                }
            }
        }
        params
    }
}

/// Per-run buffers for forward and backward passes over at most `max_rows` samples.
/// Created once; `forward`/`backward` never allocate.
pub struct Workspace<S> {
    max_rows: usize,
    /// Pre-activations Z_1..Z_L (Z_l has d_l columns); index 0 unused.
    pre: Vec<Vec<S>>,
    /// Activations A_0..A_L (A_0 is the input batch, A_L the output).
    act: Vec<Vec<S>>,
    /// Gradient w.r.t. the pre-activation of each layer (same shapes as `pre`).
    delta: Vec<Vec<S>>,
    /// Scratch for a transposed weight matrix (the largest layer).
    wt: Vec<S>,
}

impl<S: Scalar> Workspace<S> {
    pub fn new(shape: &MlpShape, max_rows: usize) -> Self {
        let buf = |w: usize| vec![S::zero(); max_rows * w];
        Workspace {
            max_rows,
            pre: shape.widths.iter().map(|&w| buf(w)).collect(),
            act: shape.widths.iter().map(|&w| buf(w)).collect(),
            delta: shape.widths.iter().map(|&w| buf(w)).collect(),
            wt: vec![
                S::zero();
                shape
                    .widths
                    .windows(2)
                    .map(|w| w[0] * w[1])
                    .max()
                    .unwrap_or(0)
            ],
        }
    }

    pub fn max_rows(&self) -> usize {
        self.max_rows
    }

    /// The input block A_0 for `rows` samples, to be filled by the caller before `forward`.
    pub fn input_mut(&mut self, shape: &MlpShape, rows: usize) -> &mut [S] {
        &mut self.act[0][..rows * shape.widths[0]]
    }

    /// The network output of the last `forward` (rows x d_L, row-major).
    pub fn output(&self, shape: &MlpShape, rows: usize) -> &[S] {
        &self.act[shape.n_layers()][..rows * shape.widths[shape.n_layers()]]
    }

    /// The output of the last `forward` and the buffer for dLoss/dOutput (both rows x d_L),
    /// which the objective fills before `backward`.
    pub fn output_and_seed(&mut self, shape: &MlpShape, rows: usize) -> (&[S], &mut [S]) {
        let (last, n) = (shape.n_layers(), rows * shape.widths[shape.n_layers()]);
        (&self.act[last][..n], &mut self.delta[last][..n])
    }
}

fn tensor<'a, S>(params: &'a [S], t: &TensorInfo) -> ArrayView2<'a, S> {
    ArrayView2::from_shape((t.rows, t.cols), &params[t.range.clone()]).expect("tensor layout")
}

#[inline]
fn activate<S: Scalar>(activation: Activation, z: &[S], a: &mut [S]) {
    match activation {
        Activation::Tanh => a.iter_mut().zip(z).for_each(|(a, &z)| *a = z.fast_tanh()),
        Activation::Relu => a
            .iter_mut()
            .zip(z)
            .for_each(|(a, &z)| *a = z.max(S::zero())),
        Activation::Sin => a.iter_mut().zip(z).for_each(|(a, &z)| *a = z.sin()),
    }
}

/// delta *= activation'(z), using the stored activation a = act(z) where that is cheaper.
#[inline]
fn times_derivative<S: Scalar>(activation: Activation, z: &[S], a: &[S], delta: &mut [S]) {
    match activation {
        Activation::Tanh => delta
            .iter_mut()
            .zip(a)
            .for_each(|(d, &a)| *d *= S::one() - a * a),
        Activation::Relu => delta
            .iter_mut()
            .zip(z)
            .for_each(|(d, &z)| *d = if z > S::zero() { *d } else { S::zero() }),
        Activation::Sin => delta.iter_mut().zip(z).for_each(|(d, &z)| *d *= z.cos()),
    }
}

/// Z = A W + 1 b^T for A (rows x din), W (din x dout). The degenerate shapes of the first
/// (din = 1) and last (dout = 1) layers are computed directly.
fn affine<S: Scalar>(a: &[S], w: ArrayView2<S>, b: &[S], z: &mut [S], rows: usize) {
    let (din, dout) = w.dim();
    if din == 1 {
        let w = w.as_slice().expect("row-major weights");
        for (row, &x) in z.chunks_exact_mut(dout).zip(a) {
            row.iter_mut()
                .zip(w)
                .zip(b)
                .for_each(|((z, &w), &b)| *z = x * w + b);
        }
    } else if dout == 1 {
        let w = w.as_slice().expect("row-major weights");
        for (z, row) in z.iter_mut().zip(a.chunks_exact(din)) {
            *z = b[0] + dot(row, w);
        }
    } else {
        for row in z.chunks_exact_mut(dout) {
            row.copy_from_slice(b);
        }
        gemm(
            Lhs {
                data: a,
                rows,
                cols: din,
                row_stride: din,
                col_stride: 1,
            },
            w.as_slice().expect("row-major weights"),
            dout,
            dout,
            z,
            dout,
            true,
        );
    }
}

/// dW = A^T Delta for A (rows x din), Delta (rows x dout), written into `gw` (din x dout).
fn weight_gradient<S: Scalar>(a: &[S], delta: &[S], gw: &mut [S], din: usize, dout: usize) {
    let rows = delta.len() / dout;
    if din == 1 || dout == 1 {
        gw.fill(S::zero());
        for (a_row, d_row) in a.chunks_exact(din).zip(delta.chunks_exact(dout)) {
            if din == 1 {
                let x = a_row[0];
                gw.iter_mut().zip(d_row).for_each(|(g, &d)| *g += x * d);
            } else {
                let d = d_row[0];
                gw.iter_mut().zip(a_row).for_each(|(g, &x)| *g += x * d);
            }
        }
    } else {
        // dW = A^T Delta: A read through swapped strides, no copy.
        gemm(
            Lhs {
                data: a,
                rows: din,
                cols: rows,
                row_stride: 1,
                col_stride: din,
            },
            delta,
            dout,
            dout,
            gw,
            dout,
            false,
        );
    }
}

/// dA = Delta W^T for Delta (rows x dout), W (din x dout), written into `da` (rows x din).
fn input_gradient<S: Scalar>(
    delta: &[S],
    w: ArrayView2<S>,
    da: &mut [S],
    rows: usize,
    wt: &mut [S],
) {
    let (din, dout) = w.dim();
    if dout == 1 {
        let w = w.as_slice().expect("row-major weights");
        for (row, &d) in da.chunks_exact_mut(din).zip(delta) {
            row.iter_mut().zip(w).for_each(|(x, &w)| *x = d * w);
        }
    } else {
        transpose(
            w.as_slice().expect("row-major weights"),
            din,
            dout,
            &mut wt[..din * dout],
        );
        gemm(
            Lhs {
                data: delta,
                rows,
                cols: dout,
                row_stride: dout,
                col_stride: 1,
            },
            &wt[..din * dout],
            din,
            din,
            da,
            din,
            false,
        );
    }
}

/// Dot product in 8 independent lanes so that it vectorises.
#[inline]
fn dot<S: Scalar>(a: &[S], b: &[S]) -> S {
    let mut acc = [S::zero(); 8];
    let chunks = a.len() / 8;
    for c in 0..chunks {
        for j in 0..8 {
            acc[j] += a[8 * c + j] * b[8 * c + j];
        }
    }
    let mut sum = acc.iter().fold(S::zero(), |s, &x| s + x);
    for i in 8 * chunks..a.len() {
        sum += a[i] * b[i];
    }
    sum
}

/// Forward pass over the first `rows` samples of `ws`'s input block; the output is then
/// `ws.output(shape, rows)`.
pub fn forward<S: Scalar>(shape: &MlpShape, params: &[S], ws: &mut Workspace<S>, rows: usize) {
    assert!(
        rows <= ws.max_rows,
        "batch of {rows} rows exceeds the workspace"
    );
    let n_layers = shape.n_layers();
    for l in 0..n_layers {
        let (din, dout) = (shape.widths[l], shape.widths[l + 1]);
        let w = tensor(params, shape.weight(l));
        let b = &params[shape.bias(l).range.clone()];
        affine(
            &ws.act[l][..rows * din],
            w,
            b,
            &mut ws.pre[l + 1][..rows * dout],
            rows,
        );
        let z = &ws.pre[l + 1][..rows * dout];
        let a = &mut ws.act[l + 1][..rows * dout];
        if l + 1 == n_layers {
            a.copy_from_slice(z);
        } else {
            activate(shape.activation, z, a);
        }
    }
}

/// Backward pass: writes dLoss/dparams into `grads` (same layout as params), using the
/// forward activations and the output seed already in `ws`.
pub fn backward<S: Scalar>(
    shape: &MlpShape,
    params: &[S],
    ws: &mut Workspace<S>,
    grads: &mut [S],
    rows: usize,
) {
    for l in (0..shape.n_layers()).rev() {
        let (din, dout) = (shape.widths[l], shape.widths[l + 1]);
        let wi = shape.weight(l);
        let bi = shape.bias(l);
        weight_gradient(
            &ws.act[l][..rows * din],
            &ws.delta[l + 1][..rows * dout],
            &mut grads[wi.range.clone()],
            din,
            dout,
        );
        {
            let gb = &mut grads[bi.range.clone()];
            gb.fill(S::zero());
            for row in ws.delta[l + 1][..rows * dout].chunks_exact(dout) {
                gb.iter_mut().zip(row).for_each(|(g, &d)| *g += d);
            }
        }
        if l > 0 {
            let w = tensor(params, wi);
            let (lower, upper) = ws.delta.split_at_mut(l + 1);
            input_gradient(
                &upper[0][..rows * dout],
                w,
                &mut lower[l][..rows * din],
                rows,
                &mut ws.wt,
            );
            times_derivative(
                shape.activation,
                &ws.pre[l][..rows * din],
                &ws.act[l][..rows * din],
                &mut lower[l][..rows * din],
            );
        }
    }
}

/// Predictions of the network at `inputs` (rows x d_0), computed in chunks of the workspace
/// size and written as f64 into `out` (rows x d_L).
pub fn predict_into<S: Scalar>(
    shape: &MlpShape,
    params: &[S],
    ws: &mut Workspace<S>,
    inputs: &[S],
    out: &mut [f64],
) {
    let (din, dout) = (shape.widths[0], shape.widths[shape.n_layers()]);
    let rows = inputs.len() / din;
    let chunk = ws.max_rows;
    let mut start = 0;
    while start < rows {
        let n = chunk.min(rows - start);
        ws.input_mut(shape, n)
            .copy_from_slice(&inputs[start * din..(start + n) * din]);
        forward(shape, params, ws, n);
        let o = ws.output(shape, n);
        for (dst, &src) in out[start * dout..(start + n) * dout].iter_mut().zip(o) {
            *dst = src.f64();
        }
        start += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::objective::{Mse, Objective};
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    fn loss_at(shape: &MlpShape, params: &[f64], x: &[f64], y: &[f64]) -> f64 {
        let rows = y.len();
        let mut ws = Workspace::new(shape, rows);
        ws.input_mut(shape, rows).copy_from_slice(x);
        forward(shape, params, &mut ws, rows);
        mse_seed(shape, &mut ws, y, rows)
    }

    /// The MSE objective's loss, its seed placed in the workspace.
    fn mse_seed(shape: &MlpShape, ws: &mut Workspace<f64>, y: &[f64], rows: usize) -> f64 {
        let (out, seed) = ws.output_and_seed(shape, rows);
        Mse.loss_and_seed(out, y, seed, rows)
    }

    fn check_gradients(
        input: usize,
        hidden: &[usize],
        activation: Activation,
        rows: usize,
        seed: u64,
    ) {
        let shape = MlpShape::new(input, hidden, 1, activation);
        let mut rng = Pcg64::seed_from_u64(seed);
        let params: Vec<f64> = shape.init_params(Init::Torch, &mut rng);
        let x: Vec<f64> = (0..rows * input)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let y: Vec<f64> = (0..rows).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mut ws = Workspace::new(&shape, rows);
        ws.input_mut(&shape, rows).copy_from_slice(&x);
        forward(&shape, &params, &mut ws, rows);
        mse_seed(&shape, &mut ws, &y, rows);
        let mut grads = vec![0.0; shape.n_params()];
        backward(&shape, &params, &mut ws, &mut grads, rows);
        let h = 1e-6;
        for i in 0..shape.n_params() {
            let mut p = params.clone();
            p[i] += h;
            let up = loss_at(&shape, &p, &x, &y);
            p[i] -= 2.0 * h;
            let down = loss_at(&shape, &p, &x, &y);
            let numeric = (up - down) / (2.0 * h);
            let tol = 1e-6 * (1.0 + numeric.abs());
            assert!(
                (numeric - grads[i]).abs() < tol,
                "{activation:?} {hidden:?} param {i}: analytic {} numeric {numeric}",
                grads[i]
            );
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients(1, &[5], Activation::Tanh, 7, 1);
        check_gradients(1, &[6, 4], Activation::Tanh, 9, 2);
        check_gradients(2, &[3, 5, 4], Activation::Sin, 6, 3);
        check_gradients(3, &[8, 8], Activation::Relu, 11, 4);
        check_gradients(1, &[], Activation::Tanh, 5, 5);
    }

    #[test]
    fn forward_matches_naive_and_predict_chunks() {
        let shape = MlpShape::new(1, &[4, 3], 1, Activation::Tanh);
        let mut rng = Pcg64::seed_from_u64(9);
        let params: Vec<f64> = shape.init_params(Init::XavierUniform, &mut rng);
        let x: Vec<f64> = (0..10).map(|i| i as f64 / 10.0).collect();
        let naive: Vec<f64> = x
            .iter()
            .map(|&xi| {
                let mut a = vec![xi];
                for l in 0..shape.n_layers() {
                    let (w, b) = (&shape.tensors[2 * l], &shape.tensors[2 * l + 1]);
                    let mut z: Vec<f64> = params[b.range.clone()].to_vec();
                    for (j, zj) in z.iter_mut().enumerate() {
                        for (i, ai) in a.iter().enumerate() {
                            *zj += ai * params[w.range.start + i * w.cols + j];
                        }
                    }
                    a = if l + 1 < shape.n_layers() {
                        z.iter().map(|v| v.tanh()).collect()
                    } else {
                        z
                    };
                }
                a[0]
            })
            .collect();
        let mut ws = Workspace::new(&shape, 3);
        let mut out = vec![0.0; 10];
        predict_into(&shape, &params, &mut ws, &x, &mut out);
        for (a, b) in out.iter().zip(&naive) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn init_scales_follow_their_definition() {
        let shape = MlpShape::new(256, &[256], 1, Activation::Tanh);
        let mut rng = Pcg64::seed_from_u64(0);
        let var = |p: &[f64]| p.iter().map(|x| x * x).sum::<f64>() / p.len() as f64;
        let w0 = shape.tensors[0].range.clone();
        let he: Vec<f64> = shape.init_params(Init::HeNormal, &mut rng);
        assert!((var(&he[w0.clone()]) * 256.0 / 2.0 - 1.0).abs() < 0.02);
        let lu: Vec<f64> = shape.init_params(Init::LecunUniform, &mut rng);
        assert!((var(&lu[w0.clone()]) * 256.0 - 1.0).abs() < 0.02);
        let t: Vec<f64> = shape.init_params(Init::Torch, &mut rng);
        assert!(t[w0].iter().all(|x| x.abs() <= 1.0 / 16.0));
        assert!(t[shape.tensors[1].range.clone()].iter().any(|&b| b != 0.0));
    }
}
