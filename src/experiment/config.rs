//! Experiment specs: the TOML config a user writes, its parsing (unknown keys are errors, with
//! a "did you mean") and its validation (errors name the field path and what is allowed).

use crate::base::suggest::did_you_mean;
use crate::nn::model::{Activation, Init};
use crate::optim::{OptimizerConfig, Registry, ResolvedOptimizer};
use crate::spectral::LayoutSpec;
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

/// `[target]`: a 1D sum of sines (`kind = "sines"`, the default) or, with
/// `kind = "waves2d"`, a 2D sum of plane waves and separable products on an `N x M` grid
/// (see [`Waves2dSpec`] and [`crate::task::target2d`]). Parsed through [`RawTargetSpec`], which
/// accepts `n = 256` or `n = [N, M]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawTargetSpec", into = "RawTargetSpec")]
pub struct TargetSpec {
    /// Number of training grid points: N (t = n/N, n = 0..N-1) in 1D, N * M in 2D.
    pub n: usize,
    /// Integer frequencies k_i in cycles per unit length; each must be < N/2.
    pub frequencies: Vec<usize>,
    /// One amplitude for all components or one per component.
    #[serde(default)]
    pub amplitudes: Amplitudes,
    /// "zero", "random" (drawn from the run seed) or a list of phases in cycles.
    #[serde(default)]
    pub phases: Phases,
    /// Standard deviation of Gaussian noise added to the training values.
    #[serde(default)]
    pub noise: f64,
    /// Seed of the noise (defaults to the run seed).
    #[serde(default)]
    pub noise_seed: Option<u64>,
    /// The evaluation grid.
    #[serde(default)]
    pub test: TestGridSpec,
    /// The 2D target (`kind = "waves2d"`); None for a 1D sum of sines.
    #[serde(default)]
    pub waves2d: Option<Waves2dSpec>,
}

/// The 2D part of a `kind = "waves2d"` target:
/// `y(x, y) = sum_i A_i sin(2 pi (kx_i x + ky_i y) + 2 pi phi_i)` (waves)
/// `+ sum_j A_j sin(2 pi kx_j x + 2 pi phi_j) sin(2 pi ky_j y)` (products)
/// `+ checkerboard terms` on `(i/N, j/M)`, `[0, 1)^2` without the endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waves2dSpec {
    /// Grid points `[N, M]` along x and y.
    pub dims: [usize; 2],
    /// Integer plane-wave frequencies `[kx, ky]` (cycles per unit length, signed).
    pub waves: Vec<[i64; 2]>,
    /// Integer frequencies `[kx, ky]` of separable products `sin(2 pi kx x) sin(2 pi ky y)`.
    pub products: Vec<[i64; 2]>,
    /// A square-wave checkerboard of `k` cycles per axis, given by its frequency content: the
    /// products `16/(pi^2 a b) sin(2 pi a k x) sin(2 pi b k y)` for odd `a`, `b` below Nyquist.
    pub checkerboard: Option<usize>,
}

/// Target kinds of the `[target]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    #[default]
    Sines,
    Waves2d,
}

/// The grid size as written: `n = 256` or `n = [N, M]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridSize {
    One(usize),
    Two([usize; 2]),
}

impl Serialize for GridSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            GridSize::One(n) => s.serialize_u64(*n as u64),
            GridSize::Two(d) => d.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for GridSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = GridSize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a grid size: an integer N, or [N, M] for a 2D target")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<GridSize, E> {
                Ok(GridSize::One(v as usize))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<GridSize, E> {
                usize::try_from(v)
                    .map(GridSize::One)
                    .map_err(|_| E::custom(format!("grid size {v} must be >= 0")))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<GridSize, A::Error> {
                let mut v: Vec<usize> = Vec::new();
                while let Some(x) = a.next_element::<usize>()? {
                    v.push(x);
                }
                match v[..] {
                    [n, m] => Ok(GridSize::Two([n, m])),
                    _ => Err(serde::de::Error::custom(format!(
                        "a 2D grid size is [N, M], two integers, got {} numbers",
                        v.len()
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `[target]` as written (both kinds); converted to [`TargetSpec`] with shape checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargetSpec {
    /// "sines" (1D, default) or "waves2d".
    #[serde(default, skip_serializing_if = "is_sines")]
    pub kind: TargetKind,
    pub n: GridSize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frequencies: Vec<usize>,
    /// `[kx, ky]` pairs; read as lists so that a wrong length is an error, not truncated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waves: Vec<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkerboard: Option<usize>,
    #[serde(default)]
    pub amplitudes: Amplitudes,
    #[serde(default)]
    pub phases: Phases,
    #[serde(default)]
    pub noise: f64,
    #[serde(default)]
    pub noise_seed: Option<u64>,
    #[serde(default)]
    pub test: TestGridSpec,
}

fn is_sines(k: &TargetKind) -> bool {
    *k == TargetKind::Sines
}

impl TryFrom<RawTargetSpec> for TargetSpec {
    type Error = String;
    fn try_from(r: RawTargetSpec) -> std::result::Result<TargetSpec, String> {
        let (n, waves2d) = match r.kind {
            TargetKind::Sines => {
                let GridSize::One(n) = r.n else {
                    return Err("target.n = [N, M] is a 2D grid: set target.kind = \"waves2d\" (with target.waves), or give one integer N for a 1D target".into());
                };
                for (name, used) in [
                    ("waves", !r.waves.is_empty()),
                    ("products", !r.products.is_empty()),
                    ("checkerboard", r.checkerboard.is_some()),
                ] {
                    if used {
                        return Err(format!("target.{name} is only for 2D targets: set target.kind = \"waves2d\" and target.n = [N, M]"));
                    }
                }
                (n, None)
            }
            TargetKind::Waves2d => {
                let dims = match r.n {
                    GridSize::One(n) => [n, n],
                    GridSize::Two(d) => d,
                };
                if !r.frequencies.is_empty() {
                    return Err("target.frequencies is for 1D targets; a waves2d target lists target.waves = [[kx, ky], ...] (and/or products, checkerboard)".into());
                }
                let points = dims[0].checked_mul(dims[1]).ok_or_else(|| {
                    format!(
                        "target.n = [{}, {}] has more than 2^64 points: use a smaller grid",
                        dims[0], dims[1]
                    )
                })?;
                let pairs = |field: &str,
                             list: &[Vec<i64>]|
                 -> std::result::Result<Vec<[i64; 2]>, String> {
                    list.iter()
                        .enumerate()
                        .map(|(i, k)| match k.as_slice() {
                            &[kx, ky] => Ok([kx, ky]),
                            _ => Err(format!("target.{field}[{i}] = {k:?} has {} entries: each is one pair [kx, ky]", k.len())),
                        })
                        .collect()
                };
                (
                    points,
                    Some(Waves2dSpec {
                        dims,
                        waves: pairs("waves", &r.waves)?,
                        products: pairs("products", &r.products)?,
                        checkerboard: r.checkerboard,
                    }),
                )
            }
        };
        Ok(TargetSpec {
            n,
            frequencies: r.frequencies,
            amplitudes: r.amplitudes,
            phases: r.phases,
            noise: r.noise,
            noise_seed: r.noise_seed,
            test: r.test,
            waves2d,
        })
    }
}

impl From<TargetSpec> for RawTargetSpec {
    fn from(t: TargetSpec) -> RawTargetSpec {
        let (kind, n, waves, products, checkerboard) = match t.waves2d {
            None => (TargetKind::Sines, GridSize::One(t.n), vec![], vec![], None),
            Some(w) => (
                TargetKind::Waves2d,
                GridSize::Two(w.dims),
                w.waves.iter().map(|k| k.to_vec()).collect(),
                w.products.iter().map(|k| k.to_vec()).collect(),
                w.checkerboard,
            ),
        };
        RawTargetSpec {
            kind,
            n,
            frequencies: t.frequencies,
            waves,
            products,
            checkerboard,
            amplitudes: t.amplitudes,
            phases: t.phases,
            noise: t.noise,
            noise_seed: t.noise_seed,
            test: t.test,
        }
    }
}

impl TargetSpec {
    /// Number of configured components (1D frequencies, or 2D waves + products), the length
    /// `amplitudes` and `phases` lists must have.
    pub fn n_components(&self) -> usize {
        match &self.waves2d {
            None => self.frequencies.len(),
            Some(w) => w.waves.len() + w.products.len(),
        }
    }
}

/// `[target.test]`: the evaluation grid t = (n + offset)/N_test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestGridSpec {
    /// Points on the test grid (defaults to the training N).
    #[serde(default)]
    pub n: Option<usize>,
    /// Offset in units of the test spacing, in [0, 1); 0.5 puts points between training points.
    #[serde(default = "half")]
    pub offset: f64,
}

fn half() -> f64 {
    0.5
}

impl Default for TestGridSpec {
    fn default() -> Self {
        TestGridSpec {
            n: None,
            offset: 0.5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Amplitudes {
    All(f64),
    Each(Vec<f64>),
}

impl Default for Amplitudes {
    fn default() -> Self {
        Amplitudes::All(1.0)
    }
}

impl Amplitudes {
    pub fn expand(&self, n: usize) -> Vec<f64> {
        match self {
            Amplitudes::All(a) => vec![*a; n],
            Amplitudes::Each(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum Phases {
    List(Vec<f64>),
    #[serde(with = "phase_word")]
    #[default]
    Random,
    #[serde(with = "zero_word")]
    Zero,
}

macro_rules! word {
    ($module:ident, $word:literal) => {
        mod $module {
            pub fn serialize<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($word)
            }
            pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<(), D::Error> {
                let w = <String as serde::Deserialize>::deserialize(d)?;
                if w == $word {
                    Ok(())
                } else {
                    Err(serde::de::Error::custom(concat!(
                        "expected \"",
                        $word,
                        "\""
                    )))
                }
            }
        }
    };
}
word!(phase_word, "random");
word!(zero_word, "zero");

/// `[model]`: the MLP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    #[serde(default)]
    pub activation: Activation,
    #[serde(default)]
    pub init: Init,
    /// The grid coordinate t in [0, 1) is fed to the network as lo + (hi - lo) t.
    #[serde(default = "default_input_range")]
    pub input_range: [f64; 2],
    /// Optional random Fourier-feature input mapping (Tancik et al. 2020): the network sees
    /// `[cos(2 pi B v), sin(2 pi B v)]` of the grid coordinates `v` in `[0, 1)^d` instead of
    /// the linear map given by `input_range`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fourier_features: Option<FourierFeaturesSpec>,
}

/// `[model] fourier_features = { count = 64, scale = 10.0 }`: `B` is `count x d` with entries
/// drawn from N(0, scale^2) (seeded from the run seed, stream `Features`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FourierFeaturesSpec {
    pub count: usize,
    pub scale: f64,
}

fn default_hidden() -> Vec<usize> {
    vec![64, 64]
}

fn default_input_range() -> [f64; 2] {
    [-1.0, 1.0]
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            hidden: default_hidden(),
            activation: Activation::default(),
            init: Init::default(),
            input_range: default_input_range(),
            fourier_features: None,
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
        crate::experiment::budget::check(self)?;
        let t = &self.target;
        match &t.waves2d {
            None => validate_target_1d(t)?,
            Some(w) => crate::task::target2d::validate(t, w)?,
        }
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
        if tr.batch_size > t.n {
            bail!("train.batch_size = {} exceeds the {} training points: use 0 (full batch) or at most {}", tr.batch_size, t.n, if t.waves2d.is_some() { "N * M" } else { "target.n" });
        }
        if tr.eval_every == 0 {
            bail!("train.eval_every must be at least 1");
        }
        if tr.divergence_factor.is_nan() || tr.divergence_factor <= 1.0 {
            bail!("train.divergence_factor must be > 1");
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
            crate::task::target2d::validate_layout(&s.layout, s.sectors, w)?;
        } else if s.enabled {
            crate::spectral::BandLayout::build(&s.layout, t.n, &t.frequencies)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(n) = t.test.n.filter(|_| s.grids.contains(&GridName::Test)) {
                crate::spectral::BandLayout::build(&s.layout, n, &t.frequencies)
                    .map_err(|e| anyhow::anyhow!("{e} (on the test grid of n = {n})"))?;
            }
        }
        registry.resolve(&self.optimizer)
    }

    /// Epochs at which the spectral monitor runs (given eval cadence).
    pub fn spectral_every(&self) -> u64 {
        self.spectral.every.unwrap_or(self.train.eval_every)
    }
}

/// The `[target]` checks of a 1D sum of sines.
/// Apply `--set PATH=VALUE` assignments to a config table: PATH is a dotted config path (as
/// for sweep axes), VALUE is TOML (a bare word is a string), as for `protocol --set`.
pub fn apply_sets(table: &mut toml::Table, sets: &[String]) -> Result<()> {
    for s in sets {
        let (key, value) = crate::app::protocol::parse_assignment(s)?;
        let value =
            crate::app::protocol::parse_value(&value).with_context(|| format!("--set {s}"))?;
        crate::app::sweep::spec::set_path(table, &key, value)
            .with_context(|| format!("--set {s}"))?;
    }
    Ok(())
}

fn validate_target_1d(t: &TargetSpec) -> Result<()> {
    if t.n < 4 {
        bail!(
            "target.n = {} is too small: use at least 4 grid points",
            t.n
        );
    }
    if t.frequencies.is_empty() {
        bail!("target.frequencies is empty: give at least one integer frequency, e.g. [1, 4, 16]");
    }
    for (i, &k) in t.frequencies.iter().enumerate() {
        if k == 0 {
            bail!("target.frequencies[{i}] = 0 is a constant offset, not a frequency (bandwise measures oscillating content): give integer frequencies >= 1");
        }
        if k.saturating_mul(2) >= t.n {
            bail!(
                    "target.frequencies[{i}] = {k} aliases on a grid of n = {}: frequencies must be below n/2 = {}; raise target.n above {} or drop this frequency",
                    t.n,
                    t.n / 2,
                    k.saturating_mul(2)
                );
        }
    }
    let mut sorted = t.frequencies.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        bail!("target.frequencies lists a frequency twice: give each once and set its amplitude in target.amplitudes");
    }
    if let Amplitudes::Each(a) = &t.amplitudes {
        if a.len() != t.frequencies.len() {
            bail!("target.amplitudes has {} entries but target.frequencies has {}: give one per frequency or a single number", a.len(), t.frequencies.len());
        }
    }
    if let Phases::List(p) = &t.phases {
        if p.len() != t.frequencies.len() {
            bail!("target.phases has {} entries but target.frequencies has {}: give one per frequency, \"zero\" or \"random\"", p.len(), t.frequencies.len());
        }
    }
    check_phases(&t.phases)?;
    let amplitudes = t.amplitudes.expand(t.frequencies.len());
    if amplitudes.iter().any(|a| !a.is_finite() || *a <= 0.0) {
        bail!("target.amplitudes must be finite and > 0");
    }
    if !(t.noise >= 0.0 && t.noise.is_finite()) {
        bail!(
            "target.noise must be a finite standard deviation >= 0, got {}",
            t.noise
        );
    }
    if let Some(n) = t.test.n {
        if n < 4 {
            bail!("target.test.n = {n} is too small: use at least 4 points");
        }
    }
    if !(0.0..1.0).contains(&t.test.offset) {
        bail!(
            "target.test.offset = {} must be in [0, 1) (a fraction of the test grid spacing)",
            t.test.offset
        );
    }
    Ok(())
}

/// Listed phases (both target kinds) must be finite numbers of cycles.
pub(crate) fn check_phases(phases: &Phases) -> Result<()> {
    if let Phases::List(p) = phases {
        if let Some((i, x)) = p.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            bail!(
                "target.phases[{i}] = {x} is not a finite number: phases are in cycles, e.g. 0.25"
            );
        }
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
