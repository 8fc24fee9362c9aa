"""tritensor.save / tritensor.load: safetensors checkpoints, structure, map_location, bad files."""
from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from fractions import Fraction

import numpy as np
import pytest
import safetensors.torch
import torch

import tritensor
from harness import DEVICE, TT_DTYPES, assert_same, to_numpy


def roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    tritensor.save(obj, buf)
    buf.seek(0)
    return tritensor.load(buf, **load_kwargs)


@pytest.mark.parametrize("dtype", list(TT_DTYPES))
def test_tensor_round_trip_every_dtype(dtype):
    values = np.array([[0, 1, 2], [3, 4, 5]]) - (2 if dtype not in ("bool", "uint8") else 0)
    t = tritensor.tensor(values, device=DEVICE).to(TT_DTYPES[dtype]) * (1 if dtype == "bool" else 1)
    if t.is_floating_point():
        t = t / 3
    out = roundtrip(t)
    assert out.dtype is t.dtype and out.shape == t.shape and out.device == t.device
    np.testing.assert_array_equal(to_numpy(out), to_numpy(t))


def test_non_contiguous_and_scalar_and_empty():
    base = tritensor.arange(12, dtype=tritensor.float32).view(3, 4)
    for t in (base.t(), base[:, ::2], tritensor.tensor(3.5), tritensor.empty(0, 3)):
        out = roundtrip(t)
        assert out.shape == t.shape
        np.testing.assert_array_equal(np.asarray(out), np.asarray(t))


def test_model_state_dict_round_trip(tmp_path):
    model = tritensor.nn.Sequential(tritensor.nn.Linear(4, 3), tritensor.nn.BatchNorm1d(3))
    model(tritensor.randn(5, 4))  # move the running stats
    path = tmp_path / "model.safetensors"
    tritensor.save(model.state_dict(), path)
    loaded = tritensor.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(model.state_dict())
    fresh = tritensor.nn.Sequential(tritensor.nn.Linear(4, 3), tritensor.nn.BatchNorm1d(3))
    fresh.load_state_dict(loaded)
    fresh.eval()
    model.eval()
    x = tritensor.randn(2, 4)
    np.testing.assert_array_equal(np.asarray(fresh(x).detach()), np.asarray(model(x).detach()))
    assert loaded["1.num_batches_tracked"].dtype is tritensor.int64


def test_nested_checkpoint_with_optimizer_like_state():
    w = tritensor.randn(3, 2)
    ckpt = {
        "model": OrderedDict([("fc.weight", w), ("fc.bias", tritensor.zeros(3))]),
        "optimizer": {"state": {0: {"step": tritensor.tensor(4.0), "exp_avg": tritensor.ones(3, 2)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False,
                                        "foreach": None, "name": "main"}]},
        "epoch": 7, "best": float("inf"), "dtype": tritensor.float16, "device": tritensor.device("cpu"),
        "history": [0.5, 0.25], "same": w,
    }
    out = roundtrip(ckpt)
    assert list(out) == list(ckpt)
    assert isinstance(out["model"], OrderedDict) and isinstance(out["optimizer"], dict)
    assert list(out["optimizer"]["state"]) == [0]  # int keys survive
    group = out["optimizer"]["param_groups"][0]
    assert group == {"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False, "foreach": None,
                     "name": "main"}
    assert out["epoch"] == 7 and out["best"] == float("inf") and out["history"] == [0.5, 0.25]
    assert out["dtype"] is tritensor.float16 and out["device"] == tritensor.device("cpu")
    assert out["same"] is out["model"]["fc.weight"]  # a tensor saved twice is one tensor
    np.testing.assert_array_equal(np.asarray(out["same"]), np.asarray(w))
    assert out["optimizer"]["state"][0]["step"].item() == 4.0


def test_parameters_and_requires_grad_survive():
    p = tritensor.nn.Parameter(tritensor.ones(2))
    frozen = tritensor.nn.Parameter(tritensor.ones(2), requires_grad=False)
    leaf = tritensor.ones(2, requires_grad=True)
    out = roundtrip([p, frozen, leaf])
    assert isinstance(out[0], tritensor.nn.Parameter) and out[0].requires_grad
    assert isinstance(out[1], tritensor.nn.Parameter) and not out[1].requires_grad
    assert not isinstance(out[2], tritensor.nn.Parameter) and out[2].requires_grad


def test_files_interoperate_with_torch_safetensors(tmp_path):
    ref = {"a": torch.randn(3, 4), "b": torch.arange(5), "c": torch.randn(2).to(torch.bfloat16),
           "d": torch.tensor([True, False])}
    theirs = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(ref, str(theirs))
    loaded = tritensor.load(theirs)
    assert sorted(loaded) == sorted(ref)
    for k in ref:
        assert_same(ref[k], loaded[k]) if DEVICE == "cpu" else None
        np.testing.assert_array_equal(to_numpy(loaded[k]), to_numpy(ref[k]))
    ours = tmp_path / "ours.safetensors"
    tritensor.save({k: tritensor.tensor(to_numpy(v)).to(getattr(tritensor, str(v.dtype)[6:]))
                    for k, v in ref.items()}, ours)
    back = safetensors.torch.load_file(str(ours))
    for k in ref:
        assert back[k].dtype == ref[k].dtype
        assert torch.equal(back[k], ref[k])


def test_map_location():
    t = tritensor.arange(4.0)
    assert roundtrip(t, map_location="cpu").device.type == "cpu"
    assert roundtrip(t, map_location=tritensor.device("cpu")).device.type == "cpu"
    assert roundtrip(t, map_location={"cpu": "cpu"}).device.type == "cpu"
    seen = []
    out = roundtrip({"x": t}, map_location=lambda tensor, loc: seen.append(loc) or tensor * 2)
    assert seen == ["cpu"] and out["x"].tolist() == [0.0, 2.0, 4.0, 6.0]
    if not tritensor.cuda.is_available():
        with pytest.raises(RuntimeError, match="map_location"):
            roundtrip(t, map_location="cuda")


class _Custom:
    def __init__(self, v):
        self.v = v


def test_arbitrary_objects_need_weights_only_false():
    obj = {"frac": Fraction(1, 3), "t": tritensor.ones(1)}
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        roundtrip(obj)
    out = roundtrip(obj, weights_only=False)
    assert out["frac"] == Fraction(1, 3)


def test_corrupted_and_truncated_files_raise_clearly(tmp_path):
    path = tmp_path / "ok.safetensors"
    tritensor.save({"w": tritensor.randn(50, 50)}, path)
    raw = path.read_bytes()
    cases = {"truncated": raw[: len(raw) // 2], "header_only": raw[:20], "garbage": b"\x13\x37" * 64,
             "bad_header": raw[:8] + b"{" * (len(raw) - 8)}
    for name, content in cases.items():
        bad = tmp_path / f"{name}.safetensors"
        bad.write_bytes(content)
        with pytest.raises(RuntimeError, match="truncated or corrupted|not a valid"):
            tritensor.load(bad)
    (tmp_path / "empty.pt").write_bytes(b"")
    for lib in (torch, tritensor):  # an empty file: torch's EOFError
        with pytest.raises(EOFError):
            lib.load(tmp_path / "empty.pt")
    pt = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, pt)
    with pytest.raises(RuntimeError, match="torch.save"):
        tritensor.load(pt)
    with pytest.raises(FileNotFoundError):
        tritensor.load(tmp_path / "missing.safetensors")


class _Net(tritensor.nn.Module):
    """A whole model to pickle: its own class, torch's layers, a function held as an attribute."""

    def __init__(self):
        super().__init__()
        self.layer = tritensor.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
        self.norm = tritensor.nn.BatchNorm1d(8)
        self.activation = tritensor.nn.functional.relu

    def forward(self, x):
        return self.activation(self.norm(self.layer(x).transpose(1, 2)))


_NET_GLOBALS = [_Net, tritensor.nn.functional.relu, tritensor.nn.modules.activation.MultiheadAttention,
                tritensor.nn.modules.container.ModuleList, tritensor.nn.modules.dropout.Dropout,
                tritensor.nn.modules.linear.Linear,
                tritensor.nn.modules.linear.NonDynamicallyQuantizableLinear,
                tritensor.nn.modules.normalization.LayerNorm, tritensor.nn.modules.batchnorm.BatchNorm1d,
                tritensor.nn.modules.transformer.TransformerEncoderLayer]


def test_whole_model_under_safe_globals():
    """``torch.save(model)`` and a weights-only load that allowlists the model's classes (the
    pattern of pytorch/examples' word_language_model): the same outputs after the round trip;
    the allowlist is needed, and the context manager leaves none behind."""
    tritensor.manual_seed(0)
    net = _Net().eval()
    x = tritensor.randn(3, 5, 8)
    with pytest.raises(pickle.UnpicklingError, match="_Net is not an allowed global.*add_safe_globals"):
        roundtrip(net)
    with tritensor.serialization.safe_globals(_NET_GLOBALS):
        assert tritensor.serialization.get_safe_globals() == _NET_GLOBALS
        loaded = roundtrip(net)
    assert tritensor.serialization.get_safe_globals() == []
    assert loaded.activation is tritensor.nn.functional.relu
    with tritensor.no_grad():
        np.testing.assert_array_equal(loaded(x).numpy(), net(x).numpy())
    tritensor.serialization.add_safe_globals(_NET_GLOBALS)
    try:
        assert isinstance(roundtrip(net), _Net)
    finally:
        tritensor.serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError, match="not an allowed global"):
        roundtrip(net)


def test_weights_only_refuses_code_even_when_reached_through_an_allowed_class():
    """A pickle that calls ``os.system`` is refused by name before anything runs."""
    class Evil:
        def __reduce__(self):
            import os
            return os.system, ("echo should-not-run",)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL (posix|nt|os).system is not an allowed"):
        roundtrip({"x": Evil()})
