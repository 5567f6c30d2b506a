//! The kernel matrix `K_P = J P J^T / N`, its symmetric eigendecomposition and the band
//! shares of its eigenvectors.

use crate::analysis::kernel::meter::BandMeter;
use crate::base::linalg::{SymEigen, SymEigenSolver};
use anyhow::Result;
use ndarray::ArrayView2;
use serde::Serialize;

/// `J P J^T / N` (`n x n`, row-major, exactly symmetric) for the `n x n_params` Jacobian
/// `jac`; `p = None` is P = I. P must be non-negative (every built-in preconditioner is).
pub fn kernel_matrix(jac: &[f64], n: usize, n_params: usize, p: Option<&[f64]>) -> Vec<f64> {
    assert_eq!(jac.len(), n * n_params, "kernel_matrix: Jacobian size");
    let scaled: Vec<f64> = match p {
        None => jac.to_vec(),
        Some(p) => {
            assert_eq!(p.len(), n_params, "kernel_matrix: preconditioner size");
            assert!(p.iter().all(|&x| x >= 0.0), "kernel_matrix: P must be >= 0");
            let sqrt: Vec<f64> = p.iter().map(|x| x.sqrt()).collect();
            jac.chunks_exact(n_params)
                .flat_map(|row| row.iter().zip(&sqrt).map(|(j, s)| j * s))
                .collect()
        }
    };
    let a = ArrayView2::from_shape((n, n_params), &scaled).expect("shape checked");
    let k = a.dot(&a.t());
    let inv_n = 1.0 / n as f64;
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let v = 0.5 * (k[[i, j]] + k[[j, i]]) * inv_n;
            out[i * n + j] = v;
            out[j * n + i] = v;
        }
    }
    out
}

/// The spectrum of one kernel and its band structure.
#[derive(Debug, Clone, Serialize)]
pub struct KernelSpectrum {
    /// Eigenvalues, largest first.
    pub eigenvalues: Vec<f64>,
    /// `shares[i][b]`: eigenvector i's share of its energy in band b (each row sums to 1).
    pub shares: Vec<Vec<f64>>,
    /// The band with the largest share, per eigenvector.
    pub dominant_band: Vec<usize>,
    /// Per band, `sum_i lambda_i s_ib / sum_i s_ib` (NaN for a band no eigenvector touches).
    pub band_rate: Vec<f64>,
    /// Trace of the kernel (equals the sum of the eigenvalues up to round-off).
    pub trace: f64,
    #[serde(skip)]
    pub eig: SymEigen,
}

/// Eigendecomposition of the `n x n` kernel `k` and the band shares of its eigenvectors.
pub fn spectrum(
    k: &[f64],
    n: usize,
    solver: &dyn SymEigenSolver,
    meter: &mut BandMeter,
) -> Result<KernelSpectrum> {
    let eig = solver.eigh(k, n)?;
    let n_bands = meter.bands().len();
    let mut shares = Vec::with_capacity(n);
    let mut dominant_band = Vec::with_capacity(n);
    let (mut num, mut den) = (vec![0.0; n_bands], vec![0.0; n_bands]);
    for i in 0..n {
        let e = meter.energies(eig.vector(i));
        let total: f64 = e.iter().sum();
        let row: Vec<f64> = e.iter().map(|x| x / total).collect();
        let dom = (0..n_bands)
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .unwrap_or(0);
        for b in 0..n_bands {
            num[b] += eig.values[i] * row[b];
            den[b] += row[b];
        }
        shares.push(row);
        dominant_band.push(dom);
    }
    let band_rate = num
        .iter()
        .zip(&den)
        .map(|(n, d)| if *d > 0.0 { n / d } else { f64::NAN })
        .collect();
    Ok(KernelSpectrum {
        eigenvalues: eig.values.clone(),
        shares,
        dominant_band,
        band_rate,
        trace: (0..n).map(|i| k[i * n + i]).sum(),
        eig,
    })
}
