//! `bandwise protocol`: the standard frequency-preference protocol on one registered optimizer,
//! with the reference optimizers alongside (see [`crate::app::protocol`]).

use crate::analysis::render::{render, Format};
use crate::app::protocol::{
    candidate_summary, protocol_entries, run_protocol, ProtocolOptions, ProtocolSettings,
};
use crate::base::toml_path::parse_assignment;
use crate::optim::Registry;
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct ProtocolArgs {
    /// The optimizer to measure: any registered name (`bandwise optimizers` lists them).
    #[arg(long)]
    optimizer: String,
    /// Set one of its hyperparameters (repeatable): the value is TOML, e.g. --set beta1=0.95,
    /// --set nesterov=true, --set normalize=rms,
    /// --set 'p={ kind = "cosine", min = -0.5, max = 0.5, period = 100 }'. lr is not allowed: the
    /// protocol chooses it by a grid search.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Output directory (resumable) [default: runs/protocol_<optimizer>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Short budget (300 epochs, 2 seeds, lr search over 5 rates): a smoke test, not a measurement.
    #[arg(long)]
    quick: bool,
    /// Runs trained in parallel [default: available cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Output on stdout: term (the comparison table), md (the full report), json or csv
    /// [default: term; OUT/report.md always holds the full report].
    #[arg(long, value_parser = ["term", "md", "json", "csv"])]
    format: Option<String>,
    /// No progress output.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: ProtocolArgs, registry: &Registry) -> Result<()> {
    let overrides = args
        .set
        .iter()
        .map(|s| parse_assignment(s))
        .collect::<Result<Vec<_>>>()?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let format = match &args.format {
        Some(f) => Format::parse(f)
            .ok_or_else(|| anyhow::anyhow!("unknown --format `{f}`: use term, md, json or csv"))?,
        None => Format::Terminal,
    };
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from("runs").join(format!(
            "protocol_{}{}",
            args.optimizer,
            if args.quick { "_quick" } else { "" }
        ))
    });
    let settings = if args.quick {
        ProtocolSettings::quick()
    } else {
        ProtocolSettings::standard()
    };
    let report = run_protocol(
        registry,
        &args.optimizer,
        &overrides,
        &out,
        &ProtocolOptions {
            settings,
            jobs,
            progress: super::progress::job_progress(args.quiet),
        },
    )?;
    out!("{}", render(&report, format));
    if format == Format::Terminal {
        let entries = protocol_entries(registry, &args.optimizer, &overrides)?;
        out!("{}", candidate_summary(&report, &entries, &out));
    }
    if !args.quiet {
        eprintln!(
            "protocol records -> {} (report.md, report.json, one sweep directory per optimizer)",
            out.display()
        );
    }
    Ok(())
}
