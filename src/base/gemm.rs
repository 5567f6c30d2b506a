//! A small matrix product for the MLP's shapes (tens to hundreds of columns), written so that
//! it allocates nothing: a register-blocked micro-kernel over contiguous rows of B.
//! (6 x 16 f32 or 6 x 8 f64 tiles.)
//! (matrixmultiply, ndarray's default, allocates a packing buffer on every call.)
//!
//! C (m x n, row-major, leading dimension `ldc`) = [C +] A B, where A is m x k read through
//! strides (`a_rs`, `a_cs`), so A or its transpose can be passed without copying, and B is
//! k x n row-major with leading dimension `ldb`.

use crate::base::scalar::Scalar;

/// Strided view of the left operand.
#[derive(Clone, Copy)]
pub struct Lhs<'a, S> {
    pub data: &'a [S],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

/// C = A B (`accumulate` false) or C += A B (true).
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
    assert!(
        m == 0
            || n == 0
            || k == 0
            || (a.data.len() > (m - 1) * a.row_stride + (k - 1) * a.col_stride),
        "lhs too short"
    );
    assert!(
        k == 0 || n == 0 || b.len() >= (k - 1) * ldb + n,
        "rhs too short"
    );
    assert!(
        m == 0 || n == 0 || c.len() >= (m - 1) * ldc + n,
        "output too short"
    );
    // Register tiles of 6 rows x NR columns (NR = 16 lanes of f32 or 8 of f64: 12 accumulators
    // plus operands fit the 16 vector registers of AVX2); leftover rows take 4-, 2- and
    // 1-row tiles, leftover columns the scalar edge loop.
    let op = Op {
        a,
        b,
        ldb,
        n,
        accumulate,
    };
    if S::NAME == "f32" {
        let i = rows_in_tiles::<S, 6, 16>(&op, c, ldc, 0);
        let i = rows_in_tiles::<S, 4, 16>(&op, c, ldc, i);
        let i = rows_in_tiles::<S, 2, 16>(&op, c, ldc, i);
        rows_in_tiles::<S, 1, 16>(&op, c, ldc, i);
    } else {
        let i = rows_in_tiles::<S, 6, 8>(&op, c, ldc, 0);
        let i = rows_in_tiles::<S, 4, 8>(&op, c, ldc, i);
        let i = rows_in_tiles::<S, 2, 8>(&op, c, ldc, i);
        rows_in_tiles::<S, 1, 8>(&op, c, ldc, i);
    }
}

/// The operands of one product.
struct Op<'a, S> {
    a: Lhs<'a, S>,
    b: &'a [S],
    ldb: usize,
    n: usize,
    accumulate: bool,
}

/// Rows `from..` in whole tiles of MR rows; returns the first row not done.
fn rows_in_tiles<S: Scalar, const MR: usize, const NR: usize>(
    op: &Op<S>,
    c: &mut [S],
    ldc: usize,
    from: usize,
) -> usize {
    let (a, b, ldb, n) = (op.a, op.b, op.ldb, op.n);
    let mut i = from;
    while i + MR <= a.rows {
        let mut j = 0;
        while j + NR <= n {
            let mut acc = [[S::zero(); NR]; MR];
            for p in 0..a.cols {
                let brow: &[S; NR] = b[p * ldb + j..p * ldb + j + NR].try_into().expect("tile");
                let base = p * a.col_stride;
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let av = a.data[(i + r) * a.row_stride + base];
                    for q in 0..NR {
                        acc_r[q] = av.mul_add(brow[q], acc_r[q]);
                    }
                }
            }
            for (r, acc_r) in acc.iter().enumerate() {
                let out = &mut c[(i + r) * ldc + j..(i + r) * ldc + j + NR];
                if op.accumulate {
                    out.iter_mut().zip(acc_r).for_each(|(o, &v)| *o = *o + v);
                } else {
                    out.copy_from_slice(acc_r);
                }
            }
            j += NR;
        }
        if j < n {
            edge(a, b, ldb, c, ldc, op.accumulate, i..i + MR, j..n);
        }
        i += MR;
    }
    i
}

/// The leftover rows or columns, one output row at a time.
#[allow(clippy::too_many_arguments)]
fn edge<S: Scalar>(
    a: Lhs<S>,
    b: &[S],
    ldb: usize,
    c: &mut [S],
    ldc: usize,
    accumulate: bool,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) {
    for i in rows {
        let out = &mut c[i * ldc + cols.start..i * ldc + cols.end];
        if !accumulate {
            out.fill(S::zero());
        }
        for p in 0..a.cols {
            let av = a.data[i * a.row_stride + p * a.col_stride];
            let brow = &b[p * ldb + cols.start..p * ldb + cols.end];
            out.iter_mut()
                .zip(brow)
                .for_each(|(o, &bv)| *o = av.mul_add(bv, *o));
        }
    }
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
            for (x, y) in c32.iter().zip(&want) {
                assert!((*x as f64 - y).abs() < 1e-4, "f32 {m}x{k}x{n}");
            }
        }
    }
}
