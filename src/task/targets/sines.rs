//! Target kind `sines` (the default, 1D): y(t) = sum_i A_i sin(2 pi k_i t + 2 pi phi_i) on
//! t = n/N, n = 0..N-1 (no endpoint), so each integer frequency k_i (cycles per unit length)
//! sits exactly on DFT bin k_i. The evaluation ("test") grid is t = (n + offset)/N_test,
//! noise-free.

use crate::base::rng::{stream, Stream};
use crate::task::spec::{Phases, TargetSpec};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

use crate::task::grid::GridData;

/// One sinusoidal component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// Frequency in cycles per unit length (= DFT bin on a grid of length 1).
    pub k: usize,
    pub amplitude: f64,
    /// Phase as a fraction of a cycle (the 2 pi phi in the formula).
    pub phase: f64,
}

/// Value of the sum of sines at t.
pub fn sum_of_sines(components: &[Component], t: f64) -> f64 {
    components
        .iter()
        .map(|c| c.amplitude * (2.0 * std::f64::consts::PI * (c.k as f64 * t + c.phase)).sin())
        .sum()
}

/// Build from a validated spec and the run seed (phases "random" and noise draw from it):
/// the components and the training and test grids.
pub fn build(spec: &TargetSpec, seed: u64) -> (Vec<Component>, GridData, GridData) {
    let amplitudes = spec.amplitudes.expand(spec.frequencies.len());
    let phases = match &spec.phases {
        Phases::Zero => vec![0.0; spec.frequencies.len()],
        Phases::Random => {
            let mut rng = stream(seed, Stream::Phases);
            spec.frequencies
                .iter()
                .map(|_| rng.random::<f64>())
                .collect()
        }
        Phases::List(p) => p.clone(),
    };
    let components: Vec<Component> = spec
        .frequencies
        .iter()
        .zip(amplitudes)
        .zip(phases)
        .map(|((&k, amplitude), phase)| Component {
            k,
            amplitude,
            phase,
        })
        .collect();
    let grid = |n: usize, offset: f64| -> Vec<f64> {
        (0..n).map(|i| (i as f64 + offset) / n as f64).collect()
    };
    let train_t = grid(spec.n, 0.0);
    let train_clean: Vec<f64> = train_t
        .iter()
        .map(|&t| sum_of_sines(&components, t))
        .collect();
    let mut train_y = train_clean.clone();
    if spec.noise > 0.0 {
        let mut rng = stream(spec.noise_seed.unwrap_or(seed), Stream::Noise);
        let normal = Normal::new(0.0, spec.noise).expect("validated noise");
        train_y
            .iter_mut()
            .for_each(|y| *y += normal.sample(&mut rng));
    }
    let test_t = grid(spec.test.n.unwrap_or(spec.n), spec.test.offset);
    let test_y: Vec<f64> = test_t
        .iter()
        .map(|&t| sum_of_sines(&components, t))
        .collect();
    (
        components,
        GridData {
            t: train_t,
            y: train_y,
            y_clean: train_clean,
        },
        GridData {
            t: test_t,
            y: test_y.clone(),
            y_clean: test_y,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::config::Experiment;
    use crate::task::target::Target;

    fn spec(extra: &str) -> TargetSpec {
        let text = format!(
            "[target]\nn = 64\nfrequencies = [1, 4, 9]\n{extra}\n[optimizer]\nname = \"adam\"\nlr = 1e-3\n[train]\nepochs = 1\n"
        );
        Experiment::from_toml_str(&text, "test").unwrap().target
    }

    #[test]
    fn grid_has_no_endpoint_and_components_sit_on_bins() {
        let t = Target::build(&spec("phases = \"zero\""), 0);
        assert_eq!(t.train.len(), 64);
        assert_eq!(t.train.t[0], 0.0);
        assert!((t.train.t[63] - 63.0 / 64.0).abs() < 1e-15);
        // Orthogonality on the grid: projection on sin(2 pi k t) recovers A_k exactly.
        for c in t.components() {
            let proj: f64 = t
                .train
                .t
                .iter()
                .zip(&t.train.y)
                .map(|(&x, &y)| y * (2.0 * std::f64::consts::PI * c.k as f64 * x).sin())
                .sum::<f64>()
                * 2.0
                / 64.0;
            assert!((proj - c.amplitude).abs() < 1e-12);
        }
        // Default test grid: same size, offset by half a spacing.
        assert!((t.test.t[0] - 0.5 / 64.0).abs() < 1e-15);
    }

    #[test]
    fn random_phases_follow_the_seed_and_noise_its_own_seed() {
        let a = Target::build(&spec("phases = \"random\""), 1);
        let b = Target::build(&spec("phases = \"random\""), 1);
        let c = Target::build(&spec("phases = \"random\""), 2);
        assert_eq!(a, b);
        assert_ne!(a.components(), c.components());
        let n1 = Target::build(&spec("phases = \"zero\"\nnoise = 0.1\nnoise_seed = 5"), 1);
        let n2 = Target::build(&spec("phases = \"zero\"\nnoise = 0.1\nnoise_seed = 5"), 2);
        assert_eq!(n1.train.y, n2.train.y);
        assert_ne!(n1.train.y, n1.train.y_clean);
        assert_eq!(n1.test.y, n1.test.y_clean);
    }

    #[test]
    fn amplitudes_scalar_or_list() {
        let t = Target::build(
            &spec("amplitudes = [1.0, 0.5, 0.25]\nphases = [0.0, 0.25, 0.5]"),
            0,
        );
        assert_eq!(
            t.components()[1],
            Component {
                k: 4,
                amplitude: 0.5,
                phase: 0.25
            }
        );
        let t = Target::build(&spec("amplitudes = 2.0"), 0);
        assert!(t.components().iter().all(|c| c.amplitude == 2.0));
    }
}
