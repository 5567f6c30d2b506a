//! The engine's floating-point type: one trait implemented for `f32` and `f64`, plus the
//! vectorisable `tanh` the training loop uses instead of libm's.

use std::fmt::{Debug, Display};

/// A floating-point type the engine can train in (`f32` or `f64`).
pub trait Scalar:
    ndarray::LinalgScalar
    + num_traits::Float
    + num_traits::FromPrimitive
    + Send
    + Sync
    + Debug
    + Display
    + Default
    + std::iter::Sum
    + 'static
{
    /// "f32" or "f64", as written in configs and records.
    const NAME: &'static str;
    /// Convert from f64 (rounding for f32).
    fn of(x: f64) -> Self;
    /// Widen to f64.
    fn f64(self) -> f64;
    /// tanh by a branch-free rational approximation, so that loops over slices vectorise.
    fn fast_tanh(self) -> Self;
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn fast_tanh(self) -> Self {
        tanh_rational_f32(self)
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn fast_tanh(self) -> Self {
        // f64 runs are for accuracy (gradient checks, references): keep libm's tanh.
        self.tanh()
    }
}

/// tanh(x) = x P(x^2) / Q(x^2) on |x| <= 7.905 (where f32 tanh rounds to +-1), the
/// 13/6 rational fit used by Eigen's fast float tanh. Max error 4e-7 absolute (see tests).
// The coefficients are quoted as published (Eigen); f32 rounds them.
#[allow(clippy::excessive_precision)]
#[inline(always)]
pub fn tanh_rational_f32(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    const A1: f32 = 4.893_524_6e-3;
    const A3: f32 = 6.372_619_3e-4;
    const A5: f32 = 1.485_722_4e-5;
    const A7: f32 = 5.122_297e-8;
    #[allow(clippy::excessive_precision)]
    const A9: f32 = -8.604_671_5e-11;
    const A11: f32 = 2.000_188e-13;
    const A13: f32 = -2.760_768_5e-16;
    #[allow(clippy::excessive_precision)]
    const B0: f32 = 4.893_525_2e-3;
    const B2: f32 = 2.268_434_6e-3;
    const B4: f32 = 1.185_347e-4;
    const B6: f32 = 1.198_258_4e-6;
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let mut p = A13;
    p = p * x2 + A11;
    p = p * x2 + A9;
    p = p * x2 + A7;
    p = p * x2 + A5;
    p = p * x2 + A3;
    p = p * x2 + A1;
    p *= x;
    let mut q = B6;
    q = q * x2 + B4;
    q = q * x2 + B2;
    q = q * x2 + B0;
    p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_f32_matches_libm() {
        let mut worst = 0.0f64;
        let mut x = -12.0f64;
        while x <= 12.0 {
            let fast = (x as f32).fast_tanh() as f64;
            let exact = x.tanh();
            worst = worst.max((fast - exact).abs());
            x += 1e-4;
        }
        assert!(worst < 5e-7, "max abs error {worst}"); // about 4 ulp at 1.0
        assert_eq!(0.0f32.fast_tanh(), 0.0);
        assert!((1e-6f32.fast_tanh() - 1e-6).abs() < 1e-12);
        assert_eq!(f32::INFINITY.fast_tanh(), 1.0);
        assert!(f32::NAN.fast_tanh().is_nan());
    }

    #[test]
    fn fast_tanh_is_odd_and_bounded() {
        for i in 0..1000 {
            let x = i as f32 * 0.013;
            assert_eq!(x.fast_tanh(), -(-x).fast_tanh());
            assert!(x.fast_tanh().abs() <= 1.0);
        }
    }
}
