//! 2D synthetic targets (`[target] kind = "waves2d"`) on an `N x M` periodic grid over
//! `[0, 1)^2` without the endpoints: `(x_i, y_j) = (i/N, j/M)`, values stored row-major
//! `v[i * M + j]`, coordinates as `points x 2` (`t[2p] = x`, `t[2p + 1] = y`).
//!
//! Components (in this order; `amplitudes` and `phases` list waves then products):
//!
//! - wave `[kx, ky]`: `A sin(2 pi (kx x + ky y) + 2 pi phi)`, one peak at `(kx, ky)`;
//! - product `[kx, ky]`: `A sin(2 pi kx x + 2 pi phi) sin(2 pi ky y)` (the phase shifts the x
//!   factor), peaks at `(kx, ky)` and `(kx, -ky)` with plane-wave amplitude `A/2` each;
//! - `checkerboard = k`: the square-wave checkerboard `sign(sin(2 pi k x) sin(2 pi k y))`
//!   given by its frequency content, the products `16/(pi^2 a b) sin(2 pi a k x)
//!   sin(2 pi b k y)` for odd `a`, `b` with `a k < N/2`, `b k < M/2` (zero phase).
//!
//! Integer frequencies sit exactly on DFT bins; a frequency with `|kx| >= N/2` or
//! `|ky| >= M/2` aliases and is rejected. The test grid is the training grid shifted by
//! `offset` spacings along both axes (noise-free).

use crate::base::rng::{stream, Stream};
use crate::spectral::fft2d::{half_plane_bin, RealFft2d};
use crate::spectral::{LayoutSpec, Peak, RingLayout};
use crate::task::grid::GridData;
use crate::task::spec::{Phases, TargetSpec, Waves2dSpec};
use anyhow::{bail, Result};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;
use std::f64::consts::PI;

/// One 2D component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component2d {
    /// "wave", "product" or "checkerboard" (a product term of the checkerboard).
    pub kind: &'static str,
    pub kx: i64,
    pub ky: i64,
    pub amplitude: f64,
    /// Phase in cycles.
    pub phase: f64,
}

impl Component2d {
    /// Value at `(x, y)`.
    pub fn eval(&self, x: f64, y: f64) -> f64 {
        let (kx, ky) = (self.kx as f64, self.ky as f64);
        match self.kind {
            "wave" => self.amplitude * (2.0 * PI * (kx * x + ky * y + self.phase)).sin(),
            _ => {
                self.amplitude
                    * (2.0 * PI * (kx * x + self.phase)).sin()
                    * (2.0 * PI * ky * y).sin()
            }
        }
    }

    /// The signed frequencies of this component's spectral peaks (before canonicalising).
    fn peak_freqs(&self) -> Vec<(i64, i64)> {
        match self.kind {
            "wave" => vec![(self.kx, self.ky)],
            _ => vec![(self.kx, self.ky), (self.kx, -self.ky)],
        }
    }
}

/// The 2D facts of a built target.
#[derive(Debug, Clone, PartialEq)]
pub struct Waves2d {
    /// Training grid `[N, M]`.
    pub dims: [usize; 2],
    /// Test grid `[N, M]` (same as training) and its offset in spacings.
    pub test_dims: [usize; 2],
    pub test_offset: f64,
    pub components: Vec<Component2d>,
    /// Distinct half-plane peaks (`ky > 0`, or `ky = 0` and `kx > 0`) with their plane-wave
    /// amplitude `2 |Y(k)| / (N M)` of the clean target.
    pub peaks: Vec<Peak>,
}

/// The canonical half-plane representative of `(kx, ky)`: `ky > 0`, or `ky = 0`, `kx >= 0`.
pub fn canonical(kx: i64, ky: i64) -> (i64, i64) {
    if ky < 0 || (ky == 0 && kx < 0) {
        (-kx, -ky)
    } else {
        (kx, ky)
    }
}

/// The checkerboard's product terms `(a k, b k, 16/(pi^2 a b))`, odd `a`, `b`, below Nyquist.
fn checkerboard_terms(k: usize, dims: [usize; 2]) -> Vec<(i64, i64, f64)> {
    let mut out = Vec::new();
    let mut a = 1;
    while 2 * a * k < dims[0] {
        let mut b = 1;
        while 2 * b * k < dims[1] {
            out.push((
                (a * k) as i64,
                (b * k) as i64,
                16.0 / (PI * PI * (a * b) as f64),
            ));
            b += 2;
        }
        a += 2;
    }
    out
}

/// Components with their amplitudes and phases (phases "random" draw from the seed).
fn components(spec: &TargetSpec, w: &Waves2dSpec, seed: u64) -> Vec<Component2d> {
    let count = w.waves.len() + w.products.len();
    let amplitudes = spec.amplitudes.expand(count);
    let phases = match &spec.phases {
        Phases::Zero => vec![0.0; count],
        Phases::Random => {
            let mut rng = stream(seed, Stream::Phases);
            (0..count).map(|_| rng.random::<f64>()).collect()
        }
        Phases::List(p) => p.clone(),
    };
    let kinds = w
        .waves
        .iter()
        .map(|k| ("wave", k))
        .chain(w.products.iter().map(|k| ("product", k)));
    let mut out: Vec<Component2d> = kinds
        .zip(amplitudes.iter().zip(&phases))
        .map(|((kind, k), (&amplitude, &phase))| Component2d {
            kind,
            kx: k[0],
            ky: k[1],
            amplitude,
            phase,
        })
        .collect();
    if let Some(k) = w.checkerboard {
        for (kx, ky, amplitude) in checkerboard_terms(k, w.dims) {
            out.push(Component2d {
                kind: "checkerboard",
                kx,
                ky,
                amplitude,
                phase: 0.0,
            });
        }
    }
    out
}

/// Distinct canonical peak frequencies of a spec, in order of first appearance (phases do
/// not move peaks, so seed 0 is used).
pub fn peak_freqs(spec: &TargetSpec, w: &Waves2dSpec) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for c in components(spec, w, 0) {
        for (kx, ky) in c.peak_freqs() {
            let p = canonical(kx, ky);
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// Sampling grid: `points x 2` coordinates `((i + off)/N, (j + off)/M)`, row-major.
fn coords(dims: [usize; 2], offset: f64) -> Vec<f64> {
    let [n, m] = dims;
    let mut t = Vec::with_capacity(2 * n * m);
    for i in 0..n {
        for j in 0..m {
            t.push((i as f64 + offset) / n as f64);
            t.push((j as f64 + offset) / m as f64);
        }
    }
    t
}

fn values(components: &[Component2d], t: &[f64]) -> Vec<f64> {
    t.chunks_exact(2)
        .map(|p| components.iter().map(|c| c.eval(p[0], p[1])).sum())
        .collect()
}

/// Build a validated 2D target (phases and noise from the run seed, as in 1D): its 2D facts
/// and the training and test grids.
pub fn build(spec: &TargetSpec, w: &Waves2dSpec, seed: u64) -> (Waves2d, GridData, GridData) {
    let comps = components(spec, w, seed);
    let train_t = coords(w.dims, 0.0);
    let clean = values(&comps, &train_t);
    let mut y = clean.clone();
    if spec.noise > 0.0 {
        let mut rng = stream(spec.noise_seed.unwrap_or(seed), Stream::Noise);
        let normal = Normal::new(0.0, spec.noise).expect("validated noise");
        y.iter_mut().for_each(|v| *v += normal.sample(&mut rng));
    }
    let test_t = coords(w.dims, spec.test.offset);
    let test_y = values(&comps, &test_t);
    let [n, m] = w.dims;
    let mut fft = RealFft2d::new(n, m);
    let spectrum = fft.forward(&clean);
    let mut peaks: Vec<Peak> = peak_freqs(spec, w)
        .into_iter()
        .map(|(kx, ky)| {
            let (bx, by, _) = half_plane_bin(kx, ky, n, m);
            Peak::new(
                &[kx, ky],
                2.0 * spectrum[by * n + bx].norm() / (n * m) as f64,
            )
        })
        .collect();
    let top = peaks.iter().map(|p| p.amplitude).fold(0.0, f64::max);
    peaks.retain(|p| p.amplitude > 1e-12 * top);
    (
        Waves2d {
            dims: w.dims,
            test_dims: w.dims,
            test_offset: spec.test.offset,
            components: comps,
            peaks,
        },
        GridData {
            t: train_t,
            y,
            y_clean: clean,
        },
        GridData {
            t: test_t,
            y: test_y.clone(),
            y_clean: test_y,
        },
    )
}

/// The `[target]` checks of a waves2d target; errors name the field and the fix.
pub fn validate(t: &TargetSpec, w: &Waves2dSpec) -> Result<()> {
    let [n, m] = w.dims;
    if n < 4 || m < 4 {
        bail!("target.n = [{n}, {m}] is too small: use at least 4 points along each axis");
    }
    if w.waves.is_empty() && w.products.is_empty() && w.checkerboard.is_none() {
        bail!("a waves2d target needs content: give target.waves = [[kx, ky], ...], target.products or target.checkerboard");
    }
    let alias = |field: &str, i: usize, k: &[i64; 2]| -> Result<()> {
        // Saturating: |i64::MIN| doubled must not wrap below the grid size.
        let twice = |x: i64| x.unsigned_abs().saturating_mul(2);
        if twice(k[0]) >= n as u64 || twice(k[1]) >= m as u64 {
            bail!(
                "target.{field}[{i}] = [{}, {}] aliases on the {n} x {m} grid: |kx| must be below N/2 = {} and |ky| below M/2 = {}; use a finer grid (target.n = [N, M]) or lower frequencies",
                k[0], k[1], n as f64 / 2.0, m as f64 / 2.0
            );
        }
        Ok(())
    };
    let mut seen: Vec<(&str, (i64, i64))> = Vec::new();
    for (i, k) in w.waves.iter().enumerate() {
        alias("waves", i, k)?;
        if *k == [0, 0] {
            bail!("target.waves[{i}] = [0, 0] is a constant, not a wave: give a nonzero frequency");
        }
        let c = canonical(k[0], k[1]);
        if seen.contains(&("wave", c)) {
            bail!("target.waves[{i}] = [{}, {}] repeats a wave (k and -k are the same wave): list each once and set its amplitude", k[0], k[1]);
        }
        seen.push(("wave", c));
    }
    for (i, k) in w.products.iter().enumerate() {
        alias("products", i, k)?;
        if k[0] == 0 || k[1] == 0 {
            bail!("target.products[{i}] = [{}, {}]: a product needs kx != 0 and ky != 0 (use target.waves for a wave along one axis)", k[0], k[1]);
        }
    }
    if let Some(k) = w.checkerboard {
        if k == 0 || k.saturating_mul(2) >= n.min(m) {
            bail!(
                "target.checkerboard = {k} must be at least 1 and below N/2 and M/2 of the {n} x {m} grid"
            );
        }
    }
    let count = w.waves.len() + w.products.len();
    if let crate::task::spec::Amplitudes::Each(a) = &t.amplitudes {
        if a.len() != count {
            bail!("target.amplitudes has {} entries but target.waves and target.products have {count} components: give one per component (waves first) or a single number", a.len());
        }
    }
    if let Phases::List(p) = &t.phases {
        if p.len() != count {
            bail!("target.phases has {} entries but target.waves and target.products have {count} components: give one per component (waves first), \"zero\" or \"random\"", p.len());
        }
    }
    crate::task::spec::check_phases(&t.phases)?;
    if t.amplitudes
        .expand(count)
        .iter()
        .any(|a| !a.is_finite() || *a <= 0.0)
    {
        bail!("target.amplitudes must be finite and > 0");
    }
    if !(t.noise >= 0.0 && t.noise.is_finite()) {
        bail!(
            "target.noise must be a finite standard deviation >= 0, got {}",
            t.noise
        );
    }
    if t.test.n.is_some() {
        bail!("target.test.n is not used by waves2d targets: the test grid has the training size, shifted by target.test.offset along both axes; remove it");
    }
    if !(0.0..1.0).contains(&t.test.offset) {
        bail!(
            "target.test.offset = {} must be in [0, 1) (a fraction of the grid spacing)",
            t.test.offset
        );
    }
    Ok(())
}

/// Radii `|k|` of the distinct target peaks (for the `peaks` ring layout).
pub fn peak_radii(spec: &TargetSpec, w: &Waves2dSpec) -> Vec<f64> {
    peak_freqs(spec, w)
        .iter()
        .map(|&(kx, ky)| ((kx * kx + ky * ky) as f64).sqrt())
        .collect()
}

/// Build the ring layout of a 2D target (errors name `spectral.layout` / `spectral.sectors`).
pub fn ring_layout(
    layout: &LayoutSpec,
    sectors: Option<usize>,
    spec: &TargetSpec,
    w: &Waves2dSpec,
) -> Result<RingLayout> {
    RingLayout::build(
        layout,
        w.dims[0],
        w.dims[1],
        sectors.unwrap_or(1),
        &peak_radii(spec, w),
    )
    .map_err(anyhow::Error::from)
}

/// Check that the spectral layout builds on this target's grid.
pub fn validate_layout(layout: &LayoutSpec, sectors: Option<usize>, w: &Waves2dSpec) -> Result<()> {
    // Peak radii depend only on the frequencies; rebuild a spec view for them.
    let spec = TargetSpec {
        n: w.dims[0] * w.dims[1],
        frequencies: Vec::new(),
        amplitudes: crate::task::spec::Amplitudes::All(1.0),
        phases: Phases::Zero,
        noise: 0.0,
        noise_seed: None,
        test: Default::default(),
        waves2d: Some(w.clone()),
        classes: None,
        dataset: None,
    };
    ring_layout(layout, sectors, &spec, w).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::config::Experiment;
    use crate::optim::Registry;
    use crate::task::target::{Target, TargetKind};

    fn exp(target: &str) -> Result<Experiment> {
        let text = format!(
            "[target]\nkind = \"waves2d\"\n{target}\n[model]\nhidden = [8]\n[optimizer]\nname = \"adam\"\nlr = 1e-3\n[train]\nepochs = 1\n"
        );
        let e = Experiment::from_toml_str(&text, "t.toml")?;
        e.validate(&Registry::builtin())?;
        Ok(e)
    }

    fn err(target: &str) -> String {
        exp(target).unwrap_err().to_string()
    }

    #[test]
    fn parses_and_round_trips() {
        let e = exp("n = [16, 12]\nwaves = [[1, 2], [-3, 1]]\nproducts = [[2, 2]]\namplitudes = [1, 0.5, 0.25]\nphases = \"zero\"").unwrap();
        let w = e.target.waves2d.as_ref().unwrap();
        assert_eq!(w.dims, [16, 12]);
        assert_eq!(e.target.n, 192);
        let text = toml::to_string(&e).unwrap();
        let back = Experiment::from_toml_str(&text, "back").unwrap();
        assert_eq!(back, e);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["target"]["kind"], "waves2d");
        assert_eq!(json["target"]["n"], serde_json::json!([16, 12]));
        // 1D configs serialise exactly as before: no kind, n an integer.
        let one = Experiment::from_toml_str("[target]\nn = 64\nfrequencies = [1, 3]\n[optimizer]\nname = \"adam\"\nlr = 1e-3\n[train]\nepochs = 1\n", "x").unwrap();
        let j = serde_json::to_value(&one).unwrap();
        assert!(j["target"].get("kind").is_none());
        assert_eq!(j["target"]["n"], 64);
        assert!(j["model"].get("fourier_features").is_none());
        assert!(j["spectral"].get("sectors").is_none());
    }

    #[test]
    fn aliasing_and_shape_errors_name_the_field() {
        let e = err("n = [16, 12]\nwaves = [[1, 2], [8, 1]]");
        assert!(
            e.contains("target.waves[1] = [8, 1]") && e.contains("aliases"),
            "{e}"
        );
        let e = err("n = [16, 12]\nwaves = [[1, -6]]");
        assert!(
            e.contains("target.waves[0]") && e.contains("M/2 = 6"),
            "{e}"
        );
        let e = err("n = [16, 12]\nproducts = [[1, 7]]");
        assert!(
            e.contains("target.products[0]") && e.contains("aliases"),
            "{e}"
        );
        let e = err("n = [16, 12]\nwaves = [[0, 0]]");
        assert!(e.contains("target.waves[0]"), "{e}");
        let e = err("n = [16, 12]\nwaves = [[1, 2], [-1, -2]]");
        assert!(
            e.contains("target.waves[1]") && e.contains("repeats"),
            "{e}"
        );
        let e = err("n = [16, 12]\nwaves = [[1, 2]]\namplitudes = [1, 2]");
        assert!(e.contains("target.amplitudes"), "{e}");
        let e = err("n = [16, 12]\nfrequencies = [1]");
        assert!(e.contains("target.frequencies"), "{e}");
        let e = err("n = [16, 12]\nwaves = [[1, 1]]\nwavez = 1");
        assert!(
            e.contains("wavez") && e.contains("did you mean `waves`"),
            "{e}"
        );
        let e = err("n = [16, 12]\ncheckerboard = 6");
        assert!(e.contains("target.checkerboard"), "{e}");
        let e = Experiment::from_toml_str("[target]\nn = [8, 8]\nfrequencies = [1]\n[optimizer]\nname = \"adam\"\nlr = 1\n[train]\nepochs = 1\n", "x.toml").unwrap_err().to_string();
        assert!(e.contains("waves2d"), "{e}");
    }

    #[test]
    fn spectral_config_errors_in_2d() {
        let base = "n = [16, 16]\nwaves = [[1, 2]]";
        let e = err(&format!(
            "{base}\n[spectral]\nlayout = {{ kind = \"edges\", edges = [0, 12] }}"
        ));
        assert!(
            e.contains("spectral.layout.edges") && e.contains("Nyquist radius"),
            "{e}"
        );
        let e = err(&format!("{base}\n[spectral]\nsectors = 0"));
        assert!(e.contains("spectral.sectors"), "{e}");
        let ok = exp(&format!(
            "{base}\n[spectral]\nlayout = {{ kind = \"peaks\", half_width = 1 }}\nsectors = 2"
        ));
        assert!(ok.is_ok(), "{ok:?}");
        let one = Experiment::from_toml_str("[target]\nn = 64\nfrequencies = [1]\n[optimizer]\nname = \"adam\"\nlr = 1\n[train]\nepochs = 1\n[spectral]\nsectors = 2\n", "x").unwrap();
        let e = one
            .validate(&Registry::builtin())
            .err()
            .expect("sectors in 1D")
            .to_string();
        assert!(e.contains("spectral.sectors") && e.contains("2D"), "{e}");
    }

    #[test]
    fn values_peaks_and_checkerboard() {
        let e = exp("n = [16, 16]\nwaves = [[3, -2]]\nproducts = [[2, 5]]\namplitudes = [0.8, 0.6]\nphases = [0.1, 0.3]").unwrap();
        let t = Target::build(&e.target, 0);
        let TargetKind::Waves2d(td) = &t.kind else {
            panic!("2D")
        };
        assert_eq!(t.train.len(), 256);
        assert_eq!(t.train.t.len(), 512);
        let want = [(-3, 2, 0.8), (2, 5, 0.3), (-2, 5, 0.3)];
        assert_eq!(td.peaks.len(), 3);
        for ((kx, ky, a), p) in want.iter().zip(&td.peaks) {
            assert_eq!(p.k, [*kx, *ky]);
            assert!((p.amplitude - a).abs() < 1e-12, "{p:?}");
        }
        // Test grid: half a spacing along both axes.
        assert!(
            (t.test.t[0] - 0.5 / 16.0).abs() < 1e-15 && (t.test.t[1] - 0.5 / 16.0).abs() < 1e-15
        );
        let c = exp("n = [32, 32]\ncheckerboard = 4").unwrap();
        let t = Target::build(&c.target, 0);
        // Odd multiples 4, 12 below 16 per axis: 4 products, 8 peaks.
        let TargetKind::Waves2d(td) = &t.kind else {
            panic!("2D")
        };
        assert_eq!(td.components.len(), 4);
        assert_eq!(td.peaks.len(), 8);
        // A square-wave checkerboard: values near +-1 away from the edges.
        let v = t.train.y[(2 * 32) + 2]; // x = y = 2/32, inside the first square
        assert!(v > 0.6, "{v}");
    }
}
