//! The whole kernel analysis of one checkpoint (what one entry of kernel.json holds).

use crate::analysis::kernel::meter::{BandInfo, BandMeter};
use crate::analysis::kernel::predict::{predict, Horizon, Prediction};
use crate::analysis::kernel::spectrum::{kernel_matrix, spectrum, KernelSpectrum};
use crate::base::linalg::SymEigenSolver;
use crate::nn::model::{predict_into, Activation, MlpShape, Workspace};
use crate::record::checkpoint::Checkpoint;
use anyhow::{bail, Result};
use serde::Serialize;

/// Everything the kernel analysis computes at one checkpoint (what `kernel.json` holds).
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointKernel {
    /// Epoch of the checkpoint.
    pub epoch: u64,
    pub optimizer: String,
    /// The preconditioner's formula and steps (see [`crate::optim::Preconditioner`]).
    pub preconditioner: String,
    pub lr: f64,
    pub momentum_factor: f64,
    pub lr_eff: f64,
    /// Eigendecomposition backend.
    pub solver: &'static str,
    pub bands: Vec<BandInfo>,
    /// The spectrum of K_P.
    pub preconditioned: KernelSpectrum,
    /// The spectrum of K (P = I).
    pub plain: KernelSpectrum,
    /// The linearised prediction with K_P and lr_eff from the checkpoint residual.
    pub prediction: Prediction,
}

/// The whole analysis of one checkpoint: Jacobian on `inputs` (rows x d_0, the training
/// grid), residual against `target`, preconditioner from the stored optimizer state, K_P and
/// K with their spectra and band shares, and the prediction over `horizon` (its
/// `start_epoch` must be the checkpoint's epoch).
pub fn analyze_checkpoint(
    ckpt: &Checkpoint,
    activation: Activation,
    inputs: &[f64],
    target: &[f64],
    meter: &mut BandMeter,
    solver: &dyn SymEigenSolver,
    horizon: &Horizon,
) -> Result<CheckpointKernel> {
    let widths = ckpt.widths();
    if widths.len() < 2 {
        bail!("checkpoint: no weight tensors; is this a bandwise params or checkpoint file?");
    }
    let shape = MlpShape::new(
        widths[0],
        &widths[1..widths.len() - 1],
        widths[widths.len() - 1],
        activation,
    );
    let expected: Vec<(String, usize, usize)> = shape
        .tensors
        .iter()
        .map(|t| (t.name.clone(), t.rows, t.cols))
        .collect();
    if expected != ckpt.tensors {
        bail!(
            "checkpoint: tensors {:?} do not form an MLP (expected {:?})",
            ckpt.tensors,
            expected
        );
    }
    let Some(opt) = &ckpt.optimizer else {
        bail!("checkpoint: no `optimizer` block (a plain params file); the kernel needs a checkpoint written with record.checkpoints");
    };
    if horizon.start_epoch != ckpt.epoch.unwrap_or(0) {
        bail!(
            "kernel: the horizon starts at epoch {} but the checkpoint is at epoch {:?}",
            horizon.start_epoch,
            ckpt.epoch
        );
    }
    let n = target.len();
    let dout = shape.widths[shape.n_layers()];
    if inputs.len() != n / dout * shape.widths[0] || !n.is_multiple_of(dout) {
        bail!(
            "kernel: {} target values and {} input values do not match a {} -> {} network",
            n,
            inputs.len(),
            shape.widths[0],
            dout
        );
    }
    let params = &ckpt.params;
    let jac = crate::nn::jacobian::jacobian(&shape, params, inputs);
    let mut ws = Workspace::new(&shape, (n / dout).max(1));
    let mut out = vec![0.0; n];
    predict_into(&shape, params, &mut ws, inputs, &mut out);
    let r0: Vec<f64> = out.iter().zip(target).map(|(h, y)| h - y).collect();
    let np = shape.n_params();
    // Full-batch gradient (2/N) J^T r, for the step-0 preconditioner.
    let mut grad = vec![0.0; np];
    for (row, &r) in jac.chunks_exact(np).zip(&r0) {
        grad.iter_mut()
            .zip(row)
            .for_each(|(g, j)| *g += 2.0 * r * j / n as f64);
    }
    let pc = crate::optim::preconditioner(opt, &shape.ranges(), Some(&grad))?;
    let kp = kernel_matrix(&jac, n, np, Some(&pc.diag));
    let preconditioned = spectrum(&kp, n, solver, meter)?;
    drop(kp);
    let k = kernel_matrix(&jac, n, np, None);
    let plain = spectrum(&k, n, solver, meter)?;
    let prediction = predict(&preconditioned, &r0, pc.lr_eff, horizon, meter)?;
    Ok(CheckpointKernel {
        epoch: horizon.start_epoch,
        optimizer: opt.name.clone(),
        preconditioner: pc.formula,
        lr: pc.lr,
        momentum_factor: pc.momentum_factor,
        lr_eff: pc.lr_eff,
        solver: solver.name(),
        bands: meter.bands().to_vec(),
        preconditioned,
        plain,
        prediction,
    })
}
