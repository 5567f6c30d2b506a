//! Softmax cross-entropy over K classes: the classification [`Objective`], and its math on a
//! row-major `[n, K]` block of logits (loss, gradient seed, predicted classes, accuracy and
//! per-class accuracy).
//!
//! Definitions, for logits z (row i, class j) and labels y_i in 0..K:
//! - loss = (1/n) sum_i [ LSE(z_i) - z_{i, y_i} ], LSE(z_i) = log sum_j exp(z_ij), computed
//!   stably as (m_i - z_{i, y_i}) + log sum_j exp(z_ij - m_i) with m_i = max_j z_ij, so no
//!   exponent exceeds 0 and a large m_i never cancels against z_{i, y_i} (logits of 1e4 give
//!   exact results, also in f32). Row losses are summed in f64 in row order (deterministic).
//! - gradient of that mean loss: dL/dz_ij = (softmax(z_i)_j - [j = y_i]) / n.
//! - predicted class: argmax_j z_ij, ties to the lowest index; a NaN logit never wins
//!   (a row of NaNs predicts class 0).
//! - accuracy: fraction of rows whose predicted class equals the label; per-class accuracy of
//!   class c: the same over the rows labelled c (None when no row has label c).
//!
//! As an objective ([`CrossEntropy`]): K logits per sample, the target is the class index
//! (one value per sample, stored as a float), the per-epoch metrics are `train_accuracy` and
//! `test_accuracy`, and the monitored signal has K channels: h = softmax(z) and y = the
//! one-hot row of the label, so the monitored residual h - y is the residual of the softmax
//! output against the one-hot target (bandwise's choice: it is the gradient seed times n, it
//! is bounded in [-1, 1], and its band energies summed over the K channels are the Brier
//! score's). Predicted classes are the argmax of h (softmax preserves the argmax).

use crate::base::scalar::Scalar;
use crate::task::objective::{Objective, Split};

/// Loss and accuracy of one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    /// Mean softmax cross-entropy (nats).
    pub loss: f64,
    /// Fraction of rows classified correctly.
    pub accuracy: f64,
    /// Accuracy among the rows of each class 0..K (None: no row has that label).
    pub per_class: Vec<Option<f64>>,
}

fn check_shape<S>(logits: &[S], k: usize, labels: &[usize]) {
    assert!(k >= 1, "cross-entropy needs K >= 1 classes");
    assert_eq!(
        logits.len(),
        labels.len() * k,
        "logits hold {} values; expected n x K = {} x {k}",
        logits.len(),
        labels.len()
    );
    if let Some((i, &c)) = labels.iter().enumerate().find(|(_, &c)| c >= k) {
        panic!("label {c} of row {i} is outside 0..{k}");
    }
}

/// (max_j z_j, log sum_j exp(z_j - max)) of one row.
#[inline]
fn row_max_and_log_sum<S: Scalar>(row: &[S]) -> (S, S) {
    let m = row.iter().copied().fold(S::neg_infinity(), S::max);
    let s: S = row.iter().map(|&z| (z - m).exp()).sum();
    (m, s.ln())
}

/// Mean softmax cross-entropy of `logits` (`[n, K]` row-major) against `labels` (n values in
/// 0..K). An empty batch (n = 0) has loss 0.
pub fn loss<S: Scalar>(logits: &[S], k: usize, labels: &[usize]) -> f64 {
    check_shape(logits, k, labels);
    if labels.is_empty() {
        return 0.0;
    }
    let mut total = 0.0f64;
    for (row, &y) in logits.chunks_exact(k).zip(labels) {
        let (m, log_s) = row_max_and_log_sum(row);
        total += ((m - row[y]) + log_s).f64();
    }
    total / labels.len() as f64
}

/// The mean loss, as [`loss`], and its gradient with respect to the logits written into
/// `grad` (same shape): (softmax - one-hot) / n.
pub fn loss_and_grad<S: Scalar>(logits: &[S], k: usize, labels: &[usize], grad: &mut [S]) -> f64 {
    check_shape(logits, k, labels);
    assert_eq!(
        grad.len(),
        logits.len(),
        "gradient buffer has the wrong size"
    );
    rows_loss_and_grad(logits, k, labels.iter().copied(), grad).f64()
}

/// Sum over rows of (loss, gradient) as in [`loss_and_grad`], for `labels.len()` rows of
/// `logits` (buffers may be longer); returns the mean loss. Allocates nothing.
fn rows_loss_and_grad<S: Scalar>(
    logits: &[S],
    k: usize,
    labels: impl ExactSizeIterator<Item = usize>,
    grad: &mut [S],
) -> S {
    let n = labels.len();
    if n == 0 {
        return S::zero();
    }
    let inv_n = S::of(1.0 / n as f64);
    let mut total = 0.0f64;
    for ((row, g), y) in logits
        .chunks_exact(k)
        .zip(grad.chunks_exact_mut(k))
        .zip(labels)
    {
        let (m, log_s) = row_max_and_log_sum(row);
        total += ((m - row[y]) + log_s).f64();
        // softmax_j = exp(z_j - m - log s): one exp per logit, never above 1.
        for (gj, &z) in g.iter_mut().zip(row) {
            *gj = (z - m - log_s).exp() * inv_n;
        }
        g[y] -= inv_n;
    }
    S::of(total / n as f64)
}

/// Softmax of every row of `logits` (`[n, K]`), stable (max subtracted), into `out`.
pub fn softmax_into(logits: &[f64], k: usize, out: &mut [f64]) {
    for (row, o) in logits.chunks_exact(k).zip(out.chunks_exact_mut(k)) {
        let (m, log_s) = row_max_and_log_sum(row);
        for (oj, &z) in o.iter_mut().zip(row) {
            *oj = (z - m - log_s).exp();
        }
    }
}

/// The class index stored as a target value (validated integers in 0..K).
fn class_of(y: f64) -> usize {
    y as usize
}

/// Softmax cross-entropy over `classes` logits per sample (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrossEntropy {
    pub classes: usize,
}

impl CrossEntropy {
    /// Labels of a grid (class indices stored as floats).
    pub fn labels(y: &[f64]) -> Vec<usize> {
        y.iter().map(|&v| class_of(v)).collect()
    }
}

impl Objective for CrossEntropy {
    fn name(&self) -> &'static str {
        "cross_entropy"
    }

    fn width(&self) -> usize {
        self.classes
    }

    fn loss_and_seed<S: Scalar>(&self, out: &[S], y: &[S], seed: &mut [S], rows: usize) -> S {
        let labels = y[..rows].iter().map(|v| class_of(v.f64()));
        rows_loss_and_grad(out, self.classes, labels, seed)
    }

    fn loss(&self, split: Split) -> f64 {
        loss(split.pred, self.classes, &Self::labels(split.y))
    }

    fn metric_names(&self) -> &[&'static str] {
        &["train_accuracy", "test_accuracy"]
    }

    fn metrics(&self, train: Split, test: Split, out: &mut Vec<f64>) {
        for s in [train, test] {
            out.push(accuracy(&predict(s.pred, self.classes), &Self::labels(s.y)));
        }
    }

    fn monitor_channels(&self) -> usize {
        self.classes
    }

    fn monitored_output(&self, pred: &[f64], out: &mut [f64]) {
        softmax_into(pred, self.classes, out);
    }

    fn monitored_target(&self, y: &[f64]) -> Vec<f64> {
        let k = self.classes;
        let mut out = vec![0.0; y.len() * k];
        for (i, &v) in y.iter().enumerate() {
            out[i * k + class_of(v)] = 1.0;
        }
        out
    }
}

/// argmax of one row, ties to the lowest index; NaN never wins.
fn argmax<S: Scalar>(row: &[S]) -> usize {
    let mut best = 0;
    for (j, &z) in row.iter().enumerate().skip(1) {
        if z > row[best] || (row[best].is_nan() && !z.is_nan()) {
            best = j;
        }
    }
    best
}

/// The predicted class of every row of `logits` (`[n, K]` row-major).
pub fn predict<S: Scalar>(logits: &[S], k: usize) -> Vec<usize> {
    assert!(
        k >= 1 && logits.len().is_multiple_of(k),
        "logits are not n x {k}"
    );
    logits.chunks_exact(k).map(argmax).collect()
}

/// Fraction of `predicted` equal to `labels` (0 for an empty set).
pub fn accuracy(predicted: &[usize], labels: &[usize]) -> f64 {
    assert_eq!(predicted.len(), labels.len());
    if labels.is_empty() {
        return 0.0;
    }
    let hits = predicted.iter().zip(labels).filter(|(p, y)| p == y).count();
    hits as f64 / labels.len() as f64
}

/// Accuracy among the rows of each class 0..K; None for a class no row is labelled with.
pub fn per_class_accuracy(predicted: &[usize], labels: &[usize], k: usize) -> Vec<Option<f64>> {
    assert_eq!(predicted.len(), labels.len());
    let mut hits = vec![0usize; k];
    let mut total = vec![0usize; k];
    for (&p, &y) in predicted.iter().zip(labels) {
        total[y] += 1;
        hits[y] += usize::from(p == y);
    }
    hits.iter()
        .zip(&total)
        .map(|(&h, &t)| (t > 0).then(|| h as f64 / t as f64))
        .collect()
}

/// Loss, accuracy and per-class accuracy of one evaluation.
pub fn evaluate<S: Scalar>(logits: &[S], k: usize, labels: &[usize]) -> Metrics {
    let loss = loss(logits, k, labels);
    let predicted = predict(logits, k);
    Metrics {
        loss,
        accuracy: accuracy(&predicted, labels),
        per_class: per_class_accuracy(&predicted, labels, k),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random logits in [-3, 3).
    fn logits(n: usize, k: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n * k)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 6.0 - 3.0
            })
            .collect()
    }

    #[test]
    fn gradient_matches_central_differences() {
        let (n, k) = (7, 5);
        let z = logits(n, k, 3);
        let labels: Vec<usize> = (0..n).map(|i| (i * 3) % k).collect();
        let mut grad = vec![0.0; n * k];
        let l = loss_and_grad(&z, k, &labels, &mut grad);
        assert_eq!(l, loss(&z, k, &labels));
        let h = 1e-5;
        let mut worst = 0.0f64;
        for i in 0..n * k {
            let (mut zp, mut zm) = (z.clone(), z.clone());
            zp[i] += h;
            zm[i] -= h;
            let fd = (loss(&zp, k, &labels) - loss(&zm, k, &labels)) / (2.0 * h);
            worst = worst.max((fd - grad[i]).abs());
        }
        assert!(worst < 1e-9, "max |fd - grad| = {worst}");
        // Each gradient row sums to 0 (softmax sums to 1, minus the one-hot).
        for g in grad.chunks(k) {
            assert!(g.iter().sum::<f64>().abs() < 1e-15);
        }
    }

    #[test]
    fn huge_logits_are_finite_and_exact() {
        for scale in [1e4, -1e4] {
            let z64 = [scale, 0.0, scale, scale];
            // Row 0: [s, 0] label 0 and label 1; row 1: [s, s].
            let l0 = loss(&z64[..2], 2, &[0]);
            let l1 = loss(&z64[..2], 2, &[1]);
            let l2 = loss(&z64[2..], 2, &[1]);
            if scale > 0.0 {
                assert_eq!((l0, l1), (0.0, 1e4)); // log(1 + e^-1e4) underflows to exactly 0
            } else {
                assert_eq!((l0, l1), (1e4, 0.0));
            }
            assert_eq!(l2, std::f64::consts::LN_2);
            let z32 = [scale as f32, 0.0, scale as f32, scale as f32];
            assert_eq!(loss(&z32[..2], 2, &[1]), l1);
            assert_eq!(loss(&z32[2..], 2, &[0]), std::f32::consts::LN_2 as f64);
            let mut g = [0.0f32; 4];
            let l = loss_and_grad(&z32, 2, &[0, 1], &mut g);
            assert!(l.is_finite() && g.iter().all(|v| v.is_finite()));
            assert_eq!(&g[2..], &[0.25, -0.25]); // (0.5 - [j = 1]) / 2
            if scale > 0.0 {
                assert_eq!(&g[..2], &[0.0, 0.0]);
            } else {
                assert_eq!(&g[..2], &[-0.5, 0.5]);
            }
        }
    }

    #[test]
    fn two_classes_equal_the_logistic_loss() {
        // Logits [0, t]: P(class 1) = sigmoid(t); loss = softplus(-t) for label 1, softplus(t)
        // for label 0; the gradient on logit 1 is (sigmoid(t) - y) / n.
        let softplus = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
        let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
        for &t in &[-30.0, -2.5, -0.1, 0.0, 0.7, 4.0, 50.0] {
            for y in 0..2 {
                let z = [0.0, t];
                let mut g = [0.0; 2];
                let l = loss_and_grad(&z, 2, &[y], &mut g);
                let want = if y == 1 { softplus(-t) } else { softplus(t) };
                assert!(
                    (l - want).abs() <= 1e-15 * want.max(1.0),
                    "{t} {y}: {l} {want}"
                );
                assert!((g[1] - (sigmoid(t) - y as f64)).abs() < 1e-15);
                assert!((g[0] + g[1]).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn predictions_and_accuracies_on_known_inputs() {
        let z = [
            0.1,
            0.9,
            0.0, // -> 1
            2.0,
            2.0,
            1.0, // tie -> 0
            -1.0,
            -2.0,
            -0.5, // -> 2
            f64::NAN,
            0.0,
            -1.0, // NaN never wins -> 1
        ];
        assert_eq!(predict(&z, 3), vec![1, 0, 2, 1]);
        assert_eq!(predict(&[f64::NAN; 3], 3), vec![0]);
        let labels = [1, 1, 2, 0];
        let m = evaluate(&z[..9], 3, &labels[..3]);
        assert_eq!(m.accuracy, 2.0 / 3.0);
        assert_eq!(m.per_class, vec![None, Some(0.5), Some(1.0)]);
        let p = predict(&z, 3);
        assert_eq!(accuracy(&p, &labels), 0.5);
        assert_eq!(
            per_class_accuracy(&p, &labels, 4),
            vec![Some(0.0), Some(0.5), Some(1.0), None]
        );
        // Loss of a uniform row is log K.
        assert!((loss(&[0.3f32; 4], 4, &[2]) - 4f64.ln()).abs() < 1e-7);
        assert_eq!(loss::<f64>(&[], 3, &[]), 0.0);
    }

    #[test]
    fn objective_seed_is_the_gradient_and_ignores_rows_beyond_the_batch() {
        let (n, k) = (6, 4);
        let z = logits(n, k, 9);
        let labels: Vec<usize> = (0..n).map(|i| (i * 5) % k).collect();
        let y: Vec<f64> = labels.iter().map(|&c| c as f64).collect();
        let ce = CrossEntropy { classes: k };
        let mut grad = vec![0.0; n * k];
        let want = loss_and_grad(&z, k, &labels, &mut grad);
        // A workspace longer than the batch: only the first `n` rows count.
        let mut zl = z.clone();
        zl.extend([50.0; 8]);
        let mut yl = y.clone();
        yl.extend([1.0, 3.0]);
        let mut seed = vec![7.0; (n + 2) * k];
        let got = ce.loss_and_seed(&zl, &yl, &mut seed, n);
        assert!((got - want).abs() < 1e-15);
        assert_eq!(&seed[..n * k], &grad[..]);
        assert!(seed[n * k..].iter().all(|&v| v == 7.0));
        assert!((ce.loss(Split { pred: &z, y: &y }) - want).abs() < 1e-15);
        // Monitored signal: softmax rows (sum 1) against one-hot rows; the residual is n x seed.
        let mut h = vec![0.0; n * k];
        ce.monitored_output(&z, &mut h);
        let onehot = ce.monitored_target(&y);
        for i in 0..n * k {
            assert!((h[i] - onehot[i] - n as f64 * grad[i]).abs() < 1e-12);
        }
        let mut m = Vec::new();
        ce.metrics(Split { pred: &z, y: &y }, Split { pred: &z, y: &y }, &mut m);
        let acc = accuracy(&predict(&z, k), &labels);
        assert_eq!(m, vec![acc, acc]);
    }

    #[test]
    #[should_panic(expected = "outside 0..3")]
    fn labels_out_of_range_panic() {
        loss(&[0.0; 3], 3, &[3]);
    }
}
