//! The training loop: epochs of (mini)batch steps, evaluation on the training and test grids
//! every `eval_every` epochs, divergence detection, and a hook per evaluated epoch that
//! receives the monitored signal (the spectral monitor plugs in there). What is fitted and
//! how (output width, loss, gradient seed, metrics, monitored signal) is the
//! [`Objective`]'s business; the loop only moves rows around.
//!
//! Epoch 0 is the initial network (before any step); epoch e is the network after e epochs.
//! The hyperparameter values recorded at epoch e are those used by the last step of epoch e
//! (for epoch 0: the schedules at step 0). The hot loop does not allocate per step
//! (tests/no_alloc.rs).

use crate::base::rng::{stream, Stream};
use crate::base::scalar::Scalar;
use crate::experiment::config::Experiment;
use crate::nn::features::InputMap;
use crate::nn::model::{backward, forward, predict_into, MlpShape, Workspace};
use crate::optim::{HyperValues, Optimizer, OptimizerSnapshot, ResolvedOptimizer};
use crate::task::objective::{Objective, Split};
use crate::task::target::Target;
use anyhow::Result;
use rand::seq::SliceRandom;
use serde::Serialize;
use std::time::Instant;

/// What an observer sees at an evaluated epoch.
pub struct Evaluation<'a> {
    pub epoch: u64,
    pub step: u64,
    pub train_loss: f64,
    pub test_loss: f64,
    /// The monitored output h on the training grid ([`Objective::monitored_output`],
    /// `points x monitor_channels()`; for MSE the predictions, one per grid point).
    pub train_pred: &'a [f64],
    /// The same on the test grid.
    pub test_pred: &'a [f64],
}

/// Called at every evaluated epoch.
pub trait Observer {
    fn observe(&mut self, ev: &Evaluation) -> Result<()>;
}

/// An observer that does nothing.
pub struct NoObserver;

impl Observer for NoObserver {
    fn observe(&mut self, _: &Evaluation) -> Result<()> {
        Ok(())
    }
}

/// One row of epochs.csv.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochRow {
    pub epoch: u64,
    pub step: u64,
    pub train_loss: f64,
    pub test_loss: f64,
    /// Values of the float hyperparameters (same order as `TrainResult::hyper_names`).
    pub hypers: Vec<f64>,
    /// Values of the objective's metrics (same order as `TrainResult::metric_names`).
    pub metrics: Vec<f64>,
    /// Seconds since training started (excluding set-up).
    pub wall_s: f64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Completed,
    Diverged { epoch: u64, reason: String },
}

/// Everything the trainer produces.
#[derive(Debug, Clone)]
pub struct TrainResult {
    pub status: Status,
    pub rows: Vec<EpochRow>,
    pub hyper_names: Vec<&'static str>,
    pub metric_names: Vec<&'static str>,
    pub params_init: Vec<f64>,
    pub params_final: Vec<f64>,
    /// Parameters and optimizer state at the `record.checkpoints` epochs reached.
    pub checkpoints: Vec<SavedCheckpoint>,
    pub shape: MlpShape,
    pub steps: u64,
    /// Seconds spent in training steps, in evaluation forward passes, and in the observer.
    pub train_seconds: f64,
    pub eval_seconds: f64,
    pub observe_seconds: f64,
}

/// The state of training at the end of an epoch, for a checkpoint file.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedCheckpoint {
    /// Last completed epoch (0 = before training).
    pub epoch: u64,
    /// The parameters, widened to f64.
    pub params: Vec<f64>,
    pub optimizer: OptimizerSnapshot,
}

/// A snapshot of `optimizer` after `step` updates with this step's hyperparameters `hv`.
fn snapshot<S: Scalar>(
    opt: &ResolvedOptimizer,
    optimizer: &dyn Optimizer<S>,
    step: u64,
    hv: &HyperValues,
) -> OptimizerSnapshot {
    OptimizerSnapshot {
        name: opt.entry.name.to_string(),
        step,
        hyper: hv
            .names()
            .iter()
            .zip(hv.values())
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        settings: opt
            .settings
            .flags
            .iter()
            .map(|(k, b)| (k.to_string(), b.to_string()))
            .chain(
                opt.settings
                    .choices
                    .iter()
                    .map(|(k, c)| (k.to_string(), c.clone())),
            )
            .collect(),
        state: optimizer
            .state()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|x| x.f64()).collect()))
            .collect(),
    }
}

/// An epoch row with the names of its hyperparameters and metrics, as progress sees it.
pub struct EpochView<'a> {
    pub row: &'a EpochRow,
    pub hyper_names: &'a [&'static str],
    pub metric_names: &'a [&'static str],
}

impl EpochView<'_> {
    /// The value of hyperparameter `name` at this epoch, if the optimizer has it.
    pub fn hyper(&self, name: &str) -> Option<f64> {
        let i = self.hyper_names.iter().position(|n| *n == name)?;
        Some(self.row.hypers[i])
    }
}

/// Progress reports: called with every evaluated epoch's row.
pub type Progress<'a> = &'a mut dyn FnMut(&EpochView);

/// The model's inputs (`points x width`, row-major) for grid coordinates `t`.
fn map_inputs<S: Scalar>(t: &[f64], map: &InputMap) -> Vec<S> {
    map.apply(t).into_iter().map(S::of).collect()
}

/// Train the experiment's model on `target` for `objective` in precision `S`.
pub fn train<S: Scalar, O: Objective>(
    exp: &Experiment,
    target: &Target,
    objective: &O,
    opt: &ResolvedOptimizer,
    observer: &mut dyn Observer,
    progress: Progress,
) -> Result<TrainResult> {
    let input_map = InputMap::new(&exp.model, target.train.dim(), exp.seed);
    let din = input_map.width();
    let (dout, dy) = (objective.width(), objective.target_width());
    let shape = MlpShape::new(din, &exp.model.hidden, dout, exp.model.activation);
    let mut params: Vec<S> = shape.init_params(exp.model.init, &mut stream(exp.seed, Stream::Init));
    let params_init: Vec<f64> = params.iter().map(|x| x.f64()).collect();
    let mut grads = vec![S::zero(); params.len()];
    let tensors = shape.ranges();
    let mut optimizer = opt.build::<S>(params.len());
    let mut hv = opt.hyper_values();
    let metric_names = objective.metric_names().to_vec();

    let n = target.train.len();
    let batch = if exp.train.batch_size == 0 {
        n
    } else {
        exp.train.batch_size
    };
    let train_x: Vec<S> = map_inputs(&target.train.t, &input_map);
    let train_y: Vec<S> = target.train.y.iter().map(|&y| S::of(y)).collect();
    let test_x: Vec<S> = map_inputs(&target.test.t, &input_map);
    let mut order: Vec<usize> = (0..n).collect();
    let mut shuffle_rng = stream(exp.seed, Stream::Shuffle);
    let mut ws = Workspace::new(&shape, batch);
    let mut batch_y = vec![S::zero(); batch * dy];
    let mut eval_ws = Workspace::forward_only(&shape, n.max(target.test.len()).min(4096));
    let mut train_pred = vec![0.0f64; n * dout];
    let mut test_pred = vec![0.0f64; target.test.len() * dout];
    let channels = objective.monitor_channels();
    let mut train_h = vec![0.0f64; n * channels];
    let mut test_h = vec![0.0f64; target.test.len() * channels];
    let full_batch = batch == n;
    if full_batch {
        ws.input_mut(&shape, n).copy_from_slice(&train_x);
    }

    let evals = exp.train.epochs / exp.train.eval_every + 2;
    let mut rows = Vec::with_capacity(evals as usize);
    let mut status = Status::Completed;
    let mut step: u64 = 0;
    let mut initial_loss = f64::NAN;
    let (mut train_seconds, mut eval_seconds, mut observe_seconds) = (0.0, 0.0, 0.0);
    let start = Instant::now();
    let mut checkpoints = Vec::new();

    opt.fill(&mut hv, 0, 0);
    for epoch in 0..=exp.train.epochs {
        if epoch > 0 {
            let t0 = Instant::now();
            if !full_batch && exp.train.shuffle {
                order.shuffle(&mut shuffle_rng);
            }
            let mut start_row = 0;
            while start_row < n {
                let rows_now = batch.min(n - start_row);
                if !full_batch {
                    let input = ws.input_mut(&shape, rows_now);
                    for (j, &i) in order[start_row..start_row + rows_now].iter().enumerate() {
                        input[j * din..(j + 1) * din]
                            .copy_from_slice(&train_x[i * din..(i + 1) * din]);
                        batch_y[j * dy..(j + 1) * dy]
                            .copy_from_slice(&train_y[i * dy..(i + 1) * dy]);
                    }
                }
                let y = if full_batch {
                    &train_y[..]
                } else {
                    &batch_y[..rows_now * dy]
                };
                forward(&shape, &params, &mut ws, rows_now);
                let (out, seed) = ws.output_and_seed(&shape, rows_now);
                let loss = objective.loss_and_seed(out, y, seed, rows_now);
                if !loss.is_finite() {
                    status = Status::Diverged {
                        epoch,
                        reason: format!("training loss became {loss} at step {}", step + 1),
                    };
                    break;
                }
                backward(&shape, &params, &mut ws, &mut grads, rows_now);
                opt.fill(&mut hv, step, epoch - 1);
                step += 1;
                optimizer.update(step, &hv, &mut params, &grads, &tensors);
                start_row += rows_now;
            }
            train_seconds += t0.elapsed().as_secs_f64();
        }
        let last = epoch == exp.train.epochs;
        let diverged = matches!(status, Status::Diverged { .. });
        if !diverged && exp.record.checkpoints.contains(&epoch) {
            checkpoints.push(SavedCheckpoint {
                epoch,
                params: params.iter().map(|x| x.f64()).collect(),
                optimizer: snapshot(opt, optimizer.as_ref(), step, &hv),
            });
        }
        if !(epoch % exp.train.eval_every == 0 || last || diverged) {
            continue;
        }
        let t0 = Instant::now();
        predict_into(&shape, &params, &mut eval_ws, &train_x, &mut train_pred);
        predict_into(&shape, &params, &mut eval_ws, &test_x, &mut test_pred);
        let train_split = Split {
            pred: &train_pred,
            y: &target.train.y,
        };
        let test_split = Split {
            pred: &test_pred,
            y: &target.test.y,
        };
        let train_loss = objective.loss(train_split);
        let test_loss = objective.loss(test_split);
        let mut metrics = Vec::with_capacity(metric_names.len());
        objective.metrics(train_split, test_split, &mut metrics);
        eval_seconds += t0.elapsed().as_secs_f64();
        if epoch == 0 {
            initial_loss = train_loss;
        }
        if !diverged {
            if !train_loss.is_finite() || !params.iter().all(|x| x.is_finite()) {
                status = Status::Diverged {
                    epoch,
                    reason: "loss or parameters not finite".into(),
                };
            } else if train_loss > exp.train.divergence_factor * initial_loss {
                status = Status::Diverged {
                    epoch,
                    reason: format!("training loss {train_loss:.3e} exceeds {} x the initial loss {initial_loss:.3e}", exp.train.divergence_factor),
                };
            }
        }
        rows.push(EpochRow {
            epoch,
            step,
            train_loss,
            test_loss,
            hypers: hv.values().to_vec(),
            metrics,
            wall_s: start.elapsed().as_secs_f64(),
        });
        let t0 = Instant::now();
        if epoch % exp.spectral_every() == 0 || last || matches!(status, Status::Diverged { .. }) {
            objective.monitored_output(&train_pred, &mut train_h);
            objective.monitored_output(&test_pred, &mut test_h);
            observer.observe(&Evaluation {
                epoch,
                step,
                train_loss,
                test_loss,
                train_pred: &train_h,
                test_pred: &test_h,
            })?;
        }
        observe_seconds += t0.elapsed().as_secs_f64();
        progress(&EpochView {
            row: rows.last().expect("just pushed"),
            hyper_names: hv.names(),
            metric_names: &metric_names,
        });
        if matches!(status, Status::Diverged { .. }) {
            break;
        }
    }
    Ok(TrainResult {
        status,
        rows,
        hyper_names: hv.names().to_vec(),
        metric_names,
        params_init,
        params_final: params.iter().map(|x| x.f64()).collect(),
        checkpoints,
        shape,
        steps: step,
        train_seconds,
        eval_seconds,
        observe_seconds,
    })
}
