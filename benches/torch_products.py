"""The three matrix products of one hidden layer's training step in PyTorch (its CPU
library, MKL on x86): Z = A W, dW = A^T Delta and dA = Delta W^T, A and Delta N x H, W H x H,
f32. The peer of benches/products.rs; docs/benchmarks.md runs the two alternately.

    python3 benches/torch_products.py [--n N] [--hidden H] [--threads T] [--repeats R]
"""

import argparse
import time

import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n, h = args.n, args.hidden
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(n, h, generator=gen) - 0.5
    delta = torch.rand(n, h, generator=gen) - 0.5
    w = torch.rand(h, h, generator=gen) - 0.5
    flop = 2.0 * n * h * h
    print(f"torch {torch.__version__} products, N = {n}, hidden {h}, "
          f"{torch.get_num_threads()} thread(s), f32")
    cases = [
        ("forward", lambda: a @ w),
        ("weight_gradient", lambda: a.t() @ delta),
        ("input_gradient", lambda: delta @ w.t()),
    ]
    for name, product in cases:
        for _ in range(3):
            product()
        seconds = []
        for _ in range(max(args.repeats, 1)):
            start = time.perf_counter()
            product()
            seconds.append(time.perf_counter() - start)
        seconds.sort()
        median, best = seconds[len(seconds) // 2], seconds[0]
        print(f"product {name:<16} median {median * 1e3:7.3f} ms "
              f"({flop / median / 1e9:4.0f} GFLOP/s), best {best * 1e3:7.3f} ms")


if __name__ == "__main__":
    main()
