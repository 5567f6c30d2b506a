//! Statistics over the seeds of one configuration, shared by the regression tables
//! ([`super::aggregate`]) and the classification section ([`super::class_summary`]): a mean
//! with its 95% interval ([`Estimate`]), a median with its range ([`Spread`]), epochs to a
//! level over seeds some of which never get there ([`EpochStat`]), and the convergence of a
//! relative-error series over seeds ([`Convergence`], per band: [`BandSummary`]).
//!
//! Conventions:
//! - intervals: mean +- t(0.975, n-1) sd/sqrt(n) over the completed seeds; undefined (null)
//!   with fewer than two seeds;
//! - differences: Welch's interval (Welch-Satterthwaite degrees of freedom);
//! - epochs to a threshold / half-life over seeds: `reached` of `n` seeds; the median counts a
//!   seed that never reached as +infinity (so the median is "never" when half or more of the
//!   seeds never reached); min/max over the seeds that reached; `median_reached` is the median
//!   over the seeds that reached only.

use super::metrics::{KernelCrossings, Plateau, RunMetrics, SeriesMetrics};
use crate::base::stats::{t975, MeanCi};
use serde::Serialize;

/// A mean with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci_lo: f64,
    pub ci_hi: f64,
    pub sd: f64,
    /// Number of finite values used.
    pub n: usize,
}

impl Estimate {
    pub const NONE: Estimate = Estimate {
        mean: f64::NAN,
        ci_lo: f64::NAN,
        ci_hi: f64::NAN,
        sd: f64::NAN,
        n: 0,
    };

    /// Mean and t-interval of the finite values of `xs`.
    pub fn of(xs: &[f64]) -> Estimate {
        let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Estimate::NONE;
        }
        let m = MeanCi::of(&v);
        Estimate {
            mean: m.mean,
            ci_lo: m.lo,
            ci_hi: m.hi,
            sd: m.sd,
            n: m.n,
        }
    }

    /// mean(a) - mean(b) with Welch's 95% interval.
    pub fn welch_diff(a: &[f64], b: &[f64]) -> Estimate {
        let (ea, eb) = (Estimate::of(a), Estimate::of(b));
        let mean = ea.mean - eb.mean;
        if ea.n < 2 || eb.n < 2 {
            return Estimate {
                mean,
                ci_lo: f64::NAN,
                ci_hi: f64::NAN,
                sd: f64::NAN,
                n: ea.n.min(eb.n),
            };
        }
        let (va, vb) = (ea.sd.powi(2) / ea.n as f64, eb.sd.powi(2) / eb.n as f64);
        let se = (va + vb).sqrt();
        let df = if se > 0.0 {
            (va + vb).powi(2) / (va * va / (ea.n - 1) as f64 + vb * vb / (eb.n - 1) as f64)
        } else {
            (ea.n + eb.n - 2) as f64
        };
        let h = t975(df) * se;
        Estimate {
            mean,
            ci_lo: mean - h,
            ci_hi: mean + h,
            sd: se,
            n: ea.n.min(eb.n),
        }
    }

    /// Both ends of the interval are defined.
    pub fn has_ci(&self) -> bool {
        self.ci_lo.is_finite() && self.ci_hi.is_finite()
    }
}

/// Median and range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

/// Median of finite values (NaN if none); +inf values take part.
pub fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else if v[m].is_infinite() || v[m - 1].is_infinite() {
        v[m].max(v[m - 1])
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

impl Spread {
    pub fn of(xs: &[f64]) -> Spread {
        let v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if v.is_empty() {
            return Spread {
                median: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
                n: 0,
            };
        }
        Spread {
            median: median(&v),
            min,
            max,
            n: v.len(),
        }
    }
}

/// An epoch count over seeds, some of which may never reach it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochStat {
    /// Seeds considered.
    pub n: usize,
    /// Seeds that reached.
    pub reached: usize,
    /// Median over all seeds with never = +infinity; null = never.
    pub median: Option<f64>,
    /// Median over the seeds that reached; null if none did.
    pub median_reached: Option<f64>,
    /// Range over the seeds that reached; null if none did.
    pub min: Option<u64>,
    pub max: Option<u64>,
}

impl EpochStat {
    pub fn of(xs: &[Option<u64>]) -> EpochStat {
        let reached: Vec<u64> = xs.iter().flatten().copied().collect();
        let all: Vec<f64> = xs
            .iter()
            .map(|x| x.map_or(f64::INFINITY, |e| e as f64))
            .collect();
        let med = median(&all);
        let r: Vec<f64> = reached.iter().map(|&e| e as f64).collect();
        EpochStat {
            n: xs.len(),
            reached: reached.len(),
            median: med.is_finite().then_some(med),
            median_reached: (!r.is_empty()).then(|| median(&r)),
            min: reached.iter().min().copied(),
            max: reached.iter().max().copied(),
        }
    }
}

/// Epochs to one threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdStat {
    pub threshold: f64,
    #[serde(flatten)]
    pub epochs: EpochStat,
}

/// Seeds per plateau state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlateauCounts {
    pub converged: usize,
    pub stalled: usize,
    pub improving: usize,
    pub worsening: usize,
    pub undefined: usize,
}

/// The convergence of one relative-error series (a band's, or a filtering level's) of one
/// configuration over its completed seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Convergence {
    pub to_threshold: Vec<ThresholdStat>,
    pub half_life: EpochStat,
    pub final_rel_error: Spread,
    pub coverage: Spread,
    pub decay_rate: Estimate,
    pub plateau: PlateauCounts,
    pub plateau_change: Spread,
}

impl Convergence {
    /// Aggregate the series of the completed seeds (`thresholds` largest first, the order of
    /// [`SeriesMetrics::to_threshold`]).
    pub fn of(per: &[&SeriesMetrics], thresholds: &[f64]) -> Convergence {
        let over =
            |f: &dyn Fn(&SeriesMetrics) -> f64| -> Vec<f64> { per.iter().map(|m| f(m)).collect() };
        Convergence {
            to_threshold: thresholds
                .iter()
                .enumerate()
                .map(|(i, &threshold)| ThresholdStat {
                    threshold,
                    epochs: EpochStat::of(
                        &per.iter()
                            .map(|m| m.to_threshold.get(i).copied().flatten())
                            .collect::<Vec<_>>(),
                    ),
                })
                .collect(),
            half_life: EpochStat::of(&per.iter().map(|m| m.half_life).collect::<Vec<_>>()),
            final_rel_error: Spread::of(&over(&|m| m.final_rel)),
            coverage: Spread::of(&over(&|m| m.coverage)),
            decay_rate: Estimate::of(&over(&|m| m.decay_rate)),
            plateau: plateau_counts(&per.iter().map(|m| m.plateau).collect::<Vec<_>>()),
            plateau_change: Spread::of(&over(&|m| m.plateau_change)),
        }
    }
}

/// One band of one configuration over its completed seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandSummary {
    pub label: String,
    pub f_lo: f64,
    pub f_hi: f64,
    pub centre: f64,
    pub in_index: bool,
    #[serde(flatten)]
    pub convergence: Convergence,
    /// The kernel's predicted epochs to each threshold (same order as `to_threshold`), when
    /// every completed seed has a kernel.json (see [`super::metrics::PREDICTED_DEFINITION`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_to_threshold: Option<Vec<ThresholdStat>>,
}

fn plateau_counts(states: &[Plateau]) -> PlateauCounts {
    let mut c = PlateauCounts::default();
    for s in states {
        match s {
            Plateau::Converged => c.converged += 1,
            Plateau::Stalled => c.stalled += 1,
            Plateau::Improving => c.improving += 1,
            Plateau::Worsening => c.worsening += 1,
            Plateau::Undefined => c.undefined += 1,
        }
    }
    c
}

/// The kernel crossings of every seed of `done`, or None unless each has a kernel.json.
pub(super) fn kernels_of<'a>(done: &[&'a RunMetrics]) -> Option<Vec<&'a KernelCrossings>> {
    if done.is_empty() {
        None
    } else {
        done.iter().map(|r| r.kernel.as_ref()).collect()
    }
}

/// The per-band summaries of the completed seeds `done` of one configuration (bands as in
/// the first seed; the kernel's predicted epochs when every seed has a kernel.json).
pub fn band_summaries(done: &[&RunMetrics]) -> Vec<BandSummary> {
    let template = done.first().map(|r| r.bands.clone()).unwrap_or_default();
    let thresholds = done
        .first()
        .map(|r| r.thresholds.clone())
        .unwrap_or_default();
    let kernels = kernels_of(done);
    template
        .iter()
        .enumerate()
        .map(|(b, t)| {
            let per: Vec<&SeriesMetrics> = done
                .iter()
                .filter_map(|r| r.bands.get(b))
                .map(|m| &m.series)
                .collect();
            BandSummary {
                label: t.label.clone(),
                f_lo: t.f_lo,
                f_hi: t.f_hi,
                centre: t.centre,
                in_index: t.in_index,
                convergence: Convergence::of(&per, &thresholds),
                predicted_to_threshold: kernels.as_ref().map(|ks| {
                    thresholds
                        .iter()
                        .enumerate()
                        .map(|(i, &threshold)| ThresholdStat {
                            threshold,
                            epochs: EpochStat::of(
                                &ks.iter()
                                    .map(|k| {
                                        k.to_threshold
                                            .get(b)
                                            .and_then(|row| row.get(i).copied().flatten())
                                    })
                                    .collect::<Vec<_>>(),
                            ),
                        })
                        .collect()
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_and_medians() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, f64::NAN]);
        assert_eq!(e.n, 3);
        assert!((e.mean - 2.0).abs() < 1e-12);
        assert!((e.ci_hi - (2.0 + 4.302652730 / 3f64.sqrt())).abs() < 1e-9);
        assert!(Estimate::of(&[1.0]).ci_lo.is_nan());
        let d = Estimate::welch_diff(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]);
        assert!(d.mean.abs() < 1e-12 && d.ci_lo < 0.0 && d.ci_hi > 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[1.0, f64::INFINITY]), f64::INFINITY);
        let s = EpochStat::of(&[Some(10), None, Some(30)]);
        assert_eq!(
            (s.n, s.reached, s.median, s.median_reached, s.min, s.max),
            (3, 2, Some(30.0), Some(20.0), Some(10), Some(30))
        );
        let never = EpochStat::of(&[None, None, Some(5)]);
        assert_eq!((never.median, never.median_reached), (None, Some(5.0)));
    }
}
