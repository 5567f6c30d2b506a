//! `bandwise slurm`: write (and with --submit, submit) Slurm job arrays for a sweep spec or a
//! built-in analysis; `bandwise figures --slurm` does the same for the figure set. The
//! scripts are described in [`crate::app::slurm`].

use crate::app::slurm::{absolute, scripts, submit, write, SlurmOptions, Work};
use crate::app::sweep::SweepSpec;
use crate::optim::Registry;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

/// sbatch resources and submission, shared by `slurm` and `figures --slurm`.
#[derive(Args, Debug, Clone)]
pub struct SlurmResources {
    /// Array tasks per stage (each runs one shard of the runs).
    #[arg(long, default_value_t = 4)]
    shards: usize,
    /// Slurm partition (sbatch --partition).
    #[arg(long)]
    partition: Option<String>,
    /// Time limit per task (sbatch --time), e.g. 1:00:00.
    #[arg(long)]
    time: Option<String>,
    /// CPUs per array task; each task trains this many runs in parallel.
    #[arg(long, default_value_t = 1)]
    cpus_per_task: usize,
    /// Memory per task (sbatch --mem), e.g. 2G.
    #[arg(long)]
    mem: Option<String>,
    /// Extra sbatch option for every script, e.g. --sbatch-arg=--account=abc (repeatable).
    #[arg(long = "sbatch-arg", value_name = "OPTION", allow_hyphen_values = true)]
    sbatch_args: Vec<String>,
    /// Submit the stages with sbatch (in order, with dependencies) and print their job ids.
    #[arg(long)]
    submit: bool,
}

impl SlurmResources {
    fn options(&self) -> SlurmOptions {
        SlurmOptions {
            shards: self.shards,
            partition: self.partition.clone(),
            time: self.time.clone(),
            cpus_per_task: self.cpus_per_task,
            mem: self.mem.clone(),
            sbatch_args: self.sbatch_args.clone(),
        }
    }
}

#[derive(Args)]
pub struct SlurmArgs {
    /// A sweep spec (TOML file), or the name of a built-in analysis (see `bandwise figures --list`).
    target: String,
    /// Sweep directory for a spec [default: runs/<spec name>]; figure directory for an
    /// analysis [default: figures; its runs go to runs/figures].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    resources: SlurmResources,
}

fn str_of(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn binary() -> Result<PathBuf> {
    std::env::current_exe().context("cannot find the path of the running bandwise binary")
}

pub fn run(args: SlurmArgs, registry: &Registry) -> Result<()> {
    let path = Path::new(&args.target);
    if !path.exists() {
        if crate::app::figures::names().contains(&args.target.as_str()) {
            let out = args.out.unwrap_or_else(|| PathBuf::from("figures"));
            return figures(
                &out,
                Path::new("runs/figures"),
                false,
                std::slice::from_ref(&args.target),
                &args.resources,
            );
        }
        bail!(
            "{}: no such sweep spec file, and not a built-in analysis ({})",
            args.target,
            crate::app::figures::names().join(", ")
        );
    }
    let spec = SweepSpec::load(path)?;
    spec.expand(registry)?;
    let out = absolute(
        &args
            .out
            .unwrap_or_else(|| PathBuf::from("runs").join(&spec.name)),
    )?;
    let spec_path = str_of(&absolute(path)?);
    let o = str_of(&out);
    let runs = str_of(&out.join("runs"));
    let work = Work {
        name: spec.name.clone(),
        title: format!("bandwise sweep `{}` ({spec_path}) into {o}", spec.name),
        binary: binary()?,
        workdir: std::env::current_dir().context("cannot read the current directory")?,
        stage_args: vec!["sweep".into(), spec_path.clone(), "--out".into(), o.clone()],
        search: spec.lr_search.is_some(),
        merge: vec![
            vec![
                "sweep".into(),
                spec_path,
                "--out".into(),
                o.clone(),
                "--stage".into(),
                "merge".into(),
            ],
            vec![
                "report".into(),
                runs.clone(),
                "--out".into(),
                str_of(&out.join("report.md")),
            ],
            vec![
                "plot".into(),
                runs,
                "--kind".into(),
                "panel".into(),
                "--out".into(),
                str_of(&out.join("figures/panel.png")),
            ],
        ],
    };
    emit(&work, &args.resources, &out.join("slurm"), &out)
}

/// `bandwise figures --slurm`: the same for the built-in analyses.
pub fn figures(
    out: &Path,
    runs: &Path,
    quick: bool,
    only: &[String],
    resources: &SlurmResources,
) -> Result<()> {
    let out = absolute(out)?;
    let runs = absolute(runs)?;
    let mut args = vec![
        "figures".to_string(),
        "--out".into(),
        str_of(&out),
        "--runs".into(),
        str_of(&runs),
    ];
    if quick {
        args.push("--quick".into());
    }
    if !only.is_empty() {
        args.push("--only".into());
        args.extend(only.iter().cloned());
    }
    let name = if only.is_empty() {
        "figures".to_string()
    } else {
        only.join("+")
    };
    let mut merge = args.clone();
    merge.extend(["--stage".to_string(), "merge".to_string()]);
    let work = Work {
        title: format!("bandwise figures ({name}) into {}", out.display()),
        name: name.clone(),
        binary: binary()?,
        workdir: std::env::current_dir().context("cannot read the current directory")?,
        stage_args: args,
        search: crate::app::figures::any_lr_search(quick, only)?,
        merge: vec![merge],
    };
    emit(&work, resources, &runs.join("slurm").join(&name), &runs)
}

/// Write the scripts into `dir`; submit them with --submit. `watch` is the directory to pass
/// to `bandwise status`.
fn emit(work: &Work, resources: &SlurmResources, dir: &Path, watch: &Path) -> Result<()> {
    let opts = resources.options();
    let logs = dir.join("logs");
    let made = scripts(work, &opts, &logs)?;
    let submit_sh = write(dir, &logs, &made)?;
    let files: Vec<&str> = made.iter().map(|s| s.file).collect();
    eprintln!(
        "wrote {} in {} ({} shards x {} cpus per stage; logs in {})",
        files.join(", "),
        dir.display(),
        opts.shards,
        opts.cpus_per_task,
        logs.display()
    );
    let watch = crate::app::slurm::quote(&watch.to_string_lossy());
    if !resources.submit {
        eprintln!(
            "submit with: bash {}   (or add --submit)\nwatch with:  bandwise status {watch}",
            crate::app::slurm::quote(&submit_sh.to_string_lossy())
        );
        return Ok(());
    }
    for (stage, id) in submit(&submit_sh)? {
        println!("{stage} {id}");
    }
    eprintln!("submitted; watch with: bandwise status {watch}");
    Ok(())
}
