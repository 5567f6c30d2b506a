//! `bandwise report`: per-band convergence, the frequency-preference index and claim verdicts
//! over run directories, as Markdown, JSON, CSV or an aligned terminal table; classification
//! runs get their own section (accuracies, the C4 quantities, filtering convergence) and the
//! C4, C5 and C6 verdicts.

use crate::analysis::{build, Claim, Format, ReportOptions};
use crate::record::write_atomic;
use anyhow::{bail, Result};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args)]
pub struct ReportArgs {
    /// Run directories, or directories containing runs (searched recursively). Runs with the
    /// same config (apart from seed and name) are aggregated over seeds.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output format: term (aligned table), md, json or csv [default: from --out's extension;
    /// else term on a TTY, md otherwise].
    #[arg(long, value_parser = ["term", "md", "json", "csv"])]
    format: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Which grid's band record to analyse.
    #[arg(long, default_value = "train", value_parser = ["train", "test"])]
    grid: String,
    /// Judge only this claim (repeatable): c2, c3, c6 on regression runs; c4, c5, c6 on
    /// classification runs. Default: every claim that applies. A claim that applies to none
    /// of the runs read gets a "not evaluated" verdict saying why.
    #[arg(long)]
    claim: Vec<String>,
    /// Decay-rate window for the index: `full` (whole budget) or `half` (first half).
    #[arg(long, default_value = "full", value_parser = ["full", "half"])]
    window: String,
    /// Validity guard of the regression claims: largest median final/initial test-loss ratio
    /// that counts as "learned" (classification guards are fixed: see docs/classification.md).
    #[arg(long, default_value_t = 0.1)]
    max_loss_ratio: f64,
    /// Validity guard of the regression claims: largest share of diverged seeds per
    /// configuration.
    #[arg(long, default_value_t = 0.2)]
    max_diverged_share: f64,
    /// Also read the lr-search runs of sweep directories (default: evaluation runs only).
    #[arg(long)]
    include_lr_search: bool,
}

pub fn run(args: ReportArgs) -> Result<()> {
    let claims = args
        .claim
        .iter()
        .map(|c| Claim::parse(c))
        .collect::<Result<Vec<_>>>()?;
    let opts = ReportOptions {
        grid: args.grid,
        window_fraction: if args.window == "half" { 0.5 } else { 1.0 },
        guards: crate::analysis::guards::Guards {
            max_loss_ratio: args.max_loss_ratio,
            max_diverged_share: args.max_diverged_share,
        },
        include_lr_search: args.include_lr_search,
    };
    let format = match (&args.format, &args.out) {
        (Some(f), _) => match Format::parse(f) {
            Some(f) => f,
            None => bail!("unknown --format `{f}`: use term, md, json or csv"),
        },
        (None, Some(out)) => match out.extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            _ => Format::Markdown,
        },
        (None, None) if std::io::stdout().is_terminal() => Format::Terminal,
        (None, None) => Format::Markdown,
    };
    let report = build(&args.dirs, &opts, &claims)?;
    let text = crate::analysis::render::render(&report, format);
    match &args.out {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            let class_configs = report
                .classification
                .as_ref()
                .map_or(0, |c| c.configs.len());
            eprintln!(
                "report on {} runs ({} configurations) -> {}",
                report.n_runs,
                report.configs.len() + class_configs,
                path.display()
            );
        }
        None => out!("{text}"),
    }
    Ok(())
}
