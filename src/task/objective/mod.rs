//! Objectives: what "fitting the target" means for the trainer. An [`Objective`] owns the
//! network's output width, the loss and its gradient seed (in the training precision), the
//! loss and metrics reported per evaluated epoch (in f64), and the signal the spectral monitor
//! analyses. The trainer (`engine::train`) knows none of these: it only moves rows of
//! [`Objective::target_width`] target values and [`Objective::width`] outputs around.
//!
//! One file per objective: [`mse`] (regression) and [`cross_entropy`] (K-class softmax
//! cross-entropy), which implements the trait as follows:
//! - `width() = K` logits per sample, `target_width() = 1` (the class index as f64);
//! - `loss_and_seed`: mean over the batch of `-log softmax(z)[c]`, seed `(softmax(z) - onehot(c)) / rows`;
//! - `loss`: the same in f64 (train_loss/test_loss in epochs.csv);
//! - `metric_names() = ["train_accuracy", "test_accuracy"]` and `metrics` fills them (they
//!   become epochs.csv columns after the losses; the per-class accuracy is computed from the
//!   monitored output by the classification records, `engine::classify`);
//! - `monitor_channels() = K`, `monitored_output` = softmax probabilities and
//!   `monitored_target` = the one-hot rows, so the monitored residual h - y is the residual
//!   against the one-hot target, one channel per class.

pub mod cross_entropy;
pub mod mse;

pub use cross_entropy::CrossEntropy;
pub use mse::Mse;

use crate::base::scalar::Scalar;

/// Predictions and targets of one grid (all points), as the trainer evaluates them.
#[derive(Clone, Copy)]
pub struct Split<'a> {
    /// Network outputs, `points x width()` row-major.
    pub pred: &'a [f64],
    /// Targets, `points x target_width()` row-major (the values fitted on the training grid).
    pub y: &'a [f64],
}

/// A training objective. Implementations are small stateless values (e.g. [`Mse`]); the
/// trainer is generic over the objective, so `loss_and_seed` can be generic over the precision.
pub trait Objective {
    /// Short name for records, e.g. `mse`.
    fn name(&self) -> &'static str;

    /// Network outputs per sample (the last layer's width).
    fn width(&self) -> usize;

    /// Target values per sample (1 for a regression value or a class index).
    fn target_width(&self) -> usize {
        1
    }

    /// Training step: the mean loss of a batch of `rows` samples (`out`: `rows x width()`,
    /// `y`: `rows x target_width()`) and its gradient with respect to `out`, written into
    /// `seed` (`rows x width()`). Must not allocate (it runs at every step).
    fn loss_and_seed<S: Scalar>(&self, out: &[S], y: &[S], seed: &mut [S], rows: usize) -> S;

    /// The loss over a whole grid in f64 (train_loss/test_loss of epochs.csv).
    fn loss(&self, split: Split) -> f64;

    /// Names of the extra per-epoch metrics (epochs.csv columns after test_loss); none for MSE.
    fn metric_names(&self) -> &[&'static str] {
        &[]
    }

    /// Values of [`Self::metric_names`] at an evaluated epoch, appended to `out`.
    fn metrics(&self, _train: Split, _test: Split, _out: &mut Vec<f64>) {}

    /// Channels of the monitored signal per grid point (1 for MSE; K for K classes).
    fn monitor_channels(&self) -> usize {
        1
    }

    /// The output side h of the monitored residual r = h - y, `points x monitor_channels()`,
    /// from the network outputs (`points x width()`). MSE: the outputs themselves.
    fn monitored_output(&self, pred: &[f64], out: &mut [f64]);

    /// The target side y of the monitored residual, `points x monitor_channels()`, from the
    /// targets (`points x target_width()`). MSE: the targets themselves.
    fn monitored_target(&self, y: &[f64]) -> Vec<f64>;
}
