"""PyTorch helpers: train a torch MLP of the config's shape on a bandwise task with any
optimizer and record the run with ``bandwise.Recorder``; run the standard
frequency-preference protocol of ``bandwise protocol`` on a torch optimizer.

torch is imported when these functions are called, never by ``import bandwise``.

    import bandwise.torch as bt
    run = bt.train("my.toml", "mypkg.optim:Signum", "runs/signum", lr=1e-3, momentum=0.9)
    result = bt.protocol("mypkg.optim:Signum", momentum=0.9)   # fair lr, references, verdicts
    print(result.summary)

The optimizer is a class (``torch.optim.Adam``), an import path ``"pkg.module:Class"``, or a
class name in ``torch.optim`` (``"Adam"``); keyword arguments go to its constructor.
"""

import importlib
import json
import math
import os
import time

import numpy as np

from . import Recorder, Task, _native, task as _task


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
    recorded at epoch 0 (before training) and after every epoch, with the test loss.
    Divergence is detected as ``bandwise run`` does (a non-finite loss at any step, or a
    recorded training loss above ``train.divergence_factor`` x the initial one): the run is
    then written with status "diverged". Returns the summary of ``Recorder.close()`` plus
    ``status`` and ``seconds``."""
    t = config if isinstance(config, Task) else _task(config, seed=seed)
    cls = optimizer_class(optimizer)
    kwargs = dict(optimizer_kwargs)
    if lr is not None:
        kwargs["lr"] = lr
    label = source or f"pytorch {cls.__module__}.{cls.__name__} " + " ".join(f"{k}={v}" for k, v in kwargs.items())
    return _train(t, cls, kwargs, out_dir, epochs=epochs, batch_size=batch_size,
                  torch_seed=torch_seed, source=label.strip(), name=name, overwrite=overwrite)


def _train(t, cls, kwargs, out_dir, *, epochs=None, batch_size=None, torch_seed=0, source="pytorch",
           name=None, overwrite=False, optimizer=None):
    torch = _torch()
    epochs = t.epochs if epochs is None else int(epochs)
    batch_size = t.batch_size if batch_size is None else int(batch_size)
    factor = float(t.config["train"].get("divergence_factor", 1e4))
    torch.manual_seed(torch_seed)
    dtype = _dtype(t)
    net = mlp(t, dtype)
    opt = cls(net.parameters(), **kwargs)
    x = torch.as_tensor(t.inputs, dtype=dtype)
    y = torch.as_tensor(t.targets, dtype=dtype).reshape(-1, 1)
    x_test = torch.as_tensor(t.test_inputs, dtype=dtype)
    y_test = np.asarray(t.test_targets, dtype=np.float64)
    n = len(y)
    bs = n if batch_size <= 0 else min(batch_size, n)
    gen = torch.Generator().manual_seed(torch_seed)
    rec = Recorder(t, out_dir, name=name, source=source, overwrite=overwrite, optimizer=optimizer)
    state = {}

    def predict(inputs):
        with torch.no_grad():
            return net(inputs).reshape(-1).to(torch.float64).cpu().numpy()

    def log(epoch, step):
        """Record the epoch; returns why it diverged, or None."""
        train_pred, test_pred = predict(x), predict(x_test)
        if not (np.all(np.isfinite(train_pred)) and np.all(np.isfinite(test_pred))):
            return "predictions not finite"
        test_loss = float(np.mean((test_pred - y_test) ** 2))
        loss = rec.log(epoch, train_pred, test_predictions=test_pred if rec.has_test else None,
                       test_loss=test_loss, step=step, lr=opt.param_groups[0].get("lr", np.nan))
        if epoch == 0:
            state["initial"] = loss
        elif loss > factor * state["initial"]:
            return f"training loss {loss:.3e} exceeds {factor:g} x the initial loss {state['initial']:.3e}"
        return None

    start = time.perf_counter()
    step = 0
    status = "completed"
    why = log(0, 0)
    for epoch in range(1, epochs + 1):
        if why is not None:
            break
        order = torch.randperm(n, generator=gen) if bs < n else torch.arange(n)
        for i in range(0, n, bs):
            idx = order[i:i + bs]
            losses = []

            def closure(idx=idx):
                opt.zero_grad()
                loss = torch.mean((net(x[idx]) - y[idx]) ** 2)
                loss.backward()
                losses.append(loss.item())
                return loss

            opt.step(closure)
            step += 1
            if losses and not math.isfinite(losses[0]):
                why = f"training loss became {losses[0]} at step {step}"
                break
        if why is None:
            why = log(epoch, step)
        if why is not None:
            rec.mark_diverged(epoch, why)
            status = "diverged"
    summary = rec.close()
    summary["status"] = status
    summary["seconds"] = time.perf_counter() - start
    return summary


class PAdam:
    """The p-exponent optimizer of bandwise (``padam``) for torch, used by the protocol's
    references: m, v as in Adam, mh, vh bias-corrected, ``x -= lr * mh / (vh^p + eps)``
    (p = 0.5 is Adam, p = 0 SGD with EMA momentum; for p < 0, vh is floored at ``v_floor``
    before the power), decoupled weight decay. Built lazily as a torch.optim.Optimizer."""

    def __new__(cls, params, lr, p, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                v_floor=1e-30, normalize="none"):
        return _padam_class()(params, lr=lr, p=p, beta1=beta1, beta2=beta2, eps=eps,
                              weight_decay=weight_decay, v_floor=v_floor, normalize=normalize)


_PADAM = None


def _padam_class():
    global _PADAM
    if _PADAM is not None:
        return _PADAM
    torch = _torch()

    class TorchPAdam(torch.optim.Optimizer):
        def __init__(self, params, lr, p, beta1, beta2, eps, weight_decay, v_floor, normalize):
            if normalize != "none":
                raise ValueError(f"bandwise.torch.PAdam: normalize = {normalize!r} is not implemented in torch (only \"none\")")
            super().__init__(params, dict(lr=lr, p=float(p), beta1=beta1, beta2=beta2, eps=eps,
                                          weight_decay=weight_decay, v_floor=v_floor))

        @torch.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            for g in self.param_groups:
                lr, p, b1, b2, eps = g["lr"], g["p"], g["beta1"], g["beta2"], g["eps"]
                for x in g["params"]:
                    if x.grad is None:
                        continue
                    st = self.state[x]
                    if not st:
                        st["t"] = 0
                        st["m"] = torch.zeros_like(x)
                        st["v"] = torch.zeros_like(x)
                    st["t"] += 1
                    t, m, v = st["t"], st["m"], st["v"]
                    grad = x.grad
                    m.mul_(b1).add_(grad, alpha=1 - b1)
                    v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                    mh = m / (1 - b1 ** t)
                    vh = v / (1 - b2 ** t)
                    if p == 0.0:
                        denom = torch.ones_like(vh)
                    elif p < 0.0:
                        denom = vh.clamp_min(g["v_floor"]).pow(p)
                    else:
                        denom = vh.pow(p)
                    if g["weight_decay"]:
                        x.mul_(1 - lr * g["weight_decay"])
                    x.sub_(lr * mh / (denom + eps))
            return loss

    _PADAM = TorchPAdam
    return _PADAM


def reference_optimizer(optimizer):
    """The torch class and keyword arguments of a bandwise optimizer table with its resolved
    hyperparameters (``{"name": "adam", "lr": ..., "beta1": ...}``): sgd -> torch.optim.SGD,
    adam -> torch.optim.Adam, padam -> ``PAdam``; the same update rules as bandwise's."""
    torch = _torch()
    o = dict(optimizer)
    name = o.pop("name")
    if name == "sgd":
        return torch.optim.SGD, dict(lr=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"],
                                     nesterov=o["nesterov"])
    if name == "adam":
        return torch.optim.Adam, dict(lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                                      weight_decay=o["weight_decay"])
    if name == "padam":
        return PAdam, o
    raise ValueError(f"optimizer {name!r}: bandwise.torch has no torch version of it; use references=\"rust\"")


def _class_path(cls, spec):
    if isinstance(spec, str):
        return spec if ":" in spec else f"torch.optim:{spec}"
    return f"{cls.__module__}:{cls.__qualname__}"


class ProtocolResult(dict):
    """The outcome of ``protocol``: ``out`` (the output directory), ``report`` (the report as
    a dict, ``bandwise report --format json``), ``summary`` (the candidate against each
    reference: index difference, Welch 95% interval, verdict), ``rendered`` (the report in the
    requested format) and ``entries`` ((label, candidate, reference) per optimizer)."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k) from None

    def __repr__(self):
        return f"<bandwise.torch.ProtocolResult {self['out']}>\n{self['summary']}"


def protocol_plan(optimizer=None, *, quick=False, sets=(), **kwargs):
    """The protocol's plan as a dict, from the Rust definitions (``bandwise protocol``):
    ``settings`` (n, frequencies, hidden, epochs, seeds, lr_grid, search_seeds,
    search_epochs), ``references`` (label and optimizer table), ``task`` (the config of every
    run without optimizer), ``baseline`` and, given an optimizer, ``candidate`` (class,
    keyword arguments, directory label). Needs no torch for an import path."""
    path = None
    if optimizer is not None:
        path = _class_path(optimizer if isinstance(optimizer, type) else None, optimizer)
    return json.loads(_native.protocol_plan(bool(quick), path, list(sets), json.dumps(kwargs)))


def protocol(optimizer, *, quick=False, out=None, references="torch", sets=(), jobs=1,
             progress=True, format="term", threads=1, **kwargs):
    """The standard frequency-preference protocol of ``bandwise protocol`` with a torch
    optimizer as the candidate: same task, seeds, references (sgd momentum 0.9, adam, padam
    p = 0 and p = -0.25), fair-lr search, guards and verdicts, all from the Rust library. Every
    run is written as a bandwise run directory (one sweep directory per optimizer under
    ``out``, resumable) and the report and verdicts come from the Rust report code.

    ``optimizer``: a class, ``"pkg.module:Class"`` or a torch.optim name; ``kwargs`` (and
    ``sets``, ``"key=TOML value"`` texts as for ``--set``) go to its constructor; lr is chosen
    by the protocol. ``references="torch"`` (default) trains the references with torch too
    (torch.optim.SGD, torch.optim.Adam, ``PAdam``): the same network code, initialisation and
    float arithmetic as the candidate; ``"rust"`` trains them with bandwise as ``bandwise
    protocol`` does. ``quick``: 300 epochs, 2 seeds, 5 lrs (a smoke test). ``out`` defaults to
    ``runs/protocol_<label>[_quick]``. ``threads``: torch's intra-op threads while the protocol
runs (1 is fastest for these small networks, and keeps other processes' cores free); ``jobs``:
parallel runs of the references when ``references="rust"`` (torch runs go one at a time).
Returns a ``ProtocolResult``."""
    cls = optimizer_class(optimizer)
    path = _class_path(cls, optimizer)
    plan = protocol_plan(path, quick=quick, sets=sets, **kwargs)
    cand = plan["candidate"]
    torch = _torch()
    try:  # fail now, not in every run, on arguments the class does not take
        cls([torch.nn.Parameter(torch.zeros(1))], lr=1e-3, **cand["kwargs"])
    except Exception as e:
        raise type(e)(f"optimizer {path} with {cand['kwargs']}: {e}") from e
    if out is None:
        out = os.path.join("runs", f"protocol_{cand['label']}" + ("_quick" if quick else ""))

    def trainer(run):
        config = json.loads(run["config_json"])
        opt = json.loads(run["optimizer_json"])
        if opt["name"] == "torch":
            c, kw = cls, dict(json.loads(opt["kwargs"]), lr=opt["lr"])
            source = f"pytorch {path} " + " ".join(f"{k}={v}" for k, v in kw.items())
            # Recorded as "torch <class>" with its arguments, so that reports label it by class.
            opt = dict(kw, name=f"torch {path}")
        else:
            c, kw = reference_optimizer(opt)
            source = f"pytorch reference {opt['name']} " + " ".join(
                f"{k}={v}" for k, v in opt.items() if k != "name")
        t = _task(config)
        # The run records the protocol's optimizer table (sgd, adam, padam or torch with its
        # class): reports label and match it as the Rust protocol's runs (the SGD baseline).
        _train(t, c, kw, run["dir"], torch_seed=t.seed, source=source.strip(), name=t.name,
               overwrite=run["overwrite"], optimizer=opt)

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        raw = _native.protocol(path, list(sets), json.dumps(kwargs), os.fspath(out), trainer,
                               bool(quick), references, int(jobs), bool(progress), format)
    finally:
        torch.set_num_threads(before)
    result = ProtocolResult(raw)
    result["report"] = json.loads(result.pop("report_json"))
    return result
