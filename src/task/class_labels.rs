//! Synthetic classification labels with known frequency content, on points of a 1D or 2D grid
//! (or any points in R^d): the decision function is band-limited, so the frequency content of
//! the decision boundary is known exactly, as for the regression targets.
//!
//! Conventions (those of the regression targets): a plane wave is
//! a sin(2 pi (k . x + phi)), k in cycles per unit length along each axis, the phase phi in
//! cycles; a band-limited function is a sum of plane waves.
//! - binary: label 1 where f(x) > 0, label 0 where f(x) <= 0 (the boundary is the zero set of f);
//! - K classes: label argmax_c f_c(x) over K band-limited functions, ties to the lowest class.
//!
//! Random phases are drawn uniformly in [0, 1) cycles from the run's phase stream
//! ([`crate::base::rng::Stream::Phases`]), one per wave, function by function, in order.

use crate::base::rng::{stream, Stream};
use ndarray::ArrayView2;
use rand::Rng;
use std::f64::consts::PI;

/// One plane wave a sin(2 pi (k . x + phase)).
#[derive(Clone, Debug, PartialEq)]
pub struct Wave {
    /// Frequency along each axis (cycles per unit length); its length is the points' dimension.
    pub k: Vec<f64>,
    pub amplitude: f64,
    /// Phase in cycles.
    pub phase: f64,
}

/// The band-limited function sum_w a_w sin(2 pi (k_w . x + phi_w)) at every point (rows of
/// `points`, n x d).
pub fn band_limited(points: ArrayView2<f64>, waves: &[Wave]) -> Vec<f64> {
    for w in waves {
        assert_eq!(
            w.k.len(),
            points.ncols(),
            "a wave has {} frequency components for {}-dimensional points",
            w.k.len(),
            points.ncols()
        );
    }
    points
        .rows()
        .into_iter()
        .map(|x| {
            waves
                .iter()
                .map(|w| {
                    let kx: f64 = w.k.iter().zip(x.iter()).map(|(k, x)| k * x).sum();
                    w.amplitude * (2.0 * PI * (kx + w.phase)).sin()
                })
                .sum()
        })
        .collect()
}

/// Binary labels: 1 where the band-limited function of `waves` is > 0, else 0.
pub fn binary_labels(points: ArrayView2<f64>, waves: &[Wave]) -> Vec<usize> {
    band_limited(points, waves)
        .into_iter()
        .map(|f| usize::from(f > 0.0))
        .collect()
}

/// K-class labels: the index of the largest of the K band-limited functions `functions[c]`
/// at each point (ties to the lowest index).
pub fn argmax_labels(points: ArrayView2<f64>, functions: &[Vec<Wave>]) -> Vec<usize> {
    assert!(!functions.is_empty(), "argmax labels need K >= 1 functions");
    let values: Vec<Vec<f64>> = functions
        .iter()
        .map(|waves| band_limited(points, waves))
        .collect();
    (0..points.nrows())
        .map(|i| {
            let mut best = 0;
            for c in 1..values.len() {
                if values[c][i] > values[best][i] {
                    best = c;
                }
            }
            best
        })
        .collect()
}

/// Waves with the given frequencies and amplitudes and phases drawn from the phase stream of
/// `seed`; `phase_draws` is advanced, so consecutive calls give the functions of one task.
pub fn waves_with_random_phases(
    frequencies: &[Vec<f64>],
    amplitudes: &[f64],
    phase_draws: &mut impl Rng,
) -> Vec<Wave> {
    assert_eq!(frequencies.len(), amplitudes.len());
    frequencies
        .iter()
        .zip(amplitudes)
        .map(|(k, &amplitude)| Wave {
            k: k.clone(),
            amplitude,
            phase: phase_draws.random::<f64>(),
        })
        .collect()
}

/// K band-limited functions whose waves have frequencies `frequencies[c]` and amplitudes
/// `amplitudes[c]`, with random phases from the phase stream of `seed` (deterministic).
pub fn random_phase_functions(
    frequencies: &[Vec<Vec<f64>>],
    amplitudes: &[Vec<f64>],
    seed: u64,
) -> Vec<Vec<Wave>> {
    assert_eq!(frequencies.len(), amplitudes.len());
    let mut rng = stream(seed, Stream::Phases);
    frequencies
        .iter()
        .zip(amplitudes)
        .map(|(k, a)| waves_with_random_phases(k, a, &mut rng))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn grid_1d(n: usize, offset: f64) -> Array2<f64> {
        Array2::from_shape_fn((n, 1), |(i, _)| (i as f64 + offset) / n as f64)
    }

    fn grid_2d(n: usize) -> Array2<f64> {
        Array2::from_shape_fn((n * n, 2), |(i, a)| {
            let idx = if a == 0 { i / n } else { i % n };
            (idx as f64 + 0.5) / n as f64
        })
    }

    fn wave(k: &[f64], amplitude: f64, phase: f64) -> Wave {
        Wave {
            k: k.to_vec(),
            amplitude,
            phase,
        }
    }

    #[test]
    fn known_small_cases() {
        // sin(2 pi t) at t = 1/8, 3/8, 5/8, 7/8.
        let x = grid_1d(4, 0.5);
        let f = band_limited(x.view(), &[wave(&[1.0], 2.0, 0.0)]);
        let s = 2.0 * (PI / 4.0).sin();
        let want = [s, s, -s, -s];
        assert!(
            f.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
            "{f:?}"
        );
        assert_eq!(
            binary_labels(x.view(), &[wave(&[1.0], 1.0, 0.0)]),
            [1, 1, 0, 0]
        );
        // A quarter-cycle phase turns the sine into a cosine: + - - +.
        assert_eq!(
            binary_labels(x.view(), &[wave(&[1.0], 1.0, 0.25)]),
            [1, 0, 0, 1]
        );
        // 2D plane wave along x only: the label depends on the first coordinate.
        let p = grid_2d(4);
        let labels = binary_labels(p.view(), &[wave(&[1.0, 0.0], 1.0, 0.0)]);
        for (i, &l) in labels.iter().enumerate() {
            assert_eq!(l, usize::from(i / 4 < 2));
        }
        // Three classes: f_c = a_c constant-ish via cos of zero frequency (sin(2 pi phase)).
        let f = vec![
            vec![wave(&[0.0], 1.0, 0.25)], // 1
            vec![wave(&[1.0], 2.0, 0.0)],  // 2 sin(2 pi t)
            vec![wave(&[1.0], -2.0, 0.0)], // -2 sin(2 pi t)
        ];
        // t = 1/8: [1, 1.41, -1.41] -> 1; 3/8 -> 1; 5/8: [1, -1.41, 1.41] -> 2; 7/8 -> 2.
        assert_eq!(argmax_labels(x.view(), &f), [1, 1, 2, 2]);
        // Ties go to the lowest class.
        let same = vec![vec![wave(&[1.0], 1.0, 0.0)], vec![wave(&[1.0], 1.0, 0.0)]];
        assert_eq!(argmax_labels(x.view(), &same), [0, 0, 0, 0]);
    }

    #[test]
    fn single_sine_boundary_is_at_its_zeros() {
        // sin(2 pi k t + 2 pi phi) has zeros at t = (m/2 - phi) / k; the label flips across
        // each zero and nowhere else.
        for (k, phi) in [(3.0, 0.0), (5.0, 0.1), (2.0, 0.37)] {
            let waves = [wave(&[k], 1.0, phi)];
            let eps = 1e-9;
            for m in 0..(2 * k as usize + 2) {
                let z = (m as f64 / 2.0 - phi) / k;
                let pts = Array2::from_shape_vec((2, 1), vec![z - eps, z + eps]).unwrap();
                let l = binary_labels(pts.view(), &waves);
                // Rising zero (m even): 0 then 1; falling (m odd): 1 then 0.
                let want = if m % 2 == 0 { [0, 1] } else { [1, 0] };
                assert_eq!(l, want, "k {k} phi {phi} zero {m} at {z}");
            }
            // Between zeros the label is constant: count flips on a fine grid = 2k per unit.
            let x = grid_1d(10_000, 0.5);
            let l = binary_labels(x.view(), &waves);
            let flips = l.windows(2).filter(|w| w[0] != w[1]).count();
            assert!(
                flips == 2 * k as usize || flips == 2 * k as usize - 1,
                "{flips}"
            );
        }
    }

    #[test]
    fn classes_are_balanced_and_deterministic() {
        // A sine of integer frequency on a symmetric grid: exactly half the points per class.
        let x = grid_1d(1000, 0.5);
        let l = binary_labels(x.view(), &[wave(&[4.0], 1.0, 0.0)]);
        assert_eq!(l.iter().sum::<usize>(), 500);
        // Three classes from random-phase functions on a 2D grid: every class covers a sizable
        // share, and the same seed gives the same labels.
        let freqs = vec![vec![vec![1.0, 0.0], vec![0.0, 2.0]]; 3];
        let amps = vec![vec![1.0, 0.5]; 3];
        let f = random_phase_functions(&freqs, &amps, 11);
        assert_eq!(f, random_phase_functions(&freqs, &amps, 11));
        assert_ne!(f, random_phase_functions(&freqs, &amps, 12));
        assert!(f.iter().flatten().all(|w| (0.0..1.0).contains(&w.phase)));
        let p = grid_2d(64);
        let labels = argmax_labels(p.view(), &f);
        let mut counts = [0usize; 3];
        for &c in &labels {
            counts[c] += 1;
        }
        assert!(
            counts.iter().all(|&c| c > labels.len() / 10),
            "class counts {counts:?}"
        );
    }
}
