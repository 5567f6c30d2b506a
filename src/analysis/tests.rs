//! Known-answer tests on hand-written run directories (run.json with the fields the loader
//! reads, epochs.csv and bands.csv with constructed curves).

use super::aggregate::Report;
use super::*;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

type Curve = Box<dyn Fn(u64) -> f64>;

/// A band of a fixture run: label, [f_lo, f_hi), relative error as a function of the epoch
/// (`None` = the catch-all band with no target energy).
struct FBand {
    label: &'static str,
    f_lo: f64,
    f_hi: f64,
    rel: Option<Curve>,
}

fn band(f: f64, rel: impl Fn(u64) -> f64 + 'static) -> FBand {
    let label: &'static str = Box::leak(format!("{f} cyc").into_boxed_str());
    FBand {
        label,
        f_lo: f,
        f_hi: f + 1.0,
        rel: Some(Box::new(rel)),
    }
}

fn rest() -> FBand {
    FBand {
        label: "rest",
        f_lo: 0.0,
        f_hi: 129.0,
        rel: None,
    }
}

/// Write a run directory under `dir` by hand.
#[allow(clippy::too_many_arguments)]
fn write_run(
    dir: &Path,
    name: &str,
    optimizer: Value,
    seed: u64,
    status: &str,
    budget: u64,
    bands: &[FBand],
    test_loss: impl Fn(u64) -> f64,
) {
    fs::create_dir_all(dir).unwrap();
    let meta = json!({
        "format": "bandwise-run/1",
        "name": name,
        "seed": seed,
        "status": status,
        "config": {
            "name": name,
            "seed": seed,
            "optimizer": optimizer,
            "target": {"frequencies": [1, 2, 4, 8], "n": 256},
            "train": {"epochs": budget},
            "spectral": {"thresholds": [0.1, 0.01]}
        }
    });
    fs::write(
        dir.join("run.json"),
        serde_json::to_string_pretty(&meta).unwrap(),
    )
    .unwrap();
    let last = if status == "diverged" {
        budget / 4
    } else {
        budget
    };
    let mut ep = String::from("# fixture\nepoch,step,train_loss,test_loss,lr,p,wall_s\n");
    let mut bs = String::from("# fixture\ngrid,epoch,band,label,f_lo,f_hi,residual_energy,target_energy,rel_error,share\n");
    for e in 0..=last {
        let tl = if status == "diverged" && e == last {
            f64::NAN
        } else {
            test_loss(e)
        };
        let _ = writeln!(
            ep,
            "{e},{e},{},{},0.001,,0",
            crate::record::num(tl),
            crate::record::num(tl)
        );
        for (i, b) in bands.iter().enumerate() {
            let (res, tgt, rel) = match &b.rel {
                Some(f) => {
                    let r = if status == "diverged" && e == last {
                        f64::NAN
                    } else {
                        f(e)
                    };
                    (0.5 * r, 0.5, r)
                }
                None => (1e-3, 0.0, f64::NAN),
            };
            let n = crate::record::num;
            let _ = writeln!(
                bs,
                "train,{e},{i},{},{},{},{},{},{},0.2",
                b.label,
                n(b.f_lo),
                n(b.f_hi),
                n(res),
                n(tgt),
                n(rel)
            );
        }
    }
    fs::write(dir.join("epochs.csv"), ep).unwrap();
    fs::write(dir.join("bands.csv"), bs).unwrap();
}

fn padam(p: f64) -> Value {
    json!({"name": "padam", "lr": 0.001, "p": p})
}

fn exp10(rate: f64) -> impl Fn(u64) -> f64 {
    move |e| 10f64.powf(-rate * e as f64)
}

/// Four bands 1, 2, 4, 8 cycles with decay rates `rates` (decades/epoch) and a rest band.
fn bands_with(rates: [f64; 4]) -> Vec<FBand> {
    let mut v: Vec<FBand> = [1.0, 2.0, 4.0, 8.0]
        .iter()
        .zip(rates)
        .map(|(&f, r)| band(f, exp10(r)))
        .collect();
    v.push(rest());
    v
}

fn report_of(dirs: &[PathBuf]) -> Report {
    build(dirs, &ReportOptions::default(), &[]).unwrap()
}

#[test]
fn thresholds_half_life_and_never_on_known_curves() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    // rel = exp(-a e), a = 0.01: below 0.1 first at e > ln(10)/a = 230.26 -> 231; below 0.01 at
    // e > 460.5 -> 461; half-life ln(2)/a = 69.3 -> 70. The second band floors at 0.5: never.
    let a = 0.01;
    let bands = vec![
        FBand {
            label: "1 cyc",
            f_lo: 1.0,
            f_hi: 2.0,
            rel: Some(Box::new(move |e| (-a * e as f64).exp())),
        },
        FBand {
            label: "2 cyc",
            f_lo: 2.0,
            f_hi: 3.0,
            rel: Some(Box::new(|e| 0.5 + 0.5 * (-0.05 * e as f64).exp())),
        },
        rest(),
    ];
    write_run(
        &dir,
        "known",
        padam(0.5),
        1,
        "completed",
        1000,
        &bands,
        |e| 1.0 / (1.0 + e as f64),
    );
    let r = report_of(&[dir]);
    let c = &r.configs[0];
    let b0 = &c.bands[0];
    assert_eq!(b0.convergence.to_threshold[0].threshold, 0.1);
    assert_eq!(b0.convergence.to_threshold[0].epochs.median, Some(231.0));
    assert_eq!(b0.convergence.to_threshold[1].epochs.median, Some(461.0));
    assert_eq!(
        b0.convergence.half_life.median,
        Some(((2f64).ln() / a).ceil())
    );
    assert!((b0.convergence.final_rel_error.median - (-10.0f64).exp()).abs() < 1e-15);
    assert_eq!(b0.convergence.plateau.converged, 1);
    let b1 = &c.bands[1];
    assert_eq!(b1.convergence.to_threshold[0].epochs.median, None);
    assert_eq!(b1.convergence.to_threshold[0].epochs.reached, 0);
    assert_eq!(b1.convergence.plateau.stalled, 1);
    assert!(!c.bands[2].in_index, "the rest band never takes part");
    assert!(render::fmt_epochs(&b1.convergence.to_threshold[0].epochs) == "never");
    // Coverage of band 0: mean over e = 0..=1000 of log10(exp(-a e)) = -a log10(e) * 500.
    assert!((b0.convergence.coverage.median + a * std::f64::consts::LOG10_E * 500.0).abs() < 1e-9);
}

#[test]
fn index_sign_on_constructed_records() {
    let tmp = tempfile::tempdir().unwrap();
    let low = tmp.path().join("low");
    let high = tmp.path().join("high");
    let flat = tmp.path().join("flat");
    write_run(
        &low,
        "low",
        padam(0.5),
        1,
        "completed",
        1200,
        &bands_with([4e-3, 3e-3, 2e-3, 1e-3]),
        |_| 1.0,
    );
    write_run(
        &high,
        "high",
        padam(-0.5),
        1,
        "completed",
        1200,
        &bands_with([1e-3, 2e-3, 3e-3, 4e-3]),
        |_| 1.0,
    );
    write_run(
        &flat,
        "flat",
        padam(0.0),
        1,
        "completed",
        1200,
        &bands_with([2e-3; 4]),
        |_| 1.0,
    );
    let idx = |d: &PathBuf| report_of(std::slice::from_ref(d)).configs[0].index.mean;
    let (l, h, f) = (idx(&low), idx(&high), idx(&flat));
    assert!(l > 0.0, "low bands first -> positive, got {l}");
    assert!(h < 0.0, "high bands first -> negative, got {h}");
    assert!(f.abs() < 1e-9, "equal decay -> ~0, got {f}");
    // Exact value: rates fall by 1e-3 per octave, mean rate 2.5e-3 -> 0.4.
    assert!((l - 0.4).abs() < 1e-9, "{l}");
    // Table order: by index, most positive first.
    let r = report_of(&[tmp.path().to_path_buf()]);
    let order: Vec<f64> = r.configs.iter().map(|c| c.fixed_p.unwrap()).collect();
    assert_eq!(order, [0.5, 0.0, -0.5]);
    // The time view: low bands reach 0.1 first -> positive Spearman.
    assert!((r.configs[0].time_spearman.mean - 1.0).abs() < 1e-12);
}

#[test]
fn diverged_runs_are_excluded_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    for (s, status) in [(1, "completed"), (2, "completed"), (3, "diverged")] {
        let r = [4e-3 + 1e-4 * s as f64, 3e-3, 2e-3, 1e-3];
        write_run(
            &tmp.path().join(format!("s{s}")),
            &format!("run-s{s}"),
            padam(0.5),
            s,
            status,
            400,
            &bands_with(r),
            |e| 1.0 / (1.0 + e as f64),
        );
    }
    let r = report_of(&[tmp.path().to_path_buf()]);
    assert_eq!(
        r.configs.len(),
        1,
        "seeds of one configuration (names differ) aggregate"
    );
    let c = &r.configs[0];
    assert_eq!((c.n_runs, c.n_diverged, r.n_diverged), (3, 1, 1));
    assert_eq!(c.seeds, [1, 2]);
    assert_eq!(c.diverged_seeds, [3]);
    assert_eq!(c.index.n, 2);
    assert!(c.index.mean.is_finite() && c.index.has_ci());
    assert!(
        c.final_test_loss.median.is_finite(),
        "the diverged run's NaN loss is not averaged in"
    );
    assert_eq!(c.bands[0].convergence.to_threshold[0].epochs.n, 2);
    let md = render::markdown(&r);
    assert!(md.contains("2 of 3 (1)"), "{md}");
}

#[test]
fn some_seeds_never_reach() {
    let tmp = tempfile::tempdir().unwrap();
    for s in 1..=3u64 {
        // Band 1 cyc reaches 0.1 at epoch 101 for seeds 1-2 (rate 0.01), never for seed 3.
        let r1 = if s < 3 { 0.01 } else { 1e-4 };
        write_run(
            &tmp.path().join(format!("s{s}")),
            "x",
            padam(0.5),
            s,
            "completed",
            200,
            &bands_with([r1, 1e-4, 1e-4, 1e-4]),
            |_| 1.0,
        );
    }
    let r = report_of(&[tmp.path().to_path_buf()]);
    let t = &r.configs[0].bands[0].convergence.to_threshold[0].epochs;
    assert_eq!(
        (t.n, t.reached, t.median, t.median_reached, t.min, t.max),
        (3, 2, Some(101.0), Some(101.0), Some(101), Some(101))
    );
    assert_eq!(render::fmt_epochs_compact(t), "101 (2/3)");
    assert!(
        r.configs[0].index.mean.is_finite(),
        "the index stays defined when bands never reach"
    );
}

#[test]
fn no_runs_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let e = build(&[tmp.path().to_path_buf()], &ReportOptions::default(), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds no run records"), "{e}");
    let e = build(
        &[tmp.path().join("missing")],
        &ReportOptions::default(),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("does not exist"), "{e}");
    let tmp2 = tempfile::tempdir().unwrap();
    write_run(
        &tmp2.path().join("r"),
        "r",
        padam(0.5),
        1,
        "completed",
        10,
        &bands_with([1e-3; 4]),
        |_| 1.0,
    );
    let opts = ReportOptions {
        grid: "test".into(),
        ..Default::default()
    };
    let e = build(&[tmp2.path().to_path_buf()], &opts, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no band record for grid `test`"), "{e}");
}

/// Three fixed p, three seeds each, plus an sgd baseline and a cyclic configuration. Every
/// configuration learns (final test loss <= 10% of the initial, some band below 0.1).
fn claim_fixture(root: &Path) {
    for s in 1..=3u64 {
        learning_run(root, "pm", padam(-0.5), s, [1e-3, 2e-3, 3e-3, 4e-3], 200.0);
        learning_run(root, "p0", padam(0.0), s, [3e-3, 3e-3, 3e-3, 3e-3], 300.0);
        learning_run(root, "pp", padam(0.5), s, [4e-3, 3e-3, 2e-3, 1e-3], 200.0);
        let sgd = json!({"name": "sgd", "lr": 0.01});
        learning_run(root, "sgd", sgd, s, [3e-3, 2e-3, 1.5e-3, 1e-3], 300.0);
        let cyc = json!({"name": "padam", "lr": 0.001, "p": {"kind": "cosine", "min": -0.5, "max": 0.5, "period": 50}});
        // Reaches the strongest baseline's final loss (2e-2, p = -0.5) at epoch 40 = 10% of
        // its budget, and the sgd baseline's (2 x 10^(-4/3)) earlier.
        learning_run(root, "cyc", cyc, s, [6e-3, 5e-3, 4e-3, 3e-3], 20.0);
    }
}

/// A completed run `root/<name>/s<seed>` of 400 epochs that learns: band decay rates `rates`
/// (the first jittered by 1e-4 x seed), test loss 2 x 10^(-e/T), so final/initial =
/// 10^(-400/T).
fn learning_run(root: &Path, name: &str, optimizer: Value, seed: u64, rates: [f64; 4], t: f64) {
    let mut rates = rates;
    rates[0] += 1e-4 * seed as f64;
    write_run(
        &root.join(name).join(format!("s{seed}")),
        name,
        optimizer,
        seed,
        "completed",
        400,
        &bands_with(rates),
        move |e| 2.0 * 10f64.powf(-(e as f64) / t),
    );
}

#[test]
fn verdicts_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    claim_fixture(tmp.path());
    let dirs = [tmp.path().to_path_buf()];
    let opts = ReportOptions::default();
    let c2 = claim_verdicts(&dirs, Claim::C2, &opts).unwrap();
    assert_eq!(c2.len(), 1);
    assert_eq!(c2[0].outcome, Outcome::Supported, "{:#?}", c2[0]);
    let c3 = claim_verdicts(&dirs, Claim::C3, &opts).unwrap();
    assert_eq!(c3[0].outcome, Outcome::Supported, "{:#?}", c3[0]);
    let c6 = claim_verdicts(&dirs, Claim::C6, &opts).unwrap();
    assert_eq!(c6[0].outcome, Outcome::Supported, "{:#?}", c6[0]);
    assert!(
        c6[0].subject.contains("sgd"),
        "sgd is preferred over padam p=0 as the baseline"
    );
    let r = build(&dirs, &opts, &[]).unwrap();
    assert_eq!(r.verdicts.len(), 3);
    let pp = r.configs.iter().find(|c| c.fixed_p == Some(0.5)).unwrap();
    assert!(pp.baseline.as_deref().unwrap().starts_with("sgd"));
    let d = pp.index_vs_baseline.unwrap();
    assert!(d.mean > 0.0 && d.has_ci());
    // Not applicable: only one configuration.
    let one = [tmp.path().join("pp")];
    let v = claim_verdicts(&one, Claim::C3, &opts).unwrap();
    assert_eq!(v[0].outcome, Outcome::NotEvaluated);
    assert!(build(&one, &opts, &[]).unwrap().verdicts.is_empty());
}

#[test]
fn matched_loss_slopes_follow_the_band_order() {
    let tmp = tempfile::tempdir().unwrap();
    claim_fixture(tmp.path());
    let r = report_of(&[tmp.path().to_path_buf()]);
    let at = |p: f64| {
        let c = r.configs.iter().find(|c| c.fixed_p == Some(p)).unwrap();
        let m = c.matched_loss.iter().find(|m| m.level == 0.1).unwrap();
        (m.slope, m.reached, m.epoch.median)
    };
    // p = 0.5: rates 4e-3 .. 1e-3 per band (one octave apart), level 10% reached at epoch
    // 200, so log10 rel_b = -200 k_b and the slope per octave is -200 x (-1e-3) = +0.2 (the
    // jitter of the first band moves the mean a little).
    let (pp, reached, epoch) = at(0.5);
    assert_eq!((reached, epoch), (3, Some(200.0)));
    assert!((pp.mean - 0.2).abs() < 0.02 && pp.has_ci(), "{pp:?}");
    let (pm, _, _) = at(-0.5);
    assert!((pm.mean + 0.2).abs() < 0.02, "{pm:?}");
    let (p0, _, epoch0) = at(0.0);
    assert_eq!(epoch0, Some(300.0));
    assert!(p0.mean.abs() < 0.05, "{p0:?}");
}

/// One fixed-p task where p = -0.5 is replaced by `pm` runs written by `write_pm`.
fn c2_with(root: &Path, write_pm: impl Fn(&Path, u64)) {
    for s in 1..=3u64 {
        write_pm(&root.join("pm").join(format!("s{s}")), s);
        learning_run(root, "p0", padam(0.0), s, [3e-3, 3e-3, 3e-3, 3e-3], 300.0);
        learning_run(root, "pp", padam(0.5), s, [4e-3, 3e-3, 2e-3, 1e-3], 200.0);
    }
}

#[test]
fn a_configuration_that_does_not_learn_makes_the_setting_invalid() {
    let tmp = tempfile::tempdir().unwrap();
    c2_with(tmp.path(), |dir, s| {
        // Ends at half the initial loss, no band below 0.1: it did not learn.
        write_run(
            dir,
            "pm",
            padam(-0.5),
            s,
            "completed",
            400,
            &bands_with([1e-4 + 1e-5 * s as f64, 2e-4, 3e-4, 4e-4]),
            |e| 2.0 - e as f64 / 400.0,
        );
    });
    let r = report_of(&[tmp.path().to_path_buf()]);
    let v = r.verdicts.iter().find(|v| v.claim == "C2").unwrap();
    assert_eq!(v.outcome, Outcome::InvalidSetting, "{v:#?}");
    assert!(v.evidence[0].contains("did not learn"), "{:?}", v.evidence);
    assert_eq!(v.data["guard_failures"].as_array().unwrap().len(), 1);
    let pm = r.configs.iter().find(|c| c.fixed_p == Some(-0.5)).unwrap();
    assert!(!pm.guards.learned && (pm.guards.loss_ratio - 0.5).abs() < 1e-9);
    assert_eq!(pm.guards.seeds_with_band_below_threshold, 0);
    // Loosened guard (the threshold is configurable): no longer invalid.
    let opts = ReportOptions {
        guards: guards::Guards {
            max_loss_ratio: 0.6,
            ..Default::default()
        },
        ..Default::default()
    };
    let v = claim_verdicts(&[tmp.path().to_path_buf()], Claim::C2, &opts).unwrap();
    assert!(
        v[0].evidence[0].contains("only 0 of 3"),
        "{:?}",
        v[0].evidence
    );
}

#[test]
fn diverged_seeds_count_in_n_and_can_invalidate() {
    let tmp = tempfile::tempdir().unwrap();
    c2_with(tmp.path(), |dir, s| {
        let status = if s == 1 { "completed" } else { "diverged" };
        write_run(
            dir,
            "pm",
            padam(-0.5),
            s,
            status,
            400,
            &bands_with([1e-3, 2e-3, 3e-3, 4e-3]),
            |e| 2.0 * 10f64.powf(-(e as f64) / 200.0),
        );
    });
    let r = report_of(&[tmp.path().to_path_buf()]);
    let pm = r.configs.iter().find(|c| c.fixed_p == Some(-0.5)).unwrap();
    assert_eq!((pm.n_runs, pm.n_diverged), (3, 2));
    assert!(!pm.guards.passed);
    let v = r.verdicts.iter().find(|v| v.claim == "C2").unwrap();
    assert_eq!(v.outcome, Outcome::InvalidSetting);
    assert!(v
        .evidence
        .iter()
        .any(|e| e.contains("2 of 3 seeds diverged")));
    assert!(
        v.evidence
            .iter()
            .any(|e| e.contains("n = 1 of 3 (2 diverged)")),
        "{:?}",
        v.evidence
    );
    assert_eq!(v.data["configs"][0]["n"], 3);
    assert_eq!(v.data["configs"][0]["n_diverged"], 2);
    let md = render::markdown(&r);
    assert!(
        md.contains("1 of 3 (2)"),
        "the table shows completed of n (diverged)"
    );
}

/// A sweep directory by hand: sweep.json, lr_search.json and runs/<id>/ for each config.
#[test]
fn an_lr_at_the_grid_edge_makes_the_setting_invalid() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut runs = Vec::new();
    let decay = |t: f64| move |e: u64| 2.0 * 10f64.powf(-(e as f64) / t);
    for (cfg, p, rates) in [
        ("pm", -0.5, [1e-3, 2e-3, 3e-3, 4e-3]),
        ("p0", 0.0, [3e-3, 3e-3, 3e-3, 3e-3]),
        ("pp", 0.5, [4e-3, 3e-3, 2e-3, 1e-3]),
    ] {
        for s in 1..=3u64 {
            let id = format!("{cfg}__seed={s}");
            let mut r = rates;
            r[0] += 1e-4 * s as f64;
            write_run(
                &root.join("runs").join(&id),
                cfg,
                padam(p),
                s,
                "completed",
                400,
                &bands_with(r),
                decay(200.0),
            );
            runs.push(json!({"id": id, "config_id": cfg, "seed": s, "dir": format!("runs/{id}"), "values": {}}));
        }
        // An lr-search run inside the sweep: not part of the report by default.
        write_run(
            &root.join("lr_search").join(cfg).join("lr=1__seed=9"),
            cfg,
            json!({"name": "padam", "lr": 1.0, "p": p}),
            9,
            "completed",
            100,
            &bands_with(rates),
            decay(50.0),
        );
    }
    fs::write(
        root.join("sweep.json"),
        json!({"format": "bandwise-sweep/1", "name": "t", "runs": runs}).to_string(),
    )
    .unwrap();
    let cfg = |id: &str, edge: Value| json!({"config_id": id, "chosen_lr": 0.001, "chosen_at_edge": edge, "extended_with": [], "stable_at_half_budget": true});
    fs::write(
        root.join("lr_search.json"),
        json!({"epochs": 100, "seeds_disjoint_from_evaluation": true, "configs": [
            cfg("pm", json!("upper")), cfg("p0", Value::Null), cfg("pp", Value::Null)
        ]})
        .to_string(),
    )
    .unwrap();
    let r = report_of(&[root.to_path_buf()]);
    assert_eq!(r.n_runs, 9, "lr-search runs are excluded by default");
    let pm = r.configs.iter().find(|c| c.fixed_p == Some(-0.5)).unwrap();
    assert_eq!(pm.guards.lr_at_edge.as_deref(), Some("upper"));
    assert_eq!(pm.lr_search.as_ref().unwrap().config_id, "pm");
    let v = r.verdicts.iter().find(|v| v.claim == "C2").unwrap();
    assert_eq!(v.outcome, Outcome::InvalidSetting, "{v:#?}");
    assert!(v.evidence[0].contains("upper edge"), "{:?}", v.evidence);
    // Interior choices everywhere: a real verdict.
    fs::write(
        root.join("lr_search.json"),
        json!({"configs": [cfg("pm", Value::Null), cfg("p0", Value::Null), cfg("pp", Value::Null)]}).to_string(),
    )
    .unwrap();
    let r = report_of(&[root.to_path_buf()]);
    let v = r.verdicts.iter().find(|v| v.claim == "C2").unwrap();
    assert_eq!(v.outcome, Outcome::Supported, "{v:#?}");
    // Asked for: the lr-search runs are read too.
    let opts = ReportOptions {
        include_lr_search: true,
        ..Default::default()
    };
    assert_eq!(build(&[root.to_path_buf()], &opts, &[]).unwrap().n_runs, 12);
}

#[test]
fn config_ids_do_not_depend_on_the_window() {
    let tmp = tempfile::tempdir().unwrap();
    claim_fixture(tmp.path());
    let dirs = [tmp.path().to_path_buf()];
    let ids = |w: f64| {
        let opts = ReportOptions {
            window_fraction: w,
            ..Default::default()
        };
        let mut v: Vec<(String, String)> = build(&dirs, &opts, &[])
            .unwrap()
            .configs
            .iter()
            .map(|c| (c.label.clone(), c.id.clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(1.0), ids(0.5));
}

/// Compare JSON texts line by line; numbers may differ by a relative 1e-9 (libm differences).
fn same_json(got: &str, want: &str) -> Result<(), String> {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    if g.len() != w.len() {
        return Err(format!("{} lines, snapshot has {}", g.len(), w.len()));
    }
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        if a == b {
            continue;
        }
        let split = |s: &str| {
            s.rsplit_once(": ")
                .map(|(k, v)| (k.to_string(), v.trim_end_matches(',').parse::<f64>()))
        };
        match (split(a), split(b)) {
            (Some((ka, Ok(x))), Some((kb, Ok(y))))
                if ka == kb && (x - y).abs() <= 1e-9 * y.abs().max(1e-300) => {}
            _ => return Err(format!("line {}: got `{a}`, snapshot `{b}`", i + 1)),
        }
    }
    Ok(())
}

/// Schema stability. To regenerate after an intended change of the schema:
/// `BANDWISE_UPDATE_SNAPSHOTS=1 cargo test report::tests::json_snapshot`, review the diff of
/// fixtures/report/snapshot.json, and bump SCHEMA if a key was renamed or removed.
#[test]
fn json_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    for s in 1..=2u64 {
        write_run(
            &tmp.path().join(format!("a/s{s}")),
            "a",
            padam(0.5),
            s,
            "completed",
            100,
            &bands_with([4e-2 + 1e-3 * s as f64, 3e-2, 2e-2, 1e-2]),
            |e| 1.0 / (1.0 + e as f64),
        );
        write_run(
            &tmp.path().join(format!("b/s{s}")),
            "b",
            padam(0.0),
            s,
            "completed",
            100,
            &bands_with([1e-2, 1e-2 + 1e-3 * s as f64, 1e-2, 1e-2]),
            |e| 1.0 / (1.0 + 0.5 * e as f64),
        );
    }
    write_run(
        &tmp.path().join("b/s3"),
        "b",
        padam(0.0),
        3,
        "diverged",
        100,
        &bands_with([1e-2; 4]),
        |_| 1.0,
    );
    let r = report_of(&[tmp.path().to_path_buf()]);
    let prefix = tmp.path().display().to_string();
    let got = render::json(&r).replace(&prefix, "<tmp>");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/report/snapshot.json");
    if std::env::var_os("BANDWISE_UPDATE_SNAPSHOTS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &got).unwrap();
    }
    let want = fs::read_to_string(&path)
        .expect("fixtures/report/snapshot.json (regenerate: see the doc comment)");
    if let Err(e) = same_json(&got, &want) {
        panic!("JSON report differs from fixtures/report/snapshot.json: {e}\n(if intended, regenerate: see the doc comment of this test)");
    }
    let v: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["schema"], "bandwise-report/1");
    // CSV and Markdown render the same report.
    let csv = render::csv(&r);
    assert!(csv.lines().any(|l| l.starts_with(
        "config,label,task,n_runs,n_diverged,band,quantity,threshold,statistic,value"
    )));
    let id = &r.configs[0].id;
    assert!(csv.contains(&format!("{id},padam p=0.5 lr=0.001,t1,2,0,,index,,mean,")));
    let term = render::terminal(&r);
    assert!(term.contains("index [95% CI]"));
}

/// Two tasks (target.n differs) x three fixed p: one C2 verdict per task whose subject and
/// `task_description` name the field that sets the tasks apart, with the Welch p-value.
#[test]
fn c2_subjects_name_what_sets_tasks_apart() {
    let tmp = tempfile::tempdir().unwrap();
    for n in [256, 128] {
        for (i, p) in [-0.5, 0.0, 0.5].into_iter().enumerate() {
            for s in 1..=3u64 {
                let dir = tmp.path().join(format!("n{n}/p{i}/s{s}"));
                write_run(
                    &dir,
                    &format!("n{n}p{i}"),
                    padam(p),
                    s,
                    "completed",
                    60,
                    &bands_with([4e-2, 3e-2 + 1e-3 * s as f64, 2e-2, 1e-2 * (1.0 + p)]),
                    |e| 1.0 / (1.0 + e as f64),
                );
                let f = dir.join("run.json");
                let text = fs::read_to_string(&f)
                    .unwrap()
                    .replace("\"n\": 256", &format!("\"n\": {n}"));
                fs::write(&f, text).unwrap();
            }
        }
    }
    let opts = ReportOptions::default();
    let v = claim_verdicts(&[tmp.path().to_path_buf()], Claim::C2, &opts).unwrap();
    assert_eq!(v.len(), 2, "{v:#?}");
    let mut described: Vec<String> = v
        .iter()
        .map(|x| x.data["task_description"].as_str().unwrap().to_string())
        .collect();
    described.sort();
    assert_eq!(described, ["target.n=128", "target.n=256"]);
    for x in &v {
        let d = x.data["task_description"].as_str().unwrap();
        assert!(x.subject.contains(&format!("({d})")), "{}", x.subject);
        let p = x.data["welch_p"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{p}");
    }
}

#[test]
fn c3_and_c6_carry_the_p_value_holm_uses() {
    let tmp = tempfile::tempdir().unwrap();
    claim_fixture(tmp.path());
    let r = report_of(&[tmp.path().to_path_buf()]);
    let c6 = r.verdicts.iter().find(|v| v.claim == "C6").unwrap();
    assert_eq!(c6.outcome, Outcome::Supported);
    // All 3 seeds reach L* before 0.25 B against both baselines: the sign test's p is
    // 1/2^3 = 0.125 per baseline, and a verdict that needs both takes the larger.
    assert_eq!(c6.data["p_value"].as_f64(), Some(0.125), "{:#?}", c6.data);
    assert_eq!(c6.data["comparisons"].as_array().unwrap().len(), 2);
    let c3 = r.verdicts.iter().find(|v| v.claim == "C3").unwrap();
    assert_eq!(c3.outcome, Outcome::Supported);
    // Supported = every 95% Welch interval below 0, so every one-sided p < 0.025.
    let p = c3.data["p_value"].as_f64().unwrap();
    assert!(p > 0.0 && p < 0.025, "{p}");
    // Both verdicts name their task (one task: no distinguishing fields).
    for v in [c3, c6] {
        assert!(v.data["task"].is_string() && v.data["task_description"] == "");
    }
}

#[test]
fn a_cyclic_configuration_that_does_not_learn_makes_c3_and_c6_invalid() {
    let tmp = tempfile::tempdir().unwrap();
    claim_fixture(tmp.path());
    let cyc = json!({"name": "padam", "lr": 0.001, "p": {"kind": "cosine", "min": -0.5, "max": 0.5, "period": 50}});
    for s in 1..=3u64 {
        // Ends at 3/4 of its initial loss with no band below 0.1: it did not learn.
        write_run(
            &tmp.path().join("cyc").join(format!("s{s}")),
            "cyc",
            cyc.clone(),
            s,
            "completed",
            400,
            &bands_with([1e-4 + 1e-5 * s as f64, 2e-4, 3e-4, 4e-4]),
            |e| 2.0 - e as f64 / 800.0,
        );
    }
    let r = report_of(&[tmp.path().to_path_buf()]);
    for claim in ["C3", "C6"] {
        let v = r.verdicts.iter().find(|v| v.claim == claim).unwrap();
        assert_eq!(v.outcome, Outcome::InvalidSetting, "{claim}: {v:#?}");
        assert!(v.evidence[0].contains("did not learn"), "{:?}", v.evidence);
        assert!(
            v.data["p_value"].is_null(),
            "an invalid setting is not tested"
        );
    }
}
