//! `bandwise status`: done, running, failed and missing runs of sweep directories, from the
//! files alone (safe while shards are running, from any node that sees the directory).

use crate::app::sweep::status::{sweep_dirs, SweepStatus};
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct StatusArgs {
    /// A sweep directory (holding sweep.json), or a directory of sweep directories such as
    /// runs/figures.
    dir: PathBuf,
    /// Exit with an error unless every run is done (for scripts and merge jobs).
    #[arg(long)]
    complete: bool,
}

pub fn run(args: StatusArgs) -> Result<()> {
    let dirs = sweep_dirs(&args.dir);
    if dirs.is_empty() {
        bail!(
            "{} holds no sweep (no sweep.json in it or in its subdirectories); pass the --out directory of `bandwise sweep` or the runs directory of `bandwise figures`",
            args.dir.display()
        );
    }
    let mut refusals = Vec::new();
    for d in dirs {
        let status = SweepStatus::load(&d)?;
        print!("{}", status.render());
        refusals.extend(status.refusal());
    }
    if args.complete && !refusals.is_empty() {
        bail!("{}", refusals.join("\n"));
    }
    Ok(())
}
