//! `bandwise plot`: draw figures from run directories (or sweep directories, expanded to the
//! runs below them). Pure reading: nothing is retrained.

use crate::plot::from_record::{Clip, Measure};
use crate::plot::runs::extension;
use crate::plot::runs::{comparison_set, draw_files};
use crate::plot::{draw, standard_set, Format, Kind, PlotOptions};
use crate::record::find_runs;
use crate::record::load::RunData;
use anyhow::{bail, Context, Result};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Png,
    Svg,
}

/// A clap parser for a library enum listed in `all`, named by `name` and described by
/// `about` (the library itself does not depend on clap).
fn choices<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
    about: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T> {
    let values = all
        .iter()
        .map(move |&v| PossibleValue::new(name(v)).help(about(v)));
    PossibleValuesParser::new(values).map(move |s| {
        *all.iter()
            .find(|&&v| name(v) == s)
            .expect("clap accepts only the listed names")
    })
}

#[derive(Args)]
#[command(
    after_help = "Examples:\n  bandwise plot runs/padam_cosine                  standard set into runs/padam_cosine/figures/\n  bandwise plot runs/a --kind heatmap --clip fprinciple --out a.svg\n  bandwise plot runs/sweep --kind panel --out panel.png   (a sweep directory is expanded; lr-search runs are left out)\n  bandwise plot runs/c2_fixed_p --kind index-vs-p --out c2.png   (figures of a claim's verdict quantity: index-vs-p, coverage, c6-loss, c6-time, p-lr-map)"
)]
pub struct PlotArgs {
    /// Run directories (written by `bandwise run`) or directories containing runs.
    #[arg(required = true, value_name = "RUN_DIR")]
    dirs: Vec<PathBuf>,
    /// Figure kind [default: all = heatmap, curves, loss, snapshots per run, plus panel and
    /// loss comparison when several runs are given].
    #[arg(long, value_parser = choices(&Kind::ALL, Kind::name, Kind::about))]
    kind: Option<Kind>,
    /// Output file (.png or .svg) for one figure, or a directory [default: RUN_DIR/figures/].
    #[arg(long, value_name = "FILE_OR_DIR")]
    out: Option<PathBuf>,
    /// Which grid's spectra to show.
    #[arg(long, default_value = "train", value_parser = ["train", "test"])]
    grid: String,
    /// Measure for heatmap, curves and panel.
    #[arg(long, default_value = "rel_error", value_parser = choices(&Measure::ALL, Measure::column, Measure::about))]
    measure: Measure,
    /// Colour range of heatmaps: none = log scale fitted to the data, fprinciple = log [0.1, 1],
    /// rahaman = linear [0, 1] [default: none; rahaman for rahaman_amplitude].
    #[arg(long, value_parser = choices(&Clip::ALL, Clip::name, Clip::about))]
    clip: Option<Clip>,
    /// Image format when --out is a directory or not given (a file's extension decides otherwise).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Panel: one heatmap per seed instead of one per configuration (mean over its seeds).
    #[arg(long)]
    each_seed: bool,
    /// Also read the lr-search runs of a sweep (DIR/lr_search/...); by default only the
    /// evaluation runs are plotted.
    #[arg(long)]
    include_lr_search: bool,
}

/// Is `run` a sweep's lr-search run (a path component `lr_search` below `root`)?
pub fn is_lr_search_run(root: &Path, run: &Path) -> bool {
    run.strip_prefix(root)
        .unwrap_or(run)
        .components()
        .any(|c| c.as_os_str() == "lr_search")
}

/// Every run below the given directories, in argument order, loaded; a sweep's lr-search runs
/// are left out unless `lr_search` is set.
fn load_runs(dirs: &[PathBuf], lr_search: bool) -> Result<Vec<RunData>> {
    let mut runs = Vec::new();
    for d in dirs {
        if !d.exists() {
            bail!(
                "run directory {} does not exist; pass a directory written by `bandwise run`",
                d.display()
            );
        }
        let found = find_runs(d)?;
        if found.is_empty() {
            bail!(
                "{} contains no bandwise runs (no run.json at or below it); pass a directory written by `bandwise run`",
                d.display()
            );
        }
        let n_found = found.len();
        let found: Vec<PathBuf> = found
            .into_iter()
            .filter(|r| lr_search || !is_lr_search_run(d, r))
            .collect();
        if found.is_empty() {
            bail!(
                "{} holds only lr-search runs ({n_found}); pass --include-lr-search to plot them",
                d.display()
            );
        }
        for r in found {
            runs.push(
                RunData::load(&r).with_context(|| format!("cannot read run {}", r.display()))?,
            );
        }
    }
    Ok(runs)
}

/// Is `out` meant as an image file (has an extension)? Errors on an extension other than
/// png/svg or one that contradicts --format.
fn out_file(out: &Path, format: Option<FormatArg>) -> Result<Option<Format>> {
    if out.is_dir() || out.extension().is_none() {
        return Ok(None);
    }
    let f = Format::from_path(out)?;
    if let Some(want) = format {
        let want = to_format(want);
        if want != f {
            bail!(
                "--out {} is a .{} file but --format {} was given; make them agree",
                out.display(),
                extension(f),
                extension(want)
            );
        }
    }
    Ok(Some(f))
}

fn to_format(f: FormatArg) -> Format {
    match f {
        FormatArg::Png => Format::Png,
        FormatArg::Svg => Format::Svg,
    }
}

/// A short unique name for each run: its path below the common ancestor, '/' -> '_'.
fn short_names(runs: &[RunData]) -> Vec<String> {
    let paths: Vec<PathBuf> = runs.iter().map(|r| r.dir.clone()).collect();
    let mut common: PathBuf = paths[0].parent().map(Path::to_path_buf).unwrap_or_default();
    while !paths.iter().all(|p| p.starts_with(&common)) {
        if !common.pop() {
            break;
        }
    }
    paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&common).unwrap_or(p);
            let s = rel.to_string_lossy().replace(['/', '\\'], "_");
            if s.is_empty() {
                "run".into()
            } else {
                s
            }
        })
        .collect()
}

/// Run `bandwise plot`; prints every written file on stdout.
pub fn run(args: PlotArgs) -> Result<()> {
    let runs = load_runs(&args.dirs, args.include_lr_search)?;
    let opts = PlotOptions {
        grid: args.grid.clone(),
        measure: args.measure,
        clip: args.clip,
        each_seed: args.each_seed,
        ..PlotOptions::default()
    };
    let kind = args.kind.unwrap_or(Kind::All);
    let file = match &args.out {
        Some(o) => out_file(o, args.format)?,
        None => None,
    };
    let format = file.or(args.format.map(to_format)).unwrap_or(Format::Png);
    let ext = extension(format);
    let mut written: Vec<PathBuf> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    // A failing figure is reported and the others are still drawn; the exit is non-zero.
    let mut failed: Vec<String> = Vec::new();
    // Where a figure of several runs goes when --out is not given.
    let multi_default = || -> Result<PathBuf> {
        match args.dirs.as_slice() {
            [d] => Ok(d.join("figures")),
            _ => bail!(
                "several RUN_DIR arguments: pass --out FILE (or a directory) for the {} figure",
                kind.stem()
            ),
        }
    };
    match kind {
        k if k.is_multi_run() => {
            let path = match (&args.out, file) {
                (Some(o), Some(_)) => o.clone(),
                (Some(o), None) => o.join(format!("{}.{ext}", kind.stem())),
                (None, _) => multi_default()?.join(format!("{}.{ext}", kind.stem())),
            };
            written.extend(
                draw_files(kind, &runs, &path, &opts)
                    .with_context(|| format!("{} ({})", kind.stem(), path.display()))?,
            );
        }
        Kind::Heatmap | Kind::Curves | Kind::Snapshots | Kind::Filtering => {
            if file.is_some() && runs.len() > 1 {
                bail!(
                    "--out {} names one file but {} runs were found; pass a directory as --out",
                    args.out.as_ref().expect("file implies out").display(),
                    runs.len()
                );
            }
            let names = short_names(&runs);
            for (run, name) in runs.iter().zip(&names) {
                let path = match (&args.out, file) {
                    (Some(o), Some(_)) => o.clone(),
                    (Some(o), None) if runs.len() == 1 => o.join(format!("{}.{ext}", kind.stem())),
                    (Some(o), None) => o.join(format!("{name}_{}.{ext}", kind.stem())),
                    (None, _) => run
                        .dir
                        .join("figures")
                        .join(format!("{}.{ext}", kind.stem())),
                };
                match draw(kind, std::slice::from_ref(run), &path, &opts) {
                    Ok(()) => written.push(path),
                    Err(e) => failed.push(format!(
                        "{} of run {} ({}): {e:#}",
                        kind.stem(),
                        run.dir.display(),
                        path.display()
                    )),
                }
            }
        }
        Kind::All => {
            if file.is_some() {
                bail!(
                    "--out {} names a file but --kind all draws several figures; pass a directory",
                    args.out.as_ref().expect("file implies out").display()
                );
            }
            let names = short_names(&runs);
            for (run, name) in runs.iter().zip(&names) {
                let dir = match &args.out {
                    Some(o) if runs.len() == 1 => o.clone(),
                    Some(o) => o.join(name),
                    None => run.dir.join("figures"),
                };
                let w = standard_set(run, &dir, format, &opts)?;
                written.extend(w.files);
                skipped.extend(w.skipped);
                failed.extend(w.failed);
            }
            if runs.len() > 1 {
                let dir = match &args.out {
                    Some(o) => o.clone(),
                    None => multi_default()?,
                };
                let w = comparison_set(&runs, &dir, format, &opts)?;
                written.extend(w.files);
                skipped.extend(w.skipped);
                failed.extend(w.failed);
            }
        }
        _ => unreachable!("multi-run kinds are handled above"),
    }
    for s in &skipped {
        eprintln!("skipped {s}");
    }
    for w in &written {
        outln!("{}", w.display());
    }
    for f in &failed {
        eprintln!("failed {f}");
    }
    if !failed.is_empty() {
        bail!(
            "{} figure(s) failed (listed above); {} written",
            failed.len(),
            written.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lr_search_runs_are_recognised_below_the_root_only() {
        let root = Path::new("/runs/c2");
        assert!(is_lr_search_run(
            root,
            Path::new("/runs/c2/lr_search/c1/lr=0.1__seed=0")
        ));
        assert!(!is_lr_search_run(
            root,
            Path::new("/runs/c2/runs/p=0__seed=0")
        ));
        // A sweep that is itself stored under a directory named lr_search is not excluded.
        let nested = Path::new("/lr_search/sweep");
        assert!(!is_lr_search_run(
            nested,
            Path::new("/lr_search/sweep/runs/a")
        ));
    }
}
