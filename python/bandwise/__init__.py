"""bandwise from Python: measure how an optimizer spreads learning across frequencies.

Every number comes from the bandwise Rust library (linked in as ``bandwise._native``), the
same code as the ``bandwise`` command: no subprocess, no intermediate files.

- ``task(config)``: the grids, network inputs and targets of a config, as numpy arrays;
- ``Recorder(config, out_dir)``: log predictions epoch by epoch, ``close()`` writes a normal
  run directory (the spectral monitor runs as predictions arrive);
- ``load_run(dir)``: the records of a run directory (numpy arrays, or pandas DataFrames);
- ``report(dirs, claim=...)``: the report as a dict (``bandwise report --format json``);
- ``spectrum(signal, layout=...)``: band energies of one signal;
- ``plot(dir, kind=...)``: a figure as PNG bytes (shown inline in Jupyter).

Configs are a path to a TOML file, TOML text, a dict, or a ``Task``. Torch helpers live in
``bandwise.torch`` (torch is imported only there, and only when used).
"""

import json
import os
import time

import numpy as np

from . import _native

__all__ = ["Task", "task", "Recorder", "load_run", "Run", "report", "spectrum", "plot", "Figure"]
__version__ = _native.VERSION


def _f64(b, shape=None):
    a = np.frombuffer(b, dtype="<f8").copy()
    return a if shape is None else a.reshape(shape)


def _drop_none(v):
    """TOML has no null: drop keys set to None (they mean "default")."""
    if isinstance(v, dict):
        return {k: _drop_none(x) for k, x in v.items() if x is not None}
    if isinstance(v, (list, tuple)):
        return [_drop_none(x) for x in v]
    return v


def _config_source(config):
    """(TOML text, origin for errors, default run name) of a config argument."""
    if isinstance(config, Task):
        return config.config_text, config.origin, config.name
    if isinstance(config, dict):
        return _native.toml_from_json(json.dumps(_drop_none(config))), "<dict>", "task"
    if isinstance(config, os.PathLike) or (
        isinstance(config, str) and "\n" not in config and config.strip().endswith(".toml")
    ):
        path = os.fspath(config)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return text, path, os.path.splitext(os.path.basename(path))[0]
    if isinstance(config, str):
        return config, "<TOML text>", "task"
    raise TypeError(
        f"config must be a path to a TOML file, TOML text, a dict or a bandwise.Task, not {type(config).__name__}"
    )


class Task:
    """The task of a config: grids, network inputs and targets as float64 numpy arrays.

    ``grid`` has shape (N,) in 1D and (N, 2) in 2D (coordinates in [0, 1)); ``inputs`` has
    shape (N, width): what the network sees (``model.input_range`` or Fourier features);
    ``targets`` (N,) are the values to fit (noisy if ``target.noise > 0``), ``targets_clean``
    without noise; ``test_*`` the same on the test grid (``test_targets`` noise-free).
    ``fingerprint`` names the task (target spec, seed, grids, input map); the Recorder and
    ``bandwise analyze`` refuse predictions of another task. ``config`` is the validated config.
    Classification tasks (``target.classes``, or ``target.kind = "dataset"`` with labels) have
    ``classes`` = K and ``labels`` / ``test_labels`` (int64 class indices, the targets as
    integers); for regression ``classes`` is None. For datasets ``grid`` holds the feature rows.
    """

    def __init__(self, raw, config_text, origin):
        self.config_text = config_text
        self.origin = origin
        self.name = raw["name"]
        self.seed = raw["seed"]
        self.fingerprint = raw["fingerprint"]
        self.dim = raw["dim"]
        self.dims = tuple(raw["dims"]) if raw["dims"] is not None else None
        self.frequencies = list(raw["frequencies"])
        self.classes = raw["classes"]
        self.config = json.loads(raw["config_json"])
        w, d = raw["input_width"], self.dim
        for pre, attr in (("train_", ""), ("test_", "test_")):
            n = raw[pre + "n"]
            grid = _f64(raw[pre + "t"])
            setattr(self, attr + "grid", grid if d == 1 else grid.reshape(n, d))
            setattr(self, attr + "inputs", _f64(raw[pre + "inputs"], (n, w)))
            setattr(self, attr + "targets", _f64(raw[pre + "y"]))
            setattr(self, attr + "targets_clean", _f64(raw[pre + "y_clean"]))
            if self.classes is not None:
                setattr(self, attr + "labels", _f64(raw[pre + "y"]).astype(np.int64))

    @property
    def hidden(self):
        return list(self.config["model"]["hidden"])

    @property
    def activation(self):
        return self.config["model"]["activation"]

    @property
    def epochs(self):
        return int(self.config["train"]["epochs"])

    @property
    def batch_size(self):
        return int(self.config["train"].get("batch_size", 0) or 0)

    def grid_array(self, test=False):
        """The array ``bandwise target`` writes: columns t, x (linear model input), y."""
        t = self.test_grid if test else self.grid
        y = self.test_targets if test else self.targets
        lo, hi = self.config["model"]["input_range"]
        t2 = t.reshape(len(y), self.dim)
        return np.column_stack([t2, lo + (hi - lo) * t2, y])

    def __repr__(self):
        shape = f"{self.dims[0]}x{self.dims[1]}" if self.dims else str(len(self.targets))
        return f"<bandwise.Task {self.name!r} seed={self.seed} grid={shape} test={len(self.test_targets)} {self.fingerprint}>"


def task(config, seed=None):
    """The task of ``config`` (path, TOML text, dict or Task); ``seed`` overrides the config's."""
    text, origin, name = _config_source(config)
    if isinstance(config, Task) and seed is None:
        seed = config.seed
    return Task(_native.task(text, origin, name, seed), text, origin)


def _pred(a, n, k, what):
    """Predictions as float64 bytes: n values (regression) or an (n, k) array of logits."""
    a = np.asarray(a, dtype="<f8")
    if k is None:
        if a.size != n:
            raise ValueError(f"{what}: {a.size} values but the grid has {n} points; predict on task.inputs, in grid order")
    elif a.shape != (n, k):
        raise ValueError(
            f"{what}: shape {a.shape} but this classification task needs logits of shape ({n}, {k}): "
            f"one row per point (task.inputs order), one column per class"
        )
    return np.ascontiguousarray(a).reshape(-1).tobytes()


class Recorder:
    """Write a run directory from predictions logged epoch by epoch.

    ``Recorder(config, out_dir)`` starts a run of the task of ``config`` (or of a ``Task``:
    then predictions made on that task are guaranteed to match the run's fingerprint).
    ``log(epoch, predictions, train_loss=..., lr=..., **hyperparameters)`` records one epoch
    (epoch 0 = before training); ``test_predictions=`` is required when the config analyses the
    test grid (``spectral.grids`` contains ``"test"``). For a classification task
    (``task.classes`` = K) the predictions are logits, an (N, K) array per epoch (one row per
    point), ``test_predictions`` are required, and the run gets what ``bandwise analyze`` writes
    for logits: cross-entropy losses (unless given), train/test accuracy columns,
    class_accuracy.csv, agreement.csv and the records of the task's frequency measure.
    Without ``train_loss`` the loss is computed (MSE, or the mean softmax cross-entropy of
    the logits). ``close()`` writes the run directory
    through the same writer as ``bandwise analyze`` and returns a summary dict. Also a context
    manager (closes on success, discards the run on an exception). ``optimizer``: a dict
    recorded as the run's ``config.optimizer`` (default ``{"name": "imported", "source": ...}``),
    for a bandwise optimizer rule run elsewhere (e.g. ``{"name": "sgd", "lr": 0.03, "momentum":
    0.9}``), so that reports label and match it as that optimizer (the SGD baseline).
    """

    def __init__(self, config, out_dir, *, name=None, source="python", seed=None,
                 test=None, overwrite=False, fingerprint=None, optimizer=None):
        self.task = config if isinstance(config, Task) else task(config, seed=seed)
        if seed is not None and seed != self.task.seed:
            self.task = task(self.task, seed=seed)
        if fingerprint is not None and fingerprint != self.task.fingerprint:
            raise ValueError(
                f"fingerprint mismatch: the predictions are declared for task {fingerprint} but the config "
                f"(seed {self.task.seed}) gives task {self.task.fingerprint}; use the config and seed the predictions were made on"
            )
        self._k = self.task.classes
        if test is None:
            spectral = self.task.config.get("spectral", {})
            test = self._k is not None or (
                spectral.get("enabled", True) and "test" in spectral.get("grids", ["train"])
            )
        self.has_test = bool(test)
        self.out_dir = os.fspath(out_dir)
        self._start = time.perf_counter()
        self._n = len(self.task.targets)
        self._m = len(self.task.test_targets)
        self._native = _native.Recorder(
            self.task.config_text, self.task.origin, self.task.name, self.out_dir, overwrite,
            self.has_test, source, self.task.seed, name,
            None if optimizer is None else json.dumps(optimizer),
        )

    @property
    def fingerprint(self):
        return self._native.fingerprint

    def log(self, epoch, predictions, *, test_predictions=None, train_loss=None, test_loss=None,
            lr=None, p=None, step=None, wall_s=None, **hyperparameters):
        """Record epoch ``epoch``; returns the training loss recorded (computed if not given:
        MSE, or the softmax cross-entropy of a classification task's logits)."""
        train = _pred(predictions, self._n, self._k, "predictions")
        test = None if test_predictions is None else _pred(test_predictions, self._m, self._k, "test_predictions")
        if wall_s is None:
            wall_s = time.perf_counter() - self._start
        hyper = {k: float(v) for k, v in hyperparameters.items()}
        f = lambda x: None if x is None else float(x)
        return self._native.log(int(epoch), train, test, f(train_loss), f(test_loss), f(lr), f(p),
                                float(wall_s), None if step is None else int(step), hyper or None)

    def mark_diverged(self, epoch, reason="training loss not finite"):
        """Record that training diverged at ``epoch``: ``close()`` then writes the run with
        status "diverged" (as ``bandwise run`` does), keeping the epochs logged before."""
        self._native.mark_diverged(int(epoch), str(reason))

    def close(self):
        """Write the run directory; returns {"dir", "epochs", "final_train_loss", "notes"}."""
        return dict(self._native.close())

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and not self._native.closed:
            self.close()
        return False


class Run:
    """The records of a run directory: ``run`` (run.json as a dict) and one attribute per CSV
    file (``epochs``, ``bands``, ``peaks``, ``convergence``, ``snapshots``, ...), each a pandas
    DataFrame when pandas is installed, else a dict of numpy arrays (text columns as lists)."""

    def __init__(self, dir, raw, as_pandas):
        self.dir = os.fspath(dir)
        self.run = json.loads(raw["run_json"])
        self.tables = {}
        for name, t in raw["tables"].items():
            cols = {h: (_f64(v) if isinstance(v, bytes) else list(v)) for h, v in t["columns"].items()}
            cols = {h: cols[h] for h in t["header"]}
            if as_pandas:
                import pandas as pd
                cols = pd.DataFrame(cols)
            self.tables[name] = cols
            setattr(self, name, cols)

    @property
    def fingerprint(self):
        return self.run.get("fingerprint")

    def __repr__(self):
        return f"<bandwise.Run {self.run.get('name')!r} {self.dir} tables={sorted(self.tables)}>"


def load_run(dir, pandas=None):
    """Load a run directory. ``pandas``: True/False to force, None = use pandas if installed."""
    if pandas is None:
        try:
            import pandas  # noqa: F401
            pandas = True
        except ImportError:
            pandas = False
    return Run(dir, _native.load_run(os.fspath(dir)), pandas)


def _dirs(dirs):
    if isinstance(dirs, (str, os.PathLike)):
        dirs = [dirs]
    return [os.fspath(d) for d in dirs]


def report(dirs, claim=None, grid="train", window="full"):
    """The report of run directories (or directories holding runs) as a dict: the JSON of
    ``bandwise report --format json``. ``claim``: "c2", "c3", "c6" (regression runs), "c4",
    "c5", "c6" (classification runs; their section is under ``"classification"``) or a list."""
    claims = [] if claim is None else ([claim] if isinstance(claim, str) else list(claim))
    return json.loads(_native.report(_dirs(dirs), claims, grid, window))


def spectrum(signal, layout="octave", target=None):
    """Band energies of a 1D signal sampled on t = n/N (``bandwise spectrum``). With
    ``target``, the measures of the residual ``signal - target``. Returns a dict of arrays:
    label, f_lo, f_hi, energy, share, target_energy, rel_error, and the scalar mse."""
    x = np.ascontiguousarray(np.asarray(signal, dtype="<f8"))
    if x.ndim != 1:
        raise ValueError(f"signal: expected a 1D array, got shape {x.shape}")
    t = None
    if target is not None:
        t = np.ascontiguousarray(np.asarray(target, dtype="<f8"))
        if t.shape != x.shape:
            raise ValueError(f"target has shape {t.shape} but signal has {x.shape}: both must be on the same grid")
        t = t.tobytes()
    raw = _native.spectrum(x.tobytes(), layout, t)
    return {k: (_f64(v) if isinstance(v, bytes) else v) for k, v in raw.items()}


class Figure:
    """PNG bytes of a figure; displays inline in Jupyter (``_repr_png_``)."""

    def __init__(self, png):
        self.png = png

    def _repr_png_(self):
        return self.png

    def __bytes__(self):
        return self.png

    def save(self, path):
        with open(path, "wb") as f:
            f.write(self.png)


def plot(dirs, kind="heatmap", grid="train", measure="rel_error", clip=None):
    """A figure of ``bandwise plot`` as a ``Figure`` (PNG bytes in ``.png``). ``kind``:
    heatmap, curves, snapshots, filtering (one run), panel, loss, accuracy, accuracy-vs-loss,
    agreement, class-maps (one or more runs), or a verdict figure (index-vs-p, ...)."""
    return Figure(_native.plot(_dirs(dirs), kind, grid, measure, clip))
