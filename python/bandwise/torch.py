"""PyTorch helpers: train a torch MLP of the config's shape on a bandwise task with any
optimizer and record the run with ``bandwise.Recorder``.

torch is imported when these functions are called, never by ``import bandwise``.

    import bandwise.torch as bt
    run = bt.train("my.toml", "mypkg.optim:Signum", "runs/signum", lr=1e-3, momentum=0.9)

The optimizer is a class (``torch.optim.Adam``), an import path ``"pkg.module:Class"``, or a
class name in ``torch.optim`` (``"Adam"``); keyword arguments go to its constructor.
"""

import importlib
import time

import numpy as np

from . import Recorder, Task, task as _task


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError(
            "bandwise.torch needs PyTorch: pip install torch (bandwise itself does not)"
        ) from e
    return torch


def optimizer_class(spec):
    """The optimizer class of ``spec``: a class, ``"pkg.module:Class"`` or a torch.optim name."""
    if isinstance(spec, type):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"optimizer must be a class or a string, not {type(spec).__name__}")
    if ":" in spec:
        module, _, name = spec.partition(":")
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            raise ImportError(f"optimizer {spec!r}: cannot import module {module!r} ({e})") from e
        try:
            return getattr(mod, name)
        except AttributeError:
            raise AttributeError(f"optimizer {spec!r}: module {module!r} has no attribute {name!r}") from None
    optim = _torch().optim
    if hasattr(optim, spec):
        return getattr(optim, spec)
    raise AttributeError(
        f"optimizer {spec!r}: torch.optim has no such class; give a class or an import path like 'mypkg.optim:Signum'"
    )


def mlp(task, dtype=None):
    """A torch MLP of the task's shape: ``task.inputs.shape[1]`` inputs, ``model.hidden``
    widths, ``model.activation`` (tanh, relu, sin), one output. PyTorch's default nn.Linear
    initialisation (bandwise's ``model.init = "torch"`` draws from the same distribution)."""
    torch = _torch()
    nn = torch.nn

    class Sin(nn.Module):
        def forward(self, x):
            return torch.sin(x)

    acts = {"tanh": nn.Tanh, "relu": nn.ReLU, "sin": Sin}
    act = task.activation
    if act not in acts:
        raise ValueError(f"model.activation = {act!r}: bandwise.torch knows {sorted(acts)}")
    layers, width = [], task.inputs.shape[1]
    for h in task.hidden:
        layers += [nn.Linear(width, h), acts[act]()]
        width = h
    layers.append(nn.Linear(width, 1))
    net = nn.Sequential(*layers)
    return net.to(dtype or _dtype(task))


def _dtype(task):
    torch = _torch()
    return torch.float64 if task.config.get("dtype") == "f64" else torch.float32


def train(config, optimizer, out_dir, *, lr=None, epochs=None, batch_size=None, seed=None,
          torch_seed=0, source=None, name=None, overwrite=False, **optimizer_kwargs):
    """Train a torch MLP on the task of ``config`` with ``optimizer`` and write the run
    directory ``out_dir`` (a normal bandwise run: report, plot, load_run work on it).

    ``lr`` and ``optimizer_kwargs`` go to the optimizer's constructor; ``epochs`` and
    ``batch_size`` default to the config's ``train.epochs`` and ``train.batch_size`` (0 = full
    batch); ``torch_seed`` seeds the initialisation and the batch order. Predictions are
    recorded at epoch 0 (before training) and after every epoch. Returns the summary of
    ``Recorder.close()``; stops (and raises) at a non-finite loss."""
    torch = _torch()
    t = config if isinstance(config, Task) else _task(config, seed=seed)
    cls = optimizer_class(optimizer)
    epochs = t.epochs if epochs is None else int(epochs)
    batch_size = t.batch_size if batch_size is None else int(batch_size)
    torch.manual_seed(torch_seed)
    dtype = _dtype(t)
    net = mlp(t, dtype)
    kwargs = dict(optimizer_kwargs)
    if lr is not None:
        kwargs["lr"] = lr
    opt = cls(net.parameters(), **kwargs)
    x = torch.as_tensor(t.inputs, dtype=dtype)
    y = torch.as_tensor(t.targets, dtype=dtype).reshape(-1, 1)
    x_test = torch.as_tensor(t.test_inputs, dtype=dtype)
    n = len(y)
    bs = n if batch_size <= 0 else min(batch_size, n)
    label = source or f"pytorch {cls.__module__}.{cls.__name__} " + " ".join(f"{k}={v}" for k, v in kwargs.items())
    gen = torch.Generator().manual_seed(torch_seed)
    rec = Recorder(t, out_dir, name=name, source=label.strip(), overwrite=overwrite)

    def predict(inputs):
        with torch.no_grad():
            return net(inputs).reshape(-1).to(torch.float64).cpu().numpy()

    def log(epoch, step):
        test = predict(x_test) if rec.has_test else None
        return rec.log(epoch, predict(x), test_predictions=test, step=step,
                       lr=opt.param_groups[0].get("lr", np.nan))

    start = time.perf_counter()
    step = 0
    log(0, 0)
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n, generator=gen) if bs < n else torch.arange(n)
        for i in range(0, n, bs):
            idx = order[i:i + bs]

            def closure(idx=idx):
                opt.zero_grad()
                loss = torch.mean((net(x[idx]) - y[idx]) ** 2)
                loss.backward()
                return loss

            opt.step(closure)
            step += 1
        loss = log(epoch, step)
        if not np.isfinite(loss):
            raise FloatingPointError(f"{label}: training loss {loss} at epoch {epoch}; lower the lr")
    summary = rec.close()
    summary["seconds"] = time.perf_counter() - start
    return summary
