//! Dense symmetric eigendecomposition behind one small trait, with two backends:
//!
//! - [`Faer`] (default): faer 0.24, pure Rust, single-threaded here (faer's `rayon` feature
//!   is off), so the default build needs no system library and results do not depend on the
//!   thread count.
//! - [`Lapack`] (cargo feature `lapack`): ndarray-linalg 0.18 (`eigh`, LAPACK `dsyevd`)
//!   against the system OpenBLAS (`openblas-system`; Debian package `libopenblas-dev`).
//!   Enable it with `cargo test --features lapack` / `cargo build --release --features lapack`.
//!
//! Both read only the lower triangle of the input and return eigenvalues in DEScending order
//! with orthonormal eigenvectors (each eigenvector's sign is fixed so that its largest-magnitude
//! entry is positive, so two backends return the same vectors for simple eigenvalues).

use anyhow::{bail, Result};

/// The eigendecomposition A = V diag(values) V^T of a symmetric n x n matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct SymEigen {
    /// Order of the matrix.
    pub n: usize,
    /// Eigenvalues, largest first.
    pub values: Vec<f64>,
    /// Eigenvectors one after another: eigenvector `i` (for `values[i]`) is
    /// `vectors[i * n..(i + 1) * n]` (that is, V^T in row-major order).
    pub vectors: Vec<f64>,
}

impl SymEigen {
    /// Eigenvector `i` (unit norm), for `values[i]`.
    pub fn vector(&self, i: usize) -> &[f64] {
        &self.vectors[i * self.n..(i + 1) * self.n]
    }

    /// Sort descending by eigenvalue and fix each vector's sign (largest-|entry| positive).
    fn normalise(mut self) -> Self {
        let n = self.n;
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| self.values[b].total_cmp(&self.values[a]));
        let values = order.iter().map(|&i| self.values[i]).collect();
        let mut vectors = Vec::with_capacity(n * n);
        for &i in &order {
            let v = &mut self.vectors[i * n..(i + 1) * n];
            let big = v
                .iter()
                .copied()
                .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            if big < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            vectors.extend_from_slice(v);
        }
        SymEigen { n, values, vectors }
    }
}

/// A backend for the symmetric eigendecomposition.
pub trait SymEigenSolver {
    /// Short name for records and benchmarks ("faer", "lapack").
    fn name(&self) -> &'static str;
    /// Decompose the symmetric `n x n` row-major matrix `a` (only its lower triangle is read).
    fn eigh(&self, a: &[f64], n: usize) -> Result<SymEigen>;
}

/// The default backend: faer (pure Rust).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faer;

/// The LAPACK backend (ndarray-linalg + system OpenBLAS), with `--features lapack`.
#[cfg(feature = "lapack")]
#[derive(Debug, Clone, Copy, Default)]
pub struct Lapack;

fn check_input(a: &[f64], n: usize) -> Result<()> {
    if a.len() != n * n {
        bail!(
            "eigh: the matrix has {} entries but n = {n} needs {}; pass an n x n row-major matrix",
            a.len(),
            n * n
        );
    }
    if let Some(i) = a.iter().position(|x| !x.is_finite()) {
        bail!(
            "eigh: entry ({}, {}) is {}; the matrix must be finite (check the Jacobian and the preconditioner)",
            i / n,
            i % n,
            a[i]
        );
    }
    Ok(())
}

impl SymEigenSolver for Faer {
    fn name(&self) -> &'static str {
        "faer"
    }

    fn eigh(&self, a: &[f64], n: usize) -> Result<SymEigen> {
        check_input(a, n)?;
        let m = faer::Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
        let evd = m
            .self_adjoint_eigen(faer::Side::Lower)
            .map_err(|e| anyhow::anyhow!("eigh (faer): no convergence ({e:?})"))?;
        let (s, u) = (evd.S(), evd.U());
        let values = (0..n).map(|i| s[i]).collect();
        let mut vectors = Vec::with_capacity(n * n);
        for i in 0..n {
            vectors.extend((0..n).map(|r| u[(r, i)]));
        }
        Ok(SymEigen { n, values, vectors }.normalise())
    }
}

#[cfg(feature = "lapack")]
impl SymEigenSolver for Lapack {
    fn name(&self) -> &'static str {
        "lapack"
    }

    fn eigh(&self, a: &[f64], n: usize) -> Result<SymEigen> {
        use ndarray_linalg::{Eigh, UPLO};
        check_input(a, n)?;
        // Row-major lower triangle = column-major upper triangle; ndarray handles the layout.
        let m = ndarray::Array2::from_shape_vec((n, n), a.to_vec())?;
        let (values, u) = m
            .eigh(UPLO::Lower)
            .map_err(|e| anyhow::anyhow!("eigh (lapack): {e}"))?;
        let mut vectors = Vec::with_capacity(n * n);
        for i in 0..n {
            vectors.extend(u.column(i).iter().copied());
        }
        Ok(SymEigen {
            n,
            values: values.to_vec(),
            vectors,
        }
        .normalise())
    }
}

/// The backend used by default (faer).
pub fn default_solver() -> &'static dyn SymEigenSolver {
    &Faer
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64;

    pub fn random_symmetric(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let x: f64 = rng.random_range(-1.0..1.0);
                a[i * n + j] = x;
                a[j * n + i] = x;
            }
        }
        a
    }

    /// max |A v_i - lambda_i v_i| and max |V^T V - I|.
    pub fn residuals(a: &[f64], e: &SymEigen) -> (f64, f64) {
        let n = e.n;
        let mut av = 0.0f64;
        let mut orth = 0.0f64;
        for i in 0..n {
            let v = e.vector(i);
            for r in 0..n {
                let s: f64 = (0..n).map(|c| a[r * n + c] * v[c]).sum();
                av = av.max((s - e.values[i] * v[r]).abs());
            }
            for j in 0..n {
                let d: f64 = v.iter().zip(e.vector(j)).map(|(x, y)| x * y).sum();
                orth = orth.max((d - if i == j { 1.0 } else { 0.0 }).abs());
            }
        }
        (av, orth)
    }

    pub fn solvers() -> Vec<Box<dyn SymEigenSolver>> {
        #[allow(unused_mut)]
        let mut v: Vec<Box<dyn SymEigenSolver>> = vec![Box::new(Faer)];
        #[cfg(feature = "lapack")]
        v.push(Box::new(Lapack));
        v
    }

    #[test]
    fn diagonal_matrix_sorted_descending() {
        for s in solvers() {
            let a = [2.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 5.0];
            let e = s.eigh(&a, 3).unwrap();
            assert_eq!(e.values, vec![5.0, 2.0, -1.0], "{}", s.name());
            assert_eq!(e.vector(0), &[0.0, 0.0, 1.0]);
            assert_eq!(e.vector(1), &[1.0, 0.0, 0.0]);
            assert_eq!(e.vector(2), &[0.0, 1.0, 0.0]);
        }
    }

    #[test]
    fn rotated_2x2_recovers_angle_and_values() {
        // A = R diag(3, 1) R^T with R the rotation by 0.3 rad.
        let (c, s) = (0.3f64.cos(), 0.3f64.sin());
        let a = [
            3.0 * c * c + s * s,
            (3.0 - 1.0) * c * s,
            (3.0 - 1.0) * c * s,
            3.0 * s * s + c * c,
        ];
        for solver in solvers() {
            let e = solver.eigh(&a, 2).unwrap();
            assert!((e.values[0] - 3.0).abs() < 1e-14 && (e.values[1] - 1.0).abs() < 1e-14);
            assert!((e.vector(0)[0] - c).abs() < 1e-14 && (e.vector(0)[1] - s).abs() < 1e-14);
            assert!((e.vector(1)[0] + s).abs() < 1e-14 && (e.vector(1)[1] - c).abs() < 1e-14);
        }
    }

    #[test]
    fn random_symmetric_satisfies_av_equals_lambda_v() {
        for n in [1, 5, 64, 200] {
            let a = random_symmetric(n, n as u64);
            for s in solvers() {
                let e = s.eigh(&a, n).unwrap();
                let (av, orth) = residuals(&a, &e);
                assert!(
                    av < 1e-11 * n as f64,
                    "{} n={n}: |AV - V L| = {av}",
                    s.name()
                );
                assert!(
                    orth < 1e-12 * n as f64,
                    "{} n={n}: |V^T V - I| = {orth}",
                    s.name()
                );
                assert!(e.values.windows(2).all(|w| w[0] >= w[1]));
                let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
                let sum: f64 = e.values.iter().sum();
                assert!((trace - sum).abs() < 1e-11 * n as f64);
            }
        }
    }

    #[test]
    fn only_the_lower_triangle_is_read_and_bad_input_is_named() {
        let mut a = random_symmetric(6, 1);
        let reference = Faer.eigh(&a, 6).unwrap();
        for i in 0..6 {
            for j in i + 1..6 {
                a[i * 6 + j] = 1e9;
            }
        }
        assert_eq!(Faer.eigh(&a, 6).unwrap(), reference);
        let err = Faer.eigh(&a, 5).unwrap_err().to_string();
        assert!(err.contains("36 entries") && err.contains("n = 5"), "{err}");
        a[7] = f64::NAN;
        let err = Faer.eigh(&a, 6).unwrap_err().to_string();
        assert!(err.contains("entry (1, 1)"), "{err}");
    }

    /// Both backends give the same eigenvalues (1e-8 relative to the spectral radius) and
    /// the same eigenvectors up to sign for a random matrix with simple eigenvalues.
    #[cfg(feature = "lapack")]
    #[test]
    fn faer_and_lapack_agree() {
        for n in [3, 50, 300] {
            let a = random_symmetric(n, 7 + n as u64);
            let f = Faer.eigh(&a, n).unwrap();
            let l = Lapack.eigh(&a, n).unwrap();
            let scale = f.values[0].abs().max(f.values[n - 1].abs());
            for (x, y) in f.values.iter().zip(&l.values) {
                assert!((x - y).abs() <= 1e-8 * scale, "n={n}: {x} vs {y}");
            }
            let (av, _) = residuals(&a, &l);
            assert!(av < 1e-10 * n as f64);
        }
    }
}
