//! The multilayer perceptron: parameters in one flat buffer (one contiguous range per tensor),
//! a forward pass and a hand-written backward pass into buffers allocated once per run.
//!
//! Layout: layer l maps width d_l to d_{l+1} with weight W_l (d_l x d_{l+1}, row-major) and
//! bias b_l (d_{l+1}); rows of a batch are samples, so Z_{l+1} = A_l W_l + b_l. Hidden layers
//! apply the activation; the output layer is linear. Loss: mean squared error.

use crate::base::gemm::{
    gemm, gemm_on_this_thread, transpose_into, transposed_ld, View, TRANSPOSE_MIN_WORK,
};
use crate::base::scalar::Scalar;
use crate::base::threads;
use crate::base::vector::{add_bias_then, scaled_column_sums};
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
    /// A copy of A_l^T for the weight gradients that are large enough to gain from it
    /// ([`copies_transpose`]); empty when no layer is.
    transposed: Vec<S>,
}

impl<S: Scalar> Workspace<S> {
    /// Buffers for forward and backward passes over at most `max_rows` rows.
    pub fn new(shape: &MlpShape, max_rows: usize) -> Self {
        Self::with_buffers(shape, max_rows, true)
    }

    /// Buffers for forward passes only (evaluation): without the copy of A^T that large
    /// weight gradients use. `backward` still works on it, reading A^T through strides
    /// (bit-identical results).
    pub fn forward_only(shape: &MlpShape, max_rows: usize) -> Self {
        Self::with_buffers(shape, max_rows, false)
    }

    fn with_buffers(shape: &MlpShape, max_rows: usize, transpose_copy: bool) -> Self {
        let buf = |w: usize| vec![S::zero(); max_rows * w];
        let copied = (0..shape.n_layers())
            .map(|l| (shape.widths[l], shape.widths[l + 1]))
            .filter(|&(din, dout)| transpose_copy && copies_transpose(max_rows, din, dout))
            .map(|(din, _)| din)
            .max();
        Workspace {
            max_rows,
            pre: shape.widths.iter().map(|&w| buf(w)).collect(),
            act: shape.widths.iter().map(|&w| buf(w)).collect(),
            delta: shape.widths.iter().map(|&w| buf(w)).collect(),
            transposed: vec![S::zero(); copied.map_or(0, |din| din * transposed_ld(max_rows))],
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

/// Z = A W for a layer with one output (dout = 1): one dot product per row of `a` (din values
/// each).
fn output_product<S: Scalar>(a: &[S], w: &[S], z: &mut [S], din: usize) {
    for (z, row) in z.iter_mut().zip(a.chunks_exact(din)) {
        *z = dot(row, w);
    }
}

/// Z += b, then A = act(Z) for a hidden layer (`activation` Some) or A = Z for the output.
/// For a layer with one input, `first` = (x, w) computes Z = x_i w + b in the same pass.
fn add_bias_and_activate<S: Scalar>(
    activation: Option<Activation>,
    bias: &[S],
    z: &mut [S],
    a: &mut [S],
    first: Option<(&[S], &[S])>,
) {
    match activation {
        Some(Activation::Tanh) => S::bias_tanh(z, bias, a, first),
        Some(Activation::Relu) => add_bias_then(z, bias, a, first, |z| z.max(S::zero())),
        Some(Activation::Sin) => add_bias_then(z, bias, a, first, |z| z.sin()),
        None => add_bias_then(z, bias, a, first, |z| z),
    }
}

/// Dot product in 8 independent lanes so that it vectorises.
#[inline]
fn dot<S: Scalar>(a: &[S], b: &[S]) -> S {
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    let mut acc = [S::zero(); 8];
    for (x, y) in a_chunks.zip(b_chunks) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut sum = acc.iter().fold(S::zero(), |s, &x| s + x);
    for (&x, &y) in a_tail.iter().zip(b_tail) {
        sum += x * y;
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
        let w = &params[shape.weight(l).range.clone()];
        let b = &params[shape.bias(l).range.clone()];
        let (below, above) = ws.act.split_at_mut(l + 1);
        let (input, a) = (&below[l][..rows * din], &mut above[0][..rows * dout]);
        let z = &mut ws.pre[l + 1][..rows * dout];
        let activation = (l + 1 < n_layers).then_some(shape.activation);
        // Z = A W, Z += b and the activation in blocks of rows, one per thread when the layer
        // is large, so that each block's element-wise pass follows its product on one core.
        let block = threads::items_per_block(rows, dout);
        let blocks = z
            .chunks_mut(block * dout)
            .zip(a.chunks_mut(block * dout))
            .zip(input.chunks(block * din));
        threads::for_each_block(blocks, |((z, a), input)| {
            // Z = A W: for a layer with one input, in the element-wise pass itself.
            if din > 1 && dout == 1 {
                output_product(input, w, z, din);
            } else if din > 1 {
                let input = View::row_major(input, input.len() / din, din);
                gemm_on_this_thread(input, View::row_major(w, din, dout), z, dout, false);
            }
            add_bias_and_activate(activation, b, z, a, (din == 1).then_some((input, w)));
        });
    }
}

/// Backward pass: writes dLoss/dparams into `grads` (same layout as params), using the
/// forward activations and the output seed already in `ws`.
///
/// Layer l receives Delta = dLoss/dZ_{l+1} from above as dLoss/dA_{l+1} (hidden layers; the
/// output layer's is the seed). One pass over Delta's rows multiplies it by act'(Z_{l+1}),
/// sums the bias gradient and does the degenerate products (din = 1 or dout = 1) directly
/// (a layer with one output above a hidden tanh layer leaves its input gradient to that
/// layer's pass); then the matrix products give dW = A_l^T Delta and dLoss/dA_l = Delta W^T
/// for the layer below.
pub fn backward<S: Scalar>(
    shape: &MlpShape,
    params: &[S],
    ws: &mut Workspace<S>,
    grads: &mut [S],
    rows: usize,
) {
    let n_layers = shape.n_layers();
    for l in (0..n_layers).rev() {
        let (din, dout) = (shape.widths[l], shape.widths[l + 1]);
        let (wi, bi) = (shape.weight(l), shape.bias(l));
        let w = &params[wi.range.clone()];
        let (gw, gb) = grads[wi.range.start..bi.range.end].split_at_mut(din * dout);
        let (lower, upper) = ws.delta.split_at_mut(l + 1);
        let (this, higher) = upper.split_at_mut(1);
        let delta = &mut this[0][..rows * dout];
        let input = &ws.act[l][..rows * din];
        let pass = row_pass(shape, l);
        // A layer with one output leaves its input gradient, Delta_i w, to the tanh kernel of
        // the layer below, which computes it where it needs it instead of reading it.
        let above = (pass == RowPass::TanhKernel && shape.widths[l + 2] == 1).then(|| {
            (
                &higher[0][..rows],
                &params[shape.weight(l + 1).range.clone()],
            )
        });
        let leave_to_below = dout == 1 && l > 0 && row_pass(shape, l - 1) == RowPass::TanhKernel;
        let mut below = (l > 0 && !leave_to_below).then(|| &mut lower[l][..rows * din]);
        let derivative = (l + 1 < n_layers).then_some(shape.activation);
        let (z, a) = (&ws.pre[l + 1][..rows * dout], &ws.act[l + 1][..rows * dout]);

        let first = (din == 1).then_some(input);
        match pass {
            RowPass::TanhKernel => {
                S::tanh_backward(delta, a, gb, first.map(|x| (x, &mut *gw)), above)
            }
            RowPass::General => backward_rows(
                derivative,
                z,
                a,
                delta,
                input,
                w,
                gw,
                gb,
                below.as_deref_mut(),
            ),
        }
        if din > 1 && dout > 1 {
            let copy = (copies_transpose(rows, din, dout) && !ws.transposed.is_empty())
                .then_some(&mut ws.transposed[..]);
            weight_gradient(input, delta, gw, din, dout, copy);
        }
        if let (Some(da), true) = (below, dout > 1) {
            input_gradient(delta, w, da, din, dout);
        }
    }
}

/// How [`backward`] passes over a layer's rows (on one thread: the sums over rows need every
/// row in order, and splitting the passes by rows or columns between threads measured no
/// faster at width 512, the rows moving between the cores' caches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowPass {
    /// A hidden tanh layer with several outputs ([`Scalar::tanh_backward`]).
    TanhKernel,
    /// Every other layer ([`backward_rows`]).
    General,
}

fn row_pass(shape: &MlpShape, l: usize) -> RowPass {
    let (hidden, dout) = (l + 1 < shape.n_layers(), shape.widths[l + 1]);
    if hidden && dout > 1 && shape.activation == Activation::Tanh {
        RowPass::TanhKernel
    } else {
        RowPass::General
    }
}

/// Layer l's row pass (the general case; hidden tanh layers with several outputs use
/// [`Scalar::tanh_backward`]): Delta = dLoss/dZ_{l+1} is multiplied by act'(Z_{l+1}) (hidden
/// layers), the bias gradient summed, and the degenerate products done directly: the weight
/// gradient when din = 1 or dout = 1 and, when dout = 1, the input gradient `below`.
#[allow(clippy::too_many_arguments)]
fn backward_rows<S: Scalar>(
    derivative: Option<Activation>,
    z: &[S],
    a: &[S],
    delta: &mut [S],
    input: &[S],
    w: &[S],
    gw: &mut [S],
    gb: &mut [S],
    mut below: Option<&mut [S]>,
) {
    let (din, dout) = (w.len() / gb.len(), gb.len());
    gb.fill(S::zero());
    for (i, d) in delta.chunks_exact_mut(dout).enumerate() {
        let cols = i * dout..(i + 1) * dout;
        if let Some(activation) = derivative {
            times_derivative(activation, &z[cols.clone()], &a[cols], d);
        }
        gb.iter_mut().zip(d.iter()).for_each(|(g, &d)| *g += d);
        if dout == 1 {
            if let Some(da) = below.as_deref_mut() {
                da[i * din..(i + 1) * din]
                    .iter_mut()
                    .zip(w)
                    .for_each(|(x, &w)| *x = d[0] * w);
            }
        }
    }
    // The degenerate weight gradients, from the final Delta: gw_j = sum_i x_i Delta_ij (one
    // input) or sum_i Delta_i x_ij (one output).
    if din == 1 {
        scaled_column_sums(delta, input, gw);
    } else if dout == 1 {
        scaled_column_sums(input, delta, gw);
    }
}

/// Whether a weight gradient of `rows` x `din` x `dout` multiply-adds copies A^T first
/// (see [`TRANSPOSE_MIN_WORK`]).
pub fn copies_transpose(rows: usize, din: usize, dout: usize) -> bool {
    din > 1 && dout > 1 && rows.saturating_mul(din).saturating_mul(dout) >= TRANSPOSE_MIN_WORK
}

/// dW = A^T Delta for A (rows x din), Delta (rows x dout), written into `gw` (din x dout).
/// A^T is read through swapped strides or, given `copy` (room for din x
/// [`transposed_ld`]`(rows)` values), copied there first.
pub fn weight_gradient<S: Scalar>(
    a: &[S],
    delta: &[S],
    gw: &mut [S],
    din: usize,
    dout: usize,
    copy: Option<&mut [S]>,
) {
    let rows = delta.len() / dout;
    let delta = View::row_major(delta, rows, dout);
    match copy {
        Some(copy) => {
            let ld = transposed_ld(rows);
            transpose_into(a, rows, din, copy, ld);
            let at = View {
                data: &copy[..],
                rows: din,
                cols: rows,
                row_stride: ld,
                col_stride: 1,
            };
            gemm(at, delta, gw, dout, false);
        }
        None => gemm(View::transpose_of(a, rows, din), delta, gw, dout, false),
    }
}

/// dA = Delta W^T for Delta (rows x dout), W (din x dout), written into `da` (rows x din);
/// W^T is read through swapped strides, not copied.
pub fn input_gradient<S: Scalar>(delta: &[S], w: &[S], da: &mut [S], din: usize, dout: usize) {
    let rows = delta.len() / dout;
    let (delta, wt) = (
        View::row_major(delta, rows, dout),
        View::transpose_of(w, din, dout),
    );
    gemm(delta, wt, da, din, false);
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
        // Hidden layers of width 1: the degenerate products in the middle of the network.
        check_gradients(1, &[4, 1, 3], Activation::Tanh, 6, 6);
        check_gradients(2, &[1], Activation::Sin, 5, 7);
    }

    #[test]
    fn the_copied_transpose_gives_the_weight_gradient_of_the_strided_one() {
        // Both ways of reading A^T, on shapes with partial tiles and one that fills faer's
        // large micro-kernel, against the f64 product and bit for bit against each other
        // (which is why the copy did not change the recorded numerics).
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let shapes = [
            (70, 37, 19),
            (16, 16, 2),
            (33, 2, 40),
            (1, 5, 3),
            (600, 200, 150),
        ];
        for &(rows, din, dout) in &shapes {
            let a: Vec<f32> = (0..rows * din)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect();
            let d: Vec<f32> = (0..rows * dout)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect();
            let mut copy = vec![f32::NAN; din * transposed_ld(rows)];
            let (mut strided, mut copied) = (vec![0f32; din * dout], vec![0f32; din * dout]);
            weight_gradient(&a, &d, &mut strided, din, dout, None);
            weight_gradient(&a, &d, &mut copied, din, dout, Some(&mut copy));
            for j in 0..din {
                for k in 0..dout {
                    let (mut exact, mut bound) = (0.0f64, 0.0f64);
                    for i in 0..rows {
                        let p = a[i * din + j] as f64 * d[i * dout + k] as f64;
                        exact += p;
                        bound += p.abs();
                    }
                    let tol = 2.0 * rows as f64 * f32::EPSILON as f64 * bound + 1e-30;
                    for g in [strided[j * dout + k], copied[j * dout + k]] {
                        assert!((g as f64 - exact).abs() <= tol, "{rows}x{din}x{dout}");
                    }
                }
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&strided), bits(&copied), "{rows}x{din}x{dout}");
        }
        // Only weight gradients with many multiply-adds copy.
        assert!(copies_transpose(1024, 512, 512) && !copies_transpose(1024, 64, 64));
        assert!(!copies_transpose(1 << 20, 1, 512) && !copies_transpose(1 << 20, 512, 1));
    }

    #[test]
    fn threads_do_not_change_results() {
        // Layers large enough to be split over threads (rows x width >= 2^17: the forward
        // pass by rows, the products by rows), every activation, one input (the first
        // layer's product inside the element-wise pass) and several, f32 (the AVX-512
        // kernels) and f64.
        fn pass<S: Scalar>(shape: &MlpShape, rows: usize) -> (Vec<S>, Vec<S>) {
            let mut rng = Pcg64::seed_from_u64(11);
            let params: Vec<S> = shape.init_params(Init::Torch, &mut rng);
            let mut ws = Workspace::new(shape, rows);
            for x in ws.input_mut(shape, rows) {
                *x = S::of(rng.random_range(-1.0..1.0));
            }
            forward(shape, &params, &mut ws, rows);
            let (out, seed) = ws.output_and_seed(shape, rows);
            let out = out.to_vec();
            for s in seed.iter_mut() {
                *s = S::of(rng.random_range(-1.0..1.0));
            }
            let mut grads = vec![S::zero(); shape.n_params()];
            backward(shape, &params, &mut ws, &mut grads, rows);
            (out, grads)
        }
        fn same<S: Scalar>(x: &[S], y: &[S]) -> bool {
            x.iter()
                .zip(y)
                .all(|(x, y)| x.f64().to_bits() == y.f64().to_bits())
        }
        let _guard = threads::TEST_GUARD
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let rows = 700;
        // The last network's middle weight gradient copies A^T (split over the threads too).
        assert!(copies_transpose(rows, 420, 460) && !copies_transpose(rows, 200, 330));
        for (input, hidden, activation) in [
            (1, [200, 330], Activation::Tanh),
            (3, [200, 330], Activation::Tanh),
            (1, [200, 330], Activation::Relu),
            (2, [200, 330], Activation::Sin),
            (1, [420, 460], Activation::Tanh),
        ] {
            let shape = MlpShape::new(input, &hidden, 1, activation);
            assert!(threads::ELEMENTWISE_MIN_VALUES <= rows * 200);
            threads::set(1);
            let (out32, grads32) = pass::<f32>(&shape, rows);
            let (out64, grads64) = pass::<f64>(&shape, rows);
            for n in [2, 3] {
                threads::set(n);
                assert!(threads::items_per_block(rows, 200) < rows);
                let (out, grads) = pass::<f32>(&shape, rows);
                assert!(
                    same(&out, &out32) && same(&grads, &grads32),
                    "{activation:?} f32"
                );
                let (out, grads) = pass::<f64>(&shape, rows);
                assert!(
                    same(&out, &out64) && same(&grads, &grads64),
                    "{activation:?} f64"
                );
            }
        }
        threads::set(1);
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
