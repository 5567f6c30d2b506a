//! Thin adapters from a [`Report`] to the plain data of the verdict figures: the preference
//! index against p (C2), the coverage score per configuration (C3), test-loss curves with
//! L* and 0.25 B and the time to L* per configuration (C6), and the p x lr map. Each adapter
//! only reads numbers the report already holds; a new per-configuration quantity (e.g. a
//! matched-loss slope) plugs into [`per_p`] / [`per_config`] through its getter.

use super::estimates::{BaselineBand, EstimatePoint, EstimatesData, Layout};
use super::grid_map::{GridMapData, MapCell, MapPanel};
use super::loss::{LossData, LossMark, LossSeries};
use crate::analysis::aggregate::{baseline_of, median, ConfigSummary, Estimate, Report};
use crate::analysis::matched::DECISIVE_LEVEL;
use crate::analysis::metrics::RunMetrics;

/// "7 configs x 5 seeds, 2 diverged" for the configurations shown (seeds as a range when
/// they differ).
pub fn counts_title(configs: &[&ConfigSummary]) -> String {
    let mut seeds: Vec<usize> = configs.iter().map(|c| c.n_runs).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let s = match seeds.as_slice() {
        [] => "0".to_string(),
        [n] => n.to_string(),
        ns => format!("{}-{}", ns[0], ns[ns.len() - 1]),
    };
    let div: usize = configs.iter().map(|c| c.n_diverged).sum();
    format!(
        "{} config{} x {s} seeds, {div} diverged",
        configs.len(),
        if configs.len() == 1 { "" } else { "s" }
    )
}

/// A point from an estimate of one configuration.
pub fn point(c: &ConfigSummary, x: f64, e: &Estimate, series: &str) -> EstimatePoint {
    EstimatePoint {
        label: c.label.clone(),
        series: series.into(),
        x,
        mean: e.mean,
        lo: e.ci_lo,
        hi: e.ci_hi,
        n: e.n,
        n_diverged: c.n_diverged,
        never: 0,
    }
}

fn band(c: &ConfigSummary, e: &Estimate) -> BaselineBand {
    BaselineBand {
        label: format!("{} (95% interval)", c.label),
        mean: e.mean,
        lo: e.ci_lo,
        hi: e.ci_hi,
    }
}

/// Reads one per-configuration estimate from a configuration summary.
pub type Getter = dyn Fn(&ConfigSummary) -> Estimate;

/// Non-padam configurations (sgd, adam, rmsprop, ...): the reference optimizers drawn as bands.
fn is_reference_optimizer(c: &ConfigSummary) -> bool {
    c.optimizer["name"].as_str() != Some("padam")
}

/// One figure per task with >= 2 fixed-p configurations: `quantity` of each fixed-p
/// configuration against p, every other optimizer (SGD, Adam, ...) as a band. `series` are
/// (legend name, getter) pairs, so several quantities of one scale share the figure.
pub fn per_p(
    report: &Report,
    what: &str,
    value_label: &str,
    series: &[(&str, &Getter)],
) -> Vec<EstimatesData> {
    let mut out = Vec::new();
    for task in report.tasks() {
        let fixed = report.fixed_p_configs(&task);
        if fixed.len() < 2 {
            continue;
        }
        let refs: Vec<&ConfigSummary> = report
            .configs
            .iter()
            .filter(|c| c.task == task && is_reference_optimizer(c))
            .collect();
        // Several configurations at one p (e.g. a p x lr grid): one series per lr.
        let mut ps: Vec<f64> = fixed.iter().filter_map(|c| c.fixed_p).collect();
        ps.dedup();
        let by_lr = ps.len() < fixed.len();
        let mut points = Vec::new();
        for (name, get) in series {
            for c in &fixed {
                let s = match (by_lr, lr_of(c)) {
                    (true, Some(lr)) => format!("{name} lr = {}", super::style::fmt_tick(lr))
                        .trim()
                        .to_string(),
                    _ => name.to_string(),
                };
                points.push(point(c, c.fixed_p.unwrap_or(f64::NAN), &get(c), &s));
            }
        }
        if by_lr {
            points.sort_by(|a, b| series_lr(&a.series).total_cmp(&series_lr(&b.series)));
        }
        let (_, first) = series[0];
        let bands = refs.iter().map(|c| band(c, &first(c))).collect();
        let shown: Vec<&ConfigSummary> = fixed.iter().chain(&refs).copied().collect();
        out.push(EstimatesData {
            title: format!("{what} vs p, task {task}: {}", counts_title(&shown)),
            caption: "Points: mean over completed seeds; whiskers: 95% Student-t interval (none with < 2 seeds). Bands: the other optimizers' 95% intervals (dashed: mean). Diverged seeds are counted beside their point and in the title; they do not enter the mean.".into(),
            layout: Layout::Numeric,
            position_label: "p (fixed exponent of PAdam)".into(),
            value_label: value_label.into(),
            points,
            bands,
            reference: None,
            floor: None,
        });
    }
    out
}

/// The lr in a series name "... lr = 0.01" (for ordering the legend); +inf without one.
fn series_lr(s: &str) -> f64 {
    s.rsplit("lr = ")
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::INFINITY)
}

/// The C2 figure(s): preference index against p.
pub fn index_vs_p(report: &Report) -> Vec<EstimatesData> {
    let idx = |c: &ConfigSummary| c.index;
    per_p(
        report,
        "Preference index",
        "preference index (+ = low frequencies first)",
        &[("", &idx)],
    )
}

/// The C2 deciding quantity: the matched-loss slope (log10 band error against log2
/// frequency) at [`DECISIVE_LEVEL`] of the initial train loss, against p. Seeds that never
/// reach the level have no slope and are left out of the mean (the report counts them).
pub fn matched_slope_vs_p(report: &Report) -> Vec<EstimatesData> {
    let slope = |c: &ConfigSummary| c.matched_at(DECISIVE_LEVEL);
    let mut figs = per_p(
        report,
        &format!(
            "Matched-loss slope at {}% of the initial loss",
            DECISIVE_LEVEL * 100.0
        ),
        "log10 band-error slope per octave (+ = low first)",
        &[("", &slope)],
    );
    for f in &mut figs {
        f.caption = format!("Decides C2: band-error profile when train loss first reaches {}% of its start. Mean and 95% interval over the seeds that reached it; bands: other optimizers.", DECISIVE_LEVEL * 100.0);
        // 0 = no preference; it also keeps an axis when no seed reached the level.
        f.reference = Some((0.0, "0 = neutral".into()));
        // Completed seeds that never reached the level are shown as such, not as "undefined".
        for p in &mut f.points {
            if let Some(c) = report.configs.iter().find(|c| c.label == p.label) {
                p.never = c.n_runs.saturating_sub(c.n_diverged + p.n);
            }
        }
    }
    figs
}

/// One Rows figure per task that has >= 2 configurations: `quantity` per configuration;
/// fixed p = 0, fixed p = 0.5 and the reference optimizers are also drawn as bands.
pub fn per_config(
    report: &Report,
    what: &str,
    value_label: &str,
    caption: &str,
    get: &dyn Fn(&ConfigSummary) -> Estimate,
) -> Vec<EstimatesData> {
    let mut out = Vec::new();
    for task in report.tasks() {
        let of: Vec<&ConfigSummary> = report.configs.iter().filter(|c| c.task == task).collect();
        if of.len() < 2 {
            continue;
        }
        let bands = of
            .iter()
            .filter(|c| {
                matches!(c.fixed_p, Some(p) if p == 0.0 || p == 0.5) || is_reference_optimizer(c)
            })
            .map(|c| band(c, &get(c)))
            .collect();
        out.push(EstimatesData {
            title: format!("{what}, task {task}: {}", counts_title(&of)),
            caption: caption.to_string(),
            layout: Layout::Rows,
            position_label: String::new(),
            value_label: value_label.into(),
            points: of.iter().map(|c| point(c, 0.0, &get(c), "")).collect(),
            bands,
            reference: None,
            floor: None,
        });
    }
    out
}

/// The C3 figure(s): coverage score per configuration.
pub fn coverage(report: &Report) -> Vec<EstimatesData> {
    per_config(
        report,
        "Coverage score",
        "coverage score (mean log10 relative band error; lower = covered earlier)",
        "Coverage score: mean over the analysed epochs of log10 relative error, averaged over the index bands. Points: mean over completed seeds; whiskers: 95% Student-t interval. Bands: fixed p = 0, fixed p = 0.5 and the other optimizers (the C3 comparisons), 95% interval, dashed mean. Diverged seeds are counted under each label, not in the mean.",
        &|c| c.coverage,
    )
}

/// First epoch at which `r`'s test loss is <= `target`.
pub fn first_at_or_below(r: &RunMetrics, target: f64) -> Option<u64> {
    r.epochs
        .iter()
        .zip(&r.test_loss)
        .find(|(_, &l)| l <= target)
        .map(|(&e, _)| e)
}

/// The completed runs of a configuration.
fn completed<'a>(report: &'a Report, c: &ConfigSummary) -> Vec<&'a RunMetrics> {
    report
        .runs
        .iter()
        .filter(|r| r.config_key == c.key && !r.diverged)
        .collect()
}

/// The C6 figures of one (task, baseline): test-loss curves with L* and 0.25 B, and the time
/// to L* (fraction of B) per configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct C6Figures {
    /// Label of the baseline, for file names.
    pub baseline: String,
    pub loss: LossData,
    pub time: EstimatesData,
}

/// Baselines of a task for C6: the report's baseline (sgd, else padam p = 0) and every Adam
/// configuration (the strongest reference usually), without repeats.
fn c6_baselines<'a>(report: &'a Report, task_key: &str) -> Vec<&'a ConfigSummary> {
    let mut out: Vec<&ConfigSummary> = baseline_of(&report.configs, task_key).into_iter().collect();
    for c in report.configs.iter().filter(|c| c.task_key == task_key) {
        if c.optimizer["name"].as_str() == Some("adam") && !out.iter().any(|o| o.key == c.key) {
            out.push(c);
        }
    }
    out
}

/// The C6 figures: for each task holding a cyclic-p configuration, one pair per baseline.
pub fn c6(report: &Report) -> Vec<C6Figures> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for cyc in report.configs.iter().filter(|c| c.cyclic) {
        if seen.contains(&cyc.task_key.as_str()) {
            continue;
        }
        seen.push(&cyc.task_key);
        let of: Vec<&ConfigSummary> = report
            .configs
            .iter()
            .filter(|c| c.task_key == cyc.task_key)
            .collect();
        for base in c6_baselines(report, &cyc.task_key) {
            let base_runs = completed(report, base);
            if base_runs.is_empty() {
                continue;
            }
            let target = median(
                &base_runs
                    .iter()
                    .map(|r| r.final_test_loss)
                    .collect::<Vec<_>>(),
            );
            let budget = base_runs[0].budget.max(1) as f64;
            out.push(C6Figures {
                baseline: base.label.clone(),
                loss: c6_loss(report, &of, base, target, budget),
                time: c6_time(report, &of, base, target, budget),
            });
        }
    }
    out
}

fn c6_time(
    report: &Report,
    of: &[&ConfigSummary],
    base: &ConfigSummary,
    target: f64,
    budget: f64,
) -> EstimatesData {
    let points = of
        .iter()
        .filter(|c| c.key != base.key)
        .map(|c| {
            let times: Vec<Option<u64>> = completed(report, c)
                .iter()
                .map(|r| first_at_or_below(r, target))
                .collect();
            let reached: Vec<f64> = times.iter().flatten().map(|&e| e as f64 / budget).collect();
            let e = Estimate::of(&reached);
            let mut p = point(c, 0.0, &e, "");
            p.never = times.len() - reached.len();
            p
        })
        .collect();
    EstimatesData {
        title: format!(
            "Time to the baseline's final test loss (C6), vs {}, task {}: {}",
            base.label,
            base.task,
            counts_title(of)
        ),
        caption: format!(
            "L* = {target:.3e}: median final test loss of the baseline {} over its completed seeds; B = {budget} epochs (its budget). Per completed seed: first epoch with test loss <= L*, divided by B. Points: mean over the seeds that reach L*; whiskers: 95% Student-t interval; intervals are cut at 0; an arrow at the right edge counts the seeds that never reach L* within their budget. Red line: 0.25 B, the C6 claim's bound.",
            base.label
        ),
        layout: Layout::Rows,
        position_label: String::new(),
        value_label: "epochs to reach L*, as a fraction of the baseline budget B".into(),
        points,
        bands: Vec::new(),
        reference: Some((0.25, "0.25 B (quarter of the cost)".into())),
        floor: Some(0.0),
    }
}

/// Mean and min-max of test loss per epoch over `runs`.
fn test_loss_series(runs: &[&RunMetrics]) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    crate::base::stats::band_over_runs(runs.iter().map(|r| (&r.epochs[..], &r.test_loss[..])))
}

fn c6_loss(
    report: &Report,
    of: &[&ConfigSummary],
    base: &ConfigSummary,
    target: f64,
    budget: f64,
) -> LossData {
    let series = of
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let runs = completed(report, c);
            if runs.is_empty() {
                return None;
            }
            let (epochs, mean, lo, hi) = test_loss_series(&runs);
            let div = if c.n_diverged > 0 {
                format!(", {} diverged", c.n_diverged)
            } else {
                String::new()
            };
            let role = if c.key == base.key { " [baseline]" } else { "" };
            Some(LossSeries {
                label: format!("{}{role} (n={}{div})", c.label, runs.len()),
                epochs,
                mean,
                band: (runs.len() > 1).then_some((lo, hi)),
                dashed: false,
                colour: i,
            })
        })
        .collect();
    LossData {
        title: format!(
            "Test loss vs L* of {} (C6), task {}: {}",
            base.label,
            base.task,
            counts_title(of)
        ),
        caption: format!(
            "Test loss (MSE on the shifted grid), mean over completed seeds; shaded: min-max. L* = {target:.3e}, the baseline's median final test loss; 0.25 B = epoch {}.",
            0.25 * budget
        ),
        y_label: "test loss (MSE)".into(),
        band_label: "shaded: min-max over seeds".into(),
        series,
        marks: vec![
            LossMark::Loss(target, format!("L* = {target:.2e}")),
            LossMark::Epoch(0.25 * budget, "0.25 B".into()),
        ],
    }
}

/// The learning rate of a configuration when it is a number.
fn lr_of(c: &ConfigSummary) -> Option<f64> {
    c.optimizer["lr"].as_f64()
}

/// The p x lr map: fixed-p configurations at a numeric lr, one cell per (p, lr), over all
/// tasks' configurations that have both (use it on a report of one task). `None` without at
/// least 2 p values and 2 lr values.
pub fn p_lr_map(report: &Report) -> Option<GridMapData> {
    let cfgs: Vec<&ConfigSummary> = report
        .configs
        .iter()
        .filter(|c| c.fixed_p.is_some() && lr_of(c).is_some())
        .collect();
    let mut ps: Vec<f64> = cfgs.iter().filter_map(|c| c.fixed_p).collect();
    let mut lrs: Vec<f64> = cfgs.iter().filter_map(|c| lr_of(c)).collect();
    for v in [&mut ps, &mut lrs] {
        v.sort_by(f64::total_cmp);
        v.dedup();
    }
    if ps.len() < 2 || lrs.len() < 2 {
        return None;
    }
    let cell_of = |lr: f64, p: f64, get: &dyn Fn(&ConfigSummary) -> (f64, usize)| {
        cfgs.iter()
            .find(|c| c.fixed_p == Some(p) && lr_of(c) == Some(lr))
            .map_or(MapCell::EMPTY, |c| {
                let (mean, n) = get(c);
                MapCell {
                    mean,
                    n,
                    n_diverged: c.n_diverged,
                }
            })
    };
    let grid = |get: &dyn Fn(&ConfigSummary) -> (f64, usize)| -> Vec<Vec<MapCell>> {
        lrs.iter()
            .map(|&lr| ps.iter().map(|&p| cell_of(lr, p, get)).collect())
            .collect()
    };
    Some(GridMapData {
        title: format!("Preference and final loss over p x lr: {}", counts_title(&cfgs)),
        caption: "Each cell: one fixed-p PAdam configuration at a fixed lr (no lr search), mean over its completed seeds (index) or median (final test loss). Grey hatched cells: every seed diverged (no number); \"k div.\": k seeds diverged and are not in the value. If p's effect on the index were only an effective-lr effect, the index would change along the lr axis as it does along p.".into(),
        x_label: "p (fixed exponent of PAdam)".into(),
        y_label: "learning rate".into(),
        x_ticks: ps.iter().map(|p| format!("{p}")).collect(),
        y_ticks: lrs.iter().map(|l| super::style::fmt_tick(*l)).collect(),
        panels: vec![
            MapPanel {
                title: "preference index".into(),
                colour_label: "index (+ = low frequencies first)".into(),
                log: false,
                cells: grid(&|c| (c.index.mean, c.index.n)),
            },
            MapPanel {
                title: "final test loss".into(),
                colour_label: "test loss (MSE)".into(),
                log: true,
                cells: grid(&|c| (c.final_test_loss.median, c.final_test_loss.n)),
            },
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::aggregate::aggregate;
    use crate::analysis::index::IndexValue;
    use crate::analysis::ReportOptions;
    use crate::plot::runs::{draw_report, Kind};
    use serde_json::{json, Value};

    /// A run of optimizer `opt` with preference index `index`, coverage `cov` and a test-loss
    /// curve `loss` at epochs 0, 10, 20, ... (budget = 10 x (len - 1)).
    fn run(
        opt: Value,
        seed: u64,
        index: f64,
        cov: f64,
        loss: &[f64],
        diverged: bool,
    ) -> RunMetrics {
        let epochs: Vec<u64> = (0..loss.len() as u64).map(|i| 10 * i).collect();
        RunMetrics {
            dir: format!("/r/{opt}/{seed}").into(),
            seed,
            diverged,
            config_key: json!({ "optimizer": opt, "task": 1 }).to_string(),
            task_key: json!({ "task": 1 }).to_string(),
            label: format!(
                "{} p={} lr={}",
                opt["name"].as_str().unwrap(),
                opt["p"],
                opt["lr"]
            ),
            optimizer: opt,
            budget: *epochs.last().unwrap(),
            thresholds: vec![0.1, 0.01],
            epochs,
            test_loss: loss.to_vec(),
            final_test_loss: *loss.last().unwrap(),
            bands: Vec::new(),
            index: IndexValue {
                index: if diverged { f64::NAN } else { index },
                slope: f64::NAN,
                mean_abs_rate: f64::NAN,
                n_bands: 3,
            },
            time_spearman: f64::NAN,
            coverage: if diverged { f64::NAN } else { cov },
            index_half: if diverged { f64::NAN } else { index },
            initial_test_loss: loss[0],
            band_below_threshold: true,
            matched: Vec::new(),
            lr: None,
            kernel: None,
        }
    }

    fn padam(p: f64, lr: f64) -> Value {
        json!({ "name": "padam", "p": p, "lr": lr })
    }

    fn report(runs: Vec<RunMetrics>) -> Report {
        aggregate(runs, &ReportOptions::default())
    }

    #[test]
    fn index_vs_p_points_intervals_bands_and_counts() {
        let flat = [1.0, 1.0];
        let mut runs = Vec::new();
        for (p, idx) in [
            (-0.5, [0.1, 0.3, 0.2]),
            (0.0, [0.4, 0.5, 0.6]),
            (0.5, [0.9, 1.0, 1.1]),
        ] {
            for (s, &i) in idx.iter().enumerate() {
                runs.push(run(
                    padam(p, 0.01),
                    s as u64,
                    i,
                    -1.0,
                    &flat,
                    p == -0.5 && s == 2,
                ));
            }
        }
        for (s, i) in [0.2, 0.4, 0.6].iter().enumerate() {
            runs.push(run(
                json!({"name": "adam", "lr": 0.001}),
                s as u64,
                *i,
                -1.0,
                &flat,
                false,
            ));
        }
        let rep = report(runs);
        let figs = index_vs_p(&rep);
        assert_eq!(figs.len(), 1);
        let f = &figs[0];
        assert!(
            f.title.contains("4 configs x 3 seeds, 1 diverged"),
            "{}",
            f.title
        );
        let xs: Vec<f64> = f.points.iter().map(|p| p.x).collect();
        assert_eq!(xs, vec![-0.5, 0.0, 0.5]);
        // p = -0.5: one seed diverged, the other two give the estimate.
        let e = Estimate::of(&[0.1, 0.3]);
        let p0 = &f.points[0];
        assert_eq!((p0.n, p0.n_diverged), (2, 1));
        assert!(
            (p0.mean - 0.2).abs() < 1e-12
                && (p0.lo - e.ci_lo).abs() < 1e-12
                && (p0.hi - e.ci_hi).abs() < 1e-12
        );
        // Adam is a band of its interval, not a point.
        assert_eq!(f.bands.len(), 1);
        let a = Estimate::of(&[0.2, 0.4, 0.6]);
        assert!(f.bands[0].label.starts_with("adam"));
        assert!((f.bands[0].lo - a.ci_lo).abs() < 1e-12 && (f.bands[0].hi - a.ci_hi).abs() < 1e-12);
        // Coverage: a row per configuration, fixed p = 0 / 0.5 and Adam as bands.
        let c = coverage(&rep);
        assert_eq!(c[0].points.len(), 4);
        assert_eq!(c[0].bands.len(), 3);
    }

    #[test]
    fn c6_time_fractions_and_never_reached() {
        let cyc = json!({ "name": "padam", "lr": 0.01, "p": { "kind": "cosine", "min": -0.5, "max": 0.5, "period": 20 } });
        let runs = vec![
            // Baseline p = 0: final losses 0.5, 0.4, 0.6 -> L* = 0.5; budget 40 epochs.
            run(
                padam(0.0, 0.01),
                0,
                0.0,
                -1.0,
                &[2.0, 1.0, 0.8, 0.6, 0.5],
                false,
            ),
            run(
                padam(0.0, 0.01),
                1,
                0.0,
                -1.0,
                &[2.0, 1.0, 0.8, 0.6, 0.4],
                false,
            ),
            run(
                padam(0.0, 0.01),
                2,
                0.0,
                -1.0,
                &[2.0, 1.0, 0.8, 0.7, 0.6],
                false,
            ),
            // Cyclic: reaches 0.5 at epoch 10 and 20; one seed never; one diverged.
            run(cyc.clone(), 0, 0.0, -1.0, &[2.0, 0.5, 0.3, 0.2, 0.2], false),
            run(
                cyc.clone(),
                1,
                0.0,
                -1.0,
                &[2.0, 0.9, 0.45, 0.3, 0.2],
                false,
            ),
            run(cyc.clone(), 2, 0.0, -1.0, &[2.0, 1.5, 1.2, 1.1, 1.0], false),
            run(
                cyc,
                3,
                0.0,
                -1.0,
                &[2.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN],
                true,
            ),
        ];
        let rep = report(runs);
        let figs = c6(&rep);
        assert_eq!(figs.len(), 1, "one baseline (p = 0), no Adam here");
        let f = &figs[0];
        let p = &f.time.points[0];
        assert_eq!((p.n, p.never, p.n_diverged), (2, 1, 1));
        let e = Estimate::of(&[10.0 / 40.0, 20.0 / 40.0]);
        assert!((p.mean - e.mean).abs() < 1e-12 && (p.lo - e.ci_lo).abs() < 1e-12);
        assert_eq!(f.time.reference.as_ref().map(|r| r.0), Some(0.25));
        assert_eq!(
            f.loss.marks,
            vec![
                LossMark::Loss(0.5, "L* = 5.00e-1".into()),
                LossMark::Epoch(10.0, "0.25 B".into())
            ]
        );
        assert!(f.loss.series[0].label.contains("[baseline]"));
        // A report that also holds Adam gives a second pair, judged against Adam.
        let mut runs = rep.runs.clone();
        for s in 0..2 {
            runs.push(run(
                json!({"name": "adam", "lr": 0.001}),
                s,
                0.0,
                -1.0,
                &[2.0, 0.1, 0.05, 0.02, 0.01],
                false,
            ));
        }
        let figs = c6(&report(runs));
        assert_eq!(figs.len(), 2);
        assert!(figs[1].baseline.starts_with("adam"));
        // Adam's L* = 0.01: the cyclic configuration never reaches it in any seed.
        let cyc_point = figs[1]
            .time
            .points
            .iter()
            .find(|p| p.label.contains("cosine"))
            .unwrap();
        assert_eq!((cyc_point.n, cyc_point.never), (0, 3));
        assert!(cyc_point.mean.is_nan());
    }

    #[test]
    fn p_lr_map_cells_and_diverged_marks() {
        let flat = [1.0, 0.5];
        let mut runs = Vec::new();
        for p in [-0.5, 0.5] {
            for lr in [0.01, 1.0] {
                for s in 0..2 {
                    let div = p == 0.5 && lr == 1.0;
                    runs.push(run(padam(p, lr), s, p + lr, -1.0, &flat, div));
                }
            }
        }
        let rep = report(runs);
        let m = p_lr_map(&rep).unwrap();
        assert_eq!(m.x_ticks, vec!["-0.5", "0.5"]);
        assert_eq!(m.y_ticks.len(), 2);
        let idx = &m.panels[0].cells;
        // rows = lr (0.01 first), columns = p.
        assert!((idx[0][0].mean - (-0.49)).abs() < 1e-12);
        assert!((idx[1][0].mean - 0.5).abs() < 1e-12);
        assert_eq!((idx[1][1].n, idx[1][1].n_diverged), (0, 2));
        assert!(
            m.title.contains("4 configs x 2 seeds, 2 diverged"),
            "{}",
            m.title
        );
        assert!(m.panels[1].log);
        // Fewer than two lr values: no map.
        let one_lr = report(
            rep.runs
                .iter()
                .filter(|r| r.optimizer["lr"] == json!(0.01))
                .cloned()
                .collect(),
        );
        assert!(p_lr_map(&one_lr).is_none());
    }

    /// Width and height from a PNG header.
    fn png_size(path: &std::path::Path) -> (u32, u32) {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{} is not a PNG", path.display());
        let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
        (be(16), be(20))
    }

    #[test]
    fn every_verdict_kind_writes_a_sensible_png() {
        let cyc = json!({ "name": "padam", "lr": 0.01, "p": { "kind": "square", "values": [0.0, 0.5], "period": 20 } });
        let mut runs = Vec::new();
        for (i, p) in [-0.5, 0.0, 0.5].iter().enumerate() {
            for lr in [0.01, 0.1] {
                for s in 0..3 {
                    let l = 1.0 / (1.0 + i as f64 + s as f64 + lr);
                    runs.push(run(
                        padam(*p, lr),
                        s,
                        p + 0.1 * s as f64,
                        -1.0 - p,
                        &[2.0, 1.0, l, l],
                        false,
                    ));
                }
            }
        }
        for s in 0..3 {
            runs.push(run(
                cyc.clone(),
                s,
                0.3,
                -1.2,
                &[2.0, 0.3, 0.2, 0.1],
                s == 2,
            ));
        }
        let rep = report(runs);
        let dir = tempfile::tempdir().unwrap();
        for kind in [
            Kind::IndexVsP,
            Kind::Coverage,
            Kind::C6Loss,
            Kind::C6Time,
            Kind::PLrMap,
        ] {
            let path = dir.path().join(format!("{}.png", kind.stem()));
            let files = draw_report(kind, &rep, &path).unwrap();
            assert!(!files.is_empty() && files[0] == path, "{kind:?}");
            for f in &files {
                let (w, h) = png_size(f);
                assert!(
                    (700..4000).contains(&w) && (400..3000).contains(&h),
                    "{kind:?}: {w} x {h}"
                );
                assert!(
                    std::fs::metadata(f).unwrap().len() > 5_000,
                    "{kind:?}: nearly empty"
                );
            }
        }
        // A report without fixed-p configurations cannot draw index_vs_p, and says why.
        let only_cyc = report(
            rep.runs
                .iter()
                .filter(|r| r.optimizer["p"].is_object())
                .cloned()
                .collect(),
        );
        let e = draw_report(Kind::IndexVsP, &only_cyc, &dir.path().join("x.png")).unwrap_err();
        assert!(e.to_string().contains("fixed-p"), "{e}");
    }
}
