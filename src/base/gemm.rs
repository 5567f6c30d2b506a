//! The MLP's matrix products: C (m x n, row-major, leading dimension `ldc`) = [C +] A B, where
//! A is m x k read through strides (`row_stride`, `col_stride`), so A or its transpose is
//! passed without copying, and B is k x n row-major with leading dimension `ldb`.
//!
//! The product is matrixmultiply's (through ndarray's safe `general_mat_mul`), chosen by
//! measurement over bandwise's former own register-blocked kernel: at the reference shapes
//! (1024 x 64 x 64 forward, 64 x 1024 x 64 weight gradient, f32, one core) it ran at 65
//! GFLOP/s against 48 and 36 (docs/benchmarks.md). matrixmultiply packs its operands into a
//! buffer it allocates per call; that allocation is a bounded, per-product cost that the
//! measurement includes (tests/no_alloc.rs bounds it per step).
//!
//! Tolerance: the summation order differs from a naive loop, so results agree with an exact
//! (f64) product to within k * eps * sum_p |a_ip b_pj| (the standard bound), tested below.

use crate::base::scalar::Scalar;
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};

/// Strided view of the left operand.
#[derive(Clone, Copy)]
pub struct Lhs<'a, S> {
    pub data: &'a [S],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

/// C = A B (`accumulate` false) or C += A B (true). With `accumulate` false, C's old values
/// are not read (NaN in C does not leak into the result).
pub fn gemm<S: Scalar>(
    a: Lhs<S>,
    b: &[S],
    ldb: usize,
    n: usize,
    c: &mut [S],
    ldc: usize,
    accumulate: bool,
) {
    let (m, k) = (a.rows, a.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.chunks_mut(ldc)
                .take(m)
                .for_each(|row| row[..n].fill(S::zero()));
        }
        return;
    }
    let lhs = ArrayView2::from_shape((m, k).strides((a.row_stride, a.col_stride)), a.data)
        .expect("lhs too short for its shape and strides");
    let rhs = ArrayView2::from_shape((k, n).strides((ldb, 1)), b)
        .expect("rhs too short for its shape and leading dimension");
    let mut out = ArrayViewMut2::from_shape((m, n).strides((ldc, 1)), c)
        .expect("output too short for its shape and leading dimension");
    let beta = if accumulate { S::one() } else { S::zero() };
    general_mat_mul(S::one(), &lhs, &rhs, beta, &mut out);
}

/// Write the transpose of `src` (rows x cols, row-major) into `dst` (cols x rows).
pub fn transpose<S: Copy>(src: &[S], rows: usize, cols: usize, dst: &mut [S]) {
    for r in 0..rows {
        for c in 0..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn naive(a: &[f64], m: usize, k: usize, b: &[f64], n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn matches_naive_on_many_shapes_both_layouts_and_precisions() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
        for &(m, k, n) in &[
            (1, 1, 1),
            (4, 3, 16),
            (5, 7, 17),
            (64, 64, 64),
            (33, 5, 8),
            (3, 64, 1),
            (9, 2, 31),
            (0, 3, 4),
            (3, 0, 4),
            (70, 300, 20),
        ] {
            let a: Vec<f64> = (0..m * k).map(|_| rng.random_range(-1.0..1.0)).collect();
            let b: Vec<f64> = (0..k * n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let want = naive(&a, m, k, &b, n);
            // Row-major A.
            let mut c = vec![0.0; m * n];
            gemm(
                Lhs {
                    data: &a,
                    rows: m,
                    cols: k,
                    row_stride: k,
                    col_stride: 1,
                },
                &b,
                n,
                n,
                &mut c,
                n,
                false,
            );
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12, "{m}x{k}x{n}");
            }
            // A given as its transpose (k x m row-major), read with swapped strides; accumulate.
            let mut at = vec![0.0; m * k];
            transpose(&a, m, k, &mut at);
            let mut c2 = vec![1.0; m * n];
            gemm(
                Lhs {
                    data: &at,
                    rows: m,
                    cols: k,
                    row_stride: 1,
                    col_stride: m,
                },
                &b,
                n,
                n,
                &mut c2,
                n,
                true,
            );
            for (x, y) in c2.iter().zip(&want) {
                assert!((x - (y + 1.0)).abs() < 1e-12, "transposed {m}x{k}x{n}");
            }
            // f32.
            let a32: Vec<f32> = a.iter().map(|&x| x as f32).collect();
            let b32: Vec<f32> = b.iter().map(|&x| x as f32).collect();
            let mut c32 = vec![0.0f32; m * n];
            gemm(
                Lhs {
                    data: &a32,
                    rows: m,
                    cols: k,
                    row_stride: k,
                    col_stride: 1,
                },
                &b32,
                n,
                n,
                &mut c32,
                n,
                false,
            );
            // The documented bound: k eps sum_p |a_ip b_pj| (plus the f32 rounding of inputs).
            for i in 0..m {
                for j in 0..n {
                    let scale: f64 = (0..k).map(|p| (a[i * k + p] * b[p * n + j]).abs()).sum();
                    let bound = (k as f64 + 2.0) * f32::EPSILON as f64 * scale;
                    let got = c32[i * n + j] as f64;
                    assert!((got - want[i * n + j]).abs() <= bound, "f32 {m}x{k}x{n}");
                }
            }
            // Without accumulate, old values of C (even NaN) are not read.
            let mut c_nan = vec![f32::NAN; m * n];
            gemm(
                Lhs {
                    data: &a32,
                    rows: m,
                    cols: k,
                    row_stride: k,
                    col_stride: 1,
                },
                &b32,
                n,
                n,
                &mut c_nan,
                n,
                false,
            );
            assert_eq!(c_nan, c32, "{m}x{k}x{n}");
        }
    }
}
