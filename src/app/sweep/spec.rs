//! Sweep specs: parsing a sweep TOML and expanding it into the list of runs.
//!
//! A spec is a base experiment (`[base]`, the same schema as a run config, or
//! `base = "path.toml"` relative to the spec file) plus axes that set config fields by dotted
//! path:
//!
//! ```toml
//! name = "fixed_p"                       # optional; default: the spec file's stem
//! seeds = 3                              # = [0, 1, 2]; or a list, e.g. [0, 7]
//! [base]
//! # ... an experiment config ...
//! [[axis]]
//! path = "optimizer.p"
//! values = [-0.5, 0.0, 0.5]              # any TOML values: numbers, arrays, tables
//! [[axis]]
//! path = "optimizer.lr"
//! range = { start = 1e-4, stop = 1e-2, num = 3, log = true }   # endpoints included
//! zip = "g"                              # optional: axes of one zip group vary together
//! ```
//!
//! Expansion: the zip groups (an axis without `zip` is a group of its own) are combined by
//! cartesian product in the order they are first declared, the last one varying fastest,
//! and the seeds vary fastest of all, so the seeds of one configuration are adjacent in the
//! run list. Range values are rounded to 12 significant digits (so a log range from 1e-4
//! gives 0.001, not 0.0010000000000000002); a linear range whose start and stop are integers
//! and whose step is a whole number gives integers.
//!
//! Every expanded config is parsed with [`Experiment::from_toml_value`] (unknown keys are
//! rejected with a "did you mean") and validated; errors name the axis path or the run.
//!
//! Run ids: `key=value` per axis joined by `__`, seed last (e.g. `p=-0.5__seed=0`); the key is
//! the path's last segment, or the whole path when two axes share a last segment. Values are
//! made filesystem-safe (arrays joined with `x`, tables as `kind.key-value...`, other
//! characters replaced by `~`); an id longer than [`MAX_ID_LEN`] characters, or one that
//! collides with another run's, is shortened and suffixed with `~` and a hash of the values.
//! The config id is the same without the seed (`base` when no axis other than the seed).

use crate::base::hash::fnv1a;
use crate::base::toml_path::set_path;
use crate::experiment::config::Experiment;
use crate::optim::Registry;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Ids longer than this are shortened and suffixed with a hash.
pub const MAX_ID_LEN: usize = 96;

/// Search seeds given as a count (or by default) start here, skipping evaluation seeds.
pub const FIRST_SEARCH_SEED: u64 = 1000;

/// The seeds of the evaluation runs: the spec's `seeds`, or the base config's `seed` (default
/// 0) when the spec has no seed axis.
fn evaluation_seeds(seeds: Option<&[u64]>, base: &toml::Table) -> Vec<u64> {
    match seeds {
        Some(s) => s.to_vec(),
        None => vec![base
            .get("seed")
            .and_then(toml::Value::as_integer)
            .and_then(|i| u64::try_from(i).ok())
            .unwrap_or(0)],
    }
}

/// `n` search seeds from [`FIRST_SEARCH_SEED`] up, skipping the evaluation seeds.
fn disjoint_search_seeds(n: usize, eval_seeds: &[u64]) -> Vec<u64> {
    (FIRST_SEARCH_SEED..)
        .filter(|s| !eval_seeds.contains(s))
        .take(n)
        .collect()
}

/// The config id used when no axis other than the seed varies.
pub const BASE_CONFIG_ID: &str = "base";

/// A parsed sweep spec.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The sweep's name (default output directory: runs/<name>).
    pub name: String,
    /// The base experiment as a TOML table (before any axis is applied).
    pub base: toml::Table,
    /// The varied fields, in declaration order (the seed axis is not among them).
    pub axes: Vec<Axis>,
    /// The seeds; None = the base config's seed, with no seed axis.
    pub seeds: Option<Vec<u64>>,
    /// The fair-lr protocol, if requested.
    pub lr_search: Option<LrSearchSpec>,
    /// The spec as written (for sweep.json), with `base` resolved to a table.
    pub source: toml::Table,
    /// Where the spec came from (its file), named in every error.
    pub origin: String,
}

/// One varied field.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Dotted config path, e.g. `optimizer.p`.
    pub path: String,
    /// The values it takes.
    pub values: Vec<toml::Value>,
    /// Zip group: axes with the same group vary together.
    pub zip: Option<String>,
    /// Names of the values in run ids (e.g. "adam" for a whole optimizer table); default:
    /// the values themselves.
    pub labels: Option<Vec<String>>,
}

/// `[lr_search]`: per configuration, a short lr grid search before the full runs.
#[derive(Debug, Clone, PartialEq)]
pub struct LrSearchSpec {
    /// The learning rates tried.
    pub grid: Vec<f64>,
    /// Seeds of the search runs.
    pub seeds: Vec<u64>,
    /// Epoch budget of each search run.
    pub epochs: u64,
    pub criterion: Criterion,
}

/// What the lr search minimises (median over its seeds; a diverged run counts as +inf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// The training loss at the last epoch.
    FinalTrainLoss,
    /// The test loss at the last epoch.
    FinalTestLoss,
}

impl Criterion {
    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::FinalTrainLoss => "final_train_loss",
            Criterion::FinalTestLoss => "final_test_loss",
        }
    }
}

/// One run of an expanded sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    /// Position in the run list.
    pub index: usize,
    /// Stable, filesystem-safe id, e.g. `p=-0.5__seed=0`.
    pub id: String,
    /// The id without the seed: runs with the same config id differ only in their seed.
    pub config_id: String,
    /// (path, value) for every axis, seed last (if the spec has seeds).
    pub values: Vec<(String, toml::Value)>,
    pub seed: u64,
    /// The full config table (base with the axis values set).
    pub config: toml::Table,
    /// The parsed and validated experiment (its name is `<sweep>/<id>`).
    pub experiment: Experiment,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[serde(default)]
    name: Option<String>,
    base: toml::Value,
    #[serde(default)]
    axis: Vec<RawAxis>,
    #[serde(default)]
    seeds: Option<RawSeeds>,
    #[serde(default)]
    lr_search: Option<RawLrSearch>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAxis {
    path: String,
    #[serde(default)]
    values: Option<Vec<toml::Value>>,
    #[serde(default)]
    range: Option<RawRange>,
    #[serde(default)]
    zip: Option<String>,
    #[serde(default)]
    labels: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    start: toml::Value,
    stop: toml::Value,
    num: usize,
    #[serde(default)]
    log: bool,
}

/// `seeds = N` (seeds 0..N-1) or `seeds = [s, ...]`; anything else is refused with a message
/// that says what is accepted.
#[derive(Deserialize)]
#[serde(try_from = "toml::Value")]
enum RawSeeds {
    Count(u64),
    List(Vec<u64>),
}

impl TryFrom<toml::Value> for RawSeeds {
    type Error = String;
    fn try_from(v: toml::Value) -> std::result::Result<RawSeeds, String> {
        const ACCEPTS: &str = "seeds takes a count N >= 1 (seeds 0..N-1, e.g. seeds = 5) or a list of distinct integers >= 0 (e.g. seeds = [0, 1, 7])";
        let seed = |x: &toml::Value| x.as_integer().and_then(|i| u64::try_from(i).ok());
        match &v {
            toml::Value::Integer(_) => seed(&v).map(RawSeeds::Count),
            toml::Value::Array(a) => a
                .iter()
                .map(seed)
                .collect::<Option<Vec<u64>>>()
                .map(RawSeeds::List),
            _ => None,
        }
        .ok_or_else(|| format!("{ACCEPTS}; got {v}"))
    }
}

impl RawSeeds {
    fn expand(self, what: &str) -> Result<Vec<u64>> {
        let seeds = match self {
            RawSeeds::Count(n) => (0..n).collect(),
            RawSeeds::List(l) => l,
        };
        if seeds.is_empty() {
            bail!("{what} is empty: give a count (e.g. 5 = seeds 0..4) or a list of seeds");
        }
        let mut sorted = seeds.clone();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            bail!("{what} lists a seed twice");
        }
        Ok(seeds)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLrSearch {
    grid: Vec<f64>,
    #[serde(default)]
    seeds: Option<RawSeeds>,
    #[serde(default)]
    epochs: Option<u64>,
    #[serde(default)]
    criterion: Option<Criterion>,
}

impl SweepSpec {
    /// Read a spec file; a `base = "file"` is resolved relative to it.
    pub fn load(path: &Path) -> Result<SweepSpec> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read sweep spec {}", path.display()))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sweep".into());
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::from_toml_str(&text, &path.display().to_string(), &stem, dir)
    }

    /// Parse spec text. `origin` names it in errors, `default_name` is used when the spec has
    /// no `name`, and `base_dir` resolves a `base = "file"`.
    pub fn from_toml_str(
        text: &str,
        origin: &str,
        default_name: &str,
        base_dir: &Path,
    ) -> Result<SweepSpec> {
        let mut source: toml::Table = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("sweep spec {origin}: {}", e.to_string().trim_end()))?;
        let raw: RawSpec =
            toml::Value::Table(source.clone())
                .try_into()
                .map_err(|e: toml::de::Error| {
                    let hint = e
                        .message()
                        .strip_prefix("unknown field `")
                        .and_then(|r| r.split_once('`'))
                        .map(|(f, _)| {
                            crate::base::suggest::did_you_mean(
                                f,
                                &[
                                    "name",
                                    "base",
                                    "axis",
                                    "seeds",
                                    "lr_search",
                                    "grid",
                                    "epochs",
                                    "criterion",
                                    "path",
                                    "values",
                                    "range",
                                    "zip",
                                    "start",
                                    "stop",
                                    "num",
                                    "log",
                                    "labels",
                                ],
                            )
                        })
                        .unwrap_or_default();
                    anyhow::anyhow!("sweep spec {origin}: {}{hint}", e.message().trim_end())
                })?;
        let base = match raw.base {
            toml::Value::Table(t) => t,
            toml::Value::String(file) => {
                let path = base_dir.join(&file);
                let text = std::fs::read_to_string(&path).with_context(|| format!("sweep spec {origin}: cannot read base config {}", path.display()))?;
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("base config {}: {}", path.display(), e.to_string().trim_end()))?
            }
            other => bail!("sweep spec {origin}: `base` must be a table ([base]) or a path to a config file, got {}", other.type_str()),
        };
        source.insert("base".into(), toml::Value::Table(base.clone()));
        let name = raw.name.unwrap_or_else(|| default_name.to_string());
        if name.is_empty() || sanitize(&name) != name {
            bail!("sweep spec {origin}: name = {name:?} must be non-empty and use only letters, digits and . _ - + =");
        }
        let mut axes = Vec::new();
        for (i, a) in raw.axis.into_iter().enumerate() {
            let what = format!("sweep spec {origin}: axis {} (`{}`)", i + 1, a.path);
            if a.path.is_empty() || a.path.split('.').any(str::is_empty) {
                bail!("{what}: path must be a dotted config path such as `optimizer.p`");
            }
            if a.path == "seed" {
                bail!(
                    "{what}: use the top-level `seeds = [...]` (or `seeds = N`) for the seed axis"
                );
            }
            if a.path == "name" {
                bail!("{what}: the run name is set by the sweep; it cannot be an axis");
            }
            let values = match (a.values, a.range) {
                (Some(v), None) => v,
                (None, Some(r)) => expand_range(&r).with_context(|| what.clone())?,
                (Some(_), Some(_)) => bail!("{what}: give either `values` or `range`, not both"),
                (None, None) => {
                    bail!("{what}: give `values = [...]` or `range = {{ start, stop, num, log }}`")
                }
            };
            if values.is_empty() {
                bail!("{what}: no values");
            }
            if let Some(labels) = &a.labels {
                if labels.len() != values.len() {
                    bail!("{what}: `labels` has {} entries but the axis has {} values: give one label per value", labels.len(), values.len());
                }
                if labels.iter().any(|l| l.is_empty() || sanitize(l) != *l) {
                    bail!("{what}: labels must be non-empty and use only letters, digits and . _ - + =");
                }
                if (1..labels.len()).any(|i| labels[..i].contains(&labels[i])) {
                    bail!("{what}: labels must be distinct");
                }
            }
            axes.push(Axis {
                path: a.path,
                values,
                zip: a.zip,
                labels: a.labels,
            });
        }
        for (i, a) in axes.iter().enumerate() {
            if axes[..i].iter().any(|b| b.path == a.path) {
                bail!("sweep spec {origin}: axis `{}` is declared twice", a.path);
            }
        }
        let seeds = raw
            .seeds
            .map(|s| s.expand("seeds"))
            .transpose()
            .with_context(|| format!("sweep spec {origin}"))?;
        let lr_search = match raw.lr_search {
            None => None,
            Some(l) => {
                if axes.iter().any(|a| a.path == "optimizer.lr") {
                    bail!("sweep spec {origin}: `[lr_search]` chooses optimizer.lr, so optimizer.lr cannot also be an axis");
                }
                if l.grid.is_empty() || l.grid.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                    bail!("sweep spec {origin}: lr_search.grid must be a non-empty list of finite learning rates > 0");
                }
                let eval_seeds = evaluation_seeds(seeds.as_deref(), &base);
                let seeds = match l.seeds {
                    None => disjoint_search_seeds(2, &eval_seeds),
                    Some(RawSeeds::Count(n)) if n >= 1 => {
                        disjoint_search_seeds(n as usize, &eval_seeds)
                    }
                    Some(s) => s
                        .expand("lr_search.seeds")
                        .with_context(|| format!("sweep spec {origin}"))?,
                };
                let shared: Vec<String> = seeds
                    .iter()
                    .filter(|s| eval_seeds.contains(s))
                    .map(u64::to_string)
                    .collect();
                if !shared.is_empty() {
                    bail!(
                        "sweep spec {origin}: lr_search.seeds share seed(s) {} with the evaluation seeds ({}); the lr search must not see the runs it chooses for. Fix: list seeds not among the evaluation seeds (e.g. lr_search.seeds = [{}]), or give a count (lr_search.seeds = {}) for that many seeds from {FIRST_SEARCH_SEED} up, skipping the evaluation seeds",
                        shared.join(", "),
                        eval_seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
                        disjoint_search_seeds(seeds.len(), &eval_seeds).iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
                        seeds.len()
                    );
                }
                let epochs = match l.epochs {
                    Some(0) => bail!("sweep spec {origin}: lr_search.epochs must be at least 1"),
                    Some(e) => e,
                    None => base
                        .get("train")
                        .and_then(|t| t.get("epochs"))
                        .and_then(toml::Value::as_integer)
                        .map_or(1, |e| e.max(1) as u64),
                };
                Some(LrSearchSpec {
                    grid: l.grid,
                    seeds,
                    epochs,
                    criterion: l.criterion.unwrap_or(Criterion::FinalTrainLoss),
                })
            }
        };
        let spec = SweepSpec {
            name,
            base,
            axes,
            seeds,
            lr_search,
            source,
            origin: origin.to_string(),
        };
        spec.groups()
            .with_context(|| format!("sweep spec {origin}"))?;
        Ok(spec)
    }

    /// The zip groups: lists of axis indices, in order of first declaration.
    fn groups(&self) -> Result<Vec<Vec<usize>>> {
        let mut groups: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
        for (i, a) in self.axes.iter().enumerate() {
            match a
                .zip
                .as_deref()
                .and_then(|z| groups.iter_mut().find(|(g, _)| *g == Some(z)))
            {
                Some((_, members)) => members.push(i),
                None => groups.push((a.zip.as_deref(), vec![i])),
            }
        }
        for (name, members) in &groups {
            let n = self.axes[members[0]].values.len();
            // Two equal value tuples of one group would plan the same runs twice (and
            // aggregation would count their seeds twice).
            let shown = |j: usize| -> Vec<String> {
                members
                    .iter()
                    .map(|&m| {
                        self.axes[m]
                            .values
                            .get(j)
                            .map(format_value)
                            .unwrap_or_default()
                    })
                    .collect()
            };
            for j in 1..n {
                if let Some(i) = (0..j).find(|&i| shown(i) == shown(j)) {
                    let paths: Vec<&str> = members
                        .iter()
                        .map(|&m| self.axes[m].path.as_str())
                        .collect();
                    let values = |k: usize| {
                        members
                            .iter()
                            .map(|&m| self.axes[m].values[k].to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    bail!(
                        "axis `{}` lists the same value twice: values[{i}] = {} and values[{j}] = {} would plan the same runs twice; drop one",
                        paths.join("` + `"),
                        values(i),
                        values(j)
                    );
                }
            }
            if let Some(bad) = members.iter().find(|&&m| self.axes[m].values.len() != n) {
                bail!(
                    "zip group `{}`: axis `{}` has {} values but axis `{}` has {}; zipped axes must have equal lengths",
                    name.unwrap_or_default(),
                    self.axes[*bad].path,
                    self.axes[*bad].values.len(),
                    self.axes[members[0]].path,
                    n
                );
            }
        }
        Ok(groups.into_iter().map(|(_, m)| m).collect())
    }

    /// Expand into the run list, parsing and validating every config; errors name the spec.
    pub fn expand(&self, registry: &Registry) -> Result<Vec<PlannedRun>> {
        self.expand_runs(registry)
            .with_context(|| format!("sweep spec {}", self.origin))
    }

    fn expand_runs(&self, registry: &Registry) -> Result<Vec<PlannedRun>> {
        // The base may leave out what an axis fills (e.g. no [optimizer] when an axis sets
        // `optimizer`): it is checked with every axis at its first value. If that fails and
        // leaving one axis out makes it valid, the error names that axis.
        let with_first = |skip: Option<usize>| -> Result<toml::Table> {
            let mut t = self.base.clone();
            for (i, a) in self.axes.iter().enumerate() {
                if Some(i) != skip {
                    set_path(&mut t, &a.path, a.values[0].clone())
                        .with_context(|| format!("sweep axis `{}`", a.path))?;
                }
            }
            Ok(t)
        };
        let parse =
            |t: toml::Table| Experiment::from_toml_value(toml::Value::Table(t), "sweep base");
        if let Err(e) = parse(with_first(None)?) {
            for (i, a) in self.axes.iter().enumerate() {
                if parse(with_first(Some(i))?).is_ok() {
                    return Err(e).with_context(|| format!("sweep axis `{}` does not name a valid config field (or its value {} does not fit it)", a.path, a.values[0]));
                }
            }
            return Err(e).context(if self.axes.is_empty() {
                "the sweep's [base] is not a valid experiment config"
            } else {
                "the sweep's [base], with every axis at its first value, is not a valid experiment config"
            });
        }
        let groups = self.groups()?;
        let sizes: Vec<usize> = groups
            .iter()
            .map(|g| self.axes[g[0]].values.len())
            .collect();
        let n_configs: usize = sizes.iter().product();
        let seeds: Vec<Option<u64>> = match &self.seeds {
            Some(s) => s.iter().copied().map(Some).collect(),
            None => vec![None],
        };
        let keys = self.keys();
        let mut runs = Vec::with_capacity(n_configs * seeds.len());
        for c in 0..n_configs {
            // Mixed-radix digits, the last group fastest.
            let mut digits = vec![0; groups.len()];
            let mut rest = c;
            for g in (0..groups.len()).rev() {
                digits[g] = rest % sizes[g];
                rest /= sizes[g];
            }
            let mut values: Vec<(String, toml::Value)> = Vec::new();
            let mut parts: Vec<String> = Vec::new();
            for (i, a) in self.axes.iter().enumerate() {
                let g = groups
                    .iter()
                    .position(|m| m.contains(&i))
                    .expect("every axis is in a group");
                let value = &a.values[digits[g]];
                let shown = match &a.labels {
                    Some(labels) => labels[digits[g]].clone(),
                    None => format_value(value),
                };
                parts.push(format!("{}={shown}", keys[i]));
                values.push((a.path.clone(), value.clone()));
            }
            for seed in &seeds {
                let mut config = self.base.clone();
                let mut v = values.clone();
                if let Some(s) = seed {
                    v.push(("seed".into(), toml::Value::Integer(*s as i64)));
                }
                for (path, value) in &v {
                    set_path(&mut config, path, value.clone())?;
                }
                let config_part = parts.join("__");
                let id = match seed {
                    Some(s) if config_part.is_empty() => format!("seed={s}"),
                    Some(s) => format!("{config_part}__seed={s}"),
                    None if config_part.is_empty() => BASE_CONFIG_ID.to_string(),
                    None => config_part.clone(),
                };
                let config_id = if config_part.is_empty() {
                    BASE_CONFIG_ID.to_string()
                } else {
                    config_part
                };
                runs.push(PlannedRun {
                    index: runs.len(),
                    id,
                    config_id,
                    values: v,
                    seed: 0,
                    config,
                    experiment: placeholder(),
                });
            }
        }
        shorten_ids(&mut runs);
        for run in &mut runs {
            let describe = run
                .values
                .iter()
                .map(|(p, v)| format!("{p} = {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let ctx = || format!("sweep run `{}` ({describe})", run.id);
            run.config.insert(
                "name".into(),
                toml::Value::String(format!("{}/{}", self.name, run.id)),
            );
            let exp = Experiment::from_toml_value(toml::Value::Table(run.config.clone()), &run.id)
                .with_context(ctx)?;
            exp.validate(registry).with_context(ctx)?;
            run.seed = exp.seed;
            run.experiment = exp;
        }
        Ok(runs)
    }

    /// The id key of each axis: the last path segment, or the full path if ambiguous.
    fn keys(&self) -> Vec<String> {
        let last = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
        self.axes
            .iter()
            .map(|a| {
                let l = last(&a.path);
                let clash = l == "seed"
                    || self
                        .axes
                        .iter()
                        .any(|b| b.path != a.path && last(&b.path) == l);
                if clash {
                    sanitize(&a.path)
                } else {
                    sanitize(&l)
                }
            })
            .collect()
    }
}

fn placeholder() -> Experiment {
    // Replaced right after ids are final; never observed.
    Experiment::from_toml_str("[target]\nn = 4\nfrequencies = [1]\n[optimizer]\nname = \"sgd\"\nlr = 1\n[train]\nepochs = 1\n", "placeholder").expect("valid placeholder")
}

/// Make ids unique and short: too long or colliding ids get `~<hash of the values>`.
fn shorten_ids(runs: &mut [PlannedRun]) {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    let mut variants: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for r in runs.iter() {
        *count.entry(r.id.clone()).or_default() += 1;
        variants
            .entry(r.config_id.clone())
            .or_default()
            .insert(canonical(config_values(r)));
    }
    for r in runs.iter_mut() {
        let canon = canonical(config_values(r));
        let config_ambiguous = variants[&r.config_id].len() > 1;
        if config_ambiguous || r.config_id.len() > MAX_ID_LEN {
            r.config_id = with_hash(&r.config_id, &canon);
        }
        if count[&r.id] > 1 || r.id.len() > MAX_ID_LEN || config_ambiguous {
            let seed = r
                .values
                .last()
                .filter(|(p, _)| p == "seed")
                .map(|(_, v)| format_value(v));
            r.id = match seed {
                Some(s) if r.config_id == BASE_CONFIG_ID => format!("seed={s}"),
                Some(s) => format!("{}__seed={s}", r.config_id),
                None => r.config_id.clone(),
            };
        }
    }
}

/// The axis values without the seed.
fn config_values(r: &PlannedRun) -> &[(String, toml::Value)] {
    let has_seed = r.values.last().is_some_and(|(p, _)| p == "seed");
    &r.values[..r.values.len() - usize::from(has_seed)]
}

fn with_hash(id: &str, canon: &str) -> String {
    let keep: String = id.chars().take(MAX_ID_LEN - 10).collect();
    format!("{keep}~{:08x}", fnv1a(canon.as_bytes()) as u32)
}

fn canonical(values: &[(String, toml::Value)]) -> String {
    values
        .iter()
        .map(|(p, v)| format!("{p}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// A value as a filesystem-safe id fragment.
pub fn format_value(v: &toml::Value) -> String {
    let raw = match v {
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => {
            // Shortest readable form: 0, 0.25, 1e-10 (not 0.0000000001).
            let plain = format!("{f}");
            if plain.len() > 8 {
                format!("{f:e}")
            } else {
                plain
            }
        }
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(a) => a.iter().map(format_value).collect::<Vec<_>>().join("x"),
        toml::Value::Table(t) => {
            let mut parts: Vec<String> = t.get("kind").map(format_value).into_iter().collect();
            parts.extend(
                t.iter()
                    .filter(|(k, _)| *k != "kind")
                    .map(|(k, v)| format!("{k}{}", format_value(v))),
            );
            parts.join(".")
        }
    };
    sanitize(&raw)
}

/// Keep letters, digits and `. _ - + =`; replace anything else by `~`; no leading dot.
fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-+=".contains(c) {
                c
            } else {
                '~'
            }
        })
        .collect();
    if out.starts_with('.') {
        out.insert(0, '~');
    }
    out
}

fn expand_range(r: &RawRange) -> Result<Vec<toml::Value>> {
    let as_f64 = |v: &toml::Value, what: &str| -> Result<f64> {
        match v {
            toml::Value::Integer(i) => Ok(*i as f64),
            toml::Value::Float(f) if f.is_finite() => Ok(*f),
            other => bail!("range.{what} must be a finite number, got {other}"),
        }
    };
    let (start, stop) = (as_f64(&r.start, "start")?, as_f64(&r.stop, "stop")?);
    if r.num == 0 {
        bail!("range.num must be at least 1");
    }
    if r.log && !(start > 0.0 && stop > 0.0) {
        bail!("a log range needs start > 0 and stop > 0, got start = {start}, stop = {stop}");
    }
    let n = r.num;
    let frac = |i: usize| {
        if n == 1 {
            0.0
        } else {
            i as f64 / (n - 1) as f64
        }
    };
    if !r.log
        && matches!(
            (&r.start, &r.stop),
            (toml::Value::Integer(_), toml::Value::Integer(_))
        )
    {
        let (a, b) = (
            r.start.as_integer().expect("int"),
            r.stop.as_integer().expect("int"),
        );
        if n == 1 {
            return Ok(vec![toml::Value::Integer(a)]);
        }
        if (b - a) % (n as i64 - 1) == 0 {
            let step = (b - a) / (n as i64 - 1);
            return Ok((0..n as i64)
                .map(|i| toml::Value::Integer(a + i * step))
                .collect());
        }
    }
    Ok((0..n)
        .map(|i| {
            let x = if i + 1 == n && n > 1 {
                stop
            } else if r.log {
                10f64.powf(start.log10() + frac(i) * (stop.log10() - start.log10()))
            } else {
                start + frac(i) * (stop - start)
            };
            toml::Value::Float(round_sig(if i == 0 { start } else { x }, 12))
        })
        .collect())
}

/// Round to `digits` significant digits.
fn round_sig(x: f64, digits: usize) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{:.*e}", digits - 1, x).parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[base]\nseed = 9\n[base.target]\nn = 64\nfrequencies = [1, 3]\n[base.model]\nhidden = [8]\n[base.optimizer]\nname = \"padam\"\nlr = 1e-3\np = 0.5\n[base.train]\nepochs = 3\n";

    fn spec(extra: &str) -> Result<SweepSpec> {
        SweepSpec::from_toml_str(&format!("{extra}\n{BASE}"), "s.toml", "s", Path::new("."))
    }

    fn ids(extra: &str) -> Vec<(String, String)> {
        spec(extra)
            .unwrap()
            .expand(&Registry::builtin())
            .unwrap()
            .into_iter()
            .map(|r| (r.id, r.config_id))
            .collect()
    }

    fn err(extra: &str) -> String {
        match spec(extra).and_then(|s| s.expand(&Registry::builtin())) {
            Ok(_) => panic!("expected an error for {extra}"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn cartesian_product_last_axis_fastest_seeds_innermost() {
        let s = spec("seeds = 2\n[[axis]]\npath = \"optimizer.p\"\nvalues = [-0.5, 0.5]\n[[axis]]\npath = \"model.hidden\"\nvalues = [[8], [4, 4]]\n").unwrap();
        let runs = s.expand(&Registry::builtin()).unwrap();
        let got: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            got,
            [
                "p=-0.5__hidden=8__seed=0",
                "p=-0.5__hidden=8__seed=1",
                "p=-0.5__hidden=4x4__seed=0",
                "p=-0.5__hidden=4x4__seed=1",
                "p=0.5__hidden=8__seed=0",
                "p=0.5__hidden=8__seed=1",
                "p=0.5__hidden=4x4__seed=0",
                "p=0.5__hidden=4x4__seed=1"
            ]
        );
        assert_eq!(runs[3].config_id, "p=-0.5__hidden=4x4");
        assert_eq!(runs[3].experiment.model.hidden, [4, 4]);
        assert_eq!(runs[3].seed, 1);
        assert_eq!(runs[3].experiment.seed, 1);
        assert_eq!(runs[3].experiment.name, "s/p=-0.5__hidden=4x4__seed=1");
        assert_eq!(
            runs[5].experiment.optimizer.settings["p"],
            toml::Value::Float(0.5)
        );
        assert!(runs.iter().enumerate().all(|(i, r)| r.index == i));
    }

    #[test]
    fn labels_name_values_in_ids() {
        let s = "seeds = 1\n[[axis]]\npath = \"optimizer\"\nvalues = [{ name = \"adam\", lr = 0.1 }, { name = \"sgd\", lr = 0.1, momentum = 0.9 }]\nlabels = [\"adam\", \"sgd-m0.9\"]\n";
        let got = ids(s);
        assert_eq!(
            got[0],
            (
                "optimizer=adam__seed=0".to_string(),
                "optimizer=adam".to_string()
            )
        );
        assert_eq!(got[1].1, "optimizer=sgd-m0.9");
        let e = err("[[axis]]\npath = \"optimizer.p\"\nvalues = [0.0, 0.5]\nlabels = [\"a\"]\n");
        assert!(e.contains("`labels` has 1 entries"), "{e}");
        let e =
            err("[[axis]]\npath = \"optimizer.p\"\nvalues = [0.0, 0.5]\nlabels = [\"a\", \"a\"]\n");
        assert!(e.contains("distinct"), "{e}");
    }

    #[test]
    fn zips_seeds_shorthand_and_lists() {
        let s = "seeds = [3, 5]\n[[axis]]\npath = \"optimizer.p\"\nvalues = [0.0, 0.25]\nzip = \"z\"\n[[axis]]\npath = \"optimizer.lr\"\nvalues = [0.1, 0.01]\nzip = \"z\"\n[[axis]]\npath = \"train.epochs\"\nvalues = [2, 4]\n";
        let got: Vec<String> = ids(s).into_iter().map(|x| x.0).collect();
        assert_eq!(
            got,
            [
                "p=0__lr=0.1__epochs=2__seed=3",
                "p=0__lr=0.1__epochs=2__seed=5",
                "p=0__lr=0.1__epochs=4__seed=3",
                "p=0__lr=0.1__epochs=4__seed=5",
                "p=0.25__lr=0.01__epochs=2__seed=3",
                "p=0.25__lr=0.01__epochs=2__seed=5",
                "p=0.25__lr=0.01__epochs=4__seed=3",
                "p=0.25__lr=0.01__epochs=4__seed=5"
            ]
        );
        // No seeds: the base seed, ids without a seed part; no axes at all: `base`.
        let runs = spec("[[axis]]\npath = \"optimizer.p\"\nvalues = [0.1]\n")
            .unwrap()
            .expand(&Registry::builtin())
            .unwrap();
        assert_eq!((runs[0].id.as_str(), runs[0].seed), ("p=0.1", 9));
        assert_eq!(ids(""), [("base".to_string(), "base".to_string())]);
        assert_eq!(
            ids("seeds = 2")
                .into_iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            ["seed=0", "seed=1"]
        );
        assert!(err("seeds = [1, 1]").contains("twice"));
    }

    #[test]
    fn ranges_linear_log_and_integer() {
        let s = spec("[[axis]]\npath = \"optimizer.lr\"\nrange = { start = 1e-4, stop = 1e-2, num = 5, log = true }\n[[axis]]\npath = \"optimizer.p\"\nrange = { start = -0.5, stop = 0.5, num = 5 }\n[[axis]]\npath = \"train.epochs\"\nrange = { start = 2, stop = 10, num = 3 }\n").unwrap();
        let f = |i: usize| {
            s.axes[i]
                .values
                .iter()
                .map(|v| v.as_float().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            f(0),
            [1e-4, 0.000316227766017, 1e-3, 0.00316227766017, 1e-2]
        );
        assert_eq!(f(1), [-0.5, -0.25, 0.0, 0.25, 0.5]);
        assert_eq!(s.axes[2].values, [2, 6, 10].map(toml::Value::Integer));
        let one = spec(
            "[[axis]]\npath = \"optimizer.p\"\nrange = { start = 0.3, stop = 0.9, num = 1 }\n",
        )
        .unwrap();
        assert_eq!(one.axes[0].values, [toml::Value::Float(0.3)]);
        assert!(err("[[axis]]\npath = \"optimizer.lr\"\nrange = { start = 0, stop = 1, num = 3, log = true }\n").contains("log range needs start > 0"));
        assert!(err("[[axis]]\npath = \"optimizer.lr\"\nrange = { start = 0.1, stop = 1, num = 3 }\nvalues = [1]\n").contains("not both"));
    }

    #[test]
    fn tables_and_long_or_ambiguous_ids() {
        let got = ids("[[axis]]\npath = \"optimizer.p\"\nvalues = [0.5, { kind = \"cosine\", min = -0.5, max = 0.5, period = 10 }]\n");
        assert_eq!(got[1].0, "p=cosine.max0.5.min-0.5.period10");
        // Same last segment: the full path is the key.
        let got = ids("[[axis]]\npath = \"target.n\"\nvalues = [64]\n[[axis]]\npath = \"target.test.n\"\nvalues = [32]\n");
        assert_eq!(got[0].0, "target.n=64__target.test.n=32");
    }

    #[test]
    fn long_ids_get_a_hash() {
        let freqs: Vec<String> = (1..45).map(|k| k.to_string()).collect();
        let extra = format!(
            "seeds = 1\n[[axis]]\npath = \"target.frequencies\"\nvalues = [[{}], [{}, 45]]\n",
            freqs.join(","),
            freqs.join(",")
        );
        let text = format!("{extra}\n{}", BASE.replace("n = 64", "n = 128"));
        let runs = SweepSpec::from_toml_str(&text, "s.toml", "s", Path::new("."))
            .unwrap()
            .expand(&Registry::builtin())
            .unwrap();
        assert!(
            runs[0].config_id.len() <= MAX_ID_LEN && runs[0].config_id.contains('~'),
            "{}",
            runs[0].config_id
        );
        assert_ne!(runs[0].config_id, runs[1].config_id);
        assert_eq!(runs[0].id, format!("{}__seed=0", runs[0].config_id));
        // 1 and 1.0 are the same value: the same runs would be planned twice.
        let e = format!(
            "{:#}",
            spec("[[axis]]\npath = \"optimizer.p\"\nvalues = [1, 1.0]\n").unwrap_err()
        );
        assert!(
            e.contains("s.toml") && e.contains("optimizer.p") && e.contains("same value twice"),
            "{e}"
        );
    }

    #[test]
    fn unknown_paths_and_bad_values_are_named() {
        let e = err("[[axis]]\npath = \"target.frequences\"\nvalues = [[1]]\n");
        assert!(
            e.contains("target.frequences") && e.contains("did you mean `frequencies`"),
            "{e}"
        );
        let e = err("[[axis]]\npath = \"trian.epochs\"\nvalues = [1]\n");
        assert!(
            e.contains("trian.epochs") && e.contains("did you mean `train`"),
            "{e}"
        );
        let e = err("[[axis]]\npath = \"optimizer.pp\"\nvalues = [1]\n");
        assert!(
            e.contains("optimizer.pp") && e.contains("did you mean `p`"),
            "{e}"
        );
        let e = err("[[axis]]\npath = \"seed.x\"\nvalues = [1]\n");
        assert!(e.contains("seed.x") && e.contains("not a table"), "{e}");
        let e = err("[[axis]]\npath = \"target.n\"\nvalues = [64, 3]\n");
        assert!(e.contains("target.n = 3") && e.contains("n=3"), "{e}");
        let e = err("[[axes]]\npath = \"target.n\"\nvalues = [64]\n");
        assert!(
            e.contains("axes") && e.contains("did you mean `axis`"),
            "{e}"
        );
        // An optional section may be created by a path.
        let runs = spec("[[axis]]\npath = \"spectral.layout\"\nvalues = [{ kind = \"octave\" }]\n")
            .unwrap()
            .expand(&Registry::builtin())
            .unwrap();
        assert_eq!(runs[0].experiment.spectral.layout.kind(), "octave");
    }

    #[test]
    fn a_base_may_leave_out_a_table_that_an_axis_fills() {
        let base =
            "[base]\n[base.target]\nn = 64\nfrequencies = [1, 3]\n[base.train]\nepochs = 3\n";
        let axis = "[[axis]]\npath = \"optimizer\"\nlabels = [\"sgd\", \"adam\"]\nvalues = [{ name = \"sgd\", lr = 0.1 }, { name = \"adam\", lr = 1e-3 }]\n";
        let s = SweepSpec::from_toml_str(&format!("{axis}{base}"), "s.toml", "s", Path::new("."))
            .unwrap();
        let runs = s.expand(&Registry::builtin()).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].experiment.optimizer.name, "adam");
        // Without the axis the same base is still an error that names the missing table.
        let e = SweepSpec::from_toml_str(base, "s.toml", "s", Path::new("."))
            .and_then(|s| s.expand(&Registry::builtin()))
            .unwrap_err();
        assert!(format!("{e:#}").contains("optimizer"), "{e:#}");
    }

    #[test]
    fn search_seeds_never_overlap_evaluation_seeds() {
        let search = |extra: &str| spec(extra).map(|s| s.lr_search.unwrap().seeds);
        // A count gives that many seeds from 1000 up, skipping evaluation seeds.
        assert_eq!(
            search("seeds = [0, 1000]\n[lr_search]\ngrid = [0.1]\nseeds = 2\n").unwrap(),
            [1001, 1002]
        );
        // No seed axis: the evaluation seed is the base's seed (9 in BASE).
        let e = format!(
            "{:#}",
            search("[lr_search]\ngrid = [0.1]\nseeds = [9, 10]\n").unwrap_err()
        );
        assert!(
            e.contains("share seed(s) 9 with the evaluation seeds (9)"),
            "{e}"
        );
        // An explicit list that overlaps is refused, naming the field, the seeds and a fix.
        let e = err("seeds = 3\n[lr_search]\ngrid = [0.1]\nseeds = [2, 5]\n");
        assert!(
            e.contains("lr_search.seeds share seed(s) 2 with the evaluation seeds (0, 1, 2)")
                && e.contains("lr_search.seeds = [1000, 1001]"),
            "{e}"
        );
        // A disjoint list is kept as given.
        assert_eq!(
            search("seeds = 3\n[lr_search]\ngrid = [0.1]\nseeds = [7, 5]\n").unwrap(),
            [7, 5]
        );
    }

    #[test]
    fn mismatched_zip_lengths_are_an_error() {
        let e = err("[[axis]]\npath = \"optimizer.p\"\nvalues = [0.1, 0.2]\nzip = \"z\"\n[[axis]]\npath = \"optimizer.lr\"\nvalues = [0.1]\nzip = \"z\"\n");
        assert!(
            e.contains("zip group `z`")
                && e.contains("optimizer.lr")
                && e.contains("equal lengths"),
            "{e}"
        );
    }

    #[test]
    fn base_from_a_file_and_lr_search() {
        let tmp = tempfile::tempdir().unwrap();
        let base_text = BASE.replace("[base.", "[").replace("[base]\n", "");
        std::fs::write(tmp.path().join("b.toml"), base_text).unwrap();
        std::fs::write(
            tmp.path().join("sw.toml"),
            "base = \"b.toml\"\nseeds = 2\n[lr_search]\ngrid = [1e-3, 1e-2]\nepochs = 2\n",
        )
        .unwrap();
        let s = SweepSpec::load(&tmp.path().join("sw.toml")).unwrap();
        assert_eq!(s.name, "sw");
        // Default: two search seeds from 1000 up, disjoint from the evaluation seeds 0, 1.
        assert_eq!(s.lr_search.as_ref().unwrap().seeds, [1000, 1001]);
        assert_eq!(
            s.lr_search.as_ref().unwrap().criterion,
            Criterion::FinalTrainLoss
        );
        assert_eq!(s.expand(&Registry::builtin()).unwrap().len(), 2);
        assert!(err(
            "[lr_search]\ngrid = [0.1]\n[[axis]]\npath = \"optimizer.lr\"\nvalues = [1]\n"
        )
        .contains("cannot also be an axis"));
    }
}
