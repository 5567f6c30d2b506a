//! The three matrix products of one hidden layer's training step, timed through the engine's
//! own calls (`base::gemm` for the forward product, `nn::model`'s gradient products), next to
//! the FMA peak of one core:
//! Z = A W (forward), dW = A^T Delta (weight gradient: A^T copied first when the engine
//! copies it) and dA = Delta W^T (input gradient), for A and Delta N x H and W H x H, f32.
//! benches/torch_products.py times the same products in PyTorch; docs/benchmarks.md runs the
//! two alternately.
//!
//! `cargo bench --bench products -- [--n N] [--hidden H] [--threads T] [--repeats R]`

use bandwise::app::bench::peak::fma_peak_gflops;
use bandwise::base::gemm::{gemm, transposed_ld, View};
use bandwise::base::threads;
use bandwise::experiment::config::Dtype;
use bandwise::nn::model::{copies_transpose, input_gradient, weight_gradient};
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => {
            let value = args
                .get(i + 1)
                .unwrap_or_else(|| panic!("{name} needs a value"));
            value
                .parse()
                .unwrap_or_else(|_| panic!("{name} {value}: not a whole number"))
        }
        None => default,
    }
}

/// Median and best seconds of `repeats` calls of `f` (after three warm-up calls).
fn time(repeats: usize, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..3 {
        f();
    }
    let mut seconds: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    (seconds[seconds.len() / 2], seconds[0])
}

fn main() {
    let (n, h) = (arg("--n", 1024), arg("--hidden", 512));
    let (thread_count, repeats) = (arg("--threads", 1), arg("--repeats", 20).max(1));
    threads::set(thread_count);
    let values = |len: usize, mult: usize| -> Vec<f32> {
        (0..len)
            .map(|i| ((i * mult) % 1000) as f32 / 1000.0 - 0.5)
            .collect()
    };
    let (a, delta, w) = (
        values(n * h, 7919),
        values(n * h, 31),
        values(h * h, 104_729),
    );
    let (mut z, mut gw, mut da) = (vec![0f32; n * h], vec![0f32; h * h], vec![0f32; n * h]);
    // The workspace's copy of A^T, used where the engine uses it.
    let mut at = vec![0f32; h * transposed_ld(n)];
    let copies = copies_transpose(n, h, h);
    let flop = 2.0 * (n * h * h) as f64;
    let (peak, _) = fma_peak_gflops(Dtype::F32, 0.2, 3);
    println!(
        "bandwise products, N = {n}, hidden {h}, {thread_count} thread(s), f32; FMA peak of one core {peak:.0} GFLOP/s"
    );
    let report = |name: &str, (median, best): (f64, f64)| {
        println!(
            "product {name:<16} median {:7.3} ms ({:4.0} GFLOP/s), best {:7.3} ms",
            median * 1e3,
            flop / median / 1e9,
            best * 1e3
        );
    };
    report(
        "forward",
        time(repeats, || {
            gemm(
                View::row_major(&a, n, h),
                View::row_major(&w, h, h),
                &mut z,
                h,
                false,
            )
        }),
    );
    report(
        "weight_gradient",
        time(repeats, || {
            weight_gradient(&a, &delta, &mut gw, h, h, copies.then_some(&mut at[..]))
        }),
    );
    report(
        "input_gradient",
        time(repeats, || input_gradient(&delta, &w, &mut da, h, h)),
    );
}
