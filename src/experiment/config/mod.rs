//! Experiment specs: the TOML config a user writes, its parsing (unknown keys are errors, with
//! a "did you mean") and its validation (errors name the field path and what is allowed).

pub mod budget;

use crate::base::suggest::did_you_mean;
pub use crate::nn::spec::{FourierFeaturesSpec, ModelSpec};
use crate::optim::{OptimizerConfig, Registry, ResolvedOptimizer};
use crate::spectral::LayoutSpec;
pub use crate::task::spec::*;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One experiment: a target, a model, an optimizer and a training budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// A label for the run (defaults to the config file's stem).
    #[serde(default)]
    pub name: String,
    /// Seeds initialisation, shuffling and random phases (each from its own stream).
    #[serde(default)]
    pub seed: u64,
    /// Training precision.
    #[serde(default)]
    pub dtype: Dtype,
    pub target: TargetSpec,
    #[serde(default)]
    pub model: ModelSpec,
    pub optimizer: OptimizerConfig,
    pub train: TrainSpec,
    #[serde(default)]
    pub spectral: SpectralSpec,
    #[serde(default)]
    pub record: RecordSpec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Dtype {
    #[default]
    F32,
    F64,
}

impl Dtype {
    /// The name configs and records write: "f32" or "f64".
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

/// `[train]`: the budget and the evaluation cadence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    pub epochs: u64,
    /// Samples per step; 0 = full batch.
    #[serde(default)]
    pub batch_size: usize,
    /// Reshuffle the training points each epoch (minibatch only; seeded).
    #[serde(default = "yes")]
    pub shuffle: bool,
    /// Evaluate (losses, spectral monitor) every this many epochs; epoch 0 and the last
    /// epoch are always evaluated.
    #[serde(default = "one")]
    pub eval_every: u64,
    /// A run diverges when its training loss is not finite or exceeds this factor times its
    /// initial loss.
    #[serde(default = "default_divergence_factor")]
    pub divergence_factor: f64,
}

fn yes() -> bool {
    true
}

fn one() -> u64 {
    1
}

fn default_divergence_factor() -> f64 {
    1e4
}

/// `[spectral]`: what the per-epoch monitor measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpectralSpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub layout: LayoutSpec,
    /// Grids analysed: "train" and/or "test".
    #[serde(default = "default_grids")]
    pub grids: Vec<GridName>,
    /// Analyse every this many epochs (a multiple of train.eval_every; default: every evaluation).
    #[serde(default)]
    pub every: Option<u64>,
    /// Relative-error thresholds for the convergence times (Basri-style).
    #[serde(default = "default_thresholds")]
    pub thresholds: Vec<f64>,
    /// 2D targets only: split every ring into this many angular sectors of [0, 180) deg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sectors: Option<usize>,
}

fn default_grids() -> Vec<GridName> {
    vec![GridName::Train]
}

fn default_thresholds() -> Vec<f64> {
    vec![0.1, 0.01]
}

impl Default for SpectralSpec {
    fn default() -> Self {
        SpectralSpec {
            enabled: true,
            layout: LayoutSpec::default(),
            grids: default_grids(),
            every: None,
            thresholds: default_thresholds(),
            sectors: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum GridName {
    Train,
    Test,
}

impl GridName {
    pub fn as_str(self) -> &'static str {
        match self {
            GridName::Train => "train",
            GridName::Test => "test",
        }
    }
}

/// `[record]`: what else goes into the run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RecordSpec {
    /// Epochs at which predictions are stored for fit snapshots (default: 0, four
    /// log-spaced epochs, and the last).
    #[serde(default)]
    pub snapshots: Option<Vec<u64>>,
    /// Also write the initial and final parameters (params_init.json, params_final.json).
    #[serde(default)]
    pub save_params: bool,
    /// Epochs (0 = before training) at which parameters and optimizer state are written to
    /// checkpoints/epoch_NNNNNN.json, for `bandwise kernel`. Increasing, within 0..=train.epochs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<u64>,
}

impl Experiment {
    /// Parse a config file; errors name the file, the field and the fix.
    pub fn load(path: &Path) -> Result<Experiment> {
        Self::load_with(path, &[])
    }

    /// [`Experiment::load`] with `--set PATH=VALUE` overrides applied to the file's TOML first
    /// (the same dotted paths and TOML values as sweep axes and `protocol --set`).
    pub fn load_with(path: &Path, sets: &[String]) -> Result<Experiment> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        let origin = path.display().to_string();
        let mut exp = if sets.is_empty() {
            Self::from_toml_str(&text, &origin)?
        } else {
            let mut table: toml::Table = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("config {origin}: {}", explain_toml_error(&e)))?;
            apply_sets(&mut table, sets)?;
            Self::from_toml_value(
                toml::Value::Table(table),
                &format!("{origin} with --set {}", sets.join(" --set ")),
            )?
        };
        if exp.name.is_empty() {
            exp.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        Ok(exp)
    }

    /// Parse config text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Experiment> {
        toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("config {origin}: {}", explain_toml_error(&e)))
    }

    /// Parse from a TOML value (used by sweeps after setting fields by path).
    pub fn from_toml_value(value: toml::Value, origin: &str) -> Result<Experiment> {
        value.try_into().map_err(|e: toml::de::Error| {
            anyhow::anyhow!("config {origin}: {}", explain_toml_error(&e))
        })
    }

    /// Check every field against what is allowed and resolve the optimizer.
    pub fn validate(&self, registry: &Registry) -> Result<ResolvedOptimizer> {
        self.validate_task()?;
        registry.resolve(&self.optimizer)
    }

    /// Check every field except the optimizer (the task of an imported run, whose optimizer
    /// ran elsewhere).
    pub fn validate_task(&self) -> Result<()> {
        budget::check(self)?;
        let t = &self.target;
        match &t.waves2d {
            None if t.dataset.is_some() => {}
            None => validate_target_1d(t)?,
            Some(w) => crate::task::targets::waves2d::validate(t, w)?,
        }
        // Classification tasks (target.classes, kind = "dataset"): labels built, files read.
        let n_train = match crate::task::classify::build(t, self.seed)? {
            Some((target, _)) => target.train.len(),
            None => t.n,
        };
        let m = &self.model;
        if m.hidden.contains(&0) {
            bail!("model.hidden contains a zero width: every hidden layer needs at least one unit");
        }
        if !(m.input_range[0].is_finite()
            && m.input_range[1].is_finite()
            && m.input_range[0] < m.input_range[1])
        {
            bail!("model.input_range must be two finite numbers [lo, hi] with lo < hi");
        }
        let tr = &self.train;
        if tr.epochs == 0 {
            bail!("train.epochs must be at least 1");
        }
        if tr.batch_size > n_train {
            bail!("train.batch_size = {} exceeds the {} training points: use 0 (full batch) or at most {}", tr.batch_size, n_train, if t.waves2d.is_some() { "N * M" } else if t.dataset.is_some() { "the training samples" } else { "target.n" });
        }
        if tr.eval_every == 0 {
            bail!("train.eval_every must be at least 1");
        }
        if tr.divergence_factor.is_nan() || tr.divergence_factor <= 1.0 {
            bail!("train.divergence_factor must be > 1");
        }
        let ck = &self.record.checkpoints;
        if let Some((i, e)) = ck.iter().enumerate().find(|(_, &e)| e > tr.epochs) {
            bail!("record.checkpoints[{i}] = {e} is beyond train.epochs = {}: checkpoint epochs must lie in 0..={}", tr.epochs, tr.epochs);
        }
        if let Some(i) = ck.windows(2).position(|w| w[1] <= w[0]) {
            bail!("record.checkpoints must be strictly increasing: entry {} ({}) does not exceed entry {i} ({}); list each epoch once, in order", i + 1, ck[i + 1], ck[i]);
        }
        if !ck.is_empty() && (t.classes.is_some() || t.dataset.is_some()) {
            bail!("record.checkpoints is for regression runs on a grid (the kernel analysis fits MSE); remove it for a classification or dataset target");
        }
        if let Some(snaps) = &self.record.snapshots {
            if let Some((i, e)) = snaps.iter().enumerate().find(|(_, &e)| e > tr.epochs) {
                bail!("record.snapshots[{i}] = {e} is beyond train.epochs = {}: snapshot epochs must lie in 0..={}", tr.epochs, tr.epochs);
            }
        }
        let s = &self.spectral;
        if let Some(every) = s.every {
            if every == 0 || every % tr.eval_every != 0 {
                bail!(
                    "spectral.every = {every} must be a positive multiple of train.eval_every = {}",
                    tr.eval_every
                );
            }
        }
        if s.thresholds.iter().any(|x| !(*x > 0.0 && x.is_finite())) {
            bail!("spectral.thresholds must be finite numbers > 0, e.g. [0.1, 0.01]");
        }
        if s.grids.is_empty() {
            bail!("spectral.grids is empty: use [\"train\"], [\"test\"] or both");
        }
        if let Some(m) = &m.fourier_features {
            if m.count == 0 || !(m.scale.is_finite() && m.scale > 0.0) {
                bail!("model.fourier_features needs count >= 1 and a finite scale > 0, e.g. {{ count = 64, scale = 10.0 }}");
            }
        }
        if t.waves2d.is_none() && s.sectors.is_some() {
            bail!("spectral.sectors splits the rings of 2D targets; remove it for a 1D target");
        }
        if let Some(w) = t.waves2d.as_ref().filter(|_| s.enabled) {
            crate::task::targets::waves2d::validate_layout(&s.layout, s.sectors, w)?;
        } else if s.enabled && t.dataset.is_none() {
            crate::spectral::BandLayout::build(&s.layout, t.n, &t.frequencies)?;
            if let Some(n) = t.test.n.filter(|_| s.grids.contains(&GridName::Test)) {
                crate::spectral::BandLayout::build(&s.layout, n, &t.frequencies)
                    .with_context(|| format!("spectral.layout on the test grid (n = {n})"))?;
            }
        }
        Ok(())
    }

    /// Epochs at which the spectral monitor runs (given eval cadence).
    pub fn spectral_every(&self) -> u64 {
        self.spectral.every.unwrap_or(self.train.eval_every)
    }
}

/// Apply `--set PATH=VALUE` assignments to a config table: PATH is a dotted config path (as
/// for sweep axes), VALUE is TOML (a bare word is a string), as for `protocol --set`.
pub fn apply_sets(table: &mut toml::Table, sets: &[String]) -> Result<()> {
    for s in sets {
        let (key, value) = crate::base::toml_path::parse_assignment(s)?;
        let value =
            crate::base::toml_path::parse_value(&value).with_context(|| format!("--set {s}"))?;
        crate::base::toml_path::set_path(table, &key, value)
            .with_context(|| format!("--set {s}"))?;
    }
    Ok(())
}

/// Rewrite toml's messages for unknown fields to add the closest allowed name.
fn explain_toml_error(e: &toml::de::Error) -> String {
    let mut msg = e.to_string();
    let m = e.message();
    if let Some(rest) = m.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once('`') {
            let options: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let hint = did_you_mean(field, &options);
            if !hint.is_empty() {
                msg = format!("{}{hint}", msg.trim_end());
            }
        }
    }
    msg.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[target]\nn = 256\nfrequencies = [1, 4, 16]\n[optimizer]\nname = \"padam\"\nlr = 1e-3\np = 0.5\n[train]\nepochs = 10\n";

    fn err(text: &str) -> String {
        match Experiment::from_toml_str(text, "x.toml") {
            Err(e) => e.to_string(),
            Ok(exp) => exp
                .validate(&Registry::builtin())
                .err()
                .expect("should fail")
                .to_string(),
        }
    }

    #[test]
    fn base_config_parses_with_defaults() {
        let exp = Experiment::from_toml_str(BASE, "x").unwrap();
        exp.validate(&Registry::builtin()).unwrap();
        assert_eq!(exp.model.hidden, [64, 64]);
        assert_eq!(exp.dtype, Dtype::F32);
        assert_eq!(exp.target.phases, Phases::Random);
        assert_eq!(exp.spectral.thresholds, [0.1, 0.01]);
    }

    #[test]
    fn phases_words_and_lists() {
        let z = Experiment::from_toml_str(
            &BASE.replace("n = 256\n", "n = 256\nphases = \"zero\"\n"),
            "x",
        )
        .unwrap();
        assert_eq!(z.target.phases, Phases::Zero);
        let l = Experiment::from_toml_str(
            &BASE.replace("n = 256\n", "n = 256\nphases = [0, 0.5, 0.25]\n"),
            "x",
        )
        .unwrap();
        assert_eq!(l.target.phases, Phases::List(vec![0.0, 0.5, 0.25]));
    }

    #[test]
    fn errors_name_file_field_and_fix() {
        let e = err(&BASE.replace("frequencies", "frequences"));
        assert!(
            e.contains("x.toml")
                && e.contains("frequences")
                && e.contains("did you mean `frequencies`"),
            "{e}"
        );
        let e = err(&BASE.replace("[1, 4, 16]", "[1, 4, 128]"));
        assert!(
            e.contains("target.frequencies[2]") && e.contains("n/2 = 128"),
            "{e}"
        );
        let e = err(&BASE
            .replace("n = 256", "n = 3")
            .replace("[1, 4, 16]", "[1]"));
        assert!(e.contains("target.n = 3"), "{e}");
        let e = err(&BASE.replace("n = 256\n", "n = 256\namplitudes = [1, 2]\n"));
        assert!(e.contains("target.amplitudes has 2 entries"), "{e}");
        let e = err(&BASE.replace("n = 256\n", "n = 256\nphases = [0.1]\n"));
        assert!(e.contains("target.phases has 1 entries"), "{e}");
        let e = err(&BASE.replace("epochs = 10", "epochs = 10\nbatch_size = 1000"));
        assert!(e.contains("train.batch_size"), "{e}");
        let e = err(&format!(
            "{BASE}[spectral]\nlayout = {{ kind = \"edges\", edges = [4, 2] }}\n"
        ));
        assert!(e.contains("spectral.layout"), "{e}");
        let e = err(&format!("{BASE}[model]\nactivation = \"gelu\"\n"));
        assert!(e.contains("gelu") && e.contains("tanh"), "{e}");
    }
}
