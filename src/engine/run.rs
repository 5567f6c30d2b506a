//! One experiment end to end: validate, build the target, train with the spectral recorder,
//! and write the run directory (see [`crate::record`] for the files).

use crate::engine::monitor::Recorder;
use crate::engine::train::{train, EpochView, Status, TrainResult};
use crate::experiment::config::{Dtype, Experiment, GridName};
use crate::optim::{Registry, ResolvedOptimizer};
use crate::record::schema::{
    Diverged, EpochRecord, EpochsCsv, ModelMeta, RunMeta, SummaryMeta, TargetMeta, Timings,
    WallClock, FIXED_HYPERS,
};
use crate::record::{checkpoint, csv_preamble, num, Csv, Staging, FORMAT};
use crate::spectral::{band_first_crossings, measure_definitions, BandTable};
use crate::task::objective::Mse;
use crate::task::target::{Target, TargetKind};
use crate::task::targets::waves2d::Waves2d;
use anyhow::Result;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How to run.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Replace an existing run directory.
    pub overwrite: bool,
    /// Also write params_init.json and params_final.json.
    pub save_params: bool,
    /// Called at every evaluated epoch with its row.
    pub progress: Option<&'a mut dyn FnMut(&EpochView)>,
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub dir: PathBuf,
    pub status: Status,
    pub final_train_loss: f64,
    pub final_test_loss: f64,
    pub steps: u64,
    pub seconds: f64,
}

/// Train `exp` and write its run directory at `out`.
pub fn run_experiment(
    exp: &Experiment,
    registry: &Registry,
    out: &Path,
    opts: RunOptions,
) -> Result<RunSummary> {
    let opt = exp.validate(registry)?;
    let staging = Staging::new(out, opts.overwrite)?;
    let started = Instant::now();
    let built = crate::task::classify::build(&exp.target, exp.seed)?;
    let target = match &built {
        Some((t, _)) => t.clone(),
        None => Target::build(&exp.target, exp.seed),
    };
    let mut no_progress = |_: &EpochView| {};
    let progress: &mut dyn FnMut(&EpochView) = match opts.progress {
        Some(p) => p,
        None => &mut no_progress,
    };
    let (result, recorder, classes) = if let Some((_, k)) = built {
        let (result, rec, obs) =
            crate::engine::classify::train_classes(exp, &opt, &target, k, progress)?;
        (result, rec, Some(obs))
    } else {
        let mut recorder = Recorder::new(exp, &target)?;
        let result = match exp.dtype {
            Dtype::F32 => train::<f32, _>(exp, &target, &Mse, &opt, &mut recorder, progress)?,
            Dtype::F64 => train::<f64, _>(exp, &target, &Mse, &opt, &mut recorder, progress)?,
        };
        (result, recorder, None)
    };
    let seconds = started.elapsed().as_secs_f64();
    write_run(
        &staging,
        exp,
        &opt,
        &target,
        &recorder,
        &result,
        seconds,
        opts.save_params || exp.record.save_params,
        classes.as_ref().map(|c| c.describe(&target)),
    )?;
    if let Some(c) = &classes {
        c.write(&staging, &exp.name)?;
    }
    let dir = staging.commit()?;
    let last = result.rows.last();
    Ok(RunSummary {
        dir,
        status: result.status.clone(),
        final_train_loss: last.map_or(f64::NAN, |r| r.train_loss),
        final_test_loss: last.map_or(f64::NAN, |r| r.test_loss),
        steps: result.steps,
        seconds,
    })
}

/// The conventions block of run.json (also summarised in every CSV header).
pub fn conventions(opt: Option<&ResolvedOptimizer>) -> Value {
    let normalize = opt
        .and_then(|o| {
            o.settings
                .choices
                .iter()
                .find(|(n, _)| *n == "normalize")
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(|| "none".into());
    json!({
        "p_form": "theta -= lr * mh / (vh^p + eps) with bias-corrected moments mh, vh: p = 0.5 is Adam, p = 0 is SGD with EMA momentum (step lr*mh/(1+eps)); the convention sqrt(vh)^p' has p' = 2p",
        "p_guard": "for p < 0, vh is floored at v_floor before the power (bandwise's choice)",
        "normalize": if normalize == "rms" {
            "rms: each tensor's update rescaled to the RMS of the p = 0 update (bandwise's option, not the NSF paper's)"
        } else {
            "none: the update rule as written"
        },
        "schedules": "schedule shape, period, unit and warm-up are configuration (the NSF paper does not give them); values recorded at epoch e are those of the last step of epoch e",
        "grid": "t = n/N, n = 0..N-1 on [0, 1) without the endpoint; test grid t = (n + offset)/N_test; the network sees lo + (hi - lo) t (model.input_range)",
        "frequency_unit": "cycles per unit length; DFT bin k is k cycles",
        "dft": "unnormalised X_k = sum_n x_n exp(-2 pi i k n / N) (realfft), one-sided bins k = 0..floor(N/2)",
        "band_energy": "E_b = (1/N^2) sum_{k in b} w_k |X_k|^2, w_k = 1 at k = 0 and k = N/2 (N even), else 2; bands partition all bins, so sum_b E_b(r) = MSE",
        "residual": "r = h - y on the analysed grid, y the values fitted on the training grid (noisy if target.noise > 0) and the clean target on the test grid",
        "loss": "mean squared error over the grid points",
        "epoch": "epoch 0 is the network before training; epoch e is after e epochs",
        "convergence": "convergence.csv: first analysed epoch with rel_error < threshold (Basri et al. style time per band); empty = never within the budget",
        "empty_cell": "an empty CSV cell is an undefined value (NaN), see the measure's `nan` entry",
        "measures": measure_definitions(),
    })
}

fn band_comments(layouts: &[(GridName, &dyn BandTable)]) -> Vec<String> {
    let mut out = vec![
        "DFT unnormalised, one-sided bins 0..N/2; E_b = (1/N^2) sum_{k in b} w_k |R_k|^2 (w = 1 at DC and Nyquist, else 2); sum_b residual_energy = MSE".into(),
        "rel_error = E_b(r)/E_b(y) (empty: target has no energy in the band); share = E_b(r)/sum_b E_b(r)".into(),
    ];
    for (grid, layout) in layouts {
        let bands: Vec<String> = layout
            .band_list()
            .iter()
            .map(|b| format!("{}:[{},{})", b.index, b.f_lo, b.f_hi))
            .collect();
        out.push(format!(
            "{} grid {}, {} layout, bands in cycles [lo, hi): {}",
            grid.as_str(),
            layout.grid_label(),
            layout.kind(),
            bands.join(" ")
        ));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn write_run(
    staging: &Staging,
    exp: &Experiment,
    opt: &ResolvedOptimizer,
    target: &Target,
    rec: &Recorder,
    result: &TrainResult,
    seconds: f64,
    save_params: bool,
    classification: Option<Value>,
) -> Result<()> {
    let layouts = rec.band_tables();
    // epochs.csv
    let mut comments = csv_preamble("per-epoch losses and hyperparameters", &exp.name);
    comments.push(if classification.is_some() {
        "train_loss/test_loss: mean softmax cross-entropy (nats) over the training/test points; train_accuracy/test_accuracy: fraction of points whose argmax logit is the label; lr, p: values used by the epoch's last step (p empty if the optimizer has none); p form: denominator vh^p + eps (Adam at p = 0.5)".into()
    } else {
        "train_loss/test_loss: MSE over the training/test grid; lr, p: values used by the epoch's last step (p empty if the optimizer has none); p form: denominator vh^p + eps (Adam at p = 0.5)".into()
    });
    // Recorded hyperparameters: lr, p and every scheduled one (constant extras are in run.json).
    let mut columns: Vec<&str> = FIXED_HYPERS.to_vec();
    columns.extend(
        opt.scheduled()
            .into_iter()
            .filter(|n| !FIXED_HYPERS.contains(n)),
    );
    let at: Vec<Option<usize>> = columns
        .iter()
        .map(|c| result.hyper_names.iter().position(|n| n == c))
        .collect();
    let epochs = EpochsCsv {
        comments,
        metric_names: result.metric_names.iter().map(|m| m.to_string()).collect(),
        hyper_names: columns.iter().map(|c| c.to_string()).collect(),
        wall_clock: WallClock::Measured,
    };
    let rows: Vec<EpochRecord> = result
        .rows
        .iter()
        .map(|r| EpochRecord {
            epoch: r.epoch,
            step: r.step,
            train_loss: r.train_loss,
            test_loss: r.test_loss,
            metrics: r.metrics.clone(),
            hypers: at
                .iter()
                .map(|i| i.map_or(f64::NAN, |i| r.hypers[i]))
                .collect(),
            wall_s: r.wall_s,
        })
        .collect();
    staging.write("epochs.csv", &epochs.render(&rows))?;

    write_spectral_records(staging, exp, rec)?;

    let dtype_trained = exp.dtype.name();
    if save_params {
        for (file, values) in [
            ("params_init.json", &result.params_init),
            ("params_final.json", &result.params_final),
        ] {
            staging.write_json(
                file,
                &json!({
                    "format": checkpoint::PARAMS_FORMAT,
                    "layout": checkpoint::PARAMS_LAYOUT,
                    "dtype_trained": dtype_trained,
                    "tensors": checkpoint::tensors_json(&result.shape, values),
                }),
            )?;
        }
    }
    for c in &result.checkpoints {
        let value = checkpoint::checkpoint_json(
            &result.shape,
            dtype_trained,
            c.epoch,
            &c.params,
            &c.optimizer,
        );
        staging.write(
            &checkpoint::checkpoint_file(c.epoch),
            &serde_json::to_string(&value)?,
        )?;
    }

    let mut config = serde_json::to_value(exp)?;
    config["optimizer"] = opt.to_json();
    let (status, diverged) = match &result.status {
        Status::Completed => ("completed", None),
        Status::Diverged { epoch, reason } => (
            "diverged",
            Some(Diverged {
                epoch: *epoch,
                reason: reason.clone(),
            }),
        ),
    };
    let bands: serde_json::Map<String, Value> = layouts
        .iter()
        .map(|(g, l)| (g.as_str().to_string(), l.conventions()))
        .collect();
    let last = result.rows.last();
    let meta = RunMeta {
        format: FORMAT.into(),
        bandwise_version: env!("CARGO_PKG_VERSION").into(),
        name: exp.name.clone(),
        seed: exp.seed,
        fingerprint: None,
        status: status.into(),
        diverged,
        source: json!({"kind": "trained", "by": "bandwise run"}),
        config,
        conventions: conventions(Some(opt)),
        target: Some(TargetMeta {
            components: serde_json::to_value(target.components())?,
            train_n: target.train.len(),
            test_n: target.test.len(),
        }),
        model: Some(ModelMeta {
            widths: result.shape.widths.clone(),
            n_params: result.shape.n_params(),
        }),
        bands,
        summary: Some(SummaryMeta {
            epochs_run: last.map_or(0, |r| r.epoch),
            steps: result.steps,
            final_train_loss: last.map(|r| r.train_loss),
            final_test_loss: last.map(|r| r.test_loss),
        }),
        timings: Some(Timings {
            total_s: seconds,
            train_s: result.train_seconds,
            eval_s: result.eval_seconds,
            spectral_s: result.observe_seconds,
            us_per_step: if result.steps > 0 {
                1e6 * result.train_seconds / result.steps as f64
            } else {
                0.0
            },
        }),
        files: serde_json::from_value(json!({
            "epochs.csv": "per evaluated epoch: losses and hyperparameter values",
            "bands.csv": "per analysed epoch and band: residual/target band energies, relative error, share",
            "peaks.csv": "per analysed epoch and target component: F-Principle errors and Rahaman amplitude",
            "convergence.csv": "per band and threshold: first epoch below the threshold",
            "snapshots.csv": "predictions at snapshot epochs (training grid)",
        }))?,
        extra: Default::default(),
    };
    let mut run = meta.to_value()?;
    if !result.checkpoints.is_empty() {
        run["files"]["checkpoints/"] = json!("parameters and optimizer state at record.checkpoints epochs (format bandwise-checkpoint/1, one file per epoch; see docs/records.md)");
    }
    // Hook for the dimension-generic path: the 2D description is added to the typed tree.
    if let TargetKind::Waves2d(td) = &target.kind {
        describe_2d(&mut run, td);
    }
    if let Some(c) = classification {
        crate::engine::classify::describe_run(&mut run, c);
    }
    staging.write_json("run.json", &run)
}

/// Write bands.csv, peaks.csv, convergence.csv and snapshots.csv from a filled [`Recorder`].
/// Shared by `bandwise run` and `bandwise analyze`, so that an imported trajectory gets
/// exactly the records a trained run with the same predictions gets.
pub(crate) fn write_spectral_records(
    staging: &Staging,
    exp: &Experiment,
    rec: &Recorder,
) -> Result<()> {
    let layouts = rec.band_tables();
    if !layouts.is_empty() {
        let layout_of = |g: GridName| {
            layouts
                .iter()
                .find(|(n, _)| *n == g)
                .map(|(_, l)| *l)
                .expect("analysed grid")
        };
        let mut comments = csv_preamble("per-band residual energies", &exp.name);
        comments.extend(band_comments(&layouts));
        let mut bands = Csv::new(
            comments,
            &[
                "grid",
                "epoch",
                "band",
                "label",
                "f_lo",
                "f_hi",
                "residual_energy",
                "target_energy",
                "rel_error",
                "share",
            ],
        );
        for r in &rec.bands {
            let b = &layout_of(r.grid).band_list()[r.band];
            bands.row(&[
                r.grid.as_str().into(),
                r.epoch.to_string(),
                r.band.to_string(),
                b.label.clone(),
                num(b.f_lo),
                num(b.f_hi),
                num(r.residual_energy),
                num(r.target_energy),
                num(r.rel_error),
                num(r.share),
            ]);
        }
        staging.write("bands.csv", &bands.render())?;
        write_peaks(staging, &exp.name, rec)?;

        let mut comments = csv_preamble("per-band convergence times", &exp.name);
        comments.push("epoch = first analysed epoch at which rel_error < threshold (Basri et al. style); empty = never within the budget".into());
        let mut conv = Csv::new(comments, &["grid", "band", "label", "threshold", "epoch"]);
        for (grid, layout) in &layouts {
            let rows: Vec<_> = rec.bands.iter().filter(|r| r.grid == *grid).collect();
            let nb = layout.band_list().len();
            let epochs: Vec<u64> = rows.iter().step_by(nb).map(|r| r.epoch).collect();
            let values: Vec<Vec<f64>> = rows
                .chunks(nb)
                .map(|c| c.iter().map(|r| r.rel_error).collect())
                .collect();
            for &thr in &exp.spectral.thresholds {
                for (b, first) in band_first_crossings(&epochs, &values, thr)
                    .into_iter()
                    .enumerate()
                {
                    conv.row(&[
                        grid.as_str().into(),
                        b.to_string(),
                        layout.band_list()[b].label.clone(),
                        num(thr),
                        first.map_or(String::new(), |e| e.to_string()),
                    ]);
                }
            }
        }
        staging.write("convergence.csv", &conv.render())?;
    }

    write_snapshots(staging, &exp.name, rec)
}

/// Write peaks.csv (1D) or peaks2d.csv (2D): one row per analysed epoch and target peak,
/// with one frequency column per dim.
fn write_peaks(staging: &Staging, name: &str, rec: &Recorder) -> Result<()> {
    let two = rec.dims().len() == 2;
    let comments = if two {
        let mut c = csv_preamble("per-peak measures at the 2D target's peaks", name);
        c.push("(kx, ky): a target peak in the half plane (ky > 0, or ky = 0 and kx > 0), cycles per unit length; amplitude = plane-wave amplitude 2|Y_k|/(N M) of the clean target".into());
        c.push("fp_rel_error = |H_k - Y_k|/|Y_k| (phase-aware); fp_rel_error_mag = ||H_k| - |Y_k||/(1e-5 + |Y_k|) (phase-blind); rahaman_amplitude = 2|H_k|/(N M)/amplitude; 2D unnormalised DFT".into());
        c
    } else {
        let mut c = csv_preamble("per-component measures at the target frequencies", name);
        c.push("fp_rel_error = |H_k - Y_k|/|Y_k| (F-Principle as documented, phase-aware); fp_rel_error_mag = ||H_k| - |Y_k||/(1e-5 + |Y_k|) (as the F-Principle code computes, phase-blind); rahaman_amplitude = 2|H_k/N|/A_i (Rahaman et al.)".into());
        c
    };
    let k_cols: &[&str] = if two { &["kx", "ky"] } else { &["k"] };
    let mut header = vec!["grid", "epoch"];
    header.extend(k_cols);
    header.extend([
        "amplitude",
        "fp_rel_error",
        "fp_rel_error_mag",
        "rahaman_amplitude",
    ]);
    let mut csv = Csv::new(comments, &header);
    for r in &rec.peaks {
        let mut cells = vec![r.grid.as_str().to_string(), r.epoch.to_string()];
        cells.extend(r.k.iter().map(|k| k.to_string()));
        cells.extend([
            num(r.amplitude),
            num(r.fp_rel_error),
            num(r.fp_rel_error_mag),
            num(r.rahaman_amplitude),
        ]);
        csv.row(&cells);
    }
    let file = if two { "peaks2d.csv" } else { "peaks.csv" };
    staging.write(file, &csv.render())
}

/// Write snapshots.csv (1D: epoch, t, target, prediction) or snapshots2d.csv (2D: epoch, i,
/// j, x, y, target, prediction): the predictions on the training grid at snapshot epochs.
fn write_snapshots(staging: &Staging, name: &str, rec: &Recorder) -> Result<()> {
    let two = rec.dims().len() == 2;
    let (what, note, index_cols, coord_cols, file): (_, _, &[&str], &[&str], _) = if two {
        (
            "predictions on the 2D training grid at snapshot epochs",
            "point (i, j) sits at (x, y) = (i/N, j/M); rows in row-major order (j fastest); target: fitted value y; prediction: network output h",
            &["i", "j"],
            &["x", "y"],
            "snapshots2d.csv",
        )
    } else {
        (
            "predictions on the training grid at snapshot epochs",
            "t: grid coordinate in [0, 1); target: fitted value y; prediction: network output h",
            &[],
            &["t"],
            "snapshots.csv",
        )
    };
    let mut comments = csv_preamble(what, name);
    comments.push(note.into());
    let mut header = vec!["epoch"];
    header.extend(index_cols);
    header.extend(coord_cols);
    header.extend(["target", "prediction"]);
    let mut csv = Csv::new(comments, &header);
    for r in &rec.snapshots {
        let mut cells = vec![r.epoch.to_string()];
        if two {
            cells.extend(r.index.iter().map(|i| i.to_string()));
        }
        cells.extend(r.coords.iter().map(|&x| num(x)));
        cells.extend([num(r.target), num(r.prediction)]);
        csv.row(&cells);
    }
    staging.write(file, &csv.render())
}

/// Add the 2D facts to run.json.
fn describe_2d(run: &mut Value, td: &Waves2d) {
    run["target"]["dims"] = json!(td.dims);
    run["target"]["test_dims"] = json!(td.test_dims);
    run["target"]["test_offset"] = json!(td.test_offset);
    run["target"]["components"] = json!(td.components);
    let peaks: Vec<Value> = td
        .peaks
        .iter()
        .map(|p| json!({"kx": p.k[0], "ky": p.k[1], "amplitude": p.amplitude}))
        .collect();
    run["target"]["peaks"] = json!(peaks);
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
