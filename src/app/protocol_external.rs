//! The standard protocol ([`crate::app::protocol`]) with a candidate trained outside bandwise:
//! `bandwise.torch.protocol(...)` in Python and `bandwise protocol --torch pkg.module:Class`.
//!
//! Everything but the training is the Rust protocol's: the task, seeds, lr grid and search
//! seeds ([`ProtocolSettings`]), the references ([`references`]), the fair-lr search with its
//! edge extensions, the sweep directories, the report with its guards and
//! [`candidate_summary`]. The candidate's optimizer table is
//! `{ name = "torch", class = "pkg.module:Class", kwargs = "<JSON>" }`, registered for the
//! call as an external optimizer so that the sweep validates and records it like any other;
//! its runs (and, with [`ReferencesBy::External`], the references' runs) are trained by an
//! [`ExternalTrainer`].

use crate::analysis::Report;
use crate::app::protocol::{
    protocol_spec, references, run_protocol_entries, ProtocolEntry, ProtocolOptions,
    ProtocolSettings,
};
use crate::app::sweep::spec::format_value;
use crate::base::toml_path::{parse_assignment, parse_value, toml_to_json};
use crate::engine::external::ExternalTrainer;
use crate::optim::{ParamDoc, Registry};
use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::str::FromStr;

/// The optimizer name of an externally trained candidate.
pub const EXTERNAL_OPTIMIZER: &str = "torch";

/// Who trains the reference optimizers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferencesBy {
    /// The external trainer (PyTorch): the same network code as the candidate.
    External,
    /// bandwise's own trainer, as `bandwise protocol` does.
    Bandwise,
}

impl FromStr for ReferencesBy {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "torch" => Ok(ReferencesBy::External),
            "rust" | "bandwise" => Ok(ReferencesBy::Bandwise),
            _ => bail!("references = {s:?}: use \"torch\" (trained by PyTorch like the candidate) or \"rust\" (trained by bandwise)"),
        }
    }
}

/// A candidate optimizer trained outside bandwise: an import path and keyword arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalCandidate {
    /// `pkg.module:Class` (or any text the external trainer resolves).
    pub class: String,
    /// Constructor keyword arguments (JSON values), without lr.
    pub kwargs: Map<String, Value>,
}

impl ExternalCandidate {
    /// Check the class path and the arguments (lr is the protocol's to choose).
    pub fn new(class: &str, kwargs: Map<String, Value>) -> Result<Self> {
        let class = class.trim();
        if class.is_empty() {
            bail!("the candidate optimizer class is empty: give an import path like mypkg.optim:Signum");
        }
        for k in ["lr", "params"] {
            if kwargs.contains_key(k) {
                bail!(
                    "optimizer argument `{k}`: {}",
                    if k == "lr" {
                        "the protocol chooses every optimizer's lr by its fair-lr search; drop it"
                    } else {
                        "the protocol passes the network's parameters itself; drop it"
                    }
                );
            }
        }
        Ok(ExternalCandidate {
            class: class.to_string(),
            kwargs,
        })
    }

    /// From `--set KEY=VALUE` texts (values are TOML, as for `bandwise protocol --set`).
    pub fn from_sets(class: &str, sets: &[String]) -> Result<Self> {
        let mut kwargs = Map::new();
        for s in sets {
            let (k, v) = parse_assignment(s)?;
            let value = parse_value(&v).with_context(|| format!("--set {k}={v}"))?;
            if kwargs.insert(k.clone(), toml_to_json(&value)).is_some() {
                bail!("--set {k} is given twice");
            }
        }
        Self::new(class, kwargs)
    }

    /// The keyword arguments as compact JSON (keys sorted).
    pub fn kwargs_json(&self) -> String {
        Value::Object(self.kwargs.clone()).to_string()
    }

    /// The directory label: `torch_<Class>` and `_key=value` per argument.
    pub fn label(&self) -> String {
        let short = self.class.rsplit([':', '.']).next().unwrap_or(&self.class);
        let mut label = format!("torch_{short}");
        for (k, v) in &self.kwargs {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Array(a) => a
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join("x"),
                other => other.to_string(),
            };
            label.push_str(&format!("_{k}={v}"));
        }
        format_value(&toml::Value::String(label))
    }

    /// The candidate's optimizer table.
    pub fn table(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("name".into(), EXTERNAL_OPTIMIZER.into());
        t.insert("class".into(), self.class.clone().into());
        t.insert("kwargs".into(), self.kwargs_json().into());
        t
    }
}

/// `registry` with the candidate registered as the external optimizer `torch` (its `class`
/// and `kwargs` are the only values it accepts).
pub fn external_registry(registry: &Registry, cand: &ExternalCandidate) -> Result<Registry> {
    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }
    let class = leak(cand.class.clone());
    let kwargs = leak(cand.kwargs_json());
    let params: &'static [ParamDoc] = Box::leak(Box::new([
        ParamDoc::choice(
            "class",
            Box::leak(Box::new([class])),
            class,
            "import path of the optimizer class",
        ),
        ParamDoc::choice(
            "kwargs",
            Box::leak(Box::new([kwargs])),
            kwargs,
            "its keyword arguments (JSON)",
        ),
    ]));
    let mut r = registry.clone();
    r.register_external(
        EXTERNAL_OPTIMIZER,
        "an optimizer trained outside bandwise (bandwise.torch)",
        params,
    )?;
    Ok(r)
}

/// The protocol's optimizers: the references, then the candidate (always its own entry: an
/// external class is never taken for a reference).
pub fn external_entries(cand: &ExternalCandidate) -> Vec<ProtocolEntry> {
    let mut entries: Vec<ProtocolEntry> = references()
        .into_iter()
        .map(|(label, text)| ProtocolEntry {
            label: label.to_string(),
            table: toml::from_str(text).expect("valid reference table"),
            candidate: false,
            reference: true,
        })
        .collect();
    let mut label = cand.label();
    if entries.iter().any(|e| e.label == label) {
        label = format!("candidate_{label}");
    }
    entries.push(ProtocolEntry {
        label,
        table: cand.table(),
        candidate: true,
        reference: false,
    });
    entries
}

/// The protocol's plan as JSON: the settings, the references' optimizer tables, the candidate
/// (class, arguments, directory label; when `cand` is given) and the task config of every run (without
/// optimizer, seed and budget), for callers in other languages.
pub fn plan_json(settings: &ProtocolSettings, cand: Option<&ExternalCandidate>) -> Result<Value> {
    let refs = references();
    let first = ProtocolEntry {
        label: refs[0].0.to_string(),
        table: toml::from_str(refs[0].1).expect("valid reference table"),
        candidate: false,
        reference: true,
    };
    let spec = protocol_spec(settings, &first)?;
    let mut task = toml_to_json(&toml::Value::Table(spec.base.clone()));
    if let Some(t) = task.as_object_mut() {
        t.remove("optimizer");
    }
    Ok(json!({
        "settings": settings,
        "references": refs.iter().map(|(label, text)| json!({
            "label": label,
            "optimizer": toml_to_json(&toml::Value::Table(toml::from_str(text).expect("valid"))),
        })).collect::<Vec<_>>(),
        "candidate": cand.map(|c| json!({
            "class": c.class,
            "kwargs": c.kwargs,
            "label": external_entries(c).last().expect("candidate").label,
        })),
        "task": task,
        "criterion": "final_train_loss",
        "baseline": refs[0].0,
    }))
}

/// Run the protocol for `cand`, its runs trained by `trainer` (and the references' too with
/// [`ReferencesBy::External`]). Returns the report and the entries (for
/// [`crate::app::protocol::candidate_summary`]).
pub fn run_external_protocol(
    registry: &Registry,
    cand: &ExternalCandidate,
    references_by: ReferencesBy,
    trainer: &ExternalTrainer,
    out_dir: &Path,
    opts: &ProtocolOptions,
) -> Result<(Report, Vec<ProtocolEntry>)> {
    let registry = external_registry(registry, cand)?;
    let entries = external_entries(cand);
    let candidate = json!({
        "optimizer": EXTERNAL_OPTIMIZER,
        "class": cand.class,
        "kwargs": cand.kwargs,
        "references_trained_by": match references_by {
            ReferencesBy::External => trainer.name(),
            ReferencesBy::Bandwise => "bandwise",
        },
    });
    let report = run_protocol_entries(&registry, &entries, candidate, out_dir, opts, &|e| {
        (e.candidate || references_by == ReferencesBy::External).then(|| trainer.clone())
    })?;
    Ok((report, entries))
}

/// The Python interpreter `bandwise protocol --torch` runs: `$BANDWISE_PYTHON`, else `python3`.
pub fn python_interpreter() -> String {
    std::env::var("BANDWISE_PYTHON")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// Check that `python` runs and can import the bandwise package (with its protocol) and
/// torch; the error says what to install.
pub fn check_python(python: &str) -> Result<()> {
    const PROBE: &str = "import importlib.util as u, sys\n\
missing = [m for m in ('bandwise', 'torch') if u.find_spec(m) is None]\n\
if missing: print(' '.join(missing)); sys.exit(3)\n\
import bandwise.torch as bt\n\
sys.exit(0 if hasattr(bt, 'protocol') else 4)\n";
    let out = std::process::Command::new(python)
        .args(["-c", PROBE])
        .output()
        .map_err(|e| {
            anyhow::anyhow!(
                "bandwise protocol --torch trains in PyTorch through Python, but `{python}` cannot be run ({e}); install Python >= 3.8 or set BANDWISE_PYTHON to an interpreter"
            )
        })?;
    match out.status.code() {
        Some(0) => Ok(()),
        Some(3) => {
            let missing = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let mut fixes = Vec::new();
            if missing.contains("bandwise") {
                fixes.push("the bandwise Python package: `pip install ./python` from the bandwise repository");
            }
            if missing.contains("torch") {
                fixes.push("PyTorch: `pip install torch` (the CPU build is enough)");
            }
            bail!(
                "bandwise protocol --torch: `{python}` cannot import {}; install {} (or set BANDWISE_PYTHON to an interpreter that has them)",
                missing.replace(' ', " and "),
                fixes.join(" and ")
            )
        }
        Some(4) => bail!(
            "bandwise protocol --torch: the bandwise Python package of `{python}` has no bandwise.torch.protocol (it is older than this command); reinstall it with `pip install ./python` from this repository"
        ),
        _ => bail!(
            "bandwise protocol --torch: `{python}` failed while checking for bandwise and torch:\n{}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    }
}

/// Run `python -m bandwise protocol ARGS...` with this process's stdin, stdout and stderr;
/// an error when it fails (its own message is already on stderr).
pub fn run_python_protocol(python: &str, args: &[String]) -> Result<()> {
    check_python(python)?;
    let status = std::process::Command::new(python)
        .args(["-m", "bandwise", "protocol"])
        .args(args)
        .status()
        .with_context(|| format!("cannot run `{python} -m bandwise protocol`"))?;
    if !status.success() {
        bail!("`{python} -m bandwise protocol` failed ({status}); its error is above");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::sweep::Progress;

    #[test]
    fn candidate_from_sets_and_its_table() {
        let c = ExternalCandidate::from_sets(
            "mypkg.optim:Signum",
            &["momentum=0.9".into(), "betas=[0.9, 0.99]".into()],
        )
        .unwrap();
        assert_eq!(c.kwargs_json(), r#"{"betas":[0.9,0.99],"momentum":0.9}"#);
        assert_eq!(c.label(), "torch_Signum_betas=0.9x0.99_momentum=0.9");
        let e = ExternalCandidate::from_sets("a:B", &["lr=0.1".into()]).unwrap_err();
        assert!(format!("{e:#}").contains("fair-lr search"), "{e:#}");
        assert!(ExternalCandidate::from_sets("a:B", &["x=1".into(), "x=2".into()]).is_err());
        assert!(ExternalCandidate::new(" ", Map::new()).is_err());
    }

    #[test]
    fn the_external_candidate_passes_the_sweep_validation() {
        let c = ExternalCandidate::from_sets("torch.optim:SGD", &["momentum=0.5".into()]).unwrap();
        let r = external_registry(&Registry::builtin(), &c).unwrap();
        let entries = external_entries(&c);
        assert_eq!(entries.len(), references().len() + 1);
        let last = entries.last().unwrap();
        assert!(last.candidate && !last.reference);
        let spec = protocol_spec(&ProtocolSettings::quick(), last).unwrap();
        let runs = spec.expand(&r).unwrap();
        assert_eq!(runs.len(), ProtocolSettings::quick().seeds.len());
        assert_eq!(runs[0].experiment.optimizer.name, EXTERNAL_OPTIMIZER);
        // Another class is not accepted by this registry.
        let other = ExternalCandidate::new("x:Y", Map::new()).unwrap();
        let spec = protocol_spec(&ProtocolSettings::quick(), &external_entries(&other)[4]).unwrap();
        let e = spec.expand(&r).unwrap_err();
        assert!(format!("{e:#}").contains("optimizer.class"), "{e:#}");
        let plan = plan_json(&ProtocolSettings::standard(), Some(&c)).unwrap();
        assert_eq!(plan["settings"]["seeds"], json!([0, 1, 2]));
        assert_eq!(plan["task"]["target"]["n"], json!(256));
        assert!(plan["task"].get("optimizer").is_none());
        assert_eq!(plan["candidate"]["label"], json!("torch_SGD_momentum=0.5"));
        assert_eq!(plan["candidate"]["kwargs"], json!({"momentum": 0.5}));
    }

    #[test]
    fn an_external_trainer_runs_the_candidate_through_the_protocol() {
        use crate::engine::run::{run_experiment, RunOptions};
        let tmp = tempfile::tempdir().unwrap();
        let settings = ProtocolSettings {
            n: 32,
            frequencies: vec![1, 4],
            hidden: vec![8],
            epochs: 15,
            seeds: vec![0, 1],
            lr_grid: vec![1e-2, 1e-1],
            search_seeds: vec![1000],
            search_epochs: 15,
            smoke_test: true,
        };
        let opts = ProtocolOptions {
            settings,
            jobs: 2,
            progress: Progress::OFF,
        };
        let cand = ExternalCandidate::from_sets("mypkg:Sgdish", &["momentum=0.5".into()]).unwrap();
        // The "external" trainer: bandwise's sgd with the candidate's momentum, at the lr the
        // protocol chose, written where the protocol asks.
        let trainer = ExternalTrainer::new("test-trainer", 1, |run| {
            let mut exp = run.experiment.clone();
            assert_eq!(exp.optimizer.name, EXTERNAL_OPTIMIZER);
            let lr = exp.optimizer.settings["lr"].clone();
            exp.optimizer.name = "sgd".into();
            exp.optimizer.settings = toml::Table::new();
            exp.optimizer.settings.insert("lr".into(), lr);
            exp.optimizer.settings.insert("momentum".into(), 0.5.into());
            let opts = RunOptions {
                overwrite: run.overwrite,
                ..Default::default()
            };
            run_experiment(&exp, &Registry::builtin(), run.dir, opts).map(|_| ())
        });
        let out = tmp.path().join("p");
        let r = Registry::builtin();
        let (report, entries) =
            run_external_protocol(&r, &cand, ReferencesBy::Bandwise, &trainer, &out, &opts)
                .unwrap();
        assert_eq!(report.runs.len(), 2 * entries.len());
        let rec: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("protocol.json")).unwrap())
                .unwrap();
        let by: Vec<&str> = rec["optimizers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["trained_by"].as_str().unwrap())
            .collect();
        assert_eq!(
            by,
            [
                "bandwise",
                "bandwise",
                "bandwise",
                "bandwise",
                "test-trainer"
            ]
        );
        assert_eq!(rec["class"], json!("mypkg:Sgdish"));
        let summary = crate::app::protocol::candidate_summary(&report, &entries, &out);
        assert_eq!(summary.matches("  vs ").count(), 4, "{summary}");
        assert!(out
            .join("torch_Sgdish_momentum=0.5/lr_search.json")
            .is_file());
        // A trainer that writes nothing fails its runs, naming the directory.
        let lazy = ExternalTrainer::new("lazy", 1, |_| Ok(()));
        let cand2 = ExternalCandidate::new("x:Lazy", Map::new()).unwrap();
        let e = run_external_protocol(&r, &cand2, ReferencesBy::Bandwise, &lazy, &out, &opts)
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("returned without writing the run directory"),
            "{e:#}"
        );
    }
}
