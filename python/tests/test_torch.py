"""bandwise.torch: training, the protocol and `bandwise protocol --torch`. The tests that
train need PyTorch and skip without it (`pip install torch`, then the same pytest command runs
them); the plan, argument parsing and error messages are tested without torch."""

import collections
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import bandwise
import bandwise.torch as bt

from test_bandwise import CONFIG_1D, bandwise_bin

NO_TORCH = "PyTorch is not installed: pip install torch to run the bandwise.torch training tests"


def need_torch():
    return pytest.importorskip("torch", reason=NO_TORCH)


def test_optimizer_from_an_import_path_or_a_class():
    assert bt.optimizer_class("collections:OrderedDict") is collections.OrderedDict
    assert bt.optimizer_class(collections.Counter) is collections.Counter
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        bt.optimizer_class("collections:Nope")
    with pytest.raises(ImportError, match="cannot import module"):
        bt.optimizer_class("no_such_module_xyz:Adam")


def test_protocol_plan_comes_from_the_rust_protocol():
    plan = bt.protocol_plan()
    s = plan["settings"]
    assert s["n"] == 256 and s["frequencies"] == [1, 2, 4, 8, 16] and s["hidden"] == [64, 64]
    assert s["seeds"] == [0, 1, 2] and s["epochs"] == 1500 and len(s["lr_grid"]) == 9
    assert [r["label"] for r in plan["references"]] == ["sgd_momentum0.9", "adam", "padam_p0", "padam_p-0.25"]
    assert plan["baseline"] == "sgd_momentum0.9"
    assert plan["candidate"] is None
    quick = bt.protocol_plan(quick=True)["settings"]
    assert quick["epochs"] == 300 and quick["seeds"] == [0, 1]
    # The task of every run is a bandwise task: 256 points, MLP 1-64-64-1, f32, full batch.
    t = bandwise.task(dict(plan["task"], train=dict(plan["task"]["train"])))
    assert len(t.targets) == 256 and t.hidden == [64, 64] and t.batch_size == 0
    assert t.config["dtype"] == "f32" and t.frequencies == [1, 2, 4, 8, 16]


def test_protocol_candidate_arguments_are_parsed_by_rust():
    plan = bt.protocol_plan("mypkg.optim:Signum", sets=["betas=[0.9, 0.99]", "nesterov=true"], momentum=0.5)
    c = plan["candidate"]
    assert c["class"] == "mypkg.optim:Signum"
    assert c["kwargs"] == {"betas": [0.9, 0.99], "nesterov": True, "momentum": 0.5}
    assert c["label"] == "torch_Signum_betas=0.9x0.99_momentum=0.5_nesterov=true"
    assert bt.protocol_plan("Adam")["candidate"]["class"] == "torch.optim:Adam"
    with pytest.raises(ValueError, match="fair-lr search"):
        bt.protocol_plan("a:B", lr=0.1)
    with pytest.raises(ValueError, match="given both"):
        bt.protocol_plan("a:B", sets=["momentum=0.9"], momentum=0.8)
    with pytest.raises(ValueError, match="expected key=value"):
        bt.protocol_plan("a:B", sets=["momentum"])
    # The module entry point reports the same errors (before any torch import).
    p = subprocess.run([sys.executable, "-m", "bandwise", "protocol", "--torch", "collections:OrderedDict",
                        "--set", "lr=0.1"], capture_output=True, text=True)
    assert p.returncode == 1 and "fair-lr search" in p.stderr, p.stderr


def test_cli_names_what_to_install(tmp_path):
    # An interpreter without site-packages has neither bandwise nor torch.
    fake = tmp_path / "python-bare"
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} -I -S \"$@\"\n")
    fake.chmod(0o755)
    env = dict(os.environ, BANDWISE_PYTHON=str(fake))
    p = subprocess.run([bandwise_bin(), "protocol", "--torch", "mypkg:Signum", "--quick"],
                       capture_output=True, text=True, env=env)
    assert p.returncode != 0
    assert "cannot import bandwise and torch" in p.stderr, p.stderr
    assert "pip install ./python" in p.stderr and "pip install torch" in p.stderr
    env["BANDWISE_PYTHON"] = str(tmp_path / "no-such-python")
    p = subprocess.run([bandwise_bin(), "protocol", "--torch", "mypkg:Signum"], capture_output=True, text=True, env=env)
    assert p.returncode != 0 and "cannot be run" in p.stderr and "BANDWISE_PYTHON" in p.stderr, p.stderr
    p = subprocess.run([bandwise_bin(), "protocol", "--optimizer", "sgd", "--references", "rust"],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "--references" in p.stderr, p.stderr


def test_torch_training_writes_a_run(tmp_path):
    torch = need_torch()
    s = bt.train(CONFIG_1D, torch.optim.Adam, tmp_path / "adam", lr=1e-2)
    assert s["status"] == "completed"
    run = bandwise.load_run(s["dir"], pandas=False)
    assert run.epochs["epoch"][-1] == 12
    assert run.fingerprint == bandwise.task(CONFIG_1D).fingerprint
    assert run.epochs["train_loss"][-1] < run.epochs["train_loss"][0]
    assert np.all(np.isfinite(run.epochs["test_loss"]))
    s2 = bt.train(CONFIG_1D, "torch.optim:SGD", tmp_path / "sgd", lr=1e-2, momentum=0.9)
    assert "SGD" in bandwise.load_run(s2["dir"], pandas=False).run["source"]["description"]
    assert np.isfinite(bandwise.report([tmp_path / "adam", tmp_path / "sgd"])["n_runs"])


def test_a_diverging_torch_run_is_recorded_as_diverged(tmp_path):
    torch = need_torch()
    s = bt.train(CONFIG_1D, torch.optim.SGD, tmp_path / "boom", lr=1e3)
    assert s["status"] == "diverged"
    run = bandwise.load_run(s["dir"], pandas=False)
    assert run.run["status"] == "diverged" and run.run["diverged"]["epoch"] >= 1
    assert "loss" in run.run["diverged"]["reason"]


def test_torch_padam_is_adam_at_half_and_follows_the_rule():
    torch = need_torch()
    torch.manual_seed(0)
    x0 = torch.randn(5, dtype=torch.float64)
    grads = [torch.randn(5, dtype=torch.float64) for _ in range(4)]

    def run(make):
        x = torch.nn.Parameter(x0.clone())
        opt = make([x])
        for g in grads:
            x.grad = g.clone()
            opt.step()
        return x.detach()

    adam = run(lambda p: torch.optim.Adam(p, lr=0.1))
    padam = run(lambda p: bt.PAdam(p, lr=0.1, p=0.5))
    assert torch.allclose(adam, padam, rtol=1e-12, atol=1e-14)
    # p = 0: x -= lr * mh / (1 + eps), mh the bias-corrected EMA of the gradients.
    m, x = torch.zeros(5, dtype=torch.float64), x0.clone()
    for t, g in enumerate(grads, 1):
        m = 0.9 * m + 0.1 * g
        x = x - 0.1 * (m / (1 - 0.9 ** t)) / (1 + 1e-8)
    assert torch.allclose(run(lambda p: bt.PAdam(p, lr=0.1, p=0.0)), x, rtol=1e-12)


class Signum:
    """A toy sign-of-momentum optimizer, defined here (not importable from torch)."""

    def __new__(cls, params, lr, momentum=0.9):
        import torch

        class _Signum(torch.optim.Optimizer):
            def __init__(self, params):
                super().__init__(params, dict(lr=lr, momentum=momentum))

            @torch.no_grad()
            def step(self, closure=None):
                loss = None
                if closure is not None:
                    with torch.enable_grad():
                        loss = closure()
                for g in self.param_groups:
                    for p in g["params"]:
                        if p.grad is None:
                            continue
                        buf = self.state[p].setdefault("m", torch.zeros_like(p))
                        buf.mul_(g["momentum"]).add_(p.grad, alpha=1 - g["momentum"])
                        p.sub_(g["lr"] * torch.sign(buf))
                return loss

        return _Signum(params)


@pytest.mark.skipif(os.environ.get("BANDWISE_TORCH_PROTOCOL") != "1",
                    reason="the torch protocol end to end takes minutes: set BANDWISE_TORCH_PROTOCOL=1 (needs torch)")
def test_torch_protocol_end_to_end(tmp_path):
    need_torch()
    out = tmp_path / "signum"
    r = bt.protocol(Signum, quick=True, out=out, progress=False, momentum=0.9)
    labels = [e[0] for e in r.entries]
    assert labels[-1] == "torch_Signum_momentum=0.9" and r.entries[-1][1]
    rec = json.loads((out / "protocol.json").read_text())
    assert rec["class"].endswith(":Signum") and rec["references_trained_by"] == "bandwise.torch"
    assert all(o["trained_by"] == "bandwise.torch" for o in rec["optimizers"])
    # Every run is a bandwise run written by the recorder, with the lr the search chose.
    search = json.loads((out / labels[-1] / "lr_search.json").read_text())
    chosen = search["configs"][0]["chosen_lr"]
    runs = [d for d in (out / labels[-1] / "runs").iterdir()]
    assert len(runs) == 2
    for d in runs:
        run = bandwise.load_run(d, pandas=False)
        assert run.run["source"]["by"] == "bandwise.Recorder (Python)"
        assert run.epochs["lr"][-1] == pytest.approx(chosen)
    # The report and the verdict lines are the Rust protocol's.
    assert r.report["n_runs"] == 2 * len(labels)
    assert "candidate" in r.summary and r.summary.count(" vs ") == 4
    assert (out / "report.md").read_text().count("The candidate against each reference") == 1
    # Resumable: a second call trains nothing and gives the same report.
    again = bt.protocol(Signum, quick=True, out=out, progress=False, momentum=0.9)
    assert again.summary == r.summary
