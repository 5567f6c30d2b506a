//! The command-line interface: argument parsing and dispatch to the library. `main.rs` only
//! calls [`main_with`]; a program that registers its own optimizers calls it with its
//! registry (see examples/).

/// `print!` to stdout that returns a broken pipe as an error (a normal exit, see
/// [`main_with`]) instead of panicking; for use in functions returning `anyhow::Result`.
macro_rules! out {
    ($($t:tt)*) => {
        $crate::cli::write_stdout(format_args!($($t)*))?
    };
}

/// `println!` counterpart of [`out!`].
macro_rules! outln {
    ($($t:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($t)*)))?
    };
}

mod analyze;
mod bench;
mod figures;
mod images;
mod kernel;
mod plot;
mod progress;
mod protocol;
mod report;
mod run;
mod slurm;
pub mod spectrum;
mod status;
mod sweep;

use crate::optim::Registry;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// bandwise measures how an optimizer spreads learning across frequencies: small networks fit
/// synthetic targets with known frequency content, an FFT splits the residual into frequency
/// bands every epoch, and reports and figures show which bands converge when.
#[derive(Parser)]
#[command(name = "bandwise", version, about, long_about = None, after_help = "Start with `bandwise run analyses/examples/padam_cosine.toml`, then `bandwise plot runs/padam_cosine`.\nGuide: README.md; every config field: docs/config.md; every command and flag: docs/cli.md.")]
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
    /// Done, running, failed and missing runs of a sweep directory (works while jobs run).
    Status(status::StatusArgs),
    /// Write (and with --submit, submit) Slurm job arrays for a sweep spec or an analysis.
    Slurm(slurm::SlurmArgs),
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
    /// The preconditioned neural tangent kernel at a run's checkpoints: band structure and
    /// predicted against measured band order (writes RUN_DIR/kernel.json).
    Kernel(kernel::KernelArgs),
}

/// The clap definition of the whole command line (the docs test checks every documented
/// command line against it).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
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
        Command::Status(args) => status::run(args),
        Command::Slurm(args) => slurm::run(args, &registry),
        Command::Protocol(args) => protocol::run(args, &registry),
        Command::Target(args) => analyze::target(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Plot(args) => plot::run(args),
        Command::Kernel(args) => kernel::run(args),
        Command::Optimizers => {
            write_stdout(format_args!("{}", optimizers_text(&registry))).map_err(Into::into)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`bandwise report ... | head -1`): a normal end, as in ripgrep.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Write to stdout (flushed), returning errors instead of panicking like `print!`.
pub fn write_stdout(args: std::fmt::Arguments) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)?;
    out.flush()
}

/// Whether `e` is (caused by) a broken pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The text of `bandwise optimizers`.
pub fn optimizers_text(registry: &Registry) -> String {
    use crate::optim::ParamKind;
    use std::fmt::Write;
    let mut out = String::new();
    for e in registry.entries() {
        let _ = writeln!(out, "{}: {}", e.name, e.about);
        for p in std::iter::once(&crate::optim::LR).chain(e.params) {
            let kind = match p.kind {
                ParamKind::Float {
                    default: Some(d),
                    range,
                } => format!("= {}, {range}", crate::optim::short_number(d)),
                ParamKind::Float {
                    default: None,
                    range,
                } => format!("(required, {range})"),
                ParamKind::Flag { default } => format!("= {default}"),
                ParamKind::Choice { options, default } => format!("= \"{default}\" of {options:?}"),
            };
            let _ = writeln!(out, "    {} {kind}: {}", p.name, p.doc);
        }
    }
    let _ = writeln!(out, "\nEvery number (lr included) is a constant or a schedule table, e.g. p = {{ kind = \"cosine\", min = -0.5, max = 0.5, period = 100 }}.\nYour own optimizer: implement bandwise::optim::OptimizerDef and register it (examples/lion.rs).");
    out
}
