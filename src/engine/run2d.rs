//! The 2D parts of a run directory, written next to the usual files when the target is
//! `kind = "waves2d"`:
//!
//! | file | content |
//! |---|---|
//! | `bands.csv` | unchanged format; bands are rings (`f_lo`, `f_hi` = ring radii in cycles) |
//! | `peaks2d.csv` | grid, epoch, kx, ky, amplitude, fp_rel_error, fp_rel_error_mag, rahaman_amplitude (replaces peaks.csv) |
//! | `snapshots2d.csv` | epoch, i, j, x, y, target, prediction on the training grid (replaces snapshots.csv) |
//!
//! run.json gets `target.dims`, `target.components` (2D), `target.peaks` and a
//! `conventions.grid_2d` entry. [`Snapshots2d::load`] reads snapshots2d.csv back.

use crate::engine::monitor::Recorder;
use crate::record::csv_preamble;
use crate::record::{num, Csv, Staging, Table};
use crate::task::target2d::Target2d;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;

/// Write peaks2d.csv.
pub fn write_peaks(staging: &Staging, name: &str, rec: &Recorder) -> Result<()> {
    let mut comments = csv_preamble("per-peak measures at the 2D target's peaks", name);
    comments.push("(kx, ky): a target peak in the half plane (ky > 0, or ky = 0 and kx > 0), cycles per unit length; amplitude = plane-wave amplitude 2|Y_k|/(N M) of the clean target".into());
    comments.push("fp_rel_error = |H_k - Y_k|/|Y_k| (phase-aware); fp_rel_error_mag = ||H_k| - |Y_k||/(1e-5 + |Y_k|) (phase-blind); rahaman_amplitude = 2|H_k|/(N M)/amplitude; 2D unnormalised DFT".into());
    let mut csv = Csv::new(
        comments,
        &[
            "grid",
            "epoch",
            "kx",
            "ky",
            "amplitude",
            "fp_rel_error",
            "fp_rel_error_mag",
            "rahaman_amplitude",
        ],
    );
    for r in &rec.peaks2d {
        csv.row(&[
            r.grid.as_str().into(),
            r.epoch.to_string(),
            r.kx.to_string(),
            r.ky.to_string(),
            num(r.amplitude),
            num(r.fp_rel_error),
            num(r.fp_rel_error_mag),
            num(r.rahaman_amplitude),
        ]);
    }
    staging.write("peaks2d.csv", &csv.render())
}

/// Write snapshots2d.csv.
pub fn write_snapshots(staging: &Staging, name: &str, rec: &Recorder) -> Result<()> {
    let mut comments = csv_preamble(
        "predictions on the 2D training grid at snapshot epochs",
        name,
    );
    comments.push("point (i, j) sits at (x, y) = (i/N, j/M); rows in row-major order (j fastest); target: fitted value y; prediction: network output h".into());
    let mut csv = Csv::new(
        comments,
        &["epoch", "i", "j", "x", "y", "target", "prediction"],
    );
    for r in &rec.snapshots2d {
        csv.row(&[
            r.epoch.to_string(),
            r.i.to_string(),
            r.j.to_string(),
            num(r.x),
            num(r.y),
            num(r.target),
            num(r.prediction),
        ]);
    }
    staging.write("snapshots2d.csv", &csv.render())
}

/// Add the 2D facts to run.json.
pub fn describe_2d(run: &mut Value, td: &Target2d) {
    run["target"]["dims"] = json!(td.dims);
    run["target"]["test_dims"] = json!(td.test_dims);
    run["target"]["test_offset"] = json!(td.test_offset);
    run["target"]["components"] = json!(td.components);
    run["target"]["peaks"] = json!(td.peaks);
    run["conventions"]["grid_2d"] = json!("N x M grid (x_i, y_j) = (i/N, j/M) on [0, 1)^2 without the endpoints, values row-major v[i*M + j]; test grid shifted by target.test.offset spacings along both axes; the network sees the 2 coordinates mapped by model.input_range, or Fourier features of them");
    run["conventions"]["dft_2d"] = json!("X(kx, ky) = sum_ij v_ij exp(-2 pi i (kx i/N + ky j/M)), unnormalised; half plane ky = 0..floor(M/2) with weight w = 1 on the ky = 0 and ky = M/2 (M even) columns, else 2; E_b = (1/(N M)^2) sum_{k in b} w |R_k|^2; bands are rings of |k| = sqrt(kx^2 + ky^2) (optionally angular sectors); sum_b E_b(r) = MSE");
    if let Some(files) = run["files"].as_object_mut() {
        files.remove("peaks.csv");
        files.remove("snapshots.csv");
        files.insert(
            "peaks2d.csv".into(),
            json!("per analysed epoch and target peak (kx, ky): F-Principle errors and Rahaman amplitude"),
        );
        files.insert(
            "snapshots2d.csv".into(),
            json!("predictions at snapshot epochs on the 2D training grid (epoch, i, j, x, y, target, prediction)"),
        );
        files.insert(
            "bands.csv".into(),
            json!("per analysed epoch and ring: residual/target energies, relative error, share (f_lo, f_hi = ring radii in cycles)"),
        );
    }
}

/// snapshots2d.csv in memory: one image per snapshot epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshots2d {
    /// Grid `[N, M]`.
    pub dims: [usize; 2],
    /// Target values, row-major `[i * M + j]`.
    pub target: Vec<f64>,
    /// `(epoch, prediction row-major)` per snapshot epoch.
    pub snapshots: Vec<(u64, Vec<f64>)>,
}

impl Snapshots2d {
    /// Read `dir/snapshots2d.csv`.
    pub fn load(dir: &Path) -> Result<Snapshots2d> {
        let path = dir.join("snapshots2d.csv");
        if !path.is_file() {
            bail!(
                "{} has no snapshots2d.csv: it is not a 2D run (target kind = \"waves2d\"), or it stored no snapshots",
                dir.display()
            );
        }
        let t = Table::read(&path)?;
        let ctx = || format!("in {}", path.display());
        let ints = |name: &str| -> Result<Vec<usize>> {
            t.f64s(name)
                .with_context(ctx)
                .map(|v| v.into_iter().map(|x| x as usize).collect())
        };
        let (epochs, is, js) = (ints("epoch")?, ints("i")?, ints("j")?);
        let ys = t.f64s("target").with_context(ctx)?;
        let hs = t.f64s("prediction").with_context(ctx)?;
        if epochs.is_empty() {
            bail!("{}: no rows", path.display());
        }
        let n = is.iter().max().copied().unwrap_or(0) + 1;
        let m = js.iter().max().copied().unwrap_or(0) + 1;
        let mut target = vec![f64::NAN; n * m];
        let mut snapshots: Vec<(u64, Vec<f64>)> = Vec::new();
        for r in 0..epochs.len() {
            let e = epochs[r] as u64;
            if snapshots.last().map(|s| s.0) != Some(e) {
                snapshots.push((e, vec![f64::NAN; n * m]));
            }
            let idx = is[r] * m + js[r];
            target[idx] = ys[r];
            snapshots.last_mut().expect("pushed").1[idx] = hs[r];
        }
        if snapshots.iter().any(|s| s.1.iter().any(|v| v.is_nan())) {
            bail!(
                "{}: some snapshot epoch lacks grid points (expected {n} x {m} per epoch)",
                path.display()
            );
        }
        Ok(Snapshots2d {
            dims: [n, m],
            target,
            snapshots,
        })
    }
}
