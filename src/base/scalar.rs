//! The engine's floating-point type: one trait implemented for `f32` and `f64`, plus the
//! vectorisable `tanh` (one per type) the training loop uses instead of libm's.

use std::fmt::{Debug, Display};

/// A floating-point type the engine can train in (`f32` or `f64`).
pub trait Scalar:
    ndarray::LinalgScalar
    + faer::traits::ComplexField
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
    /// Z += b on every row of `z` (rows of `bias.len()` values; for a layer with one input,
    /// `first` = (x, w) gives Z = x_i w + b instead), then A = tanh(Z) with
    /// [`Scalar::fast_tanh`]: the hidden layers' element-wise pass ([`crate::base::vector`]).
    fn bias_tanh(z: &mut [Self], bias: &[Self], a: &mut [Self], first: Option<(&[Self], &[Self])>) {
        crate::base::vector::add_bias_then(z, bias, a, first, Self::fast_tanh);
    }
    /// Backward through tanh: Delta *= 1 - A^2, with the bias gradient (and, given the one
    /// input of a first layer, the weight gradient) summed over rows; given a one-output layer
    /// `above` (its Delta and weights), Delta is first computed from it
    /// ([`crate::base::vector::tanh_backward_portable`]).
    fn tanh_backward(
        delta: &mut [Self],
        a: &[Self],
        gb: &mut [Self],
        first: Option<(&[Self], &mut [Self])>,
        above: Option<(&[Self], &[Self])>,
    ) {
        crate::base::vector::tanh_backward_portable(delta, a, gb, first, above);
    }
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
        crate::base::vector::tanh_rational_f32(self)
    }
    fn bias_tanh(z: &mut [Self], bias: &[Self], a: &mut [Self], first: Option<(&[Self], &[Self])>) {
        crate::base::vector::bias_tanh_f32(z, bias, a, first);
    }
    fn tanh_backward(
        delta: &mut [Self],
        a: &[Self],
        gb: &mut [Self],
        first: Option<(&[Self], &mut [Self])>,
        above: Option<(&[Self], &[Self])>,
    ) {
        crate::base::vector::tanh_backward_f32(delta, a, gb, first, above);
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
        tanh_f64(self)
    }
}

/// tanh for f64 without branches or libm calls, so that loops over slices vectorise, within a
/// few ulp of libm (see tests: absolute error <= 3e-16, relative <= 1e-15).
///
/// With y = 2|x| (|x| clamped at 20, where tanh rounds to 1 from 19.1) split as y = n ln 2 + r
/// (n = round(y / ln 2), r in two parts, |r| <= ln 2 / 2), e^y = 2^n e^r and e^r = (E + O) /
/// (E - O) by its [6/6] Pade approximant (E and O its even and odd parts; error below 2e-19
/// on that range), so
///
///   tanh(|x|) = (e^y - 1) / (e^y + 1) = ((2^n - 1) E + (2^n + 1) O) / ((2^n + 1) E + (2^n - 1) O).
///
/// For small |x| (n = 0) this is O / E with no cancellation, so one formula serves the whole
/// range with one division (half the work of a Taylor series for e^r plus a separate series
/// for small |x|, measured). The sign is copied back, NaN stays NaN.
#[inline(always)]
pub fn tanh_f64(x: f64) -> f64 {
    // Pade [6/6] of e^r: c_k = (12 - k)! 6! / (12! k! (6 - k)!).
    const C: [f64; 7] = [
        1.0,
        1.0 / 2.0,
        5.0 / 44.0,
        1.0 / 66.0,
        1.0 / 792.0,
        1.0 / 15840.0,
        1.0 / 665280.0,
    ];
    const LN2_HI: f64 = 0.693_147_180_369_123_816_49; // ln 2 with its low 32 bits zeroed
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10; // ln 2 - LN2_HI
    let a = x.abs();
    let y = 2.0 * a.min(20.0);
    let n = (y * std::f64::consts::LOG2_E + 0.5).floor(); // y >= 0: round to nearest
    let r = (y - n * LN2_HI) - n * LN2_LO;
    let r2 = r * r;
    let even = C[6].mul_add(r2, C[4]).mul_add(r2, C[2]).mul_add(r2, C[0]);
    let odd = r * C[5].mul_add(r2, C[3]).mul_add(r2, C[1]);
    // 2^n from its exponent bits: adding 2^52 puts the integer n + 1023 (< 2^11) in the low
    // mantissa bits, and the shift keeps exactly those (no float-to-integer conversion, which
    // would not vectorise).
    let p = f64::from_bits((n + 1023.0 + 4_503_599_627_370_496.0).to_bits() << 52);
    let (below, above) = (p - 1.0, p + 1.0);
    let t = below.mul_add(even, above * odd) / above.mul_add(even, below * odd);
    if x.is_nan() {
        x
    } else {
        t.copysign(x)
    }
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
        assert_eq!(f32::NEG_INFINITY.fast_tanh(), -1.0);
        // Saturation starts at the clamp: below it the rational stays under 1 (every f32 from
        // 6, where tanh is 1 - 1.2e-5, up to the clamp), and it is exactly 1 at the clamp.
        let clamp = crate::base::vector::TANH_CLAMP;
        let mut x = 6.0f32;
        while x < clamp {
            assert!(x.fast_tanh() < 1.0, "tanh({x}) = 1 below the clamp");
            x = f32::from_bits(x.to_bits() + 1);
        }
        assert_eq!(clamp.fast_tanh(), 1.0);
        assert!(f32::NAN.fast_tanh().is_nan());
    }

    #[test]
    fn fast_tanh_f64_matches_libm() {
        let (mut worst_abs, mut worst_rel) = (0.0f64, 0.0f64);
        let mut x = -25.0f64;
        while x <= 25.0 {
            let (fast, exact) = (x.fast_tanh(), x.tanh());
            worst_abs = worst_abs.max((fast - exact).abs());
            if exact != 0.0 {
                worst_rel = worst_rel.max(((fast - exact) / exact).abs());
            }
            x += 1.3e-4;
        }
        assert!(worst_abs <= 3e-16, "max abs error {worst_abs}");
        assert!(worst_rel <= 1e-15, "max rel error {worst_rel}");
        // Tiny, huge and special arguments.
        for x in [
            1e-300f64, 1e-20, 1e-8, 0.124_999, 0.125, 0.125_001, 19.0, 19.5, 700.0,
        ] {
            let (fast, exact) = (x.fast_tanh(), x.tanh());
            assert!(
                ((fast - exact) / exact).abs() <= 2e-15,
                "{x}: {fast} vs {exact}"
            );
        }
        assert_eq!(0.0f64.fast_tanh(), 0.0);
        assert!((-0.0f64).fast_tanh().is_sign_negative());
        assert_eq!(f64::INFINITY.fast_tanh(), 1.0);
        assert_eq!(f64::NEG_INFINITY.fast_tanh(), -1.0);
        assert!(f64::NAN.fast_tanh().is_nan());
    }

    #[test]
    fn fast_tanh_is_odd_and_bounded() {
        for i in 0..1000 {
            let x = i as f32 * 0.013;
            assert_eq!(x.fast_tanh(), -(-x).fast_tanh());
            assert!(x.fast_tanh().abs() <= 1.0);
            let x = x as f64 * 1.7;
            assert_eq!(x.fast_tanh(), -(-x).fast_tanh());
            assert!(x.fast_tanh().abs() <= 1.0);
        }
    }
}
