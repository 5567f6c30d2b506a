//! Band layouts: partitions of the one-sided FFT bins `0..=N/2` into frequency bands.
//!
//! Whatever the layout, its bands never overlap and together cover every one-sided bin, so
//! band energies always sum to the MSE. Frequencies are in cycles per unit length (bin `k`
//! is `k` cycles on the grid `t = n/N`, `[0, 1)` without the endpoint). A bin `k` belongs to
//! a band whose cycle range is the half-open `[f_lo, f_hi)` when `f_lo <= k < f_hi`.
//!
//! Layouts ([`LayoutSpec`]):
//!
//! - `octave` (default): DC `{0}`, then `{1}`, `{2,3}`, `{4..7}`, ... the last band cut at
//!   `N/2` inclusive.
//! - `uniform { bands = B }`: `B` contiguous ranges of (nearly) equal width over `0..=N/2`.
//! - `edges { edges = [e_0, ..., e_m] }`: bands `[e_i, e_{i+1})` in cycles (edges need not be
//!   integers); bins below `e_0` or at/above `e_m` go to one extra band flagged `rest`.
//! - `peaks { half_width = w }`: one band `[k-w, k+w]` (clipped to `0..=N/2`) per target
//!   frequency `k`, in the order given, then a `rest` band with all other bins.
//!
//! A `rest` band is the only band that may be non-contiguous: its `bin_lo..bin_hi` is the
//! span of its bins; use [`BandLayout::bin_ranges`] or [`BandLayout::band_of_bin`] for the
//! exact membership.

use serde::{Deserialize, Serialize};
use serde_json::json;
use thiserror::Error;

/// How to split the one-sided spectrum into bands (the `spectral.layout` config table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    try_from = "RawLayoutSpec"
)]
pub enum LayoutSpec {
    /// `bands` contiguous ranges of (nearly) equal width over the bins `0..=N/2`.
    Uniform { bands: usize },
    /// DC, then octaves `[2^j, 2^{j+1})` in cycles, the last cut at `N/2`.
    #[default]
    Octave,
    /// Explicit strictly increasing band edges in cycles, `[e_i, e_{i+1})`.
    Edges { edges: Vec<f64> },
    /// One band `[k - half_width, k + half_width]` per target frequency `k`, plus the rest.
    Peaks {
        #[serde(default)]
        half_width: usize,
    },
}

/// [`LayoutSpec`] as read: `Octave {}` is a struct variant here because serde ignores unknown
/// keys next to the tag of a unit variant (`{ kind = "octave", bands = 8 }` must be an error).
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawLayoutSpec {
    Uniform {
        bands: usize,
    },
    Octave {},
    Edges {
        edges: Vec<f64>,
    },
    Peaks {
        #[serde(default)]
        half_width: usize,
    },
}

impl From<RawLayoutSpec> for LayoutSpec {
    fn from(r: RawLayoutSpec) -> LayoutSpec {
        match r {
            RawLayoutSpec::Uniform { bands } => LayoutSpec::Uniform { bands },
            RawLayoutSpec::Octave {} => LayoutSpec::Octave,
            RawLayoutSpec::Edges { edges } => LayoutSpec::Edges { edges },
            RawLayoutSpec::Peaks { half_width } => LayoutSpec::Peaks { half_width },
        }
    }
}

impl LayoutSpec {
    /// The snake_case name used in configs and output files.
    pub fn kind(&self) -> &'static str {
        match self {
            LayoutSpec::Uniform { .. } => "uniform",
            LayoutSpec::Octave => "octave",
            LayoutSpec::Edges { .. } => "edges",
            LayoutSpec::Peaks { .. } => "peaks",
        }
    }
}

/// One frequency band of a layout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// Position of the band in [`BandLayout::bands`].
    pub index: usize,
    /// Human-readable label, e.g. `"DC"`, `"1 cyc"`, `"4-7 cyc"` (inclusive bins) or `"rest"`.
    pub label: String,
    /// Lower end of the half-open cycle range `[f_lo, f_hi)`.
    pub f_lo: f64,
    /// Upper end of the half-open cycle range `[f_lo, f_hi)`.
    pub f_hi: f64,
    /// First bin of the band (half-open range `bin_lo..bin_hi`).
    pub bin_lo: usize,
    /// One past the last bin of the band.
    pub bin_hi: usize,
    /// True for the catch-all band of bins no other band claims (may be non-contiguous:
    /// then `bin_lo..bin_hi` and `f_lo..f_hi` give its span).
    pub rest: bool,
}

/// A partition of the one-sided bins `0..=n/2` of an `n`-sample grid into bands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandLayout {
    /// Number of grid samples `N`.
    pub n: usize,
    /// The spec this layout was built from.
    pub spec: LayoutSpec,
    /// The bands, in index order.
    pub bands: Vec<Band>,
    /// `band_of_bin[k]` is the band holding bin `k`.
    #[serde(skip)]
    band_of_bin: Vec<usize>,
}

/// Why a band layout could not be built. Each message names the config field and the fix.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LayoutError {
    #[error("spectral.layout: the grid has no samples (N = 0); use a grid with at least 1 point")]
    EmptyGrid,
    #[error(
        "spectral.layout.bands: must be at least 1 (got 0); set `bands` to the number of \
         uniform bands wanted"
    )]
    ZeroBands,
    #[error(
        "spectral.layout.bands: {bands} uniform bands requested but N = {n} has only \
         {num_bins} one-sided bins (0..={nyquist}); use at most {num_bins} bands",
        nyquist = num_bins - 1
    )]
    TooManyBands {
        bands: usize,
        n: usize,
        num_bins: usize,
    },
    #[error(
        "spectral.layout.edges: need at least 2 edges to make a band (got {got}); list edges \
         in cycles, e.g. edges = [0, 4, 16, 64]"
    )]
    TooFewEdges { got: usize },
    #[error(
        "spectral.layout.edges: edges[{index}] = {value} is not a finite number >= 0; give \
         edges in cycles per unit length between 0 and the Nyquist frequency"
    )]
    InvalidEdge { index: usize, value: f64 },
    #[error(
        "spectral.layout.edges: edges must be strictly increasing, but edges[{index}] = {value} \
         <= edges[{prev_index}] = {prev}; list each edge once, in increasing order",
        prev_index = index - 1
    )]
    EdgesNotIncreasing { index: usize, value: f64, prev: f64 },
    #[error(
        "spectral.layout.edges: edges[{index}] = {value} cycles lies beyond the Nyquist \
         frequency N/2 = {nyquist} (N = {n}); drop it or use a finer grid"
    )]
    EdgeBeyondNyquist {
        index: usize,
        value: f64,
        nyquist: f64,
        n: usize,
    },
    #[error(
        "spectral.layout.edges: the band [{lo}, {hi}) cycles holds no FFT bin (bins sit at \
         integer cycles); widen it or merge it with a neighbour"
    )]
    EmptyBand { lo: f64, hi: f64 },
    #[error(
        "spectral.layout.kind: `peaks` needs the target's frequencies but none were given; \
         give the target sine components or use kind = \"octave\""
    )]
    NoTargetFrequencies,
    #[error(
        "spectral.layout: target frequency {freq} cycles is at or above the Nyquist frequency \
         N/2 = {nyquist} (N = {n}), so it aliases; use a grid with N > {twice} or a lower \
         frequency",
        nyquist = *n as f64 / 2.0,
        twice = 2 * freq
    )]
    PeakBeyondNyquist { freq: usize, n: usize },
    #[error(
        "spectral.layout: target frequency {freq} cycles is listed twice, so `peaks` would \
         give it two overlapping bands; list each target frequency once"
    )]
    DuplicatePeak { freq: usize },
    #[error(
        "spectral.layout.half_width: peak bands around {a} and {b} cycles overlap with \
         half_width = {half_width} (bands [k-w, k+w] must not share a bin); use half_width \
         below {max_ok_plus_one}",
        max_ok_plus_one = a.abs_diff(*b).div_ceil(2)
    )]
    OverlappingPeaks {
        a: usize,
        b: usize,
        half_width: usize,
    },
}

/// Label for a contiguous bin range `lo..hi`: `"DC"`, `"k cyc"` or `"a-b cyc"`.
fn range_label(lo: usize, hi: usize) -> String {
    match (lo, hi - lo) {
        (0, 1) => "DC".to_string(),
        (_, 1) => format!("{lo} cyc"),
        _ => format!("{lo}-{} cyc", hi - 1),
    }
}

/// Smallest integer bin `>= f` (edges are finite and `>= 0` when this is called).
fn first_bin_at_or_above(f: f64) -> usize {
    f.ceil() as usize
}

impl BandLayout {
    /// Builds the layout `spec` for an `n`-sample grid. `target_freqs` (integer cycles) is
    /// used only by `peaks`.
    pub fn build(
        spec: &LayoutSpec,
        n: usize,
        target_freqs: &[usize],
    ) -> Result<BandLayout, LayoutError> {
        if n == 0 {
            return Err(LayoutError::EmptyGrid);
        }
        let num_bins = n / 2 + 1;
        // Contiguous (lo, hi, f_lo, f_hi) ranges; unclaimed bins become the rest band.
        let ranges = match spec {
            LayoutSpec::Octave => octave_ranges(num_bins),
            LayoutSpec::Uniform { bands } => uniform_ranges(*bands, n, num_bins)?,
            LayoutSpec::Edges { edges } => edge_ranges(edges, n, num_bins)?,
            LayoutSpec::Peaks { half_width } => {
                peak_ranges(*half_width, target_freqs, n, num_bins)?
            }
        };
        const UNCLAIMED: usize = usize::MAX;
        let mut band_of_bin = vec![UNCLAIMED; num_bins];
        let mut bands = Vec::with_capacity(ranges.len() + 1);
        for (index, &(lo, hi, f_lo, f_hi)) in ranges.iter().enumerate() {
            band_of_bin[lo..hi].fill(index);
            bands.push(Band {
                index,
                label: range_label(lo, hi),
                f_lo,
                f_hi,
                bin_lo: lo,
                bin_hi: hi,
                rest: false,
            });
        }
        let rest_bins = || (0..num_bins).filter(|&k| band_of_bin[k] == UNCLAIMED);
        if let (Some(lo), Some(last)) = (rest_bins().next(), rest_bins().next_back()) {
            let index = bands.len();
            bands.push(Band {
                index,
                label: "rest".to_string(),
                f_lo: lo as f64,
                f_hi: (last + 1) as f64,
                bin_lo: lo,
                bin_hi: last + 1,
                rest: true,
            });
            for b in band_of_bin.iter_mut().filter(|b| **b == UNCLAIMED) {
                *b = index;
            }
        }
        Ok(BandLayout {
            n,
            spec: spec.clone(),
            bands,
            band_of_bin,
        })
    }

    /// Number of bands.
    pub fn len(&self) -> usize {
        self.bands.len()
    }

    /// Always false for a built layout (every grid has at least the DC bin).
    pub fn is_empty(&self) -> bool {
        self.bands.is_empty()
    }

    /// Number of one-sided bins, `N/2 + 1`.
    pub fn num_bins(&self) -> usize {
        self.band_of_bin.len()
    }

    /// The band holding one-sided bin `k` (table lookup).
    ///
    /// # Panics
    /// If `k > N/2`.
    pub fn band_of_bin(&self, k: usize) -> usize {
        self.band_of_bin[k]
    }

    /// The band index of every bin `0..=N/2`.
    pub fn band_of_bins(&self) -> &[usize] {
        &self.band_of_bin
    }

    /// The exact bins of band `b` as maximal contiguous half-open ranges (one range for every
    /// band except possibly `rest`).
    pub fn bin_ranges(&self, b: usize) -> Vec<(usize, usize)> {
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for (k, &owner) in self.band_of_bin.iter().enumerate() {
            if owner != b {
                continue;
            }
            match ranges.last_mut() {
                Some(last) if last.1 == k => last.1 = k + 1,
                _ => ranges.push((k, k + 1)),
            }
        }
        ranges
    }

    /// A self-describing JSON block: layout kind and spec, grid size, bin conventions and each
    /// band's cycle range and exact bins (for run.json's conventions block).
    pub fn conventions_json(&self) -> serde_json::Value {
        let bands: Vec<serde_json::Value> = self
            .bands
            .iter()
            .map(|band| {
                json!({
                    "index": band.index,
                    "label": band.label,
                    "f_lo_cycles": band.f_lo,
                    "f_hi_cycles": band.f_hi,
                    "bin_lo": band.bin_lo,
                    "bin_hi": band.bin_hi,
                    "bin_ranges": self.bin_ranges(band.index),
                    "rest": band.rest,
                })
            })
            .collect();
        json!({
            "kind": self.spec.kind(),
            "spec": self.spec,
            "n": self.n,
            "num_bins": self.num_bins(),
            "grid": "t_n = n/N, n = 0..N-1, on [0, 1) without the endpoint",
            "frequency_unit": "cycles per unit length; bin k = k cycles",
            "dft": "X_k = sum_n x_n exp(-2 pi i k n / N), unnormalised; one-sided bins k = 0..=floor(N/2)",
            "bin_weight": "w_k = 1 for k = 0 and for k = N/2 when N is even, else 2",
            "band_energy": "E_b = (1/N^2) sum_{k in b} w_k |X_k|^2; sum over bands = mean(x^2)",
            "membership": "bin k is in band [f_lo, f_hi) when f_lo <= k < f_hi; ranges are half-open; the rest band holds every bin no other band claims",
            "bands": bands,
        })
    }
}

type Range4 = (usize, usize, f64, f64);

fn bin_range(lo: usize, hi: usize) -> Range4 {
    (lo, hi, lo as f64, hi as f64)
}

fn octave_ranges(num_bins: usize) -> Vec<Range4> {
    let mut ranges = vec![bin_range(0, 1)];
    let mut lo = 1;
    while lo < num_bins {
        let hi = (2 * lo).min(num_bins);
        ranges.push(bin_range(lo, hi));
        lo *= 2;
    }
    ranges
}

fn uniform_ranges(bands: usize, n: usize, num_bins: usize) -> Result<Vec<Range4>, LayoutError> {
    if bands == 0 {
        return Err(LayoutError::ZeroBands);
    }
    if bands > num_bins {
        return Err(LayoutError::TooManyBands { bands, n, num_bins });
    }
    let edge = |b: usize| b * num_bins / bands;
    Ok((0..bands)
        .map(|b| bin_range(edge(b), edge(b + 1)))
        .collect())
}

fn edge_ranges(edges: &[f64], n: usize, num_bins: usize) -> Result<Vec<Range4>, LayoutError> {
    if edges.len() < 2 {
        return Err(LayoutError::TooFewEdges { got: edges.len() });
    }
    let nyquist = n as f64 / 2.0;
    for (index, &value) in edges.iter().enumerate() {
        if !value.is_finite() || value < 0.0 {
            return Err(LayoutError::InvalidEdge { index, value });
        }
        if index > 0 && value <= edges[index - 1] {
            let prev = edges[index - 1];
            return Err(LayoutError::EdgesNotIncreasing { index, value, prev });
        }
        if value > nyquist {
            return Err(LayoutError::EdgeBeyondNyquist {
                index,
                value,
                nyquist,
                n,
            });
        }
    }
    edges
        .windows(2)
        .map(|pair| {
            let (lo_f, hi_f) = (pair[0], pair[1]);
            let lo = first_bin_at_or_above(lo_f).min(num_bins);
            let hi = first_bin_at_or_above(hi_f).min(num_bins);
            if lo >= hi {
                Err(LayoutError::EmptyBand { lo: lo_f, hi: hi_f })
            } else {
                Ok((lo, hi, lo_f, hi_f))
            }
        })
        .collect()
}

fn peak_ranges(
    half_width: usize,
    target_freqs: &[usize],
    n: usize,
    num_bins: usize,
) -> Result<Vec<Range4>, LayoutError> {
    if target_freqs.is_empty() {
        return Err(LayoutError::NoTargetFrequencies);
    }
    let mut ranges: Vec<Range4> = Vec::with_capacity(target_freqs.len());
    for (i, &freq) in target_freqs.iter().enumerate() {
        if 2 * freq >= n {
            return Err(LayoutError::PeakBeyondNyquist { freq, n });
        }
        if target_freqs[..i].contains(&freq) {
            return Err(LayoutError::DuplicatePeak { freq });
        }
        if let Some(&other) = target_freqs[..i]
            .iter()
            .find(|&&other| other.abs_diff(freq) <= 2 * half_width)
        {
            return Err(LayoutError::OverlappingPeaks {
                a: other,
                b: freq,
                half_width,
            });
        }
        let lo = freq.saturating_sub(half_width);
        let hi = (freq + half_width + 1).min(num_bins);
        ranges.push((lo, hi, lo as f64, hi as f64));
    }
    Ok(ranges)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn bins_of(layout: &BandLayout) -> Vec<(usize, usize, bool)> {
        layout
            .bands
            .iter()
            .map(|b| (b.bin_lo, b.bin_hi, b.rest))
            .collect()
    }

    fn labels(layout: &BandLayout) -> Vec<&str> {
        layout.bands.iter().map(|b| b.label.as_str()).collect()
    }

    /// Layouts valid for every `n >= 8` (edges and peaks scaled to the grid).
    pub(in crate::spectral) fn layouts_for(n: usize) -> Vec<(LayoutSpec, Vec<usize>)> {
        let nyq = n as f64 / 2.0;
        let top_freq = (n - 1) / 2; // highest non-aliasing integer frequency
        vec![
            (LayoutSpec::Octave, vec![]),
            (LayoutSpec::Uniform { bands: 1 }, vec![]),
            (LayoutSpec::Uniform { bands: 3 }, vec![]),
            (LayoutSpec::Uniform { bands: n / 2 + 1 }, vec![]),
            (
                LayoutSpec::Edges {
                    edges: vec![0.0, nyq],
                },
                vec![],
            ),
            (
                LayoutSpec::Edges {
                    edges: vec![0.5, 1.5, nyq * 0.75],
                },
                vec![],
            ),
            (LayoutSpec::Peaks { half_width: 0 }, vec![1, top_freq]),
            (LayoutSpec::Peaks { half_width: 1 }, vec![top_freq]),
        ]
    }

    #[test]
    fn every_layout_partitions_all_bins() {
        for n in 1..=300 {
            let specs = if n >= 8 {
                layouts_for(n)
            } else {
                vec![
                    (LayoutSpec::Octave, vec![]),
                    (LayoutSpec::Uniform { bands: n / 2 + 1 }, vec![]),
                ]
            };
            for (spec, freqs) in specs {
                let layout = BandLayout::build(&spec, n, &freqs)
                    .unwrap_or_else(|e| panic!("n={n} {spec:?}: {e}"));
                assert_eq!(layout.num_bins(), n / 2 + 1);
                let mut owner = vec![usize::MAX; n / 2 + 1];
                for band in &layout.bands {
                    let ranges = layout.bin_ranges(band.index);
                    assert!(!ranges.is_empty(), "n={n} {spec:?}: empty band {band:?}");
                    assert_eq!(ranges[0].0, band.bin_lo);
                    assert_eq!(ranges.last().unwrap().1, band.bin_hi);
                    if !band.rest {
                        assert_eq!(ranges.len(), 1, "only rest may be split");
                        assert!(band.f_lo <= band.bin_lo as f64);
                        assert!(((band.bin_hi - 1) as f64) < band.f_hi);
                    }
                    for (lo, hi) in ranges {
                        for slot in &mut owner[lo..hi] {
                            assert_eq!(*slot, usize::MAX, "n={n} {spec:?}: overlap");
                            *slot = band.index;
                        }
                    }
                }
                assert_eq!(owner, layout.band_of_bins(), "n={n} {spec:?}");
                for (k, &b) in owner.iter().enumerate() {
                    assert_eq!(layout.band_of_bin(k), b);
                }
                assert!(layout.bands.iter().enumerate().all(|(i, b)| b.index == i));
                assert!(layout.bands.iter().filter(|b| b.rest).count() <= 1);
            }
        }
    }

    #[test]
    fn octave_bands() {
        let even = BandLayout::build(&LayoutSpec::Octave, 16, &[]).unwrap();
        assert_eq!(
            bins_of(&even),
            vec![
                (0, 1, false),
                (1, 2, false),
                (2, 4, false),
                (4, 8, false),
                (8, 9, false)
            ]
        );
        assert_eq!(
            labels(&even),
            ["DC", "1 cyc", "2-3 cyc", "4-7 cyc", "8 cyc"]
        );
        assert_eq!((even.bands[3].f_lo, even.bands[3].f_hi), (4.0, 8.0));
        let cut = BandLayout::build(&LayoutSpec::Octave, 13, &[]).unwrap();
        assert_eq!(labels(&cut), ["DC", "1 cyc", "2-3 cyc", "4-6 cyc"]);
        let tiny = BandLayout::build(&LayoutSpec::Octave, 1, &[]).unwrap();
        assert_eq!(labels(&tiny), ["DC"]);
        assert_eq!(LayoutSpec::default(), LayoutSpec::Octave);
    }

    #[test]
    fn uniform_bands() {
        let layout = BandLayout::build(&LayoutSpec::Uniform { bands: 3 }, 16, &[]).unwrap();
        assert_eq!(
            bins_of(&layout),
            vec![(0, 3, false), (3, 6, false), (6, 9, false)]
        );
        assert_eq!(labels(&layout), ["0-2 cyc", "3-5 cyc", "6-8 cyc"]);
        let uneven = BandLayout::build(&LayoutSpec::Uniform { bands: 2 }, 7, &[]).unwrap();
        assert_eq!(bins_of(&uneven), vec![(0, 2, false), (2, 4, false)]);
        let all = BandLayout::build(&LayoutSpec::Uniform { bands: 9 }, 16, &[]).unwrap();
        assert_eq!(all.len(), 9);
    }

    #[test]
    fn edge_bands_and_rest() {
        let spec = LayoutSpec::Edges {
            edges: vec![1.5, 4.0, 8.0],
        };
        let layout = BandLayout::build(&spec, 16, &[]).unwrap();
        assert_eq!(
            bins_of(&layout),
            vec![(2, 4, false), (4, 8, false), (0, 9, true)]
        );
        assert_eq!(labels(&layout), ["2-3 cyc", "4-7 cyc", "rest"]);
        assert_eq!((layout.bands[0].f_lo, layout.bands[0].f_hi), (1.5, 4.0));
        assert_eq!(layout.bin_ranges(2), vec![(0, 2), (8, 9)]);
        assert_eq!(layout.band_of_bin(1), 2);
        assert_eq!(layout.band_of_bin(8), 2);

        // Edges covering everything give no rest band (odd N: Nyquist 3.5 is a valid edge).
        let full = LayoutSpec::Edges {
            edges: vec![0.0, 1.0, 3.5],
        };
        let layout = BandLayout::build(&full, 7, &[]).unwrap();
        assert_eq!(bins_of(&layout), vec![(0, 1, false), (1, 4, false)]);
        // Even N: bin N/2 sits at the last edge, so it falls into rest.
        let layout = BandLayout::build(
            &LayoutSpec::Edges {
                edges: vec![0.0, 4.0],
            },
            8,
            &[],
        )
        .unwrap();
        assert_eq!(bins_of(&layout), vec![(0, 4, false), (4, 5, true)]);
    }

    #[test]
    fn peak_bands() {
        let layout = BandLayout::build(&LayoutSpec::Peaks { half_width: 1 }, 64, &[10, 5]).unwrap();
        assert_eq!(
            bins_of(&layout),
            vec![(9, 12, false), (4, 7, false), (0, 33, true)]
        );
        assert_eq!(labels(&layout), ["9-11 cyc", "4-6 cyc", "rest"]);
        assert_eq!(layout.bin_ranges(2), vec![(0, 4), (7, 9), (12, 33)]);
        let narrow = BandLayout::build(&LayoutSpec::Peaks { half_width: 0 }, 64, &[5]).unwrap();
        assert_eq!(labels(&narrow), ["5 cyc", "rest"]);
        let clipped = BandLayout::build(&LayoutSpec::Peaks { half_width: 3 }, 9, &[1]).unwrap();
        assert_eq!(
            bins_of(&clipped),
            vec![(0, 5, false)],
            "clipped to 0..=N/2, no rest left"
        );
        // Adjacent but disjoint peaks are fine.
        assert!(BandLayout::build(&LayoutSpec::Peaks { half_width: 1 }, 64, &[5, 8]).is_ok());
    }

    fn error_of(spec: LayoutSpec, n: usize, freqs: &[usize]) -> String {
        BandLayout::build(&spec, n, freqs).unwrap_err().to_string()
    }

    #[test]
    fn layout_errors_name_the_field() {
        let edges = |e: &[f64]| LayoutSpec::Edges { edges: e.to_vec() };
        let cases: Vec<(String, &str)> = vec![
            (error_of(LayoutSpec::Octave, 0, &[]), "spectral.layout"),
            (
                error_of(LayoutSpec::Uniform { bands: 0 }, 16, &[]),
                "spectral.layout.bands",
            ),
            (
                error_of(LayoutSpec::Uniform { bands: 10 }, 16, &[]),
                "spectral.layout.bands",
            ),
            (error_of(edges(&[1.0]), 16, &[]), "spectral.layout.edges"),
            (
                error_of(edges(&[0.0, f64::NAN]), 16, &[]),
                "spectral.layout.edges",
            ),
            (
                error_of(edges(&[-1.0, 2.0]), 16, &[]),
                "spectral.layout.edges",
            ),
            (
                error_of(edges(&[0.0, 4.0, 4.0]), 16, &[]),
                "spectral.layout.edges",
            ),
            (
                error_of(edges(&[0.0, 4.0, 2.0]), 16, &[]),
                "spectral.layout.edges",
            ),
            (
                error_of(edges(&[0.0, 8.5]), 16, &[]),
                "spectral.layout.edges",
            ),
            (
                error_of(edges(&[0.0, 2.2, 2.8, 8.0]), 16, &[]),
                "spectral.layout.edges",
            ),
            (
                error_of(LayoutSpec::Peaks { half_width: 0 }, 16, &[]),
                "spectral.layout.kind",
            ),
            (
                error_of(LayoutSpec::Peaks { half_width: 0 }, 16, &[8]),
                "spectral.layout",
            ),
            (
                error_of(LayoutSpec::Peaks { half_width: 0 }, 16, &[3, 3]),
                "spectral.layout",
            ),
            (
                error_of(LayoutSpec::Peaks { half_width: 2 }, 64, &[5, 9]),
                "spectral.layout.half_width",
            ),
        ];
        for (message, field) in &cases {
            assert!(message.contains(field), "{message:?} should name {field}");
        }
        assert!(cases[2].0.contains("at most 9"), "{}", cases[2].0);
        assert!(cases[6].0.contains("strictly increasing"));
        assert!(cases[8].0.contains("Nyquist"));
        assert!(cases[9].0.contains("[2.2, 2.8)"));
        assert!(cases[11].0.contains("alias"));
        assert!(cases[13].0.contains("below 2"), "{}", cases[13].0);
        assert_eq!(
            BandLayout::build(&LayoutSpec::Peaks { half_width: 2 }, 64, &[5, 9]),
            Err(LayoutError::OverlappingPeaks {
                a: 5,
                b: 9,
                half_width: 2
            })
        );
    }

    #[test]
    fn spec_serde() {
        let parse = |s: &str| serde_json::from_str::<LayoutSpec>(s);
        assert_eq!(parse(r#"{"kind":"octave"}"#).unwrap(), LayoutSpec::Octave);
        assert_eq!(
            parse(r#"{"kind":"uniform","bands":4}"#).unwrap(),
            LayoutSpec::Uniform { bands: 4 }
        );
        assert_eq!(
            parse(r#"{"kind":"peaks"}"#).unwrap(),
            LayoutSpec::Peaks { half_width: 0 }
        );
        assert_eq!(
            parse(r#"{"kind":"edges","edges":[0,1.5,4]}"#).unwrap(),
            LayoutSpec::Edges {
                edges: vec![0.0, 1.5, 4.0]
            }
        );
        assert!(parse(r#"{"kind":"uniform","bands":4,"extra":1}"#).is_err());
        assert!(parse(r#"{"kind":"rings"}"#).is_err());
        let spec = LayoutSpec::Peaks { half_width: 2 };
        let text = serde_json::to_string(&spec).unwrap();
        assert_eq!(text, r#"{"kind":"peaks","half_width":2}"#);
        assert_eq!(parse(&text).unwrap(), spec);
        let from_toml: LayoutSpec = toml::from_str("kind = \"edges\"\nedges = [0.0, 2.0]").unwrap();
        assert_eq!(
            from_toml,
            LayoutSpec::Edges {
                edges: vec![0.0, 2.0]
            }
        );
    }

    #[test]
    fn conventions_describe_every_band() {
        let spec = LayoutSpec::Edges {
            edges: vec![1.5, 4.0, 8.0],
        };
        let layout = BandLayout::build(&spec, 16, &[]).unwrap();
        let c = layout.conventions_json();
        assert_eq!(c["kind"], "edges");
        assert_eq!(c["n"], 16);
        assert_eq!(c["num_bins"], 9);
        assert_eq!(c["spec"]["edges"][0], 1.5);
        let bands = c["bands"].as_array().unwrap();
        assert_eq!(bands.len(), 3);
        assert_eq!(bands[0]["f_lo_cycles"], 1.5);
        assert_eq!(bands[0]["bin_lo"], 2);
        assert_eq!(bands[0]["bin_hi"], 4);
        assert_eq!(bands[2]["rest"], true);
        assert_eq!(bands[2]["bin_ranges"], serde_json::json!([[0, 2], [8, 9]]));
    }
}
