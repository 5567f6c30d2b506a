//! Colour mapping for heatmaps: the viridis colour map and [`ColourScale`], which maps a data
//! value onto [0, 1] (linear or logarithmic, clipped at both ends).
//!
//! Viridis is perceptually uniform and its luminance rises monotonically, so it stays
//! readable in greyscale and for colour-blind readers. It is reproduced here by
//! piecewise-linear interpolation (in linear-light RGB, so luminance rises monotonically) between its ten standard published stops
//! (`#440154` ... `#fde725`, i.e. viridis sampled at t = i/9); the deviation from the
//! full 256-entry table is at most a few units per channel.
//!
//! Missing values (NaN, or values that cannot be placed on a log scale: <= 0) are drawn in
//! [`NAN_GREY`], a neutral light grey that viridis never produces (viridis has no grey).

use crate::base::stats::positive_min_max;
use plotters::style::RGBColor;

/// The ten standard viridis stops at t = 0, 1/9, ..., 1.
const STOPS: [[u8; 3]; 10] = [
    [0x44, 0x01, 0x54],
    [0x48, 0x28, 0x78],
    [0x3e, 0x49, 0x89],
    [0x31, 0x68, 0x8e],
    [0x26, 0x82, 0x8e],
    [0x1f, 0x9e, 0x89],
    [0x35, 0xb7, 0x79],
    [0x6e, 0xce, 0x58],
    [0xb5, 0xde, 0x2b],
    [0xfd, 0xe7, 0x25],
];

/// Colour of missing (NaN) cells: light neutral grey, distinct from every viridis colour.
pub const NAN_GREY: RGBColor = RGBColor(190, 190, 190);

/// Viridis colour at `t` in [0, 1] (clamped); NaN gives [`NAN_GREY`].
pub fn viridis(t: f64) -> RGBColor {
    if t.is_nan() {
        return NAN_GREY;
    }
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    // Interpolate in linear light: luminance is then linear between stops, hence monotone.
    let mix = |k: usize| {
        let (la, lb) = (to_linear(a[k]), to_linear(b[k]));
        to_srgb(la + f * (lb - la))
    };
    RGBColor(mix(0), mix(1), mix(2))
}

fn to_linear(u: u8) -> f64 {
    let s = u as f64 / 255.0;
    if s <= 0.04045 {
        s / 12.92
    } else {
        ((s + 0.055) / 1.055).powf(2.4)
    }
}

fn to_srgb(l: f64) -> u8 {
    let s = if l <= 0.0031308 {
        12.92 * l
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    };
    (s * 255.0).round().clamp(0.0, 255.0) as u8
}

/// Maps data values onto [0, 1] for the colour map.
///
/// Values below `min` map to 0 and above `max` to 1 (clipped, so the colour bar's end colours
/// mean "at or beyond"). With `log`, the mapping is linear in log10(value) and values <= 0
/// count as missing. NaN maps to NaN, drawn as [`NAN_GREY`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColourScale {
    pub min: f64,
    pub max: f64,
    pub log: bool,
}

impl ColourScale {
    /// A linear scale over [min, max].
    pub fn linear(min: f64, max: f64) -> Self {
        Self {
            min,
            max,
            log: false,
        }
    }

    /// A log10 scale over [min, max] (both must be > 0).
    pub fn log(min: f64, max: f64) -> Self {
        Self {
            min,
            max,
            log: true,
        }
    }

    /// A log scale spanning the finite positive values of `values` (decade-rounded), or
    /// [1e-6, 1] if there are none.
    pub fn log_fit<'a>(values: impl IntoIterator<Item = &'a f64>) -> Self {
        let Some((lo, hi)) = positive_min_max(values) else {
            return Self::log(1e-6, 1.0);
        };
        let lo = 10f64.powf(lo.log10().floor());
        let mut hi = 10f64.powf(hi.log10().ceil());
        if hi <= lo {
            hi = lo * 10.0;
        }
        Self::log(lo, hi)
    }

    /// A log scale spanning the finite positive values of `values`, rounded outward to the
    /// nearest 1-2-5 step (so it spans no decade the data do not occupy: data in
    /// [3e-3, 0.4] give [2e-3, 0.5]), or [1e-6, 1] if there are none.
    pub fn log_fit_125<'a>(values: impl IntoIterator<Item = &'a f64>) -> Self {
        let Some((lo, hi)) = positive_min_max(values) else {
            return Self::log(1e-6, 1.0);
        };
        let steps = [1.0, 2.0, 5.0, 10.0];
        let down = |v: f64| {
            let d = 10f64.powf(v.log10().floor());
            let m = v / d;
            d * steps
                .iter()
                .rev()
                .copied()
                .find(|s| *s <= m * (1.0 + 1e-9))
                .unwrap_or(1.0)
        };
        let up = |v: f64| {
            let d = 10f64.powf(v.log10().floor());
            let m = v / d;
            d * steps
                .iter()
                .copied()
                .find(|s| *s >= m * (1.0 - 1e-9))
                .unwrap_or(10.0)
        };
        let (lo, mut hi) = (down(lo), up(hi));
        if hi <= lo {
            hi = up(lo * 1.5);
        }
        Self::log(lo, hi)
    }

    /// Check the scale is usable: finite, min < max, and min > 0 for a log scale.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(self.min.is_finite() && self.max.is_finite() && self.min < self.max) {
            anyhow::bail!(
                "colour scale needs finite min < max, got min = {}, max = {}",
                self.min,
                self.max
            );
        }
        if self.log && self.min <= 0.0 {
            anyhow::bail!(
                "log colour scale needs min > 0, got min = {} (use a linear scale or a positive floor)",
                self.min
            );
        }
        Ok(())
    }

    /// Position of `v` on the scale in [0, 1] (clipped); NaN for NaN or, on a log scale,
    /// for v <= 0.
    pub fn unit(&self, v: f64) -> f64 {
        if v.is_nan() {
            return f64::NAN;
        }
        let t = if self.log {
            if v <= 0.0 {
                return f64::NAN;
            }
            (v.log10() - self.min.log10()) / (self.max.log10() - self.min.log10())
        } else {
            (v - self.min) / (self.max - self.min)
        };
        t.clamp(0.0, 1.0)
    }

    /// Colour of value `v`.
    pub fn colour(&self, v: f64) -> RGBColor {
        viridis(self.unit(v))
    }
}

/// Relative luminance (WCAG / Rec. 709, on linearised sRGB) of a colour, in [0, 1].
pub fn luminance(c: RGBColor) -> f64 {
    0.2126 * to_linear(c.0) + 0.7152 * to_linear(c.1) + 0.0722 * to_linear(c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_endpoints() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xfd, 0xe7, 0x25));
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(viridis(f64::NAN), NAN_GREY);
    }

    #[test]
    fn viridis_luminance_is_monotone() {
        // Strictly increasing on a coarse grid ...
        let coarse: Vec<f64> = (0..=32)
            .map(|i| luminance(viridis(i as f64 / 32.0)))
            .collect();
        for (i, w) in coarse.windows(2).enumerate() {
            assert!(w[1] > w[0], "luminance not increasing at {i}/32: {w:?}");
        }
        // ... and non-decreasing on all 256 levels up to 8-bit rounding (< 1e-4).
        let fine: Vec<f64> = (0..=255)
            .map(|i| luminance(viridis(i as f64 / 255.0)))
            .collect();
        for (i, w) in fine.windows(2).enumerate() {
            assert!(w[1] > w[0] - 1e-4, "luminance drops at {i}/255: {w:?}");
        }
        assert!(fine[255] - fine[0] > 0.7);
    }

    #[test]
    fn nan_grey_is_not_a_viridis_colour() {
        for i in 0..=255 {
            assert_ne!(viridis(i as f64 / 255.0), NAN_GREY);
        }
    }

    #[test]
    fn scale_maps_clips_and_handles_nan() {
        let s = ColourScale::log(1e-4, 1.0);
        assert_eq!(s.unit(1e-4), 0.0);
        assert_eq!(s.unit(1.0), 1.0);
        assert!((s.unit(1e-2) - 0.5).abs() < 1e-12);
        assert_eq!(s.unit(1e-9), 0.0);
        assert_eq!(s.unit(10.0), 1.0);
        assert!(s.unit(0.0).is_nan());
        assert!(s.unit(f64::NAN).is_nan());
        assert_eq!(s.colour(f64::NAN), NAN_GREY);
        let l = ColourScale::linear(-1.0, 1.0);
        assert_eq!(l.unit(0.0), 0.5);
        assert_eq!(l.unit(-5.0), 0.0);
        assert!(ColourScale::log(0.0, 1.0).validate().is_err());
        assert!(ColourScale::linear(1.0, 1.0).validate().is_err());
        let t = ColourScale::log_fit_125(&[3e-3, 0.4, f64::NAN, 0.0]);
        assert!(
            (t.min - 2e-3).abs() < 1e-15 && (t.max - 0.5).abs() < 1e-12,
            "{t:?}"
        );
        let t = ColourScale::log_fit_125(&[1e-5 * 2.5, 5.0]);
        assert!(
            (t.min - 2e-5).abs() < 1e-18 && (t.max - 5.0).abs() < 1e-12,
            "{t:?}"
        );
        let t = ColourScale::log_fit_125(&[0.1, 0.1]);
        assert!(t.min == 0.1 && t.max > 0.1 && t.validate().is_ok(), "{t:?}");
        let f = ColourScale::log_fit(&[3e-3, 0.5, f64::NAN, 0.0]);
        assert_eq!((f.min, f.max), (1e-3, 1.0));
    }
}
