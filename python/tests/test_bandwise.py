"""The Python package against the `bandwise` command: same task arrays, same records, same
fingerprints. Needs the `bandwise` binary: $BANDWISE_BIN, else target/debug or target/release
of the repository (built by `cargo test` / `cargo build`)."""

import csv
import os
import subprocess

import numpy as np
import pytest

import bandwise

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

CONFIG_1D = """
name = "py1d"
seed = 3
[target]
n = 64
frequencies = [1, 3, 7, 15]
amplitudes = 1.0
phases = "random"
noise = 0.05
[model]
hidden = [16, 16]
[train]
epochs = 12
[spectral]
layout = { kind = "octave" }
grids = ["train", "test"]
"""

CONFIG_2D = """
name = "py2d"
seed = 1
[target]
kind = "waves2d"
n = [16, 12]
waves = [[1, 0], [2, 3]]
amplitudes = 1.0
phases = "random"
[train]
epochs = 6
[spectral]
layout = { kind = "peaks", half_width = 0 }
"""


def bandwise_bin():
    env = os.environ.get("BANDWISE_BIN")
    if env:
        return env
    for profile in ("debug", "release"):
        p = os.path.join(ROOT, "target", profile, "bandwise")
        if os.path.exists(p):
            return p
    raise RuntimeError(
        "no bandwise binary: run `cargo build` in the repository or set BANDWISE_BIN to its path"
    )


def cli(*args, check=True):
    env = dict(os.environ)
    env.pop("RUST_BACKTRACE", None)
    r = subprocess.run([bandwise_bin(), *map(str, args)], capture_output=True, text=True, env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"bandwise {' '.join(map(str, args))} failed:\n{r.stderr}")
    return r


@pytest.fixture
def cfg(tmp_path):
    p = tmp_path / "py1d.toml"
    p.write_text(CONFIG_1D)
    return p


def fake_trajectory(task, epochs):
    """Predictions that approach the targets, low frequencies first (deterministic)."""
    rng = np.random.default_rng(0)
    start = 0.3 * rng.standard_normal(len(task.targets))
    start_test = 0.3 * rng.standard_normal(len(task.test_targets))
    rows, test_rows = [], []
    for e in range(epochs + 1):
        w = 1 - np.exp(-e / 4)
        rows.append(w * task.targets + (1 - w) * start)
        test_rows.append(w * task.test_targets + (1 - w) * start_test)
    return np.array(rows), np.array(test_rows)


def data_rows(path, drop=()):
    with open(path) as f:
        rows = [r for r in csv.reader(l for l in f if not l.startswith("#"))]
    keep = [i for i, h in enumerate(rows[0]) if h not in drop]
    return [[r[i] for i in keep] for r in rows]


def test_task_arrays_equal_bandwise_target(cfg, tmp_path):
    cli("target", cfg, "--out", tmp_path / "g.npy", "--test", tmp_path / "t.npy")
    t = bandwise.task(cfg)
    assert t.grid.shape == (64,) and t.inputs.shape == (64, 1)
    np.testing.assert_array_equal(np.load(tmp_path / "g.npy"), t.grid_array())
    np.testing.assert_array_equal(np.load(tmp_path / "t.npy"), t.grid_array(test=True))
    assert (tmp_path / "g.npy.fingerprint").read_text().strip() == t.fingerprint
    # The same task from TOML text and from a dict; another seed is another task.
    assert bandwise.task(CONFIG_1D).fingerprint == t.fingerprint
    other = bandwise.task(t.config | {"seed": 4})
    assert other.fingerprint != t.fingerprint
    assert not np.array_equal(other.targets, t.targets)


def test_2d_shapes_equal_bandwise_target(tmp_path):
    p = tmp_path / "py2d.toml"
    p.write_text(CONFIG_2D)
    cli("target", p, "--out", tmp_path / "g.npy")
    t = bandwise.task(p)
    assert t.dims == (16, 12)
    assert t.grid.shape == (192, 2) and t.inputs.shape == (192, 2) and t.targets.shape == (192,)
    a = np.load(tmp_path / "g.npy")
    assert a.shape == (192, 5)
    np.testing.assert_array_equal(a, t.grid_array())


def test_recorder_writes_the_records_of_analyze(cfg, tmp_path):
    t = bandwise.task(cfg)
    train, test = fake_trajectory(t, t.epochs)
    np.save(tmp_path / "p.npy", train)
    np.save(tmp_path / "q.npy", test)
    cli("analyze", "--config", cfg, "--predictions", tmp_path / "p.npy", "--test-predictions",
        tmp_path / "q.npy", "--fingerprint", t.fingerprint, "--name", "same", "--out", tmp_path / "cli")
    with bandwise.Recorder(cfg, tmp_path / "py", name="same", source="test") as rec:
        assert rec.fingerprint == t.fingerprint
        for e in range(t.epochs + 1):
            loss = rec.log(e, train[e], test_predictions=test[e], momentum=0.9, beta=e)
            assert loss == pytest.approx(np.mean((train[e] - t.targets) ** 2), rel=1e-12)
    files = sorted(f for f in os.listdir(tmp_path / "cli") if f.endswith(".csv"))
    assert {"epochs.csv", "bands.csv", "peaks.csv", "convergence.csv", "snapshots.csv"} <= set(files)
    assert files == sorted(f for f in os.listdir(tmp_path / "py") if f.endswith(".csv"))
    for f in files:
        drop = ("wall_s",) if f == "epochs.csv" else ()
        assert data_rows(tmp_path / "cli" / f, drop) == data_rows(tmp_path / "py" / f, drop), f
    run = bandwise.load_run(tmp_path / "py", pandas=False)
    assert run.fingerprint == t.fingerprint
    assert run.run["source"]["hyperparameters"]["beta"] == list(range(t.epochs + 1))
    np.testing.assert_array_equal(run.epochs["epoch"], np.arange(t.epochs + 1))
    assert set(run.bands["grid"]) == {"train", "test"}


def test_recorder_checks_its_input(cfg, tmp_path):
    t = bandwise.task(cfg)
    rec = bandwise.Recorder(t, tmp_path / "r")
    with pytest.raises(ValueError, match="64 points"):
        rec.log(0, np.zeros(63), test_predictions=np.zeros(len(t.test_targets)))
    with pytest.raises(ValueError, match="test predictions missing"):
        rec.log(0, np.zeros(64))
    rec.log(1, np.zeros(64), test_predictions=np.zeros(len(t.test_targets)))
    with pytest.raises(ValueError, match="increase strictly"):
        rec.log(1, np.zeros(64), test_predictions=np.zeros(len(t.test_targets)))
    other = bandwise.task(t, seed=9).fingerprint
    with pytest.raises(ValueError, match=f"{other}.*{t.fingerprint}"):
        bandwise.Recorder(cfg, tmp_path / "s", fingerprint=other)
    assert not (tmp_path / "s").exists()


def test_analyze_refuses_another_tasks_trajectory(cfg, tmp_path):
    t = bandwise.task(cfg)
    train, test = fake_trajectory(t, t.epochs)
    np.save(tmp_path / "p.npy", train)
    np.save(tmp_path / "q.npy", test)
    with open(tmp_path / "epochs.csv", "w") as f:
        f.write(f"# fingerprint: {t.fingerprint}\nepoch\n" + "".join(f"{e}\n" for e in range(len(train))))
    base = ["analyze", "--config", cfg, "--predictions", tmp_path / "p.npy",
            "--test-predictions", tmp_path / "q.npy", "--epochs", tmp_path / "epochs.csv"]
    other = bandwise.task(t, seed=4).fingerprint
    r = cli(*base, "--seed", "4", "--out", tmp_path / "wrong", check=False)
    assert r.returncode != 0
    assert t.fingerprint in r.stderr and other in r.stderr and "epochs.csv" in r.stderr, r.stderr
    assert not (tmp_path / "wrong").exists()
    r = cli(*base, "--out", tmp_path / "right")
    assert "warning" not in r.stderr
    # An old trajectory without a fingerprint is accepted with a warning.
    r = cli("analyze", "--config", cfg, "--predictions", tmp_path / "p.npy", "--test-predictions",
            tmp_path / "q.npy", "--out", tmp_path / "old")
    assert "warning:" in r.stderr and "no task fingerprint" in r.stderr, r.stderr


def test_report_plot_and_spectrum(cfg, tmp_path):
    t = bandwise.task(cfg)
    train, test = fake_trajectory(t, t.epochs)
    rec = bandwise.Recorder(t, tmp_path / "run", source="test")
    for e in range(t.epochs + 1):
        rec.log(e, train[e], test_predictions=test[e], lr=1e-3)
    summary = rec.close()
    assert summary["epochs"][-1] == t.epochs
    r = bandwise.report(tmp_path / "run")
    assert r["n_runs"] == 1
    cli_json = cli("report", tmp_path / "run", "--format", "json").stdout
    import json
    assert json.loads(cli_json) == r
    fig = bandwise.plot(tmp_path / "run", kind="heatmap")
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="kind `nope`"):
        bandwise.plot(tmp_path / "run", kind="nope")
    s = bandwise.spectrum(np.sin(2 * np.pi * 4 * np.arange(64) / 64))
    assert s["label"][3] == "4-7 cyc"
    assert s["energy"][3] == pytest.approx(0.5) and s["mse"] == pytest.approx(0.5)


def test_config_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="frequencies"):
        bandwise.task({"target": {"n": 64, "frequencies": "x"}, "train": {"epochs": 3}})


CONFIG_CLASSES = """
name = "pyclass"
seed = 2
[target]
n = 128
frequencies = [1, 4]
amplitudes = 1.0
phases = "random"
classes = 3
[train]
epochs = 4
"""


def test_classification_task_gives_labels(tmp_path):
    t = bandwise.task(CONFIG_CLASSES)
    assert t.classes == 3
    assert t.labels.dtype == np.int64 and t.labels.shape == (128,)
    # Labels are class indices, every class occurs, and they are the targets as integers.
    assert set(np.unique(t.labels)) == {0, 1, 2}
    np.testing.assert_array_equal(t.labels, t.targets.astype(np.int64))
    assert t.test_labels.shape == t.test_targets.shape
    # Another seed draws other phases, so other labels; regression tasks have no classes.
    assert not np.array_equal(bandwise.task(CONFIG_CLASSES, seed=5).labels, t.labels)
    assert bandwise.task(CONFIG_1D).classes is None
    assert not hasattr(bandwise.task(CONFIG_1D), "labels")


def logit_trajectory(task, epochs, k):
    """Logits (epochs + 1, N, K) that move from noise towards the labels (deterministic)."""
    rng = np.random.default_rng(1)
    out = []
    for labels in (task.labels, task.test_labels):
        start = rng.standard_normal((len(labels), k))
        onehot = np.eye(k)[labels]
        out.append(np.array([(1 - e / epochs) * start + (e / epochs) * 3 * onehot for e in range(epochs + 1)]))
    return out


def cross_entropy(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_softmax[np.arange(len(labels)), labels].mean()


def test_recorder_records_a_classification_run_from_logits(tmp_path):
    t = bandwise.task(CONFIG_CLASSES)
    k = t.classes
    train, test = logit_trajectory(t, t.epochs, k)
    with bandwise.Recorder(t, tmp_path / "py", name="cls", source="test") as rec:
        for e in range(t.epochs + 1):
            loss = rec.log(e, train[e], test_predictions=test[e])
            assert loss == pytest.approx(cross_entropy(train[e], t.labels), rel=1e-12)
    run = bandwise.load_run(tmp_path / "py", pandas=False)
    assert run.run["classification"]["classes"] == k
    # Accuracy columns: the share of points whose argmax logit is the label.
    for col, logits, labels in (("train_accuracy", train, t.labels), ("test_accuracy", test, t.test_labels)):
        want = [np.mean(np.argmax(z, axis=1) == labels) for z in logits]
        np.testing.assert_allclose(run.epochs[col], want, rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        run.epochs["test_loss"], [cross_entropy(z, t.test_labels) for z in test], rtol=1e-12
    )
    # Per class on the test split, and the agreement with the last epoch's predictions.
    ca = run.class_accuracy
    last = np.argmax(test[-1], axis=1)
    for c in range(k):
        rows = [i for i in range(len(ca["epoch"])) if ca["split"][i] == "test" and ca["class"][i] == c]
        got = ca["accuracy"][rows[-1]]
        assert got == pytest.approx(np.mean(last[t.test_labels == c] == c), abs=1e-15)
    want = [np.mean(np.argmax(z, axis=1) == last) for z in test]
    np.testing.assert_allclose(run.agreement["agreement"], want, atol=1e-15)
    # The same records as `bandwise analyze` of the same logits.
    np.save(tmp_path / "p.npy", train)
    np.save(tmp_path / "q.npy", test)
    cfg = tmp_path / "cls.toml"
    cfg.write_text(CONFIG_CLASSES)
    cli("analyze", "--config", cfg, "--predictions", tmp_path / "p.npy", "--test-predictions",
        tmp_path / "q.npy", "--fingerprint", t.fingerprint, "--name", "cls", "--out", tmp_path / "cli")
    files = sorted(f for f in os.listdir(tmp_path / "cli") if f.endswith(".csv"))
    assert {"epochs.csv", "class_accuracy.csv", "agreement.csv", "bands.csv"} <= set(files)
    assert files == sorted(f for f in os.listdir(tmp_path / "py") if f.endswith(".csv"))
    for f in files:
        drop = ("wall_s",) if f == "epochs.csv" else ()
        assert data_rows(tmp_path / "cli" / f, drop) == data_rows(tmp_path / "py" / f, drop), f
    # The classification report and figures read the recorded run.
    r = bandwise.report(tmp_path / "py")
    final = r["classification"]["configs"][0]["final_test_accuracy"]["median"]
    assert final == pytest.approx(run.epochs["test_accuracy"][-1])
    assert bandwise.plot(tmp_path / "py", kind="accuracy")._repr_png_()[:4] == b"\x89PNG"


def test_recorder_checks_the_shape_of_logits(tmp_path):
    t = bandwise.task(CONFIG_CLASSES)
    rec = bandwise.Recorder(t, tmp_path / "r")
    n, m = len(t.labels), len(t.test_labels)
    with pytest.raises(ValueError, match=rf"shape \({n * 3},\).*\({n}, 3\)"):
        rec.log(0, np.zeros(n * 3), test_predictions=np.zeros((m, 3)))
    with pytest.raises(ValueError, match=rf"test_predictions: shape \(3, {m}\)"):
        rec.log(0, np.zeros((n, 3)), test_predictions=np.zeros((3, m)))
    # Test logits are required for a classification task.
    with pytest.raises(ValueError, match="test-grid logits"):
        bandwise.Recorder(t, tmp_path / "s", test=False)
