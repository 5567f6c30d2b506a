"""bandwise.torch. The training tests need PyTorch and skip without it; run them with
`pip install torch` and then `pytest python/tests`."""

import collections

import numpy as np
import pytest

import bandwise
import bandwise.torch as bt

from test_bandwise import CONFIG_1D


def test_optimizer_from_an_import_path_or_a_class():
    assert bt.optimizer_class("collections:OrderedDict") is collections.OrderedDict
    assert bt.optimizer_class(collections.Counter) is collections.Counter
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        bt.optimizer_class("collections:Nope")
    with pytest.raises(ImportError, match="cannot import module"):
        bt.optimizer_class("no_such_module_xyz:Adam")


def test_torch_training_writes_a_run(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: pip install torch to run the bandwise.torch training tests")
    s = bt.train(CONFIG_1D, torch.optim.Adam, tmp_path / "adam", lr=1e-2)
    run = bandwise.load_run(s["dir"], pandas=False)
    assert run.epochs["epoch"][-1] == 12
    assert run.fingerprint == bandwise.task(CONFIG_1D).fingerprint
    assert run.epochs["train_loss"][-1] < run.epochs["train_loss"][0]
    s2 = bt.train(CONFIG_1D, "torch.optim:SGD", tmp_path / "sgd", lr=1e-2, momentum=0.9)
    assert "SGD" in bandwise.load_run(s2["dir"], pandas=False).run["source"]["description"]
    assert np.isfinite(bandwise.report([tmp_path / "adam", tmp_path / "sgd"])["n_runs"])
