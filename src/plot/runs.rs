//! Figures straight from run records: [`draw`] one figure kind for some runs into a file, or
//! [`standard_set`] (heatmap, curves, loss, snapshots) of one run into a directory. This is
//! the library side of `bandwise plot`; the data conversion lives in [`super::from_record`].

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::from_record::{
    colour_scale, curves_data, heatmap_data, loss_data, panel_data, rows_values, snapshot_data,
    Clip, Measure,
};
use super::Format;
use crate::load::RunData;

/// A figure kind of `bandwise plot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Colour = measure per band (or frequency) and epoch, with p(t)/lr(t) strips.
    Heatmap,
    /// Measure vs epoch, one line per band, log y, threshold lines.
    Curves,
    /// Heatmaps of several runs sharing one colour scale.
    Panel,
    /// Train/test loss of several runs (seeds aggregated: mean and min-max band).
    Loss,
    /// Target, prediction and residual spectrum at the stored snapshot epochs.
    Snapshots,
    /// The standard set per run (heatmap, curves, loss, snapshots), plus a panel and a loss
    /// comparison when several runs are given.
    All,
}

impl Kind {
    /// The file stem used for this kind, e.g. "heatmap".
    pub fn stem(self) -> &'static str {
        match self {
            Kind::Heatmap => "heatmap",
            Kind::Curves => "curves",
            Kind::Panel => "panel",
            Kind::Loss => "loss",
            Kind::Snapshots => "snapshots",
            Kind::All => "all",
        }
    }

    /// True for kinds that draw one figure from several runs.
    pub fn is_multi_run(self) -> bool {
        matches!(self, Kind::Panel | Kind::Loss)
    }
}

/// What to show; the defaults are the standard figures.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// "train" or "test".
    pub grid: String,
    pub measure: Measure,
    /// Colour range; `None` = the measure's default (see [`colour_scale`]).
    pub clip: Option<Clip>,
    /// Most snapshot columns drawn (evenly picked from those stored).
    pub max_snapshots: usize,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            grid: "train".into(),
            measure: Measure::RelError,
            clip: None,
            max_snapshots: 6,
        }
    }
}

/// The standard file extension of a format.
pub fn extension(format: Format) -> &'static str {
    match format {
        Format::Png => "png",
        Format::Svg => "svg",
    }
}

/// Draw one figure of `kind` from `runs` into `path` (.png or .svg). Heatmap, curves and
/// snapshots take exactly one run; panel and loss take one or more.
pub fn draw(kind: Kind, runs: &[RunData], path: &Path, opts: &PlotOptions) -> Result<()> {
    Format::from_path(path)?;
    if runs.is_empty() {
        bail!("no runs to plot");
    }
    let one = || -> Result<&RunData> {
        match runs {
            [r] => Ok(r),
            _ => bail!(
                "a {} figure shows one run, got {}; draw one per run or use --kind panel / loss",
                kind.stem(),
                runs.len()
            ),
        }
    };
    match kind {
        Kind::Heatmap => {
            let run = one()?;
            let values = rows_values(run, &opts.grid, opts.measure)?;
            let (scale, note) = colour_scale(&values, opts.measure, opts.clip);
            let data = heatmap_data(run, &opts.grid, opts.measure, &note)?;
            super::heatmap(path, &data, &scale)
        }
        Kind::Curves => super::curves(path, &curves_data(one()?, &opts.grid, opts.measure)?),
        Kind::Snapshots => super::snapshots(path, &snapshot_data(one()?, opts.max_snapshots)?),
        Kind::Loss => super::loss(path, &loss_data(runs)?),
        Kind::Panel => {
            let (panels, scale, title) = panel_data(runs, &opts.grid, opts.measure, opts.clip)?;
            super::panel(path, &panels, &scale, &title)
        }
        Kind::All => bail!("`all` is a set of figures, not one file: use standard_set"),
    }
}

/// Files written by [`standard_set`] and figures skipped (with the reason).
#[derive(Debug, Default)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<String>,
    /// Figures that could not be drawn, each naming the run, the file and the cause; the
    /// other figures of the set are still drawn.
    pub failed: Vec<String>,
}

/// Draw heatmap, curves, loss and snapshots of `run` into `dir` as `<kind>.<ext>`. Figures
/// whose data the record lacks (no bands.csv, no snapshots.csv) are skipped and reported in
/// [`Written::skipped`]; any other error stops.
pub fn standard_set(
    run: &RunData,
    dir: &Path,
    format: Format,
    opts: &PlotOptions,
) -> Result<Written> {
    let mut out = Written::default();
    let runs = std::slice::from_ref(run);
    for kind in [Kind::Heatmap, Kind::Curves, Kind::Loss, Kind::Snapshots] {
        let missing = match kind {
            Kind::Heatmap | Kind::Curves if opts.measure.is_peaks() && run.peaks.is_empty() => {
                Some("no per-frequency data (peaks.csv)")
            }
            Kind::Heatmap | Kind::Curves if !opts.measure.is_peaks() && run.bands.is_empty() => {
                Some("no spectral data (bands.csv)")
            }
            Kind::Snapshots if run.snapshots.is_empty() => Some("no snapshots (snapshots.csv)"),
            _ => None,
        };
        if let Some(why) = missing {
            out.skipped
                .push(format!("{} of {}: {why}", kind.stem(), run.dir.display()));
            continue;
        }
        let path = dir.join(format!("{}.{}", kind.stem(), extension(format)));
        match draw(kind, runs, &path, opts) {
            Ok(()) => out.files.push(path),
            Err(e) => out.failed.push(format!(
                "{} of run {} ({}): {e:#}",
                kind.stem(),
                run.dir.display(),
                path.display()
            )),
        }
    }
    Ok(out)
}
