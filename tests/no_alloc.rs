//! The training hot loop allocates nothing: the number of heap allocations of a run does not
//! depend on how many steps it trains (the matrix products use bandwise's own allocation-free
//! kernel, src/base/gemm.rs). Checked for full-batch and minibatch training, f32 and f64, and every
//! built-in optimizer.

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
fn allocation_count_does_not_grow_with_steps() {
    let optimizers = [
        "name = \"sgd\"\nlr = 0.01\nmomentum = 0.9\nnesterov = true",
        "name = \"adam\"\nlr = 1e-3",
        "name = \"adamw\"\nlr = 1e-3",
        "name = \"rmsprop\"\nlr = 1e-3",
        "name = \"padam\"\nlr = 1e-3\np = { kind = \"cosine\", min = -0.5, max = 0.5, period = 7 }",
        "name = \"padam\"\nlr = 1e-3\np = -0.25\nnormalize = \"rms\"",
    ];
    for opt in optimizers {
        for (batch, dtype) in [(0, "f32"), (16, "f32"), (0, "f64"), (10, "f64")] {
            let short = allocations(opt, 5, batch, dtype);
            let long = allocations(opt, 60, batch, dtype);
            assert_eq!(
                short, long,
                "{opt} batch {batch} {dtype}: {short} allocations for 5 epochs, {long} for 60"
            );
        }
    }
}
