//! Speed benchmark of the engine on the reference task, mirroring benches/torch_peer.py:
//! 1 -> 64 -> 64 -> 1 tanh MLP, full-batch Adam (lr 1e-3), target sum of sin(2 pi k t) for
//! k in {1, 2, 4, 8, 16}, one thread. Also measures what the per-epoch evaluation and the
//! spectral monitor cost relative to training. [`peak`] measures the core's FMA rate and the
//! arithmetic limit it sets; [`peer`] times bandwise and a peer command alternately.

use crate::engine::monitor::Recorder;
use crate::engine::train::{train, EpochView, NoObserver, Observer, TrainResult};
use crate::experiment::config::{Dtype, Experiment};
use crate::optim::Registry;
use crate::task::objective::Mse;
use crate::task::target::Target;
use anyhow::Result;
use serde::Serialize;

pub mod peak;
pub mod peer;

/// The network and thread count timed: the reference task is 1 -> 64 -> 64 -> 1 on one
/// thread; wide networks use hidden 256 or 512, and may use several threads for their large
/// matrix products (`base::threads::set`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Workload {
    pub hidden: usize,
    pub threads: usize,
}

impl Workload {
    pub const REFERENCE: Workload = Workload {
        hidden: 64,
        threads: 1,
    };

    /// Layer widths (input, hidden, hidden, output).
    pub fn widths(&self) -> [usize; 4] {
        [1, self.hidden, self.hidden, 1]
    }
}

/// One measured configuration.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub n: usize,
    pub dtype: &'static str,
    pub hidden: usize,
    pub threads: usize,
    pub steps: u64,
    pub repeats: usize,
    pub us_per_step_median: f64,
    pub us_per_step_best: f64,
    /// Each repeat's microseconds per step with the core's f32 or f64 FMA peak (GFLOP/s)
    /// measured just before and after it (their mean), in the order run, so that a change of
    /// the machine's clock between the repeats and one separate peak measurement does not
    /// enter their ratio (other noise stays: docs/benchmarks.md).
    pub repeats_with_peak: Vec<(f64, f64)>,
    /// Per-epoch evaluation (forward on train and test grids) relative to a training step.
    pub eval_fraction: f64,
    /// Spectral analysis (bands + peaks on the training grid) relative to a training step.
    pub spectral_fraction: f64,
}

fn reference_experiment(
    n: usize,
    dtype: Dtype,
    hidden: usize,
    steps: u64,
    eval_every: u64,
    spectral: bool,
) -> Result<Experiment> {
    let text = format!(
        r#"name = "bench"
dtype = "{}"
[target]
n = {n}
frequencies = [1, 2, 4, 8, 16]
phases = "zero"
[model]
hidden = [{hidden}, {hidden}]
activation = "tanh"
init = "torch"
[optimizer]
name = "adam"
lr = 1e-3
[train]
epochs = {steps}
eval_every = {eval_every}
[spectral]
enabled = {spectral}
layout = {{ kind = "octave" }}
"#,
        dtype.name()
    );
    Experiment::from_toml_str(&text, "bench")
}

fn run_once(exp: &Experiment, observer: &mut dyn Observer) -> Result<TrainResult> {
    let opt = exp.validate(&Registry::builtin())?;
    let target = Target::build(&exp.target, exp.seed);
    let mut quiet = |_: &EpochView| {};
    match exp.dtype {
        Dtype::F32 => train::<f32, _>(exp, &target, &Mse, &opt, observer, &mut quiet),
        Dtype::F64 => train::<f64, _>(exp, &target, &Mse, &opt, observer, &mut quiet),
    }
}

/// Microseconds per training step of the reference task (with `work`'s width and threads),
/// one value per repeat of `steps` steps, after a warm-up of steps/10 (no evaluation, no
/// spectral monitor).
pub fn us_per_step(
    n: usize,
    dtype: Dtype,
    work: Workload,
    steps: u64,
    repeats: usize,
) -> Result<Vec<f64>> {
    let timed = timed_repeats(n, dtype, work, steps, repeats, || 0.0)?;
    Ok(timed.into_iter().map(|(us, _)| us).collect())
}

/// [`us_per_step`] with `beside()` measured before the first repeat and after each one: per
/// repeat, (microseconds per step, the mean of the measurements just before and after it).
fn timed_repeats(
    n: usize,
    dtype: Dtype,
    work: Workload,
    steps: u64,
    repeats: usize,
    mut beside: impl FnMut() -> f64,
) -> Result<Vec<(f64, f64)>> {
    crate::base::threads::set(work.threads);
    let warm = reference_experiment(n, dtype, work.hidden, (steps / 10).max(1), steps, false)?;
    run_once(&warm, &mut NoObserver)?;
    let exp = reference_experiment(n, dtype, work.hidden, steps, steps, false)?;
    let mut before = beside();
    let mut timed = Vec::new();
    for _ in 0..repeats.max(1) {
        let r = run_once(&exp, &mut NoObserver)?;
        let after = beside();
        timed.push((
            1e6 * r.train_seconds / r.steps as f64,
            (before + after) / 2.0,
        ));
        before = after;
    }
    Ok(timed)
}

/// Time `steps` training steps `repeats` times (after one warm-up of steps/10), each repeat
/// between two measurements of the FMA peak.
pub fn bench(
    n: usize,
    dtype: Dtype,
    work: Workload,
    steps: u64,
    repeats: usize,
) -> Result<BenchResult> {
    let peak = || peak::fma_peak_gflops(dtype, 0.05, 3).0;
    let repeats_with_peak = timed_repeats(n, dtype, work, steps, repeats, peak)?;
    let mut times: Vec<f64> = repeats_with_peak.iter().map(|&(us, _)| us).collect();
    times.sort_by(f64::total_cmp);
    // Evaluation and spectral cost: every epoch evaluated and analysed.
    let every = reference_experiment(n, dtype, work.hidden, steps / 2, 1, true)?;
    let target = Target::build(&every.target, every.seed);
    let mut recorder = Recorder::new(&every, &target)?;
    let r = run_once(&every, &mut recorder)?;
    Ok(BenchResult {
        n,
        dtype: dtype.name(),
        hidden: work.hidden,
        threads: work.threads,
        steps,
        repeats: times.len(),
        us_per_step_median: times[times.len() / 2],
        us_per_step_best: times[0],
        repeats_with_peak,
        eval_fraction: r.eval_seconds / r.train_seconds,
        spectral_fraction: r.observe_seconds / r.train_seconds,
    })
}

/// The 2D spectral monitor's cost relative to training, on a 64 x 64 grid (4096 points) with
/// a 2 -> 128 -> 128 -> 1 tanh MLP, full-batch Adam, every epoch analysed (octave rings).
#[derive(Debug, Clone, Serialize)]
pub struct Bench2dResult {
    pub dims: [usize; 2],
    pub dtype: &'static str,
    pub epochs: u64,
    /// Training time per epoch (one full-batch step), microseconds.
    pub us_train_per_epoch: f64,
    /// 2D spectral analysis (FFT, ring energies, peaks, record rows) per epoch, microseconds.
    pub us_spectral_per_epoch: f64,
    /// Evaluation forward passes (train and test grids) per epoch, microseconds.
    pub us_eval_per_epoch: f64,
    /// `us_spectral_per_epoch / us_train_per_epoch`.
    pub spectral_fraction: f64,
}

/// Run the 2D reference task for `epochs` epochs and time its parts.
pub fn bench_2d(dtype: Dtype, epochs: u64) -> Result<Bench2dResult> {
    let text = format!(
        r#"name = "bench2d"
dtype = "{}"
[target]
kind = "waves2d"
n = [64, 64]
waves = [[1, 0], [0, 2], [3, 3], [-5, 4], [9, 2], [12, -7], [20, 5]]
phases = "zero"
[model]
hidden = [128, 128]
activation = "tanh"
init = "torch"
[optimizer]
name = "adam"
lr = 1e-3
[train]
epochs = {epochs}
[spectral]
layout = {{ kind = "octave" }}
[record]
snapshots = []
"#,
        dtype.name()
    );
    let exp = Experiment::from_toml_str(&text, "bench2d")?;
    let target = Target::build(&exp.target, exp.seed);
    let mut recorder = Recorder::new(&exp, &target)?;
    let r = run_once(&exp, &mut recorder)?;
    // Training runs `epochs` epochs; evaluation and analysis run at epochs 0..=epochs.
    let per = |s: f64| 1e6 * s / epochs.max(1) as f64;
    let per_eval = |s: f64| 1e6 * s / (epochs + 1) as f64;
    Ok(Bench2dResult {
        dims: [64, 64],
        dtype: dtype.name(),
        epochs,
        us_train_per_epoch: per(r.train_seconds),
        us_spectral_per_epoch: per_eval(r.observe_seconds),
        us_eval_per_epoch: per_eval(r.eval_seconds),
        spectral_fraction: per_eval(r.observe_seconds) / per(r.train_seconds),
    })
}
