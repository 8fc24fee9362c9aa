"""Indexing against torch: getitem/setitem (basic and advanced), the gather/scatter family,
masks, nonzero, take/put, flip/roll, diag/diag_embed, tril/triu: values, dtypes, 0-d /
empty / non-contiguous inputs, gradients, error types."""
import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, REAL_GPU, Arg, check, dev, gradcheck, ordered_writes_only

rng = np.random.default_rng(0)
DTYPES = ["float32", "float64", "int64", "bool", "bfloat16", "float16", "int32", "uint8"]


def data(*shape, dtype="float32"):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in ("int64", "int32", "int16", "int8", "uint8"):
        return rng.integers(-5, 6, shape).astype(dtype)
    return rng.standard_normal(shape).astype(np.float64 if dtype in ("bfloat16", "float16") else dtype)


def idx(values):
    return Arg(np.asarray(values, np.int64))


def mask(*shape):
    return Arg(rng.integers(0, 2, shape).astype(bool))


X = Arg(data(3, 4, 5))
XG = Arg(data(3, 4, 5, dtype="float64"), requires_grad=True)
XT = Arg(data(5, 4), transpose=True)  # (4, 5), non-contiguous
XTG = Arg(data(5, 4, dtype="float64"), requires_grad=True, transpose=True)


# ------------------------------------------------------------------ seed examples
def test_seed_examples():
    a = np.arange(12.0).reshape(3, 4)
    check(lambda lib, A: A[1:], Arg(a))

    def assign(lib, A):
        A = A.clone()
        A[-1, -1] = 100
        return A
    check(assign, Arg(a))
    check(lambda lib, A: lib.diag(A), Arg(a))
    check(lambda lib, A: lib.diag_embed(A), Arg(a))


# ------------------------------------------------------------------ basic getitem
@pytest.mark.parametrize("index", [
    0, -1, (1, 2), (1, 2, 3), slice(1, None), slice(None, None, 2), slice(-2, None), (slice(None), 1),
    (Ellipsis, 1), (None, 1), (1, None, slice(None), None), Ellipsis, (), slice(None),
    (Ellipsis, None), (0, Ellipsis, 0), slice(1, 100, 3), slice(5, 1),
])
def test_basic_getitem(index):
    check(lambda lib, x: x[index], X, check_stride=True)
    check(lambda lib, x: x[index], XG)


@pytest.mark.parametrize("index", [range(2), range(3, 0, -2), (range(3), 1), (slice(None), range(1, 3)),
                                   range(0), [range(2), 1]])
def test_range_index_is_a_sequence_of_ints(index):
    """A ``range`` indexes as the int64 tensor of its values (torch treats it as a sequence);
    the written form too (``x[range(n), labels] = v``, pytorch/examples' forward-forward)."""
    check(lambda lib, x: x[index], X)
    check(lambda lib, x: x[index], XG)

    def write(lib, x):
        x = x.clone()
        x[index] = -1.0
        return x
    check(write, X)


def test_basic_getitem_noncontiguous_and_scalars():
    check(lambda lib, x: (x[1], x[:, ::2], x[-1, 1:3], x[..., 0]), XT, check_stride=True)
    check(lambda lib, x: (x[...], x[None], x[None, ..., None]), Arg(np.float32(3.0)))
    check(lambda lib, x: x[lib.tensor(2)], X)  # a 0-d integer tensor acts like an int


@pytest.mark.parametrize("index", [3, -4, (0, 5), (0, 0, 0, 0), (Ellipsis, Ellipsis)])
def test_basic_getitem_errors(index):
    check(lambda lib, x: x[index], X)


def test_getitem_zero_dim_errors():
    check(lambda lib, x: x[0], Arg(np.float32(3.0)))
    check(lambda lib, x: x[::-1], X)


# ------------------------------------------------------------------ advanced getitem
ADVANCED = [
    lambda lib, x: x[[0, 2]],
    lambda lib, x: x[[0, 2], [1, 3]],
    lambda lib, x: x[[[0], [2]], [1, 3]],
    lambda lib, x: x[:, [0, -1]],
    lambda lib, x: x[:, [0, 1], [1, 4]],          # adjacent: stays in place
    lambda lib, x: x[[0, 1], :, [1, 4]],          # separated by a slice: goes first
    lambda lib, x: x[..., [0, 2]],
    lambda lib, x: x[1, :, [0, 2]],               # int applied first (a view), then the index
    lambda lib, x: x[None, [1], :, 0],
    lambda lib, x: x[lib.tensor([2, 0, 2])],
    lambda lib, x: x[lib.tensor([[1, 0], [2, 2]], dtype=lib.int32)],
    lambda lib, x: x[[]],
    lambda lib, x: x[lib.tensor([], dtype=lib.int64)],
    lambda lib, x: x[[True, False, True]],
    lambda lib, x: x[True],
    lambda lib, x: x[False],
    lambda lib, x: x[lib.tensor(True)],
    lambda lib, x: x[[1], True],
    lambda lib, x: x[[0, [1]]],                   # a list holding a list is a tuple
    lambda lib, x: x[[[0, 1]]],
    lambda lib, x: x[np.array([0, 2])],
    lambda lib, x: x[x > 0],
    lambda lib, x: x[x[:, :, 0] > 0],
    lambda lib, x: x[:, x[0, :, 0] > 0, 1:],
    lambda lib, x: x[1][x[0] > 0],
    lambda lib, x: x[1:, [0, 0, 3], ::2],
]


@pytest.mark.parametrize("fn", ADVANCED)
def test_advanced_getitem(fn):
    check(fn, X)
    check(fn, XG)


@pytest.mark.parametrize("dtype", DTYPES)
def test_advanced_getitem_dtypes(dtype):
    x = Arg(data(4, 3, dtype=dtype), dtype)
    check(lambda lib, t: (t[[0, 3, 3]], t[:, [2, 0]], t[t != 0], t[[1, 2], [0, 2]]), x)


def test_advanced_getitem_noncontiguous():
    check(lambda lib, x: (x[[3, 0]], x[:, [4, 0, 1]], x[x > 0], x[[1, 2], [0, 3]]), XT)
    check(lambda lib, x: (x[[3, 0]], x[:, [4, 0, 1]], x[x > 0]), XTG)
    idx_t = Arg(np.array([[0, 1, 2], [2, 1, 0]]), transpose=True)
    check(lambda lib, x, i: x[i], X, idx_t)


def test_advanced_getitem_empty_and_scalar():
    check(lambda lib, x: (x[[0]], x[x > 0], x[True], x[lib.tensor(False)]), Arg(np.float32(2.0)))
    check(lambda lib, x: (x[[0, 1]], x[:, []], x[x > 0]), Arg(np.zeros((2, 0, 3), np.float32)))


@pytest.mark.parametrize("fn", [
    lambda lib, x: x[[0, 3]],
    lambda lib, x: x[:, [-5]],
    lambda lib, x: x[[0, 1], [0, 1, 2]],
    lambda lib, x: x[lib.tensor([1.0])],
    lambda lib, x: x[[True, False]],
    lambda lib, x: x[x[:, :2] > 0],
    lambda lib, x: x[[0], [0], [0], [0]],
    lambda lib, x: x[lib.tensor([0, 1], dtype=lib.int16)],
])
def test_advanced_getitem_errors(fn):
    check(fn, X)


def test_getitem_gradcheck():
    gradcheck(lambda lib, x: x[[0, 2, 0], 1:, [1, 0, 1]], data(3, 4, 2, dtype="float64"))
    gradcheck(lambda lib, x: x[lib.tensor([[True, False], [True, True]])], data(2, 2, 3, dtype="float64"))


# ------------------------------------------------------------------ setitem
def _set(index, value):
    def fn(lib, x, *rest):
        y = x.clone()
        v = value(lib, y, *rest) if callable(value) else value
        y[index(lib, y) if callable(index) else index] = v
        return y
    return fn


SETITEMS = [
    _set((-1, -1), 100),
    _set(0, 5.5),
    _set((slice(None), 1), -1),
    _set(Ellipsis, 2),
    _set(slice(None), 2),
    _set((slice(None), slice(None, None, 2)), 7),
    _set(lambda lib, y: y > 0, 0),
    _set(lambda lib, y: lib.tensor([0, 2]), 3),
    _set(lambda lib, y: (lib.tensor([0, 2]), lib.tensor([1, 1])), -3),
    _set([0, 2], 1),
    _set(([0, 0, 1], slice(None), [4, 4, 0]), 9),
    _set(True, 1),
    _set(lambda lib, y: lib.tensor(True), 4),
    _set(lambda lib, y: lib.tensor(1), 4),
    _set((0, [1, 2]), 8),
]


@pytest.mark.parametrize("fn", SETITEMS)
def test_setitem_scalar(fn):
    check(fn, X)


@pytest.mark.parametrize("fn", SETITEMS)
def test_setitem_scalar_grad(fn):
    check(fn, XG)


TENSOR_SETITEMS = [
    (0, (4, 5)), ((0, 1), (5,)), ((slice(None), 1), (3, 1)), (Ellipsis, (5,)), ((0,), (1, 1, 4, 5)),
    ([0, 2], (2, 4, 5)), ([0, 2], (5,)), (([0, 1], [2, 2]), (2, 5)), (([0, 1], slice(None), [2, 2]), (2, 4)),
    ((0, [1, 2]), (1, 1, 5)), ([2, 0], (1, 4, 5)),
]


@pytest.mark.parametrize("index,shape", TENSOR_SETITEMS)
def test_setitem_tensor_with_grads(index, shape):
    def fn(lib, x, v):
        y = x * 1
        y[index] = v
        return y
    check(fn, XG, Arg(data(*shape, dtype="float64"), requires_grad=True))
    check(fn, X, Arg(data(*shape)))


def test_setitem_mask_tensor_value():
    def fn(lib, x, v):
        y = x * 1
        m = y > 0
        y[m] = v[: int(m.sum())]
        return y
    check(fn, XG, Arg(data(60, dtype="float64"), requires_grad=True))

    def scalar_tensor(lib, x, v):
        y = x * 1
        y[y > 0] = v
        return y
    check(scalar_tensor, XG, Arg(np.float64(0.5), requires_grad=True))
    check(scalar_tensor, X, Arg(np.int64(3)))  # a single mask casts the value


@ordered_writes_only
def test_setitem_duplicate_indices_last_wins():
    check(_set(lambda lib, y: lib.tensor([1, 1, 1]), lambda lib, y: lib.tensor([[1.0], [2.0], [3.0]])),
          Arg(data(3, 2)))


@pytest.mark.parametrize("dtype", DTYPES + ["int16", "int8"])
def test_setitem_dtypes(dtype):
    x = Arg(data(4, 3, dtype=dtype), dtype)
    check(_set(lambda lib, y: y != 0, 1), x)
    check(_set(([0, 1], [2, 2]), 0), x)
    check(_set((1, slice(None)), 1), x)
    check(_set(lambda lib, y: [3, 0], lambda lib, y: y[:2].clone()), x)


def test_setitem_casts_scalars_like_torch():
    check(_set(0, 2.7), Arg(data(3, dtype="int64")))
    check(_set([0], 2.7), Arg(data(3, dtype="int64")))
    check(_set(lambda lib, y: y != 0, 2.5), Arg(data(3, dtype="bool")))


def test_setitem_noncontiguous():
    check(_set((slice(None), [0, 3]), -1.0), XT)
    check(_set(lambda lib, y: y > 0, 0.0), XT)
    check(_set(1, 5.0), XT)


@pytest.mark.parametrize("fn", [
    _set([0, 5], 1),
    _set((0, 9), 1),
    _set(lambda lib, y: [0, 1], lambda lib, y: lib.ones(3, 4, 5, dtype=lib.float64)),
    _set(lambda lib, y: [0, 1], lambda lib, y: lib.ones(3, 4, 5)),
    _set(0, lambda lib, y: lib.ones(2, 4, 5)),
    _set(0, lambda lib, y: lib.ones(4, 4)),
    _set(0, [1.0, 2.0]),
    _set(lambda lib, y: [0, 1], lambda lib, y: lib.ones(2, 1, 1, dtype=lib.int64)),
])
def test_setitem_errors(fn):
    check(fn, X)


def test_setitem_leaf_requires_grad_errors():
    def fn(lib, x):
        x[0] = 1.0
    check(fn, XG)

    def adv(lib, x):
        x[[0]] = 1.0
    check(adv, XG)


def test_setitem_version_counter_and_alias():
    x = tritensor.zeros(3, 4, device=DEVICE)
    v = x[1]
    before = x._version
    x[[0, 2]] = 1.0
    x[x > 0] = 2.0
    assert x._version == before + 2
    v[0] = 5.0
    assert x[1, 0].item() == 5.0
    y = tritensor.zeros(4, device=DEVICE)
    y[[1]] = tritensor.tensor([3.0], device=DEVICE)
    assert y.tolist() == [0.0, 3.0, 0.0, 0.0]


def test_setitem_gradcheck():
    def fn(lib, x, v):
        y = x * 1
        y[[0, 2], 1:] = v
        return y
    gradcheck(fn, data(3, 3, dtype="float64"), data(2, 2, dtype="float64"))


# ------------------------------------------------------------------ gather / scatter
GATHER_INDEX = np.array([[0, 2, 1], [1, 1, 0], [2, 0, 0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_dtypes(dtype):
    x = Arg(data(3, 4, dtype=dtype), dtype)
    check(lambda lib, t, i: (t.gather(0, i), lib.gather(t, 1, i), t.gather(-1, i[:2, :2])), x,
          idx(GATHER_INDEX))
    # index and input alike in the other dims, contiguous: the (outer, n, inner) loop, along
    # a middle dim (inner runs of 4) with more picks than the dim holds, and along the last
    picks = np.random.default_rng(2).integers(0, 3, (2, 5, 4))
    def middle_and_last(lib, t, i):
        last = t.transpose(1, 2).contiguous().gather(2, i.transpose(1, 2).contiguous())
        return t.gather(1, i), last
    check(middle_and_last, Arg(data(2, 3, 4, dtype=dtype), dtype), idx(picks))


def test_gather_grad_shapes_and_int32():
    check(lambda lib, t, i: t.gather(1, i), Arg(data(3, 4, dtype="float64"), requires_grad=True),
          idx(GATHER_INDEX))
    xtg = Arg(data(4, 3, dtype="float64"), requires_grad=True, transpose=True)
    check(lambda lib, t, i: t.gather(0, i), xtg, idx(GATHER_INDEX))
    check(lambda lib, t, i: t.gather(1, i), XT, Arg(GATHER_INDEX, transpose=True))
    check(lambda lib, t, i: t.gather(1, i), Arg(data(3, 4)), Arg(GATHER_INDEX.astype(np.int32), "int32"))
    check(lambda lib, t, i: t.gather(0, i), Arg(np.float32(3.0)), idx(0))
    check(lambda lib, t, i: t.gather(1, i), Arg(data(3, 4)), idx(np.zeros((3, 0), np.int64)))
    gradcheck(lambda lib, t: t.gather(1, lib.tensor(GATHER_INDEX, device=t.device)),
              data(3, 4, dtype="float64"))


@pytest.mark.parametrize("index", [[[0, 4]], [[-1, 0]], [[0.0]], [0, 1], [[0, 1, 2, 3, 0]] * 4])
def test_gather_errors(index):
    i = np.asarray(index)
    check(lambda lib, t, i: t.gather(1, i), Arg(data(3, 4)), Arg(i, "int64" if i.dtype.kind == "i" else None))


def test_gather_error_message():
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 3"):
        tritensor.zeros(3, device=DEVICE).gather(0, tritensor.tensor([5], device=DEVICE)).tolist()


def _index_calls(lib, x, bad):
    return {"gather": lambda: x.gather(0, bad),
            "index_select": lambda: x.index_select(0, bad[0]),
            "scatter_add": lambda: x.clone().scatter_add(0, bad, lib.ones(1, 4, device=x.device)),
            "index_add": lambda: x.clone().index_add(0, bad[0], lib.ones(4, 4, device=x.device)),
            "embedding": lambda: lib.nn.functional.embedding(bad, x),
            "getitem": lambda: x[bad[0]],
            "getitem of two index tensors": lambda: x[bad[0], lib.zeros(4, dtype=lib.int64, device=x.device)],
            "setitem": lambda: _assigned(x.clone(), bad[0], lib.ones(4, 4, device=x.device))}


def _assigned(t, index, value):
    t[index] = value
    return t


@pytest.mark.parametrize("op", ["gather", "index_select", "scatter_add", "index_add", "embedding", "getitem",
                                "getitem of two index tensors", "setitem"])
def test_out_of_range_indices_touch_nothing(op):
    """An out-of-range index raises torch's error; on 'cuda' at the next call that waits for
    the device (as torch's CUDA build reports its device-side assert), the op's kernel having
    read and written nothing outside the tensor for it (a gathered element is 0; with several
    index tensors, the element at the index modulo the dim), and the first error of several
    is the one raised. The device goes on working."""
    with pytest.raises(Exception) as torch_error:
        _index_calls(torch, torch.arange(12.0).reshape(3, 4), torch.tensor([[1, 7, 0, 2]]))[op]()
    expected = type(torch_error.value)
    x = tritensor.arange(12.0, device=DEVICE).reshape(3, 4)
    call = _index_calls(tritensor, x, tritensor.tensor([[1, 7, 0, 2]], device=DEVICE))[op]
    if DEVICE == "cpu":
        with pytest.raises(expected, match=str(torch_error.value)):
            call()
        return
    out = call()
    second = x.gather(0, tritensor.tensor([[-9, 0, 0, 0]], device=DEVICE))  # another error, later
    with pytest.raises(expected, match=str(torch_error.value)):
        tritensor.cuda.synchronize()
    values = out.cpu().numpy()  # reported once: reading works
    rows = {"gather": [[4, 0, 2, 11]],
            "index_select": [[4, 5, 6, 7], [0] * 4, [0, 1, 2, 3], [8, 9, 10, 11]],
            "scatter_add": [[0, 1, 3, 3], [5, 5, 6, 7], [8, 9, 10, 12]],
            "index_add": [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]],
            "getitem": [[4, 5, 6, 7], [0] * 4, [0, 1, 2, 3], [8, 9, 10, 11]],
            # several index tensors become element offsets, each index modulo its dim: 7 -> row 1
            "getitem of two index tensors": [4, 4, 0, 8],
            "setitem": [[1] * 4] * 3}
    embedded = [[[4, 5, 6, 7], [0] * 4, [0, 1, 2, 3], [8, 9, 10, 11]]]
    np.testing.assert_array_equal(values, rows.get(op, embedded))
    assert second.cpu().numpy().tolist() == [[0.0, 1.0, 2.0, 3.0]]  # its error was dropped: the first wins


SCATTER_INDEX = np.array([[0, 1, 2], [2, 0, 1]])
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int32", "int8", "bool"])
def test_scatter_product_of_many_repeated_indices(dtype):
    """Hundreds of source elements multiplied into a few targets, most in one block: on 'cuda'
    every lane retries its compare-and-swap until no other lane overtook it, so none is lost."""
    local = np.random.default_rng(11)
    n = 300
    if dtype == "bool":
        src = local.random(n) < 0.99
    elif dtype.startswith("int"):
        src = local.choice([1, -1, 1, 1, 2], n).astype(dtype)  # products stay within int8
        src[src == 2] = np.where(np.arange((src == 2).sum()) < 3, 2, 1)
    else:
        src = 1 + local.uniform(-0.05, 0.05, n)
    targets = np.where(local.random(n) < 0.8, 0, local.integers(1, 4, n))
    check(lambda lib, t, i, s: (t.scatter_reduce(0, i, s, "prod"), t.scatter_reduce(0, i, s, "prod",
                                                                                     include_self=False),
                                t.scatter(0, i, s, reduce="multiply") if dtype != "bool" else t),
          Arg(np.ones(5, dtype=bool) if dtype == "bool" else np.full(5, 1.5 if "float" in dtype else 1), dtype),
          idx(targets), Arg(src, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_dtypes(dtype):
    x = Arg(data(3, 4, dtype=dtype), dtype)
    src = Arg(data(2, 3, dtype=dtype), dtype)
    check(lambda lib, t, i, s: (t.scatter(0, i, s), t.scatter(1, i, s), t.scatter(0, i, 1),
                                lib.scatter(t, 1, i, value=0)), x, idx(SCATTER_INDEX), src)
    if dtype != "bool":
        check(lambda lib, t, i, s: (t.scatter_add(0, i, s), t.scatter(0, i, s, reduce="add"),
                                    t.scatter(1, i, 2, reduce="add")),
              x, idx(SCATTER_INDEX), src)


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_along_dims_alike(dtype):
    """index and src alike, and alike the input in the other dims, all contiguous: the
    (outer, n, inner) loop, along a middle dim (runs of 4) and the last, with repeated
    indices (the last write wins in index order, as torch's CPU kernel; additions add up)."""
    picks = np.random.default_rng(4).integers(0, 3, (2, 5, 4))
    def scatters(lib, t, i, s):
        last = t.transpose(1, 2).contiguous().scatter(2, i.transpose(1, 2).contiguous(),
                                                      s.transpose(1, 2).contiguous())
        results = [t.scatter(1, i, s), last]
        if t.dtype is not lib.bool:
            results += [t.scatter_add(1, i, s), t.scatter(1, i, s, reduce="add")]
        return results
    check(scatters, Arg(data(2, 3, 4, dtype=dtype), dtype), idx(picks),
          Arg(data(2, 5, 4, dtype=dtype), dtype))
    check(lambda lib, t, i, s: t.scatter_add(1, i, s),
          Arg(data(2, 3, 4, dtype="float64"), requires_grad=True), idx(picks),
          Arg(data(2, 5, 4, dtype="float64"), requires_grad=True))


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "bool"])
def test_scatter_multiply_dtypes(dtype):
    check(lambda lib, t, i, s: t.scatter(1, i, s, reduce="multiply"),
          Arg(data(3, 4, dtype=dtype), dtype), idx(SCATTER_INDEX), Arg(data(2, 3, dtype=dtype), dtype))


def test_scatter_duplicates_accumulate():
    i = idx([[0, 0, 0], [0, 0, 0]])
    check(lambda lib, t, i, s: (t.scatter_add(0, i, s), t.scatter_add(1, i, s)),
          Arg(data(3, 4)), i, Arg(data(2, 3)))
    check(lambda lib, t, i, s: t.scatter_add(0, i, s), Arg(data(3, 4, dtype="bfloat16"), "bfloat16"), i,
          Arg(data(2, 3, dtype="bfloat16"), "bfloat16"))


def test_scatter_grads():
    x = Arg(data(3, 4, dtype="float64"), requires_grad=True)
    src = Arg(data(2, 3, dtype="float64"), requires_grad=True)
    check(lambda lib, t, i, s: t.scatter(1, i, s), x, idx(SCATTER_INDEX), src)
    check(lambda lib, t, i: t.scatter(1, i, 2.0), x, idx(SCATTER_INDEX))
    check(lambda lib, t, i, s: t.scatter_add(0, i, s), x, idx(SCATTER_INDEX), src)
    check(lambda lib, t, i, s: (t * 1).scatter_(1, i, s), x, idx(SCATTER_INDEX), src)
    check(lambda lib, t, i, s: (t * 1).scatter_add_(1, i, s), x, idx(SCATTER_INDEX), src)
    gradcheck(lambda lib, t, s: t.scatter_add(1, lib.tensor(SCATTER_INDEX, device=t.device), s),
              data(3, 4, dtype="float64"), data(2, 3, dtype="float64"))


def test_scatter_inplace_and_noncontiguous():
    check(lambda lib, t, i, s: t.clone().scatter_(1, i, s), Arg(data(3, 4)), idx(SCATTER_INDEX),
          Arg(data(2, 3)))
    check(lambda lib, t, i, s: t.clone().scatter_add_(0, i, s), Arg(data(3, 4)), idx(SCATTER_INDEX),
          Arg(data(3, 2), transpose=True))
    check(lambda lib, t, i, s: t.t().clone().t().scatter_(1, i, s), Arg(data(4, 3)), idx(SCATTER_INDEX),
          Arg(data(2, 3)))
    check(lambda lib, t, i: t.scatter(0, i, 5.0), Arg(np.float32(1.0)), idx(0))

    def inplace_on_view(lib, t, i, s):
        y = t.clone()
        y.t().scatter_(0, i.t(), s.t())
        return y
    check(inplace_on_view, Arg(data(3, 4)), idx(SCATTER_INDEX), Arg(data(2, 3)))


@pytest.mark.parametrize("fn", [
    lambda lib, t, i, s: t.scatter(0, i * 5, s),
    lambda lib, t, i, s: t.scatter(0, -i - 1, s),
    lambda lib, t, i, s: t.scatter(0, i, s.double()),
    lambda lib, t, i, s: t.scatter(0, i.float(), s),
    lambda lib, t, i, s: t.scatter(0, i[0], s),
    lambda lib, t, i, s: t.scatter(0, i, s[:1]),
    lambda lib, t, i, s: t.scatter(0, i, s, reduce="max"),
    lambda lib, t, i, s: t.scatter_add(1, i * 9, s),
])
def test_scatter_errors(fn):
    check(fn, Arg(data(3, 4)), idx(SCATTER_INDEX), Arg(data(2, 3)))


def test_scatter_reduce_backward_not_implemented():
    x = tritensor.zeros(3, 4, requires_grad=True, device=DEVICE)
    y = x.scatter(0, tritensor.tensor([[0]], device=DEVICE), 2.0, reduce="add")
    assert type(y.grad_fn).__name__ == type(torch.zeros(3, 4, requires_grad=True).scatter(
        0, torch.tensor([[0]]), 2.0, reduce="add").grad_fn).__name__
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_max_dim_backward_uses_scatter():
    check(lambda lib, t: t.max(1).values, Arg(data(3, 4, dtype="float64"), requires_grad=True))


# ------------------------------------------------------------------ index_select / index_add / copy / fill
@pytest.mark.parametrize("dtype", DTYPES)
def test_index_select_dtypes(dtype):
    x = Arg(data(3, 4, dtype=dtype), dtype)
    check(lambda lib, t, i: (t.index_select(0, i), lib.index_select(t, 1, i), t.index_select(-1, i[:1])),
          x, idx([2, 0, 2]))


def test_index_select_cases():
    xg = Arg(data(3, 4, dtype="float64"), requires_grad=True)
    check(lambda lib, t, i: (t.index_select(0, i), t.index_select(1, i)), xg, idx([2, 0, 2]))
    check(lambda lib, t, i: t.index_select(1, i), XT, idx([4, 0]))
    check(lambda lib, t, i: t.index_select(1, i), XTG, idx([4, 0, 0]))
    check(lambda lib, t, i: t.index_select(0, i), X, idx(1))
    check(lambda lib, t, i: t.index_select(0, i), X, Arg(np.array([2, 0], np.int32), "int32"))
    check(lambda lib, t, i: t.index_select(0, i), X, idx(np.zeros(0, np.int64)))
    check(lambda lib, t, i: t.index_select(0, i), Arg(np.float32(2.0)), idx([0]))
    check(lambda lib, t, i: t.index_select(0, i), X, idx([3]))
    check(lambda lib, t, i: t.index_select(0, i), X, idx([-1]))
    check(lambda lib, t, i: t.index_select(0, i), X, idx([[0]]))
    check(lambda lib, t, i: t.index_select(0, i.float()), X, idx([0]))
    gradcheck(lambda lib, t: t.index_select(1, lib.tensor([1, 1, 0], device=t.device)),
              data(2, 3, dtype="float64"))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bfloat16"])
def test_index_add_copy_fill_dtypes(dtype):
    x = Arg(data(3, 4, dtype=dtype), dtype)
    s = Arg(data(3, 2, dtype=dtype), dtype)
    check(lambda lib, t, i, s: (t.index_add(1, i, s), t.index_add(1, i, s, alpha=2), t.index_copy(1, i, s),
                                t.index_fill(1, i, 3), t.index_fill(0, i[:1], -1)), x, idx([3, 1]), s)
    check(lambda lib, t, i, s: t.index_add(1, i, s), x, idx([1, 1]), s)
    check(lambda lib, t, i: t.index_fill(1, i, 3), x, idx([-1, 0]))


def test_index_add_copy_fill_grads():
    x = Arg(data(3, 4, dtype="float64"), requires_grad=True)
    s = Arg(data(3, 2, dtype="float64"), requires_grad=True)
    v = Arg(np.float64(1.5), requires_grad=True)
    i = idx([3, 1])
    check(lambda lib, t, i, s: t.index_add(1, i, s, alpha=3), x, i, s)
    check(lambda lib, t, i, s: t.index_copy(1, i, s), x, i, s)
    check(lambda lib, t, i: t.index_fill(1, i, 2.0), x, i)
    check(lambda lib, t, i, v: t.index_fill(1, i, v), x, i, v)
    check(lambda lib, t, i, s: (t * 1).index_add_(1, i, s), x, i, s)
    check(lambda lib, t, i, s: (t * 1).index_copy_(1, i, s), x, i, s)
    check(lambda lib, t, i: (t * 1).index_fill_(1, i, 0.0), x, i)
    check(lambda lib, t, i, s: t.index_add(0, i, s), Arg(np.float64(1.0), requires_grad=True), idx([0]),
          Arg(np.float64(2.0), requires_grad=True))
    gradcheck(lambda lib, t, s: t.index_add(0, lib.tensor([1, 1], device=t.device), s),
              data(3, 2, dtype="float64"), data(2, 2, dtype="float64"))


def test_index_add_copy_fill_inplace_noncontiguous():
    check(lambda lib, t, i, s: t.t().clone().t().index_add_(0, i, s), Arg(data(4, 3)), idx([2, 2]),
          Arg(data(2, 4)))
    check(lambda lib, t, i, s: t.clone().index_copy_(0, i, s), Arg(data(3, 4)), idx([2, 0]),
          Arg(data(4, 2), transpose=True))
    check(lambda lib, t, i: t.clone().index_fill_(1, i, 9), Arg(data(3, 4, dtype="int64")), idx([0, 2]))
    check(lambda lib, t, i: t.index_fill(0, i, 9), Arg(np.float32(1.0)), idx(0))


@pytest.mark.parametrize("fn", [
    lambda lib, t, i, s: t.index_add(1, i, s.double()),
    lambda lib, t, i, s: t.index_add(1, i * 3, s),
    lambda lib, t, i, s: t.index_add(1, i[None], s),
    lambda lib, t, i, s: t.index_add(0, i, s),
    lambda lib, t, i, s: t.index_add(1, i[:1], s),
    lambda lib, t, i, s: t.index_copy(1, i * 4, s),
    lambda lib, t, i, s: t.index_copy(1, -i, s),
    lambda lib, t, i, s: t.index_copy(1, i.int(), s),
    lambda lib, t, i, s: t.index_fill(1, i * 4, 1),
    lambda lib, t, i, s: t.index_fill(1, i.float(), 1),
    lambda lib, t, i, s: t.index_fill(1, i[None], 1),
    lambda lib, t, i, s: t.index_fill(1, i, lib.ones(2)),
])
def test_index_add_copy_fill_errors(fn):
    check(fn, Arg(data(3, 4)), idx([3, 1]), Arg(data(3, 2)))


# ------------------------------------------------------------------ masks
@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_fill_dtypes(dtype):
    x = Arg(data(3, 4, dtype=dtype), dtype)
    check(lambda lib, t, m: (t.masked_fill(m, 1), t.masked_fill(m, 0.5), lib.masked_fill(t, m[0], True),
                             t.masked_fill(m, lib.tensor(2))), x, mask(3, 4))


def test_masked_fill_cases():
    xg = Arg(data(3, 4, dtype="float64"), requires_grad=True)
    check(lambda lib, t, m: t.masked_fill(m, 2.0), xg, mask(3, 4))
    check(lambda lib, t, m, v: t.masked_fill(m, v), xg, mask(4), Arg(np.float64(3.0), requires_grad=True))
    check(lambda lib, t, m: t.masked_fill(m, 2.0), Arg(data(4, dtype="float64"), requires_grad=True),
          mask(3, 4))  # self broadcasts out of place
    check(lambda lib, t, m: (t * 1).masked_fill_(m, 2.0), xg, mask(3, 4))
    check(lambda lib, t, m: t.clone().masked_fill_(m, -1.0), XT, mask(5))
    mt = Arg(rng.integers(0, 2, (5, 4)).astype(bool), transpose=True)
    check(lambda lib, t, m: t.masked_fill(m, 1.0), XT, mt)
    check(lambda lib, t, m: t.masked_fill(m, 1.0), Arg(np.float32(2.0)), Arg(np.bool_(True)))
    check(lambda lib, t, m: t.masked_fill(m, 1.0), Arg(np.zeros((0, 3), np.float32)), mask(0, 3))
    gradcheck(lambda lib, t: t.masked_fill(t > 0, 0.0), data(3, 3, dtype="float64"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_fill_with_masks_broadcast_over_a_batch(dtype):
    """Attention's layouts: a (4, 5) causal mask over a (3, 4, 5) batch (expanded: read as
    its block), a per-row (3, 4, 1) mask, a per-column one, in place on a transposed copy."""
    floating = dtype in ("float32", "float64", "bfloat16", "float16")
    value = -np.inf if floating else True if dtype == "bool" else 7
    causal = Arg(np.triu(np.ones((4, 5), bool), 1))
    rows = Arg(rng.integers(0, 2, (3, 4, 1)).astype(bool))
    check(lambda lib, t, m, r: (t.masked_fill(m, value), t.masked_fill(r, value), t.masked_fill(m[0], value),
                                t.clone().masked_fill_(m, value),
                                t.clone().transpose(1, 2).masked_fill_(m.t(), value),
                                t.masked_fill(m.expand(3, 4, 5), value), t.masked_fill(m[:, None], value)[1]),
          Arg(data(3, 4, 5, dtype=dtype), dtype), causal, rows)
    if dtype == "int64":  # a value no float holds exactly
        check(lambda lib, t, m: t.masked_fill(m, 2 ** 62 + 1), Arg(data(3, 4, 5, dtype=dtype), dtype), causal)


@pytest.mark.parametrize("fn", [
    lambda lib, t, m: t.masked_fill(m.long(), 1.0),
    lambda lib, t, m: t.masked_fill(m, lib.ones(2)),
    lambda lib, t, m: t.masked_fill(m[:, :3], 1.0),
    lambda lib, t, m: t[0].clone().masked_fill_(m, 1.0),
    lambda lib, t, m: t.masked_select(m.long()),
    lambda lib, t, m: t.masked_scatter(m, lib.ones(1)),
    lambda lib, t, m: t.masked_scatter(m, lib.ones(12).double()),
    lambda lib, t, m: t.masked_scatter(m.to(lib.uint8), lib.ones(12)),
])
def test_mask_errors(fn):
    check(fn, Arg(data(3, 4)), Arg(np.ones((3, 4), bool)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_select_scatter_dtypes(dtype):
    x = Arg(data(3, 4, dtype=dtype), dtype)
    check(lambda lib, t, m, s: (t.masked_select(m), lib.masked_select(t, m[1]), t.masked_scatter(m, s),
                                t.clone().masked_scatter_(m[0], s)),
          x, mask(3, 4), Arg(data(14, dtype=dtype), dtype))


def test_masked_select_scatter_grads():
    xg = Arg(data(3, 4, dtype="float64"), requires_grad=True)
    src = Arg(data(4, 4, dtype="float64"), requires_grad=True)
    check(lambda lib, t, m: t.masked_select(m), xg, mask(3, 4))
    check(lambda lib, t, m: t.masked_select(m), Arg(data(4, dtype="float64"), requires_grad=True), mask(3, 4))
    check(lambda lib, t, m, s: t.masked_scatter(m, s), xg, mask(3, 4), src)
    check(lambda lib, t, m, s: (t * 1).masked_scatter_(m, s), xg, mask(4), src)
    mt = Arg(rng.integers(0, 2, (5, 4)).astype(bool), transpose=True)
    check(lambda lib, t, m: t.masked_select(m), XT, mt)
    check(lambda lib, t, m: t.masked_select(m), Arg(np.float32(2.0)), Arg(np.bool_(True)))
    gradcheck(lambda lib, t: t.masked_select(t > 0), data(3, 3, dtype="float64"))


# ------------------------------------------------------------------ nonzero / argwhere / where
@pytest.mark.parametrize("dtype", DTYPES + ["int8"])
def test_nonzero_dtypes(dtype):
    x = Arg(data(3, 4, dtype=dtype), dtype)
    check(lambda lib, t: (t.nonzero(), lib.nonzero(t, as_tuple=True), lib.argwhere(t), lib.where(t)), x)


def test_nonzero_shapes():
    for a in [np.float32(0.0), np.float32(2.0), np.zeros((2, 0)), np.zeros(5), np.array([-0.0, 1.0, 0.0]),
              data(2, 3, 4)]:
        check(lambda lib, t: (t.nonzero(), t.nonzero(as_tuple=True), t.argwhere()), Arg(np.asarray(a)))
    check(lambda lib, t: (t.nonzero(), t.nonzero(as_tuple=True)), XT)


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_select_and_add_by_whole_rows(dtype):
    """Runs of 8 or more back-to-back elements (the trailing dims) move as rows on the CPU:
    index_select/x[rows]/index_add along dims 0 and 1 with repeated indices (negative ones for x[rows]),
    against torch, for every dtype (16-bit floats and bools take the walk); a transposed
    input takes the walk too. Large enough for the CPU to split rows, and index_add's
    columns, across threads."""
    x = Arg(data(6, 5, 16, dtype=dtype), dtype)
    rows = idx([0, 3, 3, -1, 5, 0])
    assert check(lambda lib, t, i: (t.index_select(0, i % 6), t.index_select(1, i[:4] % 5), t[i],
                                    t[:, i[:3] % 5], t.transpose(1, 2).index_select(0, i % 6)),
                 x, rows) is not None
    if dtype != "bool":
        assert check(lambda lib, t, i, s: (t.index_add(0, i % 6, s), t.index_add(1, i[:4] % 5, s[:, :4]),
                                           t.clone().index_add_(0, i % 6, s, alpha=2)),
                     x, rows, Arg(data(6, 5, 16, dtype=dtype), dtype)) is not None
    if dtype != "float32":
        return
    big = Arg(data(700, 1024, dtype="float32"))
    many = idx(rng.integers(-700, 700, 900))
    assert check(lambda lib, t, i: (t.index_select(0, i % 700), t[i],
                                    lib.zeros(700, 1024, device=t.device).index_add_(0, i % 700, t[i])),
                 big, many) is not None


def test_nonzero_where_the_nonzeros_sit():
    """The CPU kernel writes every position's index and counts the nonzero ones (a spare row
    takes the writes after the last): first, last, only, every and no position nonzero, a
    1-D, a 3-D and a transposed input; the result has exactly those rows."""
    cases = []
    for where in ([0], [-1], [0, -1], slice(None), []):
        a = np.zeros(24, np.float32)
        a[where] = 1.0
        cases += [a, a.reshape(2, 3, 4)]
    cases.append(rng.random((300, 7)) > 0.5)
    for a in cases:
        check(lambda lib, t: (t.nonzero(), t.T.nonzero() if t.dim() == 2 else t[0],
                              t.masked_select(t != 0)), Arg(a))


# ------------------------------------------------------------------ take / put
@pytest.mark.parametrize("dtype", DTYPES)
def test_take_put_dtypes(dtype):
    x = Arg(data(3, 4, dtype=dtype), dtype)
    s = Arg(data(2, 2, dtype=dtype), dtype)
    check(lambda lib, t, i, s: (t.take(i), lib.take(t, i[0]), t.put(i, s), t.clone().put_(i, s)), x,
          idx([[0, -1], [10, 5]]), s)
    if dtype != "bool":
        check(lambda lib, t, i, s: t.put(i, s, accumulate=True), x, idx([[0, 0], [11, 0]]), s)


def test_take_put_cases():
    xg = Arg(data(3, 4, dtype="float64"), requires_grad=True)
    sg = Arg(data(4, dtype="float64"), requires_grad=True)
    check(lambda lib, t, i: t.take(i), xg, idx([[0, 5], [5, -1]]))
    check(lambda lib, t, i: t.take(i), XTG, idx([0, 5, 19]))
    check(lambda lib, t, i: t.take(i), Arg(np.float32(3.0)), idx(0))
    check(lambda lib, t, i, s: t.put(i, s), xg, idx([1, 2, 3, 7]), sg)
    if not REAL_GPU:  # duplicates: the last write wins where writes are ordered (harness.REAL_GPU)
        check(lambda lib, t, i, s: t.put(i, s), xg, idx([1, 2, 2, 7]), sg)
    check(lambda lib, t, i, s: t.put(i, s, accumulate=True), xg, idx([1, 2, 2, 7]), sg)
    check(lambda lib, t, i, s: t.clone().put_(i, s), XT, idx([1, 2, 19, 7]), Arg(data(4)))
    check(lambda lib, t, i: t.take(i), X, idx([60]))
    check(lambda lib, t, i: t.take(i), X, idx([-61]))
    check(lambda lib, t, i: t.take(i.int()), X, idx([0]))
    check(lambda lib, t, i, s: t.put(i, s), X, idx([0, 1]), Arg(data(1)))
    check(lambda lib, t, i, s: t.put(i, s.double()), X, idx([0]), Arg(data(1)))
    gradcheck(lambda lib, t: t.take(lib.tensor([0, 3, 3], device=t.device)), data(2, 2, dtype="float64"))


# ------------------------------------------------------------------ flip / roll
@pytest.mark.parametrize("dtype", DTYPES)
def test_flip_roll_dtypes(dtype):
    x = Arg(data(3, 4, 2, dtype=dtype), dtype)
    check(lambda lib, t: (t.flip(0), lib.flip(t, (0, 2)), t.flip([-1]), lib.fliplr(t), lib.flipud(t),
                          t.roll(1), t.roll(-2, 1), lib.roll(t, (1, 5), (0, 2)), t.roll(7, -2)), x)


def test_flip_roll_cases():
    check(lambda lib, t: (t.flip(0, 1), t.flip(dims=(1,)), t.roll((1, 1), (0, 1)), t.roll(3)), XT)
    check(lambda lib, t: (t.flip(0), t.flip(1, 0), t.roll(2, 1), t.roll(-1), t.fliplr()), XTG)
    check(lambda lib, t: (t.flip(0), t.roll(1), t.roll(0, 0)), Arg(np.float32(2.0)))
    check(lambda lib, t: (t.flip(0), t.roll(1, 0), t.roll(1)), Arg(np.zeros((0, 3), np.float32)))
    check(lambda lib, t: t.flip(0, 0), X)
    check(lambda lib, t: t.flip(3), X)
    check(lambda lib, t: t.roll((1, 2), 0), X)
    check(lambda lib, t: t.fliplr(), Arg(data(3)))
    check(lambda lib, t: t.flipud(), Arg(np.float32(1.0)))
    gradcheck(lambda lib, t: t.roll((1, -1), (0, 1)).flip(1), data(3, 2, dtype="float64"))


def test_cumsum_backward_uses_flip():
    check(lambda lib, t: t.cumsum(1), Arg(data(3, 4, dtype="float64"), requires_grad=True))


# ------------------------------------------------------------------ diag / diag_embed / tril / triu
@pytest.mark.parametrize("dtype", DTYPES)
def test_diag_dtypes(dtype):
    v = Arg(data(3, dtype=dtype), dtype)
    m = Arg(data(3, 4, dtype=dtype), dtype)
    check(lambda lib, t: (lib.diag(t), t.diag(1), lib.diag(t, -2), lib.diag_embed(t), t.diag_embed(2)), v)
    check(lambda lib, t: (lib.diag(t), t.diag(1), lib.diag(t, -2), lib.diag(t, 9), lib.diag_embed(t),
                          lib.diag_embed(t, -1, 0, 2), lib.diag_embed(t, 1, 2, 0)), m)


def test_diag_cases():
    check(lambda lib, t: (lib.diag(t), lib.diag(t, 1)), XTG)
    check(lambda lib, t: (lib.diag(t), lib.diag(t, -1), lib.diag_embed(t, 1)), Arg(data(4, dtype="float64"),
                                                                                     requires_grad=True))
    check(lambda lib, t: (lib.diag_embed(t), lib.diag_embed(t, -1, -1, 0)), XG)
    check(lambda lib, t: lib.diag(t), X)
    check(lambda lib, t: lib.diag_embed(t, 0, 0, 0), X)
    check(lambda lib, t: lib.diag(t), Arg(np.zeros(0, np.float32)))
    gradcheck(lambda lib, t: lib.diag(t, 1), data(3, 3, dtype="float64"))
    gradcheck(lambda lib, t: lib.diag_embed(t, -1), data(2, 3, dtype="float64"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [0, 1, -1, 5, -5])
def test_tril_triu(dtype, k):
    x = Arg(data(2, 3, 4, dtype=dtype), dtype)
    check(lambda lib, t: (t.tril(k), lib.triu(t, k), t.clone().tril_(k), t.clone().triu_(diagonal=k)), x)


def test_tril_triu_cases():
    check(lambda lib, t: (t.tril(), t.triu(1), (t * 1).tril_(-1), (t * 1).triu_()), XTG)
    check(lambda lib, t: (t.tril(), t.triu(1)), XT)
    check(lambda lib, t: t.tril(), Arg(np.zeros((3, 0), np.float32)))
    check(lambda lib, t: t.tril(), Arg(data(3)))
    check(lambda lib, t: t.triu(), Arg(np.float32(1.0)))
    gradcheck(lambda lib, t: t.triu(-1), data(3, 4, dtype="float64"))


# ------------------------------------------------------------------ index_put
def test_index_put():
    xg = Arg(data(3, 4, dtype="float64"), requires_grad=True)
    vg = Arg(data(2, dtype="float64"), requires_grad=True)
    i0, i1 = idx([0, 2]), idx([1, 1])
    check(lambda lib, t, a, b, v: t.index_put((a, b), v), xg, i0, i1, vg)
    check(lambda lib, t, a, b, v: t.index_put((a, b), v, accumulate=True), xg, i0, i0, vg)
    check(lambda lib, t, a, v: t.index_put((None, a), v[:1]), xg, i0, vg)  # TypeError in both
    check(lambda lib, t, a, b, v: (t * 1).index_put_((a, b), v, True), xg, i1, i1, vg)
    check(lambda lib, t, a, b, v: t.clone().index_put_((a, b), v, True),
          Arg(data(3, 4, dtype="bfloat16"), "bfloat16"), i1, i1, Arg(data(2, dtype="bfloat16"), "bfloat16"))
    check(lambda lib, t, a, b, v: t.index_put((a, b), v.float()), xg, i0, i1, vg)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8"])
def test_index_put_of_whole_rows(dtype):
    """One 1-D index (negatives too) in place of its dim, runs of 16: whole rows copied or
    added (put_rows); values broadcast along the picks, along a run, or given whole; repeated
    indices only with accumulate (which write wins is unspecified in torch)."""
    rows, columns = idx(np.array([3, -1, 0, 5])), idx(np.array([2, -1, 0]))
    repeated = idx(np.array([3, 1, 3, -6, 0, 3]))
    def puts(lib, t, rows, columns, repeated, v):
        beside = t.clone()
        beside[:, columns] = v[:, :3]  # the index after a sliced dim: six outer slices
        return (t.clone().index_put_((rows,), v[0, 0]), beside,
                t.clone().index_put_((rows,), v[:4, :1]),
                t.clone().index_put_((repeated,), v[:6], accumulate=True),
                t.clone().index_copy_(0, rows % 6, v[:4]))
    values = Arg(data(6, 4, 16, dtype=dtype), dtype)
    results = check(puts, Arg(data(6, 4, 16, dtype=dtype), dtype), rows, columns, repeated, values)
    assert results is not None  # computed, not an error raised by both


# ------------------------------------------------------------------ threaded launches, double backward
def test_large_inputs_use_parallel_chunks():
    big = Arg(data(300, 400, dtype="float64"), requires_grad=True)
    i = idx(rng.integers(0, 300, (300, 400)))
    check(lambda lib, t, i: (t.gather(0, i), t.flip(0, 1), t.tril(3), t[t > 0], t.masked_fill(t > 0, 0.0),
                             t[i[:, :2], 3], t.index_select(1, i[0]), t.take(i)), big, i)
    check(lambda lib, t, i: t.clone().scatter_add_(0, i, t), Arg(data(300, 400)), i)


def test_double_backward():
    a, i = data(3, 4, dtype="float64"), np.array([[0, 2, 1, 0], [1, 1, 0, 2]])
    results = []
    for lib in (torch, tritensor):
        x = lib.tensor(a, requires_grad=True, device=dev(lib))
        y = (x.gather(0, lib.tensor(i, device=dev(lib))) ** 2).sum() + (x[[0, 2]] ** 3).sum()
        y = y + (x.masked_fill(x > 0, 0) ** 2).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        results.append((g.detach().cpu().numpy(), gg.cpu().numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-10)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-10)


def test_setitem_numpy_value_is_a_type_error():
    check(_set((0, slice(None)), np.arange(5.0)), X)
    check(_set([0, 2], np.ones((2, 4, 5))), X)


@pytest.mark.parametrize("index,value", [
    (lambda lib, y: y > 0, lambda lib, y: lib.tensor([2.0], dtype=lib.float64)),   # one mask, one value: cast
    (lambda lib, y: y > 0, lambda lib, y: lib.ones(60, dtype=lib.float64)),       # many values: dtype error
    (lambda lib, y: (slice(None), y[0, :, 0] > 0), lambda lib, y: lib.tensor(3)),
    (lambda lib, y: (y[:, 0, 0] > 0, [0]), lambda lib, y: lib.tensor(3.0, dtype=lib.float64)),
    (lambda lib, y: [0], lambda lib, y: lib.tensor(1)),
    (lambda lib, y: (y > 0).to(lib.uint8), lambda lib, y: 1.0),                     # byte masks refused
])
def test_setitem_mask_value_casting(index, value):
    check(_set(index, value), X)


def test_setitem_into_fresh_tensor_records_value_grad():
    def fn(lib, v):
        out = lib.zeros(4, 3, dtype=lib.float64, device=v.device)
        out[1] = v[0]
        out[[2, 3]] = v
        out[out > 100] = 0.0
        return out
    check(fn, Arg(data(2, 3, dtype="float64"), requires_grad=True))


def test_out_arguments():
    def fn(lib, t, i):
        d = t.device
        outs = [lib.empty(3, 4, device=d), lib.empty(0, device=d), lib.empty(2, dtype=lib.int64, device=d),
                lib.empty(3, 4, device=d), lib.empty(3, device=d)]
        lib.gather(t, 1, i, out=outs[0])
        lib.masked_select(t, t > 0, out=outs[1])
        lib.nonzero(t > 0, out=outs[2])
        lib.tril(t, out=outs[3])
        lib.diag(t, out=outs[4])
        return outs
    check(fn, Arg(data(3, 4)), idx(np.zeros((3, 4), np.int64)))


def test_augmented_assignment_and_index_put_masks():
    def fn(lib, x, v):
        y = x * 1
        y[[0, 2]] += v
        y[1:, 0] *= 2
        y[y > 1] -= 1
        return y.index_put((y[:, 0] > 0,), v[:1], accumulate=True)
    check(fn, Arg(data(3, 4, dtype="float64"), requires_grad=True), Arg(data(2, 4, dtype="float64"),
                                                                        requires_grad=True))


# ------------------------------------------------------------------ scatter_reduce
REDUCE_INDEX = np.array([[0, 0, 1], [1, 1, 1], [0, 2, 2]])


REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bfloat16", "int32"])
def test_scatter_reduce_values(reduce, dtype):
    x = Arg(data(3, 3, dtype=dtype), dtype)
    s = Arg(data(3, 3, dtype=dtype), dtype)
    check(lambda lib, t, i, s: (t.scatter_reduce(0, i, s, reduce), lib.scatter_reduce(t, 1, i, s, reduce),
                                t.scatter_reduce(0, i, s, reduce, include_self=False),
                                t.clone().scatter_reduce_(1, i[:2], s, reduce, include_self=False)),
          x, idx(REDUCE_INDEX), s)


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_grads(reduce, include_self):
    x = np.array([[1.0, 0.0, 2.0], [3.0, 2.0, 0.0], [2.0, 2.0, 1.0]])  # zeros and ties on purpose
    s = np.array([[2.0, 0.0, 2.0], [3.0, 0.5, 0.0], [1.0, 2.0, 4.0]])
    check(lambda lib, t, i, s: t.scatter_reduce(0, i, s, reduce, include_self=include_self),
          Arg(x, requires_grad=True), idx(REDUCE_INDEX), Arg(s, requires_grad=True))
    check(lambda lib, t, i, s: (t * 1).scatter_reduce_(1, i, s, reduce, include_self=include_self),
          Arg(x, requires_grad=True), idx(REDUCE_INDEX), Arg(s, requires_grad=True))


@pytest.mark.parametrize("reduce", ["sum", "mean", "prod"])
def test_scatter_reduce_gradcheck(reduce):
    i = np.array([[0, 1, 1], [2, 2, 0]])
    gradcheck(lambda lib, t, s: t.scatter_reduce(1, lib.tensor(i, device=t.device), s, reduce),
              data(2, 3, dtype="float64"), data(2, 3, dtype="float64"))


def test_scatter_reduce_errors():
    x, s = Arg(data(3, 3)), Arg(data(3, 3))
    check(lambda lib, t, i, s: t.scatter_reduce(0, i, s, "median"), x, idx(REDUCE_INDEX), s)
    check(lambda lib, t, i, s: t.scatter_reduce(0, i * 3, s, "sum"), x, idx(REDUCE_INDEX), s)
    check(lambda lib, t, i, s: t.scatter_reduce(0, i, s.double(), "sum"), x, idx(REDUCE_INDEX), s)
    check(lambda lib, t, i, s: t.scatter_reduce(0, i.float(), s, "sum"), x, idx(REDUCE_INDEX), s)


# ------------------------------------------------------------------ in-place writes through views (CopySlices)
def _through_view(lib, x, v):
    y = x * 1
    y[0][1] = 5.0
    y[:, 1][[0, 2]] = 7.0
    y[1][y[1] > 0] = v
    y.t().masked_fill_(y.t() < -1, 0.0)
    y[2].scatter_(0, lib.tensor([0, 2], device=x.device),
                  v.expand(2) * lib.tensor([1.0, 2.0], dtype=lib.float64, device=x.device))
    y[1:].tril_()
    return y


def test_inplace_indexing_ops_on_views_of_graph_tensors():
    check(_through_view, Arg(data(3, 4, dtype="float64"), requires_grad=True),
          Arg(np.float64(2.0), requires_grad=True))


@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (2, 3, 4), (4, 1, 6)])
def test_cpu_walk_over_any_chunks(shape):
    """The CPU indexing kernels walk positions ``start:stop`` (a launch split across threads
    starts and stops mid-row): every split gives the unsplit result, a gather and a triu."""
    from tritensor.kernels.numba import indexing as ix_kernels
    x = rng.standard_normal(shape)
    total = x.size
    dims = np.array(shape, np.int64)
    strides = np.array([np.array(x.strides, np.int64) // 8] * 3, np.int64).reshape(3, len(shape))
    base = np.zeros(3, np.int64)
    splits = [[0, total]] + [[0, cut, total] for cut in range(1, total)] + [list(range(total + 1))]
    for points in splits:
        got = np.zeros_like(x)
        for start, stop in zip(points[:-1], points[1:]):
            ix_kernels.kernel("tri")(got.reshape(-1), x.reshape(-1), np.ones(1, bool), dims, strides, base,
                                     1, 1, start, stop)
        expected = np.triu(x, 1) if len(shape) >= 2 else None
        if expected is not None:
            np.testing.assert_array_equal(got, expected)
        else:  # the walk's "last two dims" need two: it only copies where offset >= diagonal
            assert got.shape == x.shape
    index = rng.integers(0, shape[-1], shape) if shape else np.zeros((), np.int64)
    flat = np.ascontiguousarray(x).reshape(-1)
    expected = np.take_along_axis(x, index, -1) if shape else x
    along = strides.copy()
    if shape:
        along[1, -1] = 0  # x is read at the index's position along the last dim
    for points in splits:
        got = np.zeros_like(x)
        for start, stop in zip(points[:-1], points[1:]):
            ix_kernels.kernel("take")(got.reshape(-1), flat, index.reshape(-1), dims, along, base,
                                      1 if shape else 0, shape[-1] if shape else 1, start, stop)
        np.testing.assert_array_equal(got, expected)
