//! The command-line interface: argument parsing and dispatch to the library. `main.rs` only
//! calls [`main_with`]; a program that registers its own optimizers calls it with its
//! registry (see examples/).

mod analyze;
mod bench;
mod figures;
mod images;
mod plot;
mod protocol;
mod report;
mod run;
pub mod spectrum;
mod sweep;

use crate::optim::Registry;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// bandwise measures how an optimizer spreads learning across frequencies: small networks fit
/// synthetic targets with known frequency content, an FFT splits the residual into frequency
/// bands every epoch, and reports and figures show which bands converge when.
#[derive(Parser)]
#[command(name = "bandwise", version, about, long_about = None, after_help = "Start with `bandwise run analyses/examples/padam_cosine.toml`, then `bandwise plot runs/padam_cosine`.\nThe README lists every config field and every measure.")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate every figure and report from the built-in analyses (the main job).
    Figures(figures::FiguresArgs),
    /// Train one experiment from a TOML config and write its run directory.
    Run(run::RunArgs),
    /// Run a sweep spec (many runs, in parallel, resumable) and aggregate over seeds.
    Sweep(sweep::SweepArgs),
    /// Per-band convergence, frequency-preference index and claim verdicts over run directories.
    Report(report::ReportArgs),
    /// Draw figures (heatmap, curves, panel, loss, snapshots) from run directories.
    Plot(plot::PlotArgs),
    /// List the registered optimizers and their hyperparameters.
    Optimizers,
    /// Band table of one signal given as .npy or .csv (e.g. a prediction from another tool).
    Spectrum(spectrum::SpectrumArgs),
    /// Time the engine on the reference task (compare with benches/torch_peer.py).
    Bench(bench::BenchArgs),
    /// Image panels of a 2D run: target, predictions, residuals and log power spectra.
    Images(images::ImagesArgs),
    /// The standard frequency-preference protocol on one optimizer, references alongside.
    Protocol(protocol::ProtocolArgs),
    /// Write a config's grid and target as NPY (N x 3: t, x, y) for other frameworks.
    Target(analyze::TargetArgs),
    /// Analyse per-epoch predictions made elsewhere (NPY) into a normal run directory.
    Analyze(analyze::AnalyzeArgs),
}

/// Parse the command line and run it with `registry`; errors are printed on stderr.
pub fn main_with(registry: Registry) -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args, &registry),
        Command::Figures(args) => figures::run(args, &registry),
        Command::Bench(args) => bench::run(args),
        Command::Images(args) => images::run(args),
        Command::Spectrum(args) => spectrum::run(args),
        Command::Sweep(args) => sweep::run(args, &registry),
        Command::Report(args) => report::run(args),
        Command::Protocol(args) => protocol::run(args, &registry),
        Command::Target(args) => analyze::target(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Plot(args) => plot::run(args),
        Command::Optimizers => {
            print!("{}", optimizers_text(&registry));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The text of `bandwise optimizers`.
pub fn optimizers_text(registry: &Registry) -> String {
    use crate::optim::ParamKind;
    use std::fmt::Write;
    let mut out = String::new();
    for e in registry.entries() {
        let _ = writeln!(out, "{}: {}", e.name, e.about);
        let _ = writeln!(out, "    lr (required): learning rate (number or schedule)");
        for p in e.params {
            let kind = match p.kind {
                ParamKind::Float { default: Some(d) } => format!("= {d}"),
                ParamKind::Float { default: None } => "(required)".into(),
                ParamKind::Flag { default } => format!("= {default}"),
                ParamKind::Choice { options, default } => format!("= \"{default}\" of {options:?}"),
            };
            let _ = writeln!(out, "    {} {kind}: {}", p.name, p.doc);
        }
    }
    let _ = writeln!(out, "\nEvery number (lr included) is a constant or a schedule table, e.g. p = {{ kind = \"cosine\", min = -0.5, max = 0.5, period = 100 }}.\nYour own optimizer: implement bandwise::optim::OptimizerDef and register it (examples/lion.rs).");
    out
}
