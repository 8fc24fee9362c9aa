"""Everyday Tensor API gaps against torch: histogram and histogramdd (counts, edges, weights,
density, ranges, tensor edges, their errors and their ``NotImplemented`` grad_fn)."""
import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, dev, tied


def edges(lib, values, dtype="float32"):
    return lib.tensor(values, dtype=getattr(lib, dtype), device=dev(lib))


# ------------------------------------------------------------------ histogram
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 4)])
def test_histogram_bins(dtype, shape):
    a = np.random.default_rng(0).uniform(-2, 3, shape).round(1)
    for bins in (1, 4):
        check(lambda lib, x: lib.histogram(x, bins), Arg(a, dtype))
        check(lambda lib, x: x.histogram(bins, range=(-1.0, 2.0), density=True), Arg(a, dtype))
        check(lambda lib, x, w: lib.histogram(x, bins, weight=w), Arg(a, dtype), Arg(a * 0 + 0.5, dtype))


def test_histogram_options():
    a = np.array([1.0, 2, 1, 4, 2.5, 0])
    check(lambda lib, x: lib.histogram(x, 3), Arg(a, transpose=False))
    check(lambda lib, x: lib.histogram(x, 3, range=(1.0, 1.0)), Arg(a))  # an empty range is widened
    check(lambda lib, x: lib.histogram(x, 3), Arg(np.full(4, 2.0)))
    check(lambda lib, x: lib.histogram(x, 2), Arg(np.arange(6.0).reshape(2, 3), transpose=True))
    check(lambda lib, x: lib.histogram(x, edges(lib, [0.0, 1.5, 3.0], "float64")), Arg(a))
    check(lambda lib, x, w: lib.histogram(x, edges(lib, [0.0, 1.0, 4.0], "float64"), weight=w, density=True),
          Arg(a), Arg(np.arange(6.0)))
    check(lambda lib, x: lib.histogram(x, 4, density=True), Arg(np.zeros(0)))  # 0/0: NaN as torch
    check(lambda lib, x: lib.histogram(x, 3, weight=x.reshape(-1)), Arg(np.arange(4.0).reshape(2, 2)))
    check(lambda lib, x: lib.histogram(x, 3, range=(0.0, 2.0)), Arg(tied((20,), "float64")))


def test_histogram_grad_fn():
    """torch records a NotImplemented node on both outputs (no derivative)."""
    a = np.array([1.0, 2, 1, 4])
    for make in (lambda lib, x: lib.histogram(x, 3),
                 lambda lib, x: lib.histogram(x, edges(lib, [0.0, 1.5, 3.0], "float64"))):
        ours = make(tritensor, tritensor.tensor(a, device=DEVICE, requires_grad=True))
        ref = make(torch, torch.tensor(a, requires_grad=True))
        for r, o in zip(ref, ours):
            assert type(o.grad_fn).__name__ == type(r.grad_fn).__name__ == "NotImplemented"
        with pytest.raises(NotImplementedError):
            ours.hist.sum().backward()
    w = tritensor.ones(4, dtype=tritensor.float64, device=DEVICE, requires_grad=True)
    assert tritensor.histogram(tritensor.tensor(a, device=DEVICE), 3, weight=w).hist.requires_grad


def test_histogram_out_and_result():
    a = np.array([1.0, 2, 1, 4])
    hist, bin_edges = tritensor.empty(0, device=DEVICE), tritensor.empty(0, device=DEVICE)
    r = tritensor.histogram(tritensor.tensor(a, dtype=tritensor.float32, device=DEVICE), 3,
                            out=(hist, bin_edges))
    assert hist.tolist() == [2, 1, 1] and bin_edges.tolist() == [1, 2, 3, 4]
    assert r.hist.tolist() == [2, 1, 1]
    ref = torch.histogram(torch.tensor(a, dtype=torch.float32), 3)
    ours = tritensor.histogram(tritensor.tensor(a, dtype=tritensor.float32), 3)
    assert repr(ours) == repr(ref)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.histogram(x.long(), 3),
    lambda lib, x: lib.histogram(x.half(), 3),
    lambda lib, x: lib.histogram(x.bfloat16(), 3),
    lambda lib, x: lib.histogram(x, 0),
    lambda lib, x: lib.histogram(x, -2),
    lambda lib, x: lib.histogram(x, 2.5),
    lambda lib, x: lib.histogram(x, 3, range=(3.0, 1.0)),
    lambda lib, x: lib.histogram(x, 3, range=(0.0, float("inf"))),
    lambda lib, x: lib.histogram(x, 3, range=(0.0, 1.0, 2.0)),
    lambda lib, x: lib.histogram(x.exp() * float("inf"), 3),
    lambda lib, x: lib.histogram(x * float("nan"), 3),
    lambda lib, x: lib.histogram(x, 3, weight=x[:2]),
    lambda lib, x: lib.histogram(x, 3, weight=x.double()),
    lambda lib, x: lib.histogram(x, edges(lib, [[0.0, 1.0]])),
    lambda lib, x: lib.histogram(x, edges(lib, [0.0])),
    lambda lib, x: lib.histogram(x, edges(lib, [0.0, 1.0], "float64")),
    lambda lib, x: lib.histogram(x, edges(lib, [0.0, 1.0]), range=(0.0, 1.0)),
])
def test_histogram_errors(call):
    check(call, Arg(np.array([1.0, 2, 1, 4]), "float32"))


# ------------------------------------------------------------------ histogramdd
POINTS = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.5, 1.5]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histogramdd(dtype):
    p = Arg(POINTS, dtype)
    check(lambda lib, x: lib.histogramdd(x, bins=[3, 2]), p)
    check(lambda lib, x: lib.histogramdd(x, bins=2), p)
    check(lambda lib, x: lib.histogramdd(x, bins=(2, 3), range=[0.0, 1.0, 0.0, 1.0]), p)
    check(lambda lib, x: lib.histogramdd(x, [edges(lib, [0.0, 1, 2], dtype),
                                             edges(lib, [0.0, 1, 2, 3], dtype)]), p)
    check(lambda lib, x, w: lib.histogramdd(x, bins=[2, 3], weight=w, density=True), p,
          Arg(np.arange(1.0, 6.0), dtype))
    check(lambda lib, x: lib.histogramdd(x, bins=2), Arg(np.zeros((0, 2)), dtype))
    check(lambda lib, x: lib.histogramdd(x, bins=[2, 1, 3]),
          Arg(np.random.default_rng(1).uniform(0, 1, (2, 4, 3)), dtype))
    check(lambda lib, x: lib.histogramdd(x, bins=[2, 2]), Arg(POINTS.T, dtype, transpose=True))


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.histogramdd(x, bins=[2, 3, 4]),
    lambda lib, x: lib.histogramdd(x, bins=[2, 3], range=[0.0, 1.0]),
    lambda lib, x: lib.histogramdd(x, bins=[2, 3], range=[1.0, 0.0, 0.0, 1.0]),
    lambda lib, x: lib.histogramdd(x, bins=[2, 3], weight=x[:3, 0]),
    lambda lib, x: lib.histogramdd(x.long(), bins=2),
    lambda lib, x: lib.histogramdd(x[:, 0], bins=2),
    lambda lib, x: lib.histogramdd(x[0, 0], bins=2),
    lambda lib, x: lib.histogramdd(x, bins=[0, 3]),
    lambda lib, x: lib.histogramdd(x, bins=-1),
    lambda lib, x: lib.histogramdd(x, bins=[edges(lib, [0.0, 1.0])]),
    lambda lib, x: lib.histogramdd(x, bins=edges(lib, [2.0, 3.0])),
])
def test_histogramdd_errors(call):
    check(call, Arg(POINTS, "float32"))


# ------------------------------------------------------------------ index_reduce
REDUCES = ["prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    rng = np.random.default_rng(3)
    index = np.array([0, 4, 2, 0])
    ix = lambda lib: lib.tensor(index, device=dev(lib))  # noqa: E731
    self_data, src = rng.permutation(15).reshape(5, 3) / 4 + 0.5, rng.permutation(12).reshape(4, 3) / 3 + 0.25
    check(lambda lib, x, s: x.index_reduce(0, ix(lib), s, reduce, include_self=include_self),
          Arg(self_data, requires_grad=True), Arg(src, requires_grad=True))
    check(lambda lib, x, s: lib.index_reduce(x, -1, ix(lib)[:3] % 3, s, reduce, include_self=include_self),
          Arg(self_data.T, "float32", requires_grad=True), Arg(src[:3], "float32", requires_grad=True,
                                                                 transpose=True))
    check(lambda lib, x, s: x.clone().index_reduce_(0, ix(lib), s, reduce, include_self=include_self),
          Arg(self_data, requires_grad=True), Arg(src, requires_grad=True))
    check(lambda lib, x, s: x.index_reduce(0, ix(lib).int(), s, reduce, include_self=include_self),
          Arg(self_data.astype(np.int64)), Arg((src * 3).astype(np.int64)))
    check(lambda lib, x, s: x.index_reduce(1, ix(lib)[:0], s, reduce), Arg(self_data), Arg(np.zeros((5, 0))))


@pytest.mark.parametrize("call", [
    lambda lib, x, s, i: x.index_reduce(0, i, s, "sum"),
    lambda lib, x, s, i: x.index_reduce(0, i.float(), s, "amax"),
    lambda lib, x, s, i: x.index_reduce(0, i[None], s, "amax"),
    lambda lib, x, s, i: x.index_reduce(0, i, s.double(), "amax"),
    lambda lib, x, s, i: x.index_reduce(0, i[:3], s, "amax"),
    lambda lib, x, s, i: x.index_reduce(0, i + 5, s, "amax"),
    lambda lib, x, s, i: x.index_reduce(0, i, s[:, :2], "amax"),
    lambda lib, x, s, i: x.bool().index_reduce(0, i, s.bool(), "mean"),
])
def test_index_reduce_errors(call):
    check(lambda lib, x, s: call(lib, x, s, lib.tensor([0, 4, 2, 0], device=dev(lib))),
          Arg(np.ones((5, 3)), "float32"), Arg(np.arange(12.0).reshape(4, 3), "float32"))


# ------------------------------------------------------------------ legacy Tensor.new, resize, resize_as
@pytest.mark.parametrize("call", [
    lambda lib, x: x.new(),
    lambda lib, x: x.new(2, 3).shape,
    lambda lib, x: x.new(lib.Size([2, 3])).shape,
    lambda lib, x: x.new(3).shape,
    lambda lib, x: x.new([2, 3]),
    lambda lib, x: x.new((1.5, 2)),
    lambda lib, x: x.new([]),
    lambda lib, x: x.new(x.detach() * 2),
    lambda lib, x: x.new(x.long()),
    lambda lib, x: x.new(2.5),
    lambda lib, x: x.new(-1),
    lambda lib, x: x.new(2, 3).requires_grad,
])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_new(call, dtype):
    check(call, Arg(np.arange(4).reshape(2, 2), dtype))


def test_resize_out_of_place():
    a = np.arange(6.0).reshape(2, 3)
    for name, make in (("resize", lambda lib, x: x.resize(3, 2)), ("resize", lambda lib, x: x.resize([6])),
                       ("resize_as", lambda lib, x: x.resize_as(lib.zeros(6, 1, device=dev(lib))))):
        with pytest.warns(UserWarning, match=f"non-inplace {name} is deprecated"):
            check(make, Arg(a, requires_grad=True))
        with pytest.warns(UserWarning):
            check(make, Arg(a, "float32", transpose=True))
    for bad in (lambda lib, x: x.resize(4), lambda lib, x: x.resize_as(lib.zeros(3, 3, device=dev(lib)))):
        with pytest.warns(UserWarning):
            check(bad, Arg(a))
