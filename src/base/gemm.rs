//! The MLP's matrix products: C (m x n, row-major, leading dimension `ldc`) = [C +] A B, where
//! A (m x k) and B (k x n) are read through strides ([`View`]), so an operand or its
//! transpose is passed without copying; only a large weight gradient's transposed left
//! operand is copied first ([`TRANSPOSE_MIN_WORK`], [`transpose_into`]), where that measured
//! faster.
//!
//! The product is faer's (`faer::linalg::matmul`), chosen by measurement over matrixmultiply
//! and bandwise's former own kernel (docs/benchmarks.md): faer picks its micro-kernel at run
//! time (AVX-512 where the CPU has it, else AVX2), so one binary is fast on every x86-64 node.
//! Large products can use several threads ([`threads::set`]): C's rows are split into one
//! block per thread, each block a one-thread product, so results do not depend on the thread
//! count (tested below). (faer's own parallel split gained little inside the engine on 2
//! cores: docs/benchmarks.md.)
//!
//! Tolerance: the summation order differs from a naive loop, so results agree with an exact
//! (f64) product to within k * eps * sum_p |a_ip b_pj| (the standard bound), tested below.

use crate::base::scalar::Scalar;
use crate::base::threads;
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Products with fewer multiply-adds than this stay on one thread: below it, splitting the
/// work costs more than it saves (measured at N = 1024: the 64-wide reference network's
/// products, 2^22 multiply-adds, made a step 1.2-1.4x slower split over 2 threads;
/// docs/benchmarks.md).
pub const PARALLEL_MIN_WORK: usize = 1 << 23;

/// Rows of C per thread when a product of m x k x n is split over `threads` threads (m, that
/// is one block, when it is too small to split).
fn rows_per_block(m: usize, n: usize, k: usize, threads: usize) -> usize {
    if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN_WORK {
        threads::block_len(m, threads)
    } else {
        m
    }
}

/// A product A^T B whose left operand is a row-major A read transposed (a weight gradient)
/// copies A^T first when it has at least this many multiply-adds: faer's micro-kernel reads a
/// transposed left operand slower than a row-major one (width 512 at N = 1024, one core: 8.0
/// against 6.6 ms, and the copy 0.4-0.5 ms; at width 256 the copy costs what it saves;
/// docs/benchmarks.md). The 64-wide reference network's products (2^22) are far below it.
pub const TRANSPOSE_MIN_WORK: usize = 1 << 27;

/// Leading dimension of the copy of A^T, whose rows hold A's `rows` values: rounded up to a
/// multiple of 16 values that is an odd multiple of 16, so that consecutive rows never start
/// a multiple of 128 bytes (f32) or 256 bytes (f64) apart. Rows exactly 4 kB apart (e.g. 1024
/// f32 values) would make the copy's writes collide in the same cache sets.
pub fn transposed_ld(rows: usize) -> usize {
    let ld = rows.next_multiple_of(16);
    if (ld / 16).is_multiple_of(2) {
        ld + 16
    } else {
        ld
    }
}

/// Writes the transpose of `src` (rows x cols, row-major) into `dst` (cols x rows, row-major
/// with leading dimension `ld` >= rows): dst[j ld + i] = src[i cols + j]. In tiles of 16 x 16
/// (read by rows, written by rows through a local tile), split over the threads in blocks of
/// dst's rows when large.
pub fn transpose_into<S: Scalar>(src: &[S], rows: usize, cols: usize, dst: &mut [S], ld: usize) {
    const TILE: usize = 16;
    assert!(
        src.len() >= rows * cols && ld >= rows && dst.len() >= cols.saturating_sub(1) * ld + rows
    );
    if rows == 0 || cols == 0 {
        return;
    }
    let block = threads::items_per_block(cols, rows);
    let blocks = dst[..(cols - 1) * ld + rows]
        .chunks_mut(block * ld)
        .zip((0..cols).step_by(block));
    threads::for_each_block(blocks, |(dst, first_col)| {
        let last_col = cols.min(first_col + block);
        for i0 in (0..rows).step_by(TILE) {
            let i1 = rows.min(i0 + TILE);
            for j0 in (first_col..last_col).step_by(TILE) {
                let j1 = last_col.min(j0 + TILE);
                let mut tile = [[S::zero(); TILE]; TILE];
                for (i, row) in (i0..i1).zip(tile.iter_mut()) {
                    row[..j1 - j0].copy_from_slice(&src[i * cols + j0..i * cols + j1]);
                }
                for j in j0..j1 {
                    let out = &mut dst[(j - first_col) * ld + i0..(j - first_col) * ld + i1];
                    for (x, row) in out.iter_mut().zip(&tile) {
                        *x = row[j - j0];
                    }
                }
            }
        }
    });
}

/// Strided view of an operand: row-major (`col_stride` 1) or column-major (`row_stride` 1,
/// e.g. the transpose of a row-major matrix, passed without copying).
#[derive(Clone, Copy)]
pub struct View<'a, S> {
    pub data: &'a [S],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a, S> View<'a, S> {
    /// A row-major `rows` x `cols` matrix.
    pub fn row_major(data: &'a [S], rows: usize, cols: usize) -> Self {
        View {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose (`cols` x `rows`) of the row-major `rows` x `cols` matrix in `data`.
    pub fn transpose_of(data: &'a [S], rows: usize, cols: usize) -> Self {
        View {
            data,
            rows: cols,
            cols: rows,
            row_stride: 1,
            col_stride: cols,
        }
    }

    /// The faer view of the same matrix (rows >= 1, cols >= 1).
    fn faer(self) -> MatRef<'a, S> {
        let (m, k) = (self.rows, self.cols);
        if self.col_stride == 1 {
            let len = (m - 1) * self.row_stride + k;
            MatRef::from_row_major_slice_with_stride(&self.data[..len], m, k, self.row_stride)
        } else {
            assert_eq!(self.row_stride, 1, "operands must be row- or column-major");
            let len = (k - 1) * self.col_stride + m;
            MatRef::from_column_major_slice_with_stride(&self.data[..len], m, k, self.col_stride)
        }
    }
}

/// C = A B (`accumulate` false) or C += A B (true), C m x n row-major with leading
/// dimension `ldc`. With `accumulate` false, C's old values
/// are not read (NaN in C does not leak into the result).
pub fn gemm<S: Scalar>(a: View<S>, b: View<S>, c: &mut [S], ldc: usize, accumulate: bool) {
    let rows = rows_per_block(a.rows, b.cols, a.cols, threads::count());
    product_in_blocks(a, b, c, ldc, accumulate, rows);
}

/// The product with C's rows split into blocks of `rows_per_block`, each computed on one
/// thread of rayon's pool (the calling thread waits). Each element of C is summed by one
/// thread in the same order as without the split, so results do not depend on it (tested).
#[allow(clippy::too_many_arguments)]
fn product_in_blocks<S: Scalar>(
    a: View<S>,
    b: View<S>,
    c: &mut [S],
    ldc: usize,
    accumulate: bool,
    rows_per_block: usize,
) {
    if rows_per_block >= a.rows || b.cols == 0 {
        gemm_on_this_thread(a, b, c, ldc, accumulate);
        return;
    }
    let blocks = c
        .chunks_mut(rows_per_block * ldc)
        .zip((0..a.rows).step_by(rows_per_block));
    threads::for_each_block(blocks, |(c_block, start)| {
        let a_block = View {
            data: &a.data[start * a.row_stride..],
            rows: rows_per_block.min(a.rows - start),
            ..a
        };
        gemm_on_this_thread(a_block, b, c_block, ldc, accumulate);
    });
}

/// [`gemm`] on the calling thread only (for callers that split the work themselves).
pub fn gemm_on_this_thread<S: Scalar>(
    a: View<S>,
    b: View<S>,
    c: &mut [S],
    ldc: usize,
    accumulate: bool,
) {
    assert_eq!(a.cols, b.rows, "inner dimensions of A B differ");
    let (m, k, n) = (a.rows, a.cols, b.cols);
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
    // C as the transpose of a column-major view: faer 0.24.4's
    // `from_row_major_slice_with_stride_mut` checks row-major bounds but builds a column-major
    // view (wrong results and heap corruption; found by the test below), so it is not used.
    let out =
        MatMut::from_column_major_slice_with_stride_mut(&mut c[..(m - 1) * ldc + n], n, m, ldc)
            .transpose_mut();
    let beta = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    matmul(out, beta, a.faer(), b.faer(), S::one(), Par::Seq);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Write the transpose of `src` (rows x cols, row-major) into `dst` (cols x rows).
    fn transpose<S: Copy>(src: &[S], rows: usize, cols: usize, dst: &mut [S]) {
        for r in 0..rows {
            for c in 0..cols {
                dst[c * rows + r] = src[r * cols + c];
            }
        }
    }

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
                View {
                    data: &a,
                    rows: m,
                    cols: k,
                    row_stride: k,
                    col_stride: 1,
                },
                View::row_major(&b, k, n),
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
                View {
                    data: &at,
                    rows: m,
                    cols: k,
                    row_stride: 1,
                    col_stride: m,
                },
                View::row_major(&b, k, n),
                &mut c2,
                n,
                true,
            );
            for (x, y) in c2.iter().zip(&want) {
                assert!((x - (y + 1.0)).abs() < 1e-12, "transposed {m}x{k}x{n}");
            }
            // B given as its transpose (n x k row-major), read with swapped strides.
            let mut bt = vec![0.0; k * n];
            transpose(&b, k, n, &mut bt);
            let mut c3 = vec![0.0; m * n];
            gemm(
                View::row_major(&a, m, k),
                View::transpose_of(&bt, n, k),
                &mut c3,
                n,
                false,
            );
            for (x, y) in c3.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12, "transposed B {m}x{k}x{n}");
            }
            // f32.
            let a32: Vec<f32> = a.iter().map(|&x| x as f32).collect();
            let b32: Vec<f32> = b.iter().map(|&x| x as f32).collect();
            let mut c32 = vec![0.0f32; m * n];
            gemm(
                View {
                    data: &a32,
                    rows: m,
                    cols: k,
                    row_stride: k,
                    col_stride: 1,
                },
                View::row_major(&b32, k, n),
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
                View {
                    data: &a32,
                    rows: m,
                    cols: k,
                    row_stride: k,
                    col_stride: 1,
                },
                View::row_major(&b32, k, n),
                &mut c_nan,
                n,
                false,
            );
            assert_eq!(c_nan, c32, "{m}x{k}x{n}");
        }
    }

    #[test]
    fn transpose_into_writes_the_transpose_with_any_leading_dimension() {
        let _guard = threads::TEST_GUARD
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Partial tiles, one row or column, and a size split over threads (2^17 values).
        for &(rows, cols) in &[(1, 1), (1, 40), (37, 1), (17, 33), (16, 32), (520, 300)] {
            let src: Vec<f64> = (0..rows * cols).map(|i| i as f64).collect();
            for t in [1, 2, 3] {
                threads::set(t);
                let ld = transposed_ld(rows);
                let mut dst = vec![-1.0; cols * ld];
                transpose_into(&src, rows, cols, &mut dst, ld);
                for j in 0..cols {
                    for i in 0..rows {
                        assert_eq!(
                            dst[j * ld + i],
                            src[i * cols + j],
                            "{rows}x{cols}, {t} threads"
                        );
                    }
                    // The padding is not written, and rows never start a multiple of 32
                    // values apart.
                    assert_eq!(ld % 32, 16);
                    assert!(dst[j * ld + rows..(j + 1) * ld].iter().all(|&x| x == -1.0));
                }
            }
        }
        threads::set(1);
    }

    #[test]
    fn threads_do_not_change_results() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(2);
        // Above PARALLEL_MIN_WORK: the forward and weight-gradient shapes of a 256-wide layer,
        // and rows that do not divide evenly.
        for &(m, k, n, transposed) in &[
            (512, 256, 256, false),
            (256, 512, 256, true),
            (301, 190, 170, false),
            (301, 190, 170, true),
        ] {
            assert!(m * k * n >= PARALLEL_MIN_WORK);
            let a: Vec<f32> = (0..m * k).map(|_| rng.random_range(-1.0..1.0)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let lhs = View {
                data: &a,
                rows: m,
                cols: k,
                row_stride: if transposed { 1 } else { k },
                col_stride: if transposed { m } else { 1 },
            };
            let mut one = vec![0.0f32; m * n];
            let mut two = vec![0.0f32; m * n];
            gemm_on_this_thread(lhs, View::row_major(&b, k, n), &mut one, n, false);
            for threads in [2, 3] {
                let rows = rows_per_block(m, n, k, threads);
                assert!(rows < m, "{m}x{k}x{n} is split over {threads} threads");
                two.fill(f32::NAN);
                product_in_blocks(lhs, View::row_major(&b, k, n), &mut two, n, false, rows);
                assert!(
                    one.iter()
                        .zip(&two)
                        .all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{m}x{k}x{n}: 1 and {threads} threads differ"
                );
            }
        }
    }
}
