"""Edge cases found by differential fuzzing against torch (session 12): each case is one call
whose value, dtype, shape or exception type differed from torch's. Runs on both devices."""
import numpy as np
import pytest

from harness import DEVICE, Arg, check, dev

F64 = Arg(np.arange(3.0), requires_grad=True)


def _t(lib, values, dtype=None):
    return lib.tensor(values, dtype=getattr(lib, dtype) if dtype else None, device=dev(lib))


def _ar(lib, n):
    return lib.arange(n, device=dev(lib))


def _z(lib, *shape, dtype="float32", fill=0):
    return lib.full(shape, fill, dtype=getattr(lib, dtype), device=dev(lib))


CASES = {
    # index_select of a 0-d tensor takes exactly one index (an empty one crashed the kernel)
    "index_select 0-d, no index": lambda lib: lib.index_select(_t(lib, 1.0), 0, _t(lib, [], "int64")),
    "index_select 0-d, two indices": lambda lib: lib.index_select(_t(lib, 1.0), 0, _t(lib, [0, 0])),
    "index_select 0-d, one index": lambda lib: lib.index_select(_t(lib, 1.0), 0, _t(lib, [0])),
    # a view must lie inside the storage
    "as_strided past the storage": lambda lib: lib.as_strided(_t(lib, [1.0, 2.0]), (4,), (1,)),
    "as_strided past, by the offset": lambda lib: lib.as_strided(_t(lib, [1.0, 2.0]), (2,), (1,), 1),
    "as_strided empty, any offset": lambda lib: lib.as_strided(_t(lib, [1.0, 2.0]), (0,), (1,), 5),
    # tensor_split: negative split points count from the end; tensors as sections or indices
    "tensor_split [-1]": lambda lib: lib.tensor_split(_ar(lib, 4), [-1]),
    "tensor_split [4, 4, -2]": lambda lib: lib.tensor_split(_ar(lib, 4), [4, 4, -2]),
    "tensor_split 0-d tensor": lambda lib: lib.tensor_split(_ar(lib, 6), lib.tensor(2)),
    "tensor_split 1-d tensor": lambda lib: lib.tensor_split(_ar(lib, 6), lib.tensor([1, -2])),
    "tensor_split 0 sections": lambda lib: lib.tensor_split(_ar(lib, 4), 0),
    "tensor_split 2-d tensor": lambda lib: lib.tensor_split(_ar(lib, 4), lib.tensor([[1]])),
    "tensor_split float tensor": lambda lib: lib.tensor_split(_ar(lib, 4), lib.tensor([1.0])),
    "tensor_split of 0-d": lambda lib: lib.tensor_split(_t(lib, 1.0), 1),
    # integer products keep their dtype
    "addbmm int32": lambda lib: lib.addbmm(_z(lib, 1, 4, dtype="int32"),
                                           _z(lib, 3, 1, 1, dtype="int32", fill=1),
                                           _z(lib, 3, 1, 4, dtype="int32", fill=1)),
    "tensordot int32, size-1 contraction": lambda lib: lib.tensordot(
        _z(lib, 2, 1, dtype="int32", fill=1), _z(lib, 1, 3, dtype="int32", fill=1), dims=1),
    "inner with K = 0": lambda lib: lib.inner(_z(lib, 2, 0), _z(lib, 3, 0)),
    # a 0-d tensor fill value is checked like a number
    "index_fill int8 with tensor(300)": lambda lib: lib.index_fill(
        _z(lib, 3, dtype="int8"), 0, _t(lib, [1]), lib.tensor(300)),
    "masked_fill int8 with tensor(1e10)": lambda lib: _z(lib, 3, dtype="int8").masked_fill(
        _t(lib, [True, False, True]), lib.tensor(1e10)),
    "masked_fill int8 with tensor(2.5)": lambda lib: _z(lib, 3, dtype="int8").masked_fill(
        _t(lib, [True, False, True]), lib.tensor(2.5)),
    # a 0-d uint8 index is a mask, as a 0-d bool one
    "x[uint8 0-d 2]": lambda lib: lib.arange(4.0, device=dev(lib))[_t(lib, 2, "uint8")],
    "x[uint8 0-d 0]": lambda lib: lib.arange(4.0, device=dev(lib))[_t(lib, 0, "uint8")],
    # index_put with 0-d index tensors
    "index_put 0-d int index": lambda lib: _z(lib, 4).index_put((_t(lib, 1),), _t(lib, 2.5)),
    "index_put 0-d int index, rows": lambda lib: _z(lib, 2, 3).index_put(
        (_t(lib, 1),), _t(lib, [1.0, 2.0, 3.0])),
    "index_put 0-d True": lambda lib: _z(lib, 2).index_put((_t(lib, True),), _t(lib, 2.5)),
    "index_put 0-d False": lambda lib: _z(lib, 2).index_put((_t(lib, False),), _t(lib, 2.5)),
    "index_put 0-d accumulate": lambda lib: _z(lib, 4).index_put(
        (_t(lib, 1),), _t(lib, 2.5), accumulate=True),
    # 0-d tensors: dims 0 and -1 are the tensor itself
    "transpose 0-d": lambda lib: lib.transpose(_t(lib, 1.0), 0, -1),
    "swapaxes 0-d": lambda lib: lib.swapaxes(_t(lib, 1.0), 0, 0),
    "movedim 0-d": lambda lib: lib.movedim(_t(lib, 1.0), 0, 0),
    "movedim 0-d out of range": lambda lib: lib.movedim(_t(lib, 1.0), 0, 1),
    "flip 0-d repeated dim": lambda lib: lib.flip(_t(lib, 3), (-1, 0)),
    "narrow 0-d": lambda lib: lib.narrow(_t(lib, 1.0), 0, 0, 1),
    "split 0-d": lambda lib: lib.split(_t(lib, 1.0), 1),
    "chunk 0-d": lambda lib: lib.chunk(_t(lib, 1.0), 1),
    "narrow start out of range": lambda lib: lib.narrow(_ar(lib, 3), 0, -4, 1),
    "narrow start at the end": lambda lib: lib.narrow(_ar(lib, 3), 0, 3, 0),
    # index_add_: IndexError for a bad index at any rank; its source has self's rank (0-d too)
    "index_add 3-d, index out of range": lambda lib: lib.index_add(_z(lib, 2, 3, 2), 1, _t(lib, [3]),
                                                                  _z(lib, 2, 1, 2, fill=1)),
    "index_add 4-d dim 2, index out of range": lambda lib: lib.index_add(_z(lib, 2, 3, 2, 2), 2, _t(lib, [5]),
                                                                        _z(lib, 2, 3, 1, 2, fill=1)),
    "index_add 4-d dim 3, index out of range": lambda lib: lib.index_add(_z(lib, 2, 3, 2, 2), 3, _t(lib, [5]),
                                                                        _z(lib, 2, 3, 2, 1, fill=1)),
    "index_add 0-d source into 1-d": lambda lib: lib.index_add(_z(lib, 3), 0, _t(lib, 1), _t(lib, 1.0)),
    "index_add 0-d into 0-d": lambda lib: lib.index_add(_t(lib, 0.0), 0, _t(lib, 0), _t(lib, 1.0)),
    "index_copy 0-d source into 1-d": lambda lib: lib.index_copy(_z(lib, 3), 0, _t(lib, [1]), _t(lib, 1.0)),
    # only skipped (0,) tensors: an empty result whatever the dim; an empty roll ignores its dims
    "cat of (0,) tensors, dim 2": lambda lib: lib.cat([_z(lib, 0), _z(lib, 0)], 2),
    "roll empty, dims out of range": lambda lib: lib.roll(_z(lib, 2, 0, 4), (7, 0), (-4, -1)),
    "scatter_reduce mean of bool": lambda lib: lib.scatter_reduce(_t(lib, [True, False]), 0, _t(lib, [0]),
                                                                  _t(lib, [True]), "mean"),
    "scatter_reduce amax of bool": lambda lib: lib.scatter_reduce(_t(lib, [True, False]), 0, _t(lib, [0]),
                                                                  _t(lib, [True]), "amax"),
    # nothing indexed, nothing bounds-checked
    "broadcast to empty, index out of range": lambda lib: lib.arange(12.0, device=dev(lib)).reshape(4, 3)[
        _t(lib, [4]), _t(lib, [], "int64")],
}


INF, NAN = float("inf"), float("nan")


def _f(lib, values, dtype="float32"):
    return _t(lib, values, dtype)


ELEMENTWISE = {
    # an in-place op reading its self as a 16-bit float writes into self (or refuses the cast)
    "uint8 eq_ float16": lambda lib: _t(lib, [1, 0, 3], "uint8").eq_(_f(lib, [1, 0.5, 0.5], "float16")),
    "int16 add_ float16": lambda lib: _t(lib, [1, 2, 3], "int16").add_(_f(lib, [0.5, 0.5, 0.5], "float16")),
    # out= of a wider dtype: computed in the result dtype, then cast
    "int8 add, int32 out": lambda lib: lib.add(_t(lib, [100], "int8"), _t(lib, [100], "int8"),
                                               out=_z(lib, 1, dtype="int32")),
    "uint8 mul, int16 out": lambda lib: lib.mul(_t(lib, [3], "uint8"), 100, out=_z(lib, 1, dtype="int16")),
    "float32 rad2deg, float64 out": lambda lib: lib.rad2deg(_f(lib, [-0.80517]),
                                                            out=_z(lib, 1, dtype="float64")),
    # rounding divisions: floor from fmod, as floor_divide; a number divisor is not rounded to 16 bits
    "div floor by 0.1": lambda lib: lib.div(_f(lib, [1.0, 3.0, 0.7]), 0.1, rounding_mode="floor"),
    "div floor specials": lambda lib: lib.div(_f(lib, [1.0, -1.0, -INF, 5.0]), _f(lib, [0.1, INF, 2.0, 0.0]),
                                              rounding_mode="floor"),
    "bfloat16 div trunc by 0.1": lambda lib: lib.div(_f(lib, [1.0, 3.0], "bfloat16"), 0.1,
                                                     rounding_mode="trunc"),
    "float16 div floor, huge divisor": lambda lib: lib.div(_f(lib, [0.54], "float16"), -3.86e31,
                                                           rounding_mode="floor"),
    # pow: a number exponent of +-0.5 is sqrt / rsqrt; C's special cases for tensor exponents
    "pow 0.5": lambda lib: lib.pow(_f(lib, [-INF, -0.0, 4.0]), 0.5),
    "pow -0.5": lambda lib: lib.pow(_f(lib, [-INF, -0.0, 4.0]), -0.5),
    "pow tensor specials": lambda lib: lib.pow(_f(lib, [-INF, -1.0, -2.0, -0.0, -0.0]),
                                               _f(lib, [0.5, INF, INF, -1.0, 3.0])),
    "int pow, negative exponents": lambda lib: lib.pow(_t(lib, [3, 45, 1, -1, -1], "int32"),
                                                       _t(lib, [-7, -1, -3, -3, -2], "int32")),
    # scaled hypot, atan2's quadrants and zero signs, -0.0 kept
    "hypot huge and tiny": lambda lib: lib.hypot(_f(lib, [1e30, 1e-30, INF, 0.0]),
                                                 _f(lib, [1e30, 1e-30, NAN, 0.0])),
    "atan2 specials": lambda lib: lib.atan2(_f(lib, [INF, -0.0, -0.0, -INF, INF]),
                                            _f(lib, [INF, -1.0, 1.0, INF, -INF])),
    "tanh, atan, round of -0.0": lambda lib: lib.stack([lib.tanh(_f(lib, [-0.0])), lib.atan(_f(lib, [-0.0])),
                                                        lib.round(_f(lib, [-0.4]))]),
    # huge negative arguments: integer-valued, so poles (and no endless loop)
    "digamma of -1e30": lambda lib: lib.digamma(_f(lib, [-1e30, -1.11e21], "float64")),
    "polygamma 2 of -1e30": lambda lib: lib.polygamma(2, _f(lib, [-1e30], "float64")),
    "zeta at q = -1e30": lambda lib: lib.special.zeta(_f(lib, [3.0], "float64"), _f(lib, [-1e30], "float64")),
    "gcd at int8 min": lambda lib: lib.gcd(_t(lib, [-128, 6], "int8"), _t(lib, [2, -4], "int8")),
}
CASES.update(ELEMENTWISE)

REDUCTIONS = {
    "nansum of floats into int64": lambda lib: lib.nansum(_f(lib, [1.5, NAN, 2.5]), dtype=lib.int64),
    "mean into float16, summed wide": lambda lib: lib.mean(_f(lib, [7e4, -7e4, 1.0]), dtype=lib.float16),
    "mean into float16, rounded once": lambda lib: lib.mean(_f(lib, [3000.7, 3000.6, 1.0]),
                                                            dtype=lib.float16),
    "vector_norm -1 with a zero": lambda lib: lib.linalg.vector_norm(_f(lib, [0.0, 2.0]), ord=-1),
    "vector_norm -2 of zeros": lambda lib: lib.linalg.vector_norm(_z(lib, 1, 3), ord=-2, dim=1),
}
CASES.update(REDUCTIONS)

ARGUMENTS = {  # session 13: argument and dtype checks torch makes (or does not make)
    "cumsum dim=None": lambda lib: lib.cumsum(_f(lib, [1.0, 2.0]), dim=None),
    "cumprod dtype=bool": lambda lib: lib.cumprod(_f(lib, [1.0, 2.0]), 0, dtype=lib.bool),
    "softmax dtype=int64": lambda lib: lib.softmax(_f(lib, [1.0, 2.0]), 0, dtype=lib.int64),
    "log_softmax dtype=int32": lambda lib: lib.log_softmax(_f(lib, [1.0, 2.0]), 0, dtype=lib.int32),
    "sum keepdim without dim": lambda lib: lib.sum(_f(lib, [1.0, 2.0]), keepdim=True),
    "addcdiv_ of integers": lambda lib: _t(lib, [1, 2]).addcdiv_(_t(lib, [1, 2]), _t(lib, [1, 2])),
    "hypot_ of integers": lambda lib: _t(lib, [1, 2]).hypot_(_t(lib, [1, 2])),
    "round integers to decimals": lambda lib: lib.round(_t(lib, [11, 25]), decimals=-1),
    "round_ integers to decimals": lambda lib: _t(lib, [11, 25]).round_(decimals=1),
    "round integers, no decimals": lambda lib: lib.round(_t(lib, [11, 25])),
    "where with a uint8 condition": lambda lib: lib.where(_t(lib, [1, 0], "uint8"), _f(lib, [1.0, 2.0]),
                                                          _f(lib, [3.0, 4.0])),
    "where with an int64 condition": lambda lib: lib.where(_t(lib, [1, 0]), _f(lib, [1.0, 2.0]), 0.0),
    "lerp, 0-d float64 weight": lambda lib: lib.lerp(_f(lib, [1.0, 2.0]), _f(lib, [3.0, 4.0]),
                                                    _t(lib, 0.25, "float64")),
    "lerp, 1-d float64 weight": lambda lib: lib.lerp(_f(lib, [1.0, 2.0]), _f(lib, [3.0, 4.0]),
                                                    _t(lib, [0.25, 0.5], "float64")),
    "lerp_, 0-d float16 weight": lambda lib: _f(lib, [1.0, 2.0]).lerp_(_f(lib, [3.0, 4.0]),
                                                                      _t(lib, 0.5, "float16")),
    "sub, bool alpha": lambda lib: lib.sub(_f(lib, [1.0]), _f(lib, [2.0]), alpha=True),
    "sub_, bool alpha": lambda lib: _f(lib, [1.0]).sub_(_f(lib, [2.0]), alpha=True),
    "add, bool alpha of floats": lambda lib: lib.add(_f(lib, [1.0]), _f(lib, [2.0]), alpha=False),
    "add, int alpha of bools": lambda lib: lib.add(_t(lib, [True, False]), _t(lib, [True, True]), alpha=2),
    "add_, bool alpha of bools": lambda lib: _t(lib, [False]).add_(_t(lib, [True]), alpha=True),
    "argmax out=": lambda lib: lib.argmax(_f(lib, [1.0, 3.0, 2.0]), out=_z(lib, dtype="int64")),
    "argmin out= float": lambda lib: lib.argmin(_f(lib, [1.0, 3.0]), out=_z(lib)),
    "argmax dim out=": lambda lib: lib.argmax(_f(lib, [[1.0, 3.0], [4.0, 0.0]]), 1,
                                              out=_z(lib, 2, dtype="int64")),
    "all out= float": lambda lib: lib.all(_f(lib, [1.0]), 0, out=_z(lib)),
    "any of uint8 into bool": lambda lib: lib.any(_t(lib, [0, 3], "uint8"), out=_z(lib, dtype="bool")),
    "all of floats into uint8": lambda lib: lib.all(_f(lib, [1.0, 0.0]), 0, out=_z(lib, dtype="uint8")),
    "amax out= int64": lambda lib: lib.amax(_f(lib, [1.0, 2.0]), 0, out=_z(lib, dtype="int64")),
    "amin out= float64": lambda lib: lib.amin(_f(lib, [1.0, 2.0]), 0, out=_z(lib, dtype="float64")),
    "max(dim) out= float64 values": lambda lib: lib.max(
        _f(lib, [[1.0, 2.0]]), 1, out=(_z(lib, 1, dtype="float64"), _z(lib, 1, dtype="int64"))),
    "max(dim) out= int32 indices": lambda lib: lib.max(_f(lib, [[1.0, 2.0]]), 1,
                                                       out=(_z(lib, 1), _z(lib, 1, dtype="int32"))),
    "take_along_dim 0-d, dim=0": lambda lib: lib.take_along_dim(_t(lib, 3.0), _t(lib, 0), dim=0),
    "take_along_dim 0-d, no dim": lambda lib: lib.take_along_dim(_t(lib, 3.0), _t(lib, 0)),
    "index_put_ of a 0-d cpu value": lambda lib: _z(lib, 3, 2).index_put_((_t(lib, [1, 0]),),
                                                                          lib.tensor(7.0)),
    "atan2 with a number": lambda lib: lib.atan2(_f(lib, [1.0]), 2.0),
    "atan2_ with a number": lambda lib: _f(lib, [1.0]).atan2_(2),
}
REDUCTION_OUT = {  # out= fixes the dtype a sum, prod or mean computes in
    "sum into int64": lambda lib: lib.sum(_f(lib, [1.5, 2.5]), 0, out=_z(lib, dtype="int64")),
    "sum of ints into float32": lambda lib: lib.sum(_t(lib, [1, 2]), 0, out=_z(lib)),
    "sum of int8 into int8": lambda lib: lib.sum(_t(lib, [100, 100], "int8"), 0, out=_z(lib, dtype="int8")),
    "sum, dtype and out disagree": lambda lib: lib.sum(_f(lib, [1.5]), 0, dtype=lib.float64, out=_z(lib)),
    "mean into float64": lambda lib: lib.mean(_f(lib, [0.1, 0.2, 0.3]), 0, out=_z(lib, dtype="float64")),
    "mean into int64": lambda lib: lib.mean(_f(lib, [0.1, 0.2]), 0, out=_z(lib, dtype="int64")),
    "prod into int64": lambda lib: lib.prod(_f(lib, [1.5, 2.5]), 0, out=_z(lib, dtype="int64")),
    "square_ of bools": lambda lib: _t(lib, [True, False]).square_(),
    "square of bools": lambda lib: lib.square(_t(lib, [True, False])),
}
NUMBERS = {  # a Python number meets an integer tensor: converted to its dtype, wrapping or refused
    "int8 // 256 (wraps to 0)": lambda lib: _t(lib, [1, 2], "int8") // 256,
    "int8 % 256": lambda lib: _t(lib, [1, 2], "int8") % 256,
    "uint8 fmod 512": lambda lib: lib.fmod(_t(lib, [1, 2], "uint8"), 512),
    "int8 remainder 300 (wraps to 44)": lambda lib: lib.remainder(_t(lib, [1, 2], "int8"), 300),
    "int8 ** 257": lambda lib: _t(lib, [1, 2], "int8") ** 257,
    "int8 ** 127": lambda lib: _t(lib, [1, 2], "int8") ** 127,
    "300 ** int8": lambda lib: 300 ** _t(lib, [1, 2], "int8"),
    "where int16, 40000": lambda lib: lib.where(_t(lib, [True, False]), _t(lib, [1, 2], "int16"), 40000),
    "where int8, -129 first": lambda lib: lib.where(_t(lib, [True, False]), -129, _t(lib, [1, 2], "int8")),
    "where int8, 127": lambda lib: lib.where(_t(lib, [True, False]), _t(lib, [1, 2], "int8"), 127),
    "where float32, 1e40": lambda lib: lib.where(_t(lib, [True, False]), _f(lib, [1.0, 2.0]), 1e40),
    "where float16, 1e6 (inf)": lambda lib: lib.where(_t(lib, [True, False]), _f(lib, [1.0, 2.0], "float16"),
                                                      1e6),
    "bool ** True": lambda lib: lib.pow(_t(lib, [True, False]), True),
    "bool ** False": lambda lib: _t(lib, [True, False]) ** False,
    "bool pow_ False": lambda lib: _t(lib, [True, False]).pow_(False),
    "bool ** 2": lambda lib: _t(lib, [True, False]) ** 2,
    "True ** bool tensor": lambda lib: lib.pow(True, _t(lib, [True, False])),
}

def _into_view_of(lib, base, view, op):
    """``op(out=view(base))``, then base: a resized out= writes into base where it fits."""
    result = op(view(base))
    return result, base


OUTS = {  # out= of ops that are the identity for integers, and out= of another shape
    "floor of int64 into int32": lambda lib: lib.floor(_t(lib, [1, 2]), out=_z(lib, 2, dtype="int32")),
    "ceil of int64 into float32": lambda lib: lib.ceil(_t(lib, [1, 2]), out=_z(lib, 2)),
    "round of int64 into float32": lambda lib: lib.round(_t(lib, [1, 2]), out=_z(lib, 2)),
    "round of int64 into int64": lambda lib: lib.round(_t(lib, [1, 2]), out=_z(lib, 5, dtype="int64")),
    "trunc of int8 into int8": lambda lib: lib.trunc(_t(lib, [1, 2], "int8"), out=_z(lib, 2, dtype="int8")),
    "nan_to_num of int64 into int32": lambda lib: lib.nan_to_num(_t(lib, [1, 2]),
                                                                 out=_z(lib, 2, dtype="int32")),
    "nan_to_num of int64 into int64": lambda lib: lib.nan_to_num(_t(lib, [1, 2]),
                                                                 out=_z(lib, 2, dtype="int64")),
    "add into a short view": lambda lib: _into_view_of(lib, _z(lib, 6), lambda b: b[2:4],
                                                       lambda o: lib.add(_f(lib, [1.0] * 3), 1, out=o)),
    "add into a transposed view": lambda lib: _into_view_of(lib, _z(lib, 2, 3), lambda b: b.t(),
                                                            lambda o: lib.add(_f(lib, [1.0] * 6), 1, out=o)),
    "sum into a column": lambda lib: _into_view_of(lib, _z(lib, 2, 3), lambda b: b[:, 1],
                                                   lambda o: lib.sum(_z(lib, 2, 2, fill=1), 1, out=o)),
}
CASES.update(ARGUMENTS)
CASES.update(REDUCTION_OUT)
CASES.update(OUTS)
CASES.update(NUMBERS)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
    check(lambda lib: CASES[name](lib))


def test_signs_of_zero_match_torch():
    """-0.0 results keep their sign (check's allclose would not see it)."""
    import torch

    import tritensor
    for fn in (lambda lib, x: lib.tanh(x), lambda lib, x: lib.atan(x), lambda lib, x: lib.round(x),
               lambda lib, x: lib.pow(x, 0.5), lambda lib, x: lib.atan2(x, lib.ones_like(x))):
        ours = fn(tritensor, tritensor.tensor([-0.0, -0.4], device=DEVICE)).cpu().numpy()
        theirs = fn(torch, torch.tensor([-0.0, -0.4])).numpy()
        keep = ~np.isnan(theirs)  # a NaN's sign is arbitrary
        np.testing.assert_array_equal(np.isnan(ours), ~keep)
        np.testing.assert_array_equal(np.signbit(ours[keep]), np.signbit(theirs[keep]))


@pytest.mark.parametrize("shape,index,value", [
    ((3,), lambda lib: True, lambda lib: _t(lib, 1.0, "float32")),     # a lone True copies, converting
    ((3,), lambda lib: False, lambda lib: _t(lib, [1.0, 2.0])),        # a lone False writes nothing
    ((3,), lambda lib: _t(lib, 3, "uint8"), lambda lib: 5.0),          # a 0-d byte mask
    ((3,), lambda lib: _t(lib, [1, 0], "uint8"), lambda lib: 1.0),     # a byte mask of the wrong shape
    ((4, 3), lambda lib: (_t(lib, [4]), _t(lib, [], "int64")), lambda lib: 1.0),  # nothing to write
])
def test_setitem_matches_torch(shape, index, value):
    def fn(lib):
        x = lib.zeros(shape, dtype=lib.float64, device=dev(lib))
        x[index(lib)] = value(lib)
        return x
    check(fn)


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.var_mean(x, dim=0)[1],   # one row: the variance is NaN, unused
    lambda lib, x: lib.std_mean(x)[1],
    lambda lib, x: sum(lib.var_mean(x, dim=1)),
])
def test_mean_output_alone_backpropagates(fn):
    """Only the mean of var_mean/std_mean used: no variance term (NaN for one row) in the gradient."""
    check(lambda lib, x: fn(lib, x).sum(), Arg(np.array([[1.0, 2.0]]), requires_grad=True))
    check(lambda lib, x: fn(lib, x).sum(), Arg(np.array([[1.0, np.nan, 3.0]]), requires_grad=True))


def test_lone_false_setitem_skips_the_leaf_check():
    """torch returns before any check for ``x[False] = v``, even on a leaf that requires grad."""
    def fn(lib):
        x = lib.zeros(2, device=dev(lib), requires_grad=True)
        x[False] = 1.0
        return x.detach()
    check(fn)


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.cat([x[:0], lib.ones(2, 1, dtype=x.dtype, device=x.device)]),  # a skipped (0,) input
    lambda lib, x: x[:0].reshape(0, 1).expand(0, 4).unfold(1, 2, 1),  # an empty unfold
    lambda lib, x: lib.as_strided(x, (0, 2), (1, 0)),  # an empty aliasing view
])
def test_empty_results_backpropagate(fn):
    check(lambda lib, x: fn(lib, x).sum(), F64)


@pytest.mark.skipif(DEVICE != "cuda", reason="the 'cuda' kernels' deferred bounds check")
@pytest.mark.parametrize("call", [
    lambda T, x, i, s: x.scatter(0, i, s, reduce="multiply"),
    lambda T, x, i, s: x.scatter_reduce(0, i, s, "prod"),
])
def test_out_of_range_product_scatter_reports_at_the_next_wait(call):
    """The compare-and-swap product skips an out-of-range index and reports it at the next
    call that waits for the device, as the other scatters (CUDA's device-side assert); the
    device stays usable after."""
    import tritensor as T
    x = T.ones(3, device="cuda")
    call(T, x, T.tensor([5], device="cuda"), T.full((1,), 2.0, device="cuda"))
    with pytest.raises(RuntimeError, match="index 5 is out of bounds"):
        T.cuda.synchronize()
    assert (T.arange(4.0, device="cuda") + 1).cpu().tolist() == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("values", [[0.0, np.inf, 2.0], [0.0, 0.0, 3.0], [[1.0, 0.0, 2.0], [3.0, 4.0, 5.0]],
                                    [[0.0, np.inf], [0.0, 1.0]], [[0.0, np.nan], [0.0, 1.0]], [2.0, -3.0]])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_prod_gradient_with_zeros_and_infinities(values, dim):
    """torch's prod_safe_zeros_backward: the products before and after each element, so the
    element next to a zero and an infinity gets 0, and several zeros in a full product 0."""
    check(lambda lib, x: lib.prod(x) if dim is None else lib.prod(x, dim),
          Arg(np.array(values), requires_grad=True))


def test_nanmean_of_only_nans_has_a_nan_gradient():
    check(lambda lib, x: lib.nanmean(x), Arg(np.array([np.nan]), requires_grad=True))
    check(lambda lib, x: lib.nanmean(x, 1),
          Arg(np.array([[np.nan, 1.0], [np.nan, np.nan]]), requires_grad=True))
