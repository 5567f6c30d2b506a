//! Classification runs: the trainer with [`CrossEntropy`] and an observer that turns the
//! monitored signal (softmax output h and one-hot target y, K channels) into the records.
//!
//! - Grid tasks (`target.classes`): the spectral monitor runs on each class channel
//!   h_c - y_c, and bands.csv holds the sums over the K channels (residual and target
//!   energies summed, rel_error = sum_c E_b(r_c) / sum_c E_b(y_c), share of the summed
//!   residual). peaks.csv/peaks2d.csv are left empty (the one-hot target has no sine
//!   components); snapshots hold the class label as `target` and the predicted class
//!   (argmax h) as `prediction`, so 2D snapshots are class maps.
//! - Data tasks (`kind = "dataset"`): the F-Principle filtering method
//!   ([`crate::spectral::filtering`]) on the residual h - y of the training set, written to
//!   filtering.csv (see [`FILTER_POINTS`] and [`DELTA_FACTORS`]).
//! - Both: class_accuracy.csv, the accuracy per class on both splits at analysed epochs.

use crate::engine::monitor::Recorder;
use crate::engine::train::{train, Evaluation, Observer, Progress, TrainResult};
use crate::experiment::config::{Dtype, Experiment};
use crate::optim::ResolvedOptimizer;
use crate::record::{csv_preamble, num, Csv, Staging};
use crate::spectral::filtering::Filter;
use crate::task::objective::cross_entropy::{per_class_accuracy, predict};
use crate::task::objective::CrossEntropy;
use crate::task::target::Target;
use anyhow::Result;
use ndarray::Array2;
use serde_json::{json, Value};

/// At most this many training points enter the filtering method (every (n/m)-th point, in
/// order; the weights take 4 m^2 bytes per delta).
pub const FILTER_POINTS: usize = 1000;

/// The delta ladder, as multiples of the median pairwise distance s of the filtered points.
pub const DELTA_FACTORS: [f64; 4] = [0.125, 0.25, 0.5, 1.0];

/// One row of class_accuracy.csv.
pub struct ClassRow {
    pub epoch: u64,
    pub split: &'static str,
    pub class: usize,
    pub count: usize,
    pub accuracy: f64,
}

/// One row of filtering.csv.
pub struct FilterRow {
    pub epoch: u64,
    pub level: usize,
    pub delta: f64,
    pub e_low: f64,
    pub e_high: f64,
}

/// The filtering method on a subsample of the training points.
struct Filtering {
    filter: Filter,
    rows: Vec<usize>,
    y: Array2<f64>,
    scale: f64,
}

/// The observer of a classification run.
pub struct ClassObserver {
    k: usize,
    train_labels: Vec<usize>,
    test_labels: Vec<usize>,
    /// Grid tasks: one spectral recorder per class channel.
    channels: Vec<Recorder>,
    buf: [Vec<f64>; 2],
    filtering: Option<Filtering>,
    pub class_rows: Vec<ClassRow>,
    pub filter_rows: Vec<FilterRow>,
    pub filter_seconds: f64,
    /// The predicted class of every test point at each analysed epoch (for agreement.csv).
    test_predictions: Vec<(u64, Vec<u16>)>,
}

/// The agreement thresholds whose first crossing run.json reports.
pub const AGREEMENT_LEVELS: [f64; 2] = [0.9, 0.95];

/// Decision-boundary agreement: per analysed epoch, the fraction of points whose predicted
/// class equals their class at the last analysed epoch (1 at the last epoch by definition).
pub fn agreement(predictions: &[(u64, Vec<u16>)]) -> Vec<(u64, f64)> {
    let Some((_, last)) = predictions.last() else {
        return Vec::new();
    };
    predictions
        .iter()
        .map(|(epoch, p)| {
            let same = p.iter().zip(last).filter(|(a, b)| a == b).count();
            (*epoch, same as f64 / last.len().max(1) as f64)
        })
        .collect()
}

/// The first epoch at which `agreement` reaches `level` and stays there until the end
/// (None if it never does before the last epoch).
pub fn first_stable_epoch(agreement: &[(u64, f64)], level: f64) -> Option<u64> {
    let last_below = agreement.iter().rposition(|&(_, a)| a < level);
    match last_below {
        None => agreement.first().map(|&(e, _)| e),
        Some(i) => agreement.get(i + 1).map(|&(e, _)| e),
    }
}

/// Indices of `m` of `n` points, evenly strided.
fn strided(n: usize, m: usize) -> Vec<usize> {
    (0..m).map(|i| i * n / m).collect()
}

/// Median of the pairwise distances between the rows of `x`.
fn median_distance(x: &Array2<f64>) -> f64 {
    let n = x.nrows();
    let mut d = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let s: f64 = x
                .row(i)
                .iter()
                .zip(x.row(j))
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            d.push(s.sqrt());
        }
    }
    if d.is_empty() {
        return 1.0;
    }
    let mid = d.len() / 2;
    *d.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1
}

fn one_hot(labels: &[usize], k: usize) -> Array2<f64> {
    Array2::from_shape_fn((labels.len(), k), |(i, c)| f64::from(labels[i] == c))
}

impl ClassObserver {
    /// Observer for `target` (class indices) with K = `k` classes.
    pub fn new(exp: &Experiment, target: &Target, k: usize) -> Result<ClassObserver> {
        let labels = |y: &[f64]| y.iter().map(|&v| v as usize).collect::<Vec<_>>();
        let (train_labels, test_labels) = (labels(&target.train.y), labels(&target.test.y));
        let mut channels = Vec::new();
        let mut filtering = None;
        if exp.target.dataset.is_none() {
            for c in 0..k {
                let mut t = target.clone();
                for g in [&mut t.train, &mut t.test] {
                    g.y = g.y.iter().map(|&v| f64::from(v as usize == c)).collect();
                    g.y_clean = g.y.clone();
                }
                channels.push(Recorder::new(exp, &t)?);
            }
        } else if exp.spectral.enabled {
            let n = target.train.len();
            let d = target.train.dim();
            let rows = strided(n, n.min(FILTER_POINTS));
            let x =
                Array2::from_shape_fn((rows.len(), d), |(i, j)| target.train.t[rows[i] * d + j]);
            let scale = median_distance(&x);
            let deltas: Vec<f64> = DELTA_FACTORS.iter().map(|f| f * scale).collect();
            let sub: Vec<usize> = rows.iter().map(|&i| train_labels[i]).collect();
            filtering = Some(Filtering {
                filter: Filter::new(x.view(), &deltas)?,
                y: one_hot(&sub, k),
                rows,
                scale,
            });
        }
        Ok(ClassObserver {
            k,
            buf: [vec![0.0; target.train.len()], vec![0.0; target.test.len()]],
            train_labels,
            test_labels,
            channels,
            filtering,
            class_rows: Vec::new(),
            filter_rows: Vec::new(),
            filter_seconds: 0.0,
            test_predictions: Vec::new(),
        })
    }

    /// The recorder written as bands.csv and snapshots: channel sums (see the module docs).
    /// For data tasks, an empty recorder (no grid, no bands).
    pub fn take_recorder(&mut self, exp: &Experiment, target: &Target) -> Result<Recorder> {
        if self.channels.is_empty() {
            let mut off = exp.clone();
            off.spectral.enabled = false;
            off.record.snapshots = Some(Vec::new());
            return Recorder::new(&off, target);
        }
        let mut base = self.channels.remove(0);
        for other in self.channels.drain(..) {
            for (a, b) in base.bands.iter_mut().zip(&other.bands) {
                a.residual_energy += b.residual_energy;
                a.target_energy += b.target_energy;
            }
        }
        let mut i = 0;
        while i < base.bands.len() {
            let (grid, epoch) = (base.bands[i].grid, base.bands[i].epoch);
            let end = i + base.bands[i..]
                .iter()
                .take_while(|r| r.grid == grid && r.epoch == epoch)
                .count();
            let total: f64 = base.bands[i..end].iter().map(|r| r.residual_energy).sum();
            for r in &mut base.bands[i..end] {
                r.rel_error = if r.target_energy > 0.0 {
                    r.residual_energy / r.target_energy
                } else {
                    f64::NAN
                };
                r.share = if total > 0.0 {
                    r.residual_energy / total
                } else {
                    f64::NAN
                };
            }
            i = end;
        }
        base.peaks.clear();
        Ok(base)
    }

    /// The classification block of run.json.
    pub fn describe(&self, target: &Target) -> Value {
        let counts = |l: &[usize]| {
            let mut c = vec![0usize; self.k];
            l.iter().for_each(|&y| c[y] += 1);
            c
        };
        let mut v = json!({
            "classes": self.k,
            "train_counts": counts(&self.train_labels),
            "test_counts": counts(&self.test_labels),
            "features": target.train.dim(),
        });
        let agree = agreement(&self.test_predictions);
        v["agreement"] = json!({
            "definition": "first analysed epoch from which the test points' predicted classes agree with the final ones on at least this fraction of points, to the end",
            "first_epoch": AGREEMENT_LEVELS
                .iter()
                .map(|&l| (format!("{l}"), json!(first_stable_epoch(&agree, l))))
                .collect::<serde_json::Map<_, _>>(),
        });
        if let Some(f) = &self.filtering {
            v["filtering"] = json!({
                "points": f.rows.len(),
                "median_distance": f.scale,
                "deltas": f.filter.deltas(),
                "memory_bytes": f.filter.memory_bytes(),
                "seconds": self.filter_seconds,
            });
        }
        v
    }

    /// Write class_accuracy.csv and (data tasks) filtering.csv.
    pub fn write(&self, staging: &Staging, name: &str) -> Result<()> {
        let mut comments = csv_preamble("per-class accuracy at analysed epochs", name);
        comments.push("accuracy = fraction of the split's points labelled `class` whose predicted class (argmax of the logits) is `class`; count = points labelled `class`; empty = no such point".into());
        let mut csv = Csv::new(comments, &["epoch", "split", "class", "count", "accuracy"]);
        for r in &self.class_rows {
            csv.row(&[
                r.epoch.to_string(),
                r.split.into(),
                r.class.to_string(),
                r.count.to_string(),
                num(r.accuracy),
            ]);
        }
        staging.write("class_accuracy.csv", &csv.render())?;
        let mut comments = csv_preamble("decision-boundary agreement on the test points", name);
        comments.push("agreement = fraction of test points whose predicted class (argmax of the logits) at this epoch equals their predicted class at the last analysed epoch (1 there by definition); the first epoch from which it stays at or above 0.9 / 0.95 is in run.json classification.agreement".into());
        let mut csv = Csv::new(comments, &["epoch", "agreement"]);
        for (epoch, a) in agreement(&self.test_predictions) {
            csv.row(&[epoch.to_string(), num(a)]);
        }
        staging.write("agreement.csv", &csv.render())?;
        if let Some(f) = &self.filtering {
            let mut comments =
                csv_preamble("F-Principle filtering method on the training set", name);
            comments.push(format!("f_low(x_i) = sum_j f(x_j) G(x_i - x_j) / sum_j G(x_i - x_j), G(u) = exp(-|u|^2 / (2 delta^2)), f_high = f - f_low; on {} training points (every (n/m)-th); f = one-hot target y (K channels) and softmax output h", f.rows.len()));
            comments.push(format!("e_low = ||y_low - h_low|| / ||y_low||, e_high = ||y_high - h_high|| / ||y_high|| (Frobenius over points and classes); delta = factor x s, s = {} the median pairwise distance, factors {DELTA_FACTORS:?}; small delta: the low part keeps most of the error", num(f.scale)));
            let mut csv = Csv::new(comments, &["epoch", "level", "delta", "e_low", "e_high"]);
            for r in &self.filter_rows {
                csv.row(&[
                    r.epoch.to_string(),
                    r.level.to_string(),
                    num(r.delta),
                    num(r.e_low),
                    num(r.e_high),
                ]);
            }
            staging.write("filtering.csv", &csv.render())?;
        }
        Ok(())
    }
}

/// Add the classification block to run.json and restate the conventions it changes.
pub fn describe_run(run: &mut Value, classification: Value) {
    let filtering = classification.get("filtering").is_some();
    run["classification"] = classification;
    let c = &mut run["conventions"];
    c["loss"] = json!("mean softmax cross-entropy over the points, in nats (stable log-sum-exp); accuracy = fraction of points whose argmax logit is the label");
    c["residual"] = json!("classification: r = softmax(z) - onehot(y), K channels; band energies are summed over the channels (rel_error = sum_c E_b(r_c) / sum_c E_b(onehot_c))");
    c["class_labels"] = json!("target.classes = 2: label 1 where the regression target is > 0; K >= 3: argmax of K band-limited functions with the configured frequencies and their own random phases");
    if filtering {
        c["filtering"] = json!(format!("F-Principle filtering on at most {FILTER_POINTS} training points (every (n/m)-th); Gaussian G(u) = exp(-|u|^2/(2 delta^2)); delta ladder = {DELTA_FACTORS:?} x the median pairwise distance; e_low/e_high = relative errors of the low/high parts of h against the one-hot y; delta -> 0 gives e_low = the total relative error and an empty high part"));
    }
    let files = &mut run["files"];
    files["class_accuracy.csv"] = json!("per analysed epoch, split and class: accuracy and count");
    files["agreement.csv"] =
        json!("per analysed epoch: fraction of test points predicted as at the last epoch");
    if filtering {
        files["filtering.csv"] =
            json!("per analysed epoch and delta: e_low, e_high (F-Principle filtering method)");
    }
}

/// Train a classification run: K = `k` classes, cross-entropy, the observer above; returns
/// the trainer's result, the recorder to write (see [`ClassObserver::take_recorder`]) and
/// the observer with the classification records.
pub fn train_classes(
    exp: &Experiment,
    opt: &ResolvedOptimizer,
    target: &Target,
    k: usize,
    progress: Progress,
) -> Result<(TrainResult, Recorder, ClassObserver)> {
    let mut obs = ClassObserver::new(exp, target, k)?;
    let ce = CrossEntropy { classes: k };
    let result = match exp.dtype {
        Dtype::F32 => train::<f32, _>(exp, target, &ce, opt, &mut obs, progress)?,
        Dtype::F64 => train::<f64, _>(exp, target, &ce, opt, &mut obs, progress)?,
    };
    let rec = obs.take_recorder(exp, target)?;
    Ok((result, rec, obs))
}

impl Observer for ClassObserver {
    fn observe(&mut self, ev: &Evaluation) -> Result<()> {
        let k = self.k;
        for (split, h, labels) in [
            ("train", ev.train_pred, &self.train_labels),
            ("test", ev.test_pred, &self.test_labels),
        ] {
            let predicted = predict(h, k);
            let mut counts = vec![0usize; k];
            labels.iter().for_each(|&y| counts[y] += 1);
            for (class, acc) in per_class_accuracy(&predicted, labels, k)
                .into_iter()
                .enumerate()
            {
                self.class_rows.push(ClassRow {
                    epoch: ev.epoch,
                    split,
                    class,
                    count: counts[class],
                    accuracy: acc.unwrap_or(f64::NAN),
                });
            }
        }
        if !self.test_labels.is_empty() {
            let predicted = predict(ev.test_pred, k);
            self.test_predictions
                .push((ev.epoch, predicted.iter().map(|&c| c as u16).collect()));
        }
        for (c, rec) in self.channels.iter_mut().enumerate() {
            let snaps = rec.snapshots.len();
            for (buf, h) in self.buf.iter_mut().zip([ev.train_pred, ev.test_pred]) {
                for (b, row) in buf.iter_mut().zip(h.chunks_exact(k)) {
                    *b = row[c];
                }
            }
            rec.observe(&Evaluation {
                train_pred: &self.buf[0],
                test_pred: &self.buf[1],
                ..*ev
            })?;
            // Snapshots: label and predicted class instead of channel values.
            let predicted = predict(ev.train_pred, k);
            for (i, s) in rec.snapshots[snaps..].iter_mut().enumerate() {
                s.target = self.train_labels[i] as f64;
                s.prediction = predicted[i] as f64;
            }
        }
        if let Some(f) = &self.filtering {
            let t0 = std::time::Instant::now();
            let h =
                Array2::from_shape_fn((f.rows.len(), k), |(i, c)| ev.train_pred[f.rows[i] * k + c]);
            for (level, e) in f
                .filter
                .errors(f.y.view(), h.view())
                .into_iter()
                .enumerate()
            {
                self.filter_rows.push(FilterRow {
                    epoch: ev.epoch,
                    level,
                    delta: e.delta,
                    e_low: e.e_low,
                    e_high: e.e_high,
                });
            }
            self.filter_seconds += t0.elapsed().as_secs_f64();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_counts_points_predicted_as_at_the_end() {
        let p = vec![
            (0, vec![0, 0, 0, 0]),
            (5, vec![1, 0, 2, 3]),
            (10, vec![1, 2, 2, 3]),
            (15, vec![1, 2, 2, 3]),
        ];
        let a = agreement(&p);
        assert_eq!(a, vec![(0, 0.0), (5, 0.75), (10, 1.0), (15, 1.0)]);
        assert_eq!(first_stable_epoch(&a, 0.9), Some(10));
        assert_eq!(first_stable_epoch(&a, 0.5), Some(5));
        assert!(agreement(&[]).is_empty());
    }

    #[test]
    fn first_stable_epoch_ignores_a_transient_crossing() {
        // Reaches 0.95 at epoch 1, falls back at epoch 2: stable only from epoch 3.
        let a = vec![(0, 0.5), (1, 0.96), (2, 0.8), (3, 0.97), (4, 1.0)];
        assert_eq!(first_stable_epoch(&a, 0.95), Some(3));
        assert_eq!(first_stable_epoch(&a, 0.4), Some(0));
        assert_eq!(first_stable_epoch(&[(0, 0.5)], 0.9), None);
    }
}
