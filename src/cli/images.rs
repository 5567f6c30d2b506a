//! `bandwise images`: image panels of a 2D run (target, predictions, residuals and their
//! log power spectra at the stored snapshot epochs), drawn from snapshots2d.csv.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(
    after_help = "Example:\n  bandwise images runs/demo2d                 -> runs/demo2d/figures/images.png"
)]
pub struct ImagesArgs {
    /// A run directory of a 2D target (kind = "waves2d"), written by `bandwise run` or a sweep.
    #[arg(value_name = "RUN_DIR")]
    dir: PathBuf,
    /// Output file (.png or .svg) [default: RUN_DIR/figures/images.png].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Most snapshot columns drawn (evenly picked from those stored; first and last always).
    #[arg(long, default_value_t = 5)]
    max: usize,
}

pub fn run(args: ImagesArgs) -> Result<()> {
    let out = args
        .out
        .unwrap_or_else(|| args.dir.join("figures").join("images.png"));
    crate::plot::images::images_for_run(&args.dir, &out, args.max)?;
    outln!("{}", out.display());
    Ok(())
}
