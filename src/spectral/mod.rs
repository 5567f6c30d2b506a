//! Spectral analysis of residuals: planned FFTs, band layouts, per-epoch measures and
//! per-band convergence times. Pure functions and preallocated buffers only; no I/O.
//!
//! Conventions, fixed for the whole toolkit:
//!
//! - Grid `t_n = n / N`, `n = 0..N`, on `[0, 1)` without the endpoint, so an integer
//!   frequency sits on exactly one bin (no leakage).
//! - Frequencies in cycles per unit length: bin `k` is `k` cycles.
//! - Unnormalised DFT `X_k = sum_n x_n exp(-2 pi i k n / N)` (realfft forward), one-sided bins
//!   `k = 0..=N/2` (`N/2` rounded down; odd `N` has no Nyquist bin).
//! - Parseval weight `w_k = 1` for `k = 0` and for `k = N/2` when `N` is even, else 2.
//! - Band energy `E_b = (1/N^2) sum_{k in b} w_k |X_k|^2`; the bands of any layout partition
//!   all one-sided bins, so `sum_b E_b(r) = mean(r^2) = MSE`.
//!
//! 2D grids (`N x M`, radial rings): [`fft2d`], [`bands2d`], [`measures2d`], the same
//! conventions over the half plane of the real 2D transform.
//!
//! Modules: [`fft`] (planned transform, bin weights), [`bands`] (layouts), [`measures`]
//! (the per-epoch monitor and measure definitions), [`convergence`] (first-crossing times).

pub mod bands;
pub mod bands2d;
pub mod convergence;
pub mod fft;
pub mod fft2d;
pub mod filtering;
pub mod measures;
pub mod measures2d;

pub use bands::{Band, BandLayout, LayoutError, LayoutSpec};
pub use bands2d::{BandTable, Ring, RingLayout, RingLayoutError};
pub use convergence::{band_first_crossings, basri_threshold, first_crossing, BASRI_FRACTION};
pub use fft::{band_energy_of_spectrum, bin_energy, bin_weight, num_bins, Complex, RealFft1d};
pub use fft2d::RealFft2d;
pub use measures::{measure_definitions, EpochSpectrum, SpectralMonitor};
pub use measures2d::{Peak2d, SpectralMonitor2d};
