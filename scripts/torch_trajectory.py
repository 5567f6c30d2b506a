#!/usr/bin/env python3
"""Train a PyTorch MLP on a bandwise target and write its trajectory for `bandwise analyze`.

Any torch.optim optimizer, with any keyword arguments; the architecture, budget and dtype are
read from the bandwise config (or given on the command line), the grid from the NPY file that
`bandwise target` writes (columns t, x, y: the network sees x and fits y).

Usage:

    bandwise target my.toml --out grid.npy --test test_grid.npy
    python3 scripts/torch_trajectory.py --config my.toml --grid grid.npy --test-grid test_grid.npy \
        --optimizer Adam --lr 1e-3 --opt "betas=(0.9, 0.999)" --out torch_adam
    bandwise analyze --config my.toml --predictions torch_adam/predictions.npy \
        --test-predictions torch_adam/test_predictions.npy --epochs torch_adam/epochs.csv \
        --source "pytorch Adam lr=1e-3" --out runs/torch_adam

Other optimizers: --optimizer SGD --lr 0.01 --opt momentum=0.9 --opt nesterov=True;
--optimizer RMSprop --lr 1e-3 --opt alpha=0.99; any class name in torch.optim works, and
--opt KEY=VALUE values are Python literals.

Writes into --out:
  predictions.npy       shape (epochs + 1, N), the network's output on the training grid at
                        epoch 0 (before training) and after every epoch, in the grid's row order
  test_predictions.npy  the same on the test grid (with --test-grid)
  epochs.csv            columns epoch, step, lr, wall_s (losses are computed by bandwise from
                        the predictions, exactly as for its own runs)

Defaults follow the config: model.hidden ([64, 64]), model.activation (tanh), train.epochs,
train.batch_size (0 = full batch), dtype (f32); PyTorch's default nn.Linear initialisation is
used (bandwise's `model.init = "torch"` draws from the same distribution, not the same numbers).
torch is needed only to run this script, never by bandwise itself.

The Python package (`pip install ./python`, see docs/python.md) does all of this in-process
(`bandwise.torch.train`) and is the recommended road; this script stays for the file-based
road. --optimizer also takes an import path `pkg.module:Class`. The task fingerprint that
`bandwise target` writes next to the grid (GRID.fingerprint) is copied into epochs.csv, so
`bandwise analyze` refuses the predictions if its --config/--seed give another task.
"""

import argparse
import ast
import os
import sys
import time

import numpy as np


def read_config(path):
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        sys.exit("reading --config needs Python 3.11+ (tomllib); pass --hidden, --epochs, ... instead")
    with open(path, "rb") as f:
        return tomllib.load(f)


def parse_opt(items):
    kwargs = {}
    for item in items:
        if "=" not in item:
            sys.exit(f"--opt {item!r}: expected KEY=VALUE, e.g. --opt momentum=0.9")
        key, value = item.split("=", 1)
        try:
            kwargs[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            kwargs[key.strip()] = value.strip()
    return kwargs


def load_grid(path):
    a = np.load(path)
    if a.ndim != 2 or a.shape[1] != 3:
        hint = " (a 2D grid: use the Python package, bandwise.torch.train)" if a.ndim == 2 and a.shape[1] == 5 else ""
        sys.exit(f"{path}: expected the (N, 3) array written by `bandwise target` for a 1D target (columns t, x, y), got shape {a.shape}{hint}")
    return a


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", required=True, help="training grid from `bandwise target` (N x 3: t, x, y)")
    ap.add_argument("--test-grid", help="test grid from `bandwise target --test`")
    ap.add_argument("--config", help="the bandwise config (architecture, epochs, dtype defaults)")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--optimizer", default="Adam", help="a torch.optim class name (default Adam)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE",
                    help="extra optimizer keyword argument (Python literal), repeatable")
    ap.add_argument("--hidden", help="hidden widths, e.g. 64,64 (default: config or 64,64)")
    ap.add_argument("--activation", choices=["tanh", "relu", "sin"], help="default: config or tanh")
    ap.add_argument("--epochs", type=int, help="default: config train.epochs")
    ap.add_argument("--batch-size", type=int, help="0 = full batch (default: config or 0)")
    ap.add_argument("--dtype", choices=["f32", "f64"], help="default: config or f32")
    ap.add_argument("--seed", type=int, default=0, help="torch seed (initialisation, shuffling)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = ap.parse_args()

    import torch

    cfg = read_config(args.config) if args.config else {}
    model_cfg, train_cfg = cfg.get("model", {}), cfg.get("train", {})
    hidden = [int(h) for h in args.hidden.split(",")] if args.hidden else model_cfg.get("hidden", [64, 64])
    activation = args.activation or model_cfg.get("activation", "tanh")
    epochs = args.epochs if args.epochs is not None else train_cfg.get("epochs")
    if epochs is None:
        sys.exit("give --epochs or a --config with train.epochs")
    batch = args.batch_size if args.batch_size is not None else train_cfg.get("batch_size", 0)
    dtype = {"f32": torch.float32, "f64": torch.float64}[args.dtype or cfg.get("dtype", "f32")]

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    grid = load_grid(args.grid)
    x = torch.tensor(grid[:, 1:2], dtype=dtype)
    y = torch.tensor(grid[:, 2:3], dtype=dtype)
    test_x = None
    if args.test_grid:
        test_x = torch.tensor(load_grid(args.test_grid)[:, 1:2], dtype=dtype)

    class Sin(torch.nn.Module):
        def forward(self, z):
            return torch.sin(z)

    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sin": Sin}[activation]
    layers, fan_in = [], 1
    for width in hidden:
        layers += [torch.nn.Linear(fan_in, width), act()]
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, 1))
    model = torch.nn.Sequential(*layers).to(dtype)

    if ":" in args.optimizer:
        import importlib
        module, _, cls_name = args.optimizer.partition(":")
        opt_cls = getattr(importlib.import_module(module), cls_name, None)
        if opt_cls is None:
            sys.exit(f"--optimizer {args.optimizer}: module {module!r} has no attribute {cls_name!r}")
    elif hasattr(torch.optim, args.optimizer):
        opt_cls = getattr(torch.optim, args.optimizer)
    else:
        sys.exit(f"torch.optim has no optimizer {args.optimizer!r}; for another package give pkg.module:Class")
    opt = opt_cls(model.parameters(), lr=args.lr, **parse_opt(args.opt))
    loss_fn = torch.nn.MSELoss()
    n = x.shape[0]
    batch = n if batch in (0, None) else batch

    preds, test_preds, rows = [], [], []
    step, start = 0, time.perf_counter()

    def record(epoch):
        with torch.no_grad():
            preds.append(model(x)[:, 0].numpy().copy())
            if test_x is not None:
                test_preds.append(model(test_x)[:, 0].numpy().copy())
        rows.append((epoch, step, opt.param_groups[0]["lr"], time.perf_counter() - start))

    record(0)
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n) if batch < n else None
        for s in range(0, n, batch):
            idx = order[s:s + batch] if order is not None else slice(None)
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            step += 1
        record(epoch)
        if not np.all(np.isfinite(preds[-1])):
            preds.pop()
            if test_preds:
                test_preds.pop()
            rows.pop()
            print(f"diverged at epoch {epoch}: stopping; the trajectory ends at epoch {epoch - 1}", file=sys.stderr)
            break

    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "predictions.npy"), np.stack(preds))
    if test_preds:
        np.save(os.path.join(args.out, "test_predictions.npy"), np.stack(test_preds))
    with open(os.path.join(args.out, "epochs.csv"), "w") as f:
        f.write(f"# torch_trajectory.py: torch {torch.__version__}, torch.optim.{args.optimizer}(lr={args.lr}, {', '.join(args.opt)}), hidden {hidden}, {activation}, batch {batch}, seed {args.seed}\n")
        fp_path = args.grid + ".fingerprint"
        if os.path.exists(fp_path):
            with open(fp_path) as fp:
                f.write(f"# fingerprint: {fp.read().strip()}\n")
        f.write("epoch,step,lr,wall_s\n")
        for e, s, lr, w in rows:
            f.write(f"{e},{s},{lr!r},{w:.6f}\n")
    final = float(np.mean((preds[-1].astype(np.float64) - grid[:, 2]) ** 2))
    print(f"{len(preds)} epochs recorded (final train MSE {final:.3e}) -> {args.out}/predictions.npy, epochs.csv"
          + (", test_predictions.npy" if test_preds else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
