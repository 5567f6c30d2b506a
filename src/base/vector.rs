//! The hidden layers' element-wise kernels over a whole block of rows: forward, Z += b (row by
//! row) and A = tanh(Z); backward, Delta *= tanh'(Z) = 1 - A^2 with the bias gradient (and, for
//! a layer with one input, the weight gradient) summed in the same pass.
//!
//! In f32 it runs in 512-bit vectors where the CPU has AVX-512 (detected at run time, so one
//! binary serves every x86-64 node); elsewhere, and in f64, it is a plain loop that the
//! compiler vectorises (on Intel AVX-512 parts rustc keeps such loops 256 bits wide). Both
//! paths do the same operations in the same order (the tanh's fused multiply-adds included, see
//! [`tanh_rational_f32`]), so their results are bit-identical (tested below).

/// tanh(x) = x P(x^2) / Q(x^2) on |x| <= 7.886 (where this evaluation reaches +-1), the
/// 13/6 rational fit used by Eigen's fast float tanh. Max error 4e-7 absolute (tested in
/// `base::scalar`). Evaluated by Horner's rule in fused multiply-adds (one rounding per step,
/// and half the instructions of separate multiplies and adds, which bounded the unfused pass
/// more than its division did), which the AVX-512 kernel repeats step for step.
/// `mul_add` is one instruction in native and x86-64-v3 builds (FMA); an x86-64-v2 build
/// makes it a library call: the same results, much slower (docs/cluster.md).
#[inline(always)]
pub fn tanh_rational_f32(x: f32) -> f32 {
    let x = x.clamp(-TANH_CLAMP, TANH_CLAMP);
    let x2 = x * x;
    let mut p = TANH_NUMERATOR[0];
    for &c in &TANH_NUMERATOR[1..] {
        p = p.mul_add(x2, c);
    }
    p *= x;
    let mut q = TANH_DENOMINATOR[0];
    for &c in &TANH_DENOMINATOR[1..] {
        q = q.mul_add(x2, c);
    }
    p / q
}

/// Where the rational tanh is clamped: the smallest x at which its fused evaluation gives
/// exactly 1 (it stays below 1 before; tested), so that tanh(+-inf) = +-1. Eigen clamps at
/// 7.905311, where its unfused evaluation gives 1. True tanh is within 2.9e-7 of 1 there.
pub const TANH_CLAMP: f32 = 7.885_644;
/// The numerator's odd coefficients, highest power first (x^13 ... x^1), as published (Eigen;
/// f32 rounds them).
const TANH_NUMERATOR: [f32; 7] = [
    -2.760_768_5e-16,
    2.000_188e-13,
    -8.604_671_5e-11,
    5.122_297e-8,
    1.485_722_4e-5,
    6.372_619_3e-4,
    4.893_524_6e-3,
];
/// The denominator's even coefficients, highest power first (x^6 ... x^0).
const TANH_DENOMINATOR: [f32; 4] = [1.198_258_4e-6, 1.185_347e-4, 2.268_434_6e-3, 4.893_525_2e-3];

/// Z += b, added to every row of `z` (rows of `bias.len()` values), and A = f(Z): the
/// portable loop (with f = the fast tanh, what [`bias_tanh_f32`] must equal bit for bit).
/// For a layer with one input, `first` = (x, w) (one input value per row, and the weights)
/// computes Z = x_i w + b in the same pass (the product rounded before the sum) instead of
/// reading Z.
pub fn add_bias_then<S: Copy + std::ops::Add<Output = S> + std::ops::Mul<Output = S>>(
    z: &mut [S],
    bias: &[S],
    a: &mut [S],
    first: Option<(&[S], &[S])>,
    f: impl Fn(S) -> S,
) {
    let width = bias.len();
    for (i, (z_row, a_row)) in z
        .chunks_exact_mut(width)
        .zip(a.chunks_exact_mut(width))
        .enumerate()
    {
        if let Some((x, w)) = first {
            z_row.iter_mut().zip(w).for_each(|(z, &w)| *z = x[i] * w);
        }
        for ((z, a), &b) in z_row.iter_mut().zip(a_row.iter_mut()).zip(bias) {
            *z = *z + b;
            *a = f(*z);
        }
    }
}

/// [`add_bias_then`] with the fast tanh, for f32, in AVX-512 vectors when the CPU has them.
pub fn bias_tanh_f32(z: &mut [f32], bias: &[f32], a: &mut [f32], first: Option<(&[f32], &[f32])>) {
    let width = bias.len();
    assert!(z.len() == a.len() && width > 0 && z.len().is_multiple_of(width));
    if let Some((x, w)) = first {
        assert!(x.len() == z.len() / width && w.len() == width);
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above); the slices' lengths were checked.
        #[allow(unsafe_code)]
        unsafe {
            avx512::bias_tanh(z, bias, a, first)
        };
        return;
    }
    add_bias_then(z, bias, a, first, tanh_rational_f32);
}

/// Backward through tanh for a block of rows of width `gb.len()`: Delta *= 1 - A^2 (tanh's
/// derivative from its stored output A), then the bias gradient gb = sum over rows of Delta
/// and, for a layer with one input (`first`: that input, one value per row, and the weight
/// gradient), gw = sum over rows of x Delta. Both gradients are overwritten; rows are summed
/// in order. When the layer above has one output, `above` = (its Delta, one value per row;
/// its weights, `gb.len()` values) gives this layer's dLoss/dA = Delta_above,i w, computed
/// here instead of read from `delta`. The portable loop, which [`tanh_backward_f32`] must
/// equal bit for bit.
pub fn tanh_backward_portable<S: num_traits::Float>(
    delta: &mut [S],
    a: &[S],
    gb: &mut [S],
    first: Option<(&[S], &mut [S])>,
    above: Option<(&[S], &[S])>,
) {
    gb.fill(S::zero());
    let width = gb.len();
    for (i, (d_row, a_row)) in delta
        .chunks_exact_mut(width)
        .zip(a.chunks_exact(width))
        .enumerate()
    {
        if let Some((d, w)) = above {
            d_row.iter_mut().zip(w).for_each(|(x, &w)| *x = d[i] * w);
        }
        for ((d, &a), g) in d_row.iter_mut().zip(a_row).zip(gb.iter_mut()) {
            *d = *d * (S::one() - a * a);
            *g = *g + *d;
        }
    }
    if let Some((x, gw)) = first {
        scaled_column_sums(delta, x, gw);
    }
}

/// out[j] = the sum over the rows i of X, in row order, of s_i X[i, j] (`x`: rows of
/// `out.len()` values; `s`: one value per row); `out` is overwritten. The weight gradient of
/// a layer with one output (X its input, s its Delta). The sums are kept in local
/// accumulators for a block of columns at a time: a running sum stored to memory after every
/// row would wait on its own store at each row.
pub fn scaled_column_sums<S: num_traits::Float>(x: &[S], s: &[S], out: &mut [S]) {
    const BLOCK: usize = 64;
    let width = out.len();
    for start in (0..width).step_by(BLOCK) {
        let cols = BLOCK.min(width - start);
        let mut acc = [S::zero(); BLOCK];
        for (row, &s) in x.chunks_exact(width).zip(s) {
            let row = &row[start..start + cols];
            if cols == BLOCK {
                for j in 0..BLOCK {
                    acc[j] = acc[j] + row[j] * s;
                }
            } else {
                for (acc, &x) in acc.iter_mut().zip(row) {
                    *acc = *acc + x * s;
                }
            }
        }
        out[start..start + cols].copy_from_slice(&acc[..cols]);
    }
}

/// [`tanh_backward_portable`] for f32, in AVX-512 vectors (the gradients kept in registers
/// across rows) when the CPU has them.
pub fn tanh_backward_f32(
    delta: &mut [f32],
    a: &[f32],
    gb: &mut [f32],
    first: Option<(&[f32], &mut [f32])>,
    above: Option<(&[f32], &[f32])>,
) {
    let width = gb.len();
    assert!(delta.len() == a.len() && width > 0 && delta.len().is_multiple_of(width));
    if let Some((x, gw)) = &first {
        assert!(x.len() == delta.len() / width && gw.len() == width);
    }
    if let Some((d, w)) = above {
        assert!(d.len() == delta.len() / width && w.len() == width);
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above); the slices' lengths were checked.
        #[allow(unsafe_code)]
        unsafe {
            avx512::tanh_backward(delta, a, gb, first, above)
        };
        return;
    }
    tanh_backward_portable(delta, a, gb, first, above);
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{
        TANH_CLAMP as CLAMP, TANH_DENOMINATOR as DENOMINATOR, TANH_NUMERATOR as NUMERATOR,
    };

    /// tanh of 16 lanes: clamp (NaN passes through, as in `f32::clamp`), then the odd
    /// rational function in fused multiply-adds, then one division.
    #[target_feature(enable = "avx512f")]
    fn tanh16(x: __m512) -> __m512 {
        // vmaxps/vminps return their second operand when either is NaN.
        let x = _mm512_max_ps(_mm512_set1_ps(-CLAMP), x);
        let x = _mm512_min_ps(_mm512_set1_ps(CLAMP), x);
        let x2 = _mm512_mul_ps(x, x);
        let mut p = _mm512_set1_ps(NUMERATOR[0]);
        for &c in &NUMERATOR[1..] {
            p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(c));
        }
        p = _mm512_mul_ps(p, x);
        let mut q = _mm512_set1_ps(DENOMINATOR[0]);
        for &c in &DENOMINATOR[1..] {
            q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(c));
        }
        _mm512_div_ps(p, q)
    }

    /// # Safety
    /// The CPU must have AVX-512F; `z` and `a` have the same length, a multiple of
    /// `bias.len()`; `first`'s input has one value per row and its weights `bias.len()`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn bias_tanh(
        z: &mut [f32],
        bias: &[f32],
        a: &mut [f32],
        first: Option<(&[f32], &[f32])>,
    ) {
        let width = bias.len();
        let full = width / 16 * 16;
        let tail: __mmask16 = ((1u32 << (width - full)) - 1) as __mmask16;
        let bp = bias.as_ptr();
        for (i, (z_row, a_row)) in z
            .chunks_exact_mut(width)
            .zip(a.chunks_exact_mut(width))
            .enumerate()
        {
            let (zp, ap) = (z_row.as_mut_ptr(), a_row.as_mut_ptr());
            let xw = first.map(|(x, w)| (_mm512_set1_ps(*x.get_unchecked(i)), w.as_ptr()));
            let mut j = 0;
            while j < full {
                let v = z_plus_b(zp, xw, bp, j, !0);
                _mm512_storeu_ps(zp.add(j), v);
                _mm512_storeu_ps(ap.add(j), tanh16(v));
                j += 16;
            }
            if tail != 0 {
                let v = z_plus_b(zp, xw, bp, j, tail);
                _mm512_mask_storeu_ps(zp.add(j), tail, v);
                _mm512_mask_storeu_ps(ap.add(j), tail, tanh16(v));
            }
        }
    }

    /// Z + b for the 16 columns from `j` (those in `mask`): Z read from `zp`, or, given
    /// `xw` = (the row's input in every lane, the weights), computed as x w.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; the masked columns are in bounds of every pointer.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn z_plus_b(
        zp: *const f32,
        xw: Option<(__m512, *const f32)>,
        bp: *const f32,
        j: usize,
        mask: __mmask16,
    ) -> __m512 {
        let z = match xw {
            Some((x, wp)) => _mm512_mul_ps(x, _mm512_maskz_loadu_ps(mask, wp.add(j))),
            None => _mm512_maskz_loadu_ps(mask, zp.add(j)),
        };
        _mm512_add_ps(z, _mm512_maskz_loadu_ps(mask, bp.add(j)))
    }

    /// Columns per block of [`tanh_backward`]: four vectors, whose two gradients stay in
    /// registers while the block's rows are summed.
    const COLUMNS: usize = 64;

    /// Values of Delta per tile of rows (16 kB of Delta and as much of A).
    const TILE_VALUES: usize = 4096;

    /// # Safety
    /// The CPU must have AVX-512F; `delta` and `a` have the same length, a multiple of
    /// `gb.len()`; `first`'s input and `above`'s Delta have one value per row, `first`'s
    /// gradient and `above`'s weights `gb.len()` values.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn tanh_backward(
        delta: &mut [f32],
        a: &[f32],
        gb: &mut [f32],
        first: Option<(&[f32], &mut [f32])>,
        above: Option<(&[f32], &[f32])>,
    ) {
        let width = gb.len();
        let rows = delta.len() / width;
        let (x, mut gw) = match first {
            Some((x, gw)) => (Some(x), Some(gw)),
            None => (None, None),
        };
        let one = _mm512_set1_ps(1.0);
        gb.fill(0.0);
        if let Some(gw) = gw.as_deref_mut() {
            gw.fill(0.0);
        }
        // Tiles of rows small enough to stay in cache while each block of columns passes
        // over them; the sums carry over from tile to tile through gb and gw, so every
        // column is still summed over the rows in order.
        let tile = (TILE_VALUES / width).max(1);
        for first_row in (0..rows).step_by(tile) {
            let last_row = rows.min(first_row + tile);
            for start in (0..width).step_by(COLUMNS) {
                let cols = COLUMNS.min(width - start);
                let mask = |k: usize| -> __mmask16 {
                    let lanes = cols.saturating_sub(16 * k).min(16);
                    ((1u32 << lanes) - 1) as __mmask16
                };
                let masks = [mask(0), mask(1), mask(2), mask(3)];
                let (gbp, gwp) = (
                    gb.as_mut_ptr().add(start),
                    gw.as_deref_mut().map(|g| g.as_mut_ptr().add(start)),
                );
                let mut sum_d = [_mm512_setzero_ps(); 4];
                let mut sum_xd = [_mm512_setzero_ps(); 4];
                let mut w_above = [_mm512_setzero_ps(); 4];
                for k in 0..4 {
                    if let Some((_, w)) = above {
                        w_above[k] =
                            _mm512_maskz_loadu_ps(masks[k], w.as_ptr().add(start + 16 * k));
                    }
                    sum_d[k] = _mm512_maskz_loadu_ps(masks[k], gbp.add(16 * k));
                    if let Some(gwp) = gwp {
                        sum_xd[k] = _mm512_maskz_loadu_ps(masks[k], gwp.add(16 * k));
                    }
                }
                for i in first_row..last_row {
                    let offset = i * width + start;
                    let (dp, ap) = (delta.as_mut_ptr().add(offset), a.as_ptr().add(offset));
                    for k in 0..4 {
                        if masks[k] == 0 {
                            break;
                        }
                        let av = _mm512_maskz_loadu_ps(masks[k], ap.add(16 * k));
                        let d = match above {
                            Some((d, _)) => {
                                _mm512_mul_ps(_mm512_set1_ps(*d.get_unchecked(i)), w_above[k])
                            }
                            None => _mm512_maskz_loadu_ps(masks[k], dp.add(16 * k)),
                        };
                        let d = _mm512_mul_ps(d, _mm512_sub_ps(one, _mm512_mul_ps(av, av)));
                        _mm512_mask_storeu_ps(dp.add(16 * k), masks[k], d);
                        sum_d[k] = _mm512_add_ps(sum_d[k], d);
                        if let Some(x) = x {
                            let xd = _mm512_mul_ps(_mm512_set1_ps(*x.get_unchecked(i)), d);
                            sum_xd[k] = _mm512_add_ps(sum_xd[k], xd);
                        }
                    }
                }
                for k in 0..4 {
                    _mm512_mask_storeu_ps(gbp.add(16 * k), masks[k], sum_d[k]);
                    if let Some(gwp) = gwp {
                        _mm512_mask_storeu_ps(gwp.add(16 * k), masks[k], sum_xd[k]);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_kernel_equals_the_portable_loop_bit_for_bit() {
        // Widths with and without a partial last vector; values across tanh's whole range,
        // the clamp edges, signed zeros, infinities and NaN.
        let specials = [
            0.0,
            -0.0,
            TANH_CLAMP,
            -TANH_CLAMP,
            7.906,
            -100.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            1e-30,
            -1e-30,
        ];
        for width in [1, 5, 16, 17, 64, 100] {
            let rows = 37;
            let z: Vec<f32> = (0..rows * width)
                .map(|i| match i % 13 {
                    0 => specials[(i / 13) % specials.len()],
                    _ => ((i * 7919) % 20011) as f32 / 1000.0 - 10.0,
                })
                .collect();
            let bias: Vec<f32> = (0..width).map(|j| j as f32 * 0.37 - 2.0).collect();
            // A layer with one input: Z = x w + b, with x and w spanning the same values.
            let x: Vec<f32> = (0..rows).map(|i| z[i * width] / 4.0).collect();
            let w: Vec<f32> = (0..width).map(|j| z[j] * 0.3).collect();
            for first in [None, Some((&x[..], &w[..]))] {
                let (mut z_fast, mut a_fast) = (z.clone(), vec![0.0f32; z.len()]);
                let (mut z_ref, mut a_ref) = (z.clone(), vec![0.0f32; z.len()]);
                bias_tanh_f32(&mut z_fast, &bias, &mut a_fast, first);
                add_bias_then(&mut z_ref, &bias, &mut a_ref, first, tanh_rational_f32);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                let input = first.is_some();
                assert_eq!(bits(&z_fast), bits(&z_ref), "Z + b, width {width}, {input}");
                assert_eq!(bits(&a_fast), bits(&a_ref), "tanh, width {width}, {input}");
            }
            let (mut z_ref, mut a_ref) = (z.clone(), vec![0.0f32; z.len()]);
            add_bias_then(&mut z_ref, &bias, &mut a_ref, None, tanh_rational_f32);
            // And the values are tanh's, to the fast tanh's accuracy.
            for (&z, &a) in z_ref.iter().zip(&a_ref) {
                if z.is_nan() {
                    assert!(a.is_nan());
                } else {
                    assert!(
                        (a as f64 - (z as f64).tanh()).abs() < 5e-7,
                        "tanh({z}) = {a}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_backward_kernel_computes_delta_from_a_one_output_layer_above() {
        // Delta = (d_i w_j) (1 - A^2), as if the layer above had written d_i w_j first.
        for width in [1, 16, 64, 65, 700] {
            let rows = 23;
            let value = |i: usize, m: usize| ((i * m) % 2003) as f32 / 1000.0 - 1.0;
            let a: Vec<f32> = (0..rows * width).map(|i| value(i, 104_729)).collect();
            let d: Vec<f32> = (0..rows).map(|i| value(i, 31)).collect();
            let w: Vec<f32> = (0..width).map(|j| value(j, 7919)).collect();
            let written: Vec<f32> = (0..rows * width)
                .map(|k| d[k / width] * w[k % width])
                .collect();
            let (mut d_ref, mut gb_ref) = (written, vec![0.0f32; width]);
            tanh_backward_portable(&mut d_ref, &a, &mut gb_ref, None, None);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let (mut d_fast, mut gb_fast) = (vec![f32::NAN; rows * width], vec![0.0f32; width]);
            tanh_backward_f32(&mut d_fast, &a, &mut gb_fast, None, Some((&d, &w)));
            let (mut d_port, mut gb_port) = (vec![f32::NAN; rows * width], vec![0.0f32; width]);
            tanh_backward_portable(&mut d_port, &a, &mut gb_port, None, Some((&d, &w)));
            for (got, what) in [(&d_fast, "kernel"), (&d_port, "portable")] {
                assert_eq!(bits(got), bits(&d_ref), "Delta, {what}, width {width}");
            }
            assert_eq!(
                bits(&gb_fast),
                bits(&gb_ref),
                "bias gradient, width {width}"
            );
            assert_eq!(
                bits(&gb_port),
                bits(&gb_ref),
                "bias gradient, width {width}"
            );
        }
    }

    #[test]
    fn scaled_column_sums_sum_each_column_in_row_order() {
        for width in [1, 5, 64, 100, 200] {
            let rows = 50;
            let x: Vec<f64> = (0..rows * width)
                .map(|i| ((i * 37) % 101) as f64 - 50.3)
                .collect();
            let s: Vec<f64> = (0..rows).map(|i| 1.0 / (i as f64 + 0.7)).collect();
            let mut out = vec![f64::NAN; width];
            scaled_column_sums(&x, &s, &mut out);
            for (j, &got) in out.iter().enumerate() {
                let mut want = 0.0;
                for i in 0..rows {
                    want += x[i * width + j] * s[i];
                }
                assert_eq!(got.to_bits(), want.to_bits(), "width {width}, column {j}");
            }
        }
    }

    #[test]
    fn the_backward_kernel_equals_the_portable_loop_bit_for_bit() {
        for width in [1, 7, 16, 64, 65, 130, 700] {
            // (700: tiles of 5 rows, so the sums carry across tiles.)
            let rows = 23;
            let value = |i: usize, m: usize| ((i * m) % 2003) as f32 / 1000.0 - 1.0;
            let delta: Vec<f32> = (0..rows * width).map(|i| value(i, 7919)).collect();
            let a: Vec<f32> = (0..rows * width).map(|i| value(i, 104_729)).collect();
            let x: Vec<f32> = (0..rows).map(|i| value(i, 31)).collect();
            for with_input in [false, true] {
                let (mut d_fast, mut gb_fast, mut gw_fast) =
                    (delta.clone(), vec![f32::NAN; width], vec![f32::NAN; width]);
                let (mut d_ref, mut gb_ref, mut gw_ref) =
                    (delta.clone(), vec![f32::NAN; width], vec![f32::NAN; width]);
                let first_fast = with_input.then_some((&x[..], &mut gw_fast[..]));
                tanh_backward_f32(&mut d_fast, &a, &mut gb_fast, first_fast, None);
                let first_ref = with_input.then_some((&x[..], &mut gw_ref[..]));
                tanh_backward_portable(&mut d_ref, &a, &mut gb_ref, first_ref, None);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&d_fast), bits(&d_ref), "Delta, width {width}");
                assert_eq!(
                    bits(&gb_fast),
                    bits(&gb_ref),
                    "bias gradient, width {width}"
                );
                if with_input {
                    assert_eq!(
                        bits(&gw_fast),
                        bits(&gw_ref),
                        "weight gradient, width {width}"
                    );
                }
                // And the values are the definitions, summed in f64.
                for (j, &got) in gb_ref.iter().enumerate() {
                    let want: f64 = (0..rows)
                        .map(|i| {
                            let k = i * width + j;
                            delta[k] as f64 * (1.0 - a[k] as f64 * a[k] as f64)
                        })
                        .sum();
                    assert!((got as f64 - want).abs() < 1e-4, "gb[{j}]");
                }
            }
        }
    }
}
