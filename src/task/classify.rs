//! Classification tasks as [`Target`]s of class indices (stored as floats, one per point),
//! fitted with [`crate::task::objective::CrossEntropy`].
//!
//! - Grid tasks: `target.classes = K` on a `sines` (1D) or `waves2d` (2D) target. K = 2: the
//!   label is 1 where the regression target y (the configured sum of sines or plane waves,
//!   products, checkerboard) is > 0, else 0: the decision boundary is the zero set of a
//!   band-limited function with known frequencies. K >= 3: K band-limited functions with the
//!   configured frequencies (1D `frequencies`, 2D `waves`) and amplitudes, each with its own
//!   random phases drawn from the run seed ([`class_labels::random_phase_functions`]); the
//!   label is their argmax. Every class must occur on the training grid.
//! - Files: `kind = "dataset"` with `name = "mnist1d"` (the fixture in the source tree's
//!   `fixtures/mnist1d/`) or the four paths `x_train`, `y_train`, `x_test`, `y_test` (NPY or
//!   CSV, see [`dataset`]); the grid coordinates are the feature vectors (n x d).

use crate::task::class_labels;
use crate::task::dataset::{self, Dataset, Targets};
use crate::task::grid::GridData;
use crate::task::spec::{Phases, TargetSpec};
use crate::task::target::{Target, TargetKind};
use anyhow::{bail, Result};
use ndarray::ArrayView2;

/// The checks of a classification task (grid or files), run before any work; returns the
/// built target and K. Grid targets are checked by their kind's validation first.
pub fn build(spec: &TargetSpec, seed: u64) -> Result<Option<(Target, usize)>> {
    if let Some(src) = &spec.dataset {
        let spec_files = src.spec(spec.classes);
        if src.name.is_some() && !spec_files.x_train.exists() {
            bail!("the built-in dataset target.name = \"mnist1d\" is read from {} (the source tree's fixtures/), which does not exist here: give target.x_train, y_train, x_test and y_test instead", spec_files.x_train.display());
        }
        let data = dataset::load(&spec_files)?;
        let k = data.classes.expect("classification");
        if k < 2 {
            bail!("{} holds one class: classification needs at least 2 (set target.classes or check the labels)", spec_files.y_train.display());
        }
        return Ok(Some((from_dataset(&data), k)));
    }
    let Some(k) = spec.classes else {
        return Ok(None);
    };
    if k < 2 {
        bail!("target.classes = {k}: a classification task needs at least 2 classes (remove target.classes for regression)");
    }
    if spec.noise != 0.0 {
        bail!("target.noise adds noise to regression values; a classification target (target.classes) has none: remove it");
    }
    let mut target = Target::build(spec, seed);
    let (train_labels, test_labels) = if k == 2 {
        let sign = |y: &[f64]| y.iter().map(|&v| usize::from(v > 0.0)).collect::<Vec<_>>();
        (sign(&target.train.y), sign(&target.test.y))
    } else {
        if spec.phases != Phases::Random {
            bail!("target.classes = {k} draws K functions with the same frequencies and their own random phases: set target.phases = \"random\" (fixed phases would make all K functions equal)");
        }
        let amplitudes = spec.amplitudes.expand(spec.n_components());
        let freqs: Vec<Vec<f64>> = match &spec.waves2d {
            None => spec.frequencies.iter().map(|&f| vec![f as f64]).collect(),
            Some(w) => {
                if !w.products.is_empty() || w.checkerboard.is_some() {
                    bail!("target.classes = {k} (argmax of K functions) uses target.waves only: remove target.products and target.checkerboard, or use classes = 2 (the sign of the whole target)");
                }
                w.waves
                    .iter()
                    .map(|&[a, b]| vec![a as f64, b as f64])
                    .collect()
            }
        };
        let functions =
            class_labels::random_phase_functions(&vec![freqs; k], &vec![amplitudes; k], seed);
        let labels = |g: &GridData| {
            let view = ArrayView2::from_shape((g.len(), g.dim()), &g.t).expect("n x d grid");
            class_labels::argmax_labels(view, &functions)
        };
        (labels(&target.train), labels(&target.test))
    };
    let mut counts = vec![0usize; k];
    train_labels.iter().for_each(|&c| counts[c] += 1);
    if let Some(c) = counts.iter().position(|&n| n == 0) {
        bail!("target.classes = {k}: class {c} does not occur on the training grid (counts {counts:?}); use fewer classes, more points (target.n) or another seed");
    }
    for (g, labels) in [
        (&mut target.train, train_labels),
        (&mut target.test, test_labels),
    ] {
        g.y = labels.iter().map(|&c| c as f64).collect();
        g.y_clean = g.y.clone();
    }
    Ok(Some((target, k)))
}

/// A dataset as a target: the points are the feature rows, the values the class indices.
pub fn from_dataset(data: &Dataset) -> Target {
    let grid = |s: &dataset::Split| {
        let y: Vec<f64> = match &s.y {
            Targets::Classes(c) => c.iter().map(|&c| c as f64).collect(),
            Targets::Values(v) => v.column(0).to_vec(),
        };
        GridData {
            t: s.x.iter().copied().collect(),
            y_clean: y.clone(),
            y,
        }
    };
    Target {
        train: grid(&data.train),
        test: grid(&data.test),
        kind: TargetKind::Dataset {
            features: data.train.x.ncols(),
        },
    }
}

/// Per-class counts of a grid's labels.
pub fn class_counts(y: &[f64], k: usize) -> Vec<usize> {
    let mut c = vec![0; k];
    y.iter().for_each(|&v| c[v as usize] += 1);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::config::Experiment;

    fn exp(target: &str) -> Result<Experiment> {
        Experiment::from_toml_str(
            &format!("[target]\n{target}\n[optimizer]\nname = \"adam\"\nlr = 1e-3\n[train]\nepochs = 1\n"),
            "test",
        )
    }

    #[test]
    fn binary_labels_are_the_sign_of_the_regression_target() {
        let e = exp("n = 64\nfrequencies = [1, 3]\nclasses = 2").unwrap();
        let (t, k) = build(&e.target, 4).unwrap().unwrap();
        let mut reg = e.target.clone();
        reg.classes = None;
        let y = Target::build(&reg, 4);
        assert_eq!(k, 2);
        for (c, v) in t.train.y.iter().zip(&y.train.y) {
            assert_eq!(*c, if *v > 0.0 { 1.0 } else { 0.0 });
        }
        assert_eq!(t.train.t, y.train.t);
    }

    #[test]
    fn argmax_labels_cover_k_classes_in_1d_and_2d() {
        for (target, n) in [
            ("n = 128\nfrequencies = [1, 2]\nclasses = 4", 128),
            (
                "kind = \"waves2d\"\nn = [16, 16]\nwaves = [[1, 0], [0, 1]]\nclasses = 3",
                256,
            ),
        ] {
            let e = exp(target).unwrap();
            let (t, k) = build(&e.target, 1).unwrap().unwrap();
            assert_eq!(t.train.len(), n);
            let counts = class_counts(&t.train.y, k);
            assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
            // Same seed, same labels; another seed, other phases.
            assert_eq!(build(&e.target, 1).unwrap().unwrap().0, t);
            assert_ne!(build(&e.target, 2).unwrap().unwrap().0.train.y, t.train.y);
        }
    }

    #[test]
    fn config_errors_name_the_field_and_the_fix() {
        let err = |target: &str| {
            let e = match exp(target) {
                Err(e) => return format!("{e:#}"),
                Ok(e) => e,
            };
            format!("{:#}", build(&e.target, 0).unwrap_err())
        };
        let cases = [
            ("n = 64\nfrequencies = [1]\nclasses = 1", "at least 2 classes"),
            ("n = 64\nfrequencies = [1]\nclasses = 3\nphases = \"zero\"", "target.phases = \"random\""),
            ("n = 64\nfrequencies = [1]\nclasses = 2\nnoise = 0.1", "remove it"),
            ("kind = \"dataset\"\nname = \"mnist2d\"", "not a built-in dataset"),
            ("kind = \"dataset\"\nx_train = \"a.npy\"", "missing: target.y_train, target.x_test, target.y_test"),
            ("kind = \"dataset\"\nname = \"mnist1d\"\nn = 5", "target.n is for the grid kinds"),
            ("n = 64\nfrequencies = [1]\nname = \"mnist1d\"", "set target.kind = \"dataset\""),
            ("frequencies = [1]", "target.n is missing"),
            (
                "kind = \"dataset\"\nx_train = \"/nonexistent/x.npy\"\ny_train = \"y.npy\"\nx_test = \"xt.npy\"\ny_test = \"yt.npy\"",
                "/nonexistent/x.npy",
            ),
        ];
        for (target, want) in cases {
            let e = err(target);
            assert!(e.contains(want), "{target}: {e}");
        }
    }

    #[test]
    fn mnist1d_by_name_round_trips_and_loads() {
        let e = exp("kind = \"dataset\"\nname = \"mnist1d\"").unwrap();
        let text = toml::to_string(&e).unwrap();
        assert!(
            text.contains("kind = \"dataset\"") && text.contains("name = \"mnist1d\""),
            "{text}"
        );
        assert_eq!(
            Experiment::from_toml_str(&text, "again").unwrap().target,
            e.target
        );
        let (t, k) = build(&e.target, 0).unwrap().unwrap();
        assert_eq!(
            (k, t.train.len(), t.test.len(), t.train.dim()),
            (10, 4000, 1000, 40)
        );
    }
}
