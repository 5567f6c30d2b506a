//! 2D band layouts: partitions of the half-plane FFT bins of an `N x M` grid into radial
//! rings by `|k| = sqrt(kx^2 + ky^2)` (cycles per unit length), optionally split into angular
//! sectors.
//!
//! The same `spectral.layout` kinds as in 1D, read radially (`r_max` is the corner radius
//! `sqrt(floor(N/2)^2 + floor(M/2)^2)`, the largest `|k|` on the grid):
//!
//! - `octave` (default): DC `{|k| = 0}`, then `[1, 2)`, `[2, 4)`, ... the last ring closed at
//!   `r_max`.
//! - `uniform { bands = B }`: `B` rings of equal width over `[0, r_max]`.
//! - `edges { edges = [e_0, ..., e_m] }`: rings `[e_i, e_{i+1})`; bins outside go to `rest`.
//! - `peaks { half_width = w }`: one ring `[r - w - 1/2, r + w + 1/2)` per distinct target
//!   peak radius `r` (order of first appearance), then `rest`.
//!
//! `spectral.sectors = S` splits every ring except the DC ring and `rest` into `S` sectors
//! of the angle `theta = atan2(ky, kx) mod 180 deg` (a real signal's bins `k` and `-k` are
//! the same wave, so angles live in `[0, 180)`): sector `s` holds `[s, s+1) * 180/S deg`.
//! `theta = 0` is the x axis (waves varying along x only). Sectors that hold no bin (the
//! corner rings beyond `min(N, M)/2` miss some angles; a small ring has few bins) are left
//! out, so band indices count only non-empty sectors.
//!
//! Every bin belongs to exactly one band, so band energies sum to the MSE. Errors name
//! `spectral.layout` (or `spectral.sectors`) and say what to change.

use serde::Serialize;
use serde_json::json;
use thiserror::Error;

use super::bands::{Band, LayoutSpec};
use super::fft2d::{col_weight, signed_freq};

/// Why a ring layout could not be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RingLayoutError {
    #[error("spectral.layout.bands: must be at least 1 (got 0); set `bands` to the number of rings wanted")]
    ZeroBands,
    #[error(
        "spectral.layout.edges: need at least 2 edges to make a ring (got {got}); list ring \
         radii in cycles, e.g. edges = [0, 2, 4, 8]"
    )]
    TooFewEdges { got: usize },
    #[error(
        "spectral.layout.edges: edges[{index}] = {value} is not a finite radius >= 0; give ring \
         edges in cycles per unit length"
    )]
    InvalidEdge { index: usize, value: f64 },
    #[error(
        "spectral.layout.edges: ring edges must be strictly increasing, but edges[{index}] = \
         {value} <= edges[{prev_index}] = {prev}; list each edge once, in increasing order",
        prev_index = index - 1
    )]
    EdgesNotIncreasing { index: usize, value: f64, prev: f64 },
    #[error(
        "spectral.layout.edges: edges[{index}] = {value} cycles lies beyond the Nyquist radius \
         {r_max:.4} = sqrt(floor(N/2)^2 + floor(M/2)^2) of the {n} x {m} grid; drop it or use \
         a finer grid"
    )]
    EdgeBeyondNyquist {
        index: usize,
        value: f64,
        r_max: f64,
        n: usize,
        m: usize,
    },
    #[error(
        "spectral.layout: the ring [{lo}, {hi}) cycles holds no FFT bin of the {n} x {m} grid \
         (bins sit at integer (kx, ky)); widen it, merge it with a neighbour or use fewer rings"
    )]
    EmptyRing {
        lo: f64,
        hi: f64,
        n: usize,
        m: usize,
    },
    #[error(
        "spectral.layout.kind: `peaks` needs the target's peaks but none were given; give the \
         target waves or use kind = \"octave\""
    )]
    NoTargetPeaks,
    #[error(
        "spectral.layout.half_width: peak rings around radii {a:.4} and {b:.4} overlap with \
         half_width = {half_width} (rings [r-w-1/2, r+w+1/2) must not share a bin radius); \
         lower half_width or use kind = \"edges\""
    )]
    OverlappingPeaks { a: f64, b: f64, half_width: usize },
    #[error(
        "spectral.layout: target peak radius {r:.4} lies beyond the Nyquist radius {r_max:.4} \
         of the {n} x {m} grid"
    )]
    PeakBeyondNyquist {
        r: f64,
        r_max: f64,
        n: usize,
        m: usize,
    },
    #[error("spectral.sectors: must be at least 1 (got 0); 1 means whole rings")]
    ZeroSectors,
}

/// One band of a ring layout (a ring, or one angular sector of a ring).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ring {
    pub index: usize,
    /// `"DC"`, `"|k| lo-hi"` (the ring `[lo, hi)`), with `" @a-bdeg"` for a sector, or
    /// `"rest"`; never a comma.
    pub label: String,
    /// Inner radius (cycles): the ring holds `f_lo <= |k| < f_hi` (`<= f_hi` if `closed`).
    pub f_lo: f64,
    pub f_hi: f64,
    /// The outer edge is inclusive (the last ring of `octave` and `uniform`, at `r_max`).
    pub closed: bool,
    /// Angular range in degrees, `[theta_lo, theta_hi)` of `[0, 180)`.
    pub theta_lo: f64,
    pub theta_hi: f64,
    /// Number of half-plane bins in the band.
    pub bins: usize,
    /// The catch-all band of bins no ring claims.
    pub rest: bool,
}

/// A partition of the half-plane bins of an `N x M` grid into rings (and sectors).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RingLayout {
    /// Grid points along x.
    pub n: usize,
    /// Grid points along y.
    pub m: usize,
    pub spec: LayoutSpec,
    pub sectors: usize,
    /// Largest `|k|` on the grid, `sqrt(floor(N/2)^2 + floor(M/2)^2)`.
    pub r_max: f64,
    pub rings: Vec<Ring>,
    /// The generic band view (label, `f_lo`, `f_hi` = ring radii, `rest`) shared with 1D
    /// output code; `bin_lo`/`bin_hi` are 0 (2D membership is in [`Self::band_of_bin`]).
    pub bands: Vec<Band>,
    #[serde(skip)]
    band_of_bin: Vec<usize>,
}

/// (lo, hi, closed) radial ranges.
type Radial = (f64, f64, bool);

fn fmt_r(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

impl RingLayout {
    /// Builds `spec` radially for an `n x m` grid with `sectors` angular sectors per ring.
    /// `peak_radii` (cycles) is used only by `peaks`.
    pub fn build(
        spec: &LayoutSpec,
        n: usize,
        m: usize,
        sectors: usize,
        peak_radii: &[f64],
    ) -> Result<RingLayout, RingLayoutError> {
        if sectors == 0 {
            return Err(RingLayoutError::ZeroSectors);
        }
        let (hx, hy) = ((n / 2) as f64, (m / 2) as f64);
        let r_max = (hx * hx + hy * hy).sqrt();
        let radial: Vec<Radial> = match spec {
            LayoutSpec::Octave => {
                let mut v = vec![(0.0, 1.0, false)];
                let mut lo = 1.0;
                while lo <= r_max {
                    let hi = 2.0 * lo;
                    if hi > r_max {
                        v.push((lo, r_max, true));
                    } else {
                        v.push((lo, hi, false));
                    }
                    lo = hi;
                }
                // A last ring [lo, r_max] with r_max exactly a power of two is closed already;
                // drop a degenerate [r_max, r_max] ring if r_max was reached exactly.
                if let Some(last) = v.last_mut() {
                    if last.1 == r_max {
                        last.2 = true;
                    }
                }
                v
            }
            LayoutSpec::Uniform { bands } => {
                if *bands == 0 {
                    return Err(RingLayoutError::ZeroBands);
                }
                let b = *bands;
                (0..b)
                    .map(|i| {
                        let lo = r_max * i as f64 / b as f64;
                        let hi = if i + 1 == b {
                            r_max
                        } else {
                            r_max * (i + 1) as f64 / b as f64
                        };
                        (lo, hi, i + 1 == b)
                    })
                    .collect()
            }
            LayoutSpec::Edges { edges } => {
                if edges.len() < 2 {
                    return Err(RingLayoutError::TooFewEdges { got: edges.len() });
                }
                for (index, &value) in edges.iter().enumerate() {
                    if !value.is_finite() || value < 0.0 {
                        return Err(RingLayoutError::InvalidEdge { index, value });
                    }
                    if index > 0 && value <= edges[index - 1] {
                        let prev = edges[index - 1];
                        return Err(RingLayoutError::EdgesNotIncreasing { index, value, prev });
                    }
                    if value > r_max * (1.0 + 1e-12) {
                        return Err(RingLayoutError::EdgeBeyondNyquist {
                            index,
                            value,
                            r_max,
                            n,
                            m,
                        });
                    }
                }
                edges.windows(2).map(|w| (w[0], w[1], false)).collect()
            }
            LayoutSpec::Peaks { half_width } => {
                if peak_radii.is_empty() {
                    return Err(RingLayoutError::NoTargetPeaks);
                }
                let w = *half_width as f64 + 0.5;
                let mut radii: Vec<f64> = Vec::new();
                for &r in peak_radii {
                    if r > r_max * (1.0 + 1e-12) {
                        return Err(RingLayoutError::PeakBeyondNyquist { r, r_max, n, m });
                    }
                    if radii.iter().any(|&q| (q - r).abs() < 1e-9) {
                        continue;
                    }
                    if let Some(&q) = radii.iter().find(|&&q| (q - r).abs() < 2.0 * w) {
                        return Err(RingLayoutError::OverlappingPeaks {
                            a: q,
                            b: r,
                            half_width: *half_width,
                        });
                    }
                    radii.push(r);
                }
                radii
                    .iter()
                    .map(|&r| ((r - w).max(0.0), r + w, false))
                    .collect()
            }
        };

        // Assign radial ring and sector to every half-plane bin.
        let half = m / 2 + 1;
        const UNCLAIMED: usize = usize::MAX;
        let mut ring_of_bin = vec![UNCLAIMED; half * n];
        let mut theta_of_bin = vec![0.0f64; half * n];
        for ky in 0..half {
            for kx in 0..n {
                let fx = signed_freq(kx, n) as f64;
                let fy = ky as f64;
                let r2 = fx * fx + fy * fy;
                let idx = ky * n + kx;
                let mut theta = fy.atan2(fx).to_degrees();
                if theta >= 180.0 {
                    theta -= 180.0;
                }
                theta_of_bin[idx] = theta;
                ring_of_bin[idx] = radial
                    .iter()
                    .position(|&(lo, hi, closed)| {
                        lo * lo <= r2 && (r2 < hi * hi || (closed && r2 <= hi * hi * (1.0 + 1e-12)))
                    })
                    .unwrap_or(UNCLAIMED);
            }
        }
        let sector_of =
            |theta: f64| ((theta / (180.0 / sectors as f64)).floor() as usize).min(sectors - 1);

        let mut rings: Vec<Ring> = Vec::new();
        let mut band_of_bin = vec![UNCLAIMED; half * n];
        for (ri, &(lo, hi, closed)) in radial.iter().enumerate() {
            let members: Vec<usize> = (0..half * n).filter(|&i| ring_of_bin[i] == ri).collect();
            if members.is_empty() {
                return Err(RingLayoutError::EmptyRing { lo, hi, n, m });
            }
            let is_dc = members.len() == 1 && members[0] == 0;
            let base = if is_dc {
                "DC".to_string()
            } else {
                // No commas: labels go into CSV cells.
                format!("|k| {}-{}", fmt_r(lo), fmt_r(hi))
            };
            let split = if is_dc { 1 } else { sectors };
            for s in 0..split {
                let (t_lo, t_hi) = (
                    180.0 * s as f64 / split as f64,
                    180.0 * (s + 1) as f64 / split as f64,
                );
                let label = if split == 1 {
                    base.clone()
                } else {
                    format!("{base} @{}-{}deg", fmt_r(t_lo), fmt_r(t_hi))
                };
                let index = rings.len();
                let mut count = 0;
                for &i in &members {
                    if split == 1 || sector_of(theta_of_bin[i]) == s {
                        band_of_bin[i] = index;
                        count += 1;
                    }
                }
                if count == 0 {
                    continue;
                }
                rings.push(Ring {
                    index,
                    label,
                    f_lo: lo,
                    f_hi: hi,
                    closed,
                    theta_lo: t_lo,
                    theta_hi: t_hi,
                    bins: count,
                    rest: false,
                });
            }
        }
        let rest: Vec<usize> = (0..half * n)
            .filter(|&i| band_of_bin[i] == UNCLAIMED)
            .collect();
        if !rest.is_empty() {
            let index = rings.len();
            let radius = |i: usize| {
                let fx = signed_freq(i % n, n) as f64;
                let fy = (i / n) as f64;
                (fx * fx + fy * fy).sqrt()
            };
            let lo = rest
                .iter()
                .map(|&i| radius(i))
                .fold(f64::INFINITY, f64::min);
            let hi = rest.iter().map(|&i| radius(i)).fold(0.0, f64::max);
            for &i in &rest {
                band_of_bin[i] = index;
            }
            rings.push(Ring {
                index,
                label: "rest".into(),
                f_lo: lo,
                f_hi: hi,
                closed: true,
                theta_lo: 0.0,
                theta_hi: 180.0,
                bins: rest.len(),
                rest: true,
            });
        }
        let bands = rings
            .iter()
            .map(|r| Band {
                index: r.index,
                label: r.label.clone(),
                f_lo: r.f_lo,
                f_hi: r.f_hi,
                bin_lo: 0,
                bin_hi: 0,
                rest: r.rest,
            })
            .collect();
        Ok(RingLayout {
            n,
            m,
            spec: spec.clone(),
            sectors,
            r_max,
            rings,
            bands,
            band_of_bin,
        })
    }

    /// Number of bands (rings x sectors, plus rest).
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// Always false for a built layout.
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// The band of half-plane bin `(kx index, ky)`.
    pub fn band_of_bin(&self, kx: usize, ky: usize) -> usize {
        self.band_of_bin[ky * self.n + kx]
    }

    /// Band index of every half-plane bin, laid out like the spectrum: `[ky * N + kx]`.
    pub fn band_of_bins(&self) -> &[usize] {
        &self.band_of_bin
    }

    /// Self-describing JSON for run.json (kind, spec, grid, conventions, every band).
    pub fn conventions_json(&self) -> serde_json::Value {
        let bands: Vec<serde_json::Value> = self
            .rings
            .iter()
            .map(|r| {
                json!({
                    "index": r.index,
                    "label": r.label,
                    "f_lo_cycles": r.f_lo,
                    "f_hi_cycles": r.f_hi,
                    "closed": r.closed,
                    "theta_lo_deg": r.theta_lo,
                    "theta_hi_deg": r.theta_hi,
                    "bins": r.bins,
                    "rest": r.rest,
                })
            })
            .collect();
        json!({
            "kind": self.spec.kind(),
            "spec": self.spec,
            "dims": [self.n, self.m],
            "sectors": self.sectors,
            "r_max": self.r_max,
            "grid": "(x_i, y_j) = (i/N, j/M) on [0, 1)^2 without the endpoints; values row-major v[i*M + j]",
            "frequency_unit": "cycles per unit length per axis; a band is a ring of radius |k| = sqrt(kx^2 + ky^2)",
            "dft": "X(kx, ky) = sum_ij v_ij exp(-2 pi i (kx i/N + ky j/M)), unnormalised; half plane ky = 0..=floor(M/2), kx = 0..N-1 (signed kx - N above N/2)",
            "bin_weight": "w = 1 for the ky = 0 column and the ky = M/2 column (M even), else 2",
            "band_energy": "E_b = (1/(N M)^2) sum_{k in b} w_k |X_k|^2; sum over bands = mean(x^2)",
            "membership": "bin k is in ring [f_lo, f_hi) when f_lo <= |k| < f_hi (<= f_hi when closed), and in sector [theta_lo, theta_hi) of theta = atan2(ky, kx) mod 180 deg; the rest band holds every bin no ring claims",
            "bands": bands,
        })
    }
}

/// What output code needs from a band layout, 1D or 2D: the bands (label, `f_lo`, `f_hi`,
/// rest), a grid description, the layout kind and the run.json conventions block.
pub trait BandTable {
    fn band_list(&self) -> &[Band];
    /// E.g. `"N = 256"` or `"N x M = 64 x 64"`.
    fn grid_label(&self) -> String;
    fn kind(&self) -> &'static str;
    fn conventions(&self) -> serde_json::Value;
}

impl BandTable for super::bands::BandLayout {
    fn band_list(&self) -> &[Band] {
        &self.bands
    }
    fn grid_label(&self) -> String {
        format!("N = {}", self.n)
    }
    fn kind(&self) -> &'static str {
        self.spec.kind()
    }
    fn conventions(&self) -> serde_json::Value {
        self.conventions_json()
    }
}

impl BandTable for RingLayout {
    fn band_list(&self) -> &[Band] {
        &self.bands
    }
    fn grid_label(&self) -> String {
        format!("N x M = {} x {} (rings of |k|)", self.n, self.m)
    }
    fn kind(&self) -> &'static str {
        self.spec.kind()
    }
    fn conventions(&self) -> serde_json::Value {
        self.conventions_json()
    }
}

/// A band layout of any number of dims: one-sided bins of an `N`-point grid, or half-plane
/// bins of an `N x M` grid. Every bin carries its band index and its Parseval weight, so one
/// monitor ([`super::measures::SpectralMonitor`]) serves both.
#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    /// 1D: bands of one-sided bins `k = 0..=N/2`.
    Bands(super::bands::BandLayout),
    /// 2D: rings (and sectors) of half-plane bins `[ky * N + kx]`.
    Rings(RingLayout),
}

impl From<super::bands::BandLayout> for Layout {
    fn from(l: super::bands::BandLayout) -> Self {
        Layout::Bands(l)
    }
}

impl From<RingLayout> for Layout {
    fn from(l: RingLayout) -> Self {
        Layout::Rings(l)
    }
}

impl Layout {
    /// The grid `[N]` or `[N, M]`.
    pub fn dims(&self) -> Vec<usize> {
        match self {
            Layout::Bands(l) => vec![l.n],
            Layout::Rings(l) => vec![l.n, l.m],
        }
    }

    /// The output view (bands, grid label, kind, conventions).
    pub fn table(&self) -> &dyn BandTable {
        match self {
            Layout::Bands(l) => l,
            Layout::Rings(l) => l,
        }
    }

    /// Number of bands.
    pub fn len(&self) -> usize {
        self.table().band_list().len()
    }

    /// Always false for a built layout.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The band of every bin, laid out like the spectrum of [`super::fft::Transform`].
    pub fn band_of_bins(&self) -> &[usize] {
        match self {
            Layout::Bands(l) => l.band_of_bins(),
            Layout::Rings(l) => l.band_of_bins(),
        }
    }

    /// The weighted bins: per bin a factor `c_k` and one divisor `d`, so that the energy of
    /// bin `k` is `c_k |X_k|^2 / d` (1D: `c_k = w_k`, `d = N^2`; 2D: `c_k = w_k / (N M)^2`,
    /// `d = 1`; both as the single-dimension code computed them, to the last bit).
    pub fn weights(&self) -> (Vec<f64>, f64) {
        match self {
            Layout::Bands(l) => {
                let n = l.n as f64;
                let w = (0..super::fft::num_bins(l.n))
                    .map(|k| super::fft::bin_weight(k, l.n))
                    .collect();
                (w, n * n)
            }
            Layout::Rings(l) => {
                let (n, m) = (l.n, l.m);
                let norm = ((n * m) as f64).powi(2);
                let w = (0..m / 2 + 1)
                    .flat_map(|ky| std::iter::repeat_n(col_weight(ky, m) / norm, n))
                    .collect();
                (w, 1.0)
            }
        }
    }

    /// The spectrum index of signed frequency `k` (one entry per dim).
    ///
    /// # Panics
    /// If `k` has the wrong number of dims or aliases on the grid (`|k_d| > N_d/2` in 1D,
    /// `2 |k_d| >= N_d` in 2D); validate the target first.
    pub fn bin_of(&self, k: &[i64]) -> usize {
        match (self, k) {
            (Layout::Bands(l), &[k]) => {
                assert!(
                    k >= 0 && k as usize <= l.n / 2,
                    "component frequency {k} exceeds the top bin N/2 = {} (N = {})",
                    l.n / 2,
                    l.n
                );
                k as usize
            }
            (Layout::Rings(l), &[kx, ky]) => {
                let (n, m) = (l.n, l.m);
                assert!(
                    2 * kx.unsigned_abs() < n as u64 && 2 * ky.unsigned_abs() < m as u64,
                    "peak ({kx}, {ky}) aliases on a {n} x {m} grid"
                );
                let (bx, by, _) = super::fft2d::half_plane_bin(kx, ky, n, m);
                by * n + bx
            }
            _ => panic!(
                "frequency {k:?} does not match a {}-dim layout",
                self.dims().len()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(l: &RingLayout) -> Vec<&str> {
        l.rings.iter().map(|r| r.label.as_str()).collect()
    }

    fn check_partition(l: &RingLayout) {
        let mut count = vec![0usize; l.len()];
        for &b in l.band_of_bins() {
            assert!(b < l.len());
            count[b] += 1;
        }
        for r in &l.rings {
            assert_eq!(count[r.index], r.bins, "{}", r.label);
            assert!(r.bins > 0);
        }
        assert_eq!(l.band_of_bins().len(), l.n * (l.m / 2 + 1));
    }

    #[test]
    fn octave_uniform_edges_peaks_partition() {
        for &(n, m) in &[(16, 16), (15, 16), (32, 20), (9, 7), (64, 64)] {
            let mut specs = vec![
                LayoutSpec::Octave,
                LayoutSpec::Uniform { bands: 3 },
                LayoutSpec::Edges {
                    edges: vec![0.5, 2.0, 3.0],
                },
                LayoutSpec::Peaks { half_width: 0 },
            ];
            if n >= 16 && m >= 16 {
                specs.push(LayoutSpec::Peaks { half_width: 1 });
            }
            for spec in &specs {
                for sectors in [1, 2, 4] {
                    let l = RingLayout::build(spec, n, m, sectors, &[1.0, 5.0])
                        .unwrap_or_else(|e| panic!("{n}x{m} {spec:?} {sectors}: {e}"));
                    check_partition(&l);
                }
            }
        }
    }

    #[test]
    fn octave_rings_and_sectors() {
        let l = RingLayout::build(&LayoutSpec::Octave, 16, 16, 1, &[]).unwrap();
        assert_eq!(
            labels(&l),
            ["DC", "|k| 1-2", "|k| 2-4", "|k| 4-8", "|k| 8-11.31"]
        );
        assert_eq!(l.rings[0].bins, 1);
        // (1,0), (-1,0), (0,1), (1,1), (-1,1)
        assert_eq!(l.rings[1].bins, 5);
        let s = RingLayout::build(&LayoutSpec::Octave, 16, 16, 4, &[]).unwrap();
        assert_eq!(s.len(), 1 + 4 * 4);
        assert_eq!(s.rings[1].label, "|k| 1-2 @0-45deg");
        // (1,0) and (-1,0) lie along the x axis: sector 0 of ring 1.
        assert_eq!(s.band_of_bin(1, 0), 1);
        assert_eq!(s.band_of_bin(15, 0), 1);
        assert_eq!(s.band_of_bin(1, 1), 2);
        assert_eq!(s.band_of_bin(0, 1), 3);
        assert_eq!(s.band_of_bin(15, 1), 4);
    }

    #[test]
    fn ring_errors_name_the_field() {
        let edges = |e: &[f64]| LayoutSpec::Edges { edges: e.to_vec() };
        let err = |spec: LayoutSpec, s: usize, peaks: &[f64]| {
            RingLayout::build(&spec, 16, 16, s, peaks)
                .unwrap_err()
                .to_string()
        };
        let cases = [
            (err(edges(&[0.0, 4.0, 4.0]), 1, &[]), "strictly increasing"),
            (err(edges(&[0.0, 4.0, 2.0]), 1, &[]), "strictly increasing"),
            (err(edges(&[0.0, 12.0]), 1, &[]), "Nyquist radius"),
            (err(edges(&[2.1, 2.2]), 1, &[]), "holds no FFT bin"),
            (err(edges(&[1.0]), 1, &[]), "at least 2"),
            (err(LayoutSpec::Uniform { bands: 0 }, 1, &[]), "at least 1"),
            (
                err(LayoutSpec::Uniform { bands: 40 }, 1, &[]),
                "holds no FFT bin",
            ),
            (err(LayoutSpec::Peaks { half_width: 0 }, 1, &[]), "peaks"),
            (
                err(LayoutSpec::Peaks { half_width: 1 }, 1, &[3.0, 4.0]),
                "overlap",
            ),
            (err(LayoutSpec::Octave, 0, &[]), "spectral.sectors"),
        ];
        for (msg, want) in &cases {
            assert!(msg.contains("spectral."), "{msg}");
            assert!(msg.contains(want), "{msg:?} should contain {want:?}");
        }
        assert!(cases[0].0.contains("spectral.layout.edges"));
        assert!(cases[2].0.contains("spectral.layout.edges"));
        assert!(cases[3].0.contains("spectral.layout"));
        // Many sectors: empty ones are left out, every band holds a bin.
        let many = RingLayout::build(&LayoutSpec::Octave, 16, 16, 12, &[]).unwrap();
        check_partition(&many);
        assert!(many.len() < 1 + 4 * 12);
    }
}
