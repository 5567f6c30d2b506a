//! The arithmetic limit of a training step: the floating-point work of the MLP's matrix
//! products, and the core's measured peak rate of fused multiply-adds.

use crate::base::scalar::Scalar;
use crate::experiment::config::Dtype;
use std::time::Instant;

/// Floating-point operations of one full-batch training step of an MLP with layer widths
/// `widths` (input, hidden..., output) on `n` points, counting the matrix products only (a
/// multiply-add is 2 operations): the forward pass, the weight gradients, and the input
/// gradients of every layer but the first. Element-wise work (activations, the optimizer) is
/// O(n * width) and left out.
pub fn flops_per_step(widths: &[usize], n: usize) -> f64 {
    let products: Vec<f64> = widths.windows(2).map(|w| (w[0] * w[1]) as f64).collect();
    let all: f64 = products.iter().sum();
    let first = products.first().copied().unwrap_or(0.0);
    2.0 * n as f64 * (2.0 * all + (all - first))
}

/// Independent accumulators, each one vector register wide (`LANES` elements: 8 f32 or 4 f64
/// with AVX2): 12 of them hide an FMA latency of 4-5 cycles on two ports and fit the 16
/// vector registers, so the loop is bound by FMA throughput, not by memory or latency.
const ACCUMULATORS: usize = 12;

fn fma_loop<S: Scalar, const LANES: usize>(iterations: u64) -> f64 {
    let m = std::hint::black_box(S::of(0.999_999));
    let c = std::hint::black_box(S::of(1e-6));
    let mut acc = [[S::of(0.5); LANES]; ACCUMULATORS];
    let start = Instant::now();
    for _ in 0..iterations {
        for a in acc.iter_mut() {
            for x in a.iter_mut() {
                *x = x.mul_add(m, c);
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    std::hint::black_box(&acc);
    seconds
}

fn best_rate<S: Scalar, const LANES: usize>(seconds: f64, repeats: usize) -> f64 {
    // Calibrate: grow the count until a loop takes a tenth of the target.
    let mut iterations = 1u64 << 12;
    while fma_loop::<S, LANES>(iterations) < seconds / 10.0 && iterations < 1 << 40 {
        iterations *= 4;
    }
    let iterations = ((iterations as f64) * seconds / fma_loop::<S, LANES>(iterations).max(1e-9))
        .max(1.0) as u64;
    let best = (0..repeats.max(1))
        .map(|_| fma_loop::<S, LANES>(iterations))
        .fold(f64::INFINITY, f64::min);
    2.0 * (ACCUMULATORS * LANES) as f64 * iterations as f64 / best / 1e9
}

/// The peak rate of one core in GFLOP/s (2 operations per fused multiply-add), the best of
/// `repeats` timed loops of about `seconds` each. It needs FMA instructions
/// (`target-cpu=native` on an FMA machine); without them `mul_add` is a library call and the
/// number is far below the hardware's.
pub fn fma_peak_gflops(dtype: Dtype, seconds: f64, repeats: usize) -> f64 {
    match dtype {
        Dtype::F32 => best_rate::<f32, 8>(seconds, repeats),
        Dtype::F64 => best_rate::<f64, 4>(seconds, repeats),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_of_the_reference_network() {
        // 1-64-64-1 on 1024 points: products 64 + 4096 + 64 = 4224 per point; forward and
        // weight gradients 2 x 4224, input gradients 4160 (all but the first layer).
        let f = flops_per_step(&[1, 64, 64, 1], 1024);
        assert_eq!(f, 2.0 * 1024.0 * (2.0 * 4224.0 + 4160.0));
        assert!((f / 1e6 - 25.8).abs() < 0.1, "about 26 MFLOP: {f}");
        // One linear layer: no input gradient.
        assert_eq!(flops_per_step(&[3, 2], 10), 2.0 * 10.0 * 2.0 * 6.0);
    }

    #[test]
    fn fma_peak_is_a_positive_finite_rate() {
        let f32_rate = fma_peak_gflops(Dtype::F32, 0.01, 1);
        let f64_rate = fma_peak_gflops(Dtype::F64, 0.01, 1);
        assert!(f32_rate.is_finite() && f32_rate > 0.1, "{f32_rate}");
        assert!(f64_rate.is_finite() && f64_rate > 0.1, "{f64_rate}");
    }
}
