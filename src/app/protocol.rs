//! The standard frequency-preference protocol: one optimizer (any registered name, with
//! hyperparameter overrides) measured side by side with reference optimizers on a fixed task,
//! each at its own fair learning rate, and reported with the preference index relative to SGD.
//!
//! The protocol (the [`ProtocolSettings::standard`] values; `--quick` uses
//! [`ProtocolSettings::quick`]):
//!
//! - task: 1D target on N = 256 points, frequencies 1, 2, 4, 8, 16 cycles, equal amplitudes 1,
//!   random phases drawn from the run seed (so each seed is a different phase draw of the same
//!   spectrum); MLP 1 -> 64 -> 64 -> 1, tanh, full batch, f32, 1500 epochs, octave bands,
//!   spectral monitor every epoch on the training grid;
//! - seeds 0, 1, 2 (initialisation and phases);
//! - optimizers: the candidate, and the references `sgd` (momentum 0.9), `adam`, `padam` p = 0
//!   (SGD with EMA momentum) and `padam` p = -0.25 (a negative exponent; p = 0.5 would be Adam
//!   again, bit for bit);
//! - fair lr: every optimizer gets the lr of the grid 1e-4, 3e-4, ..., 1 with the lowest
//!   median final training loss over search seeds 1000, 1001 (disjoint from the evaluation
//!   seeds) after the full 1500 epochs (the sweep's
//!   `[lr_search]`, see [`crate::app::sweep::lr_search`]);
//! - report: [`crate::analysis`] over the main runs (comparison table, index with 95% interval,
//!   index minus SGD's with Welch's interval) and [`candidate_summary`]: the candidate against
//!   each reference, with Welch's interval of the index difference.
//!
//! On disk (`OUT`, default `runs/protocol_<name>`): one sweep directory per optimizer
//! (`OUT/<label>/`, resumable: rerunning the same command only trains what is missing),
//! `OUT/protocol.json` (the settings and the optimizer tables), `OUT/report.md` (opening with
//! [`ProtocolSettings::describe`]: the protocol as run; `--quick` says SMOKE TEST) and
//! `OUT/report.json`.

use crate::analysis::{report_from_runs, Report, ReportOptions};
use crate::app::sweep::spec::format_value;
use crate::app::sweep::{run_sweep, Progress, SweepIndex, SweepOptions, SweepSpec};
use crate::base::toml_path::parse_value;
use crate::optim::{OptimizerConfig, Registry};
use crate::record::load::RunData;
use crate::record::{is_run_dir, write_atomic};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::Path;

/// The fixed parts of the protocol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProtocolSettings {
    /// Training grid points.
    pub n: usize,
    /// Target frequencies (cycles), equal amplitudes, random phases.
    pub frequencies: Vec<usize>,
    /// Hidden widths of the tanh MLP.
    pub hidden: Vec<usize>,
    /// Epoch budget of the main runs (full batch: one step per epoch).
    pub epochs: u64,
    /// Seeds of the main runs.
    pub seeds: Vec<u64>,
    /// Learning rates of the fair-lr search.
    pub lr_grid: Vec<f64>,
    /// Seeds and budget of each search run.
    pub search_seeds: Vec<u64>,
    pub search_epochs: u64,
    /// A reduced protocol (`--quick`): reports call themselves smoke tests.
    pub smoke_test: bool,
}

impl ProtocolSettings {
    /// The standard protocol.
    pub fn standard() -> Self {
        ProtocolSettings {
            n: 256,
            frequencies: vec![1, 2, 4, 8, 16],
            hidden: vec![64, 64],
            epochs: 1500,
            seeds: vec![0, 1, 2],
            lr_grid: vec![1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0],
            search_seeds: vec![1000, 1001],
            search_epochs: 1500,
            smoke_test: false,
        }
    }

    /// The same task with a short budget (a smoke test: numbers are indicative only).
    pub fn quick() -> Self {
        ProtocolSettings {
            epochs: 300,
            seeds: vec![0, 1],
            lr_grid: vec![1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
            search_seeds: vec![1000, 1001],
            search_epochs: 300,
            smoke_test: true,
            ..Self::standard()
        }
    }

    /// The protocol as run, in one paragraph: task, seeds, budgets, the lr search with its seeds
    /// and budget, and "SMOKE TEST" for a reduced protocol.
    pub fn describe(&self) -> String {
        let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let disjoint = !self.search_seeds.iter().any(|s| self.seeds.contains(s));
        format!(
            "{}Protocol run: 1D target on N = {} points, frequencies {:?}, tanh MLP {:?}, full batch, f32; {} evaluation seeds ({}) of {} epochs per optimizer; lr per optimizer from the grid {} (lowest median final training loss, diverged = inf; an edge choice extends the grid, see lr_search.json) over search seeds {} ({} the evaluation seeds) at {} epochs per search run ({:.0}% of the evaluation budget).",
            if self.smoke_test {
                "SMOKE TEST (--quick: reduced budget, seeds and grid; numbers are indicative only, not evidence). "
            } else {
                ""
            },
            self.n,
            self.frequencies,
            self.hidden,
            self.seeds.len(),
            list(&self.seeds),
            self.epochs,
            self.lr_grid.iter().map(|x| format!("{x:e}")).collect::<Vec<_>>().join(", "),
            list(&self.search_seeds),
            if disjoint { "disjoint from" } else { "OVERLAPPING" },
            self.search_epochs,
            100.0 * self.search_epochs as f64 / self.epochs.max(1) as f64,
        )
    }
}

/// How to run the protocol.
#[derive(Debug, Clone)]
pub struct ProtocolOptions {
    pub settings: ProtocolSettings,
    /// Runs in parallel.
    pub jobs: usize,
    /// Where progress goes (and whether the protocol's own step lines go to stderr).
    pub progress: Progress,
}

impl Default for ProtocolOptions {
    fn default() -> Self {
        ProtocolOptions {
            settings: ProtocolSettings::standard(),
            jobs: 1,
            progress: Progress::OFF,
        }
    }
}

/// A placeholder lr: every run's lr is replaced by the fair-lr search's choice.
const LR_PLACEHOLDER: f64 = 1e-3;

/// The reference optimizers: (label, table without lr).
pub fn references() -> Vec<(&'static str, &'static str)> {
    vec![
        ("sgd_momentum0.9", "name = \"sgd\"\nmomentum = 0.9"),
        ("adam", "name = \"adam\""),
        ("padam_p0", "name = \"padam\"\np = 0.0"),
        ("padam_p-0.25", "name = \"padam\"\np = -0.25"),
    ]
}

/// One optimizer of the protocol.
#[derive(Debug, Clone)]
pub struct ProtocolEntry {
    /// Directory name under the output directory.
    pub label: String,
    /// The optimizer table without lr.
    pub table: toml::Table,
    pub candidate: bool,
    pub reference: bool,
}

/// The candidate's table from its name and overrides, validated by the registry.
fn candidate_table(
    registry: &Registry,
    name: &str,
    overrides: &[(String, String)],
) -> Result<toml::Table> {
    let mut table = toml::Table::new();
    table.insert("name".into(), toml::Value::String(name.to_string()));
    for (k, v) in overrides {
        match k.as_str() {
            "lr" => bail!("--set lr: the protocol chooses every optimizer's lr by its fair-lr search (grid 1e-4..1); drop --set lr"),
            "name" => bail!("--set name: give the optimizer with --optimizer NAME"),
            _ => {}
        }
        if table.contains_key(k) {
            bail!("--set {k} is given twice");
        }
        let value = parse_value(v).with_context(|| format!("--set {k}={v}"))?;
        table.insert(k.clone(), value);
    }
    resolve(registry, &table).context("the optimizer of the protocol (--optimizer, --set)")?;
    Ok(table)
}

fn resolve(registry: &Registry, table: &toml::Table) -> Result<serde_json::Value> {
    let mut settings = table.clone();
    let name = settings
        .remove("name")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    settings.insert("lr".into(), toml::Value::Float(LR_PLACEHOLDER));
    Ok(registry
        .resolve(&OptimizerConfig { name, settings })?
        .to_json())
}

/// The optimizers of a protocol run: the references, and the candidate unless it is one of
/// them (same resolved hyperparameters), in which case that reference is marked.
pub fn protocol_entries(
    registry: &Registry,
    name: &str,
    overrides: &[(String, String)],
) -> Result<Vec<ProtocolEntry>> {
    let cand = candidate_table(registry, name, overrides)?;
    let cand_json = resolve(registry, &cand)?;
    let mut entries = Vec::new();
    let mut found = false;
    for (label, text) in references() {
        let table: toml::Table = toml::from_str(text).expect("valid reference table");
        let is_cand = resolve(registry, &table)? == cand_json;
        found |= is_cand;
        entries.push(ProtocolEntry {
            label: label.to_string(),
            table,
            candidate: is_cand,
            reference: true,
        });
    }
    if !found {
        let mut label = name.to_string();
        for (k, v) in overrides {
            let value = parse_value(v)?;
            label.push_str(&format!("_{k}={}", format_value(&value)));
        }
        let mut label = format_value(&toml::Value::String(label));
        if entries.iter().any(|e| e.label == label) {
            label = format!("candidate_{label}");
        }
        entries.push(ProtocolEntry {
            label,
            table: cand,
            candidate: true,
            reference: false,
        });
    }
    Ok(entries)
}

/// The sweep spec of one optimizer of the protocol.
pub fn protocol_spec(settings: &ProtocolSettings, entry: &ProtocolEntry) -> Result<SweepSpec> {
    let s = settings;
    let mut opt = entry.table.clone();
    opt.insert("lr".into(), toml::Value::Float(LR_PLACEHOLDER));
    let ints = |v: &[usize]| toml::Value::Array(v.iter().map(|&x| (x as i64).into()).collect());
    let seeds = |v: &[u64]| toml::Value::Array(v.iter().map(|&x| (x as i64).into()).collect());
    let mut base = toml::Table::new();
    base.insert("dtype".into(), "f32".into());
    let mut target = toml::Table::new();
    target.insert("n".into(), (s.n as i64).into());
    target.insert("frequencies".into(), ints(&s.frequencies));
    target.insert("amplitudes".into(), 1.0.into());
    target.insert("phases".into(), "random".into());
    base.insert("target".into(), target.into());
    let mut model = toml::Table::new();
    model.insert("hidden".into(), ints(&s.hidden));
    model.insert("activation".into(), "tanh".into());
    base.insert("model".into(), model.into());
    base.insert("optimizer".into(), opt.into());
    let mut train = toml::Table::new();
    train.insert("epochs".into(), (s.epochs as i64).into());
    train.insert("batch_size".into(), 0.into());
    base.insert("train".into(), train.into());
    let mut spectral = toml::Table::new();
    let mut layout = toml::Table::new();
    layout.insert("kind".into(), "octave".into());
    spectral.insert("layout".into(), layout.into());
    base.insert("spectral".into(), spectral.into());
    let mut search = toml::Table::new();
    search.insert(
        "grid".into(),
        toml::Value::Array(s.lr_grid.iter().map(|&x| x.into()).collect()),
    );
    search.insert("seeds".into(), seeds(&s.search_seeds));
    search.insert("epochs".into(), (s.search_epochs as i64).into());
    search.insert("criterion".into(), "final_train_loss".into());
    let mut spec = toml::Table::new();
    spec.insert("name".into(), entry.label.clone().into());
    spec.insert("seeds".into(), seeds(&s.seeds));
    spec.insert("base".into(), base.into());
    spec.insert("lr_search".into(), search.into());
    let text = toml::to_string(&spec).context("protocol spec")?;
    SweepSpec::from_toml_str(
        &text,
        &format!("protocol ({})", entry.label),
        &entry.label,
        Path::new("."),
    )
}

/// Run the standard protocol for `optimizer_name` (a registered optimizer) with hyperparameter
/// `overrides` (`key`, TOML value text) into `out_dir`, and report. Resumable: finished runs
/// are reused. Errors: an unknown optimizer or hyperparameter (the registry's message), or
/// runs that failed (not diverged: a diverged run is recorded and excluded from the report).
pub fn run_protocol(
    registry: &Registry,
    optimizer_name: &str,
    overrides: &[(String, String)],
    out_dir: &Path,
    opts: &ProtocolOptions,
) -> Result<Report> {
    let entries = protocol_entries(registry, optimizer_name, overrides)?;
    let candidate = serde_json::json!({
        "optimizer": optimizer_name,
        "overrides": overrides.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
    });
    run_protocol_entries(registry, &entries, candidate, out_dir, opts, &|_| None)
}

/// The protocol over `entries` (the references and the candidate), each optimizer trained by
/// bandwise or, where `trainer` gives one, by an external trainer ([`crate::engine::external`]).
/// `candidate` (a JSON object) describes the candidate in protocol.json.
pub fn run_protocol_entries(
    registry: &Registry,
    entries: &[ProtocolEntry],
    candidate: serde_json::Value,
    out_dir: &Path,
    opts: &ProtocolOptions,
    trainer: &dyn Fn(&ProtocolEntry) -> Option<crate::engine::external::ExternalTrainer>,
) -> Result<Report> {
    let specs = entries
        .iter()
        .map(|e| protocol_spec(&opts.settings, e))
        .collect::<Result<Vec<_>>>()?;
    for spec in &specs {
        spec.expand(registry)?;
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut record = serde_json::json!({
        "format": "bandwise-protocol/1",
        "settings": opts.settings,
        "optimizers": entries.iter().map(|e| serde_json::json!({
            "label": e.label,
            "dir": e.label,
            "candidate": e.candidate,
            "reference": e.reference,
            "optimizer": crate::base::toml_path::toml_to_json(&toml::Value::Table(e.table.clone())),
            "trained_by": trainer(e).map_or("bandwise".to_string(), |t| t.name().to_string()),
        })).collect::<Vec<_>>(),
        "rule": "every optimizer: lr chosen by its own lr search (lowest median final training loss over the search seeds; diverged = inf), then one run per seed at that lr; the report's baseline is sgd (momentum 0.9) on the same task",
    });
    if let (Some(r), serde_json::Value::Object(c)) = (record.as_object_mut(), candidate) {
        r.extend(c);
    }
    write_atomic(
        &out_dir.join("protocol.json"),
        (serde_json::to_string_pretty(&record)? + "\n").as_bytes(),
    )?;
    let sweep_opts = SweepOptions {
        jobs: opts.jobs.max(1),
        progress: opts.progress.clone(),
        ..Default::default()
    };
    let mut failed = Vec::new();
    let mut runs = Vec::new();
    for (entry, spec) in entries.iter().zip(&specs) {
        let dir = out_dir.join(&entry.label);
        if opts.progress.is_on() {
            eprintln!("protocol: {} -> {}", entry.label, dir.display());
        }
        let external = trainer(entry);
        let report = match &external {
            None => run_sweep(spec, registry, &dir, &sweep_opts)?,
            Some(t) => {
                let opts = SweepOptions {
                    jobs: sweep_opts.jobs.min(t.jobs()),
                    ..sweep_opts.clone()
                };
                crate::app::sweep::exec::run_sweep_with(spec, registry, &dir, &opts, Some(t))?
            }
        };
        failed.extend(
            report
                .failed
                .iter()
                .map(|f| format!("  {}/{}: {}", entry.label, f.id, f.error)),
        );
        if let Some(e) = &report.aggregate_error {
            failed.push(format!("  {}: aggregation: {e}", entry.label));
        }
        if opts.progress.is_on() {
            if let Some(note) = edge_note(&dir, &opts.settings.lr_grid) {
                eprintln!("protocol: note: {}: {note}", entry.label);
            }
        }
        for r in SweepIndex::load(&dir)?.runs {
            if is_run_dir(&r.dir) {
                runs.push(
                    RunData::load(&r.dir)
                        .with_context(|| format!("cannot load run {}", r.dir.display()))?,
                );
            }
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} protocol run(s) failed (the others are recorded; rerun the same command to retry):\n{}",
            failed.len(),
            failed.join("\n")
        );
    }
    let mut report = report_from_runs(&runs, &ReportOptions::default(), &[])?;
    // The paper's claim verdicts would judge the references among themselves (two fixed-p padam
    // runs make a C2 test); the protocol's question is the candidate against each reference.
    report.verdicts.clear();
    use crate::analysis::render::{render, Format};
    write_atomic(
        &out_dir.join("report.md"),
        format!(
            "{}\n\n{}\n## The candidate against each reference\n\n```text\n{}```\n",
            opts.settings.describe(),
            render(&report, Format::Markdown),
            candidate_summary(&report, entries, out_dir)
        )
        .as_bytes(),
    )?;
    write_atomic(
        &out_dir.join("report.json"),
        render(&report, Format::Json).as_bytes(),
    )?;
    Ok(report)
}

/// The protocol's answer: the candidate's preference index against each reference's, as the
/// difference of the means with Welch's 95% interval and the verdict that interval supports
/// (higher, lower, or indistinguishable when it contains 0). Configurations are matched to
/// `entries` by their run directories under `out_dir`.
pub fn candidate_summary(report: &Report, entries: &[ProtocolEntry], out_dir: &Path) -> String {
    use crate::analysis::aggregate::{config_indices, ConfigSummary, Estimate};
    use crate::analysis::render::fmt_estimate;
    let entry_of = |c: &ConfigSummary| {
        entries.iter().find(|e| {
            let dir = out_dir.join(&e.label);
            c.runs.iter().any(|r| Path::new(r).starts_with(&dir))
        })
    };
    let Some(cand) = report
        .configs
        .iter()
        .find(|c| entry_of(c).is_some_and(|e| e.candidate))
    else {
        return "candidate: no completed runs to compare\n".into();
    };
    let mut out = format!(
        "candidate {} `{}`: index {}; against each reference (index difference, Welch 95% interval):\n",
        cand.id,
        cand.label,
        fmt_estimate(&cand.index)
    );
    for r in &report.configs {
        if r.key == cand.key || !entry_of(r).is_some_and(|e| e.reference) {
            continue;
        }
        let d = Estimate::welch_diff(
            &config_indices(&report.runs, &cand.key),
            &config_indices(&report.runs, &r.key),
        );
        let verdict = if !d.has_ci() {
            "NOT COMPARED (fewer than 2 completed seeds on a side)"
        } else if d.ci_lo > 0.0 {
            "HIGHER: a stronger low-frequency preference"
        } else if d.ci_hi < 0.0 {
            "LOWER: a weaker low-frequency preference"
        } else {
            "INDISTINGUISHABLE: the interval contains 0"
        };
        out.push_str(&format!(
            "  vs {} `{}`: {} -> {verdict}\n",
            r.id,
            r.label,
            fmt_estimate(&d)
        ));
    }
    out
}

/// A remark when the lr search chose an end of its grid (the optimum may lie beyond it).
fn edge_note(dir: &Path, grid: &[f64]) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(crate::app::sweep::LR_SEARCH_JSON)).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    let chosen = doc["configs"][0]["chosen_lr"].as_f64()?;
    let (lo, hi) = (grid.first()?, grid.last()?);
    (grid.len() > 1 && (chosen == *lo || chosen == *hi)).then(|| {
        format!("the fair lr {chosen} is at the end of the search grid [{lo}, {hi}]; the best lr may lie beyond it")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_validated_by_the_registry() {
        let r = Registry::builtin();
        let e = protocol_entries(&r, "padam", &[("beta".into(), "0.9".into())]).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("optimizer.beta is not a hyperparameter"),
            "{msg}"
        );
        let e = protocol_entries(&r, "lion", &[]).unwrap_err();
        assert!(format!("{e:#}").contains("not a registered optimizer"));
        let e = protocol_entries(&r, "adam", &[("lr".into(), "0.1".into())]).unwrap_err();
        assert!(format!("{e:#}").contains("fair-lr"));
        // The candidate equal to a reference is that reference.
        let entries = protocol_entries(&r, "padam", &[("p".into(), "0".into())]).unwrap();
        assert_eq!(entries.len(), 4);
        assert!(entries.iter().any(|e| e.label == "padam_p0" && e.candidate));
        let entries = protocol_entries(
            &r,
            "padam",
            &[
                ("p".into(), "0.25".into()),
                ("normalize".into(), "rms".into()),
            ],
        )
        .unwrap();
        let last = entries.last().unwrap();
        assert_eq!(last.label, "padam_p=0.25_normalize=rms");
        assert!(last.candidate && !last.reference);
        let spec = protocol_spec(&ProtocolSettings::quick(), last).unwrap();
        let runs = spec.expand(&r).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(spec.lr_search.as_ref().unwrap().grid.len(), 5);
    }

    #[test]
    fn search_seeds_are_disjoint_and_reports_state_the_protocol() {
        for s in [ProtocolSettings::standard(), ProtocolSettings::quick()] {
            assert!(s.search_seeds.iter().all(|x| !s.seeds.contains(x)), "{s:?}");
            let text = s.describe();
            assert!(
                text.contains("disjoint from the evaluation seeds"),
                "{text}"
            );
            assert!(text.contains(&format!("at {} epochs per search run", s.search_epochs)));
            assert_eq!(text.starts_with("SMOKE TEST"), s.smoke_test);
        }
        assert!(ProtocolSettings::quick().smoke_test && !ProtocolSettings::standard().smoke_test);
    }
}
