"""The ``*_copy`` variants of the view ops and the ``unsafe_`` splits against torch: values,
contiguity, gradients, grad_fn names, ``out=`` and errors."""
from __future__ import annotations

import numpy as np
import pytest

from harness import Arg, check, gradcheck, uniform_data


def data(*shape, seed=0):
    return uniform_data(np.random.default_rng(seed), shape, "float64")


CASES = [("as_strided_copy", ((2, 2), (1, 2))), ("diagonal_copy", (1,)), ("expand_copy", ((2, 3, 4),)),
         ("permute_copy", ((1, 0),)), ("select_copy", (1, -1)), ("slice_copy", (1, 1, None, 2)),
         ("split_copy", (2, 1)), ("split_with_sizes_copy", ([1, 2],)), ("squeeze_copy", ()),
         ("t_copy", ()), ("transpose_copy", (0, 1)), ("unbind_copy", (1,)), ("unfold_copy", (1, 2, 1)),
         ("unsqueeze_copy", (-1,)), ("view_copy", ((4, 3),)), ("unsafe_split", (2,)),
         ("unsafe_chunk", (2, 1)), ("unsafe_split_with_sizes", ([2, 1],))]


@pytest.mark.parametrize("name,args", CASES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("transpose", [False, True])
def test_copy_variants_match_torch(name, args, dtype, transpose):
    def fn(lib, x):
        result = getattr(lib, name)(x, *args)
        parts = result if isinstance(result, (tuple, list)) else [result]
        return (*parts, [p.is_contiguous() for p in parts])  # top-level tensors: grad_fn names compared
    shape = (4, 3) if transpose else (3, 4)
    check(fn, Arg(data(*shape), dtype=dtype, transpose=transpose, requires_grad=True))


@pytest.mark.parametrize("name,args", [c for c in CASES if c[0].startswith("unsafe")])
def test_unsafe_splits_are_methods_sharing_memory_untracked(name, args):
    def fn(lib, x):
        parts = getattr(x, name)(*args)
        x.mul_(2)  # the parts see it: the same memory
        return tuple(parts), [p._base is None for p in parts]
    check(fn, Arg(data(4, 3), requires_grad=False))


def test_copy_is_independent_of_its_source():
    def fn(lib, x):
        copy = lib.permute_copy(x, (1, 0))
        x.add_(1)
        return copy, x
    check(fn, Arg(data(3, 4), requires_grad=False))


@pytest.mark.parametrize("name,args", [("permute_copy", ((1, 0),)), ("view_copy", ((12,),)),
                                       ("split_copy", (2,)), ("unbind_copy", ())])
def test_out_variants_match_torch(name, args):
    def fn(lib, x):
        reference = getattr(lib, name)(x, *args)
        if isinstance(reference, (tuple, list)):
            out = [lib.empty_like(r) for r in reference]
            getattr(lib, name)(x, *args, out=out)
            return tuple(out)
        out = lib.empty_like(reference)
        returned = getattr(lib, name)(x, *args, out=out)
        return out, returned is out
    check(fn, Arg(data(3, 4), requires_grad=False))


@pytest.mark.parametrize("call", [lambda lib, x: lib.permute_copy(x, (0,)),
                                  lambda lib, x: lib.view_copy(x, (5,)),
                                  lambda lib, x: lib.select_copy(x, 2, 0),
                                  lambda lib, x: lib.slice_copy(x, 3),
                                  lambda lib, x: lib.transpose_copy(x, 0, 2),
                                  lambda lib, x: lib.permute_copy(x, (1, 0), out=x.new_empty(4, 3).long()),
                                  lambda lib, x: lib.permute_copy(x.requires_grad_(), (1, 0),
                                                                  out=x.new_empty(4, 3))])
def test_errors_match_torch(call):
    check(call, Arg(data(3, 4).astype(np.float32), requires_grad=False))


def test_gradients_against_finite_differences():
    gradcheck(lambda lib, x: lib.permute_copy(x, (1, 0)) * lib.t_copy(x), data(3, 3))
    gradcheck(lambda lib, x: lib.split_copy(x, 2)[1].exp(), data(4, 2))
