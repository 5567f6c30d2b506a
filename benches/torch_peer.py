#!/usr/bin/env python3
"""PyTorch-on-CPU peer benchmark for bandwise (a benchmark, NOT a test).

What it measures
----------------
Wall-clock time per full-batch Adam training step of a tiny MLP in PyTorch on
the CPU, pinned to ONE thread, so that the Rust engine of bandwise can be
compared against it on exactly the same work. The Rust benchmark mirrors it:

* grid   t_n = n / N, n = 0..N-1 (no endpoint); input x = t as an (N, 1) column
* target y = sum_{k in [1, 2, 4, 8, 16]} sin(2 pi k t)  (amplitude 1, phase 0)
* model  Linear(1, 64) -> tanh -> Linear(64, 64) -> tanh -> Linear(64, 1),
         torch's default Linear init (init does not matter for speed)
* loss   MSE (mean)
* optim  torch.optim.Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8), full batch
* step   zero_grad(set_to_none=True); forward; loss; backward; optimizer.step()
* threads torch.set_num_threads(1), torch.set_num_interop_threads(1)

For every (N, dtype) it runs --warmup untimed steps, then --repeats timed
blocks of --steps steps each (training continues across blocks; the work per
step does not depend on the weights), and reports the median and the best
microseconds per step over the blocks.

With --with-eval it additionally measures the same loop where, after each
training step, a torch.no_grad() forward pass over the whole grid and a
torch.fft.rfft of the residual (prediction - target) are done: the work of
bandwise's per-epoch band monitor. Those rows have with_eval=true; the plain
rows are still measured, so the overhead can be read off directly.

Output
------
A human-readable table, and one JSON line per (N, dtype[, with_eval]) with the
keys: peer="pytorch", torch_version, n, dtype, threads, steps, warmup,
repeats, with_eval, us_per_step_median, us_per_step_best, steps_per_s
(= 1e6 / us_per_step_median), final_loss (loss after the last timed step,
a sanity check only), load_avg_1m ([before, after] the measurement; well
above 1 means other processes shared the CPU: prefer us_per_step_best then,
or use more, shorter repeats, e.g. --steps 500 --repeats 12).

With --json FILE the JSON lines go to FILE (overwritten, parent folders are
created) and the table to stdout. Without --json the JSON lines go to stdout
and the table to stderr, so `... > out.jsonl` gives a clean file.

How to run
----------
    pip install torch numpy          # CPU use of the default wheel is fine
    python3 benches/torch_peer.py --json benches/results/torch.jsonl
    python3 benches/torch_peer.py --n 1024 --dtype f32 --steps 500 --with-eval

Options: --n N [N ...] (default 1024 256), --dtype {f32,f64} [...] (default
f32 f64), --steps (default 2000), --warmup (default 200), --repeats (default
3), --with-eval, --json FILE, --seed (default 0), --hidden (default 64; wide
networks: 256, 512), --threads (default 1; 0 = torch's default, one per core).

This script is not part of the test suite: nothing in cargo test or CI needs
Python or PyTorch. Numbers depend on the machine; compare the Rust engine and
this script on the same machine, one thread each, with nothing else running.
The environment is not touched (e.g. OPENBLAS_CORETYPE is irrelevant here:
torch uses its own bundled MKL / oneDNN kernels on x86-64 CPUs).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

import torch

FREQS = (1, 2, 4, 8, 16)
HIDDEN = 64
DTYPES = {"f32": torch.float32, "f64": torch.float64}


def make_problem(n: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid x = n/N as an (N, 1) column and the multi-band sine target (N, 1)."""
    t = torch.arange(n, dtype=torch.float64) / n  # no endpoint
    y = torch.zeros(n, dtype=torch.float64)
    for k in FREQS:
        y += torch.sin(2.0 * math.pi * k * t)
    return t.unsqueeze(1).to(dtype), y.unsqueeze(1).to(dtype)


def make_model(dtype: torch.dtype, hidden: int = HIDDEN) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(1, hidden),
        torch.nn.Tanh(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.Tanh(),
        torch.nn.Linear(hidden, 1),
    ).to(dtype)


def bench_one(n: int, dtype_name: str, steps: int, warmup: int, repeats: int,
              with_eval: bool, seed: int, hidden: int = HIDDEN) -> dict:
    dtype = DTYPES[dtype_name]
    torch.manual_seed(seed)
    x, y = make_problem(n, dtype)
    model = make_model(dtype, hidden)
    loss_fn = torch.nn.MSELoss(reduction="mean")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    def train_step() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        pred = model(x)
        loss = loss_fn(pred, y)
        loss.backward()
        opt.step()
        return loss

    def eval_step() -> torch.Tensor:
        # bandwise's per-epoch monitor: full-grid forward + spectrum of residual.
        with torch.no_grad():
            residual = (model(x) - y).squeeze(1)
            return torch.fft.rfft(residual)

    if with_eval:
        def step() -> torch.Tensor:
            loss = train_step()
            eval_step()
            return loss
    else:
        step = train_step

    load_before = os.getloadavg()[0]
    loss = None
    for _ in range(warmup):
        loss = step()

    per_step_us = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for _ in range(steps):
            loss = step()
        t1 = time.perf_counter_ns()
        per_step_us.append((t1 - t0) / 1e3 / steps)

    median = statistics.median(per_step_us)
    best = min(per_step_us)
    return {
        "peer": "pytorch",
        "torch_version": torch.__version__,
        "n": n,
        "dtype": dtype_name,
        "hidden": hidden,
        "threads": torch.get_num_threads(),
        "steps": steps,
        "warmup": warmup,
        "repeats": repeats,
        "with_eval": with_eval,
        "us_per_step_median": round(median, 3),
        "us_per_step_best": round(best, 3),
        "steps_per_s": round(1e6 / median, 1),
        "final_loss": float(loss.item()) if loss is not None else None,
        # 1-minute load average before/after: > ~1 on a quiet machine means
        # other processes competed for the CPU and the numbers are inflated.
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, nargs="+", default=[1024, 256],
                   help="grid sizes N (default: 1024 256)")
    p.add_argument("--dtype", choices=sorted(DTYPES), nargs="+", default=["f32", "f64"],
                   help="dtypes (default: f32 f64)")
    p.add_argument("--steps", type=int, default=2000, help="timed steps per repeat")
    p.add_argument("--warmup", type=int, default=200, help="untimed warm-up steps")
    p.add_argument("--repeats", type=int, default=3, help="timed blocks (best and median)")
    p.add_argument("--with-eval", action="store_true",
                   help="also measure step + no_grad grid forward + rfft of residual")
    p.add_argument("--json", metavar="FILE", help="write JSON lines here (else stdout)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hidden", type=int, default=HIDDEN,
                   help="width of the two hidden layers (default 64: the reference task)")
    p.add_argument("--threads", type=int, default=1,
                   help="intra-op threads (default 1; 0 keeps torch's default, one per core)")
    args = p.parse_args(argv)
    if args.steps < 1 or args.repeats < 1 or args.warmup < 0 or min(args.n) < 1:
        p.error("--steps, --repeats and --n must be >= 1, --warmup >= 0")

    if args.threads > 0:
        torch.set_num_threads(args.threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # only settable before any inter-op work; fine if already 1
            pass

    table = sys.stdout if args.json else sys.stderr
    print(f"# torch {torch.__version__}, threads={torch.get_num_threads()}, "
          f"interop={torch.get_num_interop_threads()}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '<unset>')}, "
          f"steps={args.steps} warmup={args.warmup} repeats={args.repeats}",
          file=table, flush=True)
    header = f"{'N':>6} {'dtype':>5} {'eval':>5} {'us/step med':>12} {'us/step best':>13} {'steps/s':>10} {'final loss':>11}"
    print(header, file=table)
    print("-" * len(header), file=table, flush=True)

    modes = [False, True] if args.with_eval else [False]
    rows = []
    for n in args.n:
        for dt in args.dtype:
            for with_eval in modes:
                r = bench_one(n, dt, args.steps, args.warmup, args.repeats, with_eval, args.seed,
                              args.hidden)
                rows.append(r)
                print(f"{n:>6} {dt:>5} {('yes' if with_eval else 'no'):>5} "
                      f"{r['us_per_step_median']:>12.1f} {r['us_per_step_best']:>13.1f} "
                      f"{r['steps_per_s']:>10.1f} {r['final_loss']:>11.4g}",
                      file=table, flush=True)

    lines = "".join(json.dumps(r) + "\n" for r in rows)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            f.write(lines)
        print(f"# wrote {len(rows)} JSON lines to {args.json}", file=table)
    else:
        sys.stdout.write(lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
