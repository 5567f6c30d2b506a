//! The `[target]` table of a config: which function a network fits, on which grid, and its
//! checks (every error names the field and what is allowed).

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[target]`: a 1D sum of sines (`kind = "sines"`, the default) or, with
/// `kind = "waves2d"`, a 2D sum of plane waves and separable products on an `N x M` grid
/// (see [`Waves2dSpec`] and [`crate::task::targets::waves2d`]). Parsed through [`RawTargetSpec`], which
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
    /// `classes = K`: a classification task on the grid (see [`crate::task::classify`]).
    #[serde(default)]
    pub classes: Option<usize>,
    /// `kind = "dataset"`: features and labels read from files (then `n` is 0 until loaded).
    #[serde(default)]
    pub dataset: Option<DataSource>,
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
    Dataset,
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
    /// Required by the grid kinds; not used by `kind = "dataset"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<GridSize>,
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
    /// Classification on the grid: K classes (2: sign of the target; K >= 3: argmax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<usize>,
    /// `kind = "dataset"`: a built-in dataset (`name = "mnist1d"`) ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// ... or four files (NPY or CSV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_train: Option<std::path::PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_train: Option<std::path::PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_test: Option<std::path::PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_test: Option<std::path::PathBuf>,
}

fn is_sines(k: &TargetKind) -> bool {
    *k == TargetKind::Sines
}

impl TryFrom<RawTargetSpec> for TargetSpec {
    type Error = String;
    fn try_from(r: RawTargetSpec) -> std::result::Result<TargetSpec, String> {
        let dataset = DataSource::from_raw(&r)?;
        let (n, waves2d) = match r.kind {
            TargetKind::Dataset => (0, None),
            TargetKind::Sines => {
                let Some(GridSize::One(n)) = r.n else {
                    if r.n.is_none() {
                        return Err("target.n is missing: give the number of grid points, e.g. n = 256 (or set target.kind = \"dataset\" to read data from files)".into());
                    }
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
                    Some(GridSize::One(n)) => [n, n],
                    Some(GridSize::Two(d)) => d,
                    None => {
                        return Err("target.n is missing: give the grid size, n = [N, M]".into())
                    }
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
            classes: r.classes,
            dataset,
        })
    }
}

impl From<TargetSpec> for RawTargetSpec {
    fn from(t: TargetSpec) -> RawTargetSpec {
        let (kind, n, waves, products, checkerboard) = match t.waves2d {
            None if t.dataset.is_some() => (TargetKind::Dataset, None, vec![], vec![], None),
            None => (
                TargetKind::Sines,
                Some(GridSize::One(t.n)),
                vec![],
                vec![],
                None,
            ),
            Some(w) => (
                TargetKind::Waves2d,
                Some(GridSize::Two(w.dims)),
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
            classes: t.classes,
            name: t.dataset.as_ref().and_then(|d| d.name.clone()),
            x_train: t
                .dataset
                .as_ref()
                .and_then(|d| d.files.as_ref().map(|f| f[0].clone())),
            y_train: t
                .dataset
                .as_ref()
                .and_then(|d| d.files.as_ref().map(|f| f[1].clone())),
            x_test: t
                .dataset
                .as_ref()
                .and_then(|d| d.files.as_ref().map(|f| f[2].clone())),
            y_test: t
                .dataset
                .as_ref()
                .and_then(|d| d.files.as_ref().map(|f| f[3].clone())),
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

/// The `[target]` checks of a 1D sum of sines.
pub fn validate_target_1d(t: &TargetSpec) -> Result<()> {
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
pub fn check_phases(phases: &Phases) -> Result<()> {
    if let Phases::List(p) = phases {
        if let Some((i, x)) = p.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            bail!(
                "target.phases[{i}] = {x} is not a finite number: phases are in cycles, e.g. 0.25"
            );
        }
    }
    Ok(())
}

/// Built-in datasets (`target.name` of a `kind = "dataset"` target).
pub const BUILTIN: &[&str] = &["mnist1d"];

/// Where a `kind = "dataset"` target reads its data: a built-in name or four files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    pub name: Option<String>,
    /// `[x_train, y_train, x_test, y_test]`.
    pub files: Option<[PathBuf; 4]>,
}

const FILE_FIELDS: [&str; 4] = ["x_train", "y_train", "x_test", "y_test"];

impl DataSource {
    /// The dataset fields of a raw `[target]` table (None for the grid kinds); errors name the
    /// field and the fix.
    pub fn from_raw(r: &RawTargetSpec) -> std::result::Result<Option<DataSource>, String> {
        let files = [&r.x_train, &r.y_train, &r.x_test, &r.y_test];
        if r.kind != TargetKind::Dataset {
            if r.name.is_some() {
                return Err("target.name selects a built-in dataset: set target.kind = \"dataset\", or remove it".into());
            }
            if let Some(i) = files.iter().position(|f| f.is_some()) {
                return Err(format!(
                    "target.{} is a data file: set target.kind = \"dataset\", or remove it",
                    FILE_FIELDS[i]
                ));
            }
            return Ok(None);
        }
        for (field, used) in [
            ("n", r.n.is_some()),
            ("frequencies", !r.frequencies.is_empty()),
            ("waves", !r.waves.is_empty()),
            ("products", !r.products.is_empty()),
            ("checkerboard", r.checkerboard.is_some()),
            ("noise", r.noise != 0.0),
            ("noise_seed", r.noise_seed.is_some()),
            ("phases", r.phases != Phases::Random),
        ] {
            if used {
                return Err(format!("target.{field} is for the grid kinds (sines, waves2d); a kind = \"dataset\" target reads its points from files: remove it"));
            }
        }
        let given = files.iter().filter(|f| f.is_some()).count();
        match (&r.name, given) {
            (Some(name), 0) => {
                if !BUILTIN.contains(&name.as_str()) {
                    return Err(format!("target.name = \"{name}\" is not a built-in dataset: use one of {BUILTIN:?}, or give target.x_train, y_train, x_test and y_test"));
                }
                Ok(Some(DataSource {
                    name: Some(name.clone()),
                    files: None,
                }))
            }
            (Some(_), _) => Err("target.name and target.x_train/... both given: use either a built-in name or the four files".into()),
            (None, 4) => Ok(Some(DataSource {
                name: None,
                files: Some(files.map(|f| f.clone().expect("all four given"))),
            })),
            (None, _) => {
                let missing: Vec<&str> = FILE_FIELDS
                    .iter()
                    .zip(files)
                    .filter(|(_, f)| f.is_none())
                    .map(|(n, _)| *n)
                    .collect();
                Err(format!("a kind = \"dataset\" target needs target.name = \"mnist1d\" or all four files; missing: target.{}", missing.join(", target.")))
            }
        }
    }

    /// The four files to load.
    pub fn spec(&self, classes: Option<usize>) -> crate::task::dataset::DatasetSpec {
        let files = match (&self.files, &self.name) {
            (Some(f), _) => f.clone(),
            (None, _) => {
                let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mnist1d");
                ["x_train", "y_train", "x_test", "y_test"].map(|f| dir.join(format!("{f}.npy")))
            }
        };
        let [x_train, y_train, x_test, y_test] = files;
        crate::task::dataset::DatasetSpec {
            x_train,
            y_train,
            x_test,
            y_test,
            kind: crate::task::dataset::Kind::Classification { classes },
        }
    }
}
