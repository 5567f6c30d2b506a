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
    #[arg(long, required_unless_present = "torch", conflicts_with = "torch")]
    optimizer: Option<String>,
    /// A PyTorch optimizer to measure instead: an import path `pkg.module:Class` (or a
    /// torch.optim class name). Runs `python3 -m bandwise protocol` (needs the bandwise Python
    /// package, `pip install ./python`, and torch; BANDWISE_PYTHON names another interpreter).
    #[arg(long, value_name = "pkg.module:Class")]
    torch: Option<String>,
    /// With --torch: who trains the references, torch (the candidate's network code) or rust
    /// (bandwise, as without --torch) [default: torch].
    #[arg(long, value_parser = ["torch", "rust"])]
    references: Option<String>,
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
    if let Some(class) = &args.torch {
        return run_torch(&args, class);
    }
    if args.references.is_some() {
        bail!("--references chooses who trains the references of a --torch candidate; give --torch pkg.module:Class, or drop --references");
    }
    let optimizer = args.optimizer.clone().unwrap_or_default();
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
            optimizer,
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
        &optimizer,
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
        let entries = protocol_entries(registry, &optimizer, &overrides)?;
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

/// `--torch`: the same protocol with the candidate trained by PyTorch, run by the Python
/// package (`python3 -m bandwise protocol`), which calls back into this library.
fn run_torch(args: &ProtocolArgs, class: &str) -> Result<()> {
    use crate::app::protocol_external::{
        python_interpreter, run_python_protocol, ExternalCandidate,
    };
    // The arguments are checked here first, with the same code the Python side uses.
    let cand = ExternalCandidate::from_sets(class, &args.set)?;
    if args.jobs == Some(0) {
        bail!("--jobs must be at least 1");
    }
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!(
            "protocol_{}{}",
            cand.label(),
            if args.quick { "_quick" } else { "" }
        ))
    });
    let mut py = vec!["--torch".to_string(), class.to_string()];
    for s in &args.set {
        py.extend(["--set".to_string(), s.clone()]);
    }
    py.extend(["--out".to_string(), out.display().to_string()]);
    if let Some(r) = &args.references {
        py.extend(["--references".to_string(), r.clone()]);
    }
    if let Some(j) = args.jobs {
        py.extend(["--jobs".to_string(), j.to_string()]);
    }
    if let Some(f) = &args.format {
        py.extend(["--format".to_string(), f.clone()]);
    }
    if args.quick {
        py.push("--quick".into());
    }
    if args.quiet {
        py.push("--quiet".into());
    }
    run_python_protocol(&python_interpreter(), &py)
}
