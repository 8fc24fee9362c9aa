"""Property tests (hypothesis) of type promotion and broadcasting against torch.

Operands are tensors with dimensions, 0-d tensors and Python scalars (int, float, bool), of
every dtype; torch decides the expected dtype (and value) of ``a + b``, ``a * b`` and ``a / b``.
Broadcasting is exercised with generated shapes and non-contiguous (permuted, sliced) inputs.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tritensor
from harness import (ALL_DTYPES, DEVICE, FLOAT_DTYPES, INT_DTYPES, TORCH_DTYPES, TT_DTYPES, Arg, check,
                     cpu_oracle_only)

SETTINGS = settings(max_examples=50, deadline=None)


def _values(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in INT_DTYPES:
        return rng.integers(0 if dtype == "uint8" else -4, 5, shape).astype(dtype)
    return rng.uniform(-3, 3, shape).astype(np.float64 if dtype in ("float16", "bfloat16") else dtype)


scalars = st.one_of(st.integers(-6, 6), st.floats(-4, 4, allow_nan=False, width=32), st.booleans())
# ("dim", dtype) a 1-d tensor, ("zero", dtype) a 0-d tensor, ("scalar", value) a Python number
tensor_operands = st.tuples(st.sampled_from(["dim", "zero"]), st.sampled_from(ALL_DTYPES))
operands = st.one_of(tensor_operands, st.tuples(st.just("scalar"), scalars))


def _operand(spec, seed):
    kind, value = spec
    if kind == "scalar":
        return value
    return Arg(_values(value, (3,) if kind == "dim" else (), seed), value)


def _pair(spec, seed):
    """The operand as (torch value, tritensor value)."""
    arg = _operand(spec, seed)
    if not isinstance(arg, Arg):
        return arg, arg
    data = np.asarray(arg.data)
    return (torch.tensor(data).to(TORCH_DTYPES[arg.dtype]),
            tritensor.tensor(data, dtype=TT_DTYPES[arg.dtype], device=DEVICE))


def _at_least_one_tensor(a, b):
    return a[0] != "scalar" or b[0] != "scalar"


def test_promote_types_and_can_cast_all_pairs():
    for a in ALL_DTYPES:
        for b in ALL_DTYPES:
            expected = torch.promote_types(TORCH_DTYPES[a], TORCH_DTYPES[b])
            assert str(tritensor.promote_types(TT_DTYPES[a], TT_DTYPES[b])) == str(expected), (a, b)
            assert tritensor.can_cast(TT_DTYPES[a], TT_DTYPES[b]) == torch.can_cast(
                TORCH_DTYPES[a], TORCH_DTYPES[b]), (a, b)


@SETTINGS
@given(operands, operands, st.integers(0, 2**16))
def test_result_type(a, b, seed):
    if not _at_least_one_tensor(a, b):
        return
    (ta, xa), (tb, xb) = _pair(a, seed), _pair(b, seed + 1)
    assert str(tritensor.result_type(xa, xb)) == str(torch.result_type(ta, tb))


@SETTINGS
@given(operands, operands, st.sampled_from(["add", "mul", "div"]), st.integers(0, 2**16))
def test_binary_dtype_and_values(a, b, op, seed):
    if not _at_least_one_tensor(a, b):
        return
    fn = {"add": lambda lib, x, y: x + y, "mul": lambda lib, x, y: x * y, "div": lambda lib, x, y: x / y}[op]
    check(fn, _operand(a, seed), _operand(b, seed + 1))


@SETTINGS
@given(st.sampled_from(ALL_DTYPES), scalars, st.sampled_from(["dim", "zero"]), st.integers(0, 2**16))
def test_scalar_on_either_side(dtype, scalar, kind, seed):
    x = _operand((kind, dtype), seed)
    check(lambda lib, t: (scalar + t, scalar * t, t * scalar, t + scalar, t / scalar if scalar else t,
                          t == scalar, t < scalar), x)


@SETTINGS
@given(st.sampled_from(ALL_DTYPES), st.sampled_from(FLOAT_DTYPES + INT_DTYPES), st.integers(0, 2**16))
def test_zero_dim_does_not_outrank_dimensioned(dtype, zero_dtype, seed):
    check(lambda lib, x, s: (x + s, s * x, lib.add(s, x), x / s if zero_dtype != "bool" else x),
          Arg(_values(dtype, (2, 3), seed), dtype), Arg(_values(zero_dtype, (), seed + 1), zero_dtype))


# ------------------------------------------------------------------ broadcasting and strides
LAYOUTS = ["contiguous", "permuted", "sliced"]
BROADCAST_DTYPES = ["float64", "float32", "int64", "int16", "bfloat16"]


def _layout(shape, layout, dtype, seed, requires_grad):
    """(Arg, view) where view(t) turns the stored tensor into ``shape`` with that layout."""
    ndim = len(shape)
    if layout == "permuted" and ndim >= 2:
        order = tuple(reversed(range(ndim)))
        stored = tuple(shape[i] for i in order)
        return Arg(_values(dtype, stored, seed), dtype, requires_grad), lambda t: t.permute(*order)
    if layout == "sliced" and ndim >= 1:
        stored = shape[:-1] + (2 * shape[-1],)
        return Arg(_values(dtype, stored, seed), dtype, requires_grad), lambda t: t[..., ::2]
    return Arg(_values(dtype, shape, seed), dtype, requires_grad), lambda t: t


def _memory_order(t):
    """The strides of the dims longer than 1: a size-1 dim's stride is arbitrary (torch's own
    fast paths leave it as they find it)."""
    return [s for s, n in zip(t.stride(), t.shape) if n > 1]


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=4),
       st.sampled_from(LAYOUTS), st.sampled_from(LAYOUTS),
       st.sampled_from(BROADCAST_DTYPES), st.integers(0, 2**16))
def test_broadcast_strided_add_mul(shapes, layout_a, layout_b, dtype, seed):
    grad = dtype == "float64"
    (a, view_a) = _layout(tuple(shapes.input_shapes[0]), layout_a, dtype, seed, grad)
    (b, view_b) = _layout(tuple(shapes.input_shapes[1]), layout_b, dtype, seed + 1, grad)
    orders = {}

    def ops(lib, x, y):
        out = (view_a(x) + view_b(y), view_a(x) * view_b(y) + view_a(x), view_b(y).neg(), view_b(y) - view_a(x))
        orders[lib] = [_memory_order(t) for t in out]
        return out
    check(ops, a, b)
    # the results follow the operands' memory order as torch's (ops/_layout.py); not for empty
    # results, whose operands' strides differ already (torch.tensor of an empty array takes
    # numpy's strides)
    if 0 not in shapes.result_shape:
        assert orders[tritensor] == orders[torch]


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3),
       st.sampled_from(LAYOUTS), st.integers(0, 2**16))
def test_broadcast_inplace(shapes, layout, seed):
    target = shapes.result_shape
    (a, view_a) = _layout(tuple(target), layout, "float32", seed, False)
    b = Arg(_values("float32", tuple(shapes.input_shapes[1]), seed + 1))

    def inplace(lib, x, y):
        z = view_a(x).clone()
        z.add_(y)
        z.mul_(y)
        return z
    check(inplace, a, b)


@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 2)), ((4,), (5,)), ((2, 1, 3), (2, 4))])
def test_broadcast_errors(sa, sb):
    check(lambda lib, x, y: x + y, Arg(np.ones(sa)), Arg(np.ones(sb)))


@st.composite
def _strided_operand(draw, shape):
    """(stored shape, view) for an operand of ``shape``: any dim order, maybe a step, maybe
    broadcast from size 1 in some dims."""
    ndim = len(shape)
    order = draw(st.permutations(range(ndim)))
    step = draw(st.sampled_from([1, 2]))
    ones = draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim))
    source = tuple(1 if one else s for one, s in zip(ones, shape))
    stored = tuple(source[i] for i in order)
    stored = stored[:-1] + (stored[-1] * step,) if ndim else stored
    inverse = tuple(order.index(i) for i in range(ndim))

    def view(t):
        if ndim:
            t = t[..., ::step]
        return t.permute(*inverse).expand(*shape)
    return stored, view


@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple), st.data())
def test_result_strides_follow_the_operands(shape, data):
    """Every elementwise result is laid out as torch's: ops/_layout.py's ordering of dims by the
    operands' strides, over permuted, stepped and broadcast operands of one to three tensors."""
    (sa, va), (sb, vb), (sc, vc) = (data.draw(_strided_operand(shape)) for _ in range(3))
    a, b, c = (Arg(_values("float32", s, i)) for i, s in enumerate((sa, sb, sc)))
    results = {}

    def ops(lib, x, y, z):
        out = (va(x).exp(), va(x) + vb(y), vb(y) * va(x), lib.where(vc(z) > 0, va(x), vb(y)),
               lib.addcmul(va(x), vb(y), vc(z)), va(x).to(lib.float64), vb(y) - 1.5)
        results[lib] = [_memory_order(t) for t in out]
        return out
    check(ops, a, b, c)
    assert results[tritensor] == results[torch]


_CAST_EDGES = [0.0, -0.0, 1.7, -1.7, 2.5, -2.5, 2.0 ** 31, -2.0 ** 31, 2.0 ** 31 - 128, -2.0 ** 31 - 256,
               3e9, -3e9, 1e20, -1e20, np.inf, -np.inf, np.nan, 255.9, 256.0, -129.5, 70000.2, 2.0 ** 63,
               -2.0 ** 63, 9.3e18]


@cpu_oracle_only  # out of range, torch's CUDA kernels convert otherwise
@pytest.mark.parametrize("source", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("target", ["int8", "uint8", "int16", "int32", "int64", "bool"])
def test_float_to_integer_casts_like_torch(source, target):
    """Truncation toward zero into int32 (int64 for int64), out of range and NaN giving the
    minimum, then the low bits, as torch's x86 kernels: the edge values, contiguous, strided
    and through ``copy_``."""
    values = np.array(_CAST_EDGES * 3, np.float64)
    if source in ("float16", "bfloat16"):  # beyond their range the values are inf already
        values = np.clip(values, -6e4, 6e4)
    check(lambda lib, t: (t.to(getattr(lib, target)), t[::3].to(getattr(lib, target)),
                          lib.zeros(t.shape, dtype=getattr(lib, target), device=t.device).copy_(t)),
          Arg(values.astype(np.float32 if source == "bfloat16" else source), source))
