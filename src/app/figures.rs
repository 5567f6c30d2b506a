//! `bandwise figures`: the main job. Runs every built-in analysis (the TOML files in
//! analyses/, compiled into the binary), reusing finished runs, then renders each analysis's
//! figures and report and writes `index.md`: figure -> analysis -> claim -> finding.
//!
//! An analysis file is a sweep spec (see [`crate::app::sweep`]) plus an `[analysis]` table:
//! `title`, `claims` (report claims to judge: "c2", "c3", "c6"), `lr_protocol` (why the
//! learning rates are chosen this way; the protocol actually run is stated in the index and
//! each report from the spec itself, see [`protocol_text`]), `figures` (panel, loss, curves, heatmap,
//! snapshots, images for 2D runs, and the verdict quantities: index_vs_p, coverage, c6_loss,
//! c6_time, p_lr_map, and kernel_order for the kernel theory overlay; see docs/figures.md), optional `measure` and `clip` for heatmaps, optional `anchor_measure` and
//! `anchor_threshold` for the anchors' one-line finding, and `[analysis.quick]` (`seeds`, and
//! `set` = spec paths to override) for the reduced `--quick` version.

use crate::analysis::multiple::{holm, HOLM_ALPHA, HOLM_METHOD};
use crate::analysis::seed_mean::mean_run;
use crate::analysis::{self, Claim, Outcome, ReportOptions};
use crate::app::sweep::exec::check_numerics;
use crate::app::sweep::{run_sweep, Progress, Shard, Stage, SweepIndex, SweepOptions, SweepSpec};
use crate::base::stats::spearman;
use crate::base::toml_path::set_path;
use crate::optim::Registry;
use crate::plot::from_record::{Clip, Measure};
use crate::plot::runs::{draw, draw_report, Kind, PlotOptions};
use crate::record::load::RunData;
use crate::record::write_atomic;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

mod anchor_accuracy;
mod classification;
mod kernel_order;

/// One built-in analysis: its file name under analyses/ and its text.
pub struct Analysis {
    pub file: &'static str,
    pub text: &'static str,
}

macro_rules! analysis {
    ($file:literal) => {
        Analysis {
            file: $file,
            text: include_str!(concat!("../../analyses/", $file)),
        }
    };
}

/// The analyses `bandwise figures` runs, in order.
pub const BUILTIN: &[Analysis] = &[
    analysis!("anchor_rahaman.toml"),
    analysis!("anchor_fprinciple.toml"),
    analysis!("anchor_mnist1d.toml"),
    analysis!("c2_fixed_p.toml"),
    analysis!("c2_same_lr.toml"),
    analysis!("c2_rms.toml"),
    analysis!("c2_fixed_p_2d.toml"),
    analysis!("c2_family.toml"),
    analysis!("c3_cyclic_coverage.toml"),
    analysis!("c6_quarter_cost.toml"),
    analysis!("c3c6_family.toml"),
    analysis!("c2c3c6_2d.toml"),
    analysis!("p_lr_map.toml"),
    analysis!("c4c5_mnist1d.toml"),
    analysis!("c4c5_mnist1d_fair.toml"),
    analysis!("c4c5c6_2d.toml"),
    analysis!("theory_kernel.toml"),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalysisMeta {
    title: String,
    #[serde(default)]
    claims: Vec<String>,
    lr_protocol: String,
    figures: Vec<String>,
    #[serde(default)]
    measure: Option<String>,
    #[serde(default)]
    clip: Option<String>,
    #[serde(default)]
    anchor_measure: Option<String>,
    #[serde(default)]
    anchor_threshold: Option<f64>,
    #[serde(default)]
    quick: Option<QuickSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuickSpec {
    #[serde(default)]
    seeds: Option<u64>,
    #[serde(default)]
    set: toml::Table,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct FiguresOptions {
    /// Where figures, reports and index.md go.
    pub out: PathBuf,
    /// Where the analyses' sweeps are run (and reused).
    pub runs: PathBuf,
    pub jobs: usize,
    /// Reduced budgets and seeds (smoke test).
    pub quick: bool,
    /// Only these analyses (by name); empty = all.
    pub only: Vec<String>,
    /// Where progress goes (and whether the per-analysis lines go to stderr).
    pub progress: Progress,
    /// The shard of every analysis's runs to do (for clusters; see crate::app::slurm).
    pub shard: Shard,
    /// With `Stage::Search` or `Stage::Runs` only that part of each sweep is run and nothing
    /// is drawn; `Stage::Merge` trains nothing and draws only when every run is done.
    pub stage: Stage,
}

/// What one analysis produced.
#[derive(Debug, Clone)]
pub struct AnalysisOutcome {
    pub name: String,
    pub file: &'static str,
    pub title: String,
    pub claims: Vec<String>,
    pub lr_protocol: String,
    pub figures: Vec<PathBuf>,
    pub report: PathBuf,
    /// One-line findings (claim verdicts or the anchor's ordering).
    pub findings: Vec<String>,
    /// The shortest summary, for the index table.
    pub headline: String,
    pub n_runs: usize,
    pub n_diverged: usize,
    /// The claim verdicts of this analysis.
    pub verdicts: Vec<analysis::Verdict>,
}

impl AnalysisOutcome {
    /// The outcome of analysis `a` drawn into `out`, with no figures, findings or runs yet.
    fn of(a: &Analysis, meta: &AnalysisMeta, protocol: &str, out: &Path, report: PathBuf) -> Self {
        AnalysisOutcome {
            name: out
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            file: a.file,
            title: meta.title.clone(),
            claims: meta.claims.clone(),
            lr_protocol: protocol.to_string(),
            figures: Vec::new(),
            report,
            findings: Vec::new(),
            headline: String::new(),
            n_runs: 0,
            n_diverged: 0,
            verdicts: Vec::new(),
        }
    }
}

/// Parse an analysis into its `[analysis]` table and its sweep spec (quick overrides applied).
fn prepare(a: &Analysis, quick: bool) -> Result<(AnalysisMeta, SweepSpec)> {
    let origin = format!("analyses/{}", a.file);
    let mut table: toml::Table = toml::from_str(a.text)
        .map_err(|e| anyhow::anyhow!("{origin}: {}", e.to_string().trim_end()))?;
    let meta: AnalysisMeta = table
        .remove("analysis")
        .with_context(|| format!("{origin} has no [analysis] table"))?
        .try_into()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("{origin}: [analysis]: {}", e.message()))?;
    if quick {
        if let Some(q) = &meta.quick {
            if let Some(s) = q.seeds {
                table.insert("seeds".into(), toml::Value::Integer(s as i64));
            }
            for (path, value) in &q.set {
                set_path(&mut table, path, value.clone())
                    .with_context(|| format!("{origin}: [analysis.quick].set"))?;
            }
        }
    }
    let stem = a.file.trim_end_matches(".toml");
    let text = toml::to_string(&table)?;
    let spec = SweepSpec::from_toml_str(&text, &origin, stem, Path::new("analyses"))?;
    Ok((meta, spec))
}

/// The names of the built-in analyses.
pub fn names() -> Vec<&'static str> {
    BUILTIN
        .iter()
        .map(|a| a.file.trim_end_matches(".toml"))
        .collect()
}

/// The selected analyses (all for an empty `only`), parsed and checked.
fn prepare_selected(
    quick: bool,
    only: &[String],
) -> Result<Vec<(&'static Analysis, AnalysisMeta, SweepSpec)>> {
    for o in only {
        if !names().contains(&o.as_str()) {
            bail!(
                "--only {o}: no such analysis; built-in analyses: {}",
                names().join(", ")
            );
        }
    }
    BUILTIN
        .iter()
        .filter(|a| only.is_empty() || only.iter().any(|o| a.file.trim_end_matches(".toml") == o))
        .map(|a| prepare(a, quick).map(|(m, s)| (a, m, s)))
        .collect()
}

/// Whether any selected analysis has an lr search (it then needs a search stage on a cluster).
pub fn any_lr_search(quick: bool, only: &[String]) -> Result<bool> {
    Ok(prepare_selected(quick, only)?
        .iter()
        .any(|(_, _, s)| s.lr_search.is_some()))
}

/// Run every (selected) analysis and write figures, reports and index.md.
pub fn run_figures(registry: &Registry, opts: &FiguresOptions) -> Result<Vec<AnalysisOutcome>> {
    // Check every analysis before running any.
    let prepared = prepare_selected(opts.quick, &opts.only)?;
    // And every analysis's runs: all refusals of other numerics at once, before any training.
    let other_numerics: Vec<String> = prepared
        .iter()
        .filter_map(|(_, _, spec)| check_numerics(&opts.runs.join(&spec.name)).err())
        .map(|e| e.to_string())
        .collect();
    if !other_numerics.is_empty() {
        bail!(
            "{} of the analyses' run directories were trained with other numerics; remove {} (or \
             use another --runs) to retrain them:\n{}",
            other_numerics.len(),
            opts.runs.display(),
            other_numerics.join("\n")
        );
    }
    let mut outcomes = Vec::new();
    for (i, (a, meta, spec)) in prepared.iter().enumerate() {
        if opts.progress.is_on() {
            eprintln!(
                "[{}/{}] {}: {}",
                i + 1,
                prepared.len(),
                spec.name,
                meta.title
            );
        }
        let sweep_dir = opts.runs.join(&spec.name);
        let report = run_sweep(
            spec,
            registry,
            &sweep_dir,
            &SweepOptions {
                jobs: opts.jobs,
                progress: opts.progress.clone(),
                shard: opts.shard,
                stage: opts.stage,
            },
        )?;
        report
            .check()
            .with_context(|| format!("analysis {}", spec.name))?;
        if matches!(opts.stage, Stage::Search | Stage::Runs) {
            continue;
        }
        outcomes.push(render_analysis(
            a,
            meta,
            &format!(
                "{}. Learning rates: {}",
                protocol_text(spec, opts.quick),
                meta.lr_protocol
            ),
            &sweep_dir,
            &opts.out.join(&spec.name),
        )?);
    }
    if matches!(opts.stage, Stage::Search | Stage::Runs) {
        return Ok(outcomes);
    }
    write_index(&opts.out, &outcomes, opts.quick)?;
    Ok(outcomes)
}

fn parse_measure(s: Option<&str>) -> Result<Measure> {
    Ok(match s.unwrap_or("rel_error") {
        "rel_error" => Measure::RelError,
        "share" => Measure::Share,
        "fp_rel_error" => Measure::FpRelError,
        "fp_rel_error_mag" => Measure::FpRelErrorMag,
        "rahaman_amplitude" => Measure::RahamanAmplitude,
        other => bail!("[analysis].measure = \"{other}\" is not a measure (rel_error, share, fp_rel_error, fp_rel_error_mag, rahaman_amplitude)"),
    })
}

fn parse_clip(s: Option<&str>) -> Result<Option<Clip>> {
    Ok(match s {
        None => None,
        Some("none") => Some(Clip::None),
        Some("fprinciple") => Some(Clip::Fprinciple),
        Some("rahaman") => Some(Clip::Rahaman),
        Some(other) => {
            bail!("[analysis].clip = \"{other}\" is not a clip (none, fprinciple, rahaman)")
        }
    })
}

/// Runs of a sweep grouped by configuration id, in sweep order.
fn load_groups(sweep_dir: &Path) -> Result<Vec<(String, Vec<RunData>)>> {
    let index = SweepIndex::load(sweep_dir)?;
    let mut groups: Vec<(String, Vec<RunData>)> = Vec::new();
    for config in index.config_ids() {
        let mut runs = Vec::new();
        for r in index.runs_of(config) {
            runs.push(
                RunData::load(&r.dir)
                    .with_context(|| format!("cannot load {}", r.dir.display()))?,
            );
        }
        groups.push((config.to_string(), runs));
    }
    Ok(groups)
}

/// The protocol a sweep actually runs, from its spec (quick overrides applied): seeds, budget,
/// and the lr search with its seeds and budget. Quick mode calls itself a smoke test.
pub fn protocol_text(spec: &SweepSpec, quick: bool) -> String {
    let epochs = spec
        .base
        .get("train")
        .and_then(|t| t.get("epochs"))
        .and_then(toml::Value::as_integer)
        .unwrap_or(0);
    let seeds = spec.seeds.clone().unwrap_or_default();
    let fmt_seeds = |s: &[u64]| s.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let mut text = if quick {
        "SMOKE TEST (quick mode: reduced budgets and seeds, not evidence). ".to_string()
    } else {
        String::new()
    };
    let _ = write!(
        text,
        "{} evaluation seeds ({}) of {epochs} epochs per configuration",
        seeds.len(),
        fmt_seeds(&seeds)
    );
    match &spec.lr_search {
        Some(l) => {
            let disjoint = !l.seeds.iter().any(|x| seeds.contains(x));
            let _ = write!(
                text,
                "; lr per configuration from a grid search over {} (extended by the grid's ratio while the choice sits at an edge, see lr_search.json), lowest median {} over seeds {} ({}), {} epochs per search run ({:.0}% of the evaluation budget; the choice is checked for stability at half that budget)",
                l.grid
                    .iter()
                    .map(|x| format!("{x:e}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                l.criterion.as_str().replace('_', " "),
                fmt_seeds(&l.seeds),
                if disjoint {
                    "disjoint from the evaluation seeds"
                } else {
                    "OVERLAPPING the evaluation seeds"
                },
                l.epochs,
                100.0 * l.epochs as f64 / (epochs.max(1) as f64)
            );
        }
        None => text.push_str("; learning rates as configured (no lr search)"),
    }
    text
}

/// Claims that only classification analyses judge (see [`classification`]); such an analysis
/// judges C6 on accuracy as well.
const CLASSIFICATION_CLAIMS: [&str; 2] = ["c4", "c5"];

fn render_analysis(
    a: &Analysis,
    meta: &AnalysisMeta,
    protocol: &str,
    sweep_dir: &Path,
    out: &Path,
) -> Result<AnalysisOutcome> {
    if meta.anchor_measure.as_deref() == Some("test_accuracy") {
        return anchor_accuracy::render(a, meta, protocol, sweep_dir, out);
    }
    if meta
        .claims
        .iter()
        .any(|c| CLASSIFICATION_CLAIMS.contains(&c.as_str()))
    {
        return classification::render(a, meta, protocol, sweep_dir, out);
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let groups = load_groups(sweep_dir)?;
    let measure = parse_measure(meta.measure.as_deref())?;
    let opts = PlotOptions {
        measure,
        clip: parse_clip(meta.clip.as_deref())?,
        ..Default::default()
    };
    let completed = |runs: &[RunData]| -> Vec<RunData> {
        runs.iter()
            .filter(|r| r.status() == "completed")
            .cloned()
            .collect()
    };
    let means: Vec<(String, RunData)> = groups
        .iter()
        .filter_map(|(id, runs)| {
            let done = completed(runs);
            let refs: Vec<&RunData> = done.iter().collect();
            mean_run(&refs).map(|m| (id.clone(), m))
        })
        .collect();
    let all_completed: Vec<RunData> = groups.iter().flat_map(|(_, r)| completed(r)).collect();
    let n_runs: usize = groups.iter().map(|(_, r)| r.len()).sum();
    let n_diverged = n_runs - all_completed.len();
    // The report over all runs (diverged ones are excluded and counted by the report).
    let all: Vec<RunData> = groups.iter().flat_map(|(_, r)| r.iter().cloned()).collect();
    let claims: Vec<Claim> = meta
        .claims
        .iter()
        .map(|c| Claim::parse(c))
        .collect::<Result<_>>()?;
    let build_report = || -> Result<analysis::Report> {
        let mut rep = analysis::report_from_runs(&all, &ReportOptions::default(), &claims)?;
        if claims.is_empty() {
            // Anchors and the theory overlay judge no claim.
            rep.verdicts.clear();
        }
        Ok(rep)
    };
    let mut rep = build_report()?;
    let mut figures = Vec::new();
    let mut theory = None;
    let safe = |id: &str| id.replace(['=', '/'], "_");
    for fig in &meta.figures {
        match fig.as_str() {
            "panel" if !means.is_empty() => {
                // Averages the completed seeds per configuration, counts the diverged ones.
                let path = out.join("panel.png");
                draw(Kind::Panel, &all, &path, &opts)?;
                figures.push(path);
            }
            verdict if Kind::from_stem(verdict).is_some_and(Kind::is_verdict) => {
                let kind = Kind::from_stem(verdict).expect("checked by the guard");
                let path = out.join(format!("{verdict}.png"));
                figures.extend(draw_report(kind, &rep, &path).with_context(|| {
                    format!("analyses/{}: [analysis].figures `{verdict}`", a.file)
                })?);
            }
            "loss" if !all_completed.is_empty() => {
                let path = out.join("loss.png");
                draw(Kind::Loss, &all_completed, &path, &opts)?;
                figures.push(path);
            }
            "curves" | "heatmap" => {
                let kind = if fig == "curves" { Kind::Curves } else { Kind::Heatmap };
                for (id, m) in &means {
                    let path = out.join(format!("{fig}_{}.png", safe(id)));
                    draw(kind, std::slice::from_ref(m), &path, &opts)?;
                    figures.push(path);
                }
            }
            "snapshots" => {
                for (id, runs) in &groups {
                    if let Some(first) = runs.iter().find(|r| r.status() == "completed" && r.snapshots.first().is_some_and(|s| s.dims.len() == 1)) {
                        let path = out.join(format!("snapshots_{}.png", safe(id)));
                        draw(Kind::Snapshots, std::slice::from_ref(first), &path, &opts)?;
                        figures.push(path);
                    }
                }
            }
            "images" => {
                for (id, runs) in &groups {
                    if let Some(first) = runs.iter().find(|r| r.status() == "completed") {
                        let path = out.join(format!("images_{}.png", safe(id)));
                        crate::plot::images::images_for_run(&first.dir, &path, 4)?;
                        figures.push(path);
                    }
                }
            }
            "kernel_order" => {
                let k = kernel_order::render(&groups, out)
                    .with_context(|| format!("analyses/{}: kernel_order", a.file))?;
                figures.extend(k.figures.iter().cloned());
                theory = Some(k);
            }
            "panel" | "loss" => {}
            other => bail!("analyses/{}: [analysis].figures lists `{other}`; use panel, loss, curves, heatmap, snapshots, images, index_vs_p, coverage, c6_loss, c6_time, p_lr_map or kernel_order", a.file),
        }
    }
    if theory.is_some() {
        // The overlay wrote kernel.json into every analysed run: the report now has the
        // kernel's predicted epochs beside the measured ones.
        rep = build_report()?;
    }
    let report_path = out.join("report.md");
    let mut md = format!(
        "# {}\n\nAnalysis: `analyses/{}`. Protocol run: {}.\n\n",
        meta.title, a.file, protocol
    );
    md += &analysis::render::render(&rep, analysis::Format::Markdown);
    write_atomic(&report_path, md.as_bytes())?;
    write_atomic(
        &out.join("report.json"),
        analysis::render::render(&rep, analysis::Format::Json).as_bytes(),
    )?;
    let mut findings: Vec<String> = rep
        .verdicts
        .iter()
        .map(|v| {
            let evidence = v
                .evidence
                .first()
                .map(|e| format!("; {e}"))
                .unwrap_or_default();
            format!(
                "{} {}: **{}** ({}{evidence})",
                v.claim.to_uppercase(),
                v.subject,
                v.outcome.as_str(),
                v.measured
            )
        })
        .collect();
    let mut headline = headline_of(&rep.verdicts);
    if let (Some(m), Some(thr)) = (&meta.anchor_measure, meta.anchor_threshold) {
        if let Some((_, mean)) = means.first() {
            let (line, short) = anchor_finding(mean, m, thr)?;
            findings.push(line);
            headline = short;
        }
    }
    if let Some(k) = theory {
        findings.extend(k.findings);
        if meta.claims.is_empty() {
            headline = k.headline;
        }
    }
    if findings.is_empty() {
        findings.push("no claim judged by this analysis".into());
    }
    let ranked: Vec<String> = rep
        .configs
        .iter()
        .map(|c| format!("{} {:+.2}", c.label, c.index.mean))
        .collect();
    if !ranked.is_empty() && !meta.claims.is_empty() {
        findings.push(format!(
            "preference index (mean over seeds, + = low frequencies first): {}",
            ranked.join("; ")
        ));
    }
    Ok(AnalysisOutcome {
        figures,
        findings,
        headline,
        n_runs,
        n_diverged,
        verdicts: rep.verdicts.clone(),
        ..AnalysisOutcome::of(a, meta, protocol, out, report_path)
    })
}

/// "C2: inconclusive" or "C3: 1 supported, 3 inconclusive": the verdicts counted by claim.
fn headline_of(verdicts: &[analysis::Verdict]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut claims: Vec<&str> = verdicts.iter().map(|v| v.claim).collect();
    claims.dedup();
    for c in claims {
        let of: Vec<Outcome> = verdicts
            .iter()
            .filter(|v| v.claim == c)
            .map(|v| v.outcome)
            .collect();
        let counts: Vec<String> = [
            Outcome::Supported,
            Outcome::NotSupported,
            Outcome::Inconclusive,
            Outcome::WindowSensitive,
            Outcome::InvalidSetting,
            Outcome::NotEvaluated,
        ]
        .iter()
        .filter_map(|o| {
            let n = of.iter().filter(|x| *x == o).count();
            (n > 0).then(|| {
                if of.len() == 1 {
                    o.as_str().to_string()
                } else {
                    format!("{n} {}", o.as_str())
                }
            })
        })
        .collect();
        parts.push(format!("{}: {}", c.to_uppercase(), counts.join(", ")));
    }
    if parts.is_empty() {
        "no verdict".into()
    } else {
        parts.join("; ")
    }
}

/// The anchor's finding (a full line and a headline): at which epoch each target frequency's
/// measure first crosses `threshold` (>= for amplitudes, < for errors), and whether low
/// frequencies come first.
fn anchor_finding(run: &RunData, measure: &str, threshold: f64) -> Result<(String, String)> {
    let peaks = run
        .grid_peaks("train")
        .context("anchor run has no peaks.csv on the training grid")?;
    let (rows, rising) = match measure {
        "rahaman_amplitude" => (&peaks.rahaman_amplitude, true),
        "fp_rel_error" => (&peaks.fp_rel_error, false),
        "fp_rel_error_mag" => (&peaks.fp_rel_error_mag, false),
        other => bail!("[analysis].anchor_measure = \"{other}\" must be a per-frequency measure"),
    };
    let times: Vec<Option<u64>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .position(|&v| {
                    if rising {
                        v >= threshold
                    } else {
                        v < threshold
                    }
                })
                .map(|i| peaks.epochs[i])
        })
        .collect();
    let shown: Vec<String> = peaks
        .k
        .iter()
        .zip(&times)
        .map(|(k, t)| {
            let k: Vec<String> = k.iter().map(|x| x.to_string()).collect();
            let t = t.map_or("never".into(), |e| e.to_string());
            format!("k={}: {t}", k.join(","))
        })
        .collect();
    let (ks, reached): (Vec<f64>, Vec<f64>) = peaks
        .k
        .iter()
        .zip(&times)
        // |k| orders the peaks (k itself in 1D: the square root of a square is exact).
        .filter_map(|(k, t)| {
            let r = k.iter().map(|&x| (x * x) as f64).sum::<f64>().sqrt();
            t.map(|e| (r, e as f64))
        })
        .unzip();
    let (verdict, short) = if reached.len() >= 3 {
        let rho = spearman(&ks, &reached);
        let order = if rho > 0.5 {
            "low frequencies first, as published"
        } else if rho < -0.5 {
            "high frequencies first, unlike the published result"
        } else {
            "no clear order"
        };
        (
            format!(
                "Spearman(k, epoch) = {rho:+.2} over the {} frequencies that cross: {order}",
                reached.len()
            ),
            format!(
                "{order} (Spearman {rho:+.2}, {}/{} frequencies cross)",
                reached.len(),
                times.len()
            ),
        )
    } else {
        let v = format!(
            "only {} of {} frequencies cross within the budget: too few to rank",
            reached.len(),
            times.len()
        );
        (v.clone(), v)
    };
    let op = if rising { ">=" } else { "<" };
    Ok((
        format!(
            "first epoch with {measure} {op} {threshold} (mean over seeds): {}; {verdict}",
            shown.join(", ")
        ),
        short,
    ))
}

/// Is `path` a figure of a verdict quantity (its stem starts with a verdict kind's stem)?
fn is_verdict_figure(path: &Path) -> bool {
    let stem = path
        .file_stem()
        .map_or(String::new(), |s| s.to_string_lossy().into_owned());
    [
        Kind::IndexVsP,
        Kind::Coverage,
        Kind::C6Loss,
        Kind::C6Time,
        Kind::PLrMap,
    ]
    .iter()
    .any(|k| stem.starts_with(k.stem()))
}

fn write_index(out: &Path, outcomes: &[AnalysisOutcome], quick: bool) -> Result<()> {
    let mut md = String::new();
    let _ = writeln!(md, "# bandwise figures\n");
    let _ = writeln!(
        md,
        "Regenerated by `bandwise figures{}` (bandwise {}) from the built-in analyses in `analyses/`.{} Each figure is drawn from the run records on disk; `report.md` beside each analysis's figures holds its full per-band tables, the frequency-preference index and the claim verdicts with the rule that produced them.\n",
        if quick { " --quick" } else { "" },
        env!("CARGO_PKG_VERSION"),
        if quick { " **Quick mode: reduced budgets and seeds, a smoke test, not evidence.**" } else { "" }
    );
    let _ = writeln!(
        md,
        "| figures | analysis | claim | finding |\n|---|---|---|---|"
    );
    for o in outcomes {
        let claim = if o.file.starts_with("theory_") {
            "theory (does the kernel predict the measured order?)".to_string()
        } else if o.claims.is_empty() {
            "anchor (reproduces a known result)".to_string()
        } else {
            o.claims.join(", ").to_uppercase()
        };
        let links: Vec<String> = o
            .figures
            .iter()
            .chain(std::iter::once(&o.report))
            .map(|f| {
                let rel = f.strip_prefix(out).unwrap_or(f).display().to_string();
                let label = f
                    .file_stem()
                    .map_or(String::new(), |s| s.to_string_lossy().into_owned());
                format!("[{label}]({rel})")
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | `analyses/{}` | {claim} | {} |",
            links.join(" "),
            o.file,
            o.headline.replace('|', "/")
        );
    }
    let _ = writeln!(md, "\n## Findings by analysis\n");
    for o in outcomes {
        let rel = o
            .report
            .strip_prefix(out)
            .unwrap_or(&o.report)
            .display()
            .to_string();
        let _ = writeln!(md, "### {}\n\n`analyses/{}`, {} runs ({} diverged; a diverged seed counts in n as a failure). Protocol run: {}. Full report: [{rel}]({rel}).\n", o.title, o.file, o.n_runs, o.n_diverged, o.lr_protocol);
        let verdict_figs: Vec<String> = o
            .figures
            .iter()
            .filter(|f| is_verdict_figure(f))
            .map(|f| {
                let rel = f.strip_prefix(out).unwrap_or(f).display().to_string();
                format!(
                    "[{}]({rel})",
                    f.file_stem()
                        .map_or(String::new(), |s| s.to_string_lossy().into_owned())
                )
            })
            .collect();
        if !verdict_figs.is_empty() {
            let _ = writeln!(
                md,
                "- figures of the quantity the verdict is decided on: {}",
                verdict_figs.join(" ")
            );
        }
        for f in &o.findings {
            let _ = writeln!(md, "- {f}");
        }
        md.push('\n');
    }
    md.push_str(&claims_table(outcomes));
    let _ = writeln!(md, "## Not tested here\n\n- C4 (early decision-boundary alignment) and C5 are judged on MNIST-1D only (analysis `c4c5_mnist1d`), at the identical learning-rate strategy; there is no fair-lr variant and no 2D classification task yet. The regression C6 analysis compares test loss (MSE); `c4c5_mnist1d` judges C6 on accuracy.\n- The TinyImageNet numbers (59.1% -> 62.9%) concern ResNet-18; they are outside this toolkit's scope.\n- Verdicts follow the rules written in each report; overlapping intervals are reported as inconclusive.");
    write_atomic(&out.join("index.md"), md.as_bytes())
}

/// The rule that combines one claim's verdicts over tasks (analyses and tasks within them).
pub const OVERALL_RULE: &str = "Verdicts resting on a configuration that failed a validity guard (`invalid setting`) or not evaluated are not evidence and are left out. Over the remaining verdicts: `supported on all tasks` if every one is supported; `not supported on any task` if none is supported and at least one is not supported; `inconclusive on all tasks` if all are inconclusive; `mixed` otherwise; `no valid setting` if none remains. Multiple comparisons: for each claim, Holm-Bonferroni across its task verdicts (method below); a supported or not-supported task verdict that is not significant after Holm counts as inconclusive here.";

/// The overall verdict of one claim from its per-task outcomes (see [`OVERALL_RULE`]).
pub fn overall(outcomes: &[Outcome]) -> &'static str {
    let valid: Vec<Outcome> = outcomes
        .iter()
        .copied()
        .filter(|o| !matches!(o, Outcome::InvalidSetting | Outcome::NotEvaluated))
        .collect();
    if valid.is_empty() {
        "no valid setting"
    } else if valid.iter().all(|o| *o == Outcome::Supported) {
        "supported on all tasks"
    } else if !valid.contains(&Outcome::Supported) && valid.contains(&Outcome::NotSupported) {
        "not supported on any task"
    } else if !valid.contains(&Outcome::Supported) && !valid.contains(&Outcome::NotSupported) {
        "inconclusive on all tasks"
    } else {
        "mixed"
    }
}

/// A task's outcome as the overall verdict counts it: with Holm applied, a supported or
/// not-supported verdict whose adjusted p-value is above alpha (or undefined) is inconclusive.
pub fn after_holm(outcome: Outcome, corrected: bool, adjusted_p: f64) -> Outcome {
    match outcome {
        Outcome::Supported | Outcome::NotSupported if corrected && !(adjusted_p <= HOLM_ALPHA) => {
            Outcome::Inconclusive
        }
        o => o,
    }
}

/// Every claim a verdict can name: the regression ones and the classification ones (C4, C5;
/// C6 is judged on both).
const ALL_CLAIMS: [&str; 5] = ["C2", "C3", "C4", "C5", "C6"];

/// Per claim: one row per verdict (analysis x task or configuration) with the guards applied,
/// and the overall verdict with its rule.
fn claims_table(outcomes: &[AnalysisOutcome]) -> String {
    let mut md = String::from(
        "## Claims across tasks

",
    );
    let _ = writeln!(
        md,
        "Overall rule: {OVERALL_RULE}
"
    );
    let _ = writeln!(
        md,
        "Validity guards (every report states them with its numbers): {}
",
        analysis::guards::describe(&analysis::guards::Guards::default())
    );
    for claim in ALL_CLAIMS {
        let rows: Vec<(&AnalysisOutcome, &analysis::Verdict)> = outcomes
            .iter()
            .flat_map(|o| o.verdicts.iter().map(move |v| (o, v)))
            .filter(|(_, v)| v.claim == claim)
            .collect();
        let Some((_, first)) = rows.first() else {
            continue;
        };
        let _ = writeln!(md, "### {claim}: {}\n", first.statement);
        // Holm across this claim's task verdicts with a valid verdict (see analysis::multiple).
        let raw = verdict_p_values(&rows.iter().map(|(_, v)| *v).collect::<Vec<_>>());
        let adjusted = holm(&raw);
        let _ = writeln!(
            md,
            "| analysis | subject | verdict | p | Holm p | counted as | guards |\n|---|---|---|---|---|---|---|"
        );
        let fmt_p = |p: f64| {
            if p.is_nan() {
                "-".to_string()
            } else {
                format!("{p:.2e}")
            }
        };
        for (i, (o, v)) in rows.iter().enumerate() {
            let failures = v.data["guard_failures"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            let guards = if failures.is_empty() {
                "all passed".to_string()
            } else {
                format!("failed: {failures}")
            };
            let _ = writeln!(
                md,
                "| `{}` | {} | **{}** | {} | {} | {} | {} |",
                o.file,
                v.subject.replace('|', "/"),
                v.outcome.as_str(),
                fmt_p(raw[i]),
                fmt_p(adjusted[i]),
                after_holm(v.outcome, true, adjusted[i]).as_str(),
                guards.replace('|', "/")
            );
        }
        let all: Vec<Outcome> = rows
            .iter()
            .zip(&adjusted)
            .map(|((_, v), adj)| after_holm(v.outcome, true, *adj))
            .collect();
        let _ = writeln!(md, "\nOverall: **{}**.\n", overall(&all));
    }
    let _ = writeln!(md, "Multiple comparisons: {HOLM_METHOD}\n");
    md.push_str(&claim_by_task_table(outcomes));
    md
}

/// The p-value each verdict's Holm adjustment uses: `data.p_value` for a valid verdict, NaN
/// (not counted) for invalid settings, verdicts not evaluated and verdicts without a test.
pub fn verdict_p_values(verdicts: &[&analysis::Verdict]) -> Vec<f64> {
    verdicts
        .iter()
        .map(|v| {
            if matches!(v.outcome, Outcome::InvalidSetting | Outcome::NotEvaluated) {
                f64::NAN
            } else {
                v.data["p_value"].as_f64().unwrap_or(f64::NAN)
            }
        })
        .collect()
}

/// One row per task (analysis x task), one column per claim: the task's verdicts of that claim
/// as the overall verdict counts them (after Holm within the claim), `-` where the claim was
/// not tested on the task. Verdicts of one claim on one task (several cyclic schedules) are
/// joined with `/`.
fn claim_by_task_table(outcomes: &[AnalysisOutcome]) -> String {
    // Holm per claim over all its verdicts, as in the per-claim tables.
    let mut cells: Vec<(String, String, &'static str, Vec<&'static str>)> = Vec::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for claim in ALL_CLAIMS {
        let rows: Vec<(&AnalysisOutcome, &analysis::Verdict)> = outcomes
            .iter()
            .flat_map(|o| o.verdicts.iter().map(move |v| (o, v)))
            .filter(|(_, v)| v.claim == claim)
            .collect();
        let adjusted = holm(&verdict_p_values(
            &rows.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        ));
        for ((o, v), adj) in rows.iter().zip(&adjusted) {
            let task = v.data["task_description"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map_or_else(|| "single task".to_string(), str::to_string);
            let key = (o.file.to_string(), task);
            if !order.contains(&key) {
                order.push(key.clone());
            }
            let counted = after_holm(v.outcome, true, *adj).as_str();
            match cells
                .iter_mut()
                .find(|c| c.0 == key.0 && c.1 == key.1 && c.2 == claim)
            {
                Some(c) => c.3.push(counted),
                None => cells.push((key.0, key.1, claim, vec![counted])),
            }
        }
    }
    if order.is_empty() {
        return String::new();
    }
    let mut md = String::from("## Claim x task\n\nEach cell: the task's verdicts of that claim as the overall verdict counts them (after Holm within the claim; several cyclic schedules on one task are joined with `/`); `-` = not tested on that task.\n\n| analysis | task |");
    for claim in ALL_CLAIMS {
        let _ = write!(md, " {} |", claim);
    }
    md.push_str("\n|---|---|");
    for _ in ALL_CLAIMS {
        md.push_str("---|");
    }
    md.push('\n');
    for (file, task) in &order {
        let _ = write!(md, "| `{file}` | {} |", task.replace('|', "/"));
        for claim in ALL_CLAIMS {
            let cell = cells
                .iter()
                .find(|c| &c.0 == file && &c.1 == task && c.2 == claim)
                .map_or("-".to_string(), |c| c.3.join(" / "));
            let _ = write!(md, " {cell} |");
        }
        md.push('\n');
    }
    md.push('\n');
    md
}

/// Outcome counts for a summary line.
pub fn summary(outcomes: &[AnalysisOutcome]) -> String {
    let figs: usize = outcomes.iter().map(|o| o.figures.len()).sum();
    let runs: usize = outcomes.iter().map(|o| o.n_runs).sum();
    format!("{} analyses, {runs} runs, {figs} figures", outcomes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_analysis_parses_in_both_modes() {
        let registry = Registry::builtin();
        for a in BUILTIN {
            for quick in [false, true] {
                let (meta, spec) =
                    prepare(a, quick).unwrap_or_else(|e| panic!("{}: {e:#}", a.file));
                assert!(!meta.figures.is_empty(), "{}", a.file);
                let runs = spec
                    .expand(&registry)
                    .unwrap_or_else(|e| panic!("{}: {e:#}", a.file));
                assert!(!runs.is_empty());
                let classification = meta
                    .claims
                    .iter()
                    .any(|c| CLASSIFICATION_CLAIMS.contains(&c.as_str()));
                for c in meta.claims.iter().filter(|_| !classification) {
                    Claim::parse(c).unwrap();
                }
            }
        }
    }

    #[test]
    fn overall_rule() {
        use Outcome::*;
        assert_eq!(
            overall(&[Supported, Supported, InvalidSetting]),
            "supported on all tasks"
        );
        assert_eq!(
            overall(&[NotSupported, Inconclusive]),
            "not supported on any task"
        );
        assert_eq!(overall(&[Supported, NotSupported]), "mixed");
        assert_eq!(
            overall(&[WindowSensitive, Inconclusive]),
            "inconclusive on all tasks"
        );
        assert_eq!(overall(&[InvalidSetting, NotEvaluated]), "no valid setting");
    }

    #[test]
    fn holm_demotes_only_corrected_verdicts() {
        use Outcome::*;
        assert_eq!(after_holm(Supported, true, 0.01), Supported);
        assert_eq!(after_holm(Supported, true, 0.2), Inconclusive);
        assert_eq!(after_holm(NotSupported, true, f64::NAN), Inconclusive);
        assert_eq!(after_holm(Supported, false, f64::NAN), Supported);
        assert_eq!(after_holm(InvalidSetting, true, 0.2), InvalidSetting);
    }
}
