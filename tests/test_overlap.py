"""Writes into memory that the op also reads: torch's overlap rules (ops/_overlap.py).

Each case runs on a fresh ``arange(6.)`` (or a tensor made from it) in both libraries:
where torch refuses the call, tritensor must raise the same error with the same message;
where torch allows it, the values written must match.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check


def _device(lib):
    return DEVICE if lib is tritensor else "cpu"


def _i(lib, *values):
    """An index tensor of ``values``."""
    return lib.tensor(values, device=_device(lib))


def _expanded(lib, x):
    """Two rows that are the same three elements (stride 0)."""
    return x[:3].expand(2, 3)


REFUSED_SHARED = {
    "partial add_": lambda lib, x: x[1:].add_(x[:-1]),
    "same bytes, other strides": lambda lib, x: x.view(2, 3).add_(x.view(3, 2).t()),
    "its own transpose": lambda lib, x: x[:4].view(2, 2).add_(x[:4].view(2, 2).t()),
    "0-d view of self": lambda lib, x: x.add_(x[0]),
    "broadcast other in self": lambda lib, x: x.view(2, 3).mul_(x[:3]),
    "out= partial": lambda lib, x: lib.add(x[:-1], 1, out=x[1:]),
    "unary out= partial": lambda lib, x: lib.neg(x[:-1], out=x[1:]),
    "ternary in place": lambda lib, x: x[1:].addcmul_(x[:-1], x[:-1]),
    "clamp_ with tensor bound": lambda lib, x: x[1:].clamp_(min=x[:-1]),
    "where out=": lambda lib, x: lib.where(x[:-1] > 2, x[:-1], x[:-1], out=x[1:]),
    "copy_": lambda lib, x: x[1:].copy_(x[:-1]),
    "slice setitem": lambda lib, x: x.__setitem__(slice(1, None), x[:-1]),
    "cumsum out=": lambda lib, x: lib.cumsum(x[:-1], 0, out=x[1:]),
    "cat out=": lambda lib, x: lib.cat([x[:2], x[2:3]], out=x[1:4]),
    "cat out= exactly an input": lambda lib, x: lib.cat([x[:3]], out=x[:3]),
    "stack out=": lambda lib, x: lib.stack([x[:2], x[2:4]], out=x[1:5].view(2, 2)),
    "index_add_ source": lambda lib, x: x[:3].view(1, 3).index_add_(0, _i(lib, 0), x[1:4].view(1, 3)),
    "index_copy_ source": lambda lib, x: x[:3].view(1, 3).index_copy_(0, _i(lib, 0), x[1:4].view(1, 3)),
    "index_copy_ all of self": lambda lib, x: x.view(2, 3).index_copy_(0, _i(lib, 0, 1), x.view(2, 3)),
    "scatter_ source": lambda lib, x: x[:3].view(1, 3).scatter_(0, _i(lib, 0, 0, 0).view(1, 3),
                                                                 x[1:4].view(1, 3)),
    "scatter_add_ source": lambda lib, x: x.scatter_add_(0, _i(lib, 0), x[1:2]),
    "scatter_reduce_ source": lambda lib, x: x.scatter_reduce_(0, _i(lib, 0), x[1:2], "sum"),
    "put_ source": lambda lib, x: x.put_(_i(lib, 0), x[1:2]),
    "index_put_ values": lambda lib, x: x.index_put_((_i(lib, 1, 2, 3),), x[:3]),
    "advanced setitem": lambda lib, x: x.__setitem__(_i(lib, 1, 2, 3), x[:3]),
    "gather out=": lambda lib, x: lib.gather(x.view(2, 3), 0, _i(lib, 0, 1).view(1, 2), out=x[:2].view(1, 2)),
    "index_select out=": lambda lib, x: lib.index_select(x, 0, _i(lib, 0, 1), out=x[1:3]),
}

REFUSED_EXPANDED = {
    "add_": lambda lib, x: _expanded(lib, x).add_(1),
    "relu_": lambda lib, x: _expanded(lib, x).relu_(),
    "copy_": lambda lib, x: _expanded(lib, x).copy_(lib.ones(2, 3, device=_device(lib))),
    "index_add_": lambda lib, x: _expanded(lib, x).index_add_(0, _i(lib, 0),
                                                              lib.ones(1, 3, device=_device(lib))),
    "scatter_": lambda lib, x: _expanded(lib, x).scatter_(0, _i(lib, 0, 0, 0).view(1, 3), 1.0),
    "put_": lambda lib, x: _expanded(lib, x).put_(_i(lib, 0), lib.ones(1, device=_device(lib))),
    "masked_scatter_": lambda lib, x: _expanded(lib, x).masked_scatter_(
        lib.ones(2, 3, dtype=lib.bool, device=_device(lib)), lib.ones(6, device=_device(lib))),
}

ALLOWED = {
    "exactly itself": lambda lib, x: x.add_(x),
    "disjoint halves": lambda lib, x: x[3:].add_(x[:3]),
    "an expanded input": lambda lib, x: x[:3].add_(x[:1].expand(3)),
    "copy_ of itself": lambda lib, x: x.copy_(x),
    "fill_ of an expanded self": lambda lib, x: _expanded(lib, x).fill_(1.0),
    "masked_fill_ of an expanded self": lambda lib, x: _expanded(lib, x).masked_fill_(
        lib.ones(2, 3, dtype=lib.bool, device=_device(lib)), 1.0),
    "index_fill_ of an expanded self": lambda lib, x: _expanded(lib, x).index_fill_(0, _i(lib, 0), 2.0),
    "setitem into a row of an expanded self": lambda lib, x: _expanded(lib, x).__setitem__(
        0, lib.ones(3, device=_device(lib))),
    "sum out= (torch does not check)": lambda lib, x: lib.sum(x[:4].view(2, 2), 0, out=x[4:]),
}


def _run_both(fn):
    """(torch's exception or None, tritensor's exception or None, both tensors after the call)."""
    results = []
    for lib in (torch, tritensor):
        x = lib.arange(6.0, device=_device(lib))
        try:
            with warnings.catch_warnings():  # torch: writes into expanded tensors are deprecated
                warnings.simplefilter("ignore")
                fn(lib, x)
            error = None
        except RuntimeError as exc:
            error = exc
        results.append((error, x))
    return results


@pytest.mark.parametrize("case", list(REFUSED_SHARED) + [f"expanded {k}" for k in REFUSED_EXPANDED])
def test_writes_that_would_read_their_own_output_are_refused(case):
    fn = REFUSED_SHARED.get(case) or REFUSED_EXPANDED[case.removeprefix("expanded ")]
    (theirs, before), (ours, after) = _run_both(fn)
    assert theirs is not None, f"torch allows {case}: the case is wrong"
    assert ours is not None, f"tritensor did not refuse {case}: {after.tolist()}"
    assert str(ours) == str(theirs)
    np.testing.assert_array_equal(after.cpu().numpy(), before.numpy())  # nothing was written


@pytest.mark.parametrize("case", list(ALLOWED))
def test_overlaps_torch_allows_give_its_values(case):
    (theirs, expected), (ours, actual) = _run_both(ALLOWED[case])
    assert theirs is None and ours is None, (theirs, ours)
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())


def test_overlap_checks_follow_views_of_other_dtypes():
    """A view of the same bytes as another dtype is the same memory."""
    floats = Arg(np.arange(4, dtype=np.float32))
    check(lambda lib, t: t.view(lib.int32)[1:].add_(t.view(lib.int32)[:-1]), floats)
    check(lambda lib, t: t.copy_(t.view(lib.int32)), floats)
