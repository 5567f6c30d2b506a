//! `bandwise target` (the grid and target of a config as NPY, for other frameworks) and
//! `bandwise analyze` (their per-epoch predictions -> a normal run directory).
//! Formats: see [`crate::app::import`].

use crate::app::import::{analyze, grid_columns, load_task, write_grid, ImportInputs};
use crate::experiment::fingerprint::fingerprint;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct TargetArgs {
    /// Experiment config (TOML); its [optimizer] table is not needed.
    config: PathBuf,
    /// Training grid as a float64 NPY array of shape (N, 3): columns t, x (model input), y
    /// ((N, 5) for a 2D target: t1, t2, x1, x2, y). The task fingerprint is printed and
    /// written next to it as OUT.fingerprint.
    #[arg(long)]
    out: PathBuf,
    /// Also write the test grid (same columns, y noise-free) to this NPY file.
    #[arg(long, value_name = "TEST.npy")]
    test: Option<PathBuf>,
    /// Override the config's seed (it draws random phases and noise).
    #[arg(long)]
    seed: Option<u64>,
}

pub fn target(args: TargetArgs) -> Result<()> {
    let mut exp = load_task(&args.config)?;
    if let Some(s) = args.seed {
        exp.seed = s;
    }
    let target = write_grid(&exp, &args.out, args.test.as_deref())?;
    let fp = fingerprint(&exp, &target);
    let fp_path = fingerprint_path(&args.out);
    crate::record::write_atomic(&fp_path, format!("{fp}\n").as_bytes())?;
    let columns = grid_columns(target.train.dim());
    let content = match &exp.target.waves2d {
        Some(w) => format!("{} x {} grid, row-major", w.dims[0], w.dims[1]),
        None => {
            let ks: Vec<String> = target
                .components()
                .iter()
                .map(|c| c.k.to_string())
                .collect();
            format!("frequencies {}", ks.join(", "))
        }
    };
    let (lo, span) = (
        exp.model.input_range[0],
        exp.model.input_range[1] - exp.model.input_range[0],
    );
    let input = if columns.len() == 3 {
        format!("x = {lo} + {span} t")
    } else {
        format!("xi = {lo} + {span} ti")
    };
    eprintln!(
        "wrote {}: shape ({}, {}), columns {} (seed {}, {content}; model input {input}){}",
        args.out.display(),
        target.train.len(),
        columns.len(),
        columns.join(", "),
        exp.seed,
        args.test.as_ref().map_or(String::new(), |t| format!(
            "; test grid ({}, {}) -> {}",
            target.test.len(),
            columns.len(),
            t.display()
        ))
    );
    eprintln!(
        "task fingerprint {fp} -> {} (give it to `bandwise analyze --fingerprint`, or as a `# fingerprint: {fp}` line of the epochs CSV)",
        fp_path.display()
    );
    Ok(())
}

/// `grid.npy` -> `grid.npy.fingerprint`.
pub fn fingerprint_path(grid: &std::path::Path) -> PathBuf {
    let mut s = grid.as_os_str().to_os_string();
    s.push(".fingerprint");
    PathBuf::from(s)
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// The experiment config the predictions were made for (the one given to `bandwise target`).
    #[arg(long)]
    config: PathBuf,
    /// Training-grid predictions: a 2D NPY array (epochs x N, float32/float64), or a directory
    /// of per-epoch 1D NPY files whose names end in the epoch number (pred_00012.npy). For a
    /// classification task, the K logits per point: epochs x N x K, or per-epoch N x K files.
    #[arg(long)]
    predictions: PathBuf,
    /// Test-grid predictions in the same layout (needed if spectral.grids contains "test").
    #[arg(long)]
    test_predictions: Option<PathBuf>,
    /// Optional CSV with columns among epoch, step, train_loss, test_loss, lr, p, wall_s (one
    /// row per recorded epoch); losses not given are computed from the predictions.
    #[arg(long, value_name = "EPOCHS.csv")]
    epochs: Option<PathBuf>,
    /// Run directory to write [default: runs/<name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run name [default: <config name>_imported].
    #[arg(long)]
    name: Option<String>,
    /// Provenance, shown in reports as `imported: <source>`, e.g. "pytorch Adam lr=1e-3".
    #[arg(long)]
    source: Option<String>,
    /// Override the config's seed (must be the seed the grid was written with).
    #[arg(long)]
    seed: Option<u64>,
    /// The task fingerprint the predictions were made on (printed by `bandwise target`);
    /// analyze refuses predictions of another task. Also read from a `# fingerprint: ...`
    /// comment line of --epochs. Without either, analyze warns that it cannot check.
    #[arg(long)]
    fingerprint: Option<String>,
    /// Replace the run directory if it exists.
    #[arg(long)]
    force: bool,
}

pub fn run(args: AnalyzeArgs) -> Result<()> {
    let mut exp = load_task(&args.config)?;
    if let Some(s) = args.seed {
        exp.seed = s;
    }
    exp.name = args
        .name
        .unwrap_or_else(|| format!("{}_imported", exp.name));
    crate::record::commit::check_run_name(&exp.name).context("--name (or the config's name)")?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(&exp.name));
    crate::record::commit::check_target(&out, args.force)?;
    let summary = analyze(
        &exp,
        &ImportInputs {
            predictions: args.predictions,
            test_predictions: args.test_predictions,
            epochs_csv: args.epochs,
            source: args.source,
            overwrite: args.force,
            fingerprint: args.fingerprint,
        },
        &out,
    )?;
    for n in &summary.notes {
        eprintln!("note: {n}");
    }
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "analysed {} epochs (last {}, final train loss {:.3e}) -> {}",
        summary.epochs.len(),
        summary.epochs.last().copied().unwrap_or(0),
        summary.final_train_loss,
        summary.dir.display()
    );
    Ok(())
}
