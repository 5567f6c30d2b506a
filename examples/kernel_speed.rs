//! Where the time of one kernel analysis goes: Jacobian, K_P (GEMM), eigendecomposition,
//! band shares, for the 1-64-64-1 tanh network on N = 256, 512, 1024 grid points, and the
//! symmetric eigendecomposition of every available backend.
//!
//!     cargo run --release --example kernel_speed                    # faer
//!     cargo run --release --example kernel_speed --features lapack  # faer and LAPACK

use bandwise::analysis::kernel::{kernel_matrix, spectrum, BandMeter};
use bandwise::base::linalg::{Faer, SymEigenSolver};
use bandwise::nn::jacobian::jacobian;
use bandwise::nn::model::{Activation, Init, MlpShape};
use bandwise::spectral::{BandLayout, LayoutSpec};
use rand::SeedableRng;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    #[allow(unused_mut)]
    let mut solvers: Vec<Box<dyn SymEigenSolver>> = vec![Box::new(Faer)];
    #[cfg(feature = "lapack")]
    solvers.push(Box::new(bandwise::base::linalg::Lapack));
    let shape = MlpShape::new(1, &[64, 64], 1, Activation::Tanh);
    let mut rng = rand_pcg::Pcg64::seed_from_u64(0);
    let params: Vec<f64> = shape.init_params(Init::Torch, &mut rng);
    let p: Vec<f64> = (0..shape.n_params())
        .map(|j| 1.0 / (1e-3 + j as f64 * 1e-6))
        .collect();
    println!(
        "1-64-64-1 tanh, {} parameters, f64, one thread",
        shape.n_params()
    );
    for n in [256usize, 512, 1024] {
        let t: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
        let y: Vec<f64> = t
            .iter()
            .map(|t| (std::f64::consts::TAU * t).sin())
            .collect();
        let start = Instant::now();
        let jac = jacobian(&shape, &params, &t);
        let t_jac = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let k = kernel_matrix(&jac, n, shape.n_params(), Some(&p));
        let t_gemm = start.elapsed().as_secs_f64();
        for s in &solvers {
            let start = Instant::now();
            let e = s.eigh(&k, n)?;
            let t_eig = start.elapsed().as_secs_f64();
            let mut meter = BandMeter::new(&y, BandLayout::build(&LayoutSpec::Octave, n, &[])?);
            let start = Instant::now();
            let spec = spectrum(&k, n, s.as_ref(), &mut meter)?;
            let t_spec = start.elapsed().as_secs_f64() - t_eig;
            assert_eq!(spec.eigenvalues.len(), e.values.len());
            println!(
                "N = {n:4} {:6}: jacobian {t_jac:.3} s, K_P gemm {t_gemm:.3} s, eigh {t_eig:.3} s, band shares {:.3} s, total {:.3} s",
                s.name(),
                t_spec.max(0.0),
                t_jac + t_gemm + t_eig + t_spec.max(0.0)
            );
        }
    }
    Ok(())
}
