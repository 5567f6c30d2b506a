//! The arithmetic limit of a training step: the floating-point work of the MLP's matrix
//! products, and the core's measured peak rate of fused multiply-adds.

use crate::experiment::config::Dtype;
use pulp::{Arch, Simd, WithSimd};
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

/// Independent accumulators, each one vector register wide: 12 of them hide an FMA latency of
/// 4-5 cycles on two ports and fit the 16 (AVX2) or 32 (AVX-512) vector registers, so the loop
/// is bound by FMA throughput, not by memory or latency.
const ACCUMULATORS: usize = 12;

/// One timed loop of `iterations` x [`ACCUMULATORS`] vector FMAs in the widest vectors the
/// CPU has (chosen at run time by pulp: AVX-512, AVX2 or scalar lanes), returning seconds
/// and the lanes per vector.
struct FmaLoop<S> {
    iterations: u64,
    _scalar: std::marker::PhantomData<S>,
}

macro_rules! fma_loop {
    ($t:ty, $lanes:ident, $splat:ident, $mul_add:ident) => {
        impl WithSimd for FmaLoop<$t> {
            type Output = (f64, usize);
            #[inline(always)]
            fn with_simd<V: Simd>(self, simd: V) -> (f64, usize) {
                let m = simd.$splat(std::hint::black_box(0.999_999));
                let c = simd.$splat(std::hint::black_box(1e-6));
                let mut acc = [simd.$splat(0.5); ACCUMULATORS];
                let start = Instant::now();
                for _ in 0..self.iterations {
                    for a in acc.iter_mut() {
                        *a = simd.$mul_add(*a, m, c);
                    }
                }
                let seconds = start.elapsed().as_secs_f64();
                std::hint::black_box(&acc);
                (seconds, V::$lanes)
            }
        }
    };
}
fma_loop!(f32, F32_LANES, splat_f32s, mul_add_f32s);
fma_loop!(f64, F64_LANES, splat_f64s, mul_add_f64s);

fn timed<S>(iterations: u64) -> (f64, usize)
where
    FmaLoop<S>: WithSimd<Output = (f64, usize)>,
{
    Arch::new().dispatch(FmaLoop::<S> {
        iterations,
        _scalar: std::marker::PhantomData,
    })
}

fn best_rate<S>(seconds: f64, repeats: usize) -> (f64, usize)
where
    FmaLoop<S>: WithSimd<Output = (f64, usize)>,
{
    // Calibrate: grow the count until a loop takes a tenth of the target.
    let mut iterations = 1u64 << 12;
    while timed::<S>(iterations).0 < seconds / 10.0 && iterations < 1 << 40 {
        iterations *= 4;
    }
    let iterations =
        ((iterations as f64) * seconds / timed::<S>(iterations).0.max(1e-9)).max(1.0) as u64;
    let (best, lanes) = (0..repeats.max(1))
        .map(|_| timed::<S>(iterations))
        .fold((f64::INFINITY, 1), |(b, _), (s, l)| (b.min(s), l));
    (
        2.0 * (ACCUMULATORS * lanes) as f64 * iterations as f64 / best / 1e9,
        lanes,
    )
}

/// The peak rate of one core in GFLOP/s (2 operations per fused multiply-add), the best of
/// `repeats` timed loops of about `seconds` each, and the vector width (lanes) it used: the
/// widest the CPU supports, detected at run time (AVX-512: 16 f32 / 8 f64 lanes; AVX2: 8 / 4),
/// so that the limit is not overstated on machines whose matrix-product library uses wider
/// vectors than the compiler's default.
pub fn fma_peak_gflops(dtype: Dtype, seconds: f64, repeats: usize) -> (f64, usize) {
    match dtype {
        Dtype::F32 => best_rate::<f32>(seconds, repeats),
        Dtype::F64 => best_rate::<f64>(seconds, repeats),
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
        let (f32_rate, f32_lanes) = fma_peak_gflops(Dtype::F32, 0.01, 1);
        let (f64_rate, f64_lanes) = fma_peak_gflops(Dtype::F64, 0.01, 1);
        assert!(
            f32_lanes >= f64_lanes && f64_lanes >= 1,
            "{f32_lanes} {f64_lanes}"
        );
        assert!(f32_rate.is_finite() && f32_rate > 0.1, "{f32_rate}");
        assert!(f64_rate.is_finite() && f64_rate > 0.1, "{f64_rate}");
    }
}
