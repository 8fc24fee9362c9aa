"""torch.testing.assert_close, torch.compile, set/get_num_threads and nn.init.dirac_/sparse_
against torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, ORACLE_DEVICE, Arg, check, dev, to_numpy

rng = np.random.default_rng(0)


def _both(build):
    """``build(lib)`` for torch (on the CPU) and tritensor (on the test device)."""
    return build(torch), build(tritensor)


def _failure(lib, actual, expected, **kwargs):
    try:
        lib.testing.assert_close(actual, expected, **kwargs)
    except AssertionError as e:
        return str(e)
    return None


def _tensors(lib, data, dtype=None):
    kwargs = {} if lib is torch else {"device": DEVICE}
    return lib.tensor(data, dtype=getattr(lib, dtype) if dtype else None, **kwargs)


@pytest.mark.parametrize(
    "actual,expected,dtype,kwargs",
    [
        ([1.0, 2, 3], [1.0, 2.1, 3], None, {}),
        ([1.0, 2, 3], [1.0, 2.000001, 3], None, {}),
        ([1.0, 2, 3], [1.0, 2.000001, 3], "float64", {}),
        ([1.0, 2, 3], [1.0, 2.0005, 3], "float16", {}),
        ([[1.0, float("nan")], [3, 4]], [[1.0, float("nan")], [3, 4]], None, {}),
        ([[1.0, float("nan")], [3, 4]], [[1.0, float("nan")], [3, 4]], None, {"equal_nan": True}),
        ([1.0, float("inf")], [1.0, float("inf")], None, {}),
        ([1.0, 2.0], [1.0, 2.5], None, {"rtol": 0.3, "atol": 0.0}),
        ([1.0, 2.0], [1.0, 2.5], None, {"msg": "custom"}),
        ([1.0], [1.5], None, {}),
    ],
)
def test_assert_close_tensors_match_torch(actual, expected, dtype, kwargs):
    theirs = _failure(torch, _tensors(torch, actual, dtype), _tensors(torch, expected, dtype), **kwargs)
    ours = _failure(
        tritensor, _tensors(tritensor, actual, dtype), _tensors(tritensor, expected, dtype), **kwargs
    )
    assert ours == theirs


def test_assert_close_integers_attributes_containers_and_numbers():
    for lib_args in [
        lambda lib: (lib.tensor([[1, 2], [3, 4]]), lib.tensor([[1, 2], [3, 5]])),
        lambda lib: (lib.tensor([1.0, 2, 3]), lib.tensor([1.0, 2, 3], dtype=lib.float64)),
        lambda lib: (lib.tensor([1.0, 2, 3]), lib.tensor([1.0, 2])),
        lambda lib: ([lib.tensor(1.0)], [lib.tensor(2.0)]),
        lambda lib: ([lib.tensor(1.0), lib.tensor(1.0)], [lib.tensor(1.0)]),
        lambda lib: ({"a": lib.tensor(1.0)}, {"a": lib.tensor(1.0)}),
        lambda lib: ((1.0, 2), (1.0, 2)),
        lambda lib: (1.0, 1.1),
        lambda lib: (3, 3),
    ]:
        theirs, ours = (_failure(lib, *lib_args(lib)) for lib in (torch, tritensor))
        assert ours == theirs, (ours, theirs)
    assert "Greatest absolute difference: 1 at index (1, 1)" in _failure(
        tritensor, tritensor.tensor([[1, 2], [3, 4]]), tritensor.tensor([[1, 2], [3, 5]])
    )
    tritensor.testing.assert_close(
        tritensor.tensor([1.0, 2]), tritensor.tensor([1.0, 2], dtype=tritensor.float64), check_dtype=False
    )
    with pytest.raises(ValueError, match="no atol"):
        tritensor.testing.assert_close(tritensor.ones(2), tritensor.ones(2), rtol=0.1)
    with pytest.raises(TypeError):
        tritensor.testing.assert_close(tritensor.ones(2), [1.0, 1.0])
    message = _failure(tritensor, tritensor.ones(2), tritensor.zeros(2), msg=lambda m: "wrapped: " + m)
    assert message.startswith("wrapped: Tensor-likes are not close!")
    if DEVICE != "cpu":
        assert "device" in _failure(tritensor, tritensor.ones(2), tritensor.ones(2, device=DEVICE))


def test_compile_returns_the_model_and_results_stay_the_same():
    model = tritensor.nn.Linear(3, 2).to(DEVICE)
    assert tritensor.compile(model) is model
    assert tritensor.compile(model, mode="max-autotune", fullgraph=True, dynamic=False) is model

    @tritensor.compile
    def f(x):
        return x.relu() * 2

    @tritensor.compile(mode="reduce-overhead")
    def h(x):
        return x + 1

    x = tritensor.tensor([-1.0, 2.0], device=DEVICE)
    np.testing.assert_array_equal(to_numpy(f(x)), [0.0, 4.0])
    np.testing.assert_array_equal(to_numpy(h(x)), [0.0, 3.0])
    for kwargs in [{"mode": "fastest"}, {"mode": "default", "options": {}}]:
        with pytest.raises(RuntimeError):
            tritensor.compile(model, **kwargs)
    assert tritensor.compiler.is_compiling() is False
    assert tritensor.compiler.disable(f) is f


@pytest.mark.cpu_only
def test_num_threads():
    before = tritensor.get_num_threads()
    assert before >= 1
    x = tritensor.tensor(rng.standard_normal(1 << 20).astype(np.float32))
    full = (x * 3 + 1).sum().item()
    try:
        tritensor.set_num_threads(1)
        assert tritensor.get_num_threads() == 1
        one = (x * 3 + 1).sum().item()
    finally:
        tritensor.set_num_threads(before)
    assert math.isclose(full, one, rel_tol=1e-6)
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(RuntimeError) as theirs:
            torch.set_num_threads(bad)
        with pytest.raises(RuntimeError) as ours:
            tritensor.set_num_threads(bad)
        assert str(ours.value) == str(theirs.value)
    assert tritensor.get_num_threads() == before


@pytest.mark.parametrize(
    "shape,groups",
    [((4, 4, 3), 1), ((6, 3, 3, 3), 1), ((6, 2, 3, 3), 2), ((4, 6, 1, 3, 3), 2), ((2, 5, 3, 3), 1)],
)
def test_dirac(shape, groups):
    check(lambda lib, dummy: lib.nn.init.dirac_(lib.empty(shape, device=dev(lib)), groups), np.zeros(1))


def test_dirac_errors_and_convolution_identity():
    check(lambda lib, dummy: lib.nn.init.dirac_(lib.empty((3, 3), device=dev(lib))), np.zeros(1))
    check(lambda lib, dummy: lib.nn.init.dirac_(lib.empty((3, 2, 3), device=dev(lib)), 2), np.zeros(1))


def test_sparse_init():
    w = tritensor.empty((10, 6), device=DEVICE)
    tritensor.manual_seed(0)
    tritensor.nn.init.sparse_(w, 0.35, std=0.5)
    values = to_numpy(w)
    assert ((values == 0).sum(0) == math.ceil(0.35 * 10)).all()  # the same count of zeros in every column
    assert 0.2 < values[values != 0].std() < 1.0
    with pytest.raises(ValueError):
        tritensor.nn.init.sparse_(tritensor.empty(3), 0.5)


def _mlp(lib, dropout=0.0):
    lib.manual_seed(0)
    return lib.nn.Sequential(
        lib.nn.Linear(3, 5),
        lib.nn.Tanh(),
        lib.nn.Dropout(dropout),
        lib.nn.Linear(5, 2),
        lib.nn.ReLU(),
        lib.nn.Linear(2, 1),
    )


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_matches_torch(use_reentrant):
    theirs = _mlp(torch)
    ours = _mlp(tritensor).to(DEVICE)
    ours.load_state_dict({k: tritensor.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    theirs.to(ORACLE_DEVICE)
    x = rng.standard_normal((4, 3)).astype(np.float32)

    def run(lib, x):
        model = ours if lib is tritensor else theirs
        model.zero_grad()
        y = lib.utils.checkpoint.checkpoint(model, x, use_reentrant=use_reentrant)
        y.square().sum().backward()
        return [y, x.grad] + [p.grad for p in model.parameters()]

    check(run, Arg(x, requires_grad=True), grad=False)
    seq = lambda lib, x: lib.utils.checkpoint.checkpoint_sequential(  # noqa: E731
        ours if lib is tritensor else theirs, 2, x, use_reentrant=use_reentrant
    )
    check(seq, Arg(x, requires_grad=True), same_node=False)


def test_checkpoint_repeats_dropout_and_warns_without_use_reentrant():
    model = _mlp(tritensor, dropout=0.5).to(DEVICE)
    x = tritensor.tensor(rng.standard_normal((8, 3)).astype(np.float32), device=DEVICE, requires_grad=True)
    tritensor.manual_seed(3)
    with pytest.warns(UserWarning, match="use_reentrant"):
        y = tritensor.utils.checkpoint.checkpoint(model, x)
    assert type(y.grad_fn).__name__ == "CheckpointFunctionBackward"
    y.sum().backward()
    checkpointed = [to_numpy(p.grad) for p in model.parameters()] + [to_numpy(x.grad)]
    model.zero_grad()
    x.grad = None
    tritensor.manual_seed(3)
    model(x).sum().backward()  # the same masks: the backward's rerun restored the forward's generator state
    for a, b in zip(checkpointed, [to_numpy(p.grad) for p in model.parameters()] + [to_numpy(x.grad)]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError):
        tritensor.utils.checkpoint.checkpoint(model, x, use_reentrant=True, context_fn=lambda: None)


FACTORIES = {
    "zeros": lambda lib: lib.zeros(2, 3),
    "ones": lambda lib: lib.ones(2),
    "empty": lambda lib: lib.empty(2),
    "full": lambda lib: lib.full((2,), 1.5),
    "arange": lambda lib: lib.arange(4),
    "linspace": lambda lib: lib.linspace(0, 1, 5),
    "eye": lambda lib: lib.eye(3),
    "tensor": lambda lib: lib.tensor([1, 2]),
    "rand": lambda lib: lib.rand(3),
    "randn": lambda lib: lib.randn(3),
    "randint": lambda lib: lib.randint(0, 5, (3,)),
    "randperm": lambda lib: lib.randperm(4),
    "normal": lambda lib: lib.normal(0.0, 1.0, (3,)),
    "linear": lambda lib: lib.nn.Linear(2, 3).weight,
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_default_device(name):
    """Factory functions (and modules' parameters) follow set_default_device and ``with device(...)``."""
    make = FACTORIES[name]
    expected = tritensor.device(DEVICE)
    assert tritensor.get_default_device() == tritensor.device("cpu")
    try:
        tritensor.set_default_device(DEVICE)
        assert make(tritensor).device.type == expected.type
        assert tritensor.get_default_device().type == expected.type
    finally:
        tritensor.set_default_device(None)
    assert make(tritensor).device.type == "cpu"
    with tritensor.device(DEVICE):
        assert make(tritensor).device.type == expected.type
        with tritensor.device("cpu"):
            assert make(tritensor).device.type == "cpu"
        assert make(tritensor).device.type == expected.type
    assert make(tritensor).device.type == "cpu"
    assert tritensor.from_numpy(np.zeros(2)).device.type == "cpu"
