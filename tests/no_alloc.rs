//! The training hot loop does no avoidable per-step work: its heap allocations do not grow
//! with the number of steps. The matrix products (faer, src/base/gemm.rs) keep their packing
//! scratch after a first call, which the test runs before it counts; a library whose scratch
//! is allocated per product would be allowed if it measured faster (docs/benchmarks.md), so
//! the bound is written per product and per step, and today it is zero.
//! Checked for full-batch and minibatch training, f32 and f64, and every built-in optimizer.

use bandwise::engine::train::{train, EpochView, NoObserver};
use bandwise::experiment::config::Experiment;
use bandwise::optim::Registry;
use bandwise::task::objective::Mse;
use bandwise::task::target::Target;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(optimizer: &str, epochs: u64, batch: usize, dtype: &str) -> usize {
    let text = format!(
        "dtype = \"{dtype}\"\n[target]\nn = 64\nfrequencies = [1, 5]\n[model]\nhidden = [16, 16]\n[optimizer]\n{optimizer}\n[train]\nepochs = {epochs}\nbatch_size = {batch}\neval_every = 1000\n"
    );
    let exp = Experiment::from_toml_str(&text, "alloc").unwrap();
    let opt = exp.validate(&Registry::builtin()).unwrap();
    let target = Target::build(&exp.target, 0);
    let mut quiet = |_: &EpochView| {};
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let result = match dtype {
        "f32" => train::<f32, _>(&exp, &target, &Mse, &opt, &mut NoObserver, &mut quiet),
        _ => train::<f64, _>(&exp, &target, &Mse, &opt, &mut NoObserver, &mut quiet),
    }
    .unwrap();
    let count = ALLOCATIONS.load(Ordering::Relaxed) - before;
    drop(result);
    count
}

#[test]
fn allocations_do_not_grow_with_the_steps() {
    let optimizers = [
        "name = \"sgd\"\nlr = 0.01\nmomentum = 0.9\nnesterov = true",
        "name = \"adam\"\nlr = 1e-3",
        "name = \"adamw\"\nlr = 1e-3",
        "name = \"rmsprop\"\nlr = 1e-3",
        "name = \"padam\"\nlr = 1e-3\np = { kind = \"cosine\", min = -0.5, max = 0.5, period = 7 }",
        "name = \"padam\"\nlr = 1e-3\np = -0.25\nnormalize = \"rms\"",
    ];
    // The 1 -> 16 -> 16 -> 1 network has one hidden-to-hidden layer: one product forward and
    // two backward (weight and input gradient); the first and last layers are computed
    // without a matrix product.
    const PRODUCTS_PER_STEP: usize = 3;
    // Allocations allowed per product and step: none with faer.
    const PER_PRODUCT: usize = 0;
    // A first training in this process initialises the libraries' lazy state.
    allocations(optimizers[0], 5, 0, "f32");
    allocations(optimizers[0], 5, 0, "f64");
    for opt in optimizers {
        for (batch, dtype) in [(0, "f32"), (16, "f32"), (0, "f64"), (10, "f64")] {
            let steps_per_epoch = if batch == 0 {
                1
            } else {
                64usize.div_ceil(batch)
            };
            let [a5, a30, a60] = [5, 30, 60].map(|e| allocations(opt, e, batch, dtype));
            // A few one-off allocations (lazy initialisation in a library, the test harness's
            // own threads, which the global counter also sees) are allowed: the bound is on
            // growth, per step.
            const SLACK: usize = 8;
            for (grown, steps) in [
                (a30.saturating_sub(a5), 25 * steps_per_epoch),
                (a60.saturating_sub(a30), 30 * steps_per_epoch),
            ] {
                assert!(
                    grown <= PER_PRODUCT * PRODUCTS_PER_STEP * steps + SLACK,
                    "{opt} batch {batch} {dtype}: {grown} allocations over {steps} steps ({a5}, {a30}, {a60} for 5, 30, 60 epochs), more than {PER_PRODUCT} per matrix product ({PRODUCTS_PER_STEP} per step)"
                );
            }
        }
    }
}
